//! A scenario after validation: names resolved to indexes, amounts in base units, fractions in WAD, durations in
//! seconds. Every item keeps its place in the file for errors found while it runs.

use std::ops::Range;

use alloy::primitives::U256;
use bulkhead_contracts::Mode;

use crate::error::{ScenarioError, Source};

/// A validated scenario, ready to [`run`](crate::run). Load one with [`load`](crate::load) or
/// [`parse`](crate::parse).
#[derive(Debug, Clone)]
pub struct Scenario {
    pub(crate) file: String,
    pub(crate) text: String,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    /// WETH, WBTC, USDC, then the file's own assets.
    pub(crate) assets: Vec<Asset>,
    /// Every declared actor (operators, stakers, `actors`, resolvers, committee members, sinks), once each.
    pub(crate) actors: Vec<String>,
    pub(crate) operators: Vec<String>,
    /// Operators that sell through a market desk (`desk = true`): their pools are the desk's.
    pub(crate) desks: Vec<String>,
    pub(crate) stakers: Vec<Staker>,
    pub(crate) avs: Vec<Avs>,
    pub(crate) pools: Vec<Pool>,
    pub(crate) deposits: Vec<Deposit>,
    pub(crate) allocations: Vec<Allocation>,
    pub(crate) guard: Option<(u64, u32)>,
    /// `[reputation]`: on, with each asset's evidence unit (asset index, base units).
    pub(crate) reputation: Option<Vec<(usize, U256)>>,
    pub(crate) steps: Vec<Step>,
}

impl Scenario {
    /// The file it was loaded from (as named).
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Its `name`, or the file's stem.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its `description`, if any.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// Number of steps in the timeline.
    pub fn step_count(&self) -> usize {
        self.steps.len()
    }

    pub(crate) fn source(&self) -> Source<'_> {
        Source {
            file: &self.file,
            text: &self.text,
        }
    }

    /// An error located at `loc`.
    pub(crate) fn error_at(&self, loc: &Loc, message: impl Into<String>) -> ScenarioError {
        self.source().error(loc.span.clone(), &loc.path, message)
    }
}

/// Where something is written: its span and its path in the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Loc {
    pub span: Range<usize>,
    pub path: String,
}

impl Loc {
    /// 1-based line of the location in `text`.
    pub fn line(&self, text: &str) -> usize {
        text[..self.span.start.min(text.len())]
            .matches('\n')
            .count()
            + 1
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Asset {
    pub symbol: String,
    pub decimals: u8,
    /// Deployed by `System::deploy` (WETH, WBTC, USDC) rather than by the scenario.
    pub builtin: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Staker {
    pub name: String,
    /// Tokens minted to the staker at the start. A staker with funding deposits from its balance; one without is
    /// minted what each deposit needs.
    pub funding: Option<Vec<(usize, U256)>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AvsKind {
    /// Slashes at once through `AllocationManager.slash`, by the module actor `module-<name>`.
    Instant,
    /// Veto flow: `module-<name>` requests and executes, `resolver` can veto within `window` seconds.
    Veto { window: u64, resolver: String },
    /// A `DoubleSignSlasher` that slashes `fraction` on a proof.
    DoubleSign { fraction: u64 },
    /// A `CommitteeSlasher`: a quorum of `members`, within `voting_period` seconds of the proposal (`None`: the
    /// longest the deployment allows), files a vetoable request.
    Committee {
        members: Vec<String>,
        quorum: u32,
        window: u64,
        voting_period: Option<u64>,
        resolver: String,
    },
}

impl AvsKind {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Instant => "instant",
            Self::Veto { .. } => "veto",
            Self::DoubleSign { .. } => "double_sign",
            Self::Committee { .. } => "committee",
        }
    }

    pub fn resolver(&self) -> Option<&str> {
        match self {
            Self::Veto { resolver, .. } | Self::Committee { resolver, .. } => Some(resolver),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sink {
    /// `0x…dEaD`.
    Burn,
    Actor(String),
}

#[derive(Debug, Clone)]
pub(crate) struct Avs {
    pub name: String,
    pub kind: AvsKind,
    pub sink: Sink,
    pub max_slash: u64,
    /// Bonded at setup: (asset index, base units).
    pub bond: Vec<(usize, U256)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Pool {
    pub name: String,
    pub operator: String,
    /// The asset its values are counted in (a tier's base asset).
    pub asset: usize,
    /// For a tier: the base pool.
    pub tier_of: Option<usize>,
}

#[derive(Debug, Clone)]
pub(crate) struct Deposit {
    pub staker: String,
    pub pool: usize,
    /// Base units of the asset, or base shares for a tier.
    pub amount: U256,
    pub loc: Loc,
}

#[derive(Debug, Clone)]
pub(crate) struct Allocation {
    pub pool: usize,
    pub avs: usize,
    pub mode: Mode,
    pub fraction: u64,
    pub pending: bool,
    pub loc: Loc,
}

#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub index: usize,
    /// The step's `action` value.
    pub loc: Loc,
    pub note: Option<String>,
    pub expect_revert: Option<String>,
    pub action: Action,
    /// Locations of fields the runner may need to blame (by field name).
    pub fields: Vec<(&'static str, Loc)>,
}

impl Step {
    /// Where field `name` is written, or the step itself.
    pub fn loc_of(&self, name: &str) -> &Loc {
        self.fields
            .iter()
            .find(|(field, _)| *field == name)
            .map_or(&self.loc, |(_, loc)| loc)
    }
}

/// How much of a position a `queue_withdrawal` step queues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Amount {
    /// That many shares of the pool (`shares`).
    Shares(U256),
    /// That fraction of the staker's shares when the step runs (`fraction`, WAD).
    Fraction(u64),
}

/// One action of the timeline, as the runner sends it: the step vocabulary shared by scenario files and the stress
/// fuzzer. Pools and AVSs are indexes into the scenario's declarations (in file order); actors, labels and
/// requests are names as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `deposit`: the staker's tokens into a pool of tokens (minted and approved first unless the staker is funded).
    Deposit {
        /// Staker name.
        staker: String,
        /// Pool index (a pool of tokens).
        pool: usize,
        /// Base units of the pool's asset.
        amount: U256,
    },
    /// `deposit_to_tier`: base shares into a tier (tiers allowed over the base first if needed).
    DepositToTier {
        /// Staker name.
        staker: String,
        /// Pool index (a tier).
        pool: usize,
        /// Base shares.
        shares: U256,
    },
    /// `allocate`: a pool backs an AVS with a fraction of its value in a mode.
    Allocate {
        /// Pool index.
        pool: usize,
        /// AVS index.
        avs: usize,
        /// Isolated or shared.
        mode: Mode,
        /// WAD.
        fraction: u64,
        /// Sender, if not the pool's operator.
        by: Option<String>,
        /// Whether the operator opts in to the AVS first when it is not a member (the default).
        opt_in: bool,
    },
    /// `deallocate`: lowers an allocation in its current mode (shared when it has none).
    Deallocate {
        /// Pool index.
        pool: usize,
        /// AVS index.
        avs: usize,
        /// The new fraction, WAD (0 when the file gives none).
        fraction: u64,
        /// Sender, if not the pool's operator.
        by: Option<String>,
    },
    /// `warp`: time passes.
    Warp {
        /// Seconds.
        seconds: u64,
    },
    /// `queue_withdrawal`: shares of the staker's position into the escrow queue.
    QueueWithdrawal {
        /// Staker name.
        staker: String,
        /// Pool index.
        pool: usize,
        /// How much.
        amount: Amount,
        /// The withdrawal's label, for a later `claim`.
        label: Option<String>,
    },
    /// `claim`: completes a queued withdrawal.
    Claim {
        /// Staker name (the sender).
        staker: String,
        /// The withdrawal's label; `None`: the staker's oldest unclaimed withdrawal.
        withdrawal: Option<String>,
        /// Who is paid, if not the staker.
        receiver: Option<String>,
    },
    /// `request_slash`: a veto or committee AVS files a slash request.
    RequestSlash {
        /// AVS index.
        avs: usize,
        /// Pool index.
        pool: usize,
        /// WAD of the backing.
        fraction: u64,
        /// The request's label, for a later `veto` or `execute_slash`.
        label: Option<String>,
        /// Sender, if not the AVS's module.
        by: Option<String>,
        /// A committee's voters.
        voters: Option<Vec<String>>,
    },
    /// `veto`: the resolver vetoes a pending request.
    Veto {
        /// AVS index (the AVS that filed the request).
        avs: usize,
        /// The request's label; `None`: the AVS's latest request.
        request: Option<String>,
        /// Sender, if not the AVS's resolver.
        by: Option<String>,
    },
    /// `execute_slash`: a request is executed once its veto window has passed.
    ExecuteSlash {
        /// AVS index (the AVS that filed the request).
        avs: usize,
        /// The request's label; `None`: the AVS's latest request.
        request: Option<String>,
        /// Sender, if not the AVS's module (or a committee's keeper).
        by: Option<String>,
    },
    /// `slash`: an instant slash by the AVS's module.
    Slash {
        /// AVS index.
        avs: usize,
        /// Pool index.
        pool: usize,
        /// WAD of the backing.
        fraction: u64,
        /// Sender, if not the AVS's module.
        by: Option<String>,
    },
    /// `double_sign`: a proof of two signed votes to a double-sign AVS's module.
    DoubleSign {
        /// AVS index (a double-sign AVS).
        avs: usize,
        /// Operator name.
        operator: String,
        /// The round signed twice.
        round: u64,
        /// Pool indexes to slash; `None`: every pool the module can slash the operator in.
        pools: Option<Vec<usize>>,
        /// Who signs, if not the operator's key.
        signer: Option<String>,
        /// Sender of the proof, if not the default.
        by: Option<String>,
    },
    /// `opt_in`: an operator joins an AVS's set.
    OptIn {
        /// Operator name.
        operator: String,
        /// AVS index.
        avs: usize,
    },
    /// `opt_out`: an operator leaves an AVS's set.
    OptOut {
        /// Operator name.
        operator: String,
        /// AVS index.
        avs: usize,
    },
    /// `bond`: tokens into an AVS's bond (minted and approved first).
    Bond {
        /// AVS index.
        avs: usize,
        /// Asset index.
        asset: usize,
        /// Base units.
        amount: U256,
        /// Sender, if not the AVS's admin.
        by: Option<String>,
    },
    /// `unbond`: the AVS's admin queues a withdrawal of its bond.
    Unbond {
        /// AVS index.
        avs: usize,
        /// Asset index.
        asset: usize,
        /// Base units.
        amount: U256,
    },
    /// `checkpoint`: closes the reputation epoch for an AVS (with `avs`) or an operator (with `operator`), from a
    /// pool's backing.
    Checkpoint {
        /// AVS index, for an AVS's checkpoint.
        avs: Option<usize>,
        /// Operator name, for an operator's checkpoint.
        operator: Option<String>,
        /// Pool index.
        pool: usize,
        /// Sender, if not the subject (the AVS's admin, or the operator).
        by: Option<String>,
    },
    /// `refresh_standing`: the AVS's risk weight and bond status reach the manager, its backing counted in every
    /// pool that allocates to it.
    RefreshStanding {
        /// AVS index.
        avs: usize,
        /// Sender, if not the AVS's admin.
        by: Option<String>,
    },
    /// `reprice`: every shared allocation of a pool is re-priced at its AVS's risk weight (`applyPending`).
    Reprice {
        /// Pool index.
        pool: usize,
    },
    /// The AVS's admin (or `by`) posts a bid, escrowing the premium at its highest price.
    Bid {
        /// The label later steps and checks name it by.
        label: String,
        /// What is bid.
        order: BidSpec,
        /// Sender instead of the default one.
        by: Option<String>,
    },
    /// The pool's desk owner (or `by`) posts an ask.
    Ask {
        /// The label later steps and checks name it by.
        label: String,
        /// The pool (index into the declarations).
        pool: usize,
        /// Backing offered, in the pool's asset.
        capacity: U256,
        /// Isolated or shared backing.
        mode: Mode,
        /// Lowest price, bps of the backing per year.
        min_price_bps: u32,
        /// Longest term, seconds.
        max_term: u64,
        /// Sender instead of the default one.
        by: Option<String>,
    },
    /// The ask's desk owner (or `by`, e.g. the AVS's admin) fills a bid with an ask: a lease.
    Fill {
        /// The label later steps and checks name it by.
        label: String,
        /// The bid's label.
        bid: String,
        /// The ask's label.
        ask: String,
        /// Amount, in the asset's base units.
        amount: U256,
        /// Sender instead of the default one.
        by: Option<String>,
    },
    /// The bid's AVS admin (or `by`) cancels it; its escrow returns to the admin's credits.
    CancelBid {
        /// The bid's label.
        bid: String,
        /// Sender instead of the default one.
        by: Option<String>,
    },
    /// The ask's desk owner (or `by`) cancels it.
    CancelAsk {
        /// The ask's label.
        ask: String,
        /// Sender instead of the default one.
        by: Option<String>,
    },
    /// Anyone (the keeper, or `by`) streams a lease's premium up to now.
    Stream {
        /// The lease's label.
        lease: String,
        /// Sender instead of the default one.
        by: Option<String>,
    },
    /// A staker claims what its shares of a pool earned.
    ClaimRewards {
        /// The staker.
        staker: String,
        /// The pool (index into the declarations).
        pool: usize,
        /// Who receives (the staker by default).
        receiver: Option<String>,
    },
    /// The AVS admin (or `by`) withdraws its refunds in an asset.
    WithdrawRefunds {
        /// The asset (index into the declarations).
        asset: usize,
        /// Sender instead of the default one.
        by: Option<String>,
    },
    /// An operator (through its desk, if it has one) claims its commission in an asset.
    ClaimCommission {
        /// The operator.
        operator: String,
        /// The asset (index into the declarations).
        asset: usize,
    },
    /// The pool's operator (or `by`) queues a new commission.
    SetCommission {
        /// The pool (index into the declarations).
        pool: usize,
        /// The commission, bps.
        bps: u16,
        /// Sender instead of the default one.
        by: Option<String>,
    },
    /// Anyone (the keeper, or `by`) pays a pool's stakers directly through the rail.
    Pay {
        /// The pool (index into the declarations).
        pool: usize,
        /// Amount, in the asset's base units.
        amount: U256,
        /// Highest commission accepted, bps.
        max_commission_bps: u16,
        /// Sender instead of the default one.
        by: Option<String>,
    },
    /// `expect`: checks of the state, no transaction.
    Expect(Vec<Check>),
}

/// A bid as a `bid` step writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BidSpec {
    /// The AVS (index into the declarations).
    pub avs: usize,
    /// The asset (index into the declarations).
    pub asset: usize,
    /// Backing wanted, in the asset's base units.
    pub backing: U256,
    /// Isolated or shared backing.
    pub mode: Mode,
    /// Seconds.
    pub term: u64,
    /// Highest price, bps of the backing per year.
    pub max_price_bps: u32,
    /// Highest commission accepted, bps.
    pub max_commission_bps: u16,
    /// Lowest operator rating, bps of one (0: any).
    pub min_rating_bps: u16,
}

impl Action {
    /// The step's `action` value in a file.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Deposit { .. } => "deposit",
            Self::DepositToTier { .. } => "deposit_to_tier",
            Self::Allocate { .. } => "allocate",
            Self::Deallocate { .. } => "deallocate",
            Self::Warp { .. } => "warp",
            Self::QueueWithdrawal { .. } => "queue_withdrawal",
            Self::Claim { .. } => "claim",
            Self::RequestSlash { .. } => "request_slash",
            Self::Veto { .. } => "veto",
            Self::ExecuteSlash { .. } => "execute_slash",
            Self::Slash { .. } => "slash",
            Self::DoubleSign { .. } => "double_sign",
            Self::OptIn { .. } => "opt_in",
            Self::OptOut { .. } => "opt_out",
            Self::Bond { .. } => "bond",
            Self::Unbond { .. } => "unbond",
            Self::Checkpoint { .. } => "checkpoint",
            Self::RefreshStanding { .. } => "refresh_standing",
            Self::Reprice { .. } => "reprice",
            Self::Bid { .. } => "bid",
            Self::Ask { .. } => "ask",
            Self::Fill { .. } => "fill",
            Self::CancelBid { .. } => "cancel_bid",
            Self::CancelAsk { .. } => "cancel_ask",
            Self::Stream { .. } => "stream",
            Self::ClaimRewards { .. } => "claim_rewards",
            Self::WithdrawRefunds { .. } => "withdraw_refunds",
            Self::ClaimCommission { .. } => "claim_commission",
            Self::SetCommission { .. } => "set_commission",
            Self::Pay { .. } => "pay",
            Self::Expect(_) => "expect",
        }
    }
}

/// Who holds tokens, for `balance` checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Holder {
    Actor(String),
    Burn,
    Vault,
}

/// One check of an `expect` step, as loaded (where it is written and what it reads); only the loader builds one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub(crate) loc: Loc,
    pub(crate) kind: CheckKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CheckKind {
    PoolValue {
        /// The pool (index into the declarations).
        pool: usize,
        expected: U256,
    },
    Isolated {
        /// The pool (index into the declarations).
        pool: usize,
        expected: U256,
    },
    Shared {
        /// The pool (index into the declarations).
        pool: usize,
        expected: U256,
    },
    ReuseRatio {
        /// The pool (index into the declarations).
        pool: usize,
        expected: U256,
    },
    GuardUsed {
        /// The pool (index into the declarations).
        pool: usize,
        expected: U256,
    },
    Backing {
        /// The AVS (index into the declarations).
        avs: usize,
        /// The pool (index into the declarations).
        pool: usize,
        expected: U256,
    },
    Position {
        /// The staker.
        staker: String,
        /// The pool (index into the declarations).
        pool: usize,
        expected: U256,
    },
    Escrow {
        /// The staker.
        staker: String,
        /// The pool (index into the declarations).
        pool: usize,
        expected: U256,
    },
    Balance {
        holder: Holder,
        /// The asset (index into the declarations).
        asset: usize,
        expected: U256,
    },
    Sink {
        /// The AVS (index into the declarations).
        avs: usize,
        /// The asset (index into the declarations).
        asset: usize,
        expected: U256,
    },
    Event {
        name: String,
        present: bool,
    },
    /// The AVS's rating (WAD).
    Rating {
        /// The AVS (index into the declarations).
        avs: usize,
        expected: U256,
    },
    /// The AVS's risk weight in the manager, in tenths (10 = 1×).
    RiskWeight {
        /// The AVS (index into the declarations).
        avs: usize,
        expected: u8,
    },
    BondShort {
        /// The AVS (index into the declarations).
        avs: usize,
        expected: bool,
    },
    /// The AVS's available bond in an asset.
    Bond {
        /// The AVS (index into the declarations).
        avs: usize,
        /// The asset (index into the declarations).
        asset: usize,
        expected: U256,
    },
    /// What a staker's shares of a pool earned and has not claimed.
    Claimable {
        /// The staker.
        staker: String,
        /// The pool (index into the declarations).
        pool: usize,
        expected: U256,
    },
    /// A lease's figure (`paid`, `refunded`, `premium`, `escrowed`, `backing`), in the lease's asset.
    Lease {
        /// The lease's label.
        lease: String,
        field: LeaseField,
        /// The asset (index into the declarations).
        asset: usize,
        expected: U256,
    },
    /// Refunds an actor can withdraw from the market in an asset.
    Credits {
        actor: String,
        /// The asset (index into the declarations).
        asset: usize,
        expected: U256,
    },
    /// An operator's (its desk's, if it has one) unclaimed commission in an asset.
    CommissionOwed {
        /// The operator.
        operator: String,
        /// The asset (index into the declarations).
        asset: usize,
        expected: U256,
    },
}

/// A figure of a lease an `expect` step can check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LeaseField {
    Paid,
    Refunded,
    Premium,
    Escrowed,
    Backing,
}

impl LeaseField {
    pub(crate) const ALL: [(&'static str, Self); 5] = [
        ("paid", Self::Paid),
        ("refunded", Self::Refunded),
        ("premium", Self::Premium),
        ("escrowed", Self::Escrowed),
        ("backing", Self::Backing),
    ];

    pub(crate) fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("?", |(n, _)| n)
    }
}

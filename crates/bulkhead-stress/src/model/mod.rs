//! A pure-Rust model of the accounting of `StakeVault` and `AllocationManager`, integer for integer.
//!
//! Every state change mirrors the contracts' storage writes in the same order with the same rounding, and a
//! transaction that reverts in the model leaves the model as it was (like the EVM). Views mirror the Solidity views
//! the scenario runner reads (`poolRisk`, `slashableBacking`, `positionsOf`, `withdrawalsOf`, `balanceOf`).
//!
//! Covered: pools (virtual-unit price, rounding, price floor, generation reset on a full slash), the FIFO escrow
//! (lazy settlement of the matured prefix into batches at exact prices, early claims), allocations as weights against
//! W (isolated and shared, the pool's one pending isolated increase that stays in the shared stake until it takes
//! effect, the reuse cap and the scaling of shared backings down to it, allocation and deallocation delays),
//! membership (opt-in, the opt-out window), instant slashes and the veto flow (request, veto, execute, the rest of a
//! cut request, the delay of isolated increases under a decided slash), the cascade guard's two fixed windows, and
//! tier pools (slashed like any pool, paid in base shares into the sink's base position), the reputation layer
//! when a spec turns it on (ratings, bonds, penalties, standings, risk-weighted reuse), and the reward rail (payments,
//! commission, stakers' and escrow rewards, every hook the vault sends it). Not covered: redelegation,
//! pausing, governance calls (reuse caps, limits, the guard, reputation parameters).
//!
//! - `vault.rs`: `StakeVault` (shares, the escrow queue and its settlement, tier slashes).
//! - `manager.rs`: `AllocationManager` (allocations, pending changes, risk weights, the guard, requests, slashes).
//! - `reputation.rs`: `Reputation` (records, checkpoints, faults, bonds, penalties, standings).
//! - `rail.rs`: `RewardRail` (the reward-per-share accumulator, stakers' and withdrawals' books, commission, the
//!   vault's hooks).
//! - `beta.rs`: `BetaReputation`, the rating's fixed-point maths.
//! - `maths.rs`: the integer helpers (OpenZeppelin `Math`, checked arithmetic).
//!
//! A revert the model predicts is an [`ErrorKind`] built from the bindings' error types, compared with the chain's
//! by selector.

pub mod beta;
mod manager;
mod maths;
mod rail;
mod reputation;
mod vault;

use std::collections::{BTreeMap, BTreeSet};

use alloy::primitives::U256;
use bulkhead_contracts::{AllocationManager, Mode, mode};
use bulkhead_evm::ErrorKind;
use bulkhead_scenario::{Action, Amount};

pub use crate::spec::Holder;
use crate::spec::{Spec, Step};
pub use maths::unit;
use maths::{u, wad};
use rail::Rail;
pub use rail::{
    COMMISSION_DELAY, DEFAULT_COMMISSION_BPS, HOOKS, MAX_COMMISSION_BPS, REWARD_FIELDS, RailBooks,
    holders,
};
use reputation::Rep;
pub use reputation::{Bond, PARAMETER_DELAY, Record};
use vault::TIER;

/// 1e18.
pub use bulkhead_contracts::WAD;

/// A revert the model predicts: the kind of error the contracts raise (`ErrorKind::of::<StakeVault::ZeroAmount>()`,
/// `Panic` for arithmetic faults).
pub type Rev = ErrorKind;

/// A deliberate deviation from the contracts, to prove the differential check catches one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Mutation {
    /// The faithful model.
    #[default]
    None,
    /// A slash's amount `mulDiv(weight, V, W) · f / WAD` rounds up instead of down.
    CeilSlashAmount,
    /// A slash removes ⌊W·s/V⌋ weight instead of ⌈W·s/V⌉.
    FloorWeightCut,
    /// A vetoed request's penalty is rounded down instead of up.
    FloorPenalty,
    /// Shared allocations count 1× against the reuse cap whatever the AVS's risk weight.
    UnweightedReuse,
    /// A checkpoint credits a clean epoch even after a fault (a vetoed request, a reported slash).
    TaintedCredit,
    /// A holder's rewards for a span round up instead of down.
    CeilRewards,
    /// A commission change takes effect at once instead of after `COMMISSION_DELAY`.
    ImmediateCommission,
    /// The base shares a pool's tiers hold count among its earning shares.
    TierSharesEarn,
}

/// The deployment's parameters (the defaults of `DeployConfig`) and the guard.
#[derive(Debug, Clone)]
pub struct Params {
    /// Vault escrow delay.
    pub escrow_delay: u64,
    /// Manager allocation delay.
    pub allocation_delay: u64,
    /// Manager deallocation delay.
    pub deallocation_delay: u64,
    /// Manager execution window.
    pub execution_window: u64,
    /// Cascade guard cap (WAD).
    pub guard_max: u64,
    /// Cascade guard window (seconds).
    pub guard_window: u64,
    /// Reputation epoch length (seconds).
    pub epoch_length: u64,
    /// Bond withdrawal delay (seconds; the deployment passes the deallocation delay).
    pub bond_delay: u64,
}

/// What a successful step returned (what the chain's call returned, where there is something to compare).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ret {
    /// Nothing to compare.
    None,
    /// Shares minted by a deposit.
    Deposit(U256),
    /// A slash (instant or executed request).
    Slash(SlashOut),
    /// Assets paid by a claim.
    Claim(U256),
    /// The queued withdrawal's id.
    Queue(U256),
    /// The request's id.
    Request(u64),
    /// A payment into the rail: (toStakers, commission).
    Paid(U256, U256),
    /// What a reward, escrow-reward or commission claim paid.
    Reward(U256),
}

/// How a slash went, for the loss figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlashOut {
    /// Vault pool id.
    pub pool: usize,
    /// What left the pool (the call's return value).
    pub amount: U256,
    /// `fraction` of the backing, before the guard.
    pub requested: U256,
    /// What the guard let through (before the vault's price floor).
    pub allowed: U256,
    /// The slashed allocation's backing before the slash.
    pub backing: U256,
    /// Mode of the slashed allocation (1 isolated, 2 shared).
    pub mode: u8,
}

/// A step the scenario runner could not even send (a pool used before it exists, an unknown label), or one the model
/// does not play (an action or a field the generator never emits): the scenario is not valid as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

/// The model's state: the vault, the manager, token balances, and the runner's labels.
#[derive(Debug, Clone)]
pub struct Model {
    params: Params,
    mutation: Mutation,
    /// Block timestamp.
    pub now: u64,
    avs_max: Vec<u64>,
    avs_veto: Vec<Option<u64>>,
    pools: Vec<VPool>,
    pool_of: BTreeMap<(usize, usize), usize>,
    /// Positions by (pool, holder): stakers', and the base positions tier slashes pay sinks into.
    positions: BTreeMap<(usize, Holder), Position>,
    tracked: BTreeMap<usize, U256>,
    balances: BTreeMap<(Holder, usize), U256>,
    states: BTreeMap<usize, PState>,
    allocs: BTreeMap<(usize, usize), Alloc>,
    members: BTreeMap<(usize, usize), Member>,
    requests: Vec<Request>,
    tier_allowed: BTreeSet<usize>,
    tier_base_generation: BTreeMap<usize, u32>,
    tier_dead_below: BTreeMap<usize, usize>,
    /// `_tierHeld`: base shares held by a base pool's tiers (base pool id → shares, base generation).
    tier_held: BTreeMap<usize, (U256, u32)>,
    /// The reward rail.
    rail: Rail,
    /// Runner bookkeeping: withdrawal labels → (staker, withdrawal id).
    withdrawals: BTreeMap<String, (usize, U256)>,
    /// Runner bookkeeping: request labels → request id.
    request_ids: BTreeMap<String, u64>,
    /// The reputation layer, when the spec turns it on.
    rep: Option<Rep>,
    /// Each AVS's standing in the manager: (`riskWeightTenths`, `bondShort`).
    standing: Vec<(u8, bool)>,
    /// Each AVS's `requestsVetoableUntil` in the manager: the latest `executableAt` of its requests (reputation on).
    vetoable_until: Vec<u64>,
}

// ------------------------------------------------------------------ records of `StakeVault`

/// A queued withdrawal: an `Entry` of the vault's FIFO escrow queue.
#[derive(Debug, Clone)]
struct Entry {
    maturity: u64,
    claimed: bool,
    cum: U256,
    staker: usize,
}

/// A settled stretch of the queue and its exact price: `Batch`.
#[derive(Debug, Clone)]
struct Batch {
    price_assets: U256,
    price_shares: U256,
    end: usize,
}

/// A vault pool: `Pool` (of tokens, or a tier of base shares).
#[derive(Debug, Clone)]
struct VPool {
    operator: usize,
    /// The token (an index into `DEMO_TOKENS`), or `TIER + base pool id` for a tier.
    asset: usize,
    base: Option<usize>,
    assets: U256,
    shares: U256,
    generation: u32,
    queue: Vec<Entry>,
    settled_count: usize,
    batches: Vec<Batch>,
    reserve: U256,
    early_claimed: U256,
    /// `earns`: rewards on, every share change reported to the rail.
    earns: bool,
}

/// A holder's shares of a pool, in the generation they were minted in.
#[derive(Debug, Clone, Copy, Default)]
struct Position {
    shares: U256,
    generation: u32,
}

impl VPool {
    /// An empty pool of `operator` for `asset` (`base`: the base pool of a tier).
    fn new(operator: usize, asset: usize, base: Option<usize>) -> Self {
        Self {
            operator,
            asset,
            base,
            assets: U256::ZERO,
            shares: U256::ZERO,
            generation: 0,
            queue: Vec::new(),
            settled_count: 0,
            batches: Vec::new(),
            reserve: U256::ZERO,
            early_claimed: U256::ZERO,
            earns: false,
        }
    }
}

// ------------------------------------------------------------------ records of `AllocationManager`

/// A pool's state in the manager: `PoolState` (weights against W, epoch, guard windows, pending isolated increase).
#[derive(Debug, Clone, Copy, Default)]
struct PState {
    total: U256,
    isolated: U256,
    /// `sharedWeight`: Σ of the committed shared limits, each times its allocation's risk weight (tenths / 10).
    shared: U256,
    epoch: u16,
    generation: u32,
    guard_previous: U256,
    guard_current: U256,
    guard_at: u64,
    /// The pool's one pending isolated increase (still in the shared stake), when it takes effect, for which AVS.
    pending_isolated: U256,
    pending_isolated_at: u64,
    pending_isolated_avs: usize,
    /// Isolated increases committed before this take effect after it (a decided slash may execute until then).
    slash_pending_until: u64,
}

/// An AVS's allocation of a pool: `Allocation` (weight, pending change, mode, epoch, the risk weight it is priced at).
#[derive(Debug, Clone, Copy, Default)]
struct Alloc {
    current: U256,
    pending: U256,
    effect_at: u64,
    mode: u8,
    epoch: u16,
    /// `riskWeightTenths`: the AVS's weight when the allocation last grew or was re-priced (0 before).
    rw: u8,
}

/// An operator's membership of an AVS's set: `Membership`.
#[derive(Debug, Clone, Copy, Default)]
struct Member {
    opted_in: bool,
    opted_out_at: u64,
}

/// `RequestStatus` of a filed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Pending,
    Vetoed,
    Executed,
}

/// A slash request of a veto AVS: `Request`.
#[derive(Debug, Clone, Copy)]
struct Request {
    avs: usize,
    pool: usize,
    fraction: u64,
    executable_at: u64,
    status: Status,
}

impl Model {
    /// A fresh deployment at time `now` for `spec`, set up as the scenario runner sets one up: its guard, with
    /// `[reputation]` the layer turned on (the evidence units applied after their delay), its AVSs registered, each
    /// AVS's setup bond deposited and its standing refreshed (twice: after the bonds and after the preamble).
    pub fn new(spec: &Spec, params: Params, now: u64, mutation: Mutation) -> Self {
        let n_avs = spec.avs.len();
        let rep = spec.reputation.as_ref().map(|_| {
            Rep::new(
                now,
                params.epoch_length,
                params.bond_delay,
                n_avs,
                spec.operators.len(),
            )
        });
        let standing = vec![(10, rep.is_some()); n_avs];
        let mut model = Self {
            rep,
            standing,
            vetoable_until: vec![0; n_avs],
            params,
            mutation,
            now,
            avs_max: spec.avs.iter().map(|a| a.max_slash).collect(),
            avs_veto: spec.avs.iter().map(|a| a.veto_window).collect(),
            pools: Vec::new(),
            pool_of: BTreeMap::new(),
            positions: BTreeMap::new(),
            tracked: BTreeMap::new(),
            balances: BTreeMap::new(),
            states: BTreeMap::new(),
            allocs: BTreeMap::new(),
            members: BTreeMap::new(),
            requests: Vec::new(),
            tier_allowed: BTreeSet::new(),
            tier_base_generation: BTreeMap::new(),
            tier_dead_below: BTreeMap::new(),
            tier_held: BTreeMap::new(),
            rail: Rail::default(),
            withdrawals: BTreeMap::new(),
            request_ids: BTreeMap::new(),
        };
        model.setup_reputation(spec);
        model
    }

    /// The runner's reputation set-up (`setup_reputation`, `setup_bonds`, `standing_after_allocations`). A set-up
    /// transaction the model refuses leaves it unchanged; the chain side fails on it as a harness error.
    fn setup_reputation(&mut self, spec: &Spec) {
        let (Some(units), Some(rep)) = (&spec.reputation, self.rep.as_mut()) else {
            return;
        };
        if !units.is_empty() {
            for &(asset, unit) in units {
                rep.set_unit(asset, unit);
            }
            self.now += PARAMETER_DELAY;
        }
        for round in 0..2 {
            for (avs, def) in spec.avs.iter().enumerate() {
                if def.bond.is_empty() {
                    continue;
                }
                if round == 0 {
                    for &(asset, amount) in &def.bond {
                        let _ = self.step_bond(avs, asset, amount);
                    }
                }
                let _ = self.tx(|m| m.refresh_standing(avs, &[]));
            }
        }
    }

    /// Runs `f` as one transaction: on an error nothing it changed remains.
    fn tx<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T, Rev>) -> Result<T, Rev> {
        let saved = self.clone();
        let out = f(self);
        if out.is_err() {
            *self = saved;
        }
        out
    }

    // ------------------------------------------------------------------ runner-level steps

    /// The vault id of a declared pool (operator, asset), once a deposit created it.
    pub fn pool_id(&self, spec: &Spec, pool: usize) -> Option<usize> {
        let def = &spec.pools[pool];
        let key = match def.tier_of {
            None => def.asset,
            Some(base) => TIER + self.pool_id(spec, base)?,
        };
        self.pool_of.get(&(def.operator, key)).copied()
    }

    fn require_pool(&self, spec: &Spec, pool: usize) -> Result<usize, Invalid> {
        self.pool_id(spec, pool).ok_or_else(|| {
            Invalid(format!(
                "pool {} is used before any deposit created it",
                spec.pools[pool].name
            ))
        })
    }

    /// The withdrawal queued (successfully) under `label` in this scenario: (staker, withdrawal id).
    pub fn withdrawal(&self, label: &str) -> Option<(usize, U256)> {
        self.withdrawals.get(label).copied()
    }

    /// Whether a request with this label was filed.
    pub fn request_filed(&self, label: &str) -> bool {
        self.request_ids.contains_key(label)
    }

    /// The id of the request filed under `label` by `avs` (the loader refuses a step naming another AVS).
    fn request_id(&self, avs: usize, label: &str) -> Result<u64, Invalid> {
        let rid = self
            .request_ids
            .get(label)
            .copied()
            .ok_or_else(|| Invalid(format!("request {label} was not filed")))?;
        match (rid as usize)
            .checked_sub(1)
            .and_then(|i| self.requests.get(i))
        {
            Some(r) if r.avs == avs => Ok(rid),
            _ => Err(Invalid(format!("request {label} was filed by another AVS"))),
        }
    }

    /// Plays one step the way the scenario runner (or, for a step the format has no action for, the stress runner)
    /// sends it: `Ok(Ok(ret))` if it went through, `Ok(Err(kind))` if its main transaction reverted, `Err` if the
    /// runner could not send it at all or the model does not play it.
    pub fn step(&mut self, spec: &Spec, step: &Step) -> Result<Result<Ret, Rev>, Invalid> {
        let none = |r: Result<(), Rev>| r.map(|()| Ret::None);
        match step {
            Step::Scenario(action) => self.action(spec, action),
            Step::CompleteUnbond { avs, asset } => {
                self.require_reputation()?;
                Ok(none(self.tx(|m| m.complete_bond(*avs, *asset))))
            }
            Step::Refresh { avs, pools } => {
                self.require_reputation()?;
                let ids = pools
                    .iter()
                    .map(|&p| self.require_pool(spec, p))
                    .collect::<Result<Vec<usize>, Invalid>>()?;
                Ok(none(self.tx(|m| m.refresh_standing(*avs, &ids))))
            }
            Step::ReportExecuted { request } => {
                self.require_reputation()?;
                let rid = self.labelled_request(request)?;
                Ok(none(self.tx(|m| m.report_executed(rid))))
            }
            _ => self.payment_step(spec, step),
        }
    }

    /// The runner refuses a reputation step unless the scenario turns the layer on.
    fn require_reputation(&self) -> Result<(), Invalid> {
        match self.rep {
            Some(_) => Ok(()),
            None => Err(Invalid(
                "a reputation step needs the reputation layer (`[reputation]`)".to_string(),
            )),
        }
    }

    /// The id of the request filed under `label` (by any AVS).
    fn labelled_request(&self, label: &str) -> Result<u64, Invalid> {
        self.request_ids
            .get(label)
            .copied()
            .ok_or_else(|| Invalid(format!("request {label} was not filed")))
    }

    /// A step of the scenario format. Not played: `double_sign` and `expect`, another sender (`by`) except a staker or
    /// an operator for a checkpoint, no automatic opt-in, a queued number of shares, a claim or veto or execution
    /// without a label, a receiver, voters, a reputation step without `[reputation]`.
    fn action(&mut self, spec: &Spec, action: &Action) -> Result<Result<Ret, Rev>, Invalid> {
        let staker = |name: &str| {
            spec.staker(name)
                .ok_or_else(|| Invalid(format!("unknown staker {name}")))
        };
        let operator = |name: &str| {
            spec.operator(name)
                .ok_or_else(|| Invalid(format!("unknown operator {name}")))
        };
        Ok(match action {
            Action::Deposit {
                staker: s,
                pool,
                amount,
            } => self.step_deposit(spec, staker(s)?, *pool, *amount),
            Action::DepositToTier {
                staker: s,
                pool,
                shares,
            } => self.step_deposit_to_tier(spec, staker(s)?, *pool, *shares)?,
            Action::Allocate {
                pool,
                avs,
                mode,
                fraction,
                by: None,
                opt_in: true,
            } => {
                let id = self.require_pool(spec, *pool)?;
                self.step_allocate(spec.pools[*pool].operator, id, *avs, *mode, *fraction)
            }
            Action::Deallocate {
                pool,
                avs,
                fraction,
                by: None,
            } => {
                let id = self.require_pool(spec, *pool)?;
                self.step_deallocate(id, *avs, *fraction)
            }
            Action::Warp { seconds } => {
                self.now += seconds;
                Ok(Ret::None)
            }
            Action::QueueWithdrawal {
                staker: s,
                pool,
                amount: Amount::Fraction(fraction),
                label,
            } => {
                let s = staker(s)?;
                let id = self.require_pool(spec, *pool)?;
                self.step_queue(s, id, *fraction, label.as_deref())
            }
            Action::Claim {
                staker: s,
                withdrawal: Some(label),
                receiver: None,
            } => {
                let s = staker(s)?;
                let Some((_, wid)) = self.withdrawal(label) else {
                    return Err(Invalid(format!("withdrawal {label} was not queued")));
                };
                self.tx(|m| m.complete_withdrawal(s, wid)).map(Ret::Claim)
            }
            Action::Slash {
                avs,
                pool,
                fraction,
                by: None,
            } => {
                let id = self.require_pool(spec, *pool)?;
                self.step_slash(spec, *avs, id, *fraction)
            }
            Action::RequestSlash {
                avs,
                pool,
                fraction,
                label,
                by: None,
                voters: None,
            } => {
                let id = self.require_pool(spec, *pool)?;
                self.step_request(*avs, id, *fraction, label.as_deref())
            }
            Action::Veto {
                avs,
                request: Some(label),
                by: None,
            } => {
                let rid = self.request_id(*avs, label)?;
                self.tx(|m| m.veto(rid)).map(|()| Ret::None)
            }
            Action::ExecuteSlash {
                avs,
                request: Some(label),
                by: None,
            } => {
                let rid = self.request_id(*avs, label)?;
                self.tx(|m| m.execute(spec, rid)).map(Ret::Slash)
            }
            Action::OptIn { operator: o, avs } => {
                let o = operator(o)?;
                self.tx(|m| m.opt_in(o, *avs)).map(|()| Ret::None)
            }
            Action::OptOut { operator: o, avs } => {
                let o = operator(o)?;
                self.tx(|m| m.opt_out(o, *avs)).map(|()| Ret::None)
            }
            Action::Bond {
                avs,
                asset,
                amount,
                by: None,
            } => {
                self.require_reputation()?;
                self.step_bond(*avs, *asset, *amount).map(|()| Ret::None)
            }
            Action::Unbond { avs, asset, amount } => {
                self.require_reputation()?;
                (self.tx(|m| m.queue_bond(*avs, *asset, *amount))).map(|()| Ret::None)
            }
            Action::Checkpoint {
                avs,
                operator: subject,
                pool,
                by,
            } => {
                self.require_reputation()?;
                if let Some(by) = by
                    && spec.staker(by).is_none()
                    && spec.operator(by).is_none()
                {
                    return Err(Invalid(format!("{by} is neither a staker nor an operator")));
                }
                let id = self.require_pool(spec, *pool)?;
                match (avs, subject) {
                    (Some(avs), None) => {
                        // Every AVS's admin is `avsAdmin`, which no staker or operator is.
                        let by_admin = by.is_none();
                        self.tx(|m| m.checkpoint_avs(*avs, id, by_admin))
                    }
                    (None, Some(name)) => {
                        let o = operator(name)?;
                        let by_subject = by.as_deref().is_none_or(|b| b == name);
                        self.tx(|m| m.checkpoint_operator(o, id, by_subject))
                    }
                    _ => return Err(Invalid("a checkpoint names an AVS or an operator".into())),
                }
                .map(|()| Ret::None)
            }
            Action::RefreshStanding { avs, by: None } => {
                self.require_reputation()?;
                // Every pool of the scenario that exists, in the file's order (the runner's `known_pools`).
                let ids: Vec<usize> = (0..spec.pools.len())
                    .filter_map(|p| self.pool_id(spec, p))
                    .collect();
                self.tx(|m| m.refresh_standing(*avs, &ids))
                    .map(|()| Ret::None)
            }
            Action::Reprice { pool } => {
                self.require_reputation()?;
                let id = self.require_pool(spec, *pool)?;
                self.tx(|m| m.apply_pending(id)).map(|()| Ret::None)
            }
            other => {
                return Err(Invalid(format!(
                    "the stress model does not play this {} step: {other:?}",
                    other.name()
                )));
            }
        })
    }

    /// `deposit`: the runner mints and approves first (separate transactions that stay even if the deposit
    /// reverts), then deposits.
    fn step_deposit(
        &mut self,
        spec: &Spec,
        staker: usize,
        pool: usize,
        amount: U256,
    ) -> Result<Ret, Rev> {
        let def = &spec.pools[pool];
        let asset = def.asset;
        *self
            .balances
            .entry((Holder::Staker(staker), asset))
            .or_default() += amount;
        let operator = def.operator;
        self.tx(|m| m.deposit(staker, operator, asset, amount))
            .map(Ret::Deposit)
    }

    /// `deposit_to_tier`: the runner allows tiers over the base (owner) first if needed.
    fn step_deposit_to_tier(
        &mut self,
        spec: &Spec,
        staker: usize,
        pool: usize,
        shares: U256,
    ) -> Result<Result<Ret, Rev>, Invalid> {
        let def = &spec.pools[pool];
        let base = def
            .tier_of
            .ok_or_else(|| Invalid(format!("{} is not a tier", def.name)))?;
        let base_id = self.require_pool(spec, base)?;
        self.tier_allowed.insert(base_id);
        let operator = def.operator;
        Ok(self
            .tx(|m| m.deposit_to_tier(staker, base_id, operator, shares))
            .map(Ret::Deposit))
    }

    /// `allocate`, with the runner's automatic opt-in first (a transaction of its own).
    fn step_allocate(
        &mut self,
        operator: usize,
        id: usize,
        avs: usize,
        mode: Mode,
        fraction: u64,
    ) -> Result<Ret, Rev> {
        let member = self
            .members
            .get(&(avs, operator))
            .copied()
            .unwrap_or_default();
        if !member.opted_in {
            // The opt-in is a transaction of its own; a refusal ends the step.
            self.tx(|m| m.opt_in(operator, avs))?;
        }
        self.tx(|m| m.allocate(id, avs, mode.code(), fraction))
            .map(|()| Ret::None)
    }

    /// `deallocate`: lowers the allocation in its current mode (shared when there is none).
    fn step_deallocate(&mut self, id: usize, avs: usize, fraction: u64) -> Result<Ret, Rev> {
        let (st, _) = self.view_pool(id);
        let a = self.allocs.get(&(id, avs)).copied().unwrap_or_default();
        let mode = if a.epoch != st.epoch || a.mode == mode::NONE {
            mode::SHARED
        } else {
            a.mode
        };
        self.tx(|m| m.allocate(id, avs, mode, fraction))
            .map(|()| Ret::None)
    }

    /// `queue_withdrawal` of a fraction of the staker's shares; a queued withdrawal keeps its label.
    fn step_queue(
        &mut self,
        staker: usize,
        id: usize,
        fraction: u64,
        label: Option<&str>,
    ) -> Result<Ret, Rev> {
        let held = self
            .positions
            .get(&(id, Holder::Staker(staker)))
            .map_or(U256::ZERO, |p| p.shares);
        let shares = held * u(fraction) / wad();
        let out = self.tx(|m| m.queue_withdrawal(staker, id, shares));
        if let (Ok(wid), Some(label)) = (out, label) {
            self.withdrawals.insert(label.to_string(), (staker, wid));
        }
        out.map(Ret::Queue)
    }

    /// `slash` by the AVS's module: an AVS with a veto flow must request instead.
    fn step_slash(
        &mut self,
        spec: &Spec,
        avs: usize,
        id: usize,
        fraction: u64,
    ) -> Result<Ret, Rev> {
        self.tx(|m| {
            if m.avs_veto[avs].is_some() {
                return Err(ErrorKind::of::<AllocationManager::VetoFlowRequired>());
            }
            m.slash(spec, avs, id, fraction)
        })
        .map(Ret::Slash)
    }

    /// `request_slash`; a filed request keeps its label.
    fn step_request(
        &mut self,
        avs: usize,
        id: usize,
        fraction: u64,
        label: Option<&str>,
    ) -> Result<Ret, Rev> {
        let out = self.tx(|m| m.request_slash(avs, id, fraction));
        if let (Ok(rid), Some(label)) = (out, label) {
            self.request_ids.insert(label.to_string(), rid);
        }
        out.map(Ret::Request)
    }

    /// ERC-20 balance of a holder.
    pub fn balance(&self, holder: Holder, asset: usize) -> U256 {
        self.balances
            .get(&(holder, asset))
            .copied()
            .unwrap_or_default()
    }

    /// Vault pool ids in use.
    pub fn pool_count(&self) -> usize {
        self.pools.len()
    }
}

//! What a run produces: one record per step, every expectation with expected and actual values, and the final
//! state. Everything serializes (serde) for `--json`; amounts are exact decimal strings in token units.

use std::fmt;

use serde::{Serialize, Serializer, ser::SerializeMap};

/// The result of running one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The scenario file, as named.
    pub file: String,
    /// The scenario's name.
    pub scenario: String,
    /// Its description.
    pub description: Option<String>,
    /// True if every expectation held (checks, expected reverts, and no unexpected revert).
    pub passed: bool,
    /// The timeline, one record per step.
    pub steps: Vec<StepRecord>,
    /// Every expectation, in timeline order.
    pub expectations: Vec<Expectation>,
    /// State after the last step.
    pub final_state: FinalState,
    /// Wall-clock time of the run (deployment included), in milliseconds.
    pub wall_time_ms: f64,
}

impl RunReport {
    /// The expectations that did not hold.
    pub fn failures(&self) -> impl Iterator<Item = &Expectation> {
        self.expectations.iter().filter(|e| !e.passed)
    }
}

/// One step of the timeline as it ran.
#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    /// Index in `[[steps]]`, from 0 (as in `steps[3]`).
    pub index: usize,
    /// Line of the step's `action` in the file.
    pub line: usize,
    /// Seconds since the end of the setup when the step ran.
    pub time: u64,
    /// The action (`deposit`, `slash`, `expect`, ...).
    pub action: String,
    /// What the step does, in words, with names and amounts.
    pub detail: String,
    /// The step's `note`, if any.
    pub note: Option<String>,
    /// What happened.
    pub outcome: StepOutcome,
    /// The error the step was expected to revert with, if any.
    pub expect_revert: Option<String>,
    /// Gas of the step's transactions (minting and approvals for a deposit, and an automatic opt-in, excluded);
    /// `None` for steps without a transaction and for reverted ones.
    pub gas: Option<u64>,
    /// The key results, read from the events: amounts slashed, guard cuts, requests, shares minted, ...
    pub results: Vec<String>,
    /// Every event the step's transactions emitted (token transfers and approvals left out), decoded.
    pub events: Vec<EventRecord>,
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum StepOutcome {
    /// Every transaction succeeded.
    Ok,
    /// A transaction reverted (state unchanged by it).
    Reverted {
        /// The error's name (`NotSlashable`, `Error`, `Panic`, ...).
        error: String,
        /// The decoded error with its arguments.
        detail: String,
    },
    /// An `expect` step: how many of its checks held.
    Checked {
        /// Checks that held.
        passed: usize,
        /// Checks that did not.
        failed: usize,
    },
}

impl fmt::Display for StepOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ok => f.write_str("ok"),
            Self::Reverted { detail, .. } => write!(f, "reverted {detail}"),
            Self::Checked { passed, failed: 0 } => write!(f, "{passed} passed"),
            Self::Checked { passed, failed } => write!(f, "{failed} FAILED, {passed} passed"),
        }
    }
}

/// A decoded event.
#[derive(Debug, Clone, Serialize)]
pub struct EventRecord {
    /// The emitting contract's label.
    pub emitter: String,
    /// The event's name.
    pub name: String,
    /// Arguments in declaration order, values formatted (addresses by label).
    #[serde(serialize_with = "ordered_map")]
    pub args: Vec<(String, String)>,
}

impl fmt::Display for EventRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}(", self.emitter, self.name)?;
        for (i, (name, value)) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name}: {value}")?;
        }
        f.write_str(")")
    }
}

fn ordered_map<S: Serializer>(args: &[(String, String)], serializer: S) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(args.len()))?;
    for (k, v) in args {
        map.serialize_entry(k, v)?;
    }
    map.end()
}

/// One expectation and how it came out.
#[derive(Debug, Clone, Serialize)]
pub struct Expectation {
    /// The step it belongs to.
    pub step: usize,
    /// Where it is written: 1-based line and column.
    pub line: usize,
    /// See `line`.
    pub column: usize,
    /// Its path in the document (`steps[5].backing.S1.P`).
    pub path: String,
    /// What is checked, in words (`backing of S1 in P`).
    pub what: String,
    /// The value written in the file.
    pub expected: String,
    /// The value found.
    pub actual: String,
    /// Whether they agree.
    pub passed: bool,
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}: expected {}, actual {}",
            self.line, self.column, self.path, self.what, self.expected, self.actual
        )
    }
}

/// State after the last step.
#[derive(Debug, Clone, Serialize)]
pub struct FinalState {
    /// Seconds since the end of the setup.
    pub time: u64,
    /// Every declared pool.
    pub pools: Vec<PoolSummary>,
    /// Every AVS with its backings.
    pub avs: Vec<AvsSummary>,
    /// Every staker's positions, escrow and wallet.
    pub stakers: Vec<StakerSummary>,
    /// What each AVS's sink holds.
    pub sinks: Vec<SinkSummary>,
    /// Each operator's rating, when the scenario turns the reputation layer on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub operators: Vec<OperatorReputation>,
}

/// An operator's reputation (`Reputation.operatorRecord`): percentages to 0.01% (rounded down), evidence in units.
#[derive(Debug, Clone, Serialize)]
pub struct OperatorReputation {
    /// Its name in the scenario.
    pub name: String,
    /// The rating.
    pub rating: String,
    /// `rating` in WAD.
    pub rating_wad: String,
    /// Mean of its evidence's Beta posterior.
    pub mean: String,
    /// `mean` in WAD (1e18 = 100%), an integer string.
    pub mean_wad: String,
    /// Lower confidence bound of its evidence now.
    pub lower_bound: String,
    /// `lower_bound` in WAD, an integer string.
    pub lower_bound_wad: String,
    /// Good evidence, in units.
    pub good: String,
    /// Bad evidence, in units (a proven double-sign is 5, an executed vetoable slash 1).
    pub bad: String,
}

/// A pool's risk picture (`AllocationManager.poolRisk`), amounts in its asset: exact decimal strings in token units
/// (`decimals` gives the base units), ratios formatted for people beside their raw WAD integers (as strings).
#[derive(Debug, Clone, Serialize)]
pub struct PoolSummary {
    /// Its name in the scenario.
    pub name: String,
    /// Its vault id, once a deposit created it (a number, as an AVS's `id`).
    pub id: Option<u64>,
    /// Decimals of `asset`: an amount × 10^decimals is the raw integer on chain.
    pub decimals: u8,
    /// Its operator.
    pub operator: String,
    /// The asset its amounts are in (a tier's base asset).
    pub asset: String,
    /// The base pool, for a tier.
    pub tier_of: Option<String>,
    /// Slashable value.
    pub value: String,
    /// Value backing isolated allocations.
    pub isolated: String,
    /// Value left for shared allocations (value − isolated).
    pub shared_stake: String,
    /// Sum of shared allocations, in assets.
    pub total_shared: String,
    /// total_shared / shared_stake, as a multiple (`1.75x`).
    pub reuse_ratio: String,
    /// `reuse_ratio` in WAD (1e18 = 1x), an integer string.
    pub reuse_ratio_wad: String,
    /// The pool's reuse cap, as a multiple.
    pub reuse_cap: String,
    /// `reuse_cap` in WAD, an integer string.
    pub reuse_cap_wad: String,
    /// Cascade-guard usage in the current window, as a percentage.
    pub guard_used: String,
    /// `guard_used` in WAD (1e18 = 100%), an integer string.
    pub guard_used_wad: String,
}

/// An AVS and what backs it.
#[derive(Debug, Clone, Serialize)]
pub struct AvsSummary {
    /// Its name in the scenario.
    pub name: String,
    /// Its id in the manager.
    pub id: u32,
    /// `instant`, `veto`, `double_sign` or `committee`.
    pub kind: String,
    /// Who receives what it slashes (`burn` or an actor).
    pub sink: String,
    /// Its backing in each pool with an allocation to it.
    pub backings: Vec<BackingSummary>,
    /// Its rating, standing and bond, when the scenario turns the reputation layer on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reputation: Option<ReputationSummary>,
}

/// An AVS's reputation (`Reputation.avsRecord`), the standing the manager enforces (`getAVS`) and its bond.
/// Percentages to 0.01% (rounded down), the rating also exact in WAD; evidence exact in units.
#[derive(Debug, Clone, Serialize)]
pub struct ReputationSummary {
    /// The rating: the lower confidence bound of its evidence, moved at most one step per epoch.
    pub rating: String,
    /// `rating` in WAD.
    pub rating_wad: String,
    /// Mean of the evidence's Beta posterior (what the rating would be with certainty).
    pub mean: String,
    /// `mean` in WAD (1e18 = 100%), an integer string.
    pub mean_wad: String,
    /// Lower confidence bound of the evidence now (the rating's target).
    pub lower_bound: String,
    /// `lower_bound` in WAD, an integer string.
    pub lower_bound_wad: String,
    /// Good evidence, in units (one clean epoch with a full evidence unit at stake is 1).
    pub good: String,
    /// Bad evidence, in units (a vetoed request is 3).
    pub bad: String,
    /// The risk weight the manager counts its shared allocations with (`2.6x`).
    pub risk_weight: String,
    /// `risk_weight` in tenths, as the manager stores it (`getAVS().riskWeightTenths`: 26 = 2.6x), a number.
    pub risk_weight_tenths: u8,
    /// What its rating asks now (`Reputation.riskWeightTenths`), before the next standing refresh.
    pub risk_weight_now: String,
    /// `risk_weight_now` in tenths, a number.
    pub risk_weight_now_tenths: u8,
    /// Whether the manager refuses it new backing.
    pub bond_short: bool,
    /// The fraction of its backing its bond must cover.
    pub required_bond_fraction: String,
    /// `required_bond_fraction` in WAD (1e18 = 100%), an integer string.
    pub required_bond_fraction_wad: String,
    /// Its available bond, per asset.
    pub bonds: Vec<TokenAmount>,
    /// Pools whose weighted reuse would pass their cap if this AVS fell to the floor's risk weight (each of its
    /// shared allocations re-priced at the floor, the others as they are).
    pub over_cap_at_floor: Vec<String>,
}

/// One pool's part in an AVS's backing.
#[derive(Debug, Clone, Serialize)]
pub struct BackingSummary {
    /// The pool.
    pub pool: String,
    /// `isolated` or `shared`.
    pub mode: String,
    /// Slashable by the AVS now.
    pub backing: String,
    /// The asset of `backing`.
    pub asset: String,
}

/// A staker's holdings.
#[derive(Debug, Clone, Serialize)]
pub struct StakerSummary {
    /// The staker.
    pub name: String,
    /// Positions in declared pools.
    pub positions: Vec<PositionSummary>,
    /// Unclaimed withdrawals, by pool.
    pub escrow: Vec<EscrowSummary>,
    /// Token balances outside the vault (non-zero ones).
    pub wallet: Vec<TokenAmount>,
}

/// A staker's position in one pool.
#[derive(Debug, Clone, Serialize)]
pub struct PositionSummary {
    /// The pool.
    pub pool: String,
    /// Shares held (a tier's shares over base shares).
    pub shares: String,
    /// What they redeem for now, in `asset`.
    pub value: String,
    /// The asset of `value` (a tier's base asset).
    pub asset: String,
}

/// A staker's unclaimed withdrawals from one pool.
#[derive(Debug, Clone, Serialize)]
pub struct EscrowSummary {
    /// The pool.
    pub pool: String,
    /// How many withdrawals.
    pub withdrawals: usize,
    /// What claiming them would pay now, in `asset`.
    pub value: String,
    /// The asset of `value`.
    pub asset: String,
}

/// An amount of one token.
#[derive(Debug, Clone, Serialize)]
pub struct TokenAmount {
    /// The token's symbol.
    pub asset: String,
    /// The amount in token units.
    pub amount: String,
}

/// What one AVS's sink holds.
#[derive(Debug, Clone, Serialize)]
pub struct SinkSummary {
    /// The AVS.
    pub avs: String,
    /// The sink (`burn` or an actor).
    pub holder: String,
    /// Non-zero balances.
    pub balances: Vec<TokenAmount>,
}

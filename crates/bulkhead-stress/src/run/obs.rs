//! What the differential compares after each step: the observations a step can change, predicted by the model.

use alloy::primitives::U256;
use bulkhead_evm::ErrorKind;
use bulkhead_scenario::Action;

use crate::{
    model::{Holder, Model, REWARD_FIELDS, holders},
    spec::{Spec, Step, symbol},
};

/// A value the scenario runner can check (`expect` steps), named by the spec's indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Obs {
    /// `pool_value`.
    PoolValue(usize),
    /// `isolated`.
    Isolated(usize),
    /// `shared`.
    Shared(usize),
    /// `reuse_ratio`.
    Reuse(usize),
    /// `guard_used`.
    Guard(usize),
    /// `backing`: (avs, pool).
    Backing(usize, usize),
    /// `position`: (staker, pool).
    Position(usize, usize),
    /// `escrow`: (staker, pool).
    Escrow(usize, usize),
    /// `balance`: (staker, asset).
    Balance(usize, usize),
    /// `sink`: (avs, asset).
    Sink(usize, usize),
    /// The value of an AVS's sink's position in a pool, from `positionsOf` (a tier slash pays the sink in base
    /// shares; not checkable in a scenario file, whose `position` names stakers): (avs, pool).
    SinkPosition(usize, usize),
    /// A field of `getPool` (not checkable in a scenario file): (pool, field index, see [`Model::pool_view`]).
    PoolField(usize, u8),
    /// A field of `getAllocation` (not checkable in a scenario file): (avs, pool, field index).
    AllocField(usize, usize, u8),
    /// `avsBacking(avs).total` (not checkable in a scenario file).
    AvsTotal(usize),
    /// `getPoolState(pool).sharedWeight`: the risk-weighted sum of shared limits (not checkable).
    SharedWeight(usize),
    /// `rating`: `avsRecord(avs).ratingWad`.
    Rating(usize),
    /// `risk_weight`: `getAVS(avs).riskWeightTenths`, the standing last pushed.
    RiskWeight(usize),
    /// `bond_short`: `getAVS(avs).bondShort`, as 1 or 0.
    BondShort(usize),
    /// `bond`: `bondOf(avs, asset).available`: (avs, asset).
    Bond(usize, usize),
    /// `balance` of `vault`: the vault's token balance of an asset.
    VaultBalance(usize),
    /// A field of `avsRecord` (not checkable): (avs, field index, in `Model::record_view`'s order).
    AvsRecord(usize, u8),
    /// A field of `operatorRecord` (not checkable): (operator, field index).
    OperatorRecord(usize, u8),
    /// `bondOf(avs, asset)`'s queued withdrawal (field 0) and its maturity (field 1) (not checkable).
    BondField(usize, usize, u8),
    /// `totalBonded(asset)` (not checkable).
    TotalBonded(usize),
    /// The reputation contract's token balance of an asset (not checkable).
    BondsHeld(usize),
    /// `avsAdmin`'s token balance of an asset: what it minted to bond, less its bonds, plus its payouts (not
    /// checkable: the file declares no such actor).
    AdminBalance(usize),
    /// `riskWeightWad(avs)` (not checkable).
    RiskWeightWad(usize),
    /// `requiredBondFractionWad(avs)` (not checkable).
    BondFraction(usize),
    /// `measuredBacking(avs, pool)` (not checkable): (avs, pool).
    Measured(usize, usize),
    /// `assetStanding(avs, asset)`: its backing (field 0) and short verdict (field 1) (not checkable).
    Standing(usize, usize, u8),
    /// `shortAssets(avs)` (not checkable).
    ShortAssets(usize),
    /// `getAVS(avs).requestsVetoableUntil`: the manager's hold on the AVS's bond (not checkable).
    VetoableUntil(usize),
    /// `epoch()` of the reputation contract (not checkable).
    RepEpoch,
    /// `claimable(pool, holder)`: what a staker's (or a sink's) position earned and has not claimed (not
    /// checkable): (holder, pool).
    Claimable(Holder, usize),
    /// `claimableEscrow` of the withdrawal at `index` in a pool's queue (not checkable): (pool, index).
    EscrowRewards(usize, usize),
    /// A field of `poolRewards(pool)` (not checkable): (pool, field index, see [`REWARD_FIELDS`]).
    Rewards(usize, u8),
    /// `commissionOf(pool)`: the bps in effect (field 0), the next bps (1) and when (2) (not checkable).
    Commission(usize, u8),
    /// `commissionOwed(operator, token)` (not checkable): (operator, asset).
    CommissionOwed(usize, usize),
    /// An operator's token balance, where its commission is paid (not checkable): (operator, asset).
    OperatorBalance(usize, usize),
    /// The `payer` actor's token balance (not checkable).
    PayerBalance(usize),
    /// The rail's token balance (not checkable).
    RailBalance(usize),
    /// What the rail holds of a token beyond every claim on it: its balance less the claimable rewards of every
    /// holder, the escrow rewards of every withdrawal and every operator's commission (not checkable).
    RailResidue(usize),
}

impl Obs {
    /// Whether a scenario file's `expect` step can check it.
    pub fn checkable(self) -> bool {
        matches!(
            self,
            Self::PoolValue(_)
                | Self::Isolated(_)
                | Self::Shared(_)
                | Self::Reuse(_)
                | Self::Guard(_)
                | Self::Backing(..)
                | Self::Position(..)
                | Self::Escrow(..)
                | Self::Balance(..)
                | Self::Sink(..)
                | Self::Rating(_)
                | Self::RiskWeight(_)
                | Self::BondShort(_)
                | Self::Bond(..)
                | Self::VaultBalance(_)
        )
    }

    /// The spec's pool it is a value of, if any.
    pub(super) fn pool(self) -> Option<usize> {
        match self {
            Self::PoolValue(p)
            | Self::Isolated(p)
            | Self::Shared(p)
            | Self::Reuse(p)
            | Self::Guard(p)
            | Self::Backing(_, p)
            | Self::Position(_, p)
            | Self::SinkPosition(_, p)
            | Self::Escrow(_, p)
            | Self::PoolField(p, _)
            | Self::AllocField(_, p, _)
            | Self::SharedWeight(p)
            | Self::Claimable(_, p)
            | Self::EscrowRewards(p, _)
            | Self::Rewards(p, _)
            | Self::Commission(p, _) => Some(p),
            _ => None,
        }
    }

    /// Its index in `poolRisk`'s (value, totalIsolated, sharedStake, reuseRatioWad, guardUsedWad), if it is one.
    pub(super) fn risk_field(self) -> Option<usize> {
        match self {
            Self::PoolValue(_) => Some(0),
            Self::Isolated(_) => Some(1),
            Self::Shared(_) => Some(2),
            Self::Reuse(_) => Some(3),
            Self::Guard(_) => Some(4),
            _ => None,
        }
    }
}

const POOL_FIELDS: [&str; 8] = [
    "slashableAssets",
    "totalShares",
    "escrowedShares",
    "reserve",
    "sharePrice",
    "generation",
    "queueLength",
    "settledCount",
];
const ALLOC_FIELDS: [&str; 6] = [
    "current",
    "pending",
    "effectAt",
    "mode",
    "epoch",
    "riskWeightTenths",
];
/// The fields of `avsRecord` / `operatorRecord`, in [`Model::record_view`]'s order.
pub const RECORD_FIELDS: [&str; 9] = [
    "goodWad",
    "badWad",
    "ratingWad",
    "meanWad",
    "lowerBoundWad",
    "epoch",
    "checkpointed",
    "tainted",
    "seen",
];

/// The model's value of a checkable quantity.
pub fn model_value(model: &Model, spec: &Spec, obs: Obs) -> Result<U256, ErrorKind> {
    let id = |p: usize| model.pool_id(spec, p);
    let flag = |b: bool| U256::from(u8::from(b));
    match obs {
        Obs::PoolValue(p) | Obs::Isolated(p) | Obs::Shared(p) | Obs::Reuse(p) | Obs::Guard(p) => {
            match id(p) {
                None => Ok(U256::ZERO),
                Some(id) => model
                    .risk(id)
                    .map(|r| r[obs.risk_field().expect("a risk field")]),
            }
        }
        Obs::Backing(avs, p) => id(p).map_or(Ok(U256::ZERO), |id| model.backing(avs, id)),
        Obs::Position(s, p) => {
            id(p).map_or(Ok(U256::ZERO), |id| model.position(Holder::Staker(s), id))
        }
        Obs::SinkPosition(avs, p) => {
            id(p).map_or(Ok(U256::ZERO), |id| model.position(spec.sink_of(avs), id))
        }
        Obs::Escrow(s, p) => id(p).map_or(Ok(U256::ZERO), |id| model.escrow(s, id)),
        Obs::Balance(s, asset) => Ok(model.balance(Holder::Staker(s), asset)),
        Obs::Sink(avs, asset) => Ok(model.balance(spec.sink_of(avs), asset)),
        Obs::PoolField(p, f) => id(p).map_or(Ok(U256::ZERO), |id| {
            model.pool_view(id).map(|v| v[usize::from(f)])
        }),
        Obs::AllocField(avs, p, f) => Ok(id(p).map_or(U256::ZERO, |id| {
            model.allocation_view(avs, id)[usize::from(f)]
        })),
        Obs::AvsTotal(avs) => model.avs_total(avs),
        Obs::SharedWeight(p) => Ok(id(p).map_or(U256::ZERO, |id| model.shared_weight_sum(id))),
        Obs::Rating(avs) => model.record_view(false, avs).map(|r| r[2]),
        Obs::RiskWeight(avs) => Ok(U256::from(model.standing(avs).0)),
        Obs::BondShort(avs) => Ok(flag(model.standing(avs).1)),
        Obs::Bond(avs, asset) => Ok(model.bond(avs, asset).available),
        Obs::VaultBalance(asset) => Ok(model.vault_balance(asset)),
        Obs::AvsRecord(avs, f) => model.record_view(false, avs).map(|r| r[usize::from(f)]),
        Obs::OperatorRecord(o, f) => model.record_view(true, o).map(|r| r[usize::from(f)]),
        Obs::BondField(avs, asset, f) => {
            let b = model.bond(avs, asset);
            Ok(if f == 0 {
                b.queued
            } else {
                U256::from(b.maturity)
            })
        }
        Obs::TotalBonded(asset) | Obs::BondsHeld(asset) => Ok(model.total_bonded(asset)),
        Obs::AdminBalance(asset) => Ok(model.balance(Holder::Admin, asset)),
        Obs::RiskWeightWad(avs) => model.risk_weight_wad(avs),
        Obs::BondFraction(avs) => model.required_bond_fraction(avs),
        Obs::Measured(avs, p) => Ok(id(p).map_or(U256::ZERO, |id| model.measured(avs, id))),
        Obs::Standing(avs, asset, f) => {
            let (backing, short) = model.asset_standing(avs, asset);
            Ok(if f == 0 { backing } else { flag(short) })
        }
        Obs::ShortAssets(avs) => Ok(U256::from(model.short_assets(avs))),
        Obs::VetoableUntil(avs) => Ok(U256::from(model.vetoable_until(avs))),
        Obs::RepEpoch => model.reputation_epoch().map(U256::from),
        Obs::Claimable(h, p) => id(p).map_or(Ok(U256::ZERO), |id| model.claimable(id, h)),
        Obs::EscrowRewards(p, i) => {
            id(p).map_or(Ok(U256::ZERO), |id| model.claimable_escrow(id, i))
        }
        Obs::Rewards(p, f) => {
            Ok(id(p).map_or(U256::ZERO, |id| model.rewards_view(id)[usize::from(f)]))
        }
        Obs::Commission(p, f) => {
            Ok(id(p).map_or(U256::ZERO, |id| model.commission_view(id)[usize::from(f)]))
        }
        Obs::CommissionOwed(o, asset) => Ok(model.commission_owed(o, asset)),
        Obs::OperatorBalance(o, asset) => Ok(model.balance(Holder::Operator(o), asset)),
        Obs::PayerBalance(asset) => Ok(model.balance(Holder::Payer, asset)),
        Obs::RailBalance(asset) => Ok(model.balance(Holder::Rail, asset)),
        Obs::RailResidue(asset) => model.rail_books(spec, asset)?.residue().ok_or(INSOLVENT),
    }
}

/// The value of [`Obs::RailResidue`] when the rail holds less than it owes (on either side).
pub const INSOLVENT: ErrorKind = ErrorKind::of::<alloy::sol_types::Panic>();

/// Who a holder is, in words.
fn holder_name(spec: &Spec, h: Holder) -> String {
    match h {
        Holder::Staker(s) => spec.stakers[s].clone(),
        Holder::Sink(avs) => spec.sink_name(avs),
        Holder::Burn => "burn".to_string(),
        Holder::Admin => "avsAdmin".to_string(),
        Holder::Operator(o) => spec.operators[o].clone(),
        Holder::Payer => "payer".to_string(),
        Holder::Rail => "the rail".to_string(),
    }
}

/// Human words for a checkable quantity.
pub fn describe(spec: &Spec, obs: Obs) -> String {
    let pool = |p: usize| &spec.pools[p].name;
    match obs {
        Obs::PoolValue(p) => format!("slashable value of {}", pool(p)),
        Obs::Isolated(p) => format!("isolated value of {}", pool(p)),
        Obs::Shared(p) => format!("shared stake of {}", pool(p)),
        Obs::Reuse(p) => format!("reuse ratio (WAD) of {}", pool(p)),
        Obs::Guard(p) => format!("cascade guard used (WAD) in {}", pool(p)),
        Obs::Backing(a, p) => format!("backing of {} in {}", spec.avs[a].name, pool(p)),
        Obs::Position(s, p) => format!("{}'s position in {}", spec.stakers[s], pool(p)),
        Obs::Escrow(s, p) => format!(
            "{}'s unclaimed withdrawals from {}",
            spec.stakers[s],
            pool(p)
        ),
        Obs::Balance(s, a) => format!("{} balance of {}", symbol(a), spec.stakers[s]),
        Obs::Sink(avs, a) => format!("{} in the sink of {}", symbol(a), spec.avs[avs].name),
        Obs::SinkPosition(avs, p) => format!(
            "positionsOf({}) in {}",
            if spec.avs[avs].burn {
                "burn".to_string()
            } else {
                spec.sink_name(avs)
            },
            pool(p)
        ),
        Obs::PoolField(p, f) => format!("getPool({}).{}", pool(p), POOL_FIELDS[usize::from(f)]),
        Obs::AllocField(a, p, f) => format!(
            "getAllocation({}, {}).{}",
            pool(p),
            spec.avs[a].name,
            ALLOC_FIELDS[usize::from(f)]
        ),
        Obs::AvsTotal(a) => format!("avsBacking({}).total", spec.avs[a].name),
        Obs::SharedWeight(p) => format!("getPoolState({}).sharedWeight", pool(p)),
        _ => describe_reputation(spec, obs),
    }
}

fn describe_reputation(spec: &Spec, obs: Obs) -> String {
    let avs = |a: usize| &spec.avs[a].name;
    match obs {
        Obs::Rating(a) => format!("rating of {}", avs(a)),
        Obs::RiskWeight(a) => format!("risk weight (tenths) of {}", avs(a)),
        Obs::BondShort(a) => format!("bond of {} short of its requirement", avs(a)),
        Obs::Bond(a, asset) => format!("{} bond of {} (available)", symbol(asset), avs(a)),
        Obs::VaultBalance(asset) => format!("{} balance of the vault", symbol(asset)),
        Obs::AvsRecord(a, f) => format!("avsRecord({}).{}", avs(a), RECORD_FIELDS[usize::from(f)]),
        Obs::OperatorRecord(o, f) => format!(
            "operatorRecord({}).{}",
            spec.operators[o],
            RECORD_FIELDS[usize::from(f)]
        ),
        Obs::BondField(a, asset, f) => format!(
            "bondOf({}, {}).{}",
            avs(a),
            symbol(asset),
            if f == 0 { "queued" } else { "maturity" }
        ),
        Obs::TotalBonded(asset) => format!("totalBonded({})", symbol(asset)),
        Obs::BondsHeld(asset) => format!("{} balance of the reputation contract", symbol(asset)),
        Obs::AdminBalance(asset) => format!("{} balance of avsAdmin", symbol(asset)),
        Obs::RiskWeightWad(a) => format!("riskWeightWad({})", avs(a)),
        Obs::BondFraction(a) => format!("requiredBondFractionWad({})", avs(a)),
        Obs::Measured(a, p) => format!("measuredBacking({}, {})", avs(a), spec.pools[p].name),
        Obs::Standing(a, asset, f) => format!(
            "assetStanding({}, {}).{}",
            avs(a),
            symbol(asset),
            if f == 0 { "backing" } else { "short" }
        ),
        Obs::ShortAssets(a) => format!("shortAssets({})", avs(a)),
        Obs::VetoableUntil(a) => format!("getAVS({}).requestsVetoableUntil", avs(a)),
        Obs::RepEpoch => "the reputation epoch".to_string(),
        _ => describe_rail(spec, obs),
    }
}

fn describe_rail(spec: &Spec, obs: Obs) -> String {
    let pool = |p: usize| &spec.pools[p].name;
    match obs {
        Obs::Claimable(h, p) => format!("claimable({}, {})", pool(p), holder_name(spec, h)),
        Obs::EscrowRewards(p, i) => format!("claimableEscrow(withdrawal {i} of {})", pool(p)),
        Obs::Rewards(p, f) => format!("poolRewards({}).{}", pool(p), REWARD_FIELDS[usize::from(f)]),
        Obs::Commission(p, f) => format!(
            "commissionOf({}).{}",
            pool(p),
            ["bps", "nextBps", "nextAt"][usize::from(f)]
        ),
        Obs::CommissionOwed(o, a) => {
            format!("commissionOwed({}, {})", spec.operators[o], symbol(a))
        }
        Obs::OperatorBalance(o, a) => format!("{} balance of {}", symbol(a), spec.operators[o]),
        Obs::PayerBalance(a) => format!("{} balance of payer", symbol(a)),
        Obs::RailBalance(a) => format!("{} balance of the rail", symbol(a)),
        Obs::RailResidue(a) => format!(
            "{} the rail holds beyond every claim (balance − claimable − escrow rewards − commission)",
            symbol(a)
        ),
        _ => format!("{obs:?}"),
    }
}

/// A pool's risk and backings, and those of its base (for a tier) or its tiers (for a base).
fn pool_obs(spec: &Spec, model: &Model, pool: usize, out: &mut Vec<Obs>) {
    one_pool_obs(spec, model, pool, out);
    for (i, p) in spec.pools.iter().enumerate() {
        if p.tier_of == Some(pool) || spec.pools[pool].tier_of == Some(i) {
            one_pool_obs(spec, model, i, out);
        }
    }
}

fn one_pool_obs(spec: &Spec, model: &Model, pool: usize, out: &mut Vec<Obs>) {
    rail_pool_obs(spec, model, pool, out);
    out.extend([
        Obs::PoolValue(pool),
        Obs::Isolated(pool),
        Obs::Shared(pool),
        Obs::Reuse(pool),
        Obs::Guard(pool),
    ]);
    out.extend((0..POOL_FIELDS.len() as u8).map(|f| Obs::PoolField(pool, f)));
    out.push(Obs::SharedWeight(pool));
    if let Some(id) = model.pool_id(spec, pool) {
        for avs in 0..spec.avs.len() {
            if model.has_allocation(id, avs) {
                out.push(Obs::Backing(avs, pool));
                out.extend((0..ALLOC_FIELDS.len() as u8).map(|f| Obs::AllocField(avs, pool, f)));
            }
        }
    }
}

/// If the pool earns: its reward books (`poolRewards`, `commissionOf`), the claimable rewards of every holder the
/// rail or the vault has seen there, and the escrow rewards of every withdrawal in its queue.
fn rail_pool_obs(spec: &Spec, model: &Model, pool: usize, out: &mut Vec<Obs>) {
    let Some(id) = model.pool_id(spec, pool) else {
        return;
    };
    if !model.earns(id) {
        return;
    }
    out.extend((0..REWARD_FIELDS.len() as u8).map(|f| Obs::Rewards(pool, f)));
    out.extend((0..3).map(|f| Obs::Commission(pool, f)));
    for h in holders(spec) {
        if model.seen_by_rail(id, h) {
            out.push(Obs::Claimable(h, pool));
        }
    }
    out.extend((0..model.queue_length(id)).map(|i| Obs::EscrowRewards(pool, i)));
}

/// Where a token's rewards are: the rail's balance and what it holds beyond every claim.
fn rail_token_obs(asset: usize, out: &mut Vec<Obs>) {
    out.extend([Obs::RailBalance(asset), Obs::RailResidue(asset)]);
}

/// What a reward-rail step can change.
fn payment_step_obs(spec: &Spec, model: &Model, step: &Step, out: &mut Vec<Obs>) {
    match step {
        Step::EnableRewards { pool, .. } => {
            rail_pool_obs(spec, model, *pool, out);
            out.extend((0..REWARD_FIELDS.len() as u8).map(|f| Obs::Rewards(*pool, f)));
        }
        Step::SetCommission { pool, .. } => {
            out.extend((0..3).map(|f| Obs::Commission(*pool, f)));
        }
        Step::Pay { pool, .. } => {
            // The payment settled the pool first: its vault figures too.
            pool_obs(spec, model, *pool, out);
            out.extend((0..REWARD_FIELDS.len() as u8).map(|f| Obs::Rewards(*pool, f)));
            let asset = spec.pools[*pool].asset;
            let operator = spec.pools[*pool].operator;
            out.extend([
                Obs::CommissionOwed(operator, asset),
                Obs::PayerBalance(asset),
            ]);
            rail_token_obs(asset, out);
        }
        Step::ClaimRewards { staker, pool } => {
            if let Some(s) = spec.staker(staker) {
                let asset = spec.pools[*pool].asset;
                out.extend([
                    Obs::Claimable(Holder::Staker(s), *pool),
                    Obs::Balance(s, asset),
                ]);
                rail_token_obs(asset, out);
            }
        }
        Step::ClaimEscrowRewards { staker, withdrawal } => {
            if let (Some(s), Some((_, wid))) = (spec.staker(staker), model.withdrawal(withdrawal)) {
                let id: usize = (wid >> 64usize).saturating_to();
                let index: usize = (wid & U256::from(u64::MAX)).saturating_to();
                if let Some(pool) =
                    (0..spec.pools.len()).find(|&p| model.pool_id(spec, p) == Some(id))
                {
                    let asset = spec.pools[pool].asset;
                    out.extend([Obs::EscrowRewards(pool, index), Obs::Balance(s, asset)]);
                    rail_token_obs(asset, out);
                }
            }
        }
        Step::ClaimCommission { operator, asset } => {
            if let Some(o) = spec.operator(operator) {
                out.extend([
                    Obs::CommissionOwed(o, *asset),
                    Obs::OperatorBalance(o, *asset),
                ]);
                rail_token_obs(*asset, out);
            }
        }
        _ => {}
    }
}

/// The step that filed the request labelled `label`: (AVS, pool).
fn filed(spec: &Spec, label: &str) -> Option<(usize, usize)> {
    spec.steps.iter().find_map(|s| match s {
        Step::Scenario(Action::RequestSlash {
            avs,
            pool,
            label: Some(l),
            ..
        }) if l == label => Some((*avs, *pool)),
        _ => None,
    })
}

/// An AVS's bond in an asset, and where its tokens are.
fn bond_obs(avs: usize, asset: usize, out: &mut Vec<Obs>) {
    out.extend([
        Obs::Bond(avs, asset),
        Obs::BondField(avs, asset, 0),
        Obs::BondField(avs, asset, 1),
        Obs::TotalBonded(asset),
        Obs::BondsHeld(asset),
        Obs::AdminBalance(asset),
    ]);
}

/// An AVS's record, rating and what follows from it.
fn record_obs(avs: usize, out: &mut Vec<Obs>) {
    out.extend((0..RECORD_FIELDS.len() as u8).map(|f| Obs::AvsRecord(avs, f)));
    out.extend([
        Obs::Rating(avs),
        Obs::RiskWeightWad(avs),
        Obs::BondFraction(avs),
        Obs::RepEpoch,
    ]);
}

/// An AVS's standing in the manager and what its refresh measured.
fn standing_obs(spec: &Spec, avs: usize, out: &mut Vec<Obs>) {
    out.extend([
        Obs::RiskWeight(avs),
        Obs::BondShort(avs),
        Obs::ShortAssets(avs),
    ]);
    for asset in 0..3 {
        out.extend([Obs::Standing(avs, asset, 0), Obs::Standing(avs, asset, 1)]);
    }
    out.extend((0..spec.pools.len()).map(|p| Obs::Measured(avs, p)));
}

/// What a reputation step (or a veto with reputation on) can change.
fn reputation_step_obs(spec: &Spec, model: &Model, step: &Step, out: &mut Vec<Obs>) {
    match step {
        Step::Scenario(Action::Bond { avs, asset, .. } | Action::Unbond { avs, asset, .. }) => {
            bond_obs(*avs, *asset, out);
        }
        Step::CompleteUnbond { avs, asset } => {
            bond_obs(*avs, *asset, out);
            out.push(Obs::VetoableUntil(*avs));
        }
        Step::Scenario(Action::RequestSlash { avs, .. }) if spec.reputation.is_some() => {
            out.push(Obs::VetoableUntil(*avs));
        }
        Step::Scenario(Action::Checkpoint { avs: Some(avs), .. }) => record_obs(*avs, out),
        Step::Scenario(Action::Checkpoint {
            operator: Some(name),
            ..
        }) => {
            if let Some(o) = spec.operator(name) {
                out.extend((0..RECORD_FIELDS.len() as u8).map(|f| Obs::OperatorRecord(o, f)));
                out.push(Obs::RepEpoch);
            }
        }
        Step::Scenario(Action::RefreshStanding { avs, .. }) | Step::Refresh { avs, .. } => {
            standing_obs(spec, *avs, out);
        }
        Step::Scenario(Action::Reprice { pool }) => pool_obs(spec, model, *pool, out),
        Step::Scenario(Action::Veto {
            request: Some(label),
            ..
        }) if spec.reputation.is_some() => {
            if let Some((avs, pool)) = filed(spec, label) {
                pool_obs(spec, model, pool, out);
                record_obs(avs, out);
                let asset = spec.pools[pool].asset;
                bond_obs(avs, asset, out);
                out.push(Obs::VaultBalance(asset));
            }
        }
        Step::ReportExecuted { request } => {
            if let Some((_, pool)) = filed(spec, request) {
                let o = spec.pools[pool].operator;
                out.extend((0..RECORD_FIELDS.len() as u8).map(|f| Obs::OperatorRecord(o, f)));
            }
        }
        _ => {}
    }
}

/// What is compared after a step: the touched pool's risk and backings, the staker's position, escrow and wallet,
/// the slashing AVS's sink; for a reputation step the records, bonds and standings it touched.
pub fn step_obs(spec: &Spec, model: &Model, step: &Step) -> Vec<Obs> {
    let mut out = Vec::new();
    reputation_step_obs(spec, model, step, &mut out);
    payment_step_obs(spec, model, step, &mut out);
    let Some(action) = step.action() else {
        return out;
    };
    let staker_pool = |out: &mut Vec<Obs>, s: usize, p: usize| {
        out.extend([
            Obs::Position(s, p),
            Obs::Escrow(s, p),
            Obs::Balance(s, spec.pools[p].asset),
        ]);
    };
    let staker = |name: &str| spec.staker(name);
    match action {
        Action::Deposit {
            staker: s, pool, ..
        }
        | Action::QueueWithdrawal {
            staker: s, pool, ..
        } => {
            pool_obs(spec, model, *pool, &mut out);
            if let Some(s) = staker(s) {
                staker_pool(&mut out, s, *pool);
            }
        }
        Action::DepositToTier {
            staker: s, pool, ..
        } => {
            pool_obs(spec, model, *pool, &mut out);
            if let Some(s) = staker(s) {
                staker_pool(&mut out, s, *pool);
                if let Some(base) = spec.pools[*pool].tier_of {
                    staker_pool(&mut out, s, base);
                }
            }
        }
        Action::Claim {
            staker: s,
            withdrawal: Some(label),
            ..
        } => {
            if let (Some(s), Some((_, wid))) = (staker(s), model.withdrawal(label)) {
                let id: usize = (wid >> 64usize).to::<usize>();
                if let Some(pool) =
                    (0..spec.pools.len()).find(|&p| model.pool_id(spec, p) == Some(id))
                {
                    pool_obs(spec, model, pool, &mut out);
                    staker_pool(&mut out, s, pool);
                    if let Some(base) = spec.pools[pool].tier_of {
                        staker_pool(&mut out, s, base);
                    }
                }
            }
        }
        Action::Allocate { pool, .. }
        | Action::Deallocate { pool, .. }
        | Action::RequestSlash { pool, .. } => {
            pool_obs(spec, model, *pool, &mut out);
        }
        Action::Slash { avs, pool, .. } => {
            pool_obs(spec, model, *pool, &mut out);
            sink_obs(spec, *avs, *pool, &mut out);
        }
        Action::ExecuteSlash {
            request: Some(label),
            ..
        } => {
            // The request's pool and AVS: from the step that filed it.
            if let Some((avs, pool)) = filed(spec, label) {
                pool_obs(spec, model, pool, &mut out);
                sink_obs(spec, avs, pool, &mut out);
            }
        }
        _ => {}
    }
    out
}

/// What the slashing AVS's sink received: tokens, or for a tier slash base shares in its base position.
fn sink_obs(spec: &Spec, avs: usize, pool: usize, out: &mut Vec<Obs>) {
    out.push(Obs::Sink(avs, spec.pools[pool].asset));
    if let Some(base) = spec.pools[pool].tier_of {
        out.push(Obs::SinkPosition(avs, base));
    }
}

/// Everything checkable at the end: every pool, backing, position, escrow, wallet and sink (sinks' positions too).
pub fn final_obs(spec: &Spec, model: &Model) -> Vec<Obs> {
    let mut out = Vec::new();
    for pool in 0..spec.pools.len() {
        if model.pool_id(spec, pool).is_none() {
            continue;
        }
        out.extend([
            Obs::PoolValue(pool),
            Obs::Isolated(pool),
            Obs::Shared(pool),
            Obs::Reuse(pool),
            Obs::Guard(pool),
        ]);
        out.extend((0..spec.avs.len()).map(|avs| Obs::Backing(avs, pool)));
        out.extend((0..POOL_FIELDS.len() as u8).map(|f| Obs::PoolField(pool, f)));
        out.push(Obs::SharedWeight(pool));
        for avs in 0..spec.avs.len() {
            out.extend((0..ALLOC_FIELDS.len() as u8).map(|f| Obs::AllocField(avs, pool, f)));
        }
        for s in 0..spec.stakers.len() {
            out.extend([Obs::Position(s, pool), Obs::Escrow(s, pool)]);
        }
        out.extend((0..spec.avs.len()).map(|avs| Obs::SinkPosition(avs, pool)));
    }
    out.extend((0..spec.avs.len()).map(Obs::AvsTotal));
    let assets: std::collections::BTreeSet<usize> = spec.pools.iter().map(|p| p.asset).collect();
    for &asset in &assets {
        out.extend((0..spec.stakers.len()).map(|s| Obs::Balance(s, asset)));
        out.extend((0..spec.avs.len()).map(|avs| Obs::Sink(avs, asset)));
        out.push(Obs::VaultBalance(asset));
    }
    let earning: Vec<usize> = (0..spec.pools.len())
        .filter(|&p| model.pool_id(spec, p).is_some_and(|id| model.earns(id)))
        .collect();
    if !earning.is_empty() {
        for &pool in &earning {
            rail_pool_obs(spec, model, pool, &mut out);
            out.extend(holders(spec).into_iter().map(|h| Obs::Claimable(h, pool)));
        }
        for &asset in &assets {
            rail_token_obs(asset, &mut out);
            out.push(Obs::PayerBalance(asset));
            for o in 0..spec.operators.len() {
                out.extend([
                    Obs::CommissionOwed(o, asset),
                    Obs::OperatorBalance(o, asset),
                ]);
            }
        }
    }
    if spec.reputation.is_some() {
        for avs in 0..spec.avs.len() {
            record_obs(avs, &mut out);
            standing_obs(spec, avs, &mut out);
            out.push(Obs::VetoableUntil(avs));
            for asset in 0..3 {
                bond_obs(avs, asset, &mut out);
            }
        }
        for o in 0..spec.operators.len() {
            out.extend((0..RECORD_FIELDS.len() as u8).map(|f| Obs::OperatorRecord(o, f)));
        }
    }
    out.sort();
    out.dedup();
    out
}

//! What the differential compares after each step: the observations a step can change, predicted by the model.

use alloy::primitives::U256;
use bulkhead_evm::ErrorKind;
use bulkhead_scenario::Action;

use crate::{
    model::{Holder, Model},
    spec::{Spec, symbol},
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
}

impl Obs {
    /// Whether a scenario file's `expect` step can check it.
    pub fn checkable(self) -> bool {
        !matches!(
            self,
            Self::PoolField(..) | Self::AllocField(..) | Self::AvsTotal(_) | Self::SinkPosition(..)
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
            | Self::AllocField(_, p, _) => Some(p),
            Self::Balance(..) | Self::Sink(..) | Self::AvsTotal(_) => None,
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
const ALLOC_FIELDS: [&str; 5] = ["current", "pending", "effectAt", "mode", "epoch"];

/// The model's value of a checkable quantity.
pub fn model_value(model: &Model, spec: &Spec, obs: Obs) -> Result<U256, ErrorKind> {
    let id = |p: usize| model.pool_id(spec, p);
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
    out.extend([
        Obs::PoolValue(pool),
        Obs::Isolated(pool),
        Obs::Shared(pool),
        Obs::Reuse(pool),
        Obs::Guard(pool),
    ]);
    out.extend((0..POOL_FIELDS.len() as u8).map(|f| Obs::PoolField(pool, f)));
    if let Some(id) = model.pool_id(spec, pool) {
        for avs in 0..spec.avs.len() {
            if model.has_allocation(id, avs) {
                out.push(Obs::Backing(avs, pool));
                out.extend((0..ALLOC_FIELDS.len() as u8).map(|f| Obs::AllocField(avs, pool, f)));
            }
        }
    }
}

/// What is compared after a step: the touched pool's risk and backings, the staker's position, escrow and wallet,
/// the slashing AVS's sink.
pub fn step_obs(spec: &Spec, model: &Model, action: &Action) -> Vec<Obs> {
    let mut out = Vec::new();
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
            if let Some(Action::RequestSlash { avs, pool, .. }) = spec
                .steps
                .iter()
                .find(|s| matches!(s, Action::RequestSlash { label: Some(l), .. } if l == label))
            {
                pool_obs(spec, model, *pool, &mut out);
                sink_obs(spec, *avs, *pool, &mut out);
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
    }
    out
}

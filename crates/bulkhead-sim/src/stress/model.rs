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
//! tier pools (slashed like any pool, paid in base shares into the sink's base position). Not covered: redelegation,
//! pausing, governance calls (reuse caps, limits, the guard).

use std::collections::BTreeMap;

use alloy::primitives::{U256, U512};
use bulkhead_contracts::mode;

pub use super::spec::Holder;
use super::spec::{Action, Spec};

/// 1e18.
pub use bulkhead_contracts::WAD;
/// A fresh pool's total weight, 1e27.
pub fn unit() -> U256 {
    U256::from(10u64).pow(U256::from(27u64))
}
const BPS: u64 = 10_000;
const PRICE_FLOOR: u64 = 100_000_000;

/// An error name, as the contracts declare it (`Panic` for arithmetic faults).
pub type Rev = &'static str;

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
}

#[derive(Debug, Clone)]
struct Entry {
    maturity: u64,
    claimed: bool,
    cum: U256,
    staker: usize,
}

#[derive(Debug, Clone)]
struct Batch {
    price_assets: U256,
    price_shares: U256,
    end: usize,
}

#[derive(Debug, Clone)]
struct VPool {
    operator: usize,
    /// The token (an index into `ASSETS`), or `TIER + base pool id` for a tier.
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
}

#[derive(Debug, Clone, Copy, Default)]
struct Position {
    shares: U256,
    generation: u32,
}

#[derive(Debug, Clone, Copy, Default)]
struct PState {
    total: U256,
    isolated: U256,
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

#[derive(Debug, Clone, Copy, Default)]
struct Alloc {
    current: U256,
    pending: U256,
    effect_at: u64,
    mode: u8,
    epoch: u16,
}

#[derive(Debug, Clone, Copy, Default)]
struct Member {
    opted_in: bool,
    opted_out_at: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Pending,
    Vetoed,
    Executed,
}

#[derive(Debug, Clone, Copy)]
struct Request {
    avs: usize,
    pool: usize,
    fraction: u64,
    executable_at: u64,
    status: Status,
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

/// A step the scenario runner could not even send (a pool used before it exists, an unknown label): the scenario is
/// not valid as written.
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
    tier_allowed: std::collections::BTreeSet<usize>,
    tier_base_generation: BTreeMap<usize, u32>,
    tier_dead_below: BTreeMap<usize, usize>,
    /// Runner bookkeeping: withdrawal labels → (staker, withdrawal id).
    withdrawals: BTreeMap<usize, (usize, U256)>,
    /// Runner bookkeeping: request labels → request id.
    request_ids: BTreeMap<usize, u64>,
}

// ------------------------------------------------------------------ integer helpers (OpenZeppelin Math)

fn mul_div(a: U256, b: U256, d: U256) -> Result<U256, Rev> {
    if d.is_zero() {
        return Err("Panic");
    }
    let p: U512 = a.widening_mul(b);
    let q = p / U512::from(d);
    if q > U512::from(U256::MAX) {
        return Err("Panic");
    }
    Ok(U256::from(q))
}

fn mul_div_ceil(a: U256, b: U256, d: U256) -> Result<U256, Rev> {
    let q = mul_div(a, b, d)?;
    let p: U512 = a.widening_mul(b);
    Ok(if (p % U512::from(d)).is_zero() {
        q
    } else {
        q + U256::from(1u64)
    })
}

fn ceil_div(a: U256, b: U256) -> U256 {
    if a.is_zero() {
        U256::ZERO
    } else {
        (a - U256::from(1u64)) / b + U256::from(1u64)
    }
}

fn sub(a: U256, b: U256) -> Result<U256, Rev> {
    a.checked_sub(b).ok_or("Panic")
}

fn wad() -> U256 {
    U256::from(WAD)
}

fn u(x: u64) -> U256 {
    U256::from(x)
}

fn u128_max() -> U256 {
    U256::from(u128::MAX)
}

const ISOLATED: u8 = 1;
/// A tier's collateral key: `TIER + base pool id` (the vault's `tierAsset(base)`).
const TIER: usize = 1_000;
const SHARED: u8 = 2;

impl Model {
    /// A fresh deployment at time `now` for `spec` (its AVSs registered, its guard set).
    pub fn new(spec: &Spec, params: Params, now: u64, mutation: Mutation) -> Self {
        Self {
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
            tier_allowed: std::collections::BTreeSet::new(),
            tier_base_generation: BTreeMap::new(),
            tier_dead_below: BTreeMap::new(),
            withdrawals: BTreeMap::new(),
            request_ids: BTreeMap::new(),
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

    /// Label of a withdrawal queued (successfully) in this scenario.
    pub fn withdrawal(&self, label: usize) -> Option<(usize, U256)> {
        self.withdrawals.get(&label).copied()
    }

    /// Whether a request with this label was filed.
    pub fn request_filed(&self, label: usize) -> bool {
        self.request_ids.contains_key(&label)
    }

    /// Plays one step the way the scenario runner sends it: `Ok(Ok(ret))` if it went through, `Ok(Err(name))` if
    /// its main transaction reverted, `Err` if the runner could not send it at all.
    pub fn step(&mut self, spec: &Spec, action: &Action) -> Result<Result<Ret, Rev>, Invalid> {
        Ok(match *action {
            Action::Deposit {
                staker,
                pool,
                amount,
            } => {
                let def = &spec.pools[pool];
                let asset = def.asset;
                // The runner mints and approves first (separate transactions that stay even if the deposit reverts).
                *self
                    .balances
                    .entry((Holder::Staker(staker), asset))
                    .or_default() += amount;
                let operator = def.operator;
                self.tx(|m| m.deposit(staker, operator, asset, amount))
                    .map(Ret::Deposit)
            }
            Action::DepositToTier {
                staker,
                pool,
                shares,
            } => {
                let def = &spec.pools[pool];
                let base = def
                    .tier_of
                    .ok_or_else(|| Invalid(format!("{} is not a tier", def.name)))?;
                let base_id = self.require_pool(spec, base)?;
                // The runner allows tiers over the base (owner) first if needed.
                self.tier_allowed.insert(base_id);
                let operator = def.operator;
                self.tx(|m| m.deposit_to_tier(staker, base_id, operator, shares))
                    .map(Ret::Deposit)
            }
            Action::Allocate {
                pool,
                avs,
                mode,
                fraction,
            } => {
                let id = self.require_pool(spec, pool)?;
                let operator = spec.pools[pool].operator;
                let member = self.members.entry((avs, operator)).or_default();
                if !member.opted_in {
                    member.opted_in = true;
                    member.opted_out_at = 0;
                }
                self.tx(|m| m.allocate(id, avs, mode.code(), fraction))
                    .map(|()| Ret::None)
            }
            Action::Deallocate {
                pool,
                avs,
                fraction,
            } => {
                let id = self.require_pool(spec, pool)?;
                let (st, _) = self.view_pool(id);
                let a = self.allocs.get(&(id, avs)).copied().unwrap_or_default();
                let mode = if a.epoch != st.epoch || a.mode == mode::NONE {
                    SHARED
                } else {
                    a.mode
                };
                self.tx(|m| m.allocate(id, avs, mode, fraction))
                    .map(|()| Ret::None)
            }
            Action::Warp { seconds } => {
                self.now += seconds;
                Ok(Ret::None)
            }
            Action::Queue {
                staker,
                pool,
                fraction,
                label,
            } => {
                let id = self.require_pool(spec, pool)?;
                let held = self
                    .positions
                    .get(&(id, Holder::Staker(staker)))
                    .map_or(U256::ZERO, |p| p.shares);
                let shares = held * u(fraction) / wad();
                let out = self.tx(|m| m.queue_withdrawal(staker, id, shares));
                if let Ok(wid) = out {
                    self.withdrawals.insert(label, (staker, wid));
                }
                out.map(Ret::Queue)
            }
            Action::Claim { staker, label } => {
                let Some((_, wid)) = self.withdrawal(label) else {
                    return Err(Invalid(format!("withdrawal w{label} was not queued")));
                };
                self.tx(|m| m.complete_withdrawal(staker, wid))
                    .map(Ret::Claim)
            }
            Action::Slash {
                avs,
                pool,
                fraction,
            } => {
                let id = self.require_pool(spec, pool)?;
                self.tx(|m| {
                    if m.avs_veto[avs].is_some() {
                        return Err("VetoFlowRequired");
                    }
                    m.slash(spec, avs, id, fraction)
                })
                .map(Ret::Slash)
            }
            Action::Request {
                avs,
                pool,
                fraction,
                label,
            } => {
                let id = self.require_pool(spec, pool)?;
                let out = self.tx(|m| m.request_slash(avs, id, fraction));
                if let Ok(rid) = out {
                    self.request_ids.insert(label, rid);
                }
                out.map(Ret::Request)
            }
            Action::Veto { label } => {
                let Some(&rid) = self.request_ids.get(&label) else {
                    return Err(Invalid(format!("request r{label} was not filed")));
                };
                self.tx(|m| m.veto(rid)).map(|()| Ret::None)
            }
            Action::Execute { label } => {
                let Some(&rid) = self.request_ids.get(&label) else {
                    return Err(Invalid(format!("request r{label} was not filed")));
                };
                self.tx(|m| m.execute(spec, rid)).map(Ret::Slash)
            }
            Action::OptIn { operator, avs } => self.tx(|m| {
                let member = m.members.entry((avs, operator)).or_default();
                if member.opted_in {
                    return Err("AlreadyOptedIn");
                }
                member.opted_in = true;
                member.opted_out_at = 0;
                Ok(Ret::None)
            }),
            Action::OptOut { operator, avs } => {
                let now = self.now;
                self.tx(|m| {
                    let member = m.members.entry((avs, operator)).or_default();
                    if !member.opted_in {
                        return Err("NotOptedIn");
                    }
                    member.opted_in = false;
                    member.opted_out_at = now;
                    Ok(Ret::None)
                })
            }
        })
    }

    // ------------------------------------------------------------------ vault

    fn to_assets(p: &VPool, shares: U256) -> Result<U256, Rev> {
        mul_div(shares, p.assets + u(1), p.shares + u(1))
    }

    fn floor_cut(amount: U256, available: U256, shares: U256) -> U256 {
        if amount >= available {
            return amount;
        }
        let keep = ceil_div(shares, u(PRICE_FLOOR));
        if available - amount >= keep {
            return amount;
        }
        if available > keep {
            available - keep
        } else {
            U256::ZERO
        }
    }

    fn deposit(
        &mut self,
        staker: usize,
        operator: usize,
        asset: usize,
        amount: U256,
    ) -> Result<U256, Rev> {
        if amount.is_zero() {
            return Err("ZeroAmount");
        }
        let tracked = self.tracked.get(&asset).copied().unwrap_or_default();
        let id = match self.pool_of.get(&(operator, asset)) {
            Some(&id) => id,
            None => {
                self.pools.push(VPool {
                    operator,
                    asset,
                    base: None,
                    assets: U256::ZERO,
                    shares: U256::ZERO,
                    generation: 0,
                    queue: Vec::new(),
                    settled_count: 0,
                    batches: Vec::new(),
                    reserve: U256::ZERO,
                    early_claimed: U256::ZERO,
                });
                let id = self.pools.len();
                self.pool_of.insert((operator, asset), id);
                id
            }
        };
        let shares = self.mint(id, staker, amount)?;
        let new_tracked = tracked + amount;
        if new_tracked > u128_max() {
            return Err("AmountTooLarge");
        }
        self.tracked.insert(asset, new_tracked);
        let balance = self
            .balances
            .entry((Holder::Staker(staker), asset))
            .or_default();
        if *balance < amount {
            return Err("ERC20InsufficientBalance");
        }
        *balance -= amount;
        Ok(shares)
    }

    fn mint(&mut self, id: usize, staker: usize, assets: U256) -> Result<U256, Rev> {
        let p = &mut self.pools[id - 1];
        let shares = mul_div(assets, p.shares + u(1), p.assets + u(1))?;
        if shares.is_zero() {
            return Err("DepositTooSmall");
        }
        let (a, s) = (p.assets + assets, p.shares + shares);
        if a > u128_max() || s > u128_max() {
            return Err("AmountTooLarge");
        }
        p.assets = a;
        p.shares = s;
        let generation = p.generation;
        self.credit(id, Holder::Staker(staker), generation, shares)?;
        Ok(shares)
    }

    fn queue_withdrawal(&mut self, staker: usize, id: usize, shares: U256) -> Result<U256, Rev> {
        if shares.is_zero() {
            return Err("ZeroAmount");
        }
        let delay = self.params.escrow_delay;
        let now = self.now;
        let p = &mut self.pools[id - 1];
        let pos = self
            .positions
            .entry((id, Holder::Staker(staker)))
            .or_default();
        let held = pos.shares;
        if held < shares {
            return Err("InsufficientShares");
        }
        let live = pos.generation == p.generation;
        pos.shares = held - shares;
        let index = p.queue.len();
        let mut cum = p.queue.last().map_or(U256::ZERO, |e| e.cum);
        if live {
            cum += shares;
        }
        p.queue.push(Entry {
            maturity: now + delay,
            claimed: false,
            cum,
            staker,
        });
        Ok(U256::from(id) << 64 | U256::from(index))
    }

    fn entry_shares(p: &VPool, index: usize) -> U256 {
        let prev = if index == 0 {
            U256::ZERO
        } else {
            p.queue[index - 1].cum
        };
        p.queue[index].cum - prev
    }

    fn batch_value(p: &VPool, index: usize, shares: U256) -> Result<U256, Rev> {
        if shares.is_zero() {
            return Ok(U256::ZERO);
        }
        let b = p.batches.iter().find(|b| b.end > index).ok_or("Panic")?;
        mul_div(shares, b.price_assets, b.price_shares)
    }

    fn complete_withdrawal(&mut self, staker: usize, wid: U256) -> Result<U256, Rev> {
        let id: usize = (wid >> 64usize).to::<usize>();
        let index: usize = (wid & U256::from(u64::MAX)).to();
        let now = self.now;
        let p = self.pools.get_mut(id - 1).ok_or("UnknownWithdrawal")?;
        if index >= p.queue.len() {
            return Err("UnknownWithdrawal");
        }
        let e = &p.queue[index];
        if e.staker != staker {
            return Err("NotWithdrawalOwner");
        }
        if e.claimed {
            return Err("AlreadyClaimed");
        }
        if now < e.maturity {
            return Err("NotMatured");
        }
        p.queue[index].claimed = true;
        let shares = Self::entry_shares(&self.pools[id - 1], index);
        if self.pools[id - 1].base.is_some() {
            self.sync_tier(id);
            if index < self.tier_dead_below.get(&id).copied().unwrap_or(0) {
                return Ok(U256::ZERO);
            }
        }
        let p = &mut self.pools[id - 1];
        let assets;
        if index < p.settled_count {
            assets = Self::batch_value(p, index, shares)?;
            p.reserve = sub(p.reserve, assets)?;
        } else {
            assets = Self::to_assets(p, shares)?;
            p.assets = sub(p.assets, assets)?;
            p.shares = sub(p.shares, shares)?;
            p.early_claimed += shares;
        }
        if assets.is_zero() {
            return Ok(U256::ZERO);
        }
        if let Some(base) = p.base {
            // A tier pays base shares into the receiver's base position.
            let generation = self.pools[base - 1].generation;
            self.credit(base, Holder::Staker(staker), generation, assets)?;
            return Ok(assets);
        }
        let asset = p.asset;
        let tracked = self.tracked.entry(asset).or_default();
        *tracked = sub(*tracked, assets)?;
        *self
            .balances
            .entry((Holder::Staker(staker), asset))
            .or_default() += assets;
        Ok(assets)
    }

    /// `_credit`: adds shares to a position in the pool's current generation (an ended one restarts at zero).
    fn credit(
        &mut self,
        id: usize,
        holder: Holder,
        generation: u32,
        shares: U256,
    ) -> Result<(), Rev> {
        let pos = self.positions.entry((id, holder)).or_default();
        let held = if pos.generation == generation {
            pos.shares
        } else {
            U256::ZERO
        };
        if held + shares > u128_max() {
            return Err("AmountTooLarge");
        }
        pos.shares = held + shares;
        pos.generation = generation;
        Ok(())
    }

    /// `_tierEnded`: a tier whose base was fully slashed since it last synced.
    fn tier_ended(&self, id: usize) -> bool {
        match self.pools[id - 1].base {
            None => false,
            Some(base) => {
                self.tier_base_generation.get(&id).copied().unwrap_or(0)
                    != self.pools[base - 1].generation
            }
        }
    }

    /// `_syncTier`: a tier whose base generation ended is reset.
    fn sync_tier(&mut self, id: usize) {
        let base = self.pools[id - 1].base.expect("a tier");
        let base_generation = self.pools[base - 1].generation;
        if self.tier_base_generation.get(&id).copied().unwrap_or(0) == base_generation {
            return;
        }
        self.tier_base_generation.insert(id, base_generation);
        let p = &mut self.pools[id - 1];
        self.tier_dead_below.insert(id, p.queue.len());
        p.assets = U256::ZERO;
        p.reserve = U256::ZERO;
        Self::reset(p);
    }

    fn deposit_to_tier(
        &mut self,
        staker: usize,
        base: usize,
        operator: usize,
        base_shares: U256,
    ) -> Result<U256, Rev> {
        if base_shares.is_zero() {
            return Err("ZeroAmount");
        }
        if !self.tier_allowed.contains(&base) {
            return Err("TierNotAllowed");
        }
        let generation = self.pools[base - 1].generation;
        let pos = self
            .positions
            .entry((base, Holder::Staker(staker)))
            .or_default();
        let held = if pos.generation == generation {
            pos.shares
        } else {
            U256::ZERO
        };
        if held < base_shares {
            return Err("InsufficientShares");
        }
        pos.shares = held - base_shares;
        // `_tierPool`: created at the base's generation, or synced.
        let id = match self.pool_of.get(&(operator, TIER + base)) {
            Some(&id) => {
                self.sync_tier(id);
                id
            }
            None => {
                self.pools.push(VPool {
                    operator,
                    asset: TIER + base,
                    base: Some(base),
                    assets: U256::ZERO,
                    shares: U256::ZERO,
                    generation: 0,
                    queue: Vec::new(),
                    settled_count: 0,
                    batches: Vec::new(),
                    reserve: U256::ZERO,
                    early_claimed: U256::ZERO,
                });
                let id = self.pools.len();
                self.pool_of.insert((operator, TIER + base), id);
                self.tier_base_generation.insert(id, generation);
                id
            }
        };
        self.mint(id, staker, base_shares)
    }

    /// `_tierCut`: the base shares paying a tier slash of `amount`, rounded down (against the AVS; all of them for
    /// the tier's whole value), within the tier's price floor (a cut payment valued rounded up).
    fn tier_cut(
        base: &VPool,
        held: U256,
        tier_shares: U256,
        amount: U256,
    ) -> Result<(U256, U256), Rev> {
        let pa = base.assets + u(1);
        let ps = base.shares + u(1);
        if amount >= mul_div(held, pa, ps)? {
            return Ok((amount, held));
        }
        let mut base_shares = mul_div(amount, ps, pa)?;
        if base_shares.is_zero() {
            return Ok((U256::ZERO, U256::ZERO));
        }
        let mut slashed = amount;
        let keep = ceil_div(tier_shares, u(PRICE_FLOOR));
        if base_shares < held && held - base_shares < keep {
            base_shares = if held > keep { held - keep } else { U256::ZERO };
            slashed = mul_div_ceil(base_shares, pa, ps)?;
        }
        Ok((slashed, base_shares))
    }

    fn slash_tier(&mut self, id: usize, amount: U256, sink: Holder) -> Result<U256, Rev> {
        self.sync_tier(id);
        let now = self.now;
        Self::settle(&mut self.pools[id - 1], now)?;
        let base = self.pools[id - 1].base.expect("a tier");
        let held = self.pools[id - 1].assets;
        let tier_shares = self.pools[id - 1].shares;
        let available = Self::to_assets(&self.pools[base - 1], held)?;
        if amount > available {
            return Err("SlashExceedsAssets");
        }
        let (slashed, base_shares) =
            Self::tier_cut(&self.pools[base - 1], held, tier_shares, amount)?;
        if slashed.is_zero() {
            return Ok(U256::ZERO);
        }
        let p = &mut self.pools[id - 1];
        p.assets = held - base_shares;
        if p.assets.is_zero() {
            Self::reset(p);
        }
        // Paid in base shares, into the sink's base position: the base pool's totals and price do not move.
        let generation = self.pools[base - 1].generation;
        self.credit(base, sink, generation, base_shares)?;
        Ok(slashed)
    }

    /// (settledTo, shares, assets) of the matured, unsettled prefix of the queue.
    fn pending_settlement(p: &VPool, now: u64) -> Result<(usize, U256, U256), Rev> {
        let from = p.settled_count;
        let n = p.queue.len();
        if from == n || p.queue[from].maturity > now {
            return Ok((from, U256::ZERO, U256::ZERO));
        }
        let mut lo = from + 1;
        while lo < n && p.queue[lo].maturity <= now {
            lo += 1;
        }
        let cum_from = if from == 0 {
            U256::ZERO
        } else {
            p.queue[from - 1].cum
        };
        let shares = sub(sub(p.queue[lo - 1].cum, cum_from)?, p.early_claimed)?;
        let assets = Self::to_assets(p, shares)?;
        Ok((lo, shares, assets))
    }

    fn settle(p: &mut VPool, now: u64) -> Result<(), Rev> {
        let (settled_to, shares, assets) = Self::pending_settlement(p, now)?;
        if settled_to == p.settled_count {
            return Ok(());
        }
        p.batches.push(Batch {
            price_assets: p.assets + u(1),
            price_shares: p.shares + u(1),
            end: settled_to,
        });
        p.settled_count = settled_to;
        p.assets = sub(p.assets, assets)?;
        p.shares = sub(p.shares, shares)?;
        p.reserve += assets;
        p.early_claimed = U256::ZERO;
        Ok(())
    }

    fn reset(p: &mut VPool) {
        let n = p.queue.len();
        if n != p.settled_count {
            p.batches.push(Batch {
                price_assets: U256::ZERO,
                price_shares: u(1),
                end: n,
            });
            p.settled_count = n;
        }
        p.shares = U256::ZERO;
        p.early_claimed = U256::ZERO;
        p.generation += 1;
    }

    /// `StakeVault.slashableAssets`.
    fn slashable_assets(&self, id: usize) -> Result<U256, Rev> {
        let p = &self.pools[id - 1];
        let (_, _, pending) = Self::pending_settlement(p, self.now)?;
        let assets = sub(p.assets, pending)?;
        match p.base {
            None => Ok(assets),
            Some(_) if self.tier_ended(id) => Ok(U256::ZERO),
            Some(base) => Self::to_assets(&self.pools[base - 1], assets),
        }
    }

    fn preview_slash(&self, id: usize, amount: U256) -> Result<U256, Rev> {
        let p = &self.pools[id - 1];
        let (_, pending_shares, pending_assets) = Self::pending_settlement(p, self.now)?;
        let assets = sub(p.assets, pending_assets)?;
        let shares = sub(p.shares, pending_shares)?;
        let Some(base) = p.base else {
            return Ok(if amount > assets {
                U256::ZERO
            } else {
                Self::floor_cut(amount, assets, shares)
            });
        };
        if self.tier_ended(id) {
            return Ok(U256::ZERO);
        }
        let base = &self.pools[base - 1];
        if amount > Self::to_assets(base, assets)? {
            return Ok(U256::ZERO);
        }
        Ok(Self::tier_cut(base, assets, shares, amount)?.0)
    }

    fn vault_slash(&mut self, id: usize, amount: U256, sink: Holder) -> Result<U256, Rev> {
        if amount.is_zero() {
            return Err("ZeroAmount");
        }
        if self.pools[id - 1].base.is_some() {
            return self.slash_tier(id, amount, sink);
        }
        let now = self.now;
        let p = &mut self.pools[id - 1];
        Self::settle(p, now)?;
        let available = p.assets;
        if amount > available {
            return Err("SlashExceedsAssets");
        }
        let slashed = Self::floor_cut(amount, available, p.shares);
        if slashed.is_zero() {
            return Ok(U256::ZERO);
        }
        let remaining = available - slashed;
        p.assets = remaining;
        if remaining.is_zero() {
            Self::reset(p);
        }
        let asset = p.asset;
        let tracked = self.tracked.entry(asset).or_default();
        *tracked = sub(*tracked, slashed)?;
        *self.balances.entry((sink, asset)).or_default() += slashed;
        Ok(slashed)
    }

    // ------------------------------------------------------------------ manager

    fn is_slashable(&self, avs: usize, operator: usize) -> bool {
        let m = self
            .members
            .get(&(avs, operator))
            .copied()
            .unwrap_or_default();
        m.opted_in
            || (m.opted_out_at != 0 && self.now < m.opted_out_at + self.params.deallocation_delay)
    }

    /// `_viewPool`: the pool's state as its next touch will leave it, and its operator.
    fn view_pool(&self, id: usize) -> (PState, usize) {
        let (st, operator, _) = self.view_pool_settled(id);
        (st, operator)
    }

    /// `_viewPoolSettled`: the pool as `_syncPool` leaves it, and what a matured pending isolated increase adds to
    /// its allocation (`None` when none settles).
    fn view_pool_settled(&self, id: usize) -> (PState, usize, Option<U256>) {
        let p = &self.pools[id - 1];
        // `poolKey`: a tier whose base generation ended reports the generation its next touch gives it.
        let generation = p.generation + u32::from(self.tier_ended(id));
        let mut st = self.states.get(&id).copied().unwrap_or_default();
        let mut added = None;
        if st.total.is_zero() || st.generation != generation {
            st.total = unit();
            st.isolated = U256::ZERO;
            st.shared = U256::ZERO;
            st.pending_isolated = U256::ZERO;
            st.epoch = st.epoch.wrapping_add(1);
            st.generation = generation;
        } else if !st.pending_isolated.is_zero() && self.now >= st.pending_isolated_at {
            let free = st.total.saturating_sub(st.isolated);
            let add = st.pending_isolated.min(free);
            st.isolated += add;
            st.pending_isolated = U256::ZERO;
            added = Some(add);
        }
        (st, p.operator, added)
    }

    /// `_viewAllocation`: the pool and the allocation as `_syncPool` leaves them.
    fn view_alloc(&self, id: usize, avs: usize) -> (PState, usize, Alloc) {
        let (st, operator, added) = self.view_pool_settled(id);
        let mut a = self.allocs.get(&(id, avs)).copied().unwrap_or_default();
        if let Some(add) = added
            && avs == st.pending_isolated_avs
            && a.epoch == st.epoch
        {
            a.current += add;
            a.pending = a.current;
            a.effect_at = 0;
        }
        (st, operator, a)
    }

    /// `_syncPool`: writes what `view_pool` shows (the pending isolated increase's allocation included).
    fn sync_pool(&mut self, id: usize) -> usize {
        let stored_avs = self.states.get(&id).map_or(0, |st| st.pending_isolated_avs);
        let (st, operator, added) = self.view_pool_settled(id);
        if let Some(add) = added {
            let a = self.allocs.entry((id, stored_avs)).or_default();
            a.current += add;
            a.pending = a.current;
            a.effect_at = 0;
        }
        self.states.insert(id, st);
        operator
    }

    fn st(&mut self, id: usize) -> &mut PState {
        self.states.entry(id).or_default()
    }

    fn apply(&mut self, id: usize, avs: usize) -> Result<(), Rev> {
        let now = self.now;
        let st = self.states.get(&id).copied().unwrap_or_default();
        let a = self.allocs.entry((id, avs)).or_default();
        if a.epoch != st.epoch {
            *a = Alloc {
                epoch: st.epoch,
                ..Alloc::default()
            };
            return Ok(());
        }
        if a.effect_at == 0 || now < a.effect_at {
            return Ok(());
        }
        let (current, pending, mode) = (a.current, a.pending, a.mode);
        a.current = pending;
        a.effect_at = 0;
        if pending < current {
            let st = self.st(id);
            if mode == ISOLATED {
                st.isolated = sub(st.isolated, current - pending)?;
            } else {
                st.shared = sub(st.shared, current - pending)?;
            }
        }
        Ok(())
    }

    fn allocate(&mut self, id: usize, avs: usize, mode: u8, fraction: u64) -> Result<(), Rev> {
        if fraction > WAD {
            return Err("InvalidFraction");
        }
        let operator = self.sync_pool(id);
        self.apply(id, avs)?;
        let a = self.allocs.get(&(id, avs)).copied().unwrap_or_default();
        if a.effect_at != 0 {
            return Err("PendingChange");
        }
        let current = a.current;
        if !current.is_zero() && a.mode != mode {
            return Err("ModeMismatch");
        }
        let st = self.states.get(&id).copied().unwrap_or_default();
        let target = u(fraction) * st.total / wad();
        if target == current {
            return Err("NoChange");
        }
        let effect_at = if target > current {
            let member = self
                .members
                .get(&(avs, operator))
                .copied()
                .unwrap_or_default();
            if !member.opted_in {
                return Err("NotOptedIn");
            }
            let mut effect_at = self.now + self.params.allocation_delay;
            if mode == ISOLATED && effect_at <= st.slash_pending_until {
                effect_at = st.slash_pending_until + 1;
            }
            self.commit_increase(id, avs, mode, target - current, effect_at)?;
            effect_at
        } else {
            self.now + self.params.deallocation_delay
        };
        let a = self.allocs.entry((id, avs)).or_default();
        a.pending = target;
        a.effect_at = effect_at;
        a.mode = mode;
        Ok(())
    }

    fn commit_increase(
        &mut self,
        id: usize,
        avs: usize,
        mode: u8,
        delta: U256,
        effect_at: u64,
    ) -> Result<(), Rev> {
        let st = self.st(id);
        let total = st.total;
        let mut isolated = st.isolated;
        let mut shared = st.shared;
        if mode == ISOLATED {
            // Not booked: it stays in the shared stake until it takes effect; one per pool at a time.
            if !st.pending_isolated.is_zero() {
                return Err("IsolatedIncreasePending");
            }
            isolated += delta;
            if isolated > total {
                return Err("IsolatedOverCommitted");
            }
            st.pending_isolated = delta;
            st.pending_isolated_at = effect_at;
            st.pending_isolated_avs = avs;
        } else {
            shared += delta;
            st.shared = shared;
            // As if the pending isolated increase were in effect (`_commitIncrease`).
            isolated += st.pending_isolated;
        }
        // Default reuse cap 3x (no governance call changes it here); the path maximum (20x) is above it, and above a
        // tier's path (3x · 3x = 9x), so `PathReuseTooHigh` cannot happen.
        let limit = total.saturating_sub(isolated) * u(30_000) / u(BPS);
        if shared > limit {
            return Err("ReuseCapExceeded");
        }
        Ok(())
    }

    /// `_guardState`: (both windows compounded, the previous window's loss, the current window's loss).
    fn guard_state(&self, st: &PState) -> Result<(U256, U256, U256), Rev> {
        // The guard's window never changes here (no governance call), so nothing is merged.
        let window = self.now / self.params.guard_window;
        let last = st.guard_at / self.params.guard_window;
        let (previous, current) = if window == last + 1 {
            (st.guard_current, U256::ZERO)
        } else if window > last + 1 {
            (U256::ZERO, U256::ZERO)
        } else {
            (st.guard_previous, st.guard_current)
        };
        let used = previous + mul_div_ceil(current, sub(wad(), previous)?, wad())?;
        Ok((used, previous, current))
    }

    /// `_sharedWeight`: at most the shared stake, scaled to the 3x default cap when the committed shared limits
    /// exceed it.
    fn shared_weight(st: &PState, weight: U256) -> Result<U256, Rev> {
        let stake = sub(st.total, st.isolated)?;
        let weight = weight.min(stake);
        let limit = stake * u(30_000) / u(BPS);
        if st.shared > limit {
            mul_div(weight, limit, st.shared)
        } else {
            Ok(weight)
        }
    }

    fn slashable_weight(st: &PState, a: &Alloc) -> Result<U256, Rev> {
        if a.mode == SHARED {
            return Self::shared_weight(st, a.current);
        }
        Ok(a.current)
    }

    fn check_fraction(&self, avs: usize, fraction: u64) -> Result<(), Rev> {
        if fraction == 0 || fraction > WAD {
            return Err("InvalidFraction");
        }
        if fraction > self.avs_max[avs] {
            return Err("SlashAboveMax");
        }
        Ok(())
    }

    fn slash(
        &mut self,
        spec: &Spec,
        avs: usize,
        id: usize,
        fraction: u64,
    ) -> Result<SlashOut, Rev> {
        self.check_fraction(avs, fraction)?;
        let operator = self.sync_pool(id);
        let st = self.states[&id];
        let a = self.allocs.get(&(id, avs)).copied().unwrap_or_default();
        if !self.is_slashable(avs, operator) || a.epoch != st.epoch || a.mode == mode::NONE {
            return Err("NotSlashable");
        }
        self.apply(id, avs)?;
        let st = self.states[&id];
        let a = self.allocs[&(id, avs)];
        let value = self.slashable_assets(id)?;
        let weight = Self::slashable_weight(&st, &a)?;
        // A tier is slashed like any pool (its value: its base shares in the base asset); the vault pays it in base
        // shares, so its base pool is not touched.
        let backing = match self.mutation {
            Mutation::CeilSlashAmount => mul_div_ceil(weight, value, st.total)?,
            _ => mul_div(weight, value, st.total)?,
        };
        let requested = backing * u(fraction) / wad();
        let allowed = self.guard(id, requested, value)?;
        let amount = self.preview_slash(id, allowed)?;
        if !amount.is_zero() {
            self.remove_weight(id, avs, amount, value)?;
            let sink = spec.sink_of(avs);
            self.vault_slash(id, amount, sink)?;
        }
        Ok(SlashOut {
            pool: id,
            amount,
            requested,
            allowed,
            backing,
            mode: a.mode,
        })
    }

    /// `_guardAllowance`: (allowed, previous window's loss, current window's loss after it).
    fn guard_allowance(
        &self,
        id: usize,
        amount: U256,
        value: U256,
    ) -> Result<(U256, U256, U256), Rev> {
        let st = self.states.get(&id).copied().unwrap_or_default();
        let (used, previous, mut current) = self.guard_state(&st)?;
        if amount.is_zero() {
            return Ok((U256::ZERO, previous, current));
        }
        let cap = u(self.params.guard_max);
        let loss = mul_div_ceil(amount, wad(), value)?;
        let mut allowed = U256::ZERO;
        if used + mul_div_ceil(loss, sub(wad(), used)?, wad())? <= cap {
            allowed = amount;
            current += mul_div_ceil(loss, sub(wad(), current)?, wad())?;
        } else if used < cap {
            allowed = amount.min(mul_div(cap - used, value, wad() - used)?);
            current = mul_div_ceil(cap - previous, wad(), wad() - previous)?;
        }
        Ok((allowed, previous, current))
    }

    fn guard(&mut self, id: usize, amount: U256, value: U256) -> Result<U256, Rev> {
        if amount.is_zero() {
            return Ok(U256::ZERO);
        }
        let (allowed, previous, current) = self.guard_allowance(id, amount, value)?;
        let now = self.now;
        let st = self.st(id);
        st.guard_previous = previous;
        st.guard_current = current;
        st.guard_at = now;
        Ok(allowed)
    }

    fn remove_weight(
        &mut self,
        id: usize,
        avs: usize,
        amount: U256,
        value: U256,
    ) -> Result<(), Rev> {
        let st = self.states[&id];
        let a = self.allocs[&(id, avs)];
        let total = st.total;
        let raw = match self.mutation {
            Mutation::FloorWeightCut => mul_div(total, amount, value)?,
            _ => mul_div_ceil(total, amount, value)?,
        };
        let cut = raw.min(Self::slashable_weight(&st, &a)?);
        let a = self.allocs.get_mut(&(id, avs)).ok_or("Panic")?;
        a.current = sub(a.current, cut)?;
        a.pending -= cut.min(a.pending);
        let mode = a.mode;
        let st = self.st(id);
        st.total = total - cut;
        if mode == ISOLATED {
            st.isolated = sub(st.isolated, cut)?;
        } else {
            st.shared = sub(st.shared, cut)?;
        }
        Ok(())
    }

    /// `slashableBacking(avs, pool)`.
    fn slashable_backing(&self, avs: usize, id: usize) -> Result<U256, Rev> {
        let (st, operator, a) = self.view_alloc(id, avs);
        if !self.is_slashable(avs, operator) {
            return Ok(U256::ZERO);
        }
        if a.epoch != st.epoch || a.mode == mode::NONE {
            return Ok(U256::ZERO);
        }
        let mut st = st;
        let mut weight = a.current;
        if a.effect_at != 0 && self.now >= a.effect_at {
            // As `_apply` will at the slash: a matured decrease also frees its committed weight.
            weight = a.pending;
            if weight < a.current {
                if a.mode == ISOLATED {
                    st.isolated = sub(st.isolated, a.current - weight)?;
                } else {
                    st.shared = sub(st.shared, a.current - weight)?;
                }
            }
        }
        if a.mode == SHARED {
            weight = Self::shared_weight(&st, weight)?;
        }
        mul_div(weight, self.slashable_assets(id)?, st.total)
    }

    fn request_slash(&mut self, avs: usize, id: usize, fraction: u64) -> Result<u64, Rev> {
        let Some(window) = self.avs_veto[avs] else {
            return Err("NoVetoFlow");
        };
        self.check_fraction(avs, fraction)?;
        if self.slashable_backing(avs, id)?.is_zero() {
            return Err("NotSlashable");
        }
        let executable_at = self.now + window;
        self.requests.push(Request {
            avs,
            pool: id,
            fraction,
            executable_at,
            status: Status::Pending,
        });
        // `_announce`: on this pool only (a tier slash never touches its base).
        let until = executable_at + self.params.execution_window;
        let st = self.st(id);
        st.slash_pending_until = st.slash_pending_until.max(until);
        Ok(self.requests.len() as u64)
    }

    fn pending_request(&self, rid: u64) -> Result<usize, Rev> {
        let i = (rid as usize).checked_sub(1).ok_or("UnknownRequest")?;
        let r = self.requests.get(i).ok_or("UnknownRequest")?;
        if r.status != Status::Pending {
            return Err("RequestNotPending");
        }
        Ok(i)
    }

    fn veto(&mut self, rid: u64) -> Result<(), Rev> {
        let i = self.pending_request(rid)?;
        if self.now >= self.requests[i].executable_at {
            return Err("VetoWindowClosed");
        }
        self.requests[i].status = Status::Vetoed;
        Ok(())
    }

    fn execute(&mut self, spec: &Spec, rid: u64) -> Result<SlashOut, Rev> {
        let i = self.pending_request(rid)?;
        let r = self.requests[i];
        if self.now < r.executable_at {
            return Err("VetoWindowOpen");
        }
        if self.now > r.executable_at + self.params.execution_window {
            return Err("RequestExpired");
        }
        self.requests[i].status = Status::Executed;
        let out = self.slash(spec, r.avs, r.pool, r.fraction)?;
        // A request is used up only by what was taken: the rest of a cut one stays executable.
        if out.amount < out.requested {
            let rest = ((out.requested - out.amount) * wad() / (out.backing - out.amount))
                .min(u(r.fraction));
            if !rest.is_zero() {
                self.requests[i].status = Status::Pending;
                self.requests[i].fraction = rest.to::<u64>();
            }
        }
        Ok(out)
    }

    // ------------------------------------------------------------------ views the runner checks

    /// `poolRisk`: (value, totalIsolated, sharedStake, reuseRatioWad, guardUsedWad).
    pub fn risk(&self, id: usize) -> Result<[U256; 5], Rev> {
        let (st, _) = self.view_pool(id);
        let value = self.slashable_assets(id)?;
        let isolated = mul_div(st.isolated, value, st.total)?;
        let shared_stake = sub(value, isolated)?;
        let limit = sub(st.total, st.isolated)? * u(30_000) / u(BPS);
        let shared = mul_div(st.shared.min(limit), value, st.total)?;
        let ratio = if shared_stake.is_zero() {
            if shared.is_zero() {
                U256::ZERO
            } else {
                U256::MAX
            }
        } else {
            shared * wad() / shared_stake
        };
        let (guard, _, _) = self.guard_state(&st)?;
        Ok([value, isolated, shared_stake, ratio, guard])
    }

    /// `slashableBacking(avs, pool)`.
    pub fn backing(&self, avs: usize, id: usize) -> Result<U256, Rev> {
        self.slashable_backing(avs, id)
    }

    /// The value of a holder's position (`positionsOf`), zero without one.
    pub fn position(&self, holder: Holder, id: usize) -> Result<U256, Rev> {
        let Some(pos) = self.positions.get(&(id, holder)) else {
            return Ok(U256::ZERO);
        };
        let p = &self.pools[id - 1];
        if pos.generation != p.generation || self.tier_ended(id) {
            return Ok(U256::ZERO);
        }
        let value = Self::to_assets(p, pos.shares)?;
        self.in_base_asset(id, value)
    }

    /// A tier's amounts are base shares: their value in the base asset (`convertToAssets` of the base).
    fn in_base_asset(&self, id: usize, amount: U256) -> Result<U256, Rev> {
        match self.pools[id - 1].base {
            None => Ok(amount),
            Some(base) => Self::to_assets(&self.pools[base - 1], amount),
        }
    }

    /// What a staker's unclaimed withdrawals from a pool would pay now (`withdrawalsOf`).
    pub fn escrow(&self, staker: usize, id: usize) -> Result<U256, Rev> {
        let p = &self.pools[id - 1];
        let ended = self.tier_ended(id);
        let dead_below = self.tier_dead_below.get(&id).copied().unwrap_or(0);
        let mut total = U256::ZERO;
        for (index, e) in p.queue.iter().enumerate() {
            if e.staker != staker || e.claimed || ended || index < dead_below {
                continue;
            }
            let shares = Self::entry_shares(p, index);
            total += if index < p.settled_count {
                Self::batch_value(p, index, shares)?
            } else {
                Self::to_assets(p, shares)?
            };
        }
        self.in_base_asset(id, total)
    }

    /// When a queued withdrawal matures.
    pub fn maturity(&self, wid: U256) -> u64 {
        let id: usize = (wid >> 64usize).to::<usize>();
        let index: usize = (wid & U256::from(u64::MAX)).to();
        self.pools[id - 1].queue[index].maturity
    }

    /// When a still-pending request (by label) becomes executable.
    pub fn executable_at(&self, label: usize) -> Option<u64> {
        let rid = *self.request_ids.get(&label)?;
        let r = self.requests.get(rid as usize - 1)?;
        (r.status == Status::Pending).then_some(r.executable_at)
    }

    /// `getPool`: [slashableAssets, totalShares, escrowedShares, reserve, sharePrice, generation, queueLength,
    /// settledCount].
    pub fn pool_view(&self, id: usize) -> Result<[U256; 8], Rev> {
        let p = &self.pools[id - 1];
        let (settled_to, pending_shares, pending_assets) = Self::pending_settlement(p, self.now)?;
        let assets = sub(p.assets, pending_assets)?;
        let shares = sub(p.shares, pending_shares)?;
        let queued = p.queue.last().map_or(U256::ZERO, |e| e.cum);
        let settled_cum = if settled_to == 0 {
            U256::ZERO
        } else {
            p.queue[settled_to - 1].cum
        };
        let n = U256::from(p.queue.len());
        if self.tier_ended(id) {
            // `_asReset`: shown as its next touch will leave it.
            return Ok([
                U256::ZERO,
                U256::ZERO,
                U256::ZERO,
                U256::ZERO,
                wad(),
                U256::from(p.generation + 1),
                n,
                n,
            ]);
        }
        Ok([
            assets,
            shares,
            sub(queued, settled_cum)?,
            p.reserve + pending_assets,
            mul_div(wad(), assets + u(1), shares + u(1))?,
            U256::from(p.generation),
            n,
            U256::from(settled_to),
        ])
    }

    /// `getAllocation`: [current, pending, effectAt, mode, epoch].
    pub fn allocation_view(&self, avs: usize, id: usize) -> [U256; 5] {
        let (st, _, mut a) = self.view_alloc(id, avs);
        if a.epoch != st.epoch {
            return [
                U256::ZERO,
                U256::ZERO,
                U256::ZERO,
                U256::ZERO,
                U256::from(st.epoch),
            ];
        }
        if a.effect_at != 0 && self.now >= a.effect_at {
            a.current = a.pending;
            a.effect_at = 0;
        }
        [
            a.current,
            a.pending,
            U256::from(a.effect_at),
            U256::from(a.mode),
            U256::from(a.epoch),
        ]
    }

    /// `avsBacking(avs).total`: the AVS's slashable backing summed over every pool.
    pub fn avs_total(&self, avs: usize) -> Result<U256, Rev> {
        let mut total = U256::ZERO;
        for id in 1..=self.pools.len() {
            let (st, _, a) = self.view_alloc(id, avs);
            if a.epoch != st.epoch
                || a.mode == mode::NONE
                || (a.current.is_zero() && a.pending.is_zero())
            {
                continue;
            }
            total += self.slashable_backing(avs, id)?;
        }
        Ok(total)
    }

    /// Pool generations ended by full slashes (tier resets included).
    pub fn resets(&self) -> u64 {
        self.pools.iter().map(|p| u64::from(p.generation)).sum()
    }

    /// Whether vault pool `id` is a tier.
    pub fn is_tier(&self, id: usize) -> bool {
        self.pools[id - 1].base.is_some()
    }

    /// A staker's live shares of a pool (zero for shares of an ended generation).
    pub fn shares(&self, staker: usize, id: usize) -> U256 {
        match self.positions.get(&(id, Holder::Staker(staker))) {
            Some(pos) if pos.generation == self.pools[id - 1].generation => pos.shares,
            _ => U256::ZERO,
        }
    }

    /// ERC-20 balance of a holder.
    pub fn balance(&self, holder: Holder, asset: usize) -> U256 {
        self.balances
            .get(&(holder, asset))
            .copied()
            .unwrap_or_default()
    }

    /// Whether `avs` has (or had) an allocation record in vault pool `id`.
    pub fn has_allocation(&self, id: usize, avs: usize) -> bool {
        self.allocs.contains_key(&(id, avs))
    }

    /// Vault pool ids in use.
    pub fn pool_count(&self) -> usize {
        self.pools.len()
    }
}

//! Random chained-slash scenarios, reproducible from a seed. The generator plays each step on the model as it
//! goes, so it can aim (claim what was queued, execute what was requested, slash where there is an allocation)
//! while still sending steps that revert on purpose.
//!
//! A share of the scenarios ([`REPUTATION_PCT`]) turn the reputation layer on: their AVSs bond at setup, and their
//! timelines mix in bonds, bond withdrawals, epochs with checkpoints, standings, re-pricing, held bonds, reported
//! slashes and wrongful requests that are vetoed (and pay a penalty). Those choices come from a second generator
//! seeded from the scenario's seed, so a scenario without reputation is the one the same seed always gave.
//!
//! Another share ([`PAYMENT_PCT`]) turn payments on: the reward rail's steps (rewards turned on, payments, commission
//! changes, claims of positions', withdrawals' and operators' rewards) after the random steps, from a third
//! generator of their own, so a scenario without payments is again the one its seed gave before.

mod payments;
mod reputation;

use std::collections::BTreeSet;

use alloy::primitives::U256;
use bulkhead_contracts::Mode;
use bulkhead_rng::SplitMix64;
use bulkhead_scenario::{Action, Amount};

use crate::{
    model::{Model, Mutation, WAD},
    spec::{AvsSpec, PoolSpec, Spec, Step, decimals, symbol},
};

/// Percentage of scenarios with the reputation layer on.
pub const REPUTATION_PCT: u64 = 35;
/// Chance (percent) that a random step of a scenario with reputation is followed by a reputation step.
const REPUTATION_STEP_PCT: u64 = 45;
/// Mixed into a scenario's seed for its reputation choices.
const REPUTATION_SALT: u64 = 0x5245_5055_5441_5449;
/// Percentage of scenarios with payments through the reward rail.
pub const PAYMENT_PCT: u64 = 50;
/// Chance (percent) that a random step of a scenario with payments is followed by a rail step.
const PAYMENT_STEP_PCT: u64 = 60;
/// Mixed into a scenario's seed for its payment choices.
const PAYMENT_SALT: u64 = 0x5041_594d_454e_5453;

/// The seed of scenario `index` of a run seeded with `seed`: any scenario can be regenerated on its own.
pub fn scenario_seed(seed: u64, index: u64) -> u64 {
    let mut rng = SplitMix64::new(seed ^ index.wrapping_mul(0xD134_2543_DE82_EF95));
    rng.next_u64()
}

/// How long the generated timelines are.
#[derive(Debug, Clone, Copy)]
pub struct GenConfig {
    /// Fewest random steps after the set-up (deposits, allocations, the allocation delay).
    pub min_steps: u64,
    /// Most random steps after the set-up.
    pub max_steps: u64,
}

impl Default for GenConfig {
    fn default() -> Self {
        Self {
            min_steps: 10,
            max_steps: 24,
        }
    }
}

/// A fraction: half the time a multiple of 5%, otherwise any WAD value in (0, 1].
fn fraction(rng: &mut SplitMix64, lo_pct: u64, hi_pct: u64) -> u64 {
    let (lo5, hi5) = (lo_pct.div_ceil(5).max(1), hi_pct / 5);
    if hi5 >= lo5 && rng.chance(50, 100) {
        rng.range(lo5, hi5) * 5 * (WAD / 100)
    } else {
        rng.range(lo_pct * (WAD / 100), hi_pct * (WAD / 100)).max(1)
    }
}

fn amount(rng: &mut SplitMix64, asset: usize) -> U256 {
    let unit = U256::from(10u64).pow(U256::from(decimals(asset)));
    if rng.chance(4, 100) {
        // A few raw units; a single one is worth less than a share once the price is above 1 (`DepositTooSmall`).
        return U256::from(if rng.chance(30, 100) {
            1
        } else {
            rng.range(1, 1_000)
        });
    }
    let whole = U256::from(rng.range(1, 1_000)) * unit;
    if rng.chance(50, 100) {
        whole + U256::from(rng.next_u64()) % unit
    } else {
        whole
    }
}

struct Builder {
    spec: Spec,
    model: Model,
    rng: SplitMix64,
    /// The reputation choices (a generator of their own).
    rrng: SplitMix64,
    /// The payment choices (a generator of their own).
    prng: SplitMix64,
    /// Whether the scenario pays pools through the reward rail.
    payments: bool,
    /// The chain's timestamp at deployment: the reputation contract's genesis.
    genesis: u64,
    labels: usize,
    /// Request labels and the AVS that filed each.
    requests: Vec<(String, usize)>,
    /// Withdrawal labels and the staker (index) that queued each.
    queued: Vec<(String, usize)>,
    wipe: Option<(usize, usize)>,
}

impl Builder {
    fn push(&mut self, step: impl Into<Step>) {
        let step = step.into();
        // The generator only sends steps the runner can send: the model says which.
        if self.model.step(&self.spec, &step).is_ok() {
            self.spec.steps.push(step);
        }
    }

    fn allocated_pair(&mut self) -> Option<(usize, usize)> {
        let pairs: Vec<(usize, usize)> = (0..self.spec.pools.len())
            .flat_map(|p| (0..self.spec.avs.len()).map(move |a| (p, a)))
            .filter(|&(p, a)| {
                self.model
                    .pool_id(&self.spec, p)
                    .is_some_and(|id| self.model.has_allocation(id, a))
            })
            .collect();
        (!pairs.is_empty()).then(|| pairs[self.rng.pick(pairs.len())])
    }

    fn existing_pool(&mut self) -> Option<usize> {
        let pools: Vec<usize> = (0..self.spec.pools.len())
            .filter(|&p| self.model.pool_id(&self.spec, p).is_some())
            .collect();
        (!pools.is_empty()).then(|| pools[self.rng.pick(pools.len())])
    }

    fn slash(&mut self) {
        if let Some((pool, avs)) = self.wipe
            && self.rng.chance(25, 100)
        {
            self.push(Action::Slash {
                avs,
                pool,
                fraction: WAD,
                by: None,
            });
            return;
        }
        let (pool, avs) = match self.allocated_pair() {
            Some(pair) if self.rng.chance(85, 100) => pair,
            _ => match self.existing_pool() {
                Some(p) => (p, self.rng.pick(self.spec.avs.len())),
                None => return,
            },
        };
        let max = self.spec.avs[avs].max_slash;
        let f = if self.rng.chance(90, 100) {
            let hi = (max / (WAD / 100)).max(1);
            fraction(&mut self.rng, 1, hi).min(max)
        } else {
            fraction(&mut self.rng, 1, 100)
        };
        let veto = self.spec.avs[avs].veto_window.is_some();
        if veto && self.rng.chance(85, 100) {
            let label = format!("r{}", self.next_label());
            self.requests.push((label.clone(), avs));
            self.push(Action::RequestSlash {
                avs,
                pool,
                fraction: f,
                label: Some(label),
                by: None,
                voters: None,
            });
        } else {
            self.push(Action::Slash {
                avs,
                pool,
                fraction: f,
                by: None,
            });
        }
    }

    /// A staker moves part of its base shares into a tier.
    fn tier_deposit(&mut self) {
        let tiers: Vec<(usize, usize)> = (0..self.spec.pools.len())
            .filter_map(|p| self.spec.pools[p].tier_of.map(|b| (p, b)))
            .collect();
        if tiers.is_empty() {
            return;
        }
        let (pool, base) = tiers[self.rng.pick(tiers.len())];
        let Some(base_id) = self.model.pool_id(&self.spec, base) else {
            return;
        };
        let staker = self.holder(base_id);
        let held = self.model.shares(staker, base_id);
        let shares = if held.is_zero() || self.rng.chance(5, 100) {
            U256::from(self.rng.range(1, 1_000))
        } else {
            held * U256::from(fraction(&mut self.rng, 1, 100)) / U256::from(WAD)
        };
        self.push(Action::DepositToTier {
            staker: self.spec.stakers[staker].clone(),
            pool,
            shares,
        });
    }

    /// Mostly a staker holding live shares of pool `id`, sometimes anyone.
    fn holder(&mut self, id: usize) -> usize {
        let holders: Vec<usize> = (0..self.spec.stakers.len())
            .filter(|&s| !self.model.shares(s, id).is_zero())
            .collect();
        if holders.is_empty() || self.rng.chance(10, 100) {
            self.rng.pick(self.spec.stakers.len())
        } else {
            holders[self.rng.pick(holders.len())]
        }
    }

    fn next_label(&mut self) -> usize {
        self.labels += 1;
        self.labels
    }

    /// A random step, and with reputation on now and then a reputation step after it (so a scenario with
    /// reputation keeps the mix of steps of one without).
    fn random_step(&mut self) {
        self.plain_step();
        if self.spec.reputation.is_some() && self.rrng.chance(REPUTATION_STEP_PCT, 100) {
            self.reputation_step();
        }
        if self.payments && self.prng.chance(PAYMENT_STEP_PCT, 100) {
            self.payment_step();
        }
    }

    fn plain_step(&mut self) {
        match self.rng.below(100) {
            0..=29 => self.slash(),
            30..=34 => self.tier_deposit(),
            35..=39 => self.deposit(),
            40..=49 => self.queue(),
            50..=57 => self.claim(),
            58..=71 => self.warp(),
            72..=76 => self.deallocate(),
            77..=83 => self.allocate(),
            84..=86 => {
                let operator =
                    self.spec.operators[self.rng.pick(self.spec.operators.len())].clone();
                let avs = self.rng.pick(self.spec.avs.len());
                self.push(Action::OptOut { operator, avs });
            }
            87..=88 => {
                let operator =
                    self.spec.operators[self.rng.pick(self.spec.operators.len())].clone();
                let avs = self.rng.pick(self.spec.avs.len());
                self.push(Action::OptIn { operator, avs });
            }
            89..=92 => {
                if let Some((label, avs)) = self.requests.last().cloned()
                    && self.model.request_filed(&label)
                {
                    self.push(Action::Veto {
                        avs,
                        request: Some(label),
                        by: None,
                    });
                }
            }
            _ => self.execute(),
        }
    }

    /// A deposit of a random amount into a base pool.
    fn deposit(&mut self) {
        let bases: Vec<usize> = (0..self.spec.pools.len())
            .filter(|&p| self.spec.pools[p].tier_of.is_none())
            .collect();
        let pool = bases[self.rng.pick(bases.len())];
        let staker = self.spec.stakers[self.rng.pick(self.spec.stakers.len())].clone();
        let amount = amount(&mut self.rng, self.spec.pools[pool].asset);
        self.push(Action::Deposit {
            staker,
            pool,
            amount,
        });
    }

    /// A withdrawal of part (or all) of a holder's shares; a queued one is remembered for a later claim.
    fn queue(&mut self) {
        let Some(pool) = self.existing_pool() else {
            return;
        };
        let id = self.model.pool_id(&self.spec, pool).expect("exists");
        let staker = self.holder(id);
        let f = if self.rng.chance(25, 100) {
            WAD
        } else {
            fraction(&mut self.rng, 1, 100)
        };
        let label = format!("w{}", self.next_label());
        self.push(Action::QueueWithdrawal {
            staker: self.spec.stakers[staker].clone(),
            pool,
            amount: Amount::Fraction(f),
            label: Some(label.clone()),
        });
        if self.model.withdrawal(&label).is_some() {
            self.queued.push((label, staker));
        }
    }

    /// A claim, mostly of a matured withdrawal (or after waiting for one to mature).
    fn claim(&mut self) {
        if self.queued.is_empty() {
            return;
        }
        let now = self.model.now;
        let matured: Vec<(String, usize)> = self
            .queued
            .iter()
            .filter(|(label, _)| {
                self.model
                    .withdrawal(label)
                    .is_some_and(|(_, wid)| self.model.maturity(wid) <= now)
            })
            .cloned()
            .collect();
        let (label, staker) = if !matured.is_empty() && self.rng.chance(75, 100) {
            matured[self.rng.pick(matured.len())].clone()
        } else {
            let (label, staker) = self.queued[self.rng.pick(self.queued.len())].clone();
            // Often wait for it to mature (slashes in between still hit it while it is in escrow).
            if let Some((_, wid)) = self.model.withdrawal(&label) {
                let maturity = self.model.maturity(wid);
                if maturity > now && self.rng.chance(60, 100) {
                    let seconds = maturity - now + self.rng.below(2 * 86_400);
                    self.push(Action::Warp { seconds });
                }
            }
            (label, staker)
        };
        self.push(Action::Claim {
            staker: self.spec.stakers[staker].clone(),
            withdrawal: Some(label),
            receiver: None,
        });
    }

    /// Time passes: minutes to days, sometimes just past the escrow delay.
    fn warp(&mut self) {
        let seconds = match self.rng.below(4) {
            0 => self.rng.range(60, 12 * 3_600),
            1 => self.rng.range(3_600, 3 * 86_400),
            2 => 7 * 86_400 + self.rng.below(3_600),
            _ => self.rng.range(86_400, 9 * 86_400),
        };
        self.push(Action::Warp { seconds });
    }

    /// An existing allocation lowered (half the time to zero).
    fn deallocate(&mut self) {
        let Some((pool, avs)) = self.allocated_pair() else {
            return;
        };
        let f = if self.rng.chance(50, 100) {
            0
        } else {
            fraction(&mut self.rng, 1, 60)
        };
        self.push(Action::Deallocate {
            pool,
            avs,
            fraction: f,
            by: None,
        });
    }

    /// A random allocation of an existing pool to a random AVS.
    fn allocate(&mut self) {
        let Some(pool) = self.existing_pool() else {
            return;
        };
        let avs = self.rng.pick(self.spec.avs.len());
        let mode = if self.rng.chance(35, 100) {
            Mode::Isolated
        } else {
            Mode::Shared
        };
        let f = fraction(&mut self.rng, 1, 100);
        self.push(Action::Allocate {
            pool,
            avs,
            mode,
            fraction: f,
            by: None,
            opt_in: true,
        });
    }

    /// The execution of a filed request, mostly inside its execution window.
    fn execute(&mut self) {
        if self.requests.is_empty() {
            return;
        }
        let (label, avs) = self.requests[self.rng.pick(self.requests.len())].clone();
        if !self.model.request_filed(&label) {
            return;
        }
        // Mostly inside the execution window: warp there first if needed.
        if let Some(at) = self.model.executable_at(&label)
            && self.rng.chance(70, 100)
            && self.model.now < at
        {
            let seconds = at - self.model.now + self.rng.below(3_600);
            self.push(Action::Warp { seconds });
        }
        self.push(Action::ExecuteSlash {
            avs,
            request: Some(label),
            by: None,
        });
    }
}

/// The model's parameters for a spec: the deployment defaults and the spec's guard.
pub fn params(spec: &Spec) -> crate::model::Params {
    let defaults = bulkhead_evm::DeployConfig::default();
    let (guard_max, guard_window) = spec.guard.unwrap_or((WAD / 2, 86_400));
    crate::model::Params {
        escrow_delay: defaults.escrow_delay,
        allocation_delay: defaults.allocation_delay,
        deallocation_delay: defaults.deallocation_delay,
        execution_window: defaults.execution_window,
        guard_max,
        guard_window: u64::from(guard_window),
        epoch_length: defaults.epoch_length,
        bond_delay: defaults.deallocation_delay,
    }
}

/// Scenario `seed`: 1–3 operators, 1–3 assets, 2–8 stakers, 2–6 AVSs (some with a veto flow), up to 4 pools,
/// deposits, isolated and shared allocations, the allocation delay, then random steps with at least 3 slashes; with
/// reputation or payments on, their steps too.
/// `start` is the chain's timestamp when the timeline begins.
pub fn generate(seed: u64, config: GenConfig, start: u64) -> Spec {
    let mut rng = SplitMix64::new(seed);
    let (mut spec, wipe) = world(&mut rng, seed);
    let mut rrng = SplitMix64::new(seed ^ REPUTATION_SALT);
    reputation(&mut rrng, &mut spec, wipe);
    let mut prng = SplitMix64::new(seed ^ PAYMENT_SALT);
    let payments = prng.chance(PAYMENT_PCT, 100);
    let model = Model::new(&spec, params(&spec), start, Mutation::None);
    let mut b = Builder {
        spec,
        model,
        rng,
        rrng,
        prng,
        payments,
        genesis: start,
        labels: 0,
        requests: Vec::new(),
        queued: Vec::new(),
        wipe,
    };
    b.initial_deposits();
    b.initial_allocations();
    b.season();
    for _ in 0..b.rng.range(config.min_steps, config.max_steps) {
        b.random_step();
    }
    b.at_least_three_slashes();
    b.spec
}

/// Who takes part (operators, stakers, pools, AVSs, the guard), without steps; and the (pool, AVS) meant to be
/// wiped out, if any.
fn world(rng: &mut SplitMix64, seed: u64) -> (Spec, Option<(usize, usize)>) {
    let n_ops = rng.range(1, 3) as usize;
    let mut assets = vec![0usize, 1, 2];
    for i in (1..assets.len()).rev() {
        let j = rng.pick(i + 1);
        assets.swap(i, j);
    }
    assets.truncate(rng.range(1, 3) as usize);
    let n_stakers = rng.range(2, 8) as usize;
    let n_avs = rng.range(2, 6) as usize;

    let operators: Vec<String> = (1..=n_ops).map(|i| format!("operator{i}")).collect();
    let stakers: Vec<String> = (1..=n_stakers).map(|i| format!("staker{i}")).collect();
    let pools = pools(rng, n_ops, &assets);
    let mut avs: Vec<AvsSpec> = (1..=n_avs)
        .map(|i| AvsSpec {
            name: format!("avs{i}"),
            max_slash: if rng.chance(60, 100) {
                WAD
            } else {
                fraction(rng, 10, 100)
            },
            veto_window: rng.chance(20, 100).then(|| rng.range(3_600, 47 * 3_600)),
            burn: rng.chance(15, 100),
            bond: Vec::new(),
        })
        .collect();
    let mut guard = rng
        .chance(50, 100)
        .then(|| (fraction(rng, 15, 100), rng.range(3_600, 3 * 86_400) as u32));
    // Sometimes a pool is meant to be wiped out: a guard that allows 100%, an instant AVS allowed to take it all
    // with an isolated 100% allocation, and 100% slashes, so pools reset (new generation) and go on.
    let wipe = rng.chance(15, 100).then(|| {
        guard = Some((WAD, rng.range(3_600, 3 * 86_400) as u32));
        let avs_index = rng.pick(avs.len());
        avs[avs_index].max_slash = WAD;
        avs[avs_index].veto_window = None;
        (rng.pick(pools.len()), avs_index)
    });
    let spec = Spec {
        seed,
        operators,
        stakers,
        avs,
        pools,
        guard,
        reputation: None,
        steps: Vec::new(),
    };
    (spec, wipe)
}

/// In [`REPUTATION_PCT`]% of scenarios, the reputation layer: evidence units for most of the pools' assets (1–300
/// whole tokens at stake for a full unit), a quarter of the instant AVSs turned veto-flow (vetoes are what cost
/// penalties; not the one meant to wipe a pool out), and setup bonds for most AVSs in most assets (an AVS without
/// one receives nothing).
fn reputation(rng: &mut SplitMix64, spec: &mut Spec, wipe: Option<(usize, usize)>) {
    if !rng.chance(REPUTATION_PCT, 100) {
        return;
    }
    let assets: BTreeSet<usize> = spec.pools.iter().map(|p| p.asset).collect();
    let mut units = Vec::new();
    for &a in &assets {
        if rng.chance(85, 100) {
            units.push((a, U256::from(rng.range(1, 300)) * whole(a)));
        }
    }
    spec.reputation = Some(units);
    for (i, avs) in spec.avs.iter_mut().enumerate() {
        if wipe.map(|(_, w)| w) != Some(i) && avs.veto_window.is_none() && rng.chance(25, 100) {
            avs.veto_window = Some(rng.range(3_600, 47 * 3_600));
        }
        if rng.chance(92, 100) {
            for &a in &assets {
                if rng.chance(80, 100) {
                    avs.bond.push((a, bond_amount(rng, a)));
                }
            }
            if let (true, Some(&a)) = (avs.bond.is_empty(), assets.first()) {
                avs.bond.push((a, bond_amount(rng, a)));
            }
        }
    }
}

/// One whole token of `asset` in base units.
fn whole(asset: usize) -> U256 {
    U256::from(10u64).pow(U256::from(decimals(asset)))
}

/// A bond: 1–1,500 whole tokens, half the time with a sub-unit remainder.
fn bond_amount(rng: &mut SplitMix64, asset: usize) -> U256 {
    let unit = whole(asset);
    let amount = U256::from(rng.range(1, 1_500)) * unit;
    if rng.chance(50, 100) {
        amount + U256::from(rng.next_u64()) % unit
    } else {
        amount
    }
}

/// Up to 4 pools of (operator, asset), and optionally a tier over one of them run by any operator.
fn pools(rng: &mut SplitMix64, n_ops: usize, assets: &[usize]) -> Vec<PoolSpec> {
    let mut pools = Vec::new();
    for op in 0..n_ops {
        for &asset in assets {
            if rng.chance(60, 100) {
                pools.push((op, asset));
            }
        }
    }
    if pools.is_empty() {
        pools.push((rng.pick(n_ops), assets[0]));
    }
    while pools.len() > 4 {
        pools.remove(rng.pick(pools.len()));
    }
    let mut pools: Vec<PoolSpec> = pools
        .into_iter()
        .map(|(operator, asset)| PoolSpec {
            name: format!("{}{}", symbol(asset), operator + 1),
            operator,
            asset,
            tier_of: None,
        })
        .collect();
    if rng.chance(40, 100) {
        let base = rng.pick(pools.len());
        let operator = rng.pick(n_ops);
        pools.push(PoolSpec {
            name: format!("TIER{}", operator + 1),
            operator,
            asset: pools[base].asset,
            tier_of: Some(base),
        });
    }
    pools
}

impl Builder {
    /// The set-up's deposits: 1–3 into every base pool, then 1–2 moves into a tier.
    fn initial_deposits(&mut self) {
        let n_stakers = self.spec.stakers.len();
        for pool in 0..self.spec.pools.len() {
            if self.spec.pools[pool].tier_of.is_some() {
                continue;
            }
            for _ in 0..self.rng.range(1, 3) {
                let staker = self.spec.stakers[self.rng.pick(n_stakers)].clone();
                let amount = amount(&mut self.rng, self.spec.pools[pool].asset);
                self.push(Action::Deposit {
                    staker,
                    pool,
                    amount,
                });
            }
        }
        self.rewards_setup();
        for _ in 0..self.rng.range(1, 2) {
            self.tier_deposit();
        }
        self.rewards_setup_tiers();
    }

    /// The set-up's allocations (the wipe-out's isolated 100% first, then 1–4 AVSs per pool), and the allocation
    /// delay.
    fn initial_allocations(&mut self) {
        if let Some((pool, avs)) = self.wipe {
            self.push(Action::Allocate {
                pool,
                avs,
                mode: Mode::Isolated,
                fraction: WAD,
                by: None,
                opt_in: true,
            });
        }
        let n_avs = self.spec.avs.len();
        for pool in 0..self.spec.pools.len() {
            let mut avs: Vec<usize> = (0..n_avs).collect();
            for _ in 0..self.rng.range(1, n_avs.min(4) as u64) {
                let avs = avs.remove(self.rng.pick(avs.len()));
                let (mode, f) = if self.rng.chance(35, 100) {
                    (Mode::Isolated, fraction(&mut self.rng, 5, 60))
                } else {
                    (Mode::Shared, fraction(&mut self.rng, 10, 100))
                };
                self.push(Action::Allocate {
                    pool,
                    avs,
                    mode,
                    fraction: f,
                    by: None,
                    opt_in: true,
                });
            }
        }
        let delay = bulkhead_evm::DeployConfig::default().allocation_delay;
        let seconds = delay + self.rng.below(3_600);
        self.push(Action::Warp { seconds });
    }

    /// Slashes (or executions of requests) until the timeline has at least 3, within 20 tries.
    fn at_least_three_slashes(&mut self) {
        let mut tries = 0;
        while self.spec.slash_count() < 3 && tries < 20 {
            tries += 1;
            if self.rng.chance(30, 100) {
                // Let pending requests become executable.
                self.push(Action::Warp {
                    seconds: 2 * 86_400,
                });
            }
            match self.requests.last().cloned() {
                Some((label, avs)) if self.rng.chance(40, 100) => self.push(Action::ExecuteSlash {
                    avs,
                    request: Some(label),
                    by: None,
                }),
                _ => {
                    let Some((pool, avs)) = self.allocated_pair() else {
                        break;
                    };
                    let fraction =
                        fraction(&mut self.rng, 1, 100).min(self.spec.avs[avs].max_slash);
                    self.push(Action::Slash {
                        avs,
                        pool,
                        fraction,
                        by: None,
                    });
                }
            }
        }
    }
}

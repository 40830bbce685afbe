//! Random chained-slash scenarios, reproducible from a seed. The generator plays each step on the model as it
//! goes, so it can aim (claim what was queued, execute what was requested, slash where there is an allocation)
//! while still sending steps that revert on purpose.

use alloy::primitives::U256;

use super::{
    model::{Model, Mutation, WAD},
    spec::{ASSETS, Action, AvsSpec, DECIMALS, Mode, PoolSpec, Spec},
};

/// splitmix64: a small, fast, well-mixed generator (Steele, Lea, Flood 2014).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// A random element's index.
    pub fn pick(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }
}

/// The seed of scenario `index` of a run seeded with `seed`: any scenario can be regenerated on its own.
pub fn scenario_seed(seed: u64, index: u64) -> u64 {
    let mut rng = Rng::new(seed ^ index.wrapping_mul(0xD134_2543_DE82_EF95));
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
fn fraction(rng: &mut Rng, lo_pct: u64, hi_pct: u64) -> u64 {
    let (lo5, hi5) = (lo_pct.div_ceil(5).max(1), hi_pct / 5);
    if hi5 >= lo5 && rng.chance(50) {
        rng.range(lo5, hi5) * 5 * (WAD / 100)
    } else {
        rng.range(lo_pct * (WAD / 100), hi_pct * (WAD / 100)).max(1)
    }
}

fn amount(rng: &mut Rng, asset: usize) -> U256 {
    let unit = U256::from(10u64).pow(U256::from(DECIMALS[asset]));
    if rng.chance(4) {
        // A few raw units; a single one is worth less than a share once the price is above 1 (`DepositTooSmall`).
        return U256::from(if rng.chance(30) {
            1
        } else {
            rng.range(1, 1_000)
        });
    }
    let whole = U256::from(rng.range(1, 1_000)) * unit;
    if rng.chance(50) {
        whole + U256::from(rng.next_u64()) % unit
    } else {
        whole
    }
}

struct Builder {
    spec: Spec,
    model: Model,
    rng: Rng,
    labels: usize,
    requests: Vec<usize>,
    queued: Vec<(usize, usize)>,
    wipe: Option<(usize, usize)>,
}

impl Builder {
    fn push(&mut self, action: Action) {
        // The generator only sends steps the runner can send: the model says which.
        if self.model.step(&self.spec, &action).is_ok() {
            self.spec.steps.push(action);
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
            && self.rng.chance(25)
        {
            self.push(Action::Slash {
                avs,
                pool,
                fraction: WAD,
            });
            return;
        }
        let (pool, avs) = match self.allocated_pair() {
            Some(pair) if self.rng.chance(85) => pair,
            _ => match self.existing_pool() {
                Some(p) => (p, self.rng.pick(self.spec.avs.len())),
                None => return,
            },
        };
        let max = self.spec.avs[avs].max_slash;
        let f = if self.rng.chance(90) {
            let hi = (max / (WAD / 100)).max(1);
            fraction(&mut self.rng, 1, hi).min(max)
        } else {
            fraction(&mut self.rng, 1, 100)
        };
        let veto = self.spec.avs[avs].veto_window.is_some();
        if veto && self.rng.chance(85) {
            let label = self.next_label();
            self.requests.push(label);
            self.push(Action::Request {
                avs,
                pool,
                fraction: f,
                label,
            });
        } else {
            self.push(Action::Slash {
                avs,
                pool,
                fraction: f,
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
        let shares = if held.is_zero() || self.rng.chance(5) {
            U256::from(self.rng.range(1, 1_000))
        } else {
            held * U256::from(fraction(&mut self.rng, 1, 100)) / U256::from(WAD)
        };
        self.push(Action::DepositToTier {
            staker,
            pool,
            shares,
        });
    }

    /// Mostly a staker holding live shares of pool `id`, sometimes anyone.
    fn holder(&mut self, id: usize) -> usize {
        let holders: Vec<usize> = (0..self.spec.stakers.len())
            .filter(|&s| !self.model.shares(s, id).is_zero())
            .collect();
        if holders.is_empty() || self.rng.chance(10) {
            self.rng.pick(self.spec.stakers.len())
        } else {
            holders[self.rng.pick(holders.len())]
        }
    }

    fn next_label(&mut self) -> usize {
        self.labels += 1;
        self.labels
    }

    fn random_step(&mut self) {
        let roll = self.rng.below(100);
        let n_avs = self.spec.avs.len();
        match roll {
            0..=29 => self.slash(),
            30..=34 => self.tier_deposit(),
            35..=39 => {
                let bases: Vec<usize> = (0..self.spec.pools.len())
                    .filter(|&p| self.spec.pools[p].tier_of.is_none())
                    .collect();
                let pool = bases[self.rng.pick(bases.len())];
                let staker = self.rng.pick(self.spec.stakers.len());
                let amount = amount(&mut self.rng, self.spec.pools[pool].asset);
                self.push(Action::Deposit {
                    staker,
                    pool,
                    amount,
                });
            }
            40..=49 => {
                let Some(pool) = self.existing_pool() else {
                    return;
                };
                let id = self.model.pool_id(&self.spec, pool).expect("exists");
                let staker = self.holder(id);
                let f = if self.rng.chance(25) {
                    WAD
                } else {
                    fraction(&mut self.rng, 1, 100)
                };
                let label = self.next_label();
                self.push(Action::Queue {
                    staker,
                    pool,
                    fraction: f,
                    label,
                });
                if self.model.withdrawal(label).is_some() {
                    self.queued.push((label, staker));
                }
            }
            50..=57 => {
                if self.queued.is_empty() {
                    return;
                }
                let now = self.model.now;
                let matured: Vec<(usize, usize)> = self
                    .queued
                    .iter()
                    .copied()
                    .filter(|&(label, _)| {
                        self.model
                            .withdrawal(label)
                            .is_some_and(|(_, wid)| self.model.maturity(wid) <= now)
                    })
                    .collect();
                let (label, staker) = if !matured.is_empty() && self.rng.chance(75) {
                    matured[self.rng.pick(matured.len())]
                } else {
                    let (label, staker) = self.queued[self.rng.pick(self.queued.len())];
                    // Often wait for it to mature (slashes in between still hit it while it is in escrow).
                    if let Some((_, wid)) = self.model.withdrawal(label) {
                        let maturity = self.model.maturity(wid);
                        if maturity > now && self.rng.chance(60) {
                            let seconds = maturity - now + self.rng.below(2 * 86_400);
                            self.push(Action::Warp { seconds });
                        }
                    }
                    (label, staker)
                };
                self.push(Action::Claim { staker, label });
            }
            58..=71 => {
                let seconds = match self.rng.below(4) {
                    0 => self.rng.range(60, 12 * 3_600),
                    1 => self.rng.range(3_600, 3 * 86_400),
                    2 => 7 * 86_400 + self.rng.below(3_600),
                    _ => self.rng.range(86_400, 9 * 86_400),
                };
                self.push(Action::Warp { seconds });
            }
            72..=76 => {
                let Some((pool, avs)) = self.allocated_pair() else {
                    return;
                };
                let f = if self.rng.chance(50) {
                    0
                } else {
                    fraction(&mut self.rng, 1, 60)
                };
                self.push(Action::Deallocate {
                    pool,
                    avs,
                    fraction: f,
                });
            }
            77..=83 => {
                let Some(pool) = self.existing_pool() else {
                    return;
                };
                let avs = self.rng.pick(n_avs);
                let mode = if self.rng.chance(35) {
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
                });
            }
            84..=86 => {
                let operator = self.rng.pick(self.spec.operators.len());
                let avs = self.rng.pick(n_avs);
                self.push(Action::OptOut { operator, avs });
            }
            87..=88 => {
                let operator = self.rng.pick(self.spec.operators.len());
                let avs = self.rng.pick(n_avs);
                self.push(Action::OptIn { operator, avs });
            }
            89..=92 => {
                if let Some(&label) = self.requests.last()
                    && self.model.request_filed(label)
                {
                    self.push(Action::Veto { label });
                }
            }
            _ => {
                if self.requests.is_empty() {
                    return;
                }
                let label = self.requests[self.rng.pick(self.requests.len())];
                if !self.model.request_filed(label) {
                    return;
                }
                // Mostly inside the execution window: warp there first if needed.
                if let Some(at) = self.model.executable_at(label)
                    && self.rng.chance(70)
                    && self.model.now < at
                {
                    let seconds = at - self.model.now + self.rng.below(3_600);
                    self.push(Action::Warp { seconds });
                }
                self.push(Action::Execute { label });
            }
        }
    }
}

/// The model's parameters for a spec: the deployment defaults and the spec's guard.
pub fn params(spec: &Spec) -> super::model::Params {
    let defaults = crate::DeployConfig::default();
    let (guard_max, guard_window) = spec.guard.unwrap_or((WAD / 2, 86_400));
    super::model::Params {
        escrow_delay: defaults.escrow_delay,
        allocation_delay: defaults.allocation_delay,
        deallocation_delay: defaults.deallocation_delay,
        execution_window: defaults.execution_window,
        guard_max,
        guard_window: u64::from(guard_window),
    }
}

/// Scenario `seed`: 1–3 operators, 1–3 assets, 2–8 stakers, 2–6 AVSs (some with a veto flow), up to 4 pools,
/// deposits, isolated and shared allocations, the allocation delay, then random steps with at least 3 slashes.
/// `start` is the chain's timestamp when the timeline begins.
pub fn generate(seed: u64, config: GenConfig, start: u64) -> Spec {
    let mut rng = Rng::new(seed);
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
    let mut pools = Vec::new();
    for op in 0..n_ops {
        for &asset in &assets {
            if rng.chance(60) {
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
            name: format!("{}{}", ASSETS[asset], operator + 1),
            operator,
            asset,
            tier_of: None,
        })
        .collect();
    // Optionally a tier over one of the pools, run by any operator.
    if rng.chance(40) {
        let base = rng.pick(pools.len());
        let operator = rng.pick(n_ops);
        pools.push(PoolSpec {
            name: format!("TIER{}", operator + 1),
            operator,
            asset: pools[base].asset,
            tier_of: Some(base),
        });
    }
    let avs: Vec<AvsSpec> = (1..=n_avs)
        .map(|i| AvsSpec {
            name: format!("avs{i}"),
            max_slash: if rng.chance(60) {
                WAD
            } else {
                fraction(&mut rng, 10, 100)
            },
            veto_window: rng.chance(20).then(|| rng.range(3_600, 47 * 3_600)),
            burn: rng.chance(15),
        })
        .collect();
    let mut guard = rng.chance(50).then(|| {
        (
            fraction(&mut rng, 15, 100),
            rng.range(3_600, 3 * 86_400) as u32,
        )
    });
    let mut avs = avs;
    // Sometimes a pool is meant to be wiped out: a guard that allows 100%, an instant AVS allowed to take it all
    // with an isolated 100% allocation, and 100% slashes, so pools reset (new generation) and go on.
    let wipe = rng.chance(15).then(|| {
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
        steps: Vec::new(),
    };
    let model = Model::new(&spec, params(&spec), start, Mutation::None);
    let mut b = Builder {
        spec,
        model,
        rng,
        labels: 0,
        requests: Vec::new(),
        queued: Vec::new(),
        wipe,
    };

    for pool in 0..b.spec.pools.len() {
        if b.spec.pools[pool].tier_of.is_some() {
            continue;
        }
        for _ in 0..b.rng.range(1, 3) {
            let staker = b.rng.pick(n_stakers);
            let amount = amount(&mut b.rng, b.spec.pools[pool].asset);
            b.push(Action::Deposit {
                staker,
                pool,
                amount,
            });
        }
    }
    for _ in 0..b.rng.range(1, 2) {
        b.tier_deposit();
    }
    if let Some((pool, avs)) = b.wipe {
        b.push(Action::Allocate {
            pool,
            avs,
            mode: Mode::Isolated,
            fraction: WAD,
        });
    }
    for pool in 0..b.spec.pools.len() {
        let mut avs: Vec<usize> = (0..n_avs).collect();
        for _ in 0..b.rng.range(1, n_avs.min(4) as u64) {
            let avs = avs.remove(b.rng.pick(avs.len()));
            let (mode, f) = if b.rng.chance(35) {
                (Mode::Isolated, fraction(&mut b.rng, 5, 60))
            } else {
                (Mode::Shared, fraction(&mut b.rng, 10, 100))
            };
            b.push(Action::Allocate {
                pool,
                avs,
                mode,
                fraction: f,
            });
        }
    }
    let delay = crate::DeployConfig::default().allocation_delay;
    let seconds = delay + b.rng.below(3_600);
    b.push(Action::Warp { seconds });

    for _ in 0..b.rng.range(config.min_steps, config.max_steps) {
        b.random_step();
    }
    let mut tries = 0;
    while b.spec.slash_count() < 3 && tries < 20 {
        tries += 1;
        if b.rng.chance(30) {
            // Let pending requests become executable.
            b.push(Action::Warp {
                seconds: 2 * 86_400,
            });
        }
        match b.requests.last() {
            Some(&label) if b.rng.chance(40) => b.push(Action::Execute { label }),
            _ => {
                let Some((pool, avs)) = b.allocated_pair() else {
                    break;
                };
                let fraction = fraction(&mut b.rng, 1, 100).min(b.spec.avs[avs].max_slash);
                b.push(Action::Slash {
                    avs,
                    pool,
                    fraction,
                });
            }
        }
    }
    b.spec
}

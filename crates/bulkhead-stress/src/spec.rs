//! A generated scenario: who takes part and the timeline, in the terms of the scenario format (names, declared
//! pools, labels) so that any of it can be written out as a scenario file.

use alloy::primitives::U256;
use bulkhead_contracts::{DEMO_TOKENS, Mode};

/// The symbol of built-in asset `asset` (an index into [`DEMO_TOKENS`]: WETH, WBTC, USDC).
pub fn symbol(asset: usize) -> &'static str {
    DEMO_TOKENS[asset].1
}

/// The decimals of built-in asset `asset`.
pub fn decimals(asset: usize) -> u8 {
    DEMO_TOKENS[asset].2
}

/// One step of the timeline. Indexes point into [`Spec`]'s lists; labels are numbers (`w3`, `r1` in files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `deposit`: mint, approve, `deposit(operator, asset, amount)`.
    Deposit {
        /// Staker index.
        staker: usize,
        /// Pool index.
        pool: usize,
        /// Base units.
        amount: U256,
    },
    /// `deposit_to_tier`: moves base shares into a tier (the runner allows tiers over the base first).
    DepositToTier {
        /// Staker index.
        staker: usize,
        /// Pool index (a tier).
        pool: usize,
        /// Base shares.
        shares: U256,
    },
    /// `allocate` (with the automatic opt-in).
    Allocate {
        /// Pool index.
        pool: usize,
        /// AVS index.
        avs: usize,
        /// Mode.
        mode: Mode,
        /// WAD.
        fraction: u64,
    },
    /// `deallocate`: lowers the allocation in its current mode.
    Deallocate {
        /// Pool index.
        pool: usize,
        /// AVS index.
        avs: usize,
        /// WAD.
        fraction: u64,
    },
    /// `warp`.
    Warp {
        /// Seconds.
        seconds: u64,
    },
    /// `queue_withdrawal` of a fraction of the staker's shares.
    Queue {
        /// Staker index.
        staker: usize,
        /// Pool index.
        pool: usize,
        /// WAD of the position's shares.
        fraction: u64,
        /// Label number.
        label: usize,
    },
    /// `claim` of a labelled withdrawal.
    Claim {
        /// Staker index.
        staker: usize,
        /// Label number.
        label: usize,
    },
    /// `slash` by an AVS's module.
    Slash {
        /// AVS index.
        avs: usize,
        /// Pool index.
        pool: usize,
        /// WAD.
        fraction: u64,
    },
    /// `request_slash` (veto AVS).
    Request {
        /// AVS index.
        avs: usize,
        /// Pool index.
        pool: usize,
        /// WAD.
        fraction: u64,
        /// Label number.
        label: usize,
    },
    /// `veto` by the resolver.
    Veto {
        /// Request label number.
        label: usize,
    },
    /// `execute_slash` by the module.
    Execute {
        /// Request label number.
        label: usize,
    },
    /// `opt_in`.
    OptIn {
        /// Operator index.
        operator: usize,
        /// AVS index.
        avs: usize,
    },
    /// `opt_out`.
    OptOut {
        /// Operator index.
        operator: usize,
        /// AVS index.
        avs: usize,
    },
}

impl Action {
    /// Whether this step slashes (instantly or by executing a request).
    pub fn is_slash(&self) -> bool {
        matches!(self, Self::Slash { .. } | Self::Execute { .. })
    }
}

/// An AVS: instant, or veto flow with the shared `resolver` actor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvsSpec {
    /// Name; its module is the actor `module-<name>`.
    pub name: String,
    /// Largest fraction per slash (WAD).
    pub max_slash: u64,
    /// Veto window in seconds, for a veto AVS.
    pub veto_window: Option<u64>,
    /// Sink: `burn` if true, else the actor `sink-<name>`.
    pub burn: bool,
}

/// A declared pool: of tokens, or a tier over another declared pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSpec {
    /// Name.
    pub name: String,
    /// Operator index.
    pub operator: usize,
    /// Asset index into [`DEMO_TOKENS`] (for a tier: its base's asset, the unit of its values).
    pub asset: usize,
    /// For a tier: the index of its base pool.
    pub tier_of: Option<usize>,
}

/// A generated scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// The seed it was generated from.
    pub seed: u64,
    /// Operator names.
    pub operators: Vec<String>,
    /// Staker names.
    pub stakers: Vec<String>,
    /// AVSs, registered in this order (ids 1, 2, …).
    pub avs: Vec<AvsSpec>,
    /// Pools.
    pub pools: Vec<PoolSpec>,
    /// Cascade guard (max fraction WAD, window seconds); `None` keeps the deployment's 50% per day.
    pub guard: Option<(u64, u32)>,
    /// The timeline.
    pub steps: Vec<Action>,
}

/// Name of the shared resolver of veto AVSs.
pub const RESOLVER: &str = "resolver";

impl Spec {
    /// Who receives what `avs` slashes.
    pub fn sink_of(&self, avs: usize) -> Holder {
        if self.avs[avs].burn {
            Holder::Burn
        } else {
            Holder::Sink(avs)
        }
    }

    /// The actor name of a sink.
    pub fn sink_name(&self, avs: usize) -> String {
        format!("sink-{}", self.avs[avs].name)
    }

    /// Number of slash steps (instant or executed).
    pub fn slash_count(&self) -> usize {
        self.steps.iter().filter(|s| s.is_slash()).count()
    }

    /// Drops operators, stakers, AVSs and pools no step refers to (renumbering the steps). Nothing they did
    /// changes: actors sit at fixed addresses, and AVS ids only name AVSs.
    pub fn compact(&mut self) {
        let mut used_pool = vec![false; self.pools.len()];
        let mut used_avs = vec![false; self.avs.len()];
        let mut used_staker = vec![false; self.stakers.len()];
        let mut used_op = vec![false; self.operators.len()];
        for s in &self.steps {
            match *s {
                Action::Deposit { staker, pool, .. }
                | Action::DepositToTier { staker, pool, .. }
                | Action::Queue { staker, pool, .. } => {
                    used_staker[staker] = true;
                    used_pool[pool] = true;
                }
                Action::Allocate { pool, avs, .. }
                | Action::Deallocate { pool, avs, .. }
                | Action::Slash { pool, avs, .. }
                | Action::Request { pool, avs, .. } => {
                    used_pool[pool] = true;
                    used_avs[avs] = true;
                }
                Action::Claim { staker, .. } => used_staker[staker] = true,
                Action::OptIn { operator, avs } | Action::OptOut { operator, avs } => {
                    used_op[operator] = true;
                    used_avs[avs] = true;
                }
                Action::Warp { .. } | Action::Veto { .. } | Action::Execute { .. } => {}
            }
        }
        for i in (0..self.pools.len()).rev() {
            if used_pool[i]
                && let Some(base) = self.pools[i].tier_of
            {
                used_pool[base] = true;
            }
        }
        for (i, p) in self.pools.iter().enumerate() {
            if used_pool[i] {
                used_op[p.operator] = true;
            }
        }
        let remap = |used: &[bool]| {
            let mut next = 0;
            used.iter()
                .map(|u| {
                    let i = next;
                    if *u {
                        next += 1;
                    }
                    i
                })
                .collect::<Vec<_>>()
        };
        let (pool_map, avs_map, staker_map, op_map) = (
            remap(&used_pool),
            remap(&used_avs),
            remap(&used_staker),
            remap(&used_op),
        );
        for s in &mut self.steps {
            match s {
                Action::Deposit { staker, pool, .. }
                | Action::DepositToTier { staker, pool, .. }
                | Action::Queue { staker, pool, .. } => {
                    *staker = staker_map[*staker];
                    *pool = pool_map[*pool];
                }
                Action::Allocate { pool, avs, .. }
                | Action::Deallocate { pool, avs, .. }
                | Action::Slash { pool, avs, .. }
                | Action::Request { pool, avs, .. } => {
                    *pool = pool_map[*pool];
                    *avs = avs_map[*avs];
                }
                Action::Claim { staker, .. } => *staker = staker_map[*staker],
                Action::OptIn { operator, avs } | Action::OptOut { operator, avs } => {
                    *operator = op_map[*operator];
                    *avs = avs_map[*avs];
                }
                Action::Warp { .. } | Action::Veto { .. } | Action::Execute { .. } => {}
            }
        }
        let keep = |used: &[bool], i: usize| used[i];
        let mut i = 0;
        self.pools.retain(|_| {
            i += 1;
            keep(&used_pool, i - 1)
        });
        for p in &mut self.pools {
            p.operator = op_map[p.operator];
            p.tier_of = p.tier_of.map(|b| pool_map[b]);
        }
        let mut i = 0;
        self.avs.retain(|_| {
            i += 1;
            keep(&used_avs, i - 1)
        });
        let mut i = 0;
        self.stakers.retain(|_| {
            i += 1;
            keep(&used_staker, i - 1)
        });
        let mut i = 0;
        self.operators.retain(|_| {
            i += 1;
            keep(&used_op, i - 1)
        });
    }
}

/// Who holds tokens or shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Holder {
    /// A staker, by index.
    Staker(usize),
    /// A named sink actor (`sink-<avs>`), by the index of its AVS.
    Sink(usize),
    /// `0x…dEaD`.
    Burn,
}

impl Action {
    /// The scenario-file action of the step.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Deposit { .. } => "deposit",
            Self::DepositToTier { .. } => "deposit_to_tier",
            Self::Allocate { .. } => "allocate",
            Self::Deallocate { .. } => "deallocate",
            Self::Warp { .. } => "warp",
            Self::Queue { .. } => "queue_withdrawal",
            Self::Claim { .. } => "claim",
            Self::Slash { .. } => "slash",
            Self::Request { .. } => "request_slash",
            Self::Veto { .. } => "veto",
            Self::Execute { .. } => "execute_slash",
            Self::OptIn { .. } => "opt_in",
            Self::OptOut { .. } => "opt_out",
        }
    }
}

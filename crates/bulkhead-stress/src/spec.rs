//! A generated scenario: who takes part and the timeline. The steps are the scenario format's own
//! ([`bulkhead_scenario::Action`]: pools and AVSs by their index in [`Spec`]'s lists, which is their order in a written
//! file; stakers, operators and labels by name), so any of it can be written out as a scenario file; and three of the
//! reputation layer and six of the reward rail the format has no action for ([`Step`]), which a written file lists in
//! its header instead.

use alloy::primitives::U256;
use bulkhead_contracts::DEMO_TOKENS;
use bulkhead_scenario::Action;

/// The symbol of built-in asset `asset` (an index into [`DEMO_TOKENS`]: WETH, WBTC, USDC).
pub fn symbol(asset: usize) -> &'static str {
    DEMO_TOKENS[asset].1
}

/// The decimals of built-in asset `asset`.
pub fn decimals(asset: usize) -> u8 {
    DEMO_TOKENS[asset].2
}

/// Whether a step slashes (instantly or by executing a request).
pub fn is_slash(step: &Step) -> bool {
    matches!(
        step,
        Step::Scenario(Action::Slash { .. } | Action::ExecuteSlash { .. })
    )
}

/// One step of a generated timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A step of the scenario format, sent as the scenario runner sends it.
    Scenario(Action),
    /// `completeBondWithdrawal(avs, asset, avsAdmin)` by the AVS's admin (the format's `unbond` only queues).
    CompleteUnbond {
        /// AVS index.
        avs: usize,
        /// Asset index.
        asset: usize,
    },
    /// `refreshStanding(avs, pools)` measuring these pools only, in this order (the format's `refresh_standing`
    /// measures every pool of the scenario).
    Refresh {
        /// AVS index.
        avs: usize,
        /// Pool indexes.
        pools: Vec<usize>,
    },
    /// `reportExecutedSlash(request)` by a keeper.
    ReportExecuted {
        /// The request's label.
        request: String,
    },
    /// `RewardRail.enableRewards(pool)` sent by `by` (the pool's operator, or someone it refuses).
    EnableRewards {
        /// Pool index.
        pool: usize,
        /// The sender: an operator or a staker, by name.
        by: String,
    },
    /// `RewardRail.setCommission(pool, bps)` sent by `by`.
    SetCommission {
        /// Pool index.
        pool: usize,
        /// The new commission (bps; above `MAX_COMMISSION_BPS` is refused).
        bps: u16,
        /// The sender: an operator or a staker, by name.
        by: String,
    },
    /// The `payer` actor mints `amount` of the pool's reward token (a tier's: its base asset), approves the rail and
    /// sends `pay(pool, amount, maxCommissionBps)`.
    Pay {
        /// Pool index.
        pool: usize,
        /// Base units of the token.
        amount: U256,
        /// The highest commission the payer accepts (bps).
        max_commission_bps: u16,
    },
    /// `claim(pool, staker)` by the staker: its position's rewards, paid to itself.
    ClaimRewards {
        /// The staker.
        staker: String,
        /// Pool index.
        pool: usize,
    },
    /// `claimEscrow(withdrawal, staker)` of a labelled withdrawal, by `staker` (its owner, or not).
    ClaimEscrowRewards {
        /// The sender, a staker.
        staker: String,
        /// The withdrawal's label.
        withdrawal: String,
    },
    /// `claimCommission(token, operator)` by the operator.
    ClaimCommission {
        /// The operator.
        operator: String,
        /// Asset index (into [`DEMO_TOKENS`]).
        asset: usize,
    },
}

impl Step {
    /// The name of its action: the scenario format's, or `complete_unbond`, `refresh_pools`,
    /// `report_executed_slash`, and the rail's `enable_rewards`, `set_commission`, `pay`, `claim_rewards`,
    /// `claim_escrow_rewards`, `claim_commission`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Scenario(action) => action.name(),
            Self::CompleteUnbond { .. } => "complete_unbond",
            Self::Refresh { .. } => "refresh_pools",
            Self::ReportExecuted { .. } => "report_executed_slash",
            Self::EnableRewards { .. } => "enable_rewards",
            Self::SetCommission { .. } => "set_commission",
            Self::Pay { .. } => "pay",
            Self::ClaimRewards { .. } => "claim_rewards",
            Self::ClaimEscrowRewards { .. } => "claim_escrow_rewards",
            Self::ClaimCommission { .. } => "claim_commission",
        }
    }

    /// Whether it is a call to the reward rail.
    pub fn is_payment(&self) -> bool {
        matches!(
            self,
            Self::EnableRewards { .. }
                | Self::SetCommission { .. }
                | Self::Pay { .. }
                | Self::ClaimRewards { .. }
                | Self::ClaimEscrowRewards { .. }
                | Self::ClaimCommission { .. }
        )
    }

    /// The scenario-format action, if it is one.
    pub fn action(&self) -> Option<&Action> {
        match self {
            Self::Scenario(action) => Some(action),
            _ => None,
        }
    }

    /// Whether it belongs to the reputation layer.
    pub fn is_reputation(&self) -> bool {
        match self {
            Self::Scenario(action) => matches!(
                action,
                Action::Bond { .. }
                    | Action::Unbond { .. }
                    | Action::Checkpoint { .. }
                    | Action::RefreshStanding { .. }
                    | Action::Reprice { .. }
            ),
            Self::CompleteUnbond { .. } | Self::Refresh { .. } | Self::ReportExecuted { .. } => {
                true
            }
            _ => false,
        }
    }
}

impl From<Action> for Step {
    fn from(action: Action) -> Self {
        Self::Scenario(action)
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
    /// With reputation on: bonded at setup (asset index, base units), by `avsAdmin`.
    pub bond: Vec<(usize, U256)>,
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
    /// `[reputation]`: the layer on, with each listed asset's evidence unit (asset index, base units).
    pub reputation: Option<Vec<(usize, U256)>>,
    /// The timeline (withdrawal labels `w<n>`, request labels `r<n>`).
    pub steps: Vec<Step>,
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

    /// The spec with only the steps of the scenario format (what a file can hold), and the others with their
    /// indexes.
    pub fn scenario_only(&self) -> (Spec, Vec<(usize, Step)>) {
        let mut file = self.clone();
        let mut left_out = Vec::new();
        file.steps.clear();
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                Step::Scenario(_) => file.steps.push(step.clone()),
                other => left_out.push((i, other.clone())),
            }
        }
        (file, left_out)
    }

    /// Number of slash steps (instant or executed).
    pub fn slash_count(&self) -> usize {
        self.steps.iter().filter(|s| is_slash(s)).count()
    }

    /// The index of staker `name`.
    pub fn staker(&self, name: &str) -> Option<usize> {
        self.stakers.iter().position(|s| s == name)
    }

    /// The index of operator `name`.
    pub fn operator(&self, name: &str) -> Option<usize> {
        self.operators.iter().position(|o| o == name)
    }

    /// Drops operators, stakers, AVSs and pools no step refers to (renumbering the steps' pools and AVSs). Nothing
    /// they did changes: actors sit at fixed addresses, and AVS ids only name AVSs.
    pub fn compact(&mut self) {
        let mut used_pool = vec![false; self.pools.len()];
        let mut used_avs = vec![false; self.avs.len()];
        let mut used_staker = vec![false; self.stakers.len()];
        let mut used_op = vec![false; self.operators.len()];
        let (stakers, operators) = (&self.stakers, &self.operators);
        for step in &mut self.steps {
            let refs = refs(step);
            for pool in refs.pools {
                used_pool[*pool] = true;
            }
            if let Some(avs) = refs.avs {
                used_avs[*avs] = true;
            }
            for name in refs.names {
                if let Some(i) = stakers.iter().position(|s| s == name) {
                    used_staker[i] = true;
                }
                if let Some(i) = operators.iter().position(|o| o == name) {
                    used_op[i] = true;
                }
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
        let (pool_map, avs_map, op_map) = (remap(&used_pool), remap(&used_avs), remap(&used_op));
        for step in &mut self.steps {
            let refs = refs(step);
            for pool in refs.pools {
                *pool = pool_map[*pool];
            }
            if let Some(avs) = refs.avs {
                *avs = avs_map[*avs];
            }
        }
        retain_used(&mut self.pools, &used_pool);
        for p in &mut self.pools {
            p.operator = op_map[p.operator];
            p.tier_of = p.tier_of.map(|b| pool_map[b]);
        }
        retain_used(&mut self.avs, &used_avs);
        retain_used(&mut self.stakers, &used_staker);
        retain_used(&mut self.operators, &used_op);
    }
}

/// Keeps the items whose flag is set.
fn retain_used<T>(list: &mut Vec<T>, used: &[bool]) {
    let mut used = used.iter();
    list.retain(|_| used.next().copied().unwrap_or(false));
}

/// What a step refers to: pool and AVS indexes (to renumber), the stakers and operators it names.
#[derive(Default)]
struct Refs<'a> {
    pools: Vec<&'a mut usize>,
    avs: Option<&'a mut usize>,
    names: Vec<&'a str>,
}

fn refs(step: &mut Step) -> Refs<'_> {
    let action = match step {
        Step::Scenario(action) => action,
        Step::CompleteUnbond { avs, .. } => {
            return Refs {
                avs: Some(avs),
                ..Refs::default()
            };
        }
        Step::Refresh { avs, pools } => {
            return Refs {
                pools: pools.iter_mut().collect(),
                avs: Some(avs),
                ..Refs::default()
            };
        }
        Step::ReportExecuted { .. } => return Refs::default(),
        Step::EnableRewards { pool, by } | Step::SetCommission { pool, by, .. } => {
            return Refs {
                pools: vec![pool],
                names: vec![by],
                ..Refs::default()
            };
        }
        Step::Pay { pool, .. } => {
            return Refs {
                pools: vec![pool],
                ..Refs::default()
            };
        }
        Step::ClaimRewards { staker, pool } => {
            return Refs {
                pools: vec![pool],
                names: vec![staker],
                ..Refs::default()
            };
        }
        Step::ClaimEscrowRewards { staker, .. } => {
            return Refs {
                names: vec![staker],
                ..Refs::default()
            };
        }
        Step::ClaimCommission { operator, .. } => {
            return Refs {
                names: vec![operator],
                ..Refs::default()
            };
        }
    };
    match action {
        Action::Deposit { staker, pool, .. }
        | Action::DepositToTier { staker, pool, .. }
        | Action::QueueWithdrawal { staker, pool, .. } => Refs {
            pools: vec![pool],
            names: vec![staker],
            ..Refs::default()
        },
        Action::Allocate { pool, avs, .. }
        | Action::Deallocate { pool, avs, .. }
        | Action::Slash { pool, avs, .. }
        | Action::RequestSlash { pool, avs, .. } => Refs {
            pools: vec![pool],
            avs: Some(avs),
            ..Refs::default()
        },
        Action::Veto { avs, .. } | Action::ExecuteSlash { avs, .. } => Refs {
            avs: Some(avs),
            ..Refs::default()
        },
        Action::Claim { staker, .. } => Refs {
            names: vec![staker],
            ..Refs::default()
        },
        Action::OptIn { operator, avs } | Action::OptOut { operator, avs } => Refs {
            avs: Some(avs),
            names: vec![operator],
            ..Refs::default()
        },
        Action::DoubleSign {
            avs,
            operator,
            pools,
            ..
        } => Refs {
            pools: pools.iter_mut().flatten().collect(),
            avs: Some(avs),
            names: vec![operator],
        },
        Action::Bond { avs, .. }
        | Action::Unbond { avs, .. }
        | Action::RefreshStanding { avs, .. } => Refs {
            avs: Some(avs),
            ..Refs::default()
        },
        Action::Checkpoint {
            avs,
            operator,
            pool,
            by,
        } => Refs {
            pools: vec![pool],
            avs: avs.as_mut(),
            names: operator
                .iter()
                .chain(by.iter())
                .map(String::as_str)
                .collect(),
        },
        Action::Reprice { pool } => Refs {
            pools: vec![pool],
            ..Refs::default()
        },
        // A warp names nothing; an `expect` step's checks are the loader's, and the market's steps are the scenario
        // format's alone: the model refuses both anyway.
        _ => Refs::default(),
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
    /// `avsAdmin`, who bonds (minted first) and is paid its bond withdrawals.
    Admin,
    /// An operator, by index: paid its commission.
    Operator(usize),
    /// The `payer` actor, who pays pools through the rail (minted first).
    Payer,
    /// The reward rail: holds what was paid and not yet claimed.
    Rail,
}

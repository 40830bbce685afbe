//! The reward rail's steps of a scenario with payments on: rewards turned on (mostly at set-up, before the tier
//! deposits, some pools later), payments of every size (a few units, nothing, whole tokens; the payer's commission
//! cap mostly above the operator's, sometimes below), commission changes (some above the maximum, some by someone
//! else), claims of positions', withdrawals' (by their owner or not) and operators' rewards, interleaved with the
//! deposits, withdrawals, slashes, tier moves and warps of the timeline, so that every hook of the vault fires between
//! payments. Each is aimed with the model (an earning pool, a holder with something claimable) but sometimes not, so
//! that every refusal is predicted too. The choices come from a generator of their own.

use alloy::primitives::U256;
use bulkhead_scenario::Action;

use super::{Builder, whole};
use crate::{
    model::{COMMISSION_DELAY, Holder, MAX_COMMISSION_BPS},
    spec::Step,
};

impl Builder {
    /// Right after the set-up's base deposits: rewards on for most pools (by their operator), a commission set for
    /// some, and now and then a whale's deposit (10³⁶ units and more, so that a payment of a few units is too small
    /// to move the pool's reward per share).
    pub(super) fn rewards_setup(&mut self) {
        if !self.payments {
            return;
        }
        for pool in self.existing_pools() {
            if self.prng.chance(25, 100) {
                self.set_commission_of(pool);
            }
            if self.prng.chance(65, 100) {
                let by = self.pool_operator(pool);
                self.push(Step::EnableRewards { pool, by });
            }
        }
        if self.spec.reputation.is_none() && self.prng.chance(15, 100) {
            self.whale();
        }
    }

    /// After the set-up's tier deposits: rewards on for the tier, half the time.
    pub(super) fn rewards_setup_tiers(&mut self) {
        if !self.payments {
            return;
        }
        for pool in self.existing_pools() {
            if self.spec.pools[pool].tier_of.is_some() && self.prng.chance(50, 100) {
                let by = self.pool_operator(pool);
                self.push(Step::EnableRewards { pool, by });
            }
        }
    }

    /// One rail step (or a short burst: a payment every holder then claims from), or a share change between
    /// payments.
    pub(super) fn payment_step(&mut self) {
        match self.prng.below(100) {
            0..=29 => self.pay(),
            30..=44 => self.claim_rewards(),
            45..=56 => self.claim_escrow_rewards(),
            57..=63 => self.claim_commission(),
            64..=71 => {
                if let Some(pool) = self.any_pool() {
                    self.set_commission_of(pool);
                }
            }
            72..=79 => self.enable_rewards(),
            80..=93 => self.share_change(),
            _ => self.pay_and_claim_all(),
        }
    }

    /// A share change between payments, drawn from the payment generator: a deposit, a queued withdrawal, a claim
    /// of one (early or settled), a tier deposit, or a warp (maturities, commission changes).
    fn share_change(&mut self) {
        // The timeline's own step makers, with the payment generator's draws: the main generator stays as it was.
        std::mem::swap(&mut self.rng, &mut self.prng);
        match self.rng.below(5) {
            0 => self.deposit(),
            1 => self.queue(),
            2 => self.claim(),
            3 => self.tier_deposit(),
            _ => self.warp(),
        }
        std::mem::swap(&mut self.rng, &mut self.prng);
    }

    /// The name of the pool's operator.
    fn pool_operator(&self, pool: usize) -> String {
        self.spec.operators[self.spec.pools[pool].operator].clone()
    }

    /// Existing pools whose rewards are on.
    fn earning_pools(&self) -> Vec<usize> {
        (0..self.spec.pools.len())
            .filter(|&p| {
                self.model
                    .pool_id(&self.spec, p)
                    .is_some_and(|id| self.model.earns(id))
            })
            .collect()
    }

    fn any_pool(&mut self) -> Option<usize> {
        let all = self.existing_pools();
        (!all.is_empty()).then(|| all[self.prng.pick(all.len())])
    }

    /// Mostly an earning pool, now and then any.
    fn paid_pool(&mut self) -> Option<usize> {
        let earning = self.earning_pools();
        if !earning.is_empty() && self.prng.chance(90, 100) {
            return Some(earning[self.prng.pick(earning.len())]);
        }
        self.any_pool()
    }

    /// Someone who is not the pool's operator: a staker, or another operator.
    fn stranger_to(&mut self, pool: usize) -> String {
        let operator = self.spec.pools[pool].operator;
        let others: Vec<String> = (0..self.spec.operators.len())
            .filter(|&o| o != operator)
            .map(|o| self.spec.operators[o].clone())
            .chain(self.spec.stakers.iter().cloned())
            .collect();
        others[self.prng.pick(others.len())].clone()
    }

    /// `enableRewards` of a pool that does not earn yet, mostly by its operator; now and then of one that does.
    fn enable_rewards(&mut self) {
        let off: Vec<usize> = self
            .existing_pools()
            .into_iter()
            .filter(|&p| !self.earning_pools().contains(&p))
            .collect();
        let pool = if !off.is_empty() && self.prng.chance(85, 100) {
            off[self.prng.pick(off.len())]
        } else {
            match self.any_pool() {
                Some(p) => p,
                None => return,
            }
        };
        let by = if self.prng.chance(90, 100) {
            self.pool_operator(pool)
        } else {
            self.stranger_to(pool)
        };
        self.push(Step::EnableRewards { pool, by });
    }

    /// `setCommission` of the pool: mostly by its operator, within the maximum (0 and the maximum often), sometimes
    /// above it; now and then followed by the wait for it to take effect.
    fn set_commission_of(&mut self, pool: usize) {
        let max = u64::from(MAX_COMMISSION_BPS);
        let bps = match self.prng.below(100) {
            0..=9 => self.prng.range(max + 1, 10_000),
            10..=17 => 0,
            18..=24 => max,
            _ => self.prng.range(0, max),
        } as u16;
        let by = if self.prng.chance(92, 100) {
            self.pool_operator(pool)
        } else {
            self.stranger_to(pool)
        };
        self.push(Step::SetCommission { pool, bps, by });
        if self.prng.chance(25, 100) {
            let seconds = COMMISSION_DELAY + self.prng.below(86_400);
            self.push(Action::Warp { seconds });
        }
    }

    /// An amount to pay into a pool of `asset`: nothing, a few units, or 0.001–20 whole tokens (half the time with a
    /// sub-unit remainder).
    fn payment_amount(&mut self, asset: usize) -> U256 {
        match self.prng.below(100) {
            0..=2 => U256::ZERO,
            3..=12 => U256::from(self.prng.range(1, 1_000)),
            _ => {
                let unit = whole(asset);
                let amount = unit * U256::from(self.prng.range(1, 20_000)) / U256::from(1_000u64);
                if self.prng.chance(50, 100) {
                    amount + U256::from(self.prng.next_u64()) % unit
                } else {
                    amount
                }
            }
        }
    }

    /// The highest commission a payer accepts: mostly the maximum or more, sometimes less than the operator's.
    fn max_commission(&mut self) -> u16 {
        match self.prng.below(100) {
            0..=49 => MAX_COMMISSION_BPS,
            50..=64 => u16::MAX,
            65..=79 => [0, 100, 500, 1_000, 2_500][self.prng.pick(5)],
            _ => self.prng.range(0, u64::from(MAX_COMMISSION_BPS)) as u16,
        }
    }

    /// A payment into a pool (mostly an earning one).
    fn pay(&mut self) {
        let Some(pool) = self.paid_pool() else {
            return;
        };
        let amount = self.payment_amount(self.spec.pools[pool].asset);
        let max_commission_bps = self.max_commission();
        self.push(Step::Pay {
            pool,
            amount,
            max_commission_bps,
        });
    }

    /// A staker claims its position's rewards: mostly one with something to claim.
    fn claim_rewards(&mut self) {
        let mut owed = Vec::new();
        for pool in self.earning_pools() {
            let id = self.model.pool_id(&self.spec, pool).expect("exists");
            for s in 0..self.spec.stakers.len() {
                if self
                    .model
                    .claimable(id, Holder::Staker(s))
                    .is_ok_and(|c| !c.is_zero())
                {
                    owed.push((s, pool));
                }
            }
        }
        let (staker, pool) = if !owed.is_empty() && self.prng.chance(80, 100) {
            owed[self.prng.pick(owed.len())]
        } else {
            let Some(pool) = self.any_pool() else {
                return;
            };
            (self.prng.pick(self.spec.stakers.len()), pool)
        };
        let staker = self.spec.stakers[staker].clone();
        self.push(Step::ClaimRewards { staker, pool });
    }

    /// What the withdrawal labelled `label` earned in escrow and has not claimed.
    fn escrow_owed(&self, label: &str) -> U256 {
        let Some((_, wid)) = self.model.withdrawal(label) else {
            return U256::ZERO;
        };
        let id: usize = (wid >> 64usize).saturating_to();
        let index: usize = (wid & U256::from(u64::MAX)).saturating_to();
        self.model.claimable_escrow(id, index).unwrap_or(U256::ZERO)
    }

    /// A withdrawal's escrow rewards claimed: mostly one that earned something (if none has, often after a payment
    /// into the pool of one still in escrow), mostly by its owner.
    fn claim_escrow_rewards(&mut self) {
        if self.queued.is_empty() {
            return;
        }
        let owed = |b: &Self| -> Vec<(String, usize)> {
            b.queued
                .iter()
                .filter(|(label, _)| !b.escrow_owed(label).is_zero())
                .cloned()
                .collect()
        };
        let mut earned = owed(self);
        if earned.is_empty() && self.prng.chance(70, 100) {
            self.pay_escrow();
            earned = owed(self);
        }
        let (label, owner) = if !earned.is_empty() && self.prng.chance(85, 100) {
            earned[self.prng.pick(earned.len())].clone()
        } else {
            self.queued[self.prng.pick(self.queued.len())].clone()
        };
        let staker = if self.prng.chance(90, 100) {
            owner
        } else {
            self.prng.pick(self.spec.stakers.len())
        };
        self.push(Step::ClaimEscrowRewards {
            staker: self.spec.stakers[staker].clone(),
            withdrawal: label,
        });
    }

    /// A payment into the earning pool of a withdrawal still in escrow (queued there, not yet settled or claimed).
    fn pay_escrow(&mut self) {
        let mut pools = Vec::new();
        for (label, _) in &self.queued {
            let Some((_, wid)) = self.model.withdrawal(label) else {
                continue;
            };
            let id: usize = (wid >> 64usize).saturating_to();
            let index: usize = (wid & U256::from(u64::MAX)).saturating_to();
            if self.model.earns(id) && self.model.in_escrow(id, index) {
                pools.extend(
                    (0..self.spec.pools.len())
                        .filter(|&p| self.model.pool_id(&self.spec, p) == Some(id)),
                );
            }
        }
        if pools.is_empty() {
            return;
        }
        let pool = pools[self.prng.pick(pools.len())];
        let amount = self.payment_amount(self.spec.pools[pool].asset);
        let max_commission_bps = self.max_commission();
        self.push(Step::Pay {
            pool,
            amount,
            max_commission_bps,
        });
    }

    /// An operator claims its commission in a token: mostly one it is owed.
    fn claim_commission(&mut self) {
        let owed: Vec<(usize, usize)> = (0..self.spec.operators.len())
            .flat_map(|o| (0..3).map(move |a| (o, a)))
            .filter(|&(o, a)| !self.model.commission_owed(o, a).is_zero())
            .collect();
        let (operator, asset) = if !owed.is_empty() && self.prng.chance(80, 100) {
            owed[self.prng.pick(owed.len())]
        } else {
            let assets: Vec<usize> = self.spec.pools.iter().map(|p| p.asset).collect();
            (
                self.prng.pick(self.spec.operators.len()),
                assets[self.prng.pick(assets.len())],
            )
        };
        self.push(Step::ClaimCommission {
            operator: self.spec.operators[operator].clone(),
            asset,
        });
    }

    /// A payment into an earning pool, then every staker with something to claim there claims it, and so does each
    /// withdrawal's owner.
    fn pay_and_claim_all(&mut self) {
        let earning = self.earning_pools();
        if earning.is_empty() {
            self.pay();
            return;
        }
        let pool = earning[self.prng.pick(earning.len())];
        let amount = self.payment_amount(self.spec.pools[pool].asset);
        let max_commission_bps = self.max_commission();
        self.push(Step::Pay {
            pool,
            amount,
            max_commission_bps,
        });
        let id = self.model.pool_id(&self.spec, pool).expect("exists");
        for s in 0..self.spec.stakers.len() {
            if self
                .model
                .claimable(id, Holder::Staker(s))
                .is_ok_and(|c| !c.is_zero())
            {
                let staker = self.spec.stakers[s].clone();
                self.push(Step::ClaimRewards { staker, pool });
            }
        }
        for (label, owner) in self.queued.clone() {
            let in_pool = self
                .model
                .withdrawal(&label)
                .is_some_and(|(_, wid)| wid >> 64usize == U256::from(id));
            if in_pool && !self.escrow_owed(&label).is_zero() {
                self.push(Step::ClaimEscrowRewards {
                    staker: self.spec.stakers[owner].clone(),
                    withdrawal: label,
                });
            }
        }
    }

    /// A deposit of 2–60 × 10³⁶ units (and a remainder) into a base pool; then, if it earns, payments of a few units
    /// that move nobody's rewards (`PaymentTooSmall`).
    fn whale(&mut self) {
        let bases: Vec<usize> = self
            .existing_pools()
            .into_iter()
            .filter(|&p| self.spec.pools[p].tier_of.is_none())
            .collect();
        if bases.is_empty() {
            return;
        }
        let pool = bases[self.prng.pick(bases.len())];
        let staker = self.spec.stakers[self.prng.pick(self.spec.stakers.len())].clone();
        let amount = U256::from(10u64).pow(U256::from(36u64)) * U256::from(self.prng.range(2, 60))
            + U256::from(self.prng.next_u64());
        self.push(Action::Deposit {
            staker,
            pool,
            amount,
        });
        for _ in 0..self.prng.range(1, 2) {
            let amount = U256::from(self.prng.range(1, 9));
            let max_commission_bps = self.max_commission();
            self.push(Step::Pay {
                pool,
                amount,
                max_commission_bps,
            });
        }
    }
}

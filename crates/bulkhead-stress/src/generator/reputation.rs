//! The reputation steps of a scenario with the layer on: epochs closed by checkpoints, bonds and their withdrawals,
//! standings (every pool, or a random subset), re-pricing, held bonds, reported slashes, and wrongful requests that
//! are vetoed. Each is aimed with the model (a pool the AVS is allocated in, a bond that is queued, a request that is
//! pending) but sometimes not, so that every refusal is predicted too.

use alloy::primitives::U256;
use bulkhead_scenario::Action;

use super::{Builder, bond_amount, fraction};
use crate::{model::WAD, spec::Step};

impl Builder {
    /// One reputation step (or a short burst: an epoch with its checkpoints, a request and its veto).
    pub(super) fn reputation_step(&mut self) {
        match self.rrng.below(100) {
            0..=17 => self.epoch(),
            18..=25 => {
                if self.rrng.chance(50, 100) {
                    let avs = self.rrng.pick(self.spec.avs.len());
                    self.checkpoint_avs(avs);
                } else {
                    let operator = self.rrng.pick(self.spec.operators.len());
                    self.checkpoint_operator(operator);
                }
            }
            26..=35 => {
                let avs = self.rrng.pick(self.spec.avs.len());
                self.refresh(avs);
            }
            36..=44 => self.bond(),
            45..=51 => self.unbond(),
            52..=58 => self.complete_unbond(),
            59..=69 => self.reprice(),
            70..=78 => self.report(),
            _ => self.wrongful_request(),
        }
    }

    /// In 30% of the scenarios with reputation, right after the set-up: 2–8 epochs in which most AVSs and some
    /// operators close their epoch on a pool they back, then every standing pushed and every pool re-priced, so
    /// that ratings (and with them risk weights and bond fractions) leave the floor before the random steps.
    pub(super) fn season(&mut self) {
        if self.spec.reputation.is_none() || !self.rrng.chance(30, 100) {
            return;
        }
        for _ in 0..self.rrng.range(2, 8) {
            self.next_epoch(1);
            for avs in 0..self.spec.avs.len() {
                if self.rrng.chance(90, 100) {
                    self.checkpoint_avs(avs);
                }
            }
            for operator in 0..self.spec.operators.len() {
                if self.rrng.chance(50, 100) {
                    self.checkpoint_operator(operator);
                }
            }
        }
        for avs in 0..self.spec.avs.len() {
            self.push(Action::RefreshStanding { avs, by: None });
        }
        for pool in self.existing_pools() {
            self.push(Action::Reprice { pool });
        }
    }

    /// Time to the start of the `epochs`-th next epoch, and up to two days into it.
    fn next_epoch(&mut self, epochs: u64) {
        let length = bulkhead_evm::DeployConfig::default().epoch_length;
        let elapsed = self.model.now.saturating_sub(self.genesis);
        let boundary = (elapsed / length + epochs) * length;
        let seconds = boundary - elapsed + self.rrng.below(2 * 86_400);
        self.push(Action::Warp { seconds });
    }

    /// Time to the next epoch (now and then several), then checkpoints of most AVSs and operators, and some of the
    /// standings and re-pricings those with an interest would send.
    fn epoch(&mut self) {
        let epochs = if self.rrng.chance(80, 100) {
            1
        } else {
            self.rrng.range(2, 8)
        };
        self.next_epoch(epochs);
        for avs in 0..self.spec.avs.len() {
            if self.rrng.chance(65, 100) {
                self.checkpoint_avs(avs);
            }
        }
        for operator in 0..self.spec.operators.len() {
            if self.rrng.chance(50, 100) {
                self.checkpoint_operator(operator);
            }
        }
        for avs in 0..self.spec.avs.len() {
            if self.rrng.chance(30, 100) {
                self.refresh(avs);
            }
        }
        if self.rrng.chance(40, 100) {
            self.reprice();
        }
    }

    /// Existing pools (spec indexes) where `avs` has an allocation record.
    fn pools_of(&self, avs: usize) -> Vec<usize> {
        (0..self.spec.pools.len())
            .filter(|&p| {
                self.model
                    .pool_id(&self.spec, p)
                    .is_some_and(|id| self.model.has_allocation(id, avs))
            })
            .collect()
    }

    /// Existing pools (spec indexes).
    pub(super) fn existing_pools(&self) -> Vec<usize> {
        (0..self.spec.pools.len())
            .filter(|&p| self.model.pool_id(&self.spec, p).is_some())
            .collect()
    }

    /// Now and then a third party sends a checkpoint (a staker or an operator): refused while the subject has the
    /// epoch to itself.
    fn stranger(&mut self) -> Option<String> {
        if !self.rrng.chance(12, 100) {
            return None;
        }
        let n = self.spec.stakers.len() + self.spec.operators.len();
        let i = self.rrng.pick(n);
        Some(if i < self.spec.stakers.len() {
            self.spec.stakers[i].clone()
        } else {
            self.spec.operators[i - self.spec.stakers.len()].clone()
        })
    }

    /// The AVS closes its epoch, mostly on a pool it is allocated in.
    fn checkpoint_avs(&mut self, avs: usize) {
        let mine = self.pools_of(avs);
        let all = self.existing_pools();
        let pool = if !mine.is_empty() && self.rrng.chance(75, 100) {
            mine[self.rrng.pick(mine.len())]
        } else if !all.is_empty() {
            all[self.rrng.pick(all.len())]
        } else {
            return;
        };
        let by = self.stranger();
        self.push(Action::Checkpoint {
            avs: Some(avs),
            operator: None,
            pool,
            by,
        });
    }

    /// The operator closes its epoch, mostly on one of its own pools.
    fn checkpoint_operator(&mut self, operator: usize) {
        let all = self.existing_pools();
        let own: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&p| self.spec.pools[p].operator == operator)
            .collect();
        let pool = if !own.is_empty() && self.rrng.chance(88, 100) {
            own[self.rrng.pick(own.len())]
        } else if !all.is_empty() {
            all[self.rrng.pick(all.len())]
        } else {
            return;
        };
        let name = self.spec.operators[operator].clone();
        let by = self.stranger().filter(|b| *b != name);
        self.push(Action::Checkpoint {
            avs: None,
            operator: Some(name),
            pool,
            by,
        });
    }

    /// A standing: every pool (the scenario format's `refresh_standing`), or a random subset in a random order.
    fn refresh(&mut self, avs: usize) {
        if self.rrng.chance(50, 100) {
            self.push(Action::RefreshStanding { avs, by: None });
            return;
        }
        let mut pools = self.existing_pools();
        for i in (1..pools.len()).rev() {
            let j = self.rrng.pick(i + 1);
            pools.swap(i, j);
        }
        let keep = self.rrng.below(pools.len() as u64 + 1) as usize;
        pools.truncate(keep);
        if !pools.is_empty() && self.rrng.chance(5, 100) {
            let again = pools[self.rrng.pick(pools.len())];
            pools.push(again);
        }
        self.push(Step::Refresh { avs, pools });
    }

    /// An asset of the scenario's pools (mostly), or any built-in one.
    fn bond_asset(&mut self) -> usize {
        let assets: Vec<usize> = self.spec.pools.iter().map(|p| p.asset).collect();
        if self.rrng.chance(90, 100) {
            assets[self.rrng.pick(assets.len())]
        } else {
            self.rrng.pick(3)
        }
    }

    /// A bond deposit (now and then of nothing).
    fn bond(&mut self) {
        let avs = self.rrng.pick(self.spec.avs.len());
        let asset = self.bond_asset();
        let amount = if self.rrng.chance(3, 100) {
            U256::ZERO
        } else {
            bond_amount(&mut self.rrng, asset)
        };
        self.push(Action::Bond {
            avs,
            asset,
            amount,
            by: None,
        });
    }

    /// A queued bond withdrawal of part of what is available (sometimes more, or nothing), mostly of a bond that
    /// has something available; now and then paid out after its delay.
    fn unbond(&mut self) {
        let bonded: Vec<(usize, usize)> = (0..self.spec.avs.len())
            .flat_map(|a| (0..3).map(move |asset| (a, asset)))
            .filter(|&(a, asset)| !self.model.bond(a, asset).available.is_zero())
            .collect();
        let (avs, asset) = if !bonded.is_empty() && self.rrng.chance(85, 100) {
            bonded[self.rrng.pick(bonded.len())]
        } else {
            (self.rrng.pick(self.spec.avs.len()), self.bond_asset())
        };
        let available = self.model.bond(avs, asset).available;
        let amount = match self.rrng.below(100) {
            0..=4 => U256::ZERO,
            5..=14 => available + U256::from(self.rrng.range(1, 1_000)),
            _ if available.is_zero() => U256::from(self.rrng.range(1, 1_000)),
            _ => {
                let f = fraction(&mut self.rrng, 1, 100);
                (available * U256::from(f) / U256::from(WAD)).max(U256::from(1u64))
            }
        };
        self.push(Action::Unbond { avs, asset, amount });
        if self.rrng.chance(35, 100) {
            self.complete_unbond_of(avs, asset);
        }
    }

    /// The payout of a queued bond withdrawal, mostly of one that is queued, often after waiting for it.
    fn complete_unbond(&mut self) {
        let queued: Vec<(usize, usize)> = (0..self.spec.avs.len())
            .flat_map(|a| (0..3).map(move |asset| (a, asset)))
            .filter(|&(a, asset)| !self.model.bond(a, asset).queued.is_zero())
            .collect();
        let (avs, asset) = if !queued.is_empty() && self.rrng.chance(80, 100) {
            queued[self.rrng.pick(queued.len())]
        } else {
            (self.rrng.pick(self.spec.avs.len()), self.bond_asset())
        };
        self.complete_unbond_of(avs, asset);
    }

    /// The payout of the AVS's queued withdrawal in `asset`, often after waiting for its maturity.
    fn complete_unbond_of(&mut self, avs: usize, asset: usize) {
        let maturity = self.model.bond(avs, asset).maturity;
        if maturity > self.model.now && self.rrng.chance(60, 100) {
            let seconds = maturity - self.model.now + self.rrng.below(86_400);
            self.push(Action::Warp { seconds });
        }
        self.push(Step::CompleteUnbond { avs, asset });
    }

    /// `applyPending` of an existing pool: its shared allocations re-priced at their AVSs' weights.
    fn reprice(&mut self) {
        let all = self.existing_pools();
        if all.is_empty() {
            return;
        }
        let pool = all[self.rrng.pick(all.len())];
        self.push(Action::Reprice { pool });
    }

    /// A request's label: mostly one that is still pending (`pending`) or not.
    fn request_label(&mut self, pending: bool) -> Option<String> {
        if self.requests.is_empty() {
            return None;
        }
        let wanted: Vec<String> = self
            .requests
            .iter()
            .filter(|(label, _)| self.model.executable_at(label).is_some() == pending)
            .map(|(label, _)| label.clone())
            .collect();
        if !wanted.is_empty() && self.rrng.chance(80, 100) {
            return Some(wanted[self.rrng.pick(wanted.len())].clone());
        }
        let (label, _) = &self.requests[self.rrng.pick(self.requests.len())];
        Some(label.clone())
    }

    /// `reportExecutedSlash` of a request, mostly an executed one (after executing it, if it can be).
    fn report(&mut self) {
        let executed: Vec<String> = self
            .requests
            .iter()
            .filter(|(label, _)| self.model.request_executed(label))
            .map(|(label, _)| label.clone())
            .collect();
        let request = if !executed.is_empty() && self.rrng.chance(75, 100) {
            executed[self.rrng.pick(executed.len())].clone()
        } else {
            if self.rrng.chance(50, 100) {
                self.execute();
            }
            match self.request_label(false) {
                Some(label) => label,
                None => return,
            }
        };
        if self.model.request_filed(&request) {
            self.push(Step::ReportExecuted { request });
        }
    }

    /// A veto AVS files a request where it is allocated and its resolver vetoes it (mostly within the window): the
    /// AVS's fault and its penalty. Without one, an ordinary slash.
    fn wrongful_request(&mut self) {
        let pairs: Vec<(usize, usize)> = (0..self.spec.avs.len())
            .filter(|&a| self.spec.avs[a].veto_window.is_some())
            .flat_map(|a| self.pools_of(a).into_iter().map(move |p| (p, a)))
            .collect();
        if pairs.is_empty() {
            self.slash();
            return;
        }
        let (pool, avs) = pairs[self.rrng.pick(pairs.len())];
        let max = self.spec.avs[avs].max_slash;
        let f = fraction(&mut self.rrng, 1, 100).min(max);
        let label = format!("r{}", self.next_label());
        self.requests.push((label.clone(), avs));
        self.push(Action::RequestSlash {
            avs,
            pool,
            fraction: f,
            label: Some(label.clone()),
            by: None,
            voters: None,
        });
        if !self.model.request_filed(&label) {
            return;
        }
        if self.rrng.chance(30, 100) {
            // A payout the request holds (`BondOnHold`), if a matured withdrawal is waiting.
            if let Some(asset) = (0..3).find(|&a| !self.model.bond(avs, a).queued.is_zero()) {
                self.push(Step::CompleteUnbond { avs, asset });
            }
        }
        if self.rrng.chance(40, 100) {
            let window = self.spec.avs[avs].veto_window.unwrap_or(3_600);
            let seconds = self.rrng.below(window + window / 10);
            self.push(Action::Warp { seconds });
        }
        self.push(Action::Veto {
            avs,
            request: Some(label),
            by: None,
        });
    }
}

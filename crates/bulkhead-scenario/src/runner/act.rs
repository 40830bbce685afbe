//! One method per step action: each maps the step's names to addresses and ids, sends the driver's verbs through
//! [`Exec`] (which records the step's transactions and stops at the first revert) and says what it did in words.

use super::Result;
use alloy::primitives::{Address, U256, keccak256};
use bulkhead_contracts::{Mode, WAD, bindings::AllocationManager::AllocationManagerEvents};
use bulkhead_evm::{BulkheadEvent, signer_of};
use bulkhead_protocol::Views;

use super::{Exec, KEEPER, RequestRec, Run, WithdrawalRec};
use crate::{
    model::{Action, Amount, AvsKind, Loc, Step},
    units::{format_duration, format_percent, format_units},
};

impl Run<'_> {
    /// Sends the step's transactions; returns what it did, in words.
    pub(super) fn act(&mut self, step: &Step, exec: &mut Exec) -> Result<String> {
        match &step.action {
            Action::Deposit {
                staker,
                pool,
                amount,
            } => self.deposit_step(exec, staker, *pool, *amount),
            Action::DepositToTier {
                staker,
                pool,
                shares,
            } => self.deposit_to_tier_step(step, exec, staker, *pool, *shares),
            Action::Allocate {
                pool,
                avs,
                mode,
                fraction,
                by,
                opt_in,
            } => self.allocate_step(
                step,
                exec,
                (*pool, *avs),
                *mode,
                *fraction,
                by.as_deref(),
                *opt_in,
            ),
            Action::Deallocate {
                pool,
                avs,
                fraction,
                by,
            } => self.deallocate(step, exec, *pool, *avs, *fraction, by.as_deref()),
            Action::Warp { seconds } => {
                self.engine.warp(*seconds);
                Ok(format!("time passes: {}", format_duration(*seconds)))
            }
            Action::QueueWithdrawal {
                staker,
                pool,
                amount,
                label,
            } => self.queue_withdrawal(step, exec, staker, *pool, amount, label),
            Action::Claim {
                staker,
                withdrawal,
                receiver,
            } => self.claim(
                step,
                exec,
                staker,
                withdrawal.as_deref(),
                receiver.as_deref(),
            ),
            Action::RequestSlash {
                avs,
                pool,
                fraction,
                label,
                by,
                voters,
            } => self.request_slash(
                step,
                exec,
                *avs,
                *pool,
                *fraction,
                label,
                by.as_deref(),
                voters.as_deref(),
            ),
            Action::Veto { avs, request, by } => {
                self.veto(step, exec, *avs, request.as_deref(), by.as_deref())
            }
            Action::ExecuteSlash { avs, request, by } => {
                self.execute_slash(step, exec, *avs, request.as_deref(), by.as_deref())
            }
            Action::Slash {
                avs,
                pool,
                fraction,
                by,
            } => self.slash(step, exec, *avs, *pool, *fraction, by.as_deref()),
            Action::DoubleSign {
                avs,
                operator,
                round,
                pools,
                signer,
                by,
            } => {
                let who = (operator.as_str(), signer.as_deref(), by.as_deref());
                self.double_sign(step, exec, *avs, who, *round, pools.as_deref())
            }
            Action::OptIn { operator, avs } | Action::OptOut { operator, avs } => self
                .membership_step(
                    exec,
                    operator,
                    *avs,
                    matches!(step.action, Action::OptIn { .. }),
                ),
            Action::Bond {
                avs,
                asset,
                amount,
                by,
            } => self.bond_step(exec, (*avs, *asset), *amount, by.as_deref()),
            Action::Unbond { avs, asset, amount } => {
                self.unbond_step(exec, (*avs, *asset), *amount)
            }
            Action::Checkpoint {
                avs,
                operator,
                pool,
                by,
            } => self.checkpoint_step(
                step,
                exec,
                (*avs, operator.as_deref()),
                *pool,
                by.as_deref(),
            ),
            Action::RefreshStanding { avs, by } => {
                self.refresh_standing_step(exec, *avs, by.as_deref())
            }
            Action::Reprice { pool } => self.reprice_step(step, exec, *pool),
            Action::Bid { .. }
            | Action::Ask { .. }
            | Action::Fill { .. }
            | Action::CancelBid { .. }
            | Action::CancelAsk { .. }
            | Action::Stream { .. }
            | Action::ClaimRewards { .. }
            | Action::WithdrawRefunds { .. }
            | Action::ClaimCommission { .. }
            | Action::SetCommission { .. }
            | Action::Pay { .. } => self.market_step(step, exec),
            Action::Expect(checks) => Ok(match checks.len() {
                1 => "1 check".to_string(),
                n => format!("{n} checks"),
            }),
        }
    }

    fn deposit_step(
        &mut self,
        exec: &mut Exec,
        staker: &str,
        pool: usize,
        amount: U256,
    ) -> Result<String> {
        self.deposit(exec, staker, pool, amount)?;
        let asset = &self.sc.assets[self.sc.pools[pool].asset];
        Ok(format!(
            "{staker} deposits {} {} into {}",
            format_units(amount, asset.decimals),
            asset.symbol,
            self.sc.pools[pool].name
        ))
    }

    fn deposit_to_tier_step(
        &mut self,
        step: &Step,
        exec: &mut Exec,
        staker: &str,
        pool: usize,
        shares: U256,
    ) -> Result<String> {
        self.deposit_to_tier(exec, staker, pool, shares, step.loc_of("pool"))?;
        let base = &self.sc.pools[self.sc.pools[pool].tier_of.expect("a tier")];
        Ok(format!(
            "{staker} moves {} {} shares into tier {}",
            format_units(shares, self.sc.assets[base.asset].decimals),
            base.name,
            self.sc.pools[pool].name
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn allocate_step(
        &mut self,
        step: &Step,
        exec: &mut Exec,
        (pool, avs): (usize, usize),
        mode: Mode,
        fraction: u64,
        by: Option<&str>,
        opt_in: bool,
    ) -> Result<String> {
        let pool_id = self.require_pool(pool, step.loc_of("pool"))?;
        self.allocate(exec, pool_id, pool, avs, mode, fraction, by, opt_in)?;
        Ok(format!(
            "{} allocates {} to {} ({})",
            self.sc.pools[pool].name,
            format_percent(U256::from(fraction)),
            self.sc.avs[avs].name,
            mode.name()
        ))
    }

    fn slash(
        &mut self,
        step: &Step,
        exec: &mut Exec,
        avs: usize,
        pool: usize,
        fraction: u64,
        by: Option<&str>,
    ) -> Result<String> {
        let pool_id = self.require_pool(pool, step.loc_of("pool"))?;
        let rt = self.avs[avs];
        let from = by.map_or(rt.module, |b| self.engine.actor(b));
        exec.main(|| self.protocol().slash(from, rt.id, pool_id, fraction))?;
        Ok(format!(
            "{} slashes {} of its backing in {}",
            self.sc.avs[avs].name,
            format_percent(U256::from(fraction)),
            self.sc.pools[pool].name
        ))
    }

    /// `opt_in` (`joins`) or `opt_out` (`leaves`).
    fn membership_step(
        &mut self,
        exec: &mut Exec,
        operator: &str,
        avs: usize,
        join: bool,
    ) -> Result<String> {
        let (from, avs_id) = (self.actor(operator), self.avs[avs].id);
        if let Some(desk) = self.desks.get(operator).copied() {
            if join {
                exec.main(|| self.protocol().desk_opt_in(from, desk, avs_id))?;
                return Ok(format!("{operator}'s desk joins {}", self.sc.avs[avs].name));
            }
            exec.main(|| self.protocol().desk_opt_out(from, desk, avs_id))?;
            return Ok(format!(
                "{operator}'s desk leaves {}",
                self.sc.avs[avs].name
            ));
        }
        if join {
            exec.main(|| self.protocol().opt_in(from, avs_id))?;
            Ok(format!("{operator} joins {}", self.sc.avs[avs].name))
        } else {
            exec.main(|| self.protocol().opt_out(from, avs_id))?;
            Ok(format!("{operator} leaves {}", self.sc.avs[avs].name))
        }
    }

    /// Mints (unless the staker was funded in the preamble), approves and deposits.
    pub(super) fn deposit(
        &mut self,
        exec: &mut Exec,
        staker: &str,
        pool: usize,
        amount: U256,
    ) -> Result<()> {
        let from = self.actor(staker);
        let asset = self.assets[self.sc.pools[pool].asset];
        let operator = self.operator_address(&self.sc.pools[pool].operator.clone());
        let funded = self
            .sc
            .stakers
            .iter()
            .any(|s| s.name == staker && s.funding.is_some());
        if !funded {
            exec.prepare(|| self.protocol().mint(asset, from, amount))?;
        }
        exec.prepare(|| self.protocol().approve_vault(from, asset, amount))?;
        exec.main(|| self.protocol().deposit(from, operator, asset, amount))?;
        self.desk_pool_earns(exec, pool)?;
        Ok(())
    }

    /// Opens the base pool to the scenario's tier (the owner allows tiers, the base's operator approves the tier's
    /// operator) and moves the staker's base shares into it.
    pub(super) fn deposit_to_tier(
        &mut self,
        exec: &mut Exec,
        staker: &str,
        pool: usize,
        shares: U256,
        loc: &Loc,
    ) -> Result<()> {
        let base = self.sc.pools[pool].tier_of.expect("a tier");
        let base_id = self.require_pool(base, loc)?;
        for side in [pool, base] {
            let operator = &self.sc.pools[side].operator;
            if self.desks.contains_key(operator) {
                let message = format!(
                    "pool {:?}'s operator {operator} sells through a desk: tiers over or of a desk's pools are not supported in scenarios",
                    self.sc.pools[side].name
                );
                return Err(self.sc.error_at(loc, message).into());
            }
        }
        let from = self.actor(staker);
        let operator = self.actor(&self.sc.pools[pool].operator.clone());
        let base_operator = self.actor(&self.sc.pools[base].operator.clone());
        exec.prepare(|| self.protocol().open_tier(base_id, base_operator, operator))?;
        exec.main(|| {
            self.protocol()
                .deposit_to_tier(from, base_id, operator, shares)
        })?;
        Ok(())
    }

    /// Opts the pool's operator in first when `opt_in`, then allocates (sent by `by`, or the operator).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn allocate(
        &mut self,
        exec: &mut Exec,
        pool_id: U256,
        pool: usize,
        avs: usize,
        mode: Mode,
        fraction: u64,
        by: Option<&str>,
        opt_in: bool,
    ) -> Result<()> {
        let name = self.sc.pools[pool].operator.clone();
        let avs_id = self.avs[avs].id;
        if let (Some(desk), None) = (self.desks.get(&name).copied(), by) {
            // A desk's owner allocates through the desk (which refuses while a lease holds the pair).
            let owner = self.actor(&name);
            if opt_in && !self.protocol().membership(avs_id, desk)?.optedIn {
                exec.prepare(|| self.protocol().desk_opt_in(owner, desk, avs_id))?;
            }
            exec.main(|| {
                self.protocol()
                    .desk_allocate(owner, desk, pool_id, avs_id, mode, fraction)
            })?;
            return Ok(());
        }
        let operator = self.operator_address(&name);
        let from = by.map_or(operator, |b| self.engine.actor(b));
        if opt_in {
            exec.prepare(|| self.protocol().ensure_opted_in(operator, avs_id))?;
        }
        exec.main(|| {
            self.protocol()
                .allocate(from, pool_id, avs_id, mode, fraction)
        })?;
        Ok(())
    }

    /// Lowers an allocation in its current mode (shared when there is none, to see the refusal).
    fn deallocate(
        &mut self,
        step: &Step,
        exec: &mut Exec,
        pool: usize,
        avs: usize,
        fraction: u64,
        by: Option<&str>,
    ) -> Result<String> {
        let pool_id = self.require_pool(pool, step.loc_of("pool"))?;
        let avs_id = self.avs[avs].id;
        let current = self.protocol().allocation(pool_id, avs_id)?.mode;
        let mode = Mode::from_code(current).unwrap_or(Mode::Shared);
        self.allocate(exec, pool_id, pool, avs, mode, fraction, by, false)?;
        Ok(format!(
            "{} lowers {} to {}",
            self.sc.pools[pool].name,
            self.sc.avs[avs].name,
            format_percent(U256::from(fraction))
        ))
    }

    fn queue_withdrawal(
        &mut self,
        step: &Step,
        exec: &mut Exec,
        staker: &str,
        pool: usize,
        amount: &Amount,
        label: &Option<String>,
    ) -> Result<String> {
        let pool_id = self.require_pool(pool, step.loc_of("pool"))?;
        let from = self.actor(staker);
        let shares = match amount {
            Amount::Shares(s) => *s,
            Amount::Fraction(f) => {
                let held = self.protocol().shares_of(from, pool_id)?;
                held * U256::from(*f) / U256::from(WAD)
            }
        };
        if let Some(id) = exec.main(|| self.protocol().queue_withdrawal(from, pool_id, shares))? {
            self.withdrawals.push(WithdrawalRec {
                label: label.clone(),
                staker: staker.to_string(),
                id,
                claimed: false,
            });
        }
        let what = match amount {
            Amount::Fraction(f) => format!("{} of its shares", format_percent(U256::from(*f))),
            Amount::Shares(_) => "shares".to_string(),
        };
        Ok(format!(
            "{staker} queues {} shares ({what}) of {}",
            format_units(shares, self.sc.assets[self.sc.pools[pool].asset].decimals),
            self.sc.pools[pool].name
        ))
    }

    fn claim(
        &mut self,
        step: &Step,
        exec: &mut Exec,
        staker: &str,
        withdrawal: Option<&str>,
        receiver: Option<&str>,
    ) -> Result<String> {
        let index = match withdrawal {
            Some(label) => self
                .withdrawals
                .iter()
                .position(|w| w.label.as_deref() == Some(label)),
            None => self
                .withdrawals
                .iter()
                .position(|w| w.staker == staker && !w.claimed),
        };
        let Some(index) = index else {
            let message = match withdrawal {
                Some(label) => format!("withdrawal {label:?} was not queued (its step reverted)"),
                None => format!("{staker} has no unclaimed withdrawal queued in this scenario"),
            };
            return Err(self.sc.error_at(step.loc_of("withdrawal"), message).into());
        };
        let id = self.withdrawals[index].id;
        let from = self.actor(staker);
        let to = receiver.map_or(from, |r| self.engine.actor(r));
        if exec
            .main(|| self.protocol().complete_withdrawal(from, id, to))?
            .is_some()
        {
            self.withdrawals[index].claimed = true;
        }
        let name = self.withdrawals[index]
            .label
            .clone()
            .unwrap_or_else(|| format!("#{id}"));
        Ok(format!("{staker} claims withdrawal {name}"))
    }

    /// A committee AVS proposes and its voters vote (quorum requests the slash); any other AVS requests directly.
    #[allow(clippy::too_many_arguments)]
    fn request_slash(
        &mut self,
        step: &Step,
        exec: &mut Exec,
        avs: usize,
        pool: usize,
        fraction: u64,
        label: &Option<String>,
        by: Option<&str>,
        voters: Option<&[String]>,
    ) -> Result<String> {
        let pool_id = self.require_pool(pool, step.loc_of("pool"))?;
        let rt = self.avs[avs];
        let mut rec = RequestRec {
            label: label.clone(),
            avs,
            request_id: None,
            proposal_id: None,
        };
        match &self.sc.avs[avs].kind {
            AvsKind::Committee {
                members, quorum, ..
            } => {
                let voters = voters.unwrap_or(&members[..*quorum as usize]).to_vec();
                let evidence = keccak256(format!("{}: steps[{}]", self.sc.file, step.index));
                let proposer = self.actor(&voters[0]);
                rec.proposal_id = exec.main(|| {
                    self.protocol()
                        .propose(proposer, rt.module, pool_id, fraction, evidence)
                })?;
                if let Some(proposal) = rec.proposal_id {
                    for voter in &voters[1..] {
                        let from = self.actor(voter);
                        exec.main(|| self.protocol().vote(from, rt.module, proposal))?;
                    }
                }
            }
            _ => {
                let from = by.map_or(rt.module, |b| self.engine.actor(b));
                exec.main(|| {
                    self.protocol()
                        .request_slash(from, rt.id, pool_id, fraction)
                })?;
            }
        }
        rec.request_id = exec.events.iter().find_map(|e| match &e.typed {
            Some(BulkheadEvent::Manager(AllocationManagerEvents::SlashRequested(r))) => {
                Some(r.requestId)
            }
            _ => None,
        });
        if exec.revert.is_none() {
            self.requests.push(rec);
        }
        Ok(format!(
            "{} requests {} of its backing in {}",
            self.sc.avs[avs].name,
            format_percent(U256::from(fraction)),
            self.sc.pools[pool].name
        ))
    }

    /// The request a `veto` or `execute_slash` step names (by label, or the AVS's latest).
    fn request(&self, step: &Step, avs: usize, label: Option<&str>) -> Result<RequestRec> {
        let found = match label {
            Some(label) => self
                .requests
                .iter()
                .find(|r| r.label.as_deref() == Some(label)),
            None => self.requests.iter().rev().find(|r| r.avs == avs),
        };
        found.cloned().ok_or_else(|| {
            let message = format!(
                "AVS {:?} has not requested a slash yet",
                self.sc.avs[avs].name
            );
            self.sc.error_at(step.loc_of("avs"), message).into()
        })
    }

    fn veto(
        &mut self,
        step: &Step,
        exec: &mut Exec,
        avs: usize,
        request: Option<&str>,
        by: Option<&str>,
    ) -> Result<String> {
        let rec = self.request(step, avs, request)?;
        let request_id = rec.request_id.ok_or_else(|| {
            self.sc.error_at(
                step.loc_of("request"),
                "that proposal never reached its quorum: there is no request to veto",
            )
        })?;
        let resolver = self.sc.avs[avs]
            .kind
            .resolver()
            .expect("a veto flow")
            .to_string();
        let from = self.actor(by.unwrap_or(&resolver));
        exec.main(|| self.protocol().veto(from, request_id))?;
        Ok(format!(
            "{} vetoes request #{request_id} of {}",
            self.engine.name_of(from),
            self.sc.avs[avs].name
        ))
    }

    /// A committee's proposal is executed through its module (by anyone); any other request by the AVS's module.
    fn execute_slash(
        &mut self,
        step: &Step,
        exec: &mut Exec,
        avs: usize,
        request: Option<&str>,
        by: Option<&str>,
    ) -> Result<String> {
        let rec = self.request(step, avs, request)?;
        let rt = self.avs[avs];
        if let AvsKind::Committee { .. } = &self.sc.avs[avs].kind {
            let proposal = rec.proposal_id.expect("a committee request has a proposal");
            let from = self.actor(by.unwrap_or(KEEPER));
            exec.main(|| self.protocol().execute_proposal(from, rt.module, proposal))?;
            return Ok(format!(
                "{} executes proposal #{proposal} of {}",
                self.engine.name_of(from),
                self.sc.avs[avs].name
            ));
        }
        let request_id = rec.request_id.expect("a veto request has an id");
        let from = by.map_or(rt.module, |b| self.engine.actor(b));
        exec.main(|| self.protocol().execute_slash(from, request_id))?;
        Ok(format!(
            "{} executes request #{request_id}",
            self.sc.avs[avs].name
        ))
    }

    /// Signs two votes of `round` with the operator's key (or `signer`'s) and proves them against `pools` (or every
    /// pool the module can slash the operator in); `who` is (operator, signer, sender).
    fn double_sign(
        &mut self,
        step: &Step,
        exec: &mut Exec,
        avs: usize,
        (operator, signer, by): (&str, Option<&str>, Option<&str>),
        round: u64,
        pools: Option<&[usize]>,
    ) -> Result<String> {
        let rt = self.avs[avs];
        let operator_address = self.operator_address(operator);
        let pool_ids = match pools {
            Some(pools) => {
                let mut ids = Vec::new();
                for (j, pool) in pools.iter().enumerate() {
                    let loc = Loc {
                        span: step.loc_of("pools").span.clone(),
                        path: format!("{}[{j}]", step.loc_of("pools").path),
                    };
                    ids.push(self.require_pool(*pool, &loc)?);
                }
                ids
            }
            None => self
                .protocol()
                .double_sign_pools(rt.module, operator_address)?,
        };
        let key = signer_of(signer.unwrap_or(operator));
        let proof = self.protocol().sign_double_vote(rt.module, &key, round)?;
        let from: Address = self.actor(by.unwrap_or(KEEPER));
        let names: Vec<String> = pool_ids.iter().map(|id| self.pool_name(*id)).collect();
        exec.main(|| {
            self.protocol()
                .slash_double_sign(from, rt.module, operator_address, proof, pool_ids)
        })?;
        Ok(format!(
            "proof that {operator} signed two votes in round {round}, against [{}]",
            names.join(", ")
        ))
    }
}

//! The chain side of the differential: a spec's steps sent through the protocol driver, and the values the checks
//! read back.

use std::collections::{BTreeMap, btree_map::Entry};

use crate::{Result, StressError};
use alloy::{
    primitives::{Address, U256},
    sol_types::SolCall,
};
use bulkhead_contracts::{Mode, Reputation, WAD};
use bulkhead_evm::{Engine, ErrorKind, System};
use bulkhead_protocol::{Protocol, Views, manager::AvsRegistration, reputation::Parameter};
use bulkhead_scenario::{Action, Amount, BURN};

use crate::{
    model::{Holder, Ret, SlashOut, holders},
    spec::{RESOLVER, Spec, Step},
};

use super::{AVS_ADMIN, KEEPER, Obs, StepOut, obs::INSOLVENT, outcome};

/// Who pays pools through the rail.
const PAYER: &str = "payer";

/// The system after the scenario's set-up, driven through the protocol's verbs, and the runner's bookkeeping.
pub(super) struct Chain<'a> {
    protocol: Protocol<'a>,
    spec: &'a Spec,
    avs_ids: Vec<u32>,
    modules: Vec<Address>,
    sinks: Vec<Address>,
    withdrawals: BTreeMap<String, U256>,
    requests: BTreeMap<String, u64>,
    /// Vault pool ids of the spec's pools, once they exist (ids never change once a pool exists).
    pool_ids: Vec<Option<U256>>,
}

/// Views read once per comparison round.
#[derive(Default)]
pub(super) struct Round {
    risks: BTreeMap<usize, [U256; 5]>,
    positions: BTreeMap<Address, Vec<(U256, U256)>>,
    escrows: BTreeMap<usize, Vec<(U256, U256, bool)>>,
    pools: BTreeMap<usize, [U256; 8]>,
    allocs: BTreeMap<(usize, usize), [U256; 6]>,
    /// `avsRecord` (false) and `operatorRecord` (true) by index.
    records: BTreeMap<(bool, usize), [U256; 9]>,
    /// `getAVS`: (riskWeightTenths, bondShort).
    standings: BTreeMap<usize, (u8, bool)>,
    /// `bondOf`: (available, queued, maturity).
    bonds: BTreeMap<(usize, usize), [U256; 3]>,
    /// `poolRewards` by spec pool, as [`crate::model::REWARD_FIELDS`].
    rewards: BTreeMap<usize, [U256; 7]>,
    /// `commissionOf` by spec pool: (bps, next bps, next at).
    commissions: BTreeMap<usize, [U256; 3]>,
}

impl<'a> Chain<'a> {
    /// The runner's set-up on `engine` (a copy of the base): guard, operators, AVSs (no setup deposits or
    /// allocations: they are steps here).
    pub(super) fn new(engine: &'a mut Engine, sys: System, spec: &'a Spec) -> Result<Self> {
        let mut protocol = Protocol::new(engine, sys);
        if let Some((max, window)) = spec.guard {
            protocol.set_guard(max, window)?;
        }
        for op in &spec.operators {
            let operator = protocol.engine().actor(op);
            protocol.register_operator(operator, operator)?;
        }
        let mut chain = Self {
            protocol,
            spec,
            avs_ids: Vec::new(),
            modules: Vec::new(),
            sinks: Vec::new(),
            withdrawals: BTreeMap::new(),
            requests: BTreeMap::new(),
            pool_ids: vec![None; spec.pools.len()],
        };
        chain.setup_reputation()?;
        for i in 0..spec.avs.len() {
            // The error names the call (`registerAVS(…)`) and its revert.
            chain.register_avs(i)?;
        }
        chain.setup_bonds()?;
        Ok(chain)
    }

    /// `[reputation]` as the scenario runner sets it up, before any AVS registers: the layer on, and each evidence
    /// unit queued, waited for and applied (by the keeper).
    fn setup_reputation(&mut self) -> Result<()> {
        let Some(units) = &self.spec.reputation else {
            return Ok(());
        };
        let keeper = self.actor(KEEPER);
        self.protocol.enable_reputation()?;
        if units.is_empty() {
            return Ok(());
        }
        for &(asset, unit) in units {
            let token = self.asset(asset);
            self.protocol
                .queue_change(Parameter::EvidenceUnit, token, unit)?;
        }
        let delay = self.protocol.parameter_delay()?;
        self.protocol.warp(delay);
        for &(asset, _) in units {
            let token = self.asset(asset);
            self.protocol
                .apply_change(keeper, Parameter::EvidenceUnit, token)?;
        }
        Ok(())
    }

    /// Each AVS's setup bond and its standing (no pool exists yet), then the standing again after the preamble (the
    /// runner's `setup_bonds` and `standing_after_allocations`; a generated spec has no setup allocations).
    fn setup_bonds(&mut self) -> Result<()> {
        if self.spec.reputation.is_none() {
            return Ok(());
        }
        let spec = self.spec;
        let admin = self.actor(AVS_ADMIN);
        for round in 0..2 {
            for (i, def) in spec.avs.iter().enumerate() {
                if def.bond.is_empty() {
                    continue;
                }
                let id = self.avs_ids[i];
                if round == 0 {
                    for &(asset, amount) in &def.bond {
                        let token = self.asset(asset);
                        self.protocol.mint_and_bond(admin, id, token, amount)?;
                    }
                }
                self.protocol.refresh_standing(admin, id, &[])?;
            }
        }
        Ok(())
    }

    /// Registers the spec's AVS `i` (sent by the `avsAdmin` actor), with its module, sink and resolver.
    fn register_avs(&mut self, i: usize) -> Result<()> {
        let spec = self.spec;
        let avs = &spec.avs[i];
        let sink = if avs.burn {
            BURN
        } else {
            self.actor(&spec.sink_name(i))
        };
        let module = self.actor(&format!("module-{}", avs.name));
        let (resolver, veto_window) = match avs.veto_window {
            Some(w) => (self.actor(RESOLVER), w),
            None => (Address::ZERO, 0),
        };
        let admin = self.actor(AVS_ADMIN);
        let registration = AvsRegistration {
            metadata_uri: format!("ipfs://{}", avs.name),
            slasher: module,
            sink,
            resolver,
            veto_window,
            max_slash_wad: avs.max_slash,
        };
        let id = self.protocol.register_avs(admin, &registration)?.value;
        self.avs_ids.push(id);
        self.modules.push(module);
        self.sinks.push(sink);
        Ok(())
    }

    /// The actor called `name` (funded when first named, as the scenario runner names it).
    fn actor(&mut self, name: &str) -> Address {
        self.protocol.engine().actor(name)
    }

    fn asset(&self, asset: usize) -> Address {
        let sys = self.protocol.system();
        [sys.weth, sys.wbtc, sys.usdc][asset].address
    }

    fn pool_id(&mut self, pool: usize) -> Result<Option<U256>> {
        if let Some(id) = self.pool_ids[pool] {
            return Ok(Some(id));
        }
        let spec = self.spec;
        let def = &spec.pools[pool];
        let operator = bulkhead_evm::address_of(&spec.operators[def.operator]);
        let asset = match def.tier_of {
            None => self.asset(def.asset),
            // `tierAsset(base)`: the base pool id as an address.
            Some(base) => match self.pool_id(base)? {
                Some(base_id) => Address::from_word(base_id.into()),
                None => return Ok(None),
            },
        };
        let id = self.protocol.pool_of(operator, asset)?;
        self.pool_ids[pool] = id;
        Ok(id)
    }

    fn require_pool(&mut self, pool: usize) -> Result<U256> {
        self.pool_id(pool)?.ok_or_else(|| {
            StressError::Harness(format!(
                "pool {} does not exist on chain",
                self.spec.pools[pool].name
            ))
        })
    }

    /// Sends one step; `Ok(Err(kind))` when its main transaction reverted. The steps it sends are those the model
    /// plays (`Model::step` refuses the others first).
    pub(super) fn step(&mut self, step: &Step) -> Result<StepOut> {
        let none = |sent| Ok(outcome(sent)?.map(|_| Ret::None));
        match step {
            Step::Scenario(action) => self.action(action),
            Step::CompleteUnbond { avs, asset } => {
                let admin = self.actor(AVS_ADMIN);
                let (id, token) = (self.avs_ids[*avs], self.asset(*asset));
                none(
                    self.protocol
                        .complete_bond_withdrawal(admin, id, token, admin),
                )
            }
            Step::Refresh { avs, pools } => {
                let mut ids = Vec::new();
                for &p in pools {
                    ids.push(self.require_pool(p)?);
                }
                let keeper = self.actor(KEEPER);
                let id = self.avs_ids[*avs];
                none(self.protocol.refresh_standing(keeper, id, &ids))
            }
            Step::ReportExecuted { request } => {
                let rid = self.request(request)?;
                let keeper = self.actor(KEEPER);
                none(self.protocol.report_executed_slash(keeper, rid))
            }
            _ => self.payment_step(step),
        }
    }

    /// A reward-rail step, through the driver's verbs (a payment's return value straight from the engine).
    fn payment_step(&mut self, step: &Step) -> Result<StepOut> {
        let reward = |sent: Result<bulkhead_protocol::Sent<U256>, _>| {
            Ok(outcome(sent)?.map(|s| Ret::Reward(s.value)))
        };
        match step {
            Step::EnableRewards { pool, by } => {
                let id = self.require_pool(*pool)?;
                let from = self.actor(by);
                Ok(outcome(self.protocol.enable_rewards(from, id))?.map(|_| Ret::None))
            }
            Step::SetCommission { pool, bps, by } => {
                let id = self.require_pool(*pool)?;
                let from = self.actor(by);
                Ok(outcome(self.protocol.set_commission(from, id, *bps))?.map(|_| Ret::None))
            }
            Step::Pay {
                pool,
                amount,
                max_commission_bps,
            } => {
                let id = self.require_pool(*pool)?;
                let payer = self.actor(PAYER);
                let token = self.asset(self.spec.pools[*pool].asset);
                let paid =
                    self.protocol
                        .mint_and_pay(payer, token, id, *amount, *max_commission_bps);
                Ok(outcome(paid)?.map(|sent| Ret::Paid(sent.value.0, sent.value.1)))
            }
            Step::ClaimRewards { staker, pool } => {
                let id = self.require_pool(*pool)?;
                let from = self.actor(staker);
                reward(self.protocol.claim_rewards(from, id, from))
            }
            Step::ClaimEscrowRewards { staker, withdrawal } => {
                let wid = *self.withdrawals.get(withdrawal).ok_or_else(|| {
                    StressError::Harness(format!("withdrawal {withdrawal} was not queued on chain"))
                })?;
                let from = self.actor(staker);
                reward(self.protocol.claim_escrow_rewards(from, wid, from))
            }
            Step::ClaimCommission { operator, asset } => {
                let from = self.actor(operator);
                let token = self.asset(*asset);
                reward(self.protocol.claim_commission(from, token, from))
            }
            other => Err(StressError::Harness(format!(
                "the stress runner does not send {other:?}"
            ))),
        }
    }

    /// A step of the scenario format, sent as the scenario runner sends it.
    fn action(&mut self, action: &Action) -> Result<StepOut> {
        match action {
            Action::Deposit {
                staker,
                pool,
                amount,
            } => self.deposit(staker, *pool, *amount),
            Action::DepositToTier {
                staker,
                pool,
                shares,
            } => self.deposit_to_tier(staker, *pool, *shares),
            Action::Allocate {
                pool,
                avs,
                mode,
                fraction,
                by: None,
                opt_in: true,
            } => self.allocate(*pool, *avs, *mode, *fraction),
            Action::Deallocate {
                pool,
                avs,
                fraction,
                by: None,
            } => self.deallocate(*pool, *avs, *fraction),
            Action::Warp { seconds } => {
                self.protocol.warp(*seconds);
                Ok(Ok(Ret::None))
            }
            Action::QueueWithdrawal {
                staker,
                pool,
                amount: Amount::Fraction(fraction),
                label,
            } => self.queue(staker, *pool, *fraction, label.as_deref()),
            Action::Claim {
                staker,
                withdrawal: Some(label),
                receiver: None,
            } => self.claim(staker, label),
            Action::Slash {
                avs,
                pool,
                fraction,
                by: None,
            } => {
                let id = self.require_pool(*pool)?;
                let sent =
                    self.protocol
                        .slash(self.modules[*avs], self.avs_ids[*avs], id, *fraction);
                Ok(outcome(sent)?.map(|s| slash_ret(s.value)))
            }
            Action::RequestSlash {
                avs,
                pool,
                fraction,
                label,
                by: None,
                voters: None,
            } => self.request_slash(*avs, *pool, *fraction, label.as_deref()),
            Action::Veto {
                request: Some(label),
                by: None,
                ..
            } => {
                let rid = self.request(label)?;
                let resolver = self.actor(RESOLVER);
                Ok(outcome(self.protocol.veto(resolver, rid))?.map(|_| Ret::None))
            }
            Action::ExecuteSlash {
                avs,
                request: Some(label),
                by: None,
            } => {
                let rid = self.request(label)?;
                let sent = self.protocol.execute_slash(self.modules[*avs], rid);
                Ok(outcome(sent)?.map(|s| slash_ret(s.value)))
            }
            Action::OptIn { operator, avs } => {
                let from = self.actor(operator);
                let sent = self.protocol.opt_in(from, self.avs_ids[*avs]);
                Ok(outcome(sent)?.map(|_| Ret::None))
            }
            Action::OptOut { operator, avs } => {
                let from = self.actor(operator);
                let sent = self.protocol.opt_out(from, self.avs_ids[*avs]);
                Ok(outcome(sent)?.map(|_| Ret::None))
            }
            other => self.reputation_action(other),
        }
    }

    /// The reputation layer's steps of the scenario format, sent as the scenario runner sends them.
    fn reputation_action(&mut self, action: &Action) -> Result<StepOut> {
        let admin = self.actor(AVS_ADMIN);
        let sent = match action {
            Action::Bond {
                avs,
                asset,
                amount,
                by: None,
            } => {
                let (id, token) = (self.avs_ids[*avs], self.asset(*asset));
                self.protocol.mint_and_bond(admin, id, token, *amount)
            }
            Action::Unbond { avs, asset, amount } => {
                let (id, token) = (self.avs_ids[*avs], self.asset(*asset));
                self.protocol
                    .queue_bond_withdrawal(admin, id, token, *amount)
            }
            Action::Checkpoint {
                avs: Some(avs),
                operator: None,
                pool,
                by,
            } => {
                let pool_id = self.require_pool(*pool)?;
                let from = by.as_deref().map_or(admin, |b| self.actor(b));
                self.protocol
                    .checkpoint_avs(from, self.avs_ids[*avs], pool_id)
            }
            Action::Checkpoint {
                avs: None,
                operator: Some(operator),
                pool,
                by,
            } => {
                let pool_id = self.require_pool(*pool)?;
                let subject = self.actor(operator);
                let from = by.as_deref().map_or(subject, |b| self.actor(b));
                self.protocol.checkpoint_operator(from, subject, pool_id)
            }
            Action::RefreshStanding { avs, by: None } => {
                // Every pool of the scenario that exists, in the file's order (the runner's `known_pools`).
                let mut ids = Vec::new();
                for p in 0..self.spec.pools.len() {
                    if let Some(id) = self.pool_id(p)? {
                        ids.push(id);
                    }
                }
                self.protocol
                    .refresh_standing(admin, self.avs_ids[*avs], &ids)
            }
            Action::Reprice { pool } => {
                let pool_id = self.require_pool(*pool)?;
                let keeper = self.actor(KEEPER);
                let ids = self.avs_ids.clone();
                self.protocol.apply_pending(keeper, pool_id, &ids)
            }
            other => {
                return Err(StressError::Harness(format!(
                    "the stress runner does not send {other:?}"
                )));
            }
        };
        Ok(outcome(sent)?.map(|_| Ret::None))
    }

    /// `deposit`: mint, approve (transactions that stay even if the deposit reverts), deposit.
    fn deposit(&mut self, staker: &str, pool: usize, amount: U256) -> Result<StepOut> {
        let spec = self.spec;
        let def = &spec.pools[pool];
        let from = self.actor(staker);
        let asset = self.asset(def.asset);
        let operator = self.actor(&spec.operators[def.operator]);
        self.protocol.mint(asset, from, amount)?;
        self.protocol.approve_vault(from, asset, amount)?;
        let sent = self.protocol.deposit(from, operator, asset, amount);
        Ok(outcome(sent)?.map(|s| Ret::Deposit(s.value.shares)))
    }

    /// `deposit_to_tier`: the base pool is opened to the tier first as far as it is not yet (the owner allows tiers
    /// over it, its operator approves the spec's tier operator), as the scenario runner does.
    fn deposit_to_tier(&mut self, staker: &str, pool: usize, shares: U256) -> Result<StepOut> {
        let spec = self.spec;
        let def = &spec.pools[pool];
        let base = def
            .tier_of
            .ok_or_else(|| StressError::Harness(format!("{} is not a tier", def.name)))?;
        let base_id = self.require_pool(base)?;
        let from = self.actor(staker);
        let operator = self.actor(&spec.operators[def.operator]);
        let base_operator = self.actor(&spec.operators[spec.pools[base].operator]);
        self.protocol.open_tier(base_id, base_operator, operator)?;
        let sent = self
            .protocol
            .deposit_to_tier(from, base_id, operator, shares);
        Ok(outcome(sent)?.map(|s| Ret::Deposit(s.value.shares)))
    }

    /// `allocate`, by the pool's operator, opted in first if it is not a member.
    fn allocate(&mut self, pool: usize, avs: usize, mode: Mode, fraction: u64) -> Result<StepOut> {
        let spec = self.spec;
        let id = self.require_pool(pool)?;
        let operator = self.actor(&spec.operators[spec.pools[pool].operator]);
        let avs_id = self.avs_ids[avs];
        // The automatic opt-in is a transaction of its own: its refusal ends the step.
        if let Err(kind) = outcome(self.protocol.ensure_opted_in(operator, avs_id))? {
            return Ok(Err(kind));
        }
        let sent = self.protocol.allocate(operator, id, avs_id, mode, fraction);
        Ok(outcome(sent)?.map(|_| Ret::None))
    }

    /// `deallocate`: `allocate` in the allocation's current mode (shared when it has none).
    fn deallocate(&mut self, pool: usize, avs: usize, fraction: u64) -> Result<StepOut> {
        let spec = self.spec;
        let id = self.require_pool(pool)?;
        let operator = self.actor(&spec.operators[spec.pools[pool].operator]);
        let avs_id = self.avs_ids[avs];
        let current = self.protocol.allocation(id, avs_id)?.mode;
        let mode = Mode::from_code(current).unwrap_or(Mode::Shared);
        let sent = self.protocol.allocate(operator, id, avs_id, mode, fraction);
        Ok(outcome(sent)?.map(|_| Ret::None))
    }

    /// `queue_withdrawal` of a fraction of the staker's shares; a queued withdrawal keeps its label.
    fn queue(
        &mut self,
        staker: &str,
        pool: usize,
        fraction: u64,
        label: Option<&str>,
    ) -> Result<StepOut> {
        let id = self.require_pool(pool)?;
        let from = self.actor(staker);
        let held = self.protocol.shares_of(from, id)?;
        let shares = held * U256::from(fraction) / U256::from(WAD);
        let out = outcome(self.protocol.queue_withdrawal(from, id, shares))?.map(|s| s.value);
        if let (Ok(wid), Some(label)) = (out, label) {
            self.withdrawals.insert(label.to_string(), wid);
        }
        Ok(out.map(Ret::Queue))
    }

    /// `claim` of a labelled withdrawal, paid to the staker.
    fn claim(&mut self, staker: &str, label: &str) -> Result<StepOut> {
        let wid = *self.withdrawals.get(label).ok_or_else(|| {
            StressError::Harness(format!("withdrawal {label} was not queued on chain"))
        })?;
        let from = self.actor(staker);
        let sent = self.protocol.complete_withdrawal(from, wid, from);
        Ok(outcome(sent)?.map(|s| Ret::Claim(s.value)))
    }

    /// `request_slash` by the AVS's module; a filed request keeps its label.
    fn request_slash(
        &mut self,
        avs: usize,
        pool: usize,
        fraction: u64,
        label: Option<&str>,
    ) -> Result<StepOut> {
        let id = self.require_pool(pool)?;
        let sent = self
            .protocol
            .request_slash(self.modules[avs], self.avs_ids[avs], id, fraction);
        let out = outcome(sent)?.map(|s| s.value);
        if let (Ok(rid), Some(label)) = (out, label) {
            self.requests.insert(label.to_string(), rid);
        }
        Ok(out.map(Ret::Request))
    }

    fn request(&self, label: &str) -> Result<u64> {
        self.requests
            .get(label)
            .copied()
            .ok_or_else(|| StressError::Harness(format!("request {label} was not filed on chain")))
    }

    /// A tier's amounts are base shares: the runner converts them with the base's `convertToAssets`.
    fn in_base_asset(&mut self, pool: usize, amount: U256) -> Result<U256> {
        match self.spec.pools[pool].tier_of {
            None => Ok(amount),
            Some(base) => match self.pool_id(base)? {
                Some(base_id) => Ok(self.protocol.convert_to_assets(base_id, amount)?),
                None => Ok(U256::ZERO),
            },
        }
    }

    /// Reads one checkable value, as the scenario runner reads it; `Ok(Err(kind))` when its view reverts.
    pub(super) fn observe(
        &mut self,
        obs: Obs,
        round: &mut Round,
    ) -> Result<Result<U256, ErrorKind>> {
        let Some(pool) = obs.pool() else {
            return self.observe_other(obs, round);
        };
        let Some(id) = self.pool_id(pool)? else {
            return Ok(Ok(U256::ZERO));
        };
        Ok(Ok(match obs {
            Obs::PoolValue(_)
            | Obs::Isolated(_)
            | Obs::Shared(_)
            | Obs::Reuse(_)
            | Obs::Guard(_) => match self.risk(pool, id, round)? {
                Ok(risk) => risk[obs.risk_field().expect("a risk field")],
                Err(kind) => return Ok(Err(kind)),
            },
            Obs::Backing(avs, _) => {
                match outcome(self.protocol.slashable_backing(self.avs_ids[avs], id))? {
                    Ok(v) => v,
                    Err(kind) => return Ok(Err(kind)),
                }
            }
            Obs::Position(staker, _) => {
                let holder = bulkhead_evm::address_of(&self.spec.stakers[staker]);
                let value = self.position(holder, id, round)?;
                self.in_base_asset(pool, value)?
            }
            Obs::SinkPosition(avs, _) => {
                let value = self.position(self.sinks[avs], id, round)?;
                self.in_base_asset(pool, value)?
            }
            Obs::Escrow(staker, _) => {
                let value = self.escrow(staker, id, round)?;
                self.in_base_asset(pool, value)?
            }
            Obs::PoolField(_, f) => match self.pool_view(pool, id, round)? {
                Ok(v) => v[usize::from(f)],
                Err(kind) => return Ok(Err(kind)),
            },
            Obs::AllocField(avs, _, f) => self.allocation(avs, pool, id, round)?[usize::from(f)],
            Obs::SharedWeight(_) => match outcome(self.protocol.pool_state(id))? {
                Ok(st) => U256::from(st.sharedWeight),
                Err(kind) => return Ok(Err(kind)),
            },
            Obs::Claimable(holder, _) => {
                let address = self.holder(holder);
                self.protocol.claimable_rewards(id, address)?
            }
            Obs::EscrowRewards(_, index) => {
                let wid = id << 64 | U256::from(index);
                match outcome(self.protocol.claimable_escrow_rewards(wid))? {
                    Ok(v) => v,
                    Err(kind) => return Ok(Err(kind)),
                }
            }
            Obs::Rewards(_, f) => self.rewards(pool, id, round)?[usize::from(f)],
            Obs::Commission(_, f) => {
                let v = match round.commissions.get(&pool) {
                    Some(v) => *v,
                    None => {
                        let (bps, next, at) = self.protocol.commission_of(id)?;
                        let v = [U256::from(bps), U256::from(next), U256::from(at)];
                        round.commissions.insert(pool, v);
                        v
                    }
                };
                v[usize::from(f)]
            }
            // `Obs::pool` names a pool for each of the arms above only.
            _ => return self.observe_other(obs, round),
        }))
    }

    /// Reads a value that is not of a pool: a wallet, a sink, an AVS's total backing, the reputation layer.
    fn observe_other(&mut self, obs: Obs, round: &mut Round) -> Result<Result<U256, ErrorKind>> {
        let sys = self.protocol.system();
        let flag = |b: bool| U256::from(u8::from(b));
        Ok(Ok(match obs {
            Obs::Balance(staker, asset) => {
                let holder = bulkhead_evm::address_of(&self.spec.stakers[staker]);
                self.protocol.balance_of(self.asset(asset), holder)?
            }
            Obs::Sink(avs, asset) => self
                .protocol
                .balance_of(self.asset(asset), self.sinks[avs])?,
            Obs::AvsTotal(avs) => match outcome(self.protocol.avs_backing(self.avs_ids[avs]))? {
                Ok(backing) => backing.total,
                Err(kind) => return Ok(Err(kind)),
            },
            Obs::VaultBalance(asset) => self.protocol.balance_of(self.asset(asset), sys.vault)?,
            Obs::BondsHeld(asset) => self
                .protocol
                .balance_of(self.asset(asset), sys.reputation)?,
            Obs::AdminBalance(asset) => {
                let admin = bulkhead_evm::address_of(AVS_ADMIN);
                self.protocol.balance_of(self.asset(asset), admin)?
            }
            Obs::Rating(avs) => self.record(false, avs, round)?[2],
            Obs::AvsRecord(avs, f) => self.record(false, avs, round)?[usize::from(f)],
            Obs::OperatorRecord(o, f) => self.record(true, o, round)?[usize::from(f)],
            Obs::RiskWeight(avs) => U256::from(self.standing(avs, round)?.0),
            Obs::BondShort(avs) => flag(self.standing(avs, round)?.1),
            Obs::Bond(avs, asset) => self.bond(avs, asset, round)?[0],
            Obs::BondField(avs, asset, f) => self.bond(avs, asset, round)?[1 + usize::from(f)],
            Obs::TotalBonded(asset) => self.reputation_view(Reputation::totalBondedCall {
                asset: self.asset(asset),
            })?,
            Obs::RiskWeightWad(avs) => {
                match outcome(self.protocol.risk_weight_wad(self.avs_ids[avs]))? {
                    Ok(v) => v,
                    Err(kind) => return Ok(Err(kind)),
                }
            }
            Obs::BondFraction(avs) => {
                match outcome(self.protocol.required_bond_fraction_wad(self.avs_ids[avs]))? {
                    Ok(v) => v,
                    Err(kind) => return Ok(Err(kind)),
                }
            }
            Obs::Measured(avs, p) => match self.pool_id(p)? {
                None => U256::ZERO,
                Some(pool_id) => self.reputation_view(Reputation::measuredBackingCall {
                    avsId: self.avs_ids[avs],
                    poolId: pool_id,
                })?,
            },
            Obs::Standing(avs, asset, f) => {
                let st = self.reputation_view(Reputation::assetStandingCall {
                    avsId: self.avs_ids[avs],
                    asset: self.asset(asset),
                })?;
                if f == 0 {
                    U256::from(st.backing)
                } else {
                    flag(st.short)
                }
            }
            Obs::ShortAssets(avs) => self.reputation_view(Reputation::shortAssetsCall {
                avsId: self.avs_ids[avs],
            })?,
            Obs::VetoableUntil(avs) => {
                U256::from(self.protocol.avs(self.avs_ids[avs])?.requestsVetoableUntil)
            }
            Obs::RepEpoch => match outcome(self.protocol.reputation_epoch())? {
                Ok(epoch) => U256::from(epoch),
                Err(kind) => return Ok(Err(kind)),
            },
            Obs::CommissionOwed(o, asset) => {
                let operator = self.holder(Holder::Operator(o));
                self.protocol.commission_owed(operator, self.asset(asset))?
            }
            Obs::OperatorBalance(o, asset) => {
                let operator = self.holder(Holder::Operator(o));
                self.protocol.balance_of(self.asset(asset), operator)?
            }
            Obs::PayerBalance(asset) => {
                let payer = self.holder(Holder::Payer);
                self.protocol.balance_of(self.asset(asset), payer)?
            }
            Obs::RailBalance(asset) => self.protocol.balance_of(self.asset(asset), sys.rail)?,
            Obs::RailResidue(asset) => match self.rail_residue(asset)? {
                Some(residue) => residue,
                None => return Ok(Err(INSOLVENT)),
            },
            other => {
                return Err(StressError::Harness(format!(
                    "{other:?} is a value of a pool the chain side reads elsewhere"
                )));
            }
        }))
    }

    /// The address of a holder.
    fn holder(&self, holder: Holder) -> Address {
        match holder {
            Holder::Staker(s) => bulkhead_evm::address_of(&self.spec.stakers[s]),
            Holder::Sink(avs) => self.sinks[avs],
            Holder::Burn => BURN,
            Holder::Admin => bulkhead_evm::address_of(AVS_ADMIN),
            Holder::Operator(o) => bulkhead_evm::address_of(&self.spec.operators[o]),
            Holder::Payer => bulkhead_evm::address_of(PAYER),
            Holder::Rail => self.protocol.system().rail,
        }
    }

    /// `poolRewards` of pool `pool` (vault id `id`), its token as an asset index (3: none).
    fn rewards(&mut self, pool: usize, id: U256, round: &mut Round) -> Result<[U256; 7]> {
        if let Some(v) = round.rewards.get(&pool) {
            return Ok(*v);
        }
        let r = self.protocol.pool_rewards(id)?;
        let token = (0..3)
            .find(|&a| self.asset(a) == r.token)
            .unwrap_or(if r.token == Address::ZERO { 3 } else { 4 });
        let v = [
            U256::from(u8::from(r.on)),
            U256::from(token),
            U256::from(r.generation),
            r.acc,
            r.paidToStakers,
            r.commissionPaid,
            r.dust,
        ];
        round.rewards.insert(pool, v);
        Ok(v)
    }

    /// What the rail holds of `asset` beyond every claim, from the chain's own views: its balance less every holder's
    /// `claimable` and every withdrawal's `claimableEscrow` in the pools paid in the asset, and every operator's
    /// `commissionOwed` (`None` if it holds less).
    fn rail_residue(&mut self, asset: usize) -> Result<Option<U256>> {
        let token = self.asset(asset);
        let rail = self.protocol.system().rail;
        let mut left = Some(self.protocol.balance_of(token, rail)?);
        let take = |left: &mut Option<U256>, v: U256| *left = left.and_then(|l| l.checked_sub(v));
        let addresses: Vec<Address> = holders(self.spec)
            .into_iter()
            .map(|h| self.holder(h))
            .collect();
        for pool in 0..self.spec.pools.len() {
            if self.spec.pools[pool].asset != asset {
                continue;
            }
            let Some(id) = self.pool_id(pool)? else {
                continue;
            };
            if !self.protocol.pool_rewards(id)?.on {
                continue;
            }
            for &a in &addresses {
                take(&mut left, self.protocol.claimable_rewards(id, a)?);
            }
            let n = self.protocol.pool(id)?.queueLength;
            for index in 0..n {
                let wid = id << 64 | U256::from(index);
                take(&mut left, self.protocol.claimable_escrow_rewards(wid)?);
            }
        }
        for o in 0..self.spec.operators.len() {
            let operator = self.holder(Holder::Operator(o));
            take(&mut left, self.protocol.commission_owed(operator, token)?);
        }
        Ok(left)
    }

    /// A view of the reputation contract the driver has no verb for, through the engine.
    fn reputation_view<C: SolCall>(&self, call: C) -> Result<C::Return> {
        let to = self.protocol.system().reputation;
        Ok(self.protocol.engine_ref().view(to, call)?)
    }

    /// `avsRecord` (`operator` false) or `operatorRecord`, as [`crate::model::Model::record_view`] lists it.
    fn record(&mut self, operator: bool, who: usize, round: &mut Round) -> Result<[U256; 9]> {
        if let Some(r) = round.records.get(&(operator, who)) {
            return Ok(*r);
        }
        let r = if operator {
            let address = bulkhead_evm::address_of(&self.spec.operators[who]);
            self.protocol.operator_record(address)?
        } else {
            self.protocol.avs_record(self.avs_ids[who])?
        };
        let flag = |b: bool| U256::from(u8::from(b));
        let v = [
            r.goodWad,
            r.badWad,
            r.ratingWad,
            r.meanWad,
            r.lowerBoundWad,
            U256::from(r.epoch),
            flag(r.checkpointed),
            flag(r.tainted),
            flag(r.seen),
        ];
        round.records.insert((operator, who), v);
        Ok(v)
    }

    /// `getAVS(avs)`'s standing: (riskWeightTenths, bondShort).
    fn standing(&mut self, avs: usize, round: &mut Round) -> Result<(u8, bool)> {
        if let Some(s) = round.standings.get(&avs) {
            return Ok(*s);
        }
        let a = self.protocol.avs(self.avs_ids[avs])?;
        let s = (a.riskWeightTenths, a.bondShort);
        round.standings.insert(avs, s);
        Ok(s)
    }

    /// `bondOf(avs, asset)`: (available, queued, maturity).
    fn bond(&mut self, avs: usize, asset: usize, round: &mut Round) -> Result<[U256; 3]> {
        if let Some(b) = round.bonds.get(&(avs, asset)) {
            return Ok(*b);
        }
        let b = self
            .protocol
            .bond_of(self.avs_ids[avs], self.asset(asset))?;
        let v = [
            U256::from(b.available),
            U256::from(b.queued),
            U256::from(b.maturity),
        ];
        round.bonds.insert((avs, asset), v);
        Ok(v)
    }

    /// `poolRisk` of pool `pool` (vault id `id`): (value, totalIsolated, sharedStake, reuseRatioWad, guardUsedWad).
    fn risk(
        &mut self,
        pool: usize,
        id: U256,
        round: &mut Round,
    ) -> Result<Result<[U256; 5], ErrorKind>> {
        if let Some(risk) = round.risks.get(&pool) {
            return Ok(Ok(*risk));
        }
        let r = match outcome(self.protocol.pool_risk(id))? {
            Ok(r) => r,
            Err(kind) => return Ok(Err(kind)),
        };
        let risk = [
            r.value,
            r.totalIsolated,
            r.sharedStake,
            r.reuseRatioWad,
            r.guardUsedWad,
        ];
        round.risks.insert(pool, risk);
        Ok(Ok(risk))
    }

    /// `getPool` of pool `pool`, as [`POOL_FIELDS`].
    fn pool_view(
        &mut self,
        pool: usize,
        id: U256,
        round: &mut Round,
    ) -> Result<Result<[U256; 8], ErrorKind>> {
        if let Some(v) = round.pools.get(&pool) {
            return Ok(Ok(*v));
        }
        let v = match outcome(self.protocol.pool(id))? {
            Ok(v) => v,
            Err(kind) => return Ok(Err(kind)),
        };
        let v = [
            v.slashableAssets,
            v.totalShares,
            v.escrowedShares,
            v.reserve,
            v.sharePrice,
            U256::from(v.generation),
            U256::from(v.queueLength),
            U256::from(v.settledCount),
        ];
        round.pools.insert(pool, v);
        Ok(Ok(v))
    }

    /// `getAllocation` of the AVS's allocation of pool `pool`, as [`ALLOC_FIELDS`].
    fn allocation(
        &mut self,
        avs: usize,
        pool: usize,
        id: U256,
        round: &mut Round,
    ) -> Result<[U256; 6]> {
        if let Some(v) = round.allocs.get(&(avs, pool)) {
            return Ok(*v);
        }
        let a = self.protocol.allocation(id, self.avs_ids[avs])?;
        let v = [
            U256::from(a.current),
            U256::from(a.pending),
            U256::from(a.effectAt),
            U256::from(a.mode),
            U256::from(a.epoch),
            U256::from(a.riskWeightTenths),
        ];
        round.allocs.insert((avs, pool), v);
        Ok(v)
    }

    /// The value of `holder`'s position in vault pool `id` (`positionsOf`), zero without one.
    fn position(&mut self, holder: Address, id: U256, round: &mut Round) -> Result<U256> {
        let positions = match round.positions.entry(holder) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let positions = self.protocol.positions(holder)?;
                e.insert(positions.iter().map(|p| (p.poolId, p.value)).collect())
            }
        };
        Ok(positions
            .iter()
            .find(|p| p.0 == id)
            .map_or(U256::ZERO, |p| p.1))
    }

    /// What the staker's unclaimed withdrawals from vault pool `id` would pay now (`withdrawalsOf`).
    fn escrow(&mut self, staker: usize, id: U256, round: &mut Round) -> Result<U256> {
        let escrows = match round.escrows.entry(staker) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let address = bulkhead_evm::address_of(&self.spec.stakers[staker]);
                let (views, _) =
                    self.protocol
                        .withdrawals(address, U256::ZERO, U256::from(u32::MAX))?;
                e.insert(
                    views
                        .iter()
                        .map(|w| (w.poolId, w.value, w.claimed))
                        .collect(),
                )
            }
        };
        Ok(escrows
            .iter()
            .filter(|w| w.0 == id && !w.2)
            .fold(U256::ZERO, |sum, w| sum + w.1))
    }
}

fn slash_ret(amount: U256) -> Ret {
    Ret::Slash(SlashOut {
        pool: 0,
        amount,
        requested: U256::ZERO,
        allowed: U256::ZERO,
        backing: U256::ZERO,
        mode: bulkhead_contracts::mode::NONE,
    })
}

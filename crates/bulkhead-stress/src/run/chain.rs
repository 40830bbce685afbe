//! The chain side of the differential: a spec's steps sent through the protocol driver, and the values the checks
//! read back.

use std::collections::{BTreeMap, btree_map::Entry};

use crate::{Result, StressError};
use alloy::primitives::{Address, U256};
use bulkhead_contracts::{Mode, WAD};
use bulkhead_evm::{Engine, ErrorKind, System};
use bulkhead_protocol::{Protocol, Views, manager::AvsRegistration};
use bulkhead_scenario::{Action, Amount, BURN};

use crate::{
    model::{Ret, SlashOut},
    spec::{RESOLVER, Spec},
};

use super::{AVS_ADMIN, Obs, Step, outcome};

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
    allocs: BTreeMap<(usize, usize), [U256; 5]>,
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
        for i in 0..spec.avs.len() {
            // The error names the call (`registerAVS(…)`) and its revert.
            chain.register_avs(i)?;
        }
        Ok(chain)
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
    pub(super) fn step(&mut self, action: &Action) -> Result<Step> {
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
            other => Err(StressError::Harness(format!(
                "the stress runner does not send {other:?}"
            ))),
        }
    }

    /// `deposit`: mint, approve (transactions that stay even if the deposit reverts), deposit.
    fn deposit(&mut self, staker: &str, pool: usize, amount: U256) -> Result<Step> {
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
    fn deposit_to_tier(&mut self, staker: &str, pool: usize, shares: U256) -> Result<Step> {
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
    fn allocate(&mut self, pool: usize, avs: usize, mode: Mode, fraction: u64) -> Result<Step> {
        let spec = self.spec;
        let id = self.require_pool(pool)?;
        let operator = self.actor(&spec.operators[spec.pools[pool].operator]);
        let avs_id = self.avs_ids[avs];
        self.protocol.ensure_opted_in(operator, avs_id)?;
        let sent = self.protocol.allocate(operator, id, avs_id, mode, fraction);
        Ok(outcome(sent)?.map(|_| Ret::None))
    }

    /// `deallocate`: `allocate` in the allocation's current mode (shared when it has none).
    fn deallocate(&mut self, pool: usize, avs: usize, fraction: u64) -> Result<Step> {
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
    ) -> Result<Step> {
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
    fn claim(&mut self, staker: &str, label: &str) -> Result<Step> {
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
    ) -> Result<Step> {
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
            return self.observe_wallet(obs);
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
            Obs::Balance(..) | Obs::Sink(..) | Obs::AvsTotal(_) => unreachable!("not of a pool"),
        }))
    }

    /// Reads a value that is not of a pool: a wallet, a sink, an AVS's total backing.
    fn observe_wallet(&mut self, obs: Obs) -> Result<Result<U256, ErrorKind>> {
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
            _ => unreachable!("of a pool"),
        }))
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
    ) -> Result<[U256; 5]> {
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

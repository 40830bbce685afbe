//! The same steps on the real bytecode, sent the way the scenario runner sends them (through the protocol driver's
//! verbs), and the differential check that compares every step's outcome with the model: reverts by [`ErrorKind`].

use std::collections::{BTreeMap, btree_map::Entry};

use alloy::primitives::{Address, U256};
use bulkhead_contracts::{AllocationManager, Mode, WAD};
use bulkhead_evm::{DeployConfig, Engine, ErrorKind, System, revert_of};
use bulkhead_protocol::{Protocol, ProtocolError, Views, manager::AvsRegistration};
use bulkhead_scenario::BURN;
use eyre::{Result, WrapErr, eyre};

use crate::{
    generator::params,
    model::{Holder, Invalid, Model, Mutation, Ret, SlashOut},
    spec::{Action, RESOLVER, Spec, symbol},
};

const AVS_ADMIN: &str = "avsAdmin";

/// The deployed system every scenario starts from (deployed once; each scenario runs on a copy).
#[derive(Debug, Clone)]
pub struct Base {
    engine: Engine,
    sys: System,
}

impl Base {
    /// Deploys the system as the scenario runner does (default `DeployConfig`).
    pub fn deploy() -> Result<Self> {
        let mut engine = Engine::default();
        let sys = System::deploy(&mut engine, &DeployConfig::default())
            .wrap_err("deploying the base system")?;
        engine.label(BURN, "burn");
        // A snapshot round trip: what every scenario starts from.
        let snapshot = engine.snapshot()?;
        engine.restore(&snapshot)?;
        Ok(Self { engine, sys })
    }

    /// The block timestamp scenarios start at.
    pub fn start(&self) -> u64 {
        self.engine.timestamp()
    }
}

/// A value the scenario runner can check (`expect` steps), named by the spec's indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Obs {
    /// `pool_value`.
    PoolValue(usize),
    /// `isolated`.
    Isolated(usize),
    /// `shared`.
    Shared(usize),
    /// `reuse_ratio`.
    Reuse(usize),
    /// `guard_used`.
    Guard(usize),
    /// `backing`: (avs, pool).
    Backing(usize, usize),
    /// `position`: (staker, pool).
    Position(usize, usize),
    /// `escrow`: (staker, pool).
    Escrow(usize, usize),
    /// `balance`: (staker, asset).
    Balance(usize, usize),
    /// `sink`: (avs, asset).
    Sink(usize, usize),
    /// The value of an AVS's sink's position in a pool, from `positionsOf` (a tier slash pays the sink in base
    /// shares; not checkable in a scenario file, whose `position` names stakers): (avs, pool).
    SinkPosition(usize, usize),
    /// A field of `getPool` (not checkable in a scenario file): (pool, field index, see [`Model::pool_view`]).
    PoolField(usize, u8),
    /// A field of `getAllocation` (not checkable in a scenario file): (avs, pool, field index).
    AllocField(usize, usize, u8),
    /// `avsBacking(avs).total` (not checkable in a scenario file).
    AvsTotal(usize),
}

impl Obs {
    /// Whether a scenario file's `expect` step can check it.
    pub fn checkable(self) -> bool {
        !matches!(
            self,
            Self::PoolField(..) | Self::AllocField(..) | Self::AvsTotal(_) | Self::SinkPosition(..)
        )
    }

    /// The spec's pool it is a value of, if any.
    fn pool(self) -> Option<usize> {
        match self {
            Self::PoolValue(p)
            | Self::Isolated(p)
            | Self::Shared(p)
            | Self::Reuse(p)
            | Self::Guard(p)
            | Self::Backing(_, p)
            | Self::Position(_, p)
            | Self::SinkPosition(_, p)
            | Self::Escrow(_, p)
            | Self::PoolField(p, _)
            | Self::AllocField(_, p, _) => Some(p),
            Self::Balance(..) | Self::Sink(..) | Self::AvsTotal(_) => None,
        }
    }

    /// Its index in `poolRisk`'s (value, totalIsolated, sharedStake, reuseRatioWad, guardUsedWad), if it is one.
    fn risk_field(self) -> Option<usize> {
        match self {
            Self::PoolValue(_) => Some(0),
            Self::Isolated(_) => Some(1),
            Self::Shared(_) => Some(2),
            Self::Reuse(_) => Some(3),
            Self::Guard(_) => Some(4),
            _ => None,
        }
    }
}

const POOL_FIELDS: [&str; 8] = [
    "slashableAssets",
    "totalShares",
    "escrowedShares",
    "reserve",
    "sharePrice",
    "generation",
    "queueLength",
    "settledCount",
];
const ALLOC_FIELDS: [&str; 5] = ["current", "pending", "effectAt", "mode", "epoch"];

/// Where the model and the chain disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Index of the step after which it was seen.
    pub step: usize,
    /// What was compared.
    pub what: String,
    /// The model's prediction.
    pub model: String,
    /// What the chain did.
    pub chain: String,
}

/// One scenario's loss figures (from the model, which agreed with the chain up to any mismatch).
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Steps played.
    pub steps: usize,
    /// Steps that reverted (as predicted).
    pub reverts: usize,
    /// Successful deposits per asset (base units).
    pub deposited: [U256; 3],
    /// Slashed out of the vault per asset (base units): a tier slash moves base shares to the sink and takes no
    /// tokens, so it is not counted here.
    pub slashed: [U256; 3],
    /// Every slash that went through.
    pub slashes: Vec<SlashOut>,
    /// Steps per action: (went through, reverted).
    pub actions: BTreeMap<&'static str, (u64, u64)>,
    /// Reverts per kind of error.
    pub reverts_by_error: BTreeMap<ErrorKind, u64>,
    /// Slashes of tier pools that went through.
    pub tier_slashes: u64,
    /// Pool generations ended by full slashes.
    pub resets: u64,
}

/// The result of the differential run of one spec.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The first disagreement, if any.
    pub mismatch: Option<Mismatch>,
    /// The runner could not send a step (only while shrinking).
    pub invalid: Option<String>,
    /// Loss figures.
    pub stats: Stats,
}

fn show(r: &Result<U256, ErrorKind>) -> String {
    match r {
        Ok(v) => v.to_string(),
        Err(e) => format!("revert {e}"),
    }
}

/// A verb's or a view's outcome: its value, or the kind of revert when the contracts refused. A failure of the engine
/// underneath is an error.
fn outcome<T>(result: Result<T, ProtocolError>) -> Result<Result<T, ErrorKind>> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(ProtocolError::Reverted { revert, .. }) => Ok(Err(revert.kind())),
        Err(e) => Err(e.into()),
    }
}

/// What a step sent to the chain did: its return value, or the kind of revert of its main transaction.
type Step = Result<Ret, ErrorKind>;

/// The system after the scenario's set-up, driven through the protocol's verbs, and the runner's bookkeeping.
struct Chain<'a> {
    protocol: Protocol<'a>,
    spec: &'a Spec,
    avs_ids: Vec<u32>,
    modules: Vec<Address>,
    sinks: Vec<Address>,
    withdrawals: BTreeMap<usize, U256>,
    requests: BTreeMap<usize, u64>,
    /// Vault pool ids of the spec's pools, once they exist (ids never change once a pool exists).
    pool_ids: Vec<Option<U256>>,
}

/// Views read once per comparison round.
#[derive(Default)]
struct Round {
    risks: BTreeMap<usize, [U256; 5]>,
    positions: BTreeMap<Address, Vec<(U256, U256)>>,
    escrows: BTreeMap<usize, Vec<(U256, U256, bool)>>,
    pools: BTreeMap<usize, [U256; 8]>,
    allocs: BTreeMap<(usize, usize), [U256; 5]>,
}

impl<'a> Chain<'a> {
    /// The runner's set-up on `engine` (a copy of the base): guard, operators, AVSs (no setup deposits or
    /// allocations: they are steps here).
    fn new(engine: &'a mut Engine, sys: System, spec: &'a Spec) -> Result<Self> {
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
            chain
                .register_avs(i)
                .wrap_err_with(|| format!("registering AVS {}", spec.avs[i].name))?;
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
            eyre!(
                "pool {} does not exist on chain",
                self.spec.pools[pool].name
            )
        })
    }

    /// Sends one step; `Ok(Err(kind))` when its main transaction reverted.
    fn step(&mut self, action: &Action) -> Result<Step> {
        let spec = self.spec;
        match *action {
            Action::Deposit {
                staker,
                pool,
                amount,
            } => self.deposit(staker, pool, amount),
            Action::DepositToTier {
                staker,
                pool,
                shares,
            } => self.deposit_to_tier(staker, pool, shares),
            Action::Allocate {
                pool,
                avs,
                mode,
                fraction,
            } => self.allocate(pool, avs, mode, fraction),
            Action::Deallocate {
                pool,
                avs,
                fraction,
            } => self.deallocate(pool, avs, fraction),
            Action::Warp { seconds } => {
                self.protocol.warp(seconds);
                Ok(Ok(Ret::None))
            }
            Action::Queue {
                staker,
                pool,
                fraction,
                label,
            } => self.queue(staker, pool, fraction, label),
            Action::Claim { staker, label } => self.claim(staker, label),
            Action::Slash {
                avs,
                pool,
                fraction,
            } => {
                let id = self.require_pool(pool)?;
                let sent = self
                    .protocol
                    .slash(self.modules[avs], self.avs_ids[avs], id, fraction);
                Ok(outcome(sent)?.map(|s| slash_ret(s.value)))
            }
            Action::Request {
                avs,
                pool,
                fraction,
                label,
            } => self.request_slash(avs, pool, fraction, label),
            Action::Veto { label } => {
                let rid = self.request(label)?;
                let resolver = self.actor(RESOLVER);
                Ok(outcome(self.protocol.veto(resolver, rid))?.map(|_| Ret::None))
            }
            Action::Execute { label } => self.execute(label),
            Action::OptIn { operator, avs } => {
                let from = self.actor(&spec.operators[operator]);
                let sent = self.protocol.opt_in(from, self.avs_ids[avs]);
                Ok(outcome(sent)?.map(|_| Ret::None))
            }
            Action::OptOut { operator, avs } => {
                let from = self.actor(&spec.operators[operator]);
                let sent = self.protocol.opt_out(from, self.avs_ids[avs]);
                Ok(outcome(sent)?.map(|_| Ret::None))
            }
        }
    }

    /// `deposit`: mint, approve (transactions that stay even if the deposit reverts), deposit.
    fn deposit(&mut self, staker: usize, pool: usize, amount: U256) -> Result<Step> {
        let spec = self.spec;
        let def = &spec.pools[pool];
        let from = self.actor(&spec.stakers[staker]);
        let asset = self.asset(def.asset);
        let operator = self.actor(&spec.operators[def.operator]);
        self.protocol.mint(asset, from, amount)?;
        self.protocol.approve_vault(from, asset, amount)?;
        let sent = self.protocol.deposit(from, operator, asset, amount);
        Ok(outcome(sent)?.map(|s| Ret::Deposit(s.value.shares)))
    }

    /// `deposit_to_tier`: the base pool is opened to the tier first as far as it is not yet (the owner allows tiers
    /// over it, its operator approves the spec's tier operator), as the scenario runner does.
    fn deposit_to_tier(&mut self, staker: usize, pool: usize, shares: U256) -> Result<Step> {
        let spec = self.spec;
        let def = &spec.pools[pool];
        let base = def
            .tier_of
            .ok_or_else(|| eyre!("{} is not a tier", def.name))?;
        let base_id = self.require_pool(base)?;
        let from = self.actor(&spec.stakers[staker]);
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
    fn queue(&mut self, staker: usize, pool: usize, fraction: u64, label: usize) -> Result<Step> {
        let spec = self.spec;
        let id = self.require_pool(pool)?;
        let from = self.actor(&spec.stakers[staker]);
        let held = self.protocol.shares_of(from, id)?;
        let shares = held * U256::from(fraction) / U256::from(WAD);
        let out = outcome(self.protocol.queue_withdrawal(from, id, shares))?.map(|s| s.value);
        if let Ok(wid) = out {
            self.withdrawals.insert(label, wid);
        }
        Ok(out.map(Ret::Queue))
    }

    /// `claim` of a labelled withdrawal, paid to the staker.
    fn claim(&mut self, staker: usize, label: usize) -> Result<Step> {
        let spec = self.spec;
        let wid = *self
            .withdrawals
            .get(&label)
            .ok_or_else(|| eyre!("withdrawal w{label} was not queued on chain"))?;
        let from = self.actor(&spec.stakers[staker]);
        let sent = self.protocol.complete_withdrawal(from, wid, from);
        Ok(outcome(sent)?.map(|s| Ret::Claim(s.value)))
    }

    /// `request_slash` by the AVS's module; a filed request keeps its label.
    fn request_slash(
        &mut self,
        avs: usize,
        pool: usize,
        fraction: u64,
        label: usize,
    ) -> Result<Step> {
        let id = self.require_pool(pool)?;
        let sent = self
            .protocol
            .request_slash(self.modules[avs], self.avs_ids[avs], id, fraction);
        let out = outcome(sent)?.map(|s| s.value);
        if let Ok(rid) = out {
            self.requests.insert(label, rid);
        }
        Ok(out.map(Ret::Request))
    }

    /// `execute_slash` by the module of the AVS that filed the request (read from `getRequest`: the driver has no
    /// view of requests).
    fn execute(&mut self, label: usize) -> Result<Step> {
        let rid = self.request(label)?;
        let manager = self.protocol.system().manager;
        let call = AllocationManager::getRequestCall { requestId: rid };
        let avs_id = self.protocol.engine().view(manager, call)?.avsId;
        let avs = self
            .avs_ids
            .iter()
            .position(|&a| a == avs_id)
            .ok_or_else(|| eyre!("request {rid} of an unknown AVS"))?;
        let sent = self.protocol.execute_slash(self.modules[avs], rid);
        Ok(outcome(sent)?.map(|s| slash_ret(s.value)))
    }

    fn request(&self, label: usize) -> Result<u64> {
        self.requests
            .get(&label)
            .copied()
            .ok_or_else(|| eyre!("request r{label} was not filed on chain"))
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
    fn observe(&mut self, obs: Obs, round: &mut Round) -> Result<Result<U256, ErrorKind>> {
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
            Obs::AvsTotal(avs) => {
                // `avsBacking`: the driver has no view of it.
                let manager = self.protocol.system().manager;
                let call = AllocationManager::avsBackingCall {
                    avsId: self.avs_ids[avs],
                };
                match self.protocol.engine().view(manager, call) {
                    Ok(r) => r.total,
                    Err(e) => match revert_of(&e) {
                        Some(revert) => return Ok(Err(revert.kind())),
                        None => return Err(e),
                    },
                }
            }
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

/// The model's value of a checkable quantity.
pub fn model_value(model: &Model, spec: &Spec, obs: Obs) -> Result<U256, ErrorKind> {
    let id = |p: usize| model.pool_id(spec, p);
    match obs {
        Obs::PoolValue(p) | Obs::Isolated(p) | Obs::Shared(p) | Obs::Reuse(p) | Obs::Guard(p) => {
            match id(p) {
                None => Ok(U256::ZERO),
                Some(id) => model
                    .risk(id)
                    .map(|r| r[obs.risk_field().expect("a risk field")]),
            }
        }
        Obs::Backing(avs, p) => id(p).map_or(Ok(U256::ZERO), |id| model.backing(avs, id)),
        Obs::Position(s, p) => {
            id(p).map_or(Ok(U256::ZERO), |id| model.position(Holder::Staker(s), id))
        }
        Obs::SinkPosition(avs, p) => {
            id(p).map_or(Ok(U256::ZERO), |id| model.position(spec.sink_of(avs), id))
        }
        Obs::Escrow(s, p) => id(p).map_or(Ok(U256::ZERO), |id| model.escrow(s, id)),
        Obs::Balance(s, asset) => Ok(model.balance(Holder::Staker(s), asset)),
        Obs::Sink(avs, asset) => Ok(model.balance(spec.sink_of(avs), asset)),
        Obs::PoolField(p, f) => id(p).map_or(Ok(U256::ZERO), |id| {
            model.pool_view(id).map(|v| v[usize::from(f)])
        }),
        Obs::AllocField(avs, p, f) => Ok(id(p).map_or(U256::ZERO, |id| {
            model.allocation_view(avs, id)[usize::from(f)]
        })),
        Obs::AvsTotal(avs) => model.avs_total(avs),
    }
}

/// Human words for a checkable quantity.
pub fn describe(spec: &Spec, obs: Obs) -> String {
    let pool = |p: usize| &spec.pools[p].name;
    match obs {
        Obs::PoolValue(p) => format!("slashable value of {}", pool(p)),
        Obs::Isolated(p) => format!("isolated value of {}", pool(p)),
        Obs::Shared(p) => format!("shared stake of {}", pool(p)),
        Obs::Reuse(p) => format!("reuse ratio (WAD) of {}", pool(p)),
        Obs::Guard(p) => format!("cascade guard used (WAD) in {}", pool(p)),
        Obs::Backing(a, p) => format!("backing of {} in {}", spec.avs[a].name, pool(p)),
        Obs::Position(s, p) => format!("{}'s position in {}", spec.stakers[s], pool(p)),
        Obs::Escrow(s, p) => format!(
            "{}'s unclaimed withdrawals from {}",
            spec.stakers[s],
            pool(p)
        ),
        Obs::Balance(s, a) => format!("{} balance of {}", symbol(a), spec.stakers[s]),
        Obs::Sink(avs, a) => format!("{} in the sink of {}", symbol(a), spec.avs[avs].name),
        Obs::SinkPosition(avs, p) => format!(
            "positionsOf({}) in {}",
            if spec.avs[avs].burn {
                "burn".to_string()
            } else {
                spec.sink_name(avs)
            },
            pool(p)
        ),
        Obs::PoolField(p, f) => format!("getPool({}).{}", pool(p), POOL_FIELDS[usize::from(f)]),
        Obs::AllocField(a, p, f) => format!(
            "getAllocation({}, {}).{}",
            pool(p),
            spec.avs[a].name,
            ALLOC_FIELDS[usize::from(f)]
        ),
        Obs::AvsTotal(a) => format!("avsBacking({}).total", spec.avs[a].name),
    }
}

/// A pool's risk and backings, and those of its base (for a tier) or its tiers (for a base).
fn pool_obs(spec: &Spec, model: &Model, pool: usize, out: &mut Vec<Obs>) {
    one_pool_obs(spec, model, pool, out);
    for (i, p) in spec.pools.iter().enumerate() {
        if p.tier_of == Some(pool) || spec.pools[pool].tier_of == Some(i) {
            one_pool_obs(spec, model, i, out);
        }
    }
}

fn one_pool_obs(spec: &Spec, model: &Model, pool: usize, out: &mut Vec<Obs>) {
    out.extend([
        Obs::PoolValue(pool),
        Obs::Isolated(pool),
        Obs::Shared(pool),
        Obs::Reuse(pool),
        Obs::Guard(pool),
    ]);
    out.extend((0..POOL_FIELDS.len() as u8).map(|f| Obs::PoolField(pool, f)));
    if let Some(id) = model.pool_id(spec, pool) {
        for avs in 0..spec.avs.len() {
            if model.has_allocation(id, avs) {
                out.push(Obs::Backing(avs, pool));
                out.extend((0..ALLOC_FIELDS.len() as u8).map(|f| Obs::AllocField(avs, pool, f)));
            }
        }
    }
}

/// What is compared after a step: the touched pool's risk and backings, the staker's position, escrow and wallet,
/// the slashing AVS's sink.
pub fn step_obs(spec: &Spec, model: &Model, action: &Action) -> Vec<Obs> {
    let mut out = Vec::new();
    let staker_pool = |out: &mut Vec<Obs>, s: usize, p: usize| {
        out.extend([
            Obs::Position(s, p),
            Obs::Escrow(s, p),
            Obs::Balance(s, spec.pools[p].asset),
        ]);
    };
    match *action {
        Action::Deposit { staker, pool, .. } | Action::Queue { staker, pool, .. } => {
            pool_obs(spec, model, pool, &mut out);
            staker_pool(&mut out, staker, pool);
        }
        Action::DepositToTier { staker, pool, .. } => {
            pool_obs(spec, model, pool, &mut out);
            staker_pool(&mut out, staker, pool);
            if let Some(base) = spec.pools[pool].tier_of {
                staker_pool(&mut out, staker, base);
            }
        }
        Action::Claim { staker, label } => {
            if let Some((_, wid)) = model.withdrawal(label) {
                let id: usize = (wid >> 64usize).to::<usize>();
                if let Some(pool) =
                    (0..spec.pools.len()).find(|&p| model.pool_id(spec, p) == Some(id))
                {
                    pool_obs(spec, model, pool, &mut out);
                    staker_pool(&mut out, staker, pool);
                    if let Some(base) = spec.pools[pool].tier_of {
                        staker_pool(&mut out, staker, base);
                    }
                }
            }
        }
        Action::Allocate { pool, .. }
        | Action::Deallocate { pool, .. }
        | Action::Request { pool, .. } => {
            pool_obs(spec, model, pool, &mut out);
        }
        Action::Slash { avs, pool, .. } => {
            pool_obs(spec, model, pool, &mut out);
            sink_obs(spec, avs, pool, &mut out);
        }
        Action::Execute { label } => {
            // The request's pool and AVS: from the step that filed it.
            if let Some(Action::Request { avs, pool, .. }) = spec
                .steps
                .iter()
                .find(|s| matches!(s, Action::Request { label: l, .. } if *l == label))
            {
                pool_obs(spec, model, *pool, &mut out);
                sink_obs(spec, *avs, *pool, &mut out);
            }
        }
        Action::Warp { .. }
        | Action::Veto { .. }
        | Action::OptIn { .. }
        | Action::OptOut { .. } => {}
    }
    out
}

/// What the slashing AVS's sink received: tokens, or for a tier slash base shares in its base position.
fn sink_obs(spec: &Spec, avs: usize, pool: usize, out: &mut Vec<Obs>) {
    out.push(Obs::Sink(avs, spec.pools[pool].asset));
    if let Some(base) = spec.pools[pool].tier_of {
        out.push(Obs::SinkPosition(avs, base));
    }
}

/// Everything checkable at the end: every pool, backing, position, escrow, wallet and sink (sinks' positions too).
pub fn final_obs(spec: &Spec, model: &Model) -> Vec<Obs> {
    let mut out = Vec::new();
    for pool in 0..spec.pools.len() {
        if model.pool_id(spec, pool).is_none() {
            continue;
        }
        out.extend([
            Obs::PoolValue(pool),
            Obs::Isolated(pool),
            Obs::Shared(pool),
            Obs::Reuse(pool),
            Obs::Guard(pool),
        ]);
        out.extend((0..spec.avs.len()).map(|avs| Obs::Backing(avs, pool)));
        out.extend((0..POOL_FIELDS.len() as u8).map(|f| Obs::PoolField(pool, f)));
        for avs in 0..spec.avs.len() {
            out.extend((0..ALLOC_FIELDS.len() as u8).map(|f| Obs::AllocField(avs, pool, f)));
        }
        for s in 0..spec.stakers.len() {
            out.extend([Obs::Position(s, pool), Obs::Escrow(s, pool)]);
        }
        out.extend((0..spec.avs.len()).map(|avs| Obs::SinkPosition(avs, pool)));
    }
    out.extend((0..spec.avs.len()).map(Obs::AvsTotal));
    let assets: std::collections::BTreeSet<usize> = spec.pools.iter().map(|p| p.asset).collect();
    for &asset in &assets {
        out.extend((0..spec.stakers.len()).map(|s| Obs::Balance(s, asset)));
        out.extend((0..spec.avs.len()).map(|avs| Obs::Sink(avs, asset)));
    }
    out
}

/// Plays `spec` on the model and on a copy of `base`, comparing after every step; stops at the first mismatch.
pub fn differential(base: &Base, spec: &Spec, mutation: Mutation) -> Result<Verdict> {
    differential_with(base, spec, mutation, false)
}

/// [`differential`], optionally comparing only what a scenario file can check (`checkable`): outcomes and error
/// kinds, and the `expect` quantities — not return values, `getPool`, `getAllocation`, `avsBacking` nor sinks'
/// positions. A mismatch found that way reproduces under `bulkhead simulate`.
pub fn differential_with(
    base: &Base,
    spec: &Spec,
    mutation: Mutation,
    checkable: bool,
) -> Result<Verdict> {
    let mut model = Model::new(spec, params(spec), base.start(), mutation);
    let mut engine = base.engine.clone();
    let mut chain = Chain::new(&mut engine, base.sys, spec)?;
    let mut stats = Stats::default();
    let verdict = |mismatch, invalid, stats| {
        Ok(Verdict {
            mismatch,
            invalid,
            stats,
        })
    };
    for (i, action) in spec.steps.iter().enumerate() {
        let predicted = match model.step(spec, action) {
            Ok(p) => p,
            Err(Invalid(why)) => return verdict(None, Some(why), stats),
        };
        let actual = chain
            .step(action)
            .wrap_err_with(|| format!("step {i} ({action:?}) of scenario seed {}", spec.seed))?;
        let outcomes = (&predicted, &actual);
        if let Some(mismatch) =
            check_outcome(spec, &model, i, action, outcomes, checkable, &mut stats)
        {
            return verdict(Some(mismatch), None, stats);
        }
        if let Some(mismatch) = check_values(spec, &model, &mut chain, i, action, checkable)? {
            return verdict(Some(mismatch), None, stats);
        }
    }
    stats.resets = model.resets();
    verdict(None, None, stats)
}

/// Compares step `i`'s outcome on the model and on the chain (`(predicted, actual)`) and counts it in `stats`: the
/// mismatch, if they differ (reverts of different kinds, a success and a revert, different return values).
fn check_outcome(
    spec: &Spec,
    model: &Model,
    i: usize,
    action: &Action,
    (predicted, actual): (&Step, &Step),
    checkable: bool,
    stats: &mut Stats,
) -> Option<Mismatch> {
    stats.steps += 1;
    let what = format!("outcome of step {i} ({})", action.name());
    let counts = stats.actions.entry(action.name()).or_default();
    match (predicted, actual) {
        (Err(m), Err(c)) if m == c => {
            stats.reverts += 1;
            counts.1 += 1;
            *stats.reverts_by_error.entry(*c).or_default() += 1;
        }
        (Ok(m), Ok(c)) => {
            counts.0 += 1;
            let same = checkable
                || match (m, c) {
                    (Ret::Slash(m), Ret::Slash(c)) => m.amount == c.amount,
                    (m, c) => m == c,
                };
            if !same {
                return Some(Mismatch {
                    step: i,
                    what,
                    model: format!("{m:?}"),
                    chain: format!("{c:?}"),
                });
            }
            record(spec, model, action, m, stats);
        }
        _ => {
            let show = |r: &Step| match r {
                Ok(_) => "success".to_string(),
                Err(kind) => format!("revert {kind}"),
            };
            return Some(Mismatch {
                step: i,
                what,
                model: show(predicted),
                chain: show(actual),
            });
        }
    }
    None
}

/// Counts a step that went through in the loss figures: deposits, slashes (tier slashes apart).
fn record(spec: &Spec, model: &Model, action: &Action, ret: &Ret, stats: &mut Stats) {
    match ret {
        Ret::Deposit(_) => {
            if let Action::Deposit { pool, amount, .. } = action {
                stats.deposited[spec.pools[*pool].asset] += *amount;
            }
        }
        Ret::Slash(out) => {
            if model.is_tier(out.pool) {
                if !out.amount.is_zero() {
                    stats.tier_slashes += 1;
                }
            } else if let Some(p) =
                (0..spec.pools.len()).find(|&p| model.pool_id(spec, p) == Some(out.pool))
            {
                stats.slashed[spec.pools[p].asset] += out.amount;
            }
            stats.slashes.push(*out);
        }
        _ => {}
    }
}

/// Compares the values step `i` touched (everything after the last step) on the model and on the chain: the first
/// that differs.
fn check_values(
    spec: &Spec,
    model: &Model,
    chain: &mut Chain<'_>,
    i: usize,
    action: &Action,
    checkable: bool,
) -> Result<Option<Mismatch>> {
    let mut round = Round::default();
    let obs = if i + 1 == spec.steps.len() {
        final_obs(spec, model)
    } else {
        step_obs(spec, model, action)
    };
    for o in obs {
        if checkable && !o.checkable() {
            continue;
        }
        let m = model_value(model, spec, o);
        let c = chain.observe(o, &mut round)?;
        if m != c {
            return Ok(Some(Mismatch {
                step: i,
                what: describe(spec, o),
                model: show(&m),
                chain: show(&c),
            }));
        }
    }
    Ok(None)
}

/// Every step's predicted revert (`None`: success), and the predicted values after the last step.
pub type Predictions = (Vec<Option<ErrorKind>>, Vec<(Obs, Result<U256, ErrorKind>)>);

/// The model's predictions for a spec that ends at its mismatch: every step's outcome (`Some(kind)` for a revert)
/// and the values to expect after the last step. `None` if the model cannot play it.
pub fn predictions(
    base_start: u64,
    spec: &Spec,
    mutation: Mutation,
    extra: &[Obs],
) -> Option<Predictions> {
    let mut model = Model::new(spec, params(spec), base_start, mutation);
    let mut outcomes = Vec::new();
    for action in &spec.steps {
        let out = model.step(spec, action).ok()?;
        outcomes.push(out.err());
    }
    let mut obs = final_obs(spec, &model);
    obs.extend_from_slice(extra);
    obs.sort();
    obs.dedup();
    let values = obs
        .into_iter()
        .map(|o| (o, model_value(&model, spec, o)))
        .collect();
    Some((outcomes, values))
}

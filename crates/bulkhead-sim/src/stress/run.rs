//! The same steps on the real bytecode, sent the way the scenario runner sends them, and the differential check
//! that compares every step's outcome with the model.

use std::collections::BTreeMap;

use alloy::{
    primitives::{Address, U256, aliases::U48},
    sol_types::SolCall,
};
use bulkhead_contracts::{AllocationManager, MockERC20, StakeVault};
use eyre::{Result, WrapErr, eyre};

use super::{
    generator::params,
    model::{Holder, Invalid, Model, Mutation, Ret, SlashOut},
    spec::{ASSETS, Action, RESOLVER, Spec},
};
use crate::{DeployConfig, Engine, System, revert_of, scenario::BURN};

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
    /// Reverts per error name.
    pub revert_names: BTreeMap<String, u64>,
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

fn show(r: &Result<U256, String>) -> String {
    match r {
        Ok(v) => v.to_string(),
        Err(e) => format!("revert {e}"),
    }
}

/// The system after the scenario's set-up, and the runner's bookkeeping.
struct Chain<'a> {
    engine: Engine,
    sys: System,
    spec: &'a Spec,
    avs_ids: Vec<u32>,
    modules: Vec<Address>,
    sinks: Vec<Address>,
    withdrawals: BTreeMap<usize, U256>,
    requests: BTreeMap<usize, u64>,
    pool_ids: std::cell::RefCell<Vec<Option<U256>>>,
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
    /// The runner's set-up: guard, operators, AVSs (no setup deposits or allocations: they are steps here).
    fn new(base: &Base, spec: &'a Spec) -> Result<Self> {
        let mut engine = base.engine.clone();
        let sys = base.sys;
        if let Some((max, window)) = spec.guard {
            engine.send(
                sys.owner,
                sys.manager,
                AllocationManager::setGuardCall {
                    maxFractionWad: max,
                    window,
                },
            )?;
        }
        for op in &spec.operators {
            sys.register_operator(&mut engine, op.as_str(), op.as_str())?;
        }
        let (mut avs_ids, mut modules, mut sinks) = (Vec::new(), Vec::new(), Vec::new());
        for (i, avs) in spec.avs.iter().enumerate() {
            let sink = if avs.burn {
                BURN
            } else {
                engine.actor(&spec.sink_name(i))
            };
            let module = engine.actor(&format!("module-{}", avs.name));
            let (resolver, window) = match avs.veto_window {
                Some(w) => (engine.actor(RESOLVER), w),
                None => (Address::ZERO, 0),
            };
            let id = engine
                .send(
                    AVS_ADMIN,
                    sys.manager,
                    AllocationManager::registerAVSCall {
                        metadataURI: format!("ipfs://{}", avs.name),
                        slasher: module,
                        sink,
                        resolver,
                        vetoWindow: U48::from(window),
                        maxSlashWad: avs.max_slash,
                    },
                )
                .wrap_err_with(|| format!("registering AVS {}", avs.name))?;
            avs_ids.push(id);
            modules.push(module);
            sinks.push(sink);
        }
        Ok(Self {
            engine,
            sys,
            spec,
            avs_ids,
            modules,
            sinks,
            withdrawals: BTreeMap::new(),
            requests: BTreeMap::new(),
            pool_ids: std::cell::RefCell::new(vec![None; spec.pools.len()]),
        })
    }

    fn call<C: SolCall>(
        &mut self,
        from: Address,
        to: Address,
        call: C,
    ) -> Result<Result<C::Return, String>> {
        match self.engine.send(from, to, call) {
            Ok(v) => Ok(Ok(v)),
            Err(e) => match revert_of(&e) {
                Some(r) => Ok(Err(r.name.clone())),
                None => Err(e),
            },
        }
    }

    fn asset(&self, asset: usize) -> Address {
        [self.sys.weth, self.sys.wbtc, self.sys.usdc][asset].address
    }

    fn pool_id(&self, pool: usize) -> Result<Option<U256>> {
        // Pool ids never change once a pool exists.
        if let Some(id) = self.pool_ids.borrow()[pool] {
            return Ok(Some(id));
        }
        let def = &self.spec.pools[pool];
        let operator = crate::address_of(&self.spec.operators[def.operator]);
        let asset = match def.tier_of {
            None => self.asset(def.asset),
            // `tierAsset(base)`: the base pool id as an address.
            Some(base) => match self.pool_id(base)? {
                Some(base_id) => Address::from_word(base_id.into()),
                None => return Ok(None),
            },
        };
        let id = self
            .engine
            .view(self.sys.vault, StakeVault::poolOfCall { operator, asset })?;
        let id = (!id.is_zero()).then_some(id);
        self.pool_ids.borrow_mut()[pool] = id;
        Ok(id)
    }

    fn require_pool(&self, pool: usize) -> Result<U256> {
        self.pool_id(pool)?.ok_or_else(|| {
            eyre!(
                "pool {} does not exist on chain",
                self.spec.pools[pool].name
            )
        })
    }

    /// Sends one step; `Ok(Err(name))` when its main transaction reverted.
    fn step(&mut self, action: &Action) -> Result<Result<Ret, String>> {
        let spec = self.spec;
        let (vault, manager) = (self.sys.vault, self.sys.manager);
        Ok(match *action {
            Action::Deposit {
                staker,
                pool,
                amount,
            } => {
                let from = self.engine.actor(&spec.stakers[staker]);
                let def = &spec.pools[pool];
                let asset = self.asset(def.asset);
                let operator = self.engine.actor(&spec.operators[def.operator]);
                self.engine
                    .send(from, asset, MockERC20::mintCall { to: from, amount })?;
                self.engine.send(
                    from,
                    asset,
                    MockERC20::approveCall {
                        spender: vault,
                        value: amount,
                    },
                )?;
                self.call(
                    from,
                    vault,
                    StakeVault::depositCall {
                        operator,
                        asset,
                        assets: amount,
                    },
                )?
                .map(|r| Ret::Deposit(r.shares))
            }
            Action::DepositToTier {
                staker,
                pool,
                shares,
            } => {
                let base = spec.pools[pool]
                    .tier_of
                    .ok_or_else(|| eyre!("{} is not a tier", spec.pools[pool].name))?;
                let base_id = self.require_pool(base)?;
                let allowed = self.engine.view(
                    vault,
                    StakeVault::tierAllowedCall {
                        basePoolId: base_id,
                    },
                )?;
                if !allowed {
                    self.engine.send(
                        self.sys.owner,
                        vault,
                        StakeVault::setTierAllowedCall {
                            basePoolId: base_id,
                            allowed: true,
                        },
                    )?;
                }
                let from = self.engine.actor(&spec.stakers[staker]);
                let operator = self
                    .engine
                    .actor(&spec.operators[spec.pools[pool].operator]);
                // The spec's tier operators are approved by the base pool's operator (as the scenario runner does).
                let approved = self.engine.view(
                    vault,
                    StakeVault::tierOperatorApprovedCall {
                        basePoolId: base_id,
                        operator,
                    },
                )?;
                if !approved {
                    let base_operator = self
                        .engine
                        .actor(&spec.operators[spec.pools[base].operator]);
                    self.engine.send(
                        base_operator,
                        vault,
                        StakeVault::approveTierOperatorCall {
                            basePoolId: base_id,
                            operator,
                            approved: true,
                        },
                    )?;
                }
                self.call(
                    from,
                    vault,
                    StakeVault::depositToTierCall {
                        basePoolId: base_id,
                        operator,
                        baseShares: shares,
                    },
                )?
                .map(|r| Ret::Deposit(r.shares))
            }
            Action::Allocate {
                pool,
                avs,
                mode,
                fraction,
            } => {
                let id = self.require_pool(pool)?;
                let operator = self
                    .engine
                    .actor(&spec.operators[spec.pools[pool].operator]);
                let avs_id = self.avs_ids[avs];
                let member = self.engine.view(
                    manager,
                    AllocationManager::membershipCall {
                        avsId: avs_id,
                        operator,
                    },
                )?;
                if !member.optedIn {
                    self.engine.send(
                        operator,
                        manager,
                        AllocationManager::optInCall { avsId: avs_id },
                    )?;
                }
                self.call(
                    operator,
                    manager,
                    AllocationManager::allocateCall {
                        poolId: id,
                        avsId: avs_id,
                        mode: mode.code(),
                        fractionWad: fraction,
                    },
                )?
                .map(|_| Ret::None)
            }
            Action::Deallocate {
                pool,
                avs,
                fraction,
            } => {
                let id = self.require_pool(pool)?;
                let operator = self
                    .engine
                    .actor(&spec.operators[spec.pools[pool].operator]);
                let avs_id = self.avs_ids[avs];
                let current = self
                    .engine
                    .view(
                        manager,
                        AllocationManager::getAllocationCall {
                            poolId: id,
                            avsId: avs_id,
                        },
                    )?
                    .mode;
                let mode = if current == 0 { 2 } else { current };
                self.call(
                    operator,
                    manager,
                    AllocationManager::allocateCall {
                        poolId: id,
                        avsId: avs_id,
                        mode,
                        fractionWad: fraction,
                    },
                )?
                .map(|_| Ret::None)
            }
            Action::Warp { seconds } => {
                self.engine.warp(seconds);
                Ok(Ret::None)
            }
            Action::Queue {
                staker,
                pool,
                fraction,
                label,
            } => {
                let id = self.require_pool(pool)?;
                let from = self.engine.actor(&spec.stakers[staker]);
                let held = self.sys.shares_of(&self.engine, from, id)?;
                let shares = held * U256::from(fraction) / U256::from(super::model::WAD);
                let out = self.call(
                    from,
                    vault,
                    StakeVault::queueWithdrawalCall { poolId: id, shares },
                )?;
                if let Ok(wid) = out {
                    self.withdrawals.insert(label, wid);
                }
                out.map(Ret::Queue)
            }
            Action::Claim { staker, label } => {
                let wid = *self
                    .withdrawals
                    .get(&label)
                    .ok_or_else(|| eyre!("withdrawal w{label} was not queued on chain"))?;
                let from = self.engine.actor(&spec.stakers[staker]);
                self.call(
                    from,
                    vault,
                    StakeVault::completeWithdrawalCall {
                        withdrawalId: wid,
                        receiver: from,
                    },
                )?
                .map(Ret::Claim)
            }
            Action::Slash {
                avs,
                pool,
                fraction,
            } => {
                let id = self.require_pool(pool)?;
                self.call(
                    self.modules[avs],
                    manager,
                    AllocationManager::slashCall {
                        avsId: self.avs_ids[avs],
                        poolId: id,
                        fractionWad: fraction,
                    },
                )?
                .map(slash_ret)
            }
            Action::Request {
                avs,
                pool,
                fraction,
                label,
            } => {
                let id = self.require_pool(pool)?;
                let out = self.call(
                    self.modules[avs],
                    manager,
                    AllocationManager::requestSlashCall {
                        avsId: self.avs_ids[avs],
                        poolId: id,
                        fractionWad: fraction,
                    },
                )?;
                if let Ok(rid) = out {
                    self.requests.insert(label, rid);
                }
                out.map(Ret::Request)
            }
            Action::Veto { label } => {
                let rid = self.request(label)?;
                let from = self.engine.actor(RESOLVER);
                self.call(
                    from,
                    manager,
                    AllocationManager::vetoSlashCall { requestId: rid },
                )?
                .map(|_| Ret::None)
            }
            Action::Execute { label } => {
                let rid = self.request(label)?;
                let avs_id = self
                    .engine
                    .view(
                        manager,
                        AllocationManager::getRequestCall { requestId: rid },
                    )?
                    .avsId;
                let avs = self
                    .avs_ids
                    .iter()
                    .position(|&a| a == avs_id)
                    .ok_or_else(|| eyre!("request {rid} of an unknown AVS"))?;
                self.call(
                    self.modules[avs],
                    manager,
                    AllocationManager::executeSlashCall { requestId: rid },
                )?
                .map(slash_ret)
            }
            Action::OptIn { operator, avs } => {
                let from = self.engine.actor(&spec.operators[operator]);
                self.call(
                    from,
                    manager,
                    AllocationManager::optInCall {
                        avsId: self.avs_ids[avs],
                    },
                )?
                .map(|_| Ret::None)
            }
            Action::OptOut { operator, avs } => {
                let from = self.engine.actor(&spec.operators[operator]);
                self.call(
                    from,
                    manager,
                    AllocationManager::optOutCall {
                        avsId: self.avs_ids[avs],
                    },
                )?
                .map(|_| Ret::None)
            }
        })
    }

    fn request(&self, label: usize) -> Result<u64> {
        self.requests
            .get(&label)
            .copied()
            .ok_or_else(|| eyre!("request r{label} was not filed on chain"))
    }

    /// A tier's amounts are base shares: the runner converts them with the base's `convertToAssets`.
    fn in_base_asset(&self, pool: usize, amount: U256) -> Result<U256> {
        match self.spec.pools[pool].tier_of {
            None => Ok(amount),
            Some(base) => match self.pool_id(base)? {
                Some(base_id) => self.engine.view(
                    self.sys.vault,
                    StakeVault::convertToAssetsCall {
                        poolId: base_id,
                        shares: amount,
                    },
                ),
                None => Ok(U256::ZERO),
            },
        }
    }

    /// Reads one checkable value, as the scenario runner reads it.
    fn observe(&mut self, obs: Obs, round: &mut Round) -> Result<Result<U256, String>> {
        let spec = self.spec;
        let pool_of = |o: Obs| match o {
            Obs::PoolValue(p)
            | Obs::Isolated(p)
            | Obs::Shared(p)
            | Obs::Reuse(p)
            | Obs::Guard(p)
            | Obs::Backing(_, p)
            | Obs::Position(_, p)
            | Obs::SinkPosition(_, p)
            | Obs::Escrow(_, p)
            | Obs::PoolField(p, _)
            | Obs::AllocField(_, p, _) => Some(p),
            Obs::Balance(..) | Obs::Sink(..) | Obs::AvsTotal(_) => None,
        };
        let id = match pool_of(obs) {
            Some(p) => match self.pool_id(p)? {
                Some(id) => Some(id),
                None => return Ok(Ok(U256::ZERO)),
            },
            None => None,
        };
        let view_err = |e: eyre::Report| match revert_of(&e) {
            Some(r) => Ok(Err(r.name.clone())),
            None => Err(e),
        };
        Ok(Ok(match obs {
            Obs::PoolValue(p)
            | Obs::Isolated(p)
            | Obs::Shared(p)
            | Obs::Reuse(p)
            | Obs::Guard(p) => {
                let risk = match round.risks.get(&p) {
                    Some(r) => *r,
                    None => {
                        let r = match self.engine.view(
                            self.sys.manager,
                            AllocationManager::poolRiskCall {
                                poolId: id.expect("a pool"),
                            },
                        ) {
                            Ok(r) => r,
                            Err(e) => return view_err(e),
                        };
                        let r = [
                            r.value,
                            r.totalIsolated,
                            r.sharedStake,
                            r.reuseRatioWad,
                            r.guardUsedWad,
                        ];
                        round.risks.insert(p, r);
                        r
                    }
                };
                match obs {
                    Obs::PoolValue(_) => risk[0],
                    Obs::Isolated(_) => risk[1],
                    Obs::Shared(_) => risk[2],
                    Obs::Reuse(_) => risk[3],
                    _ => risk[4],
                }
            }
            Obs::Backing(avs, _) => match self.engine.view(
                self.sys.manager,
                AllocationManager::slashableBackingCall {
                    avsId: self.avs_ids[avs],
                    poolId: id.expect("a pool"),
                },
            ) {
                Ok(v) => v,
                Err(e) => return view_err(e),
            },
            Obs::Position(_, _) | Obs::SinkPosition(_, _) => {
                let address = match obs {
                    Obs::Position(staker, _) => crate::address_of(&spec.stakers[staker]),
                    Obs::SinkPosition(avs, _) => self.sinks[avs],
                    _ => unreachable!("a position"),
                };
                let positions = match round.positions.entry(address) {
                    std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::btree_map::Entry::Vacant(e) => {
                        let positions = self.engine.view(
                            self.sys.vault,
                            StakeVault::positionsOfCall { staker: address },
                        )?;
                        e.insert(positions.iter().map(|p| (p.poolId, p.value)).collect())
                    }
                };
                let value = positions
                    .iter()
                    .find(|p| Some(p.0) == id)
                    .map_or(U256::ZERO, |p| p.1);
                self.in_base_asset(pool_of(obs).expect("a pool"), value)?
            }
            Obs::Escrow(staker, _) => {
                let escrows = match round.escrows.entry(staker) {
                    std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::btree_map::Entry::Vacant(e) => {
                        let address = crate::address_of(&spec.stakers[staker]);
                        let views = self
                            .engine
                            .view(
                                self.sys.vault,
                                StakeVault::withdrawalsOfCall {
                                    staker: address,
                                    cursor: U256::ZERO,
                                    limit: U256::from(u32::MAX),
                                },
                            )?
                            .views;
                        e.insert(
                            views
                                .iter()
                                .map(|w| (w.poolId, w.value, w.claimed))
                                .collect(),
                        )
                    }
                };
                let value = escrows
                    .iter()
                    .filter(|w| Some(w.0) == id && !w.2)
                    .fold(U256::ZERO, |sum, w| sum + w.1);
                self.in_base_asset(pool_of(obs).expect("a pool"), value)?
            }
            Obs::Balance(staker, asset) => {
                let holder = crate::address_of(&spec.stakers[staker]);
                self.sys
                    .balance_of(&self.engine, self.asset(asset), holder)?
            }
            Obs::Sink(avs, asset) => {
                self.sys
                    .balance_of(&self.engine, self.asset(asset), self.sinks[avs])?
            }
            Obs::PoolField(p, f) => {
                let v = match round.pools.get(&p) {
                    Some(v) => *v,
                    None => {
                        let v = match self.engine.view(
                            self.sys.vault,
                            StakeVault::getPoolCall {
                                poolId: id.expect("a pool"),
                            },
                        ) {
                            Ok(v) => v,
                            Err(e) => return view_err(e),
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
                        round.pools.insert(p, v);
                        v
                    }
                };
                v[usize::from(f)]
            }
            Obs::AllocField(avs, p, f) => {
                let v = match round.allocs.get(&(avs, p)) {
                    Some(v) => *v,
                    None => {
                        let a = self.engine.view(
                            self.sys.manager,
                            AllocationManager::getAllocationCall {
                                poolId: id.expect("a pool"),
                                avsId: self.avs_ids[avs],
                            },
                        )?;
                        let v = [
                            U256::from(a.current),
                            U256::from(a.pending),
                            U256::from(a.effectAt),
                            U256::from(a.mode),
                            U256::from(a.epoch),
                        ];
                        round.allocs.insert((avs, p), v);
                        v
                    }
                };
                v[usize::from(f)]
            }
            Obs::AvsTotal(avs) => match self.engine.view(
                self.sys.manager,
                AllocationManager::avsBackingCall {
                    avsId: self.avs_ids[avs],
                },
            ) {
                Ok(r) => r.total,
                Err(e) => return view_err(e),
            },
        }))
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
pub fn model_value(model: &Model, spec: &Spec, obs: Obs) -> Result<U256, String> {
    let id = |p: usize| model.pool_id(spec, p);
    let r = match obs {
        Obs::PoolValue(p) | Obs::Isolated(p) | Obs::Shared(p) | Obs::Reuse(p) | Obs::Guard(p) => {
            match id(p) {
                None => Ok(U256::ZERO),
                Some(id) => model.risk(id).map(|r| {
                    r[match obs {
                        Obs::PoolValue(_) => 0,
                        Obs::Isolated(_) => 1,
                        Obs::Shared(_) => 2,
                        Obs::Reuse(_) => 3,
                        _ => 4,
                    }]
                }),
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
    };
    r.map_err(str::to_string)
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
        Obs::Balance(s, a) => format!("{} balance of {}", ASSETS[a], spec.stakers[s]),
        Obs::Sink(avs, a) => format!("{} in the sink of {}", ASSETS[a], spec.avs[avs].name),
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
/// names, and the `expect` quantities — not return values, `getPool`, `getAllocation`, `avsBacking` nor sinks'
/// positions. A mismatch found that way reproduces under `bulkhead simulate`.
pub fn differential_with(
    base: &Base,
    spec: &Spec,
    mutation: Mutation,
    checkable: bool,
) -> Result<Verdict> {
    let mut model = Model::new(spec, params(spec), base.start(), mutation);
    let mut chain = Chain::new(base, spec)?;
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
        stats.steps += 1;
        let what = format!("outcome of step {i} ({})", action.name());
        let counts = stats.actions.entry(action.name()).or_default();
        match (&predicted, &actual) {
            (Err(m), Err(c)) if m == c => {
                stats.reverts += 1;
                counts.1 += 1;
                *stats.revert_names.entry(c.clone()).or_default() += 1;
            }
            (Ok(m), Ok(c)) => {
                counts.0 += 1;
                let same = checkable
                    || match (m, c) {
                        (Ret::Slash(m), Ret::Slash(c)) => m.amount == c.amount,
                        (m, c) => m == c,
                    };
                if !same {
                    let mismatch = Mismatch {
                        step: i,
                        what,
                        model: format!("{m:?}"),
                        chain: format!("{c:?}"),
                    };
                    return verdict(Some(mismatch), None, stats);
                }
                match m {
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
                        } else if let Some(p) = (0..spec.pools.len())
                            .find(|&p| model.pool_id(spec, p) == Some(out.pool))
                        {
                            stats.slashed[spec.pools[p].asset] += out.amount;
                        }
                        stats.slashes.push(*out);
                    }
                    _ => {}
                }
            }
            _ => {
                let show = |r: &Result<Ret, String>| match r {
                    Ok(_) => "success".to_string(),
                    Err(name) => format!("revert {name}"),
                };
                let mismatch = Mismatch {
                    step: i,
                    what,
                    model: show(&predicted.clone().map_err(str::to_string)),
                    chain: show(&actual),
                };
                return verdict(Some(mismatch), None, stats);
            }
        }
        let mut round = Round::default();
        let obs = if i + 1 == spec.steps.len() {
            final_obs(spec, &model)
        } else {
            step_obs(spec, &model, action)
        };
        for o in obs {
            if checkable && !o.checkable() {
                continue;
            }
            let m = model_value(&model, spec, o);
            let c = chain.observe(o, &mut round)?;
            if m != c {
                let mismatch = Mismatch {
                    step: i,
                    what: describe(spec, o),
                    model: show(&m),
                    chain: show(&c),
                };
                return verdict(Some(mismatch), None, stats);
            }
        }
    }
    stats.resets = model.resets();
    verdict(None, None, stats)
}

/// Every step's predicted revert (`None`: success), and the predicted values after the last step.
pub type Predictions = (Vec<Option<String>>, Vec<(Obs, Result<U256, String>)>);

/// The model's predictions for a spec that ends at its mismatch: every step's outcome (`Err(name)` for a revert)
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
        outcomes.push(out.err().map(str::to_string));
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

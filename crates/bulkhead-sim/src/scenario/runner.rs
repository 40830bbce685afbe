//! Runs a [`Scenario`] on a fresh [`Engine`] with the system deployed from the real bytecode, and reports every
//! step, every expectation and the final state.

use std::time::Instant;

use alloy::{
    primitives::{Address, B256, U256, address, aliases::U48, keccak256},
    signers::SignerSync,
    sol_types::SolCall,
};
use bulkhead_contracts::{
    AllocationManager, CommitteeSlasher, DoubleSignSlasher, MockERC20, StakeVault,
    bindings::{
        AllocationManager::AllocationManagerEvents, CommitteeSlasher::CommitteeSlasherEvents,
        DoubleSignSlasher::DoubleSignSlasherEvents, StakeVault::StakeVaultEvents,
    },
    mode,
};
use eyre::{Result, WrapErr, eyre};
use tracing::{debug, info};

use super::{
    model::{Action, Amount, AvsKind, CheckKind, Holder, Loc, Scenario, Sink, Step},
    report::{
        AvsSummary, BackingSummary, EscrowSummary, EventRecord, Expectation, FinalState,
        PoolSummary, PositionSummary, RunReport, SinkSummary, StakerSummary, StepOutcome,
        StepRecord, TokenAmount,
    },
    units::{WAD, format_duration, format_percent, format_ratio, format_units},
};
use crate::{
    BulkheadEvent, DecodedEvent, DeployConfig, Deployment, Engine, Receipt, Revert, System,
    deploy::initcode, revert_of, signer_of,
};

/// Where `burn` sinks send slashed tokens.
pub const BURN: Address = address!("0x000000000000000000000000000000000000dEaD");

/// Actor that registers the instant and veto AVSs and deploys the module contracts.
const AVS_ADMIN: &str = "avsAdmin";
/// Default sender of `double_sign` proofs and committee executions (anyone may send them).
const KEEPER: &str = "keeper";

/// Where a scenario runs.
#[derive(Debug)]
pub enum Target<'d> {
    /// A fresh in-memory chain with the system deployed from the bytecode, as the Solidity fixtures deploy it.
    Fresh,
    /// An engine holding `deployment`: a fork of its chain ([`Engine::fork`]) or its anvil node
    /// ([`Engine::connect`]). The scenario's actors, tokens and AVSs are added to what is there.
    Deployed {
        /// The engine (boxed: an engine is large and `Fresh` carries nothing).
        engine: Box<Engine>,
        /// The deployed system (`deployments/<chainId>.json`).
        deployment: &'d Deployment,
    },
}

/// Runs `scenario` from a fresh deployment. Reverts and failed expectations are part of the report; an error means
/// the scenario could not be run as written (located in the file) or the EVM failed.
pub fn run(scenario: &Scenario) -> Result<RunReport> {
    run_on(scenario, Target::Fresh)
}

/// Runs `scenario` on `target`, like [`run`].
pub fn run_on(scenario: &Scenario, target: Target<'_>) -> Result<RunReport> {
    let started = Instant::now();
    info!(file = scenario.file(), "running {}", scenario.name());
    let mut run = Run::setup(scenario, target)?;
    let mut steps = Vec::new();
    let mut expectations = Vec::new();
    for step in &scenario.steps {
        let record = run.step(step, &mut expectations)?;
        debug!(
            step = step.index,
            "{} {}: {}", record.action, record.detail, record.outcome
        );
        steps.push(record);
    }
    let final_state = run.final_state()?;
    let passed = expectations.iter().all(|e| e.passed);
    Ok(RunReport {
        file: scenario.file.clone(),
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
        passed,
        steps,
        expectations,
        final_state,
        wall_time_ms: started.elapsed().as_secs_f64() * 1e3,
    })
}

/// An AVS as deployed.
#[derive(Debug, Clone, Copy)]
struct AvsRt {
    id: u32,
    /// The slashing module: an actor for instant and veto AVSs, a contract for the others.
    module: Address,
    sink: Address,
}

#[derive(Debug, Clone)]
struct RequestRec {
    label: Option<String>,
    avs: usize,
    request_id: Option<u64>,
    proposal_id: Option<U256>,
}

#[derive(Debug, Clone)]
struct WithdrawalRec {
    label: Option<String>,
    staker: String,
    id: U256,
    claimed: bool,
}

/// What a step's transactions did.
#[derive(Debug, Default)]
struct Exec {
    gas: u64,
    events: Vec<DecodedEvent>,
    revert: Option<Revert>,
}

struct Run<'s> {
    sc: &'s Scenario,
    engine: Engine,
    sys: System,
    assets: Vec<Address>,
    avs: Vec<AvsRt>,
    pool_ids: Vec<Option<U256>>,
    requests: Vec<RequestRec>,
    withdrawals: Vec<WithdrawalRec>,
    last_events: Vec<DecodedEvent>,
    start: u64,
}

impl<'s> Run<'s> {
    // ------------------------------------------------------------------ setup

    fn setup(sc: &'s Scenario, target: Target<'_>) -> Result<Self> {
        let (mut engine, sys, config) = match target {
            Target::Fresh => {
                let mut engine = Engine::default();
                let config = DeployConfig::default();
                let sys = System::deploy(&mut engine, &config)?;
                (engine, sys, config)
            }
            Target::Deployed {
                mut engine,
                deployment,
            } => {
                let sys = System::attach(&mut engine, deployment)?;
                (*engine, sys, deployment.config())
            }
        };
        engine.label(BURN, "burn");

        let mut assets = Vec::new();
        for asset in &sc.assets {
            let builtin = match asset.symbol.as_str() {
                "WETH" if asset.builtin => Some(sys.weth.address),
                "WBTC" if asset.builtin => Some(sys.wbtc.address),
                "USDC" if asset.builtin => Some(sys.usdc.address),
                _ => None,
            };
            if builtin == Some(Address::ZERO) {
                return Err(eyre!(
                    "{}: the scenario uses the demo token {} but the deployment has none (only local chains do): declare it under [[assets]] with its decimals so the scenario deploys its own",
                    sc.file(),
                    asset.symbol
                ));
            }
            let address = match builtin {
                Some(address) => address,
                None => {
                    let symbol = asset.symbol.as_str();
                    let address = engine.deploy(
                        sys.owner,
                        symbol,
                        initcode(
                            &MockERC20::BYTECODE,
                            &MockERC20::constructorCall {
                                name: symbol.to_string(),
                                symbol: symbol.to_string(),
                                decimals_: asset.decimals,
                            },
                        ),
                    )?;
                    engine
                        .send(
                            sys.owner,
                            sys.vault,
                            StakeVault::setAssetAllowedCall {
                                asset: address,
                                allowed: true,
                            },
                        )
                        .wrap_err_with(|| format!("allowlisting {symbol}"))?;
                    address
                }
            };
            assets.push(address);
        }

        if let Some((max, window)) = sc.guard {
            engine
                .send(
                    sys.owner,
                    sys.manager,
                    AllocationManager::setGuardCall {
                        maxFractionWad: max,
                        window,
                    },
                )
                .map_err(|e| located(sc, "guard", e))?;
        }
        for operator in &sc.operators {
            // The operator's own address is its signing key, so its actor key signs double-sign votes.
            sys.register_operator(&mut engine, operator.as_str(), operator.as_str())?;
        }
        for actor in &sc.actors {
            engine.actor(actor);
        }
        for staker in &sc.stakers {
            for (asset, amount) in staker.funding.iter().flatten() {
                let to = engine.actor(&staker.name);
                engine.send(
                    to,
                    assets[*asset],
                    MockERC20::mintCall {
                        to,
                        amount: *amount,
                    },
                )?;
            }
        }

        let mut avs_rt = Vec::new();
        for avs in &sc.avs {
            let sink = match &avs.sink {
                Sink::Burn => BURN,
                Sink::Actor(name) => engine.actor(name),
            };
            let uri = format!("ipfs://{}", avs.name);
            let rt = match &avs.kind {
                AvsKind::Instant | AvsKind::Veto { .. } => {
                    let module = engine.actor(&format!("module-{}", avs.name));
                    let (resolver, window) = match &avs.kind {
                        AvsKind::Veto { window, resolver } => (engine.actor(resolver), *window),
                        _ => (Address::ZERO, 0),
                    };
                    let id = engine
                        .send(
                            AVS_ADMIN,
                            sys.manager,
                            AllocationManager::registerAVSCall {
                                metadataURI: uri,
                                slasher: module,
                                sink,
                                resolver,
                                vetoWindow: U48::from(window),
                                maxSlashWad: avs.max_slash,
                            },
                        )
                        .wrap_err_with(|| format!("registering AVS {}", avs.name))?;
                    AvsRt { id, module, sink }
                }
                AvsKind::DoubleSign { fraction } => {
                    let module = engine
                        .deploy(
                            AVS_ADMIN,
                            &avs.name,
                            initcode(
                                &DoubleSignSlasher::BYTECODE,
                                &DoubleSignSlasher::constructorCall {
                                    manager_: sys.manager,
                                    vault_: sys.vault,
                                    registry_: sys.registry,
                                    metadataURI: uri,
                                    sink,
                                    slashFractionWad_: *fraction,
                                },
                            ),
                        )
                        .wrap_err_with(|| {
                            format!("deploying the double-sign module of AVS {}", avs.name)
                        })?;
                    let id = engine.view(module, DoubleSignSlasher::avsIdCall {})?;
                    AvsRt { id, module, sink }
                }
                AvsKind::Committee {
                    members,
                    quorum,
                    window,
                    resolver,
                } => {
                    let members = members.iter().map(|m| engine.actor(m)).collect();
                    let resolver = engine.actor(resolver);
                    let module = engine
                        .deploy(
                            AVS_ADMIN,
                            &avs.name,
                            initcode(
                                &CommitteeSlasher::BYTECODE,
                                &CommitteeSlasher::constructorCall {
                                    manager_: sys.manager,
                                    vault_: sys.vault,
                                    metadataURI: uri,
                                    sink,
                                    resolver,
                                    vetoWindow: U48::from(*window),
                                    maxSlashWad: avs.max_slash,
                                    members,
                                    quorum_: *quorum,
                                },
                            ),
                        )
                        .wrap_err_with(|| {
                            format!("deploying the committee module of AVS {}", avs.name)
                        })?;
                    let id = engine.view(module, CommitteeSlasher::avsIdCall {})?;
                    AvsRt { id, module, sink }
                }
            };
            avs_rt.push(rt);
        }

        let mut run = Self {
            sc,
            engine,
            sys,
            assets,
            avs: avs_rt,
            pool_ids: vec![None; sc.pools.len()],
            requests: Vec::new(),
            withdrawals: Vec::new(),
            last_events: Vec::new(),
            start: 0,
        };

        for deposit in &sc.deposits {
            let mut exec = Exec::default();
            if sc.pools[deposit.pool].tier_of.is_some() {
                run.deposit_to_tier(
                    &mut exec,
                    &deposit.staker,
                    deposit.pool,
                    deposit.amount,
                    &deposit.loc,
                )?;
            } else {
                run.deposit(&mut exec, &deposit.staker, deposit.pool, deposit.amount)?;
            }
            if let Some(revert) = exec.revert {
                return Err(sc
                    .error_at(
                        &deposit.loc,
                        format!("this setup deposit reverted: {revert}"),
                    )
                    .into());
            }
        }
        // Allocations made effective at start first, then the pending ones (filed after the delay has passed).
        let (now, later): (Vec<_>, Vec<_>) = sc.allocations.iter().partition(|a| !a.pending);
        for (batch, warp) in [(now, true), (later, false)] {
            for a in &batch {
                let mut exec = Exec::default();
                let pool_id = run.require_pool(a.pool, &a.loc)?;
                run.allocate(
                    &mut exec, pool_id, a.pool, a.avs, a.mode, a.fraction, None, true,
                )?;
                if let Some(revert) = exec.revert {
                    return Err(sc
                        .error_at(&a.loc, format!("this setup allocation reverted: {revert}"))
                        .into());
                }
            }
            if warp && !batch.is_empty() {
                run.engine.warp(config.allocation_delay);
            }
        }
        run.start = run.engine.timestamp();
        Ok(run)
    }

    // ------------------------------------------------------------------ names and ids

    fn actor(&mut self, name: &str) -> Address {
        self.engine.actor(name)
    }

    /// The vault id of a declared pool, once it exists.
    fn pool_id(&mut self, pool: usize) -> Result<Option<U256>> {
        if let Some(id) = self.pool_ids[pool] {
            return Ok(Some(id));
        }
        let def = &self.sc.pools[pool];
        let operator = self.actor(&def.operator.clone());
        let asset = match def.tier_of {
            None => self.assets[def.asset],
            Some(base) => match self.pool_id(base)? {
                Some(base_id) => self.engine.view(
                    self.sys.vault,
                    StakeVault::tierAssetCall {
                        basePoolId: base_id,
                    },
                )?,
                None => return Ok(None),
            },
        };
        let id = self
            .engine
            .view(self.sys.vault, StakeVault::poolOfCall { operator, asset })?;
        if id.is_zero() {
            return Ok(None);
        }
        self.pool_ids[pool] = Some(id);
        Ok(Some(id))
    }

    fn require_pool(&mut self, pool: usize, loc: &Loc) -> Result<U256> {
        self.pool_id(pool)?.ok_or_else(|| {
            self.sc
                .error_at(
                    loc,
                    format!(
                        "pool {:?} does not exist in the vault yet: nothing has been deposited into it",
                        self.sc.pools[pool].name
                    ),
                )
                .into()
        })
    }

    fn pool_name(&self, id: U256) -> String {
        self.pool_ids
            .iter()
            .position(|p| *p == Some(id))
            .map_or_else(|| format!("pool #{id}"), |i| self.sc.pools[i].name.clone())
    }

    /// Decimals and symbol of the asset a pool's amounts are counted in.
    fn pool_unit(&self, id: U256) -> (u8, String) {
        match self.pool_ids.iter().position(|p| *p == Some(id)) {
            Some(i) => {
                let asset = &self.sc.assets[self.sc.pools[i].asset];
                (asset.decimals, asset.symbol.clone())
            }
            None => (18, String::new()),
        }
    }

    fn pool_amount(&self, id: U256, raw: U256) -> String {
        let (decimals, symbol) = self.pool_unit(id);
        format!("{} {symbol}", format_units(raw, decimals))
            .trim_end()
            .to_string()
    }

    fn avs_name(&self, id: u32) -> String {
        self.avs
            .iter()
            .position(|a| a.id == id)
            .map_or_else(|| format!("AVS #{id}"), |i| self.sc.avs[i].name.clone())
    }

    fn since_start(&self, timestamp: u64) -> String {
        let now = self.engine.timestamp();
        let at = format_duration(timestamp.saturating_sub(self.start));
        if timestamp >= now {
            format!("+{at} (in {})", format_duration(timestamp - now))
        } else {
            format!("+{at}")
        }
    }

    // ------------------------------------------------------------------ transactions

    /// Sends a transaction that belongs to the step: its gas and events are recorded, a revert ends the step.
    fn main_tx<C: SolCall>(
        &mut self,
        exec: &mut Exec,
        from: Address,
        to: Address,
        call: C,
    ) -> Result<Option<C::Return>> {
        self.tx(exec, from, to, call, true)
    }

    /// Sends a preparatory transaction (mint, approve, opt-in): a revert ends the step, nothing else is recorded.
    fn aux_tx<C: SolCall>(
        &mut self,
        exec: &mut Exec,
        from: Address,
        to: Address,
        call: C,
    ) -> Result<Option<C::Return>> {
        self.tx(exec, from, to, call, false)
    }

    fn tx<C: SolCall>(
        &mut self,
        exec: &mut Exec,
        from: Address,
        to: Address,
        call: C,
        main: bool,
    ) -> Result<Option<C::Return>> {
        if exec.revert.is_some() {
            return Ok(None);
        }
        match self.engine.exec(from, to, call) {
            Ok(Receipt {
                value,
                gas_used,
                events,
                ..
            }) => {
                if main {
                    exec.gas += gas_used;
                    exec.events.extend(events);
                }
                Ok(Some(value))
            }
            Err(err) => match revert_of(&err) {
                Some(revert) => {
                    exec.revert = Some(revert.clone());
                    Ok(None)
                }
                None => Err(err),
            },
        }
    }

    fn view<C: SolCall>(&self, to: Address, call: C) -> Result<C::Return> {
        self.engine.view(to, call)
    }

    // ------------------------------------------------------------------ actions

    fn deposit(&mut self, exec: &mut Exec, staker: &str, pool: usize, amount: U256) -> Result<()> {
        let from = self.actor(staker);
        let asset = self.assets[self.sc.pools[pool].asset];
        let operator = self.actor(&self.sc.pools[pool].operator.clone());
        let funded = self
            .sc
            .stakers
            .iter()
            .any(|s| s.name == staker && s.funding.is_some());
        if !funded {
            self.aux_tx(exec, from, asset, MockERC20::mintCall { to: from, amount })?;
        }
        let vault = self.sys.vault;
        self.aux_tx(
            exec,
            from,
            asset,
            MockERC20::approveCall {
                spender: vault,
                value: amount,
            },
        )?;
        self.main_tx(
            exec,
            from,
            vault,
            StakeVault::depositCall {
                operator,
                asset,
                assets: amount,
            },
        )?;
        Ok(())
    }

    fn deposit_to_tier(
        &mut self,
        exec: &mut Exec,
        staker: &str,
        pool: usize,
        shares: U256,
        loc: &Loc,
    ) -> Result<()> {
        let base = self.sc.pools[pool].tier_of.expect("a tier");
        let base_id = self.require_pool(base, loc)?;
        let vault = self.sys.vault;
        if !self.view(
            vault,
            StakeVault::tierAllowedCall {
                basePoolId: base_id,
            },
        )? {
            let owner = self.sys.owner;
            self.aux_tx(
                exec,
                owner,
                vault,
                StakeVault::setTierAllowedCall {
                    basePoolId: base_id,
                    allowed: true,
                },
            )?;
        }
        let from = self.actor(staker);
        let operator = self.actor(&self.sc.pools[pool].operator.clone());
        // Only operators the base pool's operator approved run a tier over it: the scenario's tier is approved.
        if !self.view(
            vault,
            StakeVault::tierOperatorApprovedCall {
                basePoolId: base_id,
                operator,
            },
        )? {
            let base_operator = self.actor(&self.sc.pools[base].operator.clone());
            self.aux_tx(
                exec,
                base_operator,
                vault,
                StakeVault::approveTierOperatorCall {
                    basePoolId: base_id,
                    operator,
                    approved: true,
                },
            )?;
        }
        self.main_tx(
            exec,
            from,
            vault,
            StakeVault::depositToTierCall {
                basePoolId: base_id,
                operator,
                baseShares: shares,
            },
        )?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn allocate(
        &mut self,
        exec: &mut Exec,
        pool_id: U256,
        pool: usize,
        avs: usize,
        allocation_mode: u8,
        fraction: u64,
        by: Option<&str>,
        opt_in: bool,
    ) -> Result<()> {
        let operator = self.actor(&self.sc.pools[pool].operator.clone());
        let from = by.map_or(operator, |b| self.engine.actor(b));
        let (manager, avs_id) = (self.sys.manager, self.avs[avs].id);
        if opt_in
            && !self
                .view(
                    manager,
                    AllocationManager::membershipCall {
                        avsId: avs_id,
                        operator,
                    },
                )?
                .optedIn
        {
            self.aux_tx(
                exec,
                operator,
                manager,
                AllocationManager::optInCall { avsId: avs_id },
            )?;
        }
        self.main_tx(
            exec,
            from,
            manager,
            AllocationManager::allocateCall {
                poolId: pool_id,
                avsId: avs_id,
                mode: allocation_mode,
                fractionWad: fraction,
            },
        )?;
        Ok(())
    }

    fn request(&self, step: &Step, avs: usize, label: Option<&str>) -> Result<RequestRec> {
        let found = match label {
            Some(label) => self
                .requests
                .iter()
                .find(|r| r.label.as_deref() == Some(label)),
            None => self.requests.iter().rev().find(|r| r.avs == avs),
        };
        found.cloned().ok_or_else(|| {
            self.sc
                .error_at(
                    step.loc_of("avs"),
                    format!(
                        "AVS {:?} has not requested a slash yet",
                        self.sc.avs[avs].name
                    ),
                )
                .into()
        })
    }

    /// Runs one step's transactions; returns a description of what it does.
    fn act(&mut self, step: &Step, exec: &mut Exec) -> Result<String> {
        let sc = self.sc;
        let (vault, manager) = (self.sys.vault, self.sys.manager);
        let pct = |f: u64| format_percent(U256::from(f));
        Ok(match &step.action {
            Action::Deposit {
                staker,
                pool,
                amount,
            } => {
                self.deposit(exec, staker, *pool, *amount)?;
                let asset = &sc.assets[sc.pools[*pool].asset];
                format!(
                    "{staker} deposits {} {} into {}",
                    format_units(*amount, asset.decimals),
                    asset.symbol,
                    sc.pools[*pool].name
                )
            }
            Action::DepositToTier {
                staker,
                pool,
                shares,
            } => {
                self.deposit_to_tier(exec, staker, *pool, *shares, step.loc_of("pool"))?;
                let base = &sc.pools[sc.pools[*pool].tier_of.expect("a tier")];
                format!(
                    "{staker} moves {} {} shares into tier {}",
                    format_units(*shares, sc.assets[base.asset].decimals),
                    base.name,
                    sc.pools[*pool].name
                )
            }
            Action::Allocate {
                pool,
                avs,
                mode: m,
                fraction,
                by,
                opt_in,
            } => {
                let pool_id = self.require_pool(*pool, step.loc_of("pool"))?;
                self.allocate(
                    exec,
                    pool_id,
                    *pool,
                    *avs,
                    *m,
                    *fraction,
                    by.as_deref(),
                    *opt_in,
                )?;
                let m = if *m == mode::ISOLATED {
                    "isolated"
                } else {
                    "shared"
                };
                format!(
                    "{} allocates {} to {} ({m})",
                    sc.pools[*pool].name,
                    pct(*fraction),
                    sc.avs[*avs].name
                )
            }
            Action::Deallocate {
                pool,
                avs,
                fraction,
                by,
            } => {
                let pool_id = self.require_pool(*pool, step.loc_of("pool"))?;
                let current = self
                    .view(
                        manager,
                        AllocationManager::getAllocationCall {
                            poolId: pool_id,
                            avsId: self.avs[*avs].id,
                        },
                    )?
                    .mode;
                let m = if current == mode::NONE {
                    mode::SHARED
                } else {
                    current
                };
                self.allocate(
                    exec,
                    pool_id,
                    *pool,
                    *avs,
                    m,
                    *fraction,
                    by.as_deref(),
                    false,
                )?;
                format!(
                    "{} lowers {} to {}",
                    sc.pools[*pool].name,
                    sc.avs[*avs].name,
                    pct(*fraction)
                )
            }
            Action::Warp { seconds } => {
                self.engine.warp(*seconds);
                format!("time passes: {}", format_duration(*seconds))
            }
            Action::QueueWithdrawal {
                staker,
                pool,
                amount,
                label,
            } => {
                let pool_id = self.require_pool(*pool, step.loc_of("pool"))?;
                let from = self.actor(staker);
                let shares = match amount {
                    Amount::Shares(s) => *s,
                    Amount::Fraction(f) => {
                        let held = self.sys.shares_of(&self.engine, from, pool_id)?;
                        held * U256::from(*f) / U256::from(WAD)
                    }
                };
                let id = self.main_tx(
                    exec,
                    from,
                    vault,
                    StakeVault::queueWithdrawalCall {
                        poolId: pool_id,
                        shares,
                    },
                )?;
                if let Some(id) = id {
                    self.withdrawals.push(WithdrawalRec {
                        label: label.clone(),
                        staker: staker.clone(),
                        id,
                        claimed: false,
                    });
                }
                let what = match amount {
                    Amount::Fraction(f) => format!("{} of its shares", pct(*f)),
                    Amount::Shares(_) => "shares".to_string(),
                };
                format!(
                    "{staker} queues {} {} ({what}) of {}",
                    format_units(shares, sc.assets[sc.pools[*pool].asset].decimals),
                    "shares",
                    sc.pools[*pool].name
                )
            }
            Action::Claim {
                staker,
                withdrawal,
                receiver,
            } => {
                let index = match withdrawal {
                    Some(label) => self
                        .withdrawals
                        .iter()
                        .position(|w| w.label.as_deref() == Some(label)),
                    None => self
                        .withdrawals
                        .iter()
                        .position(|w| &w.staker == staker && !w.claimed),
                };
                let index = match index {
                    Some(i) => i,
                    None => {
                        let message = match withdrawal {
                            Some(label) => {
                                format!("withdrawal {label:?} was not queued (its step reverted)")
                            }
                            None => format!(
                                "{staker} has no unclaimed withdrawal queued in this scenario"
                            ),
                        };
                        return Err(sc.error_at(step.loc_of("withdrawal"), message).into());
                    }
                };
                let id = self.withdrawals[index].id;
                let from = self.actor(staker);
                let to = receiver.as_deref().map_or(from, |r| self.engine.actor(r));
                if self
                    .main_tx(
                        exec,
                        from,
                        vault,
                        StakeVault::completeWithdrawalCall {
                            withdrawalId: id,
                            receiver: to,
                        },
                    )?
                    .is_some()
                {
                    self.withdrawals[index].claimed = true;
                }
                let name = self.withdrawals[index]
                    .label
                    .clone()
                    .unwrap_or_else(|| format!("#{id}"));
                format!("{staker} claims withdrawal {name}")
            }
            Action::RequestSlash {
                avs,
                pool,
                fraction,
                label,
                by,
                voters,
            } => {
                let pool_id = self.require_pool(*pool, step.loc_of("pool"))?;
                let rt = self.avs[*avs];
                let mut rec = RequestRec {
                    label: label.clone(),
                    avs: *avs,
                    request_id: None,
                    proposal_id: None,
                };
                match &sc.avs[*avs].kind {
                    AvsKind::Committee {
                        members, quorum, ..
                    } => {
                        let voters = voters
                            .clone()
                            .unwrap_or_else(|| members[..*quorum as usize].to_vec());
                        let evidence = keccak256(format!("{}: steps[{}]", sc.file, step.index));
                        let proposer = self.actor(&voters[0]);
                        let proposal = self.main_tx(
                            exec,
                            proposer,
                            rt.module,
                            CommitteeSlasher::proposeCall {
                                poolId: pool_id,
                                fractionWad: *fraction,
                                evidence,
                            },
                        )?;
                        if let Some(proposal) = proposal {
                            rec.proposal_id = Some(proposal);
                            for voter in &voters[1..] {
                                let from = self.actor(voter);
                                self.main_tx(
                                    exec,
                                    from,
                                    rt.module,
                                    CommitteeSlasher::voteCall {
                                        proposalId: proposal,
                                    },
                                )?;
                            }
                        }
                    }
                    _ => {
                        let from = by.as_deref().map_or(rt.module, |b| self.engine.actor(b));
                        self.main_tx(
                            exec,
                            from,
                            manager,
                            AllocationManager::requestSlashCall {
                                avsId: rt.id,
                                poolId: pool_id,
                                fractionWad: *fraction,
                            },
                        )?;
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
                format!(
                    "{} requests {} of its backing in {}",
                    sc.avs[*avs].name,
                    pct(*fraction),
                    sc.pools[*pool].name
                )
            }
            Action::Veto { avs, request, by } => {
                let rec = self.request(step, *avs, request.as_deref())?;
                let request_id = rec.request_id.ok_or_else(|| {
                    sc.error_at(
                        step.loc_of("request"),
                        "that proposal never reached its quorum: there is no request to veto",
                    )
                })?;
                let resolver = sc.avs[*avs]
                    .kind
                    .resolver()
                    .expect("a veto flow")
                    .to_string();
                let from = self.actor(by.as_deref().unwrap_or(&resolver));
                self.main_tx(
                    exec,
                    from,
                    manager,
                    AllocationManager::vetoSlashCall {
                        requestId: request_id,
                    },
                )?;
                format!(
                    "{} vetoes request #{request_id} of {}",
                    self.engine.name_of(from),
                    sc.avs[*avs].name
                )
            }
            Action::ExecuteSlash { avs, request, by } => {
                let rec = self.request(step, *avs, request.as_deref())?;
                let rt = self.avs[*avs];
                match &sc.avs[*avs].kind {
                    AvsKind::Committee { .. } => {
                        let proposal = rec.proposal_id.expect("a committee request has a proposal");
                        let from = self.actor(by.as_deref().unwrap_or(KEEPER));
                        self.main_tx(
                            exec,
                            from,
                            rt.module,
                            CommitteeSlasher::executeCall {
                                proposalId: proposal,
                            },
                        )?;
                        format!(
                            "{} executes proposal #{proposal} of {}",
                            self.engine.name_of(from),
                            sc.avs[*avs].name
                        )
                    }
                    _ => {
                        let request_id = rec.request_id.expect("a veto request has an id");
                        let from = by.as_deref().map_or(rt.module, |b| self.engine.actor(b));
                        self.main_tx(
                            exec,
                            from,
                            manager,
                            AllocationManager::executeSlashCall {
                                requestId: request_id,
                            },
                        )?;
                        format!("{} executes request #{request_id}", sc.avs[*avs].name)
                    }
                }
            }
            Action::Slash {
                avs,
                pool,
                fraction,
                by,
            } => {
                let pool_id = self.require_pool(*pool, step.loc_of("pool"))?;
                let rt = self.avs[*avs];
                let from = by.as_deref().map_or(rt.module, |b| self.engine.actor(b));
                self.main_tx(
                    exec,
                    from,
                    manager,
                    AllocationManager::slashCall {
                        avsId: rt.id,
                        poolId: pool_id,
                        fractionWad: *fraction,
                    },
                )?;
                format!(
                    "{} slashes {} of its backing in {}",
                    sc.avs[*avs].name,
                    pct(*fraction),
                    sc.pools[*pool].name
                )
            }
            Action::DoubleSign {
                avs,
                operator,
                round,
                pools,
                signer,
                by,
            } => {
                let rt = self.avs[*avs];
                let operator_address = self.actor(operator);
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
                    None => self.view(
                        rt.module,
                        DoubleSignSlasher::slashablePoolsCall {
                            operator: operator_address,
                        },
                    )?,
                };
                let key = signer_of(signer.as_deref().unwrap_or(operator));
                let (payload_a, payload_b) = (
                    keccak256(format!("round {round}: block A")),
                    keccak256(format!("round {round}: block B")),
                );
                let sign = |payload: B256| -> Result<Vec<u8>> {
                    let digest = self.view(
                        rt.module,
                        DoubleSignSlasher::voteDigestCall {
                            round: *round,
                            payload,
                        },
                    )?;
                    let signature = key
                        .sign_hash_sync(&digest)
                        .map_err(|e| eyre!("signing a vote: {e}"))?;
                    Ok(signature.as_bytes().to_vec())
                };
                let (signature_a, signature_b) = (sign(payload_a)?, sign(payload_b)?);
                let from = self.actor(by.as_deref().unwrap_or(KEEPER));
                let names: Vec<String> = pool_ids.iter().map(|id| self.pool_name(*id)).collect();
                self.main_tx(
                    exec,
                    from,
                    rt.module,
                    DoubleSignSlasher::slashDoubleSignCall {
                        operator: operator_address,
                        round: *round,
                        payloadA: payload_a,
                        signatureA: signature_a.into(),
                        payloadB: payload_b,
                        signatureB: signature_b.into(),
                        poolIds: pool_ids,
                    },
                )?;
                format!(
                    "proof that {operator} signed two votes in round {round}, against [{}]",
                    names.join(", ")
                )
            }
            Action::OptIn { operator, avs } | Action::OptOut { operator, avs } => {
                let from = self.actor(operator);
                let avs_id = self.avs[*avs].id;
                if matches!(step.action, Action::OptIn { .. }) {
                    self.main_tx(
                        exec,
                        from,
                        manager,
                        AllocationManager::optInCall { avsId: avs_id },
                    )?;
                    format!("{operator} joins {}", sc.avs[*avs].name)
                } else {
                    self.main_tx(
                        exec,
                        from,
                        manager,
                        AllocationManager::optOutCall { avsId: avs_id },
                    )?;
                    format!("{operator} leaves {}", sc.avs[*avs].name)
                }
            }
            Action::Expect(checks) => match checks.len() {
                1 => "1 check".to_string(),
                n => format!("{n} checks"),
            },
        })
    }

    fn step(&mut self, step: &Step, expectations: &mut Vec<Expectation>) -> Result<StepRecord> {
        let time = self.engine.timestamp() - self.start;
        let line = step.loc.line(&self.sc.text);
        let mut exec = Exec::default();
        let detail = self.act(step, &mut exec)?;
        // Pools the step created get their ids (and names in the results).
        for pool in 0..self.sc.pools.len() {
            self.pool_id(pool)?;
        }
        let mut record = StepRecord {
            index: step.index,
            line,
            time,
            action: step.action.name().to_string(),
            detail,
            note: step.note.clone(),
            outcome: StepOutcome::Ok,
            expect_revert: step.expect_revert.clone(),
            gas: None,
            results: Vec::new(),
            events: Vec::new(),
        };

        if let Action::Expect(checks) = &step.action {
            let (mut passed, mut failed) = (0, 0);
            for check in checks {
                let (what, expected, actual, ok) = self.check(&check.kind)?;
                if ok {
                    passed += 1;
                } else {
                    failed += 1;
                }
                expectations
                    .push(self.expectation(step.index, &check.loc, what, expected, actual, ok));
            }
            record.outcome = StepOutcome::Checked { passed, failed };
            return Ok(record);
        }

        record.outcome = match &exec.revert {
            None => StepOutcome::Ok,
            Some(revert) => StepOutcome::Reverted {
                error: revert.name.clone(),
                detail: revert.to_string(),
            },
        };
        if exec.revert.is_none() && (exec.gas > 0 || !exec.events.is_empty()) {
            record.gas = Some(exec.gas);
        }
        record.results = exec
            .events
            .iter()
            .filter_map(|e| self.describe(e))
            .collect();
        record.events = exec
            .events
            .iter()
            .filter(|e| e.contract != Some("MockERC20"))
            .map(|e| EventRecord {
                emitter: e.emitter.clone(),
                name: e.name.clone(),
                args: e.args.clone(),
            })
            .collect();

        // The outcome is an expectation too: ok, or the named revert.
        let actual = match &exec.revert {
            None => "ok".to_string(),
            Some(revert) => format!("reverted {revert}"),
        };
        match (&step.expect_revert, &exec.revert) {
            (Some(name), revert) => {
                let ok = revert.as_ref().is_some_and(|r| r.is(name));
                expectations.push(self.expectation(
                    step.index,
                    step.loc_of("expect_revert"),
                    format!("{} reverts", step.action.name()),
                    format!("revert {name}"),
                    actual,
                    ok,
                ));
            }
            (None, Some(_)) => {
                expectations.push(self.expectation(
                    step.index,
                    &step.loc,
                    format!("{} succeeds", step.action.name()),
                    "ok".to_string(),
                    actual,
                    false,
                ));
            }
            (None, None) => {}
        }
        self.last_events = std::mem::take(&mut exec.events);
        Ok(record)
    }

    fn expectation(
        &self,
        step: usize,
        loc: &Loc,
        what: String,
        expected: String,
        actual: String,
        passed: bool,
    ) -> Expectation {
        let (line, column) = self.sc.source().position(loc.span.start);
        Expectation {
            step,
            line,
            column,
            path: loc.path.clone(),
            what,
            expected,
            actual,
            passed,
        }
    }

    // ------------------------------------------------------------------ checks and views

    /// (what, expected, actual, passed) of one check.
    fn check(&mut self, kind: &CheckKind) -> Result<(String, String, String, bool)> {
        let sc = self.sc;
        let amount = |asset: usize, raw: U256| {
            let a = &sc.assets[asset];
            format!("{} {}", format_units(raw, a.decimals), a.symbol)
        };
        let pool_asset = |pool: usize| sc.pools[pool].asset;
        Ok(match kind {
            CheckKind::PoolValue { pool, expected }
            | CheckKind::Isolated { pool, expected }
            | CheckKind::Shared { pool, expected } => {
                let (value, isolated, shared) = self.pool_values(*pool)?;
                let (what, actual) = match kind {
                    CheckKind::PoolValue { .. } => ("slashable value", value),
                    CheckKind::Isolated { .. } => ("isolated value", isolated),
                    _ => ("shared stake", shared),
                };
                (
                    format!("{what} of {}", sc.pools[*pool].name),
                    amount(pool_asset(*pool), *expected),
                    amount(pool_asset(*pool), actual),
                    actual == *expected,
                )
            }
            CheckKind::ReuseRatio { pool, expected } | CheckKind::GuardUsed { pool, expected } => {
                let risk = match self.pool_id(*pool)? {
                    Some(id) => Some(self.view(
                        self.sys.manager,
                        AllocationManager::poolRiskCall { poolId: id },
                    )?),
                    None => None,
                };
                let name = &sc.pools[*pool].name;
                if matches!(kind, CheckKind::ReuseRatio { .. }) {
                    let actual = risk.map_or(U256::ZERO, |r| r.reuseRatioWad);
                    (
                        format!("reuse ratio of {name}"),
                        format_ratio(*expected),
                        format_ratio(actual),
                        actual == *expected,
                    )
                } else {
                    let actual = risk.map_or(U256::ZERO, |r| r.guardUsedWad);
                    (
                        format!("cascade guard used in {name}"),
                        format_percent(*expected),
                        format_percent(actual),
                        actual == *expected,
                    )
                }
            }
            CheckKind::Backing {
                avs,
                pool,
                expected,
            } => {
                let actual = self.backing(*avs, *pool)?;
                (
                    format!(
                        "backing of {} in {}",
                        sc.avs[*avs].name, sc.pools[*pool].name
                    ),
                    amount(pool_asset(*pool), *expected),
                    amount(pool_asset(*pool), actual),
                    actual == *expected,
                )
            }
            CheckKind::Position {
                staker,
                pool,
                expected,
            } => {
                let actual = self
                    .position(staker, *pool)?
                    .map_or(U256::ZERO, |(_, value)| value);
                (
                    format!("{staker}'s position in {}", sc.pools[*pool].name),
                    amount(pool_asset(*pool), *expected),
                    amount(pool_asset(*pool), actual),
                    actual == *expected,
                )
            }
            CheckKind::Escrow {
                staker,
                pool,
                expected,
            } => {
                let actual = self.escrow(staker, *pool)?.1;
                (
                    format!(
                        "{staker}'s unclaimed withdrawals from {}",
                        sc.pools[*pool].name
                    ),
                    amount(pool_asset(*pool), *expected),
                    amount(pool_asset(*pool), actual),
                    actual == *expected,
                )
            }
            CheckKind::Balance {
                holder,
                asset,
                expected,
            } => {
                let (name, address) = match holder {
                    Holder::Actor(name) => (name.clone(), self.actor(name)),
                    Holder::Burn => ("burn".to_string(), BURN),
                    Holder::Vault => ("the vault".to_string(), self.sys.vault),
                };
                let actual = self
                    .sys
                    .balance_of(&self.engine, self.assets[*asset], address)?;
                (
                    format!("{} balance of {name}", sc.assets[*asset].symbol),
                    amount(*asset, *expected),
                    amount(*asset, actual),
                    actual == *expected,
                )
            }
            CheckKind::Sink {
                avs,
                asset,
                expected,
            } => {
                let actual =
                    self.sys
                        .balance_of(&self.engine, self.assets[*asset], self.avs[*avs].sink)?;
                (
                    format!(
                        "{} in the sink of {}",
                        sc.assets[*asset].symbol, sc.avs[*avs].name
                    ),
                    amount(*asset, *expected),
                    amount(*asset, actual),
                    actual == *expected,
                )
            }
            CheckKind::Event { name, present } => {
                let found = self.last_events.iter().filter(|e| &e.name == name).count();
                let actual = if found == 0 {
                    "not emitted".to_string()
                } else {
                    format!("emitted {found}x")
                };
                let expected = if *present { "emitted" } else { "not emitted" };
                (
                    format!("event {name} in the previous step"),
                    expected.to_string(),
                    actual,
                    (found > 0) == *present,
                )
            }
        })
    }

    /// (value, isolated, shared stake) of a pool, zero before it exists.
    fn pool_values(&mut self, pool: usize) -> Result<(U256, U256, U256)> {
        let Some(id) = self.pool_id(pool)? else {
            return Ok((U256::ZERO, U256::ZERO, U256::ZERO));
        };
        let risk = self.view(
            self.sys.manager,
            AllocationManager::poolRiskCall { poolId: id },
        )?;
        Ok((risk.value, risk.totalIsolated, risk.sharedStake))
    }

    fn backing(&mut self, avs: usize, pool: usize) -> Result<U256> {
        let Some(id) = self.pool_id(pool)? else {
            return Ok(U256::ZERO);
        };
        self.view(
            self.sys.manager,
            AllocationManager::slashableBackingCall {
                avsId: self.avs[avs].id,
                poolId: id,
            },
        )
    }

    /// A tier's amounts are base shares: their value in the base asset.
    fn in_base_asset(&mut self, pool: usize, amount: U256) -> Result<U256> {
        match self.sc.pools[pool].tier_of {
            None => Ok(amount),
            Some(base) => match self.pool_id(base)? {
                Some(base_id) => self.view(
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

    /// (shares, value in the pool's asset) of a staker's position, if it has one.
    fn position(&mut self, staker: &str, pool: usize) -> Result<Option<(U256, U256)>> {
        let Some(id) = self.pool_id(pool)? else {
            return Ok(None);
        };
        let address = self.actor(staker);
        let positions = self.view(
            self.sys.vault,
            StakeVault::positionsOfCall { staker: address },
        )?;
        let Some(position) = positions.iter().find(|p| p.poolId == id) else {
            return Ok(None);
        };
        let value = self.in_base_asset(pool, position.value)?;
        Ok(Some((position.shares, value)))
    }

    /// (count, value in the pool's asset) of a staker's unclaimed withdrawals from a pool.
    fn escrow(&mut self, staker: &str, pool: usize) -> Result<(usize, U256)> {
        let Some(id) = self.pool_id(pool)? else {
            return Ok((0, U256::ZERO));
        };
        let address = self.actor(staker);
        let (views, _) = self
            .view(
                self.sys.vault,
                StakeVault::withdrawalsOfCall {
                    staker: address,
                    cursor: U256::ZERO,
                    limit: U256::from(u32::MAX),
                },
            )
            .map(|r| (r.views, r.next))?;
        let (mut count, mut value) = (0, U256::ZERO);
        for w in views.iter().filter(|w| w.poolId == id && !w.claimed) {
            count += 1;
            value += w.value;
        }
        Ok((count, self.in_base_asset(pool, value)?))
    }

    /// The key result of an event, in words; `None` for events that only accompany others.
    fn describe(&self, event: &DecodedEvent) -> Option<String> {
        let mode_name = |m: u8| match m {
            mode::ISOLATED => "isolated",
            mode::SHARED => "shared",
            _ => "none",
        };
        match event.typed.as_ref()? {
            BulkheadEvent::Manager(e) => match e {
                AllocationManagerEvents::OperatorSlashed(e) => Some(format!(
                    "{} took {} from {}",
                    self.avs_name(e.avsId),
                    self.pool_amount(e.poolId, e.amount),
                    self.pool_name(e.poolId)
                )),
                AllocationManagerEvents::CascadeGuardTripped(e) => Some(format!(
                    "guard tripped on {}: {} asked {}, allowed {}",
                    self.pool_name(e.poolId),
                    self.avs_name(e.avsId),
                    self.pool_amount(e.poolId, e.requested),
                    self.pool_amount(e.poolId, e.allowed)
                )),
                AllocationManagerEvents::SlashRequested(e) => Some(format!(
                    "request #{}: {} of {}'s backing in {}, executable at {}",
                    e.requestId,
                    format_percent(U256::from(e.fractionWad)),
                    self.avs_name(e.avsId),
                    self.pool_name(e.poolId),
                    self.since_start(e.executableAt.to::<u64>())
                )),
                AllocationManagerEvents::SlashVetoed(e) => {
                    Some(format!("request #{} vetoed", e.requestId))
                }
                AllocationManagerEvents::AllocationModified(e) => Some(format!(
                    "{} in {}: {}, effective at {}",
                    self.avs_name(e.avsId),
                    self.pool_name(e.poolId),
                    mode_name(e.mode),
                    self.since_start(e.effectAt.to::<u64>())
                )),
                AllocationManagerEvents::OperatorOptedOut(e) => Some(format!(
                    "{} left {}, slashable until {}",
                    self.engine.name_of(e.operator),
                    self.avs_name(e.avsId),
                    self.since_start(e.slashableUntil.to::<u64>())
                )),
                _ => None,
            },
            BulkheadEvent::Vault(e) => match e {
                StakeVaultEvents::Deposited(e) => Some(format!(
                    "{} shares of {}",
                    format_units(e.shares, self.pool_unit(e.poolId).0),
                    self.pool_name(e.poolId)
                )),
                StakeVaultEvents::TierDeposited(e) => Some(format!(
                    "{} shares of tier {}",
                    format_units(e.shares, self.pool_unit(e.basePoolId).0),
                    self.pool_name(e.tierPoolId)
                )),
                StakeVaultEvents::WithdrawalQueued(e) => Some(format!(
                    "withdrawal #{}: {} shares of {}, matures at {}",
                    e.withdrawalId,
                    format_units(e.shares, self.pool_unit(e.poolId).0),
                    self.pool_name(e.poolId),
                    self.since_start(e.maturity.to::<u64>())
                )),
                StakeVaultEvents::WithdrawalCompleted(e) => {
                    let pool_id = e.withdrawalId >> 64;
                    let tier_of = self
                        .pool_ids
                        .iter()
                        .position(|p| *p == Some(pool_id))
                        .and_then(|i| self.sc.pools[i].tier_of);
                    let paid = match tier_of {
                        Some(base) => format!(
                            "{} {} shares",
                            format_units(
                                e.assets,
                                self.sc.assets[self.sc.pools[base].asset].decimals
                            ),
                            self.sc.pools[base].name
                        ),
                        None => self.pool_amount(pool_id, e.assets),
                    };
                    Some(format!(
                        "withdrawal #{} paid {paid} to {}",
                        e.withdrawalId,
                        self.engine.name_of(e.receiver)
                    ))
                }
                StakeVaultEvents::PoolReset(e) => Some(format!(
                    "{} fully slashed: generation {} starts",
                    self.pool_name(e.poolId),
                    e.generation
                )),
                _ => None,
            },
            BulkheadEvent::DoubleSign(DoubleSignSlasherEvents::DoubleSignSlashed(e)) => {
                Some(format!(
                    "double sign proven: {} in round {}, {} slashed",
                    self.engine.name_of(e.operator),
                    e.round,
                    self.pool_name(e.poolId)
                ))
            }
            BulkheadEvent::Committee(CommitteeSlasherEvents::QuorumRequested(e)) => Some(format!(
                "proposal #{} reached its quorum: request #{}",
                e.proposalId, e.requestId
            )),
            BulkheadEvent::Committee(CommitteeSlasherEvents::SlashProposed(e)) => Some(format!(
                "proposal #{}: {} of the backing in {}",
                e.proposalId,
                format_percent(U256::from(e.fractionWad)),
                self.pool_name(e.poolId)
            )),
            _ => None,
        }
    }

    // ------------------------------------------------------------------ final state

    fn final_state(&mut self) -> Result<FinalState> {
        let sc = self.sc;
        let manager = self.sys.manager;
        let mut pools = Vec::new();
        for (i, pool) in sc.pools.iter().enumerate() {
            let asset = &sc.assets[pool.asset];
            let units = |raw: U256| format_units(raw, asset.decimals);
            let id = self.pool_id(i)?;
            let risk = match id {
                Some(id) => {
                    Some(self.view(manager, AllocationManager::poolRiskCall { poolId: id })?)
                }
                None => None,
            };
            let get =
                |f: fn(&bulkhead_contracts::bindings::IAllocationManager::PoolRisk) -> U256| {
                    risk.as_ref().map_or(U256::ZERO, f)
                };
            pools.push(PoolSummary {
                name: pool.name.clone(),
                id: id.map(|id| id.to::<u64>()),
                decimals: asset.decimals,
                operator: pool.operator.clone(),
                asset: asset.symbol.clone(),
                tier_of: pool.tier_of.map(|b| sc.pools[b].name.clone()),
                value: units(get(|r| r.value)),
                isolated: units(get(|r| r.totalIsolated)),
                shared_stake: units(get(|r| r.sharedStake)),
                total_shared: units(get(|r| r.totalShared)),
                reuse_ratio: format_ratio(get(|r| r.reuseRatioWad)),
                reuse_ratio_wad: get(|r| r.reuseRatioWad).to_string(),
                reuse_cap: format_ratio(get(|r| r.reuseCapWad)),
                reuse_cap_wad: get(|r| r.reuseCapWad).to_string(),
                guard_used: format_percent(get(|r| r.guardUsedWad)),
                guard_used_wad: get(|r| r.guardUsedWad).to_string(),
            });
        }

        let mut avs = Vec::new();
        for (a, def) in sc.avs.iter().enumerate() {
            let rt = self.avs[a];
            let mut backings = Vec::new();
            for (i, pool) in sc.pools.iter().enumerate() {
                let Some(id) = self.pool_id(i)? else { continue };
                let allocation = self.view(
                    manager,
                    AllocationManager::getAllocationCall {
                        poolId: id,
                        avsId: rt.id,
                    },
                )?;
                let m = allocation.mode;
                let backing = self.backing(a, i)?;
                if m == mode::NONE && backing.is_zero() {
                    continue;
                }
                let asset = &sc.assets[pool.asset];
                backings.push(BackingSummary {
                    pool: pool.name.clone(),
                    mode: if m == mode::ISOLATED {
                        "isolated"
                    } else {
                        "shared"
                    }
                    .to_string(),
                    backing: format_units(backing, asset.decimals),
                    asset: asset.symbol.clone(),
                });
            }
            avs.push(AvsSummary {
                name: def.name.clone(),
                id: rt.id,
                kind: def.kind.name().to_string(),
                sink: match &def.sink {
                    Sink::Burn => "burn".to_string(),
                    Sink::Actor(name) => name.clone(),
                },
                backings,
            });
        }

        let mut stakers = Vec::new();
        for staker in &sc.stakers {
            let mut positions = Vec::new();
            let mut escrow = Vec::new();
            for (i, pool) in sc.pools.iter().enumerate() {
                let asset = &sc.assets[pool.asset];
                if let Some((shares, value)) = self.position(&staker.name, i)?
                    && !(shares.is_zero() && value.is_zero())
                {
                    positions.push(PositionSummary {
                        pool: pool.name.clone(),
                        shares: format_units(shares, asset.decimals),
                        value: format_units(value, asset.decimals),
                        asset: asset.symbol.clone(),
                    });
                }
                let (count, value) = self.escrow(&staker.name, i)?;
                if count > 0 {
                    escrow.push(EscrowSummary {
                        pool: pool.name.clone(),
                        withdrawals: count,
                        value: format_units(value, asset.decimals),
                        asset: asset.symbol.clone(),
                    });
                }
            }
            let address = self.actor(&staker.name);
            let wallet = self.balances(address)?;
            stakers.push(StakerSummary {
                name: staker.name.clone(),
                positions,
                escrow,
                wallet,
            });
        }

        let mut sinks = Vec::new();
        for (a, def) in sc.avs.iter().enumerate() {
            sinks.push(SinkSummary {
                avs: def.name.clone(),
                holder: self.engine.name_of(self.avs[a].sink),
                balances: self.balances(self.avs[a].sink)?,
            });
        }
        Ok(FinalState {
            time: self.engine.timestamp() - self.start,
            pools,
            avs,
            stakers,
            sinks,
        })
    }

    /// Non-zero balances of every scenario asset.
    fn balances(&self, holder: Address) -> Result<Vec<TokenAmount>> {
        let mut out = Vec::new();
        for (i, asset) in self.sc.assets.iter().enumerate() {
            let balance = self.sys.balance_of(&self.engine, self.assets[i], holder)?;
            if !balance.is_zero() {
                out.push(TokenAmount {
                    asset: asset.symbol.clone(),
                    amount: format_units(balance, asset.decimals),
                });
            }
        }
        Ok(out)
    }
}

/// An engine error during setup, attributed to a top-level section of the file.
fn located(sc: &Scenario, section: &str, err: eyre::Report) -> eyre::Report {
    let at = sc
        .text
        .find(&format!("[{section}]"))
        .map_or((1, 1), |offset| sc.source().position(offset));
    err.wrap_err(format!("{}:{}:{}: {section}", sc.file, at.0, at.1))
}

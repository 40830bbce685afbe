//! The world of a scenario's preamble: its assets, operators, actors, AVSs, deposits and allocations.

use super::{Result, SettingUp};
use alloy::primitives::Address;
use bulkhead_evm::{DeployConfig, Engine, System};
use bulkhead_protocol::{Protocol, Views, manager::AvsRegistration, modules::Committee};

use super::{AVS_ADMIN, AvsRt, BURN, Exec, Run, Target, located};
use crate::model::{Avs, AvsKind, Loc, Scenario, Sink};

impl<'s> Run<'s> {
    /// Deploys (or attaches to) the system, then builds the preamble's world: a setup transaction that reverts is
    /// an error located at its line.
    pub(super) fn setup(sc: &'s Scenario, target: Target<'_>) -> Result<Self> {
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
        let assets = scenario_assets(sc, &mut engine, sys)?;
        let desks = setup_actors(sc, &mut engine, sys, &assets)?;
        Self::setup_reputation(&mut engine, sys, sc, &assets)?;
        let mut avs = Vec::new();
        for def in &sc.avs {
            avs.push(register_avs(def, &mut engine, sys)?);
        }
        let mut run = Self {
            sc,
            engine,
            sys,
            assets,
            avs,
            pool_ids: vec![None; sc.pools.len()],
            requests: Vec::new(),
            withdrawals: Vec::new(),
            desks,
            bids: Default::default(),
            asks: Default::default(),
            leases: Default::default(),
            last_events: Vec::new(),
            start: 0,
        };
        run.setup_bonds()?;
        run.setup_deposits()?;
        run.setup_allocations(config.allocation_delay)?;
        run.standing_after_allocations()?;
        run.start = run.engine.timestamp();
        Ok(run)
    }

    fn setup_deposits(&mut self) -> Result<()> {
        let sc = self.sc;
        for deposit in &sc.deposits {
            let mut exec = Exec::default();
            if sc.pools[deposit.pool].tier_of.is_some() {
                self.deposit_to_tier(
                    &mut exec,
                    &deposit.staker,
                    deposit.pool,
                    deposit.amount,
                    &deposit.loc,
                )?;
            } else {
                self.deposit(&mut exec, &deposit.staker, deposit.pool, deposit.amount)?;
            }
            setup_outcome(sc, &deposit.loc, "deposit", exec)?;
        }
        Ok(())
    }

    /// Allocations made effective at start first, then the pending ones (filed after the delay has passed).
    fn setup_allocations(&mut self, allocation_delay: u64) -> Result<()> {
        let sc = self.sc;
        let (now, later): (Vec<_>, Vec<_>) = sc.allocations.iter().partition(|a| !a.pending);
        for (batch, warp) in [(now, true), (later, false)] {
            for a in &batch {
                let mut exec = Exec::default();
                let pool_id = self.require_pool(a.pool, &a.loc)?;
                self.allocate(
                    &mut exec, pool_id, a.pool, a.avs, a.mode, a.fraction, None, true,
                )?;
                setup_outcome(sc, &a.loc, "allocation", exec)?;
            }
            if warp && !batch.is_empty() {
                self.engine.warp(allocation_delay);
            }
        }
        Ok(())
    }
}

/// A setup transaction must not revert: its revert is an error at its line.
fn setup_outcome(sc: &Scenario, loc: &Loc, what: &str, exec: Exec) -> Result<()> {
    match exec.revert {
        None => Ok(()),
        Some(revert) => Err(sc
            .error_at(loc, format!("this setup {what} reverted: {revert}"))
            .into()),
    }
}

/// The address of each asset of the scenario: a demo token of the deployment, or a token deployed for it.
fn scenario_assets(sc: &Scenario, engine: &mut Engine, sys: System) -> Result<Vec<Address>> {
    let mut assets = Vec::new();
    for asset in &sc.assets {
        let builtin = match asset.symbol.as_str() {
            "WETH" if asset.builtin => Some(sys.weth.address),
            "WBTC" if asset.builtin => Some(sys.wbtc.address),
            "USDC" if asset.builtin => Some(sys.usdc.address),
            _ => None,
        };
        if builtin == Some(Address::ZERO) {
            return Err(sc
                .source()
                .file_error(format!(
                    "the scenario uses the demo token {} but the deployment has none (only local chains do): declare it under [[assets]] with its decimals so the scenario deploys its own",
                    asset.symbol
                ))
                .into());
        }
        let address = match builtin {
            Some(address) => address,
            None => Protocol::new(engine, sys)
                .deploy_token(&asset.symbol, asset.decimals)
                .setting_up(|| format!("deploying and allowlisting {}", asset.symbol))?,
        };
        assets.push(address);
    }
    Ok(assets)
}

/// The guard, the operators (each its own signing key, so its actor key signs double-sign votes; a desk operator
/// opens its desk through the market, with its own key as the desk's), the named actors, and the stakers' funding.
/// Returns the desks by operator name.
fn setup_actors(
    sc: &Scenario,
    engine: &mut Engine,
    sys: System,
    assets: &[Address],
) -> Result<std::collections::BTreeMap<String, Address>> {
    let mut desks = std::collections::BTreeMap::new();
    if let Some((max, window)) = sc.guard {
        Protocol::new(engine, sys)
            .set_guard(max, window)
            .map_err(|e| located(sc, "guard", e.into()))?;
    }
    for operator in &sc.operators {
        let address = engine.actor(operator);
        if sc.desks.contains(operator) {
            if sys.market == Address::ZERO {
                return Err(sc
                    .source()
                    .file_error(format!(
                        "operator {operator} sells through a desk, but the deployment has no SecurityMarket: redeploy it (`bulkhead deploy`)"
                    ))
                    .into());
            }
            let desk = Protocol::new(engine, sys)
                .open_desk(address, address)
                .setting_up(|| format!("opening the desk of {operator}"))?
                .value;
            desks.insert(operator.clone(), desk);
        } else {
            Protocol::new(engine, sys).register_operator(address, address)?;
        }
    }
    for actor in &sc.actors {
        engine.actor(actor);
    }
    for staker in &sc.stakers {
        for (asset, amount) in staker.funding.iter().flatten() {
            let to = engine.actor(&staker.name);
            Protocol::new(engine, sys).mint(assets[*asset], to, *amount)?;
        }
    }
    Ok(desks)
}

/// Registers an AVS of the scenario: instant and veto AVSs by an admin with a module actor, double-sign and
/// committee AVSs by deploying their module contracts.
fn register_avs(avs: &Avs, engine: &mut Engine, sys: System) -> Result<AvsRt> {
    let sink = match &avs.sink {
        Sink::Burn => BURN,
        Sink::Actor(name) => engine.actor(name),
    };
    let uri = format!("ipfs://{}", avs.name);
    let admin = engine.actor(AVS_ADMIN);
    match &avs.kind {
        AvsKind::Instant | AvsKind::Veto { .. } => {
            let slasher = engine.actor(&format!("module-{}", avs.name));
            let (resolver, veto_window) = match &avs.kind {
                AvsKind::Veto { window, resolver } => (engine.actor(resolver), *window),
                _ => (Address::ZERO, 0),
            };
            let registration = AvsRegistration {
                metadata_uri: uri,
                slasher,
                sink,
                resolver,
                veto_window,
                max_slash_wad: avs.max_slash,
            };
            let id = Protocol::new(engine, sys)
                .register_avs(admin, &registration)
                .setting_up(|| format!("registering AVS {}", avs.name))?
                .value;
            Ok(AvsRt {
                id,
                module: slasher,
                sink,
            })
        }
        AvsKind::DoubleSign { fraction } => {
            let (module, id) = Protocol::new(engine, sys)
                .deploy_double_sign_module(admin, &avs.name, uri, sink, *fraction)
                .setting_up(|| format!("deploying the double-sign module of AVS {}", avs.name))?;
            Ok(AvsRt { id, module, sink })
        }
        AvsKind::Committee {
            members,
            quorum,
            window,
            voting_period,
            resolver,
        } => {
            // By default the longest voting period the deployment's delays allow with this veto window.
            let voting_period = match voting_period {
                Some(period) => *period,
                None => {
                    let protocol = Protocol::new(engine, sys);
                    let reading = || format!("reading the manager's delays for AVS {}", avs.name);
                    Committee::longest_voting_period(
                        *window,
                        protocol.execution_window().setting_up(reading)?,
                        protocol.deallocation_delay().setting_up(reading)?,
                    )
                }
            };
            let committee = Committee {
                metadata_uri: uri,
                sink,
                resolver: engine.actor(resolver),
                veto_window: *window,
                voting_period,
                max_slash_wad: avs.max_slash,
                members: members.iter().map(|m| engine.actor(m)).collect(),
                quorum: *quorum,
            };
            let (module, id) = Protocol::new(engine, sys)
                .deploy_committee_module(admin, &avs.name, &committee)
                .setting_up(|| format!("deploying the committee module of AVS {}", avs.name))?;
            Ok(AvsRt { id, module, sink })
        }
    }
}

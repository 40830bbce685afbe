//! The chain → risk-network mapping: networks for `bulkhead audit` read from the protocol itself: the final state of a scenario, or a deployment
//! read over JSON-RPC (through a fork, so nothing is sent). The mapping follows the contracts' accounting:
//! - every pool is cut into its compartments, each a validator (stake in the base asset, times the asset's price):
//!   one per isolated allocation (`P/avs`, its backing, allocated to that AVS alone: no other AVS's failure reaches
//!   it) and the pool's shared stake (`P`, value − isolated), allocated to its shared AVSs;
//! - a tier is a pool of its own: its collateral is base shares and its slashes are paid in base shares, so a tier
//!   AVS's failure never lowers its base pool's stake. Its value is counted again on top of its base (the same
//!   tokens restaked), and it falls with the base price, which the elastic network model does not couple.
//!
//! Profit from corruption and thresholds are not on chain: they come from a terms file. Who bears a failure is not
//! read off the network: it is the failure replayed on the manager's own state (each pool's value, its weights W, the
//! isolated weight, the risk-weighted shared sum and reuse cap, every allocation's weight and risk weight), as the
//! chain books it: the AVS takes its whole backing in every base pool first, then in every tier, whose value the base
//! slashes lowered through the base price; what it removes shrinks the shared stake, which rescales every other
//! shared backing to the reuse cap (the knock-on). The loss is traced down to pools and, from a scenario, to stakers.
//! `tests/differential.rs` replays the same failures on the real bytecode and compares.
//!
//! Losses stay exact and typed ([`Exact`]); what can fail is an [`AuditError`].

mod error;
pub mod pricing;

use std::{collections::BTreeMap, path::Path};

use alloy::primitives::{Address, U256};
use bulkhead_contracts::{AllocationManager, MockERC20, StakeVault};
use bulkhead_evm::{Deployment, Engine, System, Token};
use bulkhead_protocol::Reader;
use bulkhead_risk::{
    exposure::{self, FailsAlone, Loss},
    network::{self, Network},
    number::{self, Exact, Q},
};
use bulkhead_scenario::{
    self as scenario, FinalState, OperatorReputation, ReputationSummary,
    standing::{self, BondAsset},
};
use num_bigint::BigInt;
use num_traits::{One, Zero};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use error::AuditError;
pub use pricing::{FaultRate, LeasePricing, RiskPricing, ServicePricing};

type Result<T, E = AuditError> = std::result::Result<T, E>;

/// The off-chain half of an audit: per AVS its profit from corruption and threshold, per asset its price.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Terms {
    /// AVS name (scenario) or `avs-<id>` (chain) → terms.
    services: BTreeMap<String, ServiceTerms>,
    /// Asset symbol → value of one token in the unit stakes are compared in; 1 when absent.
    #[serde(default)]
    prices: BTreeMap<String, String>,
    /// The name of that unit, for the report (`"WETH"` when the prices are in WETH); "stake units" when absent.
    #[serde(default)]
    unit: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceTerms {
    profit: String,
    threshold: String,
}

impl Terms {
    /// Reads a terms file (JSON).
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|cause| AuditError::ReadTerms {
            path: path.to_path_buf(),
            cause,
        })?;
        serde_json::from_str(&text).map_err(|cause| AuditError::ParseTerms {
            path: path.to_path_buf(),
            line: cause.line(),
            column: cause.column(),
            cause,
        })
    }

    fn service(&self, name: &str) -> Result<&ServiceTerms> {
        self.services
            .get(name)
            .ok_or_else(|| AuditError::NoTerms { avs: name.into() })
    }

    fn price(&self, asset: &str) -> Result<Q> {
        self.prices.get(asset).map_or(Ok(Q::one()), |p| {
            number::parse(p).map_err(|message| AuditError::Price {
                asset: asset.into(),
                message,
            })
        })
    }
}

/// One allocation as the manager holds it: what a failure replays.
#[derive(Debug, Clone)]
struct Allocation {
    avs: String,
    isolated: bool,
    /// The weight in effect (`getAllocation().current`: a matured change counts as applied).
    weight: Q,
    /// What it commits against the reuse cap: max(current, pending).
    committed: Q,
    /// Its risk weight (the manager's tenths / 10): its committed weight counts this many times in the pool's shared
    /// sum.
    risk: Q,
    /// Whether its AVS can slash it now (the pool's operator is a member of the AVS's operator set).
    slashable: bool,
}

/// One pool as the audit sees it: the vault's value and the manager's weights, exact (rationals), so that a
/// failure can be replayed as the contracts book it.
#[derive(Debug, Clone)]
struct Pool {
    name: String,
    /// The vault's pool id.
    id: U256,
    /// The base pool, for a tier.
    base: Option<String>,
    /// Value of one raw unit of its asset in the numeraire (price / 10^decimals; a tier's asset is its base's).
    unit: Q,
    /// Slashable value (`slashableAssets`), raw units of the asset.
    value: Q,
    /// `getPoolState`: W, the isolated weight in effect, and Σ committed shared weight × risk weight.
    total: Q,
    isolated: Q,
    shared: Q,
    /// The reuse cap, a multiple of the shared stake (bps / 10,000).
    cap: Q,
    allocations: Vec<Allocation>,
    /// Direct holders: stakers and, in a base pool, the tiers over it, with their value (numeraire).
    holders: Vec<(String, Q)>,
}

impl Pool {
    /// What the allocation backs now, raw units (`slashableBacking`): an isolated one its weight's share of the
    /// value; a shared one at most the shared stake W − I, every shared backing scaled by
    /// min(1, cap · (W − I) / Σ committed × risk weight) so that together they never pass the reuse cap.
    fn backing(&self, a: &Allocation) -> Q {
        if !a.slashable || self.total.is_zero() || a.weight.is_zero() {
            return Q::zero();
        }
        let weight = if a.isolated {
            a.weight.clone()
        } else {
            let stake = &self.total - &self.isolated;
            let weight = a.weight.clone().min(stake.clone());
            let limit = stake * &self.cap;
            if self.shared > limit {
                weight * limit / &self.shared
            } else {
                weight
            }
        };
        weight * &self.value / &self.total
    }

    /// `avs` takes its whole backing here (`slash` at 100%, the guard aside): the weight it removes, W·b/V, leaves
    /// its allocation, W and (shared) the risk-weighted sum; the value falls by b. Returns b.
    fn take(&mut self, avs: &str) -> Q {
        let Some(k) = self.allocations.iter().position(|a| a.avs == avs) else {
            return Q::zero();
        };
        let taken = self.backing(&self.allocations[k]);
        if taken.is_zero() {
            return taken;
        }
        let cut = &taken * &self.total / &self.value;
        let a = &mut self.allocations[k];
        a.weight -= &cut;
        a.committed -= &cut;
        if a.isolated {
            self.isolated -= &cut;
        } else {
            self.shared -= &cut * &a.risk;
        }
        self.total -= &cut;
        self.value -= &taken;
        taken
    }

    fn backing_of(&self, avs: &str) -> Q {
        self.allocations
            .iter()
            .find(|a| a.avs == avs)
            .map_or_else(Q::zero, |a| self.backing(a))
    }
}

/// One AVS's backing in one pool, in the numeraire.
#[derive(Debug, Clone)]
struct Backing {
    pool: String,
    amount: Q,
    isolated: bool,
}

/// The network and what is needed to trace losses down to pools and stakers.
#[derive(Debug)]
pub struct Source {
    /// The network file's JSON (model "elastic").
    pub network: Value,
    pools: Vec<Pool>,
    /// Every AVS, by name.
    avs: Vec<String>,
    /// Whether holders are known (a scenario) or not (a chain: no staker index on chain).
    stakers_known: bool,
    /// The unit stakes are counted in (the terms file's `unit`).
    unit: String,
    /// Each AVS's rating, standing and bond, when the scenario turns the reputation layer on.
    reputation: Vec<(String, ReputationSummary)>,
    /// Each operator's rating, likewise.
    operators: Vec<OperatorReputation>,
    /// Every AVS's name and its id in the manager.
    avs_ids: Vec<(String, u32)>,
    /// The security market's leases; `None` when the deployment has no market (an older deployment file).
    leases: Option<Vec<pricing::Lease>>,
    /// The chain's time (seconds) the state was read at: what says whether a lease still runs.
    now: u64,
}

/// Another AVS's backing before and after one AVS failed alone, in the numeraire.
#[derive(Debug, Clone, Serialize)]
pub struct KnockOn {
    /// The other AVS.
    pub service: String,
    /// Its backing before, over every pool.
    pub before: Exact,
    /// Its backing after.
    pub after: Exact,
    /// The pools where it changed.
    pub pools: Vec<PoolKnockOn>,
}

/// Another AVS's backing in one pool before and after a failure, in the numeraire.
#[derive(Debug, Clone, Serialize)]
pub struct PoolKnockOn {
    /// The pool.
    pub pool: String,
    /// Backing before.
    pub before: Exact,
    /// Backing after.
    pub after: Exact,
}

/// Who bears one AVS failing alone, as the chain books it: its backing taken from every base pool that backs it,
/// then from every tier (whose value the base slashes lowered).
#[derive(Debug, Serialize)]
pub struct Bearers {
    /// The failing AVS.
    pub service: String,
    /// Σ of `pools`: the value the stakers lose (in the numeraire).
    pub backing_lost: Exact,
    /// Loss per pool where it is booked (a tier's loss on the tier, at the base price the base slashes left).
    pub pools: Vec<(String, Exact)>,
    /// Loss per staker (through tiers), largest first; empty when holders are unknown.
    pub stakers: Vec<(String, Exact)>,
    /// The other AVSs whose backing changes: the weight the failure removes shrinks the shared stake, which rescales
    /// every shared backing to the reuse cap (with each AVS's risk weight), and the base slashes lower every tier.
    pub knock_on: Vec<KnockOn>,
}

impl Bearers {
    /// The same, in the risk report's terms (`exposure.fails_alone`, basis `chain`): the bearers are pools.
    pub fn fails_alone(&self) -> FailsAlone {
        FailsAlone {
            service: self.service.clone(),
            total: self.backing_lost.clone(),
            losses: self
                .pools
                .iter()
                .map(|(validator, amount)| Loss {
                    validator: validator.clone(),
                    amount: amount.clone(),
                })
                .collect(),
            knock_on: self
                .knock_on
                .iter()
                .map(|k| exposure::KnockOn {
                    service: k.service.clone(),
                    before: k.before.clone(),
                    after: k.after.clone(),
                })
                .collect(),
        }
    }
}

fn decimal(text: &str) -> Result<Q> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits: BigInt = format!("{int}{frac}")
        .parse()
        .map_err(|_| AuditError::Decimal { text: text.into() })?;
    Ok(Q::new(digits, BigInt::from(10u32).pow(frac.len() as u32)))
}

fn raw(value: U256) -> Q {
    let raw: BigInt = value.to_string().parse().expect("a U256 is an integer");
    Q::from_integer(raw)
}

fn unit_of(decimals: u8, price: Q) -> Q {
    price / Q::from_integer(BigInt::from(10u32).pow(u32::from(decimals)))
}

/// A pool to read from the chain: its name, vault id, base pool's name, and the asset its amounts are in.
struct PoolRef {
    name: String,
    id: U256,
    base: Option<String>,
    decimals: u8,
    symbol: String,
}

/// Reads every pool's value and weights and every AVS's allocation there (`avs`: name and id).
fn read_pools(
    engine: &Engine,
    vault: Address,
    manager: Address,
    pools: &[PoolRef],
    avs: &[(String, u32)],
    terms: &Terms,
) -> Result<Vec<Pool>> {
    let mut out = Vec::new();
    for p in pools {
        let view = engine.view(vault, StakeVault::getPoolCall { poolId: p.id })?;
        let state = engine.view(
            manager,
            AllocationManager::getPoolStateCall { poolId: p.id },
        )?;
        let risk = engine.view(manager, AllocationManager::poolRiskCall { poolId: p.id })?;
        let mut allocations = Vec::new();
        for (name, id) in avs {
            let a = engine.view(
                manager,
                AllocationManager::getAllocationCall {
                    poolId: p.id,
                    avsId: *id,
                },
            )?;
            if a.mode == bulkhead_contracts::mode::NONE {
                continue;
            }
            let slashable = engine.view(
                manager,
                AllocationManager::isSlashableCall {
                    avsId: *id,
                    operator: view.operator,
                },
            )?;
            let current = Q::from_integer(BigInt::from(a.current.to::<u128>()));
            let pending = Q::from_integer(BigInt::from(a.pending.to::<u128>()));
            allocations.push(Allocation {
                avs: name.clone(),
                isolated: a.mode == bulkhead_contracts::mode::ISOLATED,
                committed: current.clone().max(pending),
                weight: current,
                risk: Q::new(BigInt::from(a.riskWeightTenths), BigInt::from(10)),
                slashable,
            });
        }
        out.push(Pool {
            name: p.name.clone(),
            id: p.id,
            base: p.base.clone(),
            unit: unit_of(p.decimals, terms.price(&p.symbol)?),
            value: raw(engine.view(vault, StakeVault::slashableAssetsCall { poolId: p.id })?),
            total: Q::from_integer(BigInt::from(state.totalWeight.to::<u128>())),
            isolated: Q::from_integer(BigInt::from(state.isolatedWeight.to::<u128>())),
            shared: Q::from_integer(BigInt::from(state.sharedWeight)),
            // reuseCapWad: 1e18 = 1x.
            cap: raw(risk.reuseCapWad) / Q::from_integer(BigInt::from(10u64).pow(18)),
            allocations,
            holders: Vec::new(),
        });
    }
    Ok(out)
}

impl Source {
    /// Runs `path` on the embedded EVM and reads its final state.
    pub fn from_scenario(path: &Path, terms: &Terms) -> Result<Self> {
        let sc = scenario::load(path)?;
        let finished = scenario::run_to_end(&sc, scenario::Target::Fresh)?;
        if !finished.report.passed {
            return Err(AuditError::ExpectationFailed {
                path: path.to_path_buf(),
            });
        }
        Self::from_run(&finished, terms)
    }

    /// The network of a finished scenario run: the manager's weights read from its engine, the stakers from its
    /// final state.
    pub fn from_run(run: &scenario::Finished, terms: &Terms) -> Result<Self> {
        let state = &run.report.final_state;
        let refs: Vec<PoolRef> = state
            .pools
            .iter()
            .filter_map(|p| {
                p.id.map(|id| PoolRef {
                    name: p.name.clone(),
                    id: U256::from(id),
                    base: p.tier_of.clone(),
                    decimals: p.decimals,
                    symbol: p.asset.clone(),
                })
            })
            .collect();
        let avs: Vec<(String, u32)> = state.avs.iter().map(|a| (a.name.clone(), a.id)).collect();
        let mut pools = read_pools(
            &run.engine,
            run.system.vault,
            run.system.manager,
            &refs,
            &avs,
            terms,
        )?;
        for pool in &mut pools {
            let price = terms.price(&state_asset(state, &pool.name))?;
            for staker in &state.stakers {
                for pos in staker.positions.iter().filter(|pos| pos.pool == pool.name) {
                    pool.holders
                        .push((staker.name.clone(), decimal(&pos.value)? * &price));
                }
            }
            // A tier's value is base shares it holds: the tier is a holder of its base.
            for tier in state
                .pools
                .iter()
                .filter(|t| t.tier_of.as_ref() == Some(&pool.name))
            {
                pool.holders
                    .push((tier.name.clone(), decimal(&tier.value)? * &price));
            }
        }
        let names = avs.iter().map(|(n, _)| n.clone()).collect();
        let mut source = Self::assemble(pools, names, terms, true)?;
        source.avs_ids = avs;
        source.now = run.engine.timestamp();
        let market = Reader::new(&run.engine, run.system);
        source.leases = Some(pricing::read_leases(&market).map_err(pricing::market_error)?);
        source.reputation = state
            .avs
            .iter()
            .filter_map(|a| a.reputation.clone().map(|r| (a.name.clone(), r)))
            .collect();
        source.operators = state.operators.clone();
        Ok(source)
    }

    /// Each operator's rating and evidence (a scenario with `[reputation]`; empty otherwise).
    pub fn operator_reputation(&self) -> &[OperatorReputation] {
        &self.operators
    }

    /// Each AVS's rating, evidence and confidence, risk weight, required bond and bond, and the pools it would push
    /// over their reuse cap if it fell to the floor (a scenario with `[reputation]`; empty otherwise).
    pub fn reputation(&self) -> &[(String, ReputationSummary)] {
        &self.reputation
    }

    /// Reads every pool and AVS of `deployment` through `engine`, a fork of its chain ([`Engine::fork`]): nothing
    /// is sent to the node.
    pub fn from_chain(engine: &Engine, deployment: &Deployment, terms: &Terms) -> Result<Self> {
        let vault = deployment.contracts.stake_vault;
        let manager = deployment.contracts.allocation_manager;
        let count: U256 = engine.view(vault, StakeVault::poolCountCall {})?;
        let mut refs = Vec::new();
        // For the reputation tables: each pool's operator and the assets in the pools.
        let mut operators = Vec::new();
        let mut bond_assets: Vec<BondAsset> = Vec::new();
        for id in 1..=count.to::<u64>() {
            let id = U256::from(id);
            let view = engine.view(vault, StakeVault::getPoolCall { poolId: id })?;
            let base = engine.view(vault, StakeVault::baseOfCall { poolId: id })?;
            let asset = if base.is_zero() {
                view.asset
            } else {
                engine
                    .view(vault, StakeVault::getPoolCall { poolId: base })?
                    .asset
            };
            let decimals = engine
                .view(asset, MockERC20::decimalsCall {})
                .map_err(|cause| AuditError::Decimals {
                    pool: id.to(),
                    asset,
                    cause: Box::new(cause),
                })?;
            let symbol = engine
                .view(asset, MockERC20::symbolCall {})
                .unwrap_or_else(|_| asset.to_string());
            if !operators.contains(&view.operator) {
                operators.push(view.operator);
            }
            if !bond_assets.iter().any(|a| a.token == asset) {
                bond_assets.push(BondAsset {
                    symbol: symbol.clone(),
                    token: asset,
                    decimals,
                });
            }
            refs.push(PoolRef {
                name: format!("pool-{id}"),
                id,
                base: (!base.is_zero()).then(|| format!("pool-{base}")),
                decimals,
                symbol,
            });
        }
        let avs_count = engine.view(manager, AllocationManager::avsCountCall {})?;
        let avs: Vec<(String, u32)> = (1..=avs_count)
            .map(|id| (format!("avs-{id}"), id))
            .collect();
        let pools = read_pools(engine, vault, manager, &refs, &avs, terms)?;
        let pool_names: Vec<(String, U256)> = refs.iter().map(|p| (p.name.clone(), p.id)).collect();
        let names = avs.iter().map(|(n, _)| n.clone()).collect();
        let mut source = Self::assemble(pools, names, terms, false)?;
        source.avs_ids = avs;
        source.now = engine.timestamp();
        if deployment.contracts.security_market.is_some() {
            let market = Reader::new(engine, system_of(deployment));
            source.leases = Some(pricing::read_leases(&market).map_err(pricing::market_error)?);
        }
        if let Some(views) = reputation_reader(engine, deployment)? {
            for id in 1..=avs_count {
                let summary = standing::avs_reputation(&views, id, &bond_assets, &pool_names)?;
                source.reputation.push((format!("avs-{id}"), summary));
            }
            for operator in operators {
                let named = standing::operator_reputation(&views, operator.to_string(), operator)?;
                source.operators.push(named);
            }
        }
        Ok(source)
    }

    /// Every AVS's backing now, per pool, in the numeraire.
    fn backings(pools: &[Pool], avs: &[String]) -> BTreeMap<String, Vec<Backing>> {
        avs.iter()
            .map(|name| {
                let list = pools
                    .iter()
                    .filter_map(|p| {
                        let a = p.allocations.iter().find(|a| &a.avs == name)?;
                        Some(Backing {
                            pool: p.name.clone(),
                            amount: p.backing(a) * &p.unit,
                            isolated: a.isolated,
                        })
                    })
                    .collect();
                (name.clone(), list)
            })
            .collect()
    }

    fn assemble(
        pools: Vec<Pool>,
        avs: Vec<String>,
        terms: &Terms,
        stakers_known: bool,
    ) -> Result<Self> {
        let backings = Self::backings(&pools, &avs);
        let mut validators = Vec::new();
        let mut allocations = Vec::new();
        for pool in pools.iter().filter(|p| p.value > Q::zero()) {
            let value = &pool.value * &pool.unit;
            let mut isolated = Q::zero();
            for (avs, b) in Self::backings_in(&backings, &pool.name) {
                if b.isolated && b.amount > Q::zero() {
                    let id = format!("{}/{avs}", pool.name);
                    validators.push(json!({"id": id, "stake": number::fmt(&b.amount)}));
                    allocations.push(
                        json!({"validator": id, "service": avs, "amount": number::fmt(&b.amount)}),
                    );
                    isolated += &b.amount;
                }
            }
            let shared = &value - &isolated;
            if shared <= Q::zero() {
                continue;
            }
            validators.push(json!({"id": pool.name, "stake": number::fmt(&shared)}));
            for (avs, b) in Self::backings_in(&backings, &pool.name) {
                let amount = b.amount.clone().min(shared.clone());
                if !b.isolated && amount > Q::zero() {
                    allocations.push(json!({"validator": pool.name, "service": avs, "amount": number::fmt(&amount)}));
                }
            }
        }
        let mut services = Vec::new();
        for avs in backings.keys() {
            let t = terms.service(avs)?;
            services.push(json!({"id": avs, "profit": t.profit, "threshold": t.threshold}));
        }
        let unknown: Vec<String> = terms
            .services
            .keys()
            .filter(|k| !backings.contains_key(*k))
            .cloned()
            .collect();
        if !unknown.is_empty() {
            return Err(AuditError::UnknownAvs {
                unknown,
                known: backings.keys().cloned().collect(),
            });
        }
        Ok(Self {
            network: json!({
                "model": "elastic",
                "validators": validators,
                "services": services,
                "allocations": allocations,
            }),
            pools,
            avs: backings.into_keys().collect(),
            stakers_known,
            unit: terms.unit.clone().unwrap_or_else(|| "stake units".into()),
            reputation: Vec::new(),
            operators: Vec::new(),
            avs_ids: Vec::new(),
            leases: None,
            now: 0,
        })
    }

    /// The network validated: the risk engine's input.
    pub fn parse_network(&self) -> Result<Network> {
        network::parse(&self.network.to_string())
            .map_err(|cause| AuditError::InvalidNetwork { cause })
    }

    /// The unit stakes and losses are counted in.
    pub fn unit(&self) -> &str {
        &self.unit
    }

    /// Every AVS's backing in `pool`.
    fn backings_in<'a>(
        backings: &'a BTreeMap<String, Vec<Backing>>,
        pool: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a Backing)> {
        backings.iter().flat_map(move |(avs, list)| {
            list.iter()
                .filter(move |b| b.pool == pool)
                .map(move |b| (avs, b))
        })
    }

    /// For each AVS failing alone, as the chain books it ([`Source::replay`]): the loss per pool and per staker, the
    /// backing lost, and the knock-on on every other AVS's backing. A pool's loss falls on its holders pro rata, a
    /// tier's share of its base passing on to the tier's holders.
    pub fn bearers(&self) -> Vec<Bearers> {
        self.avs
            .iter()
            .map(|avs| {
                let (after, booked) = self.replay(avs);
                let booked: Vec<(String, Q)> = booked
                    .into_iter()
                    .map(|(pool, taken)| {
                        let unit = &self.pool(&pool).unit;
                        (pool, taken * unit)
                    })
                    .collect();
                let mut stakers: BTreeMap<String, Q> = BTreeMap::new();
                for (pool, loss) in &booked {
                    self.spread(pool, loss.clone(), &mut stakers);
                }
                let mut stakers: Vec<(String, Q)> =
                    stakers.into_iter().filter(|(_, q)| !q.is_zero()).collect();
                stakers.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                let knock_on = self
                    .avs
                    .iter()
                    .filter(|other| *other != avs)
                    .filter_map(|other| self.knock_on(other, &after))
                    .collect();
                Bearers {
                    service: avs.clone(),
                    backing_lost: Exact(booked.iter().fold(Q::zero(), |acc, (_, q)| acc + q)),
                    pools: booked.into_iter().map(|(p, q)| (p, Exact(q))).collect(),
                    stakers: if self.stakers_known {
                        stakers.into_iter().map(|(s, q)| (s, Exact(q))).collect()
                    } else {
                        Vec::new()
                    },
                    knock_on,
                }
            })
            .collect()
    }

    fn pool(&self, name: &str) -> &Pool {
        self.pools
            .iter()
            .find(|p| p.name == name)
            .expect("a booked pool is a pool")
    }

    /// `avs`'s backing before and after, where it changed (`None` if nowhere).
    fn knock_on(&self, avs: &str, after: &[Pool]) -> Option<KnockOn> {
        let mut pools = Vec::new();
        let (mut before_sum, mut after_sum) = (Q::zero(), Q::zero());
        for (p, q) in self.pools.iter().zip(after) {
            let before = p.backing_of(avs) * &p.unit;
            let now = q.backing_of(avs) * &q.unit;
            before_sum += &before;
            after_sum += &now;
            if before != now {
                pools.push(PoolKnockOn {
                    pool: p.name.clone(),
                    before: Exact(before),
                    after: Exact(now),
                });
            }
        }
        (!pools.is_empty()).then(|| KnockOn {
            service: avs.to_string(),
            before: Exact(before_sum),
            after: Exact(after_sum),
            pools,
        })
    }

    /// `avs` failing alone, replayed on the pools as the contracts book it: it takes its whole backing in every base
    /// pool first (the guard aside: the worst case, as once its window has passed), which lowers each base's price
    /// and with it the value of every tier over it (each tier's backings pro rata); then its backing left in every
    /// tier, paid in base shares (a tier slash does not move its base). Returns the pools after, and what it took from
    /// each (raw units of the pool's asset).
    fn replay(&self, avs: &str) -> (Vec<Pool>, Vec<(String, Q)>) {
        let mut pools = self.pools.clone();
        let mut booked = Vec::new();
        let mut kept: BTreeMap<String, Q> = BTreeMap::new();
        for p in pools.iter_mut().filter(|p| p.base.is_none()) {
            let before = p.value.clone();
            let taken = p.take(avs);
            if !before.is_zero() {
                kept.insert(p.name.clone(), &p.value / before);
            }
            if !taken.is_zero() {
                booked.push((p.name.clone(), taken));
            }
        }
        for p in pools.iter_mut() {
            let Some(base) = &p.base else {
                continue;
            };
            if let Some(kept) = kept.get(base) {
                p.value *= kept;
            }
            let taken = p.take(avs);
            if !taken.is_zero() {
                booked.push((p.name.clone(), taken));
            }
        }
        (pools, booked)
    }

    fn spread(&self, pool: &str, loss: Q, stakers: &mut BTreeMap<String, Q>) {
        let Some(p) = self.pools.iter().find(|p| p.name == pool) else {
            return;
        };
        let value = &p.value * &p.unit;
        if value.is_zero() {
            return;
        }
        for (holder, held) in &p.holders {
            let part = &loss * held / &value;
            if self.pools.iter().any(|t| &t.name == holder) {
                self.spread(holder, part, stakers);
            } else {
                *stakers.entry(holder.clone()).or_insert_with(Q::zero) += part;
            }
        }
    }
}

/// The asset symbol a scenario pool's amounts are in.
fn state_asset(state: &FinalState, pool: &str) -> String {
    state
        .pools
        .iter()
        .find(|p| p.name == pool)
        .map_or_else(String::new, |p| p.asset.clone())
}

/// The views of a deployment whose reputation layer is on (its `Reputation` named to the manager); `None` when the
/// deployment has none or never turned it on.
fn reputation_reader<'e>(
    engine: &'e Engine,
    deployment: &Deployment,
) -> Result<Option<Reader<'e>>> {
    let c = &deployment.contracts;
    let Some(reputation) = c.reputation else {
        return Ok(None);
    };
    let wired = engine.view(c.allocation_manager, AllocationManager::reputationCall {})?;
    if wired != reputation {
        return Ok(None);
    }
    Ok(Some(Reader::new(engine, system_of(deployment))))
}

/// The contracts of `deployment` for the driver's views (the zero address for one the file does not name). Only the
/// protocol's contracts are read; the demo tokens are not needed.
fn system_of(deployment: &Deployment) -> System {
    let c = &deployment.contracts;
    let no_token = |symbol| Token {
        address: Address::ZERO,
        symbol,
        decimals: 0,
    };
    System {
        owner: deployment.owner,
        guardian: deployment.guardian,
        registry: c.operator_registry,
        vault: c.stake_vault,
        manager: c.allocation_manager,
        reputation: c.reputation.unwrap_or(Address::ZERO),
        rail: c.reward_rail.unwrap_or(Address::ZERO),
        market: c.security_market.unwrap_or(Address::ZERO),
        weth: no_token("WETH"),
        wbtc: no_token("WBTC"),
        usdc: no_token("USDC"),
    }
}

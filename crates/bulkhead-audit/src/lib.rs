//! The chain → risk-network mapping: networks for `bulkhead audit` read from the protocol itself: the final state of a scenario, or a deployment
//! read over JSON-RPC (through a fork, so nothing is sent). The mapping follows the contracts' accounting:
//! - every pool is cut into its compartments, each a validator (stake in the base asset, times the asset's price):
//!   one per isolated allocation (`P/avs`, its backing, allocated to that AVS alone: no other AVS's failure reaches
//!   it) and the pool's shared stake (`P`, value − isolated), allocated to its shared AVSs;
//! - a tier is a pool of its own: its collateral is base shares and its slashes are paid in base shares, so a tier
//!   AVS's failure never lowers its base pool's stake. Its value is counted again on top of its base (the same
//!   tokens restaked), and it falls with the base price, which the elastic network model does not couple.
//!
//! Profit from corruption and thresholds are not on chain: they come from a terms file. Who bears a failure is traced
//! down to pools and, from a scenario, to stakers, as the chain books it: the AVS takes its whole backing in every
//! base pool first, then in every tier, whose backing the base slashes lowered through the base price.
//!
//! Losses stay exact and typed ([`Exact`]); what can fail is an [`AuditError`].

mod error;

use std::{collections::BTreeMap, path::Path};

use alloy::primitives::{Address, U256};
use bulkhead_contracts::{AllocationLens, AllocationManager, MockERC20, StakeVault, lens_of};
use bulkhead_evm::{Deployment, Engine, System, Token};
use bulkhead_protocol::Reader;
use bulkhead_risk::{
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

/// One pool as the audit sees it.
#[derive(Debug, Clone)]
struct Pool {
    name: String,
    /// The base pool, for a tier.
    base: Option<String>,
    /// Value in the numeraire (asset units × price).
    value: Q,
    /// Direct holders: stakers and, in a base pool, the tiers over it, with their value.
    holders: Vec<(String, Q)>,
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
    /// AVS → its backings.
    backings: BTreeMap<String, Vec<Backing>>,
    /// Whether holders are known (a scenario) or not (a chain: no staker index on chain).
    stakers_known: bool,
    /// The unit stakes are counted in (the terms file's `unit`).
    unit: String,
    /// Each AVS's rating, standing and bond, when the scenario turns the reputation layer on.
    reputation: Vec<(String, ReputationSummary)>,
    /// Each operator's rating, likewise.
    operators: Vec<OperatorReputation>,
}

/// Who bears one AVS failing alone: its backing taken from every pool that backs it.
#[derive(Debug, Serialize)]
pub struct Bearers {
    /// The failing AVS.
    pub service: String,
    /// Loss per pool where it is booked (a tier's loss on the tier).
    pub pools: Vec<(String, Exact)>,
    /// Loss per staker (through tiers), largest first; empty when holders are unknown.
    pub stakers: Vec<(String, Exact)>,
}

fn decimal(text: &str) -> Result<Q> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits: BigInt = format!("{int}{frac}")
        .parse()
        .map_err(|_| AuditError::Decimal { text: text.into() })?;
    Ok(Q::new(digits, BigInt::from(10u32).pow(frac.len() as u32)))
}

fn units(raw: U256, decimals: u8) -> Q {
    let raw: BigInt = raw.to_string().parse().expect("a U256 is an integer");
    Q::new(raw, BigInt::from(10u32).pow(u32::from(decimals)))
}

impl Source {
    /// Runs `path` on the embedded EVM and reads its final state.
    pub fn from_scenario(path: &Path, terms: &Terms) -> Result<Self> {
        let sc = scenario::load(path)?;
        let report = scenario::run(&sc)?;
        if !report.passed {
            return Err(AuditError::ExpectationFailed {
                path: path.to_path_buf(),
            });
        }
        Self::from_final_state(&report.final_state, terms)
    }

    /// The network of a scenario's final state.
    pub fn from_final_state(state: &FinalState, terms: &Terms) -> Result<Self> {
        let mut pools = Vec::new();
        for p in &state.pools {
            let price = terms.price(&p.asset)?;
            let mut holders = Vec::new();
            for staker in &state.stakers {
                for pos in staker.positions.iter().filter(|pos| pos.pool == p.name) {
                    holders.push((staker.name.clone(), decimal(&pos.value)? * &price));
                }
            }
            // A tier's value is base shares it holds: the tier is a holder of its base.
            for tier in state
                .pools
                .iter()
                .filter(|t| t.tier_of.as_ref() == Some(&p.name))
            {
                holders.push((tier.name.clone(), decimal(&tier.value)? * &price));
            }
            pools.push(Pool {
                name: p.name.clone(),
                base: p.tier_of.clone(),
                value: decimal(&p.value)? * &price,
                holders,
            });
        }
        let mut backings = BTreeMap::new();
        for avs in &state.avs {
            let mut list = Vec::new();
            for b in &avs.backings {
                list.push(Backing {
                    pool: b.pool.clone(),
                    amount: decimal(&b.backing)? * terms.price(&b.asset)?,
                    isolated: b.mode == "isolated",
                });
            }
            backings.insert(avs.name.clone(), list);
        }
        let mut source = Self::assemble(pools, backings, terms, true)?;
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
        let mut pools = Vec::new();
        let mut decimals_of = BTreeMap::new();
        let mut symbols = BTreeMap::new();
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
            let price = terms.price(&symbol)?;
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
            decimals_of.insert(id, decimals);
            symbols.insert(id, symbol);
            pools.push(Pool {
                name: format!("pool-{id}"),
                base: (!base.is_zero()).then(|| format!("pool-{base}")),
                // In the base asset (a tier's `getPool` counts base shares).
                value: units(
                    engine.view(vault, StakeVault::slashableAssetsCall { poolId: id })?,
                    decimals,
                ) * price,
                holders: Vec::new(),
            });
        }
        let avs_count = engine.view(manager, AllocationManager::avsCountCall {})?;
        let mut backings = BTreeMap::new();
        for avs in 1..=avs_count {
            let backing = engine.view(
                lens_of(manager),
                AllocationLens::avsBackingCall { avsId: avs },
            )?;
            let mut list = Vec::new();
            for b in backing.pools {
                let decimals = decimals_of.get(&b.poolId).copied().unwrap_or(18);
                let price = terms.price(symbols.get(&b.poolId).map_or("", String::as_str))?;
                list.push(Backing {
                    pool: format!("pool-{}", b.poolId),
                    amount: units(b.assets, decimals) * price,
                    isolated: b.mode == bulkhead_contracts::mode::ISOLATED,
                });
            }
            backings.insert(format!("avs-{avs}"), list);
        }
        let pool_names: Vec<(String, U256)> = (1..=count.to::<u64>())
            .map(|id| (format!("pool-{id}"), U256::from(id)))
            .collect();
        let mut source = Self::assemble(pools, backings, terms, false)?;
        if let Some(views) = reputation_reader(engine, deployment)? {
            for avs in 1..=avs_count {
                let summary = standing::avs_reputation(&views, avs, &bond_assets, &pool_names)?;
                source.reputation.push((format!("avs-{avs}"), summary));
            }
            for operator in operators {
                let named = standing::operator_reputation(&views, operator.to_string(), operator)?;
                source.operators.push(named);
            }
        }
        Ok(source)
    }

    fn assemble(
        pools: Vec<Pool>,
        backings: BTreeMap<String, Vec<Backing>>,
        terms: &Terms,
        stakers_known: bool,
    ) -> Result<Self> {
        let mut validators = Vec::new();
        let mut allocations = Vec::new();
        for pool in pools.iter().filter(|p| p.value > Q::zero()) {
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
            let shared = &pool.value - &isolated;
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
            backings,
            stakers_known,
            unit: terms.unit.clone().unwrap_or_else(|| "stake units".into()),
            reputation: Vec::new(),
            operators: Vec::new(),
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

    /// For each AVS failing alone, the loss per pool and per staker, as the chain books it: the AVS takes its whole
    /// backing in every base pool first, lowering the base price and with it every tier over it (its value and each
    /// of its backings, pro rata); then its backing left in every tier, paid in base shares. A pool's loss falls on
    /// its holders pro rata, a tier's share of its base passing on to the tier's holders.
    pub fn bearers(&self) -> Vec<Bearers> {
        self.backings
            .iter()
            .map(|(avs, list)| {
                let booked = self.fails_alone(list);
                let mut stakers: BTreeMap<String, Q> = BTreeMap::new();
                for (pool, loss) in &booked {
                    self.spread(pool, loss.clone(), &mut stakers);
                }
                let mut stakers: Vec<(String, Q)> =
                    stakers.into_iter().filter(|(_, q)| !q.is_zero()).collect();
                stakers.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                Bearers {
                    service: avs.clone(),
                    pools: booked
                        .into_iter()
                        .filter(|(_, q)| !q.is_zero())
                        .map(|(p, q)| (p, Exact(q)))
                        .collect(),
                    stakers: if self.stakers_known {
                        stakers.into_iter().map(|(s, q)| (s, Exact(q))).collect()
                    } else {
                        Vec::new()
                    },
                }
            })
            .collect()
    }

    /// The loss booked on each pool when an AVS with these backings takes all of them, base pools first: a tier's
    /// backing is what its base's loss left of it, b_T · (1 − L_B / V_B).
    fn fails_alone(&self, list: &[Backing]) -> Vec<(String, Q)> {
        let base_of = |pool: &str| {
            self.pools
                .iter()
                .find(|p| p.name == pool)
                .and_then(|p| p.base.clone())
        };
        let value_of = |pool: &str| {
            self.pools
                .iter()
                .find(|p| p.name == pool)
                .map_or_else(Q::zero, |p| p.value.clone())
        };
        let mut booked: Vec<(String, Q)> = list
            .iter()
            .filter(|b| base_of(&b.pool).is_none())
            .map(|b| (b.pool.clone(), b.amount.clone()))
            .collect();
        for b in list {
            let Some(base) = base_of(&b.pool) else {
                continue;
            };
            let base_value = value_of(&base);
            let base_loss = booked
                .iter()
                .find(|(p, _)| *p == base)
                .map_or_else(Q::zero, |(_, q)| q.clone());
            let kept = if base_value.is_zero() {
                Q::zero()
            } else {
                Q::one() - base_loss / base_value
            };
            booked.push((b.pool.clone(), &b.amount * kept));
        }
        booked
    }

    fn spread(&self, pool: &str, loss: Q, stakers: &mut BTreeMap<String, Q>) {
        let Some(p) = self.pools.iter().find(|p| p.name == pool) else {
            return;
        };
        if p.value.is_zero() {
            return;
        }
        for (holder, value) in &p.holders {
            let part = &loss * value / &p.value;
            if self.pools.iter().any(|t| &t.name == holder) {
                self.spread(holder, part, stakers);
            } else {
                *stakers.entry(holder.clone()).or_insert_with(Q::zero) += part;
            }
        }
    }
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
    // Only the protocol's contracts are read; the demo tokens are not needed.
    let no_token = |symbol| Token {
        address: Address::ZERO,
        symbol,
        decimals: 0,
    };
    let sys = System {
        owner: deployment.owner,
        guardian: deployment.guardian,
        registry: c.operator_registry,
        vault: c.stake_vault,
        manager: c.allocation_manager,
        reputation,
        weth: no_token("WETH"),
        wbtc: no_token("WBTC"),
        usdc: no_token("USDC"),
    };
    Ok(Some(Reader::new(engine, sys)))
}

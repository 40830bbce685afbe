//! The audit against the chain: random scenario worlds (base pools in two assets, tiers, isolated and shared
//! allocations, a slash before the audit so that prices are not one and shared backings are rescaled to the reuse
//! cap) and the demo world (risk weights, a pool at its cap, a tier), and for each AVS its failure replayed on the
//! real bytecode, on a copy of the chain the scenario left, with the cascade guard at 100%: it takes its whole backing
//! in every base pool, then in every tier; and again tiers first. What the audit says of that failure
//! (`Source::bearers`) must be what the chain books, per asset within a stated rounding bound: [`SLACK`] raw units of
//! the asset (a raw unit is 1 wei of WETH, 1 satoshi of WBTC, 1e-6 USDC) per slash made since the set-up (the world's
//! and the failure's), per position for a staker (one holding two assets, each priced 1 here, bounded in the coarser):
//! - the loss of every pool (a base: its value drop; a tier: what its own slash took after the bases') and their sum,
//!   the backing lost;
//! - every other AVS's backing in every pool after the failure (the knock-on), and before it;
//! - every staker's loss, over all its positions (a tier position valued in the base asset);
//! - tiers first, the chain ends in the same state: every pool's value, every staker's position and every other
//!   AVS's backing are the same as bases first (the AVS takes more at the tier, then its base shares lose with the
//!   base: what the stakers lose does not depend on the order).

use std::collections::BTreeMap;

use alloy::primitives::{Address, U256};
use bulkhead_audit::{Bearers, Source, Terms};
use bulkhead_contracts::WAD;
use bulkhead_evm::Engine;
use bulkhead_protocol::{Protocol, Reader, Views};
use bulkhead_risk::number::Q;
use bulkhead_rng::SplitMix64;
use bulkhead_scenario::{self as scenario, Finished};
use num_bigint::BigInt;
use num_traits::{Signed, Zero};

/// The rounding bound: raw units of a pool's asset per slash (of every quantity in that asset; per position for a
/// staker). Each slash rounds a handful of integer divisions by at most one unit each.
const SLACK: u64 = 4;

/// WETH and USDC of the demo tokens: two decimals that differ a lot.
const ASSETS: [(&str, u32); 2] = [
    (
        bulkhead_contracts::DEMO_TOKENS[0].1,
        bulkhead_contracts::DEMO_TOKENS[0].2 as u32,
    ),
    (
        bulkhead_contracts::DEMO_TOKENS[2].1,
        bulkhead_contracts::DEMO_TOKENS[2].2 as u32,
    ),
];
const STAKERS: usize = 5;
const AVSS: usize = 3;

/// One random world, as scenario TOML, and what the differential needs to know about it.
struct Spec {
    text: String,
    /// Pool name → (base pool for a tier, decimals of its asset).
    pools: BTreeMap<String, (Option<String>, u32)>,
}

fn amount(rng: &mut SplitMix64, decimals: u32) -> String {
    let whole = rng.range(1, 2_000);
    let cents = rng.range(0, 99);
    if decimals >= 2 {
        format!("{whole}.{cents:02}")
    } else {
        whole.to_string()
    }
}

fn percent(rng: &mut SplitMix64, lo: u64, hi: u64) -> u64 {
    rng.range(lo, hi)
}

fn world(seed: u64) -> Spec {
    let mut rng = SplitMix64::new(seed);
    let mut t = format!("version = 1\nname = \"audit-diff-{seed}\"\n");
    t += "operators = [{ name = \"op1\" }, { name = \"op2\" }, { name = \"op3\" }]\n";
    let stakers: Vec<String> = (1..=STAKERS).map(|i| format!("s{i}")).collect();
    t += &format!(
        "stakers = [{}]\n",
        stakers
            .iter()
            .map(|s| format!("{{ name = \"{s}\" }}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    t += "\n[guard]\nmax_fraction = \"100%\"\nwindow = \"1d\"\n";
    for a in 1..=AVSS {
        t += &format!("\n[[avs]]\nname = \"a{a}\"\nkind = \"instant\"\nsink = \"sink-a{a}\"\n");
    }
    let mut pools = BTreeMap::new();
    let bases = rng.range(1, 3) as usize;
    for b in 1..=bases {
        let (asset, decimals) = ASSETS[rng.range(0, 1) as usize];
        t += &format!("\n[[pools]]\nname = \"P{b}\"\noperator = \"op{b}\"\nasset = \"{asset}\"\n");
        pools.insert(format!("P{b}"), (None, decimals));
    }
    let tiers = rng.range(0, 2) as usize;
    for k in 1..=tiers {
        let base = format!("P{}", rng.range(1, bases as u64));
        let decimals = pools[&base].1;
        // One tier per operator over a base (an operator's pool of an asset is one vault pool).
        let operator = format!("op{}", k + 1);
        t += &format!(
            "\n[[pools]]\nname = \"T{k}\"\noperator = \"{operator}\"\ntier_of = \"{base}\"\n"
        );
        pools.insert(format!("T{k}"), (Some(base), decimals));
    }
    // Every staker deposits into some base pools; a tier takes part of a holder's base shares (price one here).
    let mut held: BTreeMap<(String, String), String> = BTreeMap::new();
    for s in &stakers {
        for b in 1..=bases {
            let pool = format!("P{b}");
            // The first staker is in every base pool, so that every pool exists.
            if *s != stakers[0] && rng.chance(1, 3) {
                continue;
            }
            let a = amount(&mut rng, pools[&pool].1);
            t +=
                &format!("\n[[deposits]]\nstaker = \"{s}\"\npool = \"{pool}\"\namount = \"{a}\"\n");
            held.insert((s.clone(), pool), a);
        }
    }
    for (name, (base, _)) in pools.iter().filter(|(_, (b, _))| b.is_some()) {
        let base = base.as_ref().expect("a tier");
        for s in &stakers {
            let Some(a) = held.get(&(s.clone(), base.clone())) else {
                continue;
            };
            // The first staker always restakes, so that every tier exists.
            if *s != stakers[0] && rng.chance(1, 2) {
                continue;
            }
            // Half of the position, rounded to whole base shares' worth of cents (base price one at set-up).
            let (whole, cents) = a.split_once('.').unwrap_or((a, "0"));
            let raw: u64 =
                whole.parse::<u64>().expect("digits") * 100 + cents.parse::<u64>().expect("digits");
            let half = raw / 2;
            if half == 0 {
                continue;
            }
            t += &format!(
                "\n[[deposits]]\nstaker = \"{s}\"\npool = \"{name}\"\namount = \"{}.{:02}\"\n",
                half / 100,
                half % 100
            );
        }
    }
    // Allocations: at most one isolated per pool (one pending isolated increase per pool), the others shared, each
    // within the shared stake, so that the (at most two) shared ones stay under the 3x reuse cap in any order.
    for name in pools.keys() {
        let isolated_avs = rng.range(0, AVSS as u64) as usize; // 0: none
        let isolated = if isolated_avs == 0 {
            0
        } else {
            percent(&mut rng, 10, 90)
        };
        for a in 1..=AVSS {
            if a != isolated_avs && rng.chance(1, 3) {
                continue;
            }
            let (mode, f) = if a == isolated_avs {
                ("isolated", isolated)
            } else {
                ("shared", percent(&mut rng, 5, 100 - isolated))
            };
            t += &format!(
                "\n[[allocations]]\npool = \"{name}\"\navs = \"a{a}\"\nmode = \"{mode}\"\nfraction = \"{f}%\"\n"
            );
        }
    }
    Spec { text: t, pools }
}

/// A pre-audit slash by a random AVS on a random pool, so that prices differ from one.
fn with_pre_slash(world: &Spec, seed: u64) -> String {
    let mut rng = SplitMix64::new(seed ^ 0x5eed);
    let pool = world
        .pools
        .keys()
        .nth(rng.range(0, world.pools.len() as u64 - 1) as usize)
        .expect("a pool");
    let avs = rng.range(1, AVSS as u64);
    let f = rng.range(10, 60);
    format!(
        "{}\n[[steps]]\naction = \"slash\"\navs = \"a{avs}\"\npool = \"{pool}\"\nfraction = \"{f}%\"\n",
        world.text
    )
}

/// Runs a world and keeps the chain it leaves (its pre-slash may revert: an AVS with nothing in that pool).
fn run(text: &str, name: &str) -> Finished {
    let sc = scenario::parse(name, text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    scenario::run_to_end(&sc, scenario::Target::Fresh).unwrap_or_else(|e| panic!("{e:#}\n{text}"))
}

/// A pool of the world, as the chain names it.
#[derive(Clone)]
struct PoolId {
    name: String,
    id: U256,
    /// The base pool's id, for a tier.
    base: Option<U256>,
    decimals: u32,
}

/// What the differential reads of a chain, in token units (a tier's in its base asset).
#[derive(Debug, Clone)]
struct Snapshot {
    /// Pool → slashable value.
    pools: BTreeMap<String, Q>,
    /// (AVS, pool) → slashable backing.
    backings: BTreeMap<(String, String), Q>,
    /// Staker → Σ of its positions' value.
    stakers: BTreeMap<String, Q>,
}

fn tokens(raw: U256, decimals: u32) -> Q {
    let raw: BigInt = raw.to_string().parse().expect("an integer");
    Q::new(raw, BigInt::from(10u32).pow(decimals))
}

struct World<'f> {
    finished: &'f Finished,
    pools: Vec<PoolId>,
    avs: Vec<(String, u32)>,
    stakers: Vec<(String, Address)>,
}

impl<'f> World<'f> {
    fn new(finished: &'f Finished) -> Self {
        let state = &finished.report.final_state;
        let id_of = |name: &str| {
            state
                .pools
                .iter()
                .find(|p| p.name == name)
                .and_then(|p| p.id)
                .map(U256::from)
        };
        let pools = state
            .pools
            .iter()
            .filter_map(|p| {
                Some(PoolId {
                    name: p.name.clone(),
                    id: U256::from(p.id?),
                    base: p.tier_of.as_deref().and_then(id_of),
                    decimals: u32::from(p.decimals),
                })
            })
            .collect();
        let stakers = state
            .stakers
            .iter()
            .map(|s| {
                let address = finished
                    .engine
                    .actors()
                    .get(&s.name)
                    .expect("a staker is an actor");
                (s.name.clone(), address)
            })
            .collect();
        Self {
            finished,
            pools,
            avs: state.avs.iter().map(|a| (a.name.clone(), a.id)).collect(),
            stakers,
        }
    }

    fn read(&self, engine: &Engine) -> Snapshot {
        let views = Reader::new(engine, self.finished.system);
        let mut pools = BTreeMap::new();
        let mut backings = BTreeMap::new();
        for p in &self.pools {
            let value = views.slashable_assets(p.id).expect("value");
            pools.insert(p.name.clone(), tokens(value, p.decimals));
            for (avs, id) in &self.avs {
                let b = views.slashable_backing(*id, p.id).expect("backing");
                backings.insert((avs.clone(), p.name.clone()), tokens(b, p.decimals));
            }
        }
        let mut stakers = BTreeMap::new();
        for (name, address) in &self.stakers {
            let mut sum = Q::zero();
            for pos in views.positions(*address).expect("positions") {
                let pool = self
                    .pools
                    .iter()
                    .find(|p| p.id == pos.poolId)
                    .expect("a position is in a pool of the world");
                // A tier position holds base shares: valued in the base asset, as the scenario's `position` is.
                let value = match pool.base {
                    None => pos.value,
                    Some(base) => views.convert_to_assets(base, pos.value).expect("value"),
                };
                sum += tokens(value, pool.decimals);
            }
            stakers.insert(name.clone(), sum);
        }
        Snapshot {
            pools,
            backings,
            stakers,
        }
    }

    /// `avs` takes 100% of its backing in `order`, on a copy of the chain (guard at 100%).
    fn fail(&self, engine: &Engine, avs: u32, order: &[&PoolId]) -> Engine {
        let mut engine = engine.clone();
        let sys = self.finished.system;
        let slasher = Reader::new(&engine, sys).avs(avs).expect("the AVS").slasher;
        let mut protocol = Protocol::new(&mut engine, sys);
        protocol
            .set_guard(WAD, 86_400)
            .expect("the owner sets the guard");
        for pool in order {
            protocol
                .slash(slasher, avs, pool.id, WAD)
                .unwrap_or_else(|e| panic!("slashing {}: {e}", pool.name));
        }
        engine
    }
}

fn close(a: &Q, b: &Q, tol: &Q) -> bool {
    (a - b).abs() <= *tol
}

fn audit_loss(list: &[(String, bulkhead_risk::Exact)], name: &str) -> Q {
    list.iter()
        .find(|(n, _)| n == name)
        .map_or_else(Q::zero, |(_, q)| q.0.clone())
}

/// What the audit says `other`'s backing in `pool` is after `bearers`' failure.
fn audit_after(bearers: &Bearers, other: &str, pool: &str, before: &Q) -> Q {
    bearers
        .knock_on
        .iter()
        .find(|k| k.service == other)
        .and_then(|k| k.pools.iter().find(|p| p.pool == pool))
        .map_or_else(|| before.clone(), |p| p.after.0.clone())
}

/// Counts of what was compared, and the largest difference seen per asset decimals (raw units).
#[derive(Default, Debug)]
struct Stats {
    compared: usize,
    tier_losses: usize,
    knock_ons: usize,
    /// Other AVSs' backings that changed in a base pool (the shared stake shrank: the reuse-cap rescaling).
    base_knock_ons: usize,
    worst: BTreeMap<u32, Q>,
}

impl Stats {
    fn see(&mut self, decimals: u32, a: &Q, b: &Q) {
        let raw = (a - b).abs() * Q::from_integer(BigInt::from(10u32).pow(decimals));
        let worst = self.worst.entry(decimals).or_insert_with(Q::zero);
        if raw > *worst {
            *worst = raw;
        }
        self.compared += 1;
    }
}

/// Every AVS of a finished world fails alone on the chain, both orders; the audit must agree. `slashes`: how many
/// slashes the world made before (for the bound).
fn differential(
    finished: &Finished,
    terms: &Terms,
    slashes: usize,
    context: &str,
    stats: &mut Stats,
) {
    let world = World::new(finished);
    let source = Source::from_run(finished, terms).expect("the world maps to a network");
    let engine = &finished.engine;
    let before = world.read(engine);
    let decimals_of = |pool: &str| {
        world
            .pools
            .iter()
            .find(|p| p.name == pool)
            .expect("a pool")
            .decimals
    };
    for bearers in source.bearers() {
        let (_, avs_id) = world
            .avs
            .iter()
            .find(|(n, _)| *n == bearers.service)
            .expect("an AVS");
        let backed = |tier: bool| -> Vec<&PoolId> {
            world
                .pools
                .iter()
                .filter(|p| {
                    p.base.is_some() == tier
                        && !before.backings[&(bearers.service.clone(), p.name.clone())].is_zero()
                })
                .collect()
        };
        let (bases, tiers) = (backed(false), backed(true));
        let n = slashes + bases.len() + tiers.len();
        let tol = |decimals: u32, per: usize| {
            Q::from_integer(BigInt::from((n * per) as u64 * SLACK))
                / Q::from_integer(BigInt::from(10u32).pow(decimals))
        };
        let after_bases_engine = world.fail(engine, *avs_id, &bases);
        let after_bases = world.read(&after_bases_engine);
        let all: Vec<&PoolId> = bases.iter().chain(&tiers).copied().collect();
        let after_all = world.read(&world.fail(engine, *avs_id, &all));
        let reversed: Vec<&PoolId> = tiers.iter().chain(&bases).copied().collect();
        let tiers_first = world.read(&world.fail(engine, *avs_id, &reversed));
        let ctx = || format!("{context}: {} fails alone", bearers.service);

        // Per pool: a base loses its value drop; a tier, what its own slash took after the bases'.
        let mut lost = Q::zero();
        let mut bound = Q::zero();
        for pool in &world.pools {
            let d = pool.decimals;
            let chain = match pool.base {
                None => &before.pools[&pool.name] - &after_bases.pools[&pool.name],
                Some(_) => &after_bases.pools[&pool.name] - &after_all.pools[&pool.name],
            };
            let audit = audit_loss(&bearers.pools, &pool.name);
            assert!(
                close(&chain, &audit, &tol(d, 1)),
                "pool {}: chain {chain}, audit {audit}; {}",
                pool.name,
                ctx()
            );
            stats.see(d, &chain, &audit);
            if pool.base.is_some() && !chain.is_zero() {
                stats.tier_losses += 1;
            }
            lost += chain;
            bound += tol(d, 1);
            // A tier slash never moves its base pool.
            if pool.base.is_none() {
                assert_eq!(
                    after_bases.pools[&pool.name],
                    after_all.pools[&pool.name],
                    "{}",
                    ctx()
                );
            }
            // Tiers first, every pool ends where it ends bases first.
            assert!(
                close(
                    &tiers_first.pools[&pool.name],
                    &after_all.pools[&pool.name],
                    &tol(d, 1)
                ),
                "pool {} tiers first: {} vs {}; {}",
                pool.name,
                tiers_first.pools[&pool.name],
                after_all.pools[&pool.name],
                ctx()
            );
        }
        // The backing lost: Σ of what the pools lost (one asset here, or prices of one: the terms have none).
        assert!(
            close(&lost, &bearers.backing_lost.0, &bound),
            "backing lost: chain {lost}, audit {}; {}",
            bearers.backing_lost,
            ctx()
        );
        stats.compared += 1;

        // The knock-on: every other AVS's backing in every pool, before and after, in both orders.
        for (other, _) in world.avs.iter().filter(|(n, _)| *n != bearers.service) {
            for pool in &world.pools {
                let key = (other.clone(), pool.name.clone());
                let d = pool.decimals;
                let audit_before = bearers
                    .knock_on
                    .iter()
                    .find(|k| k.service == *other)
                    .and_then(|k| k.pools.iter().find(|p| p.pool == pool.name))
                    .map_or_else(|| before.backings[&key].clone(), |p| p.before.0.clone());
                assert!(
                    close(&before.backings[&key], &audit_before, &tol(d, 1)),
                    "{other} in {} before: chain {}, audit {audit_before}; {}",
                    pool.name,
                    before.backings[&key],
                    ctx()
                );
                let audit = audit_after(&bearers, other, &pool.name, &audit_before);
                for (order, chain) in [("bases first", &after_all), ("tiers first", &tiers_first)] {
                    let chain = &chain.backings[&key];
                    assert!(
                        close(chain, &audit, &tol(d, 1)),
                        "{other} in {} after ({order}): chain {chain}, audit {audit}; {}",
                        pool.name,
                        ctx()
                    );
                    stats.see(d, chain, &audit);
                }
                if before.backings[&key] != after_all.backings[&key] {
                    stats.knock_ons += 1;
                    if pool.base.is_none() && !after_all.backings[&key].is_zero() {
                        stats.base_knock_ons += 1;
                    }
                }
            }
        }

        // Per staker: what their positions lost (a tier position valued in the base asset), in both orders.
        for (name, _) in &world.stakers {
            let positions = finished
                .report
                .final_state
                .stakers
                .iter()
                .find(|s| s.name == *name)
                .map_or(1, |s| s.positions.len().max(1));
            // Positions in two assets (priced 1 here) are bounded in the coarser one.
            let d = finished
                .report
                .final_state
                .stakers
                .iter()
                .find(|s| s.name == *name)
                .and_then(|s| s.positions.iter().map(|p| decimals_of(&p.pool)).min())
                .unwrap_or(18);
            let audit = audit_loss(&bearers.stakers, name);
            for (order, after) in [("bases first", &after_all), ("tiers first", &tiers_first)] {
                let chain = &before.stakers[name] - &after.stakers[name];
                assert!(
                    close(&chain, &audit, &tol(d, positions)),
                    "staker {name} ({order}): chain {chain}, audit {audit}; {}",
                    ctx()
                );
                stats.see(d, &chain, &audit);
            }
        }
    }
}

#[test]
fn the_audit_bears_losses_as_the_chain_books_them() {
    let terms: Terms = serde_json::from_str(
        r#"{"services": {"a1": {"profit": "1", "threshold": "1/2"}, "a2": {"profit": "1", "threshold": "1/2"}, "a3": {"profit": "1", "threshold": "1/2"}}}"#,
    )
    .expect("terms");
    let mut stats = Stats::default();
    for seed in 1..=20u64 {
        let world = world(seed);
        let text = with_pre_slash(&world, seed);
        let finished = run(&text, "world.toml");
        differential(
            &finished,
            &terms,
            1,
            &format!("seed {seed}\n{text}"),
            &mut stats,
        );
    }
    eprintln!("{stats:?}");
    // The worlds must exercise what the differential is about.
    assert!(stats.compared > 300, "{stats:?}");
    assert!(stats.tier_losses > 3, "{stats:?}");
    assert!(stats.knock_ons > 10, "{stats:?}");
    assert!(stats.base_knock_ons > 5, "{stats:?}");
}

/// The demo world: P at its reuse cap with risk weights 1.6x, Q shared by two AVSs, the tier T over P; the guard
/// (50% a day in the world) is lifted on the copy so that each AVS takes its whole backing. Four slashes before.
#[test]
fn the_demo_world_fails_as_the_chain_books_it() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo.toml");
    let sc = scenario::load(&path).expect("the demo loads");
    let finished = scenario::run_to_end(&sc, scenario::Target::Fresh).expect("the demo runs");
    assert!(finished.report.passed);
    // No prices: every figure is in its own asset, compared pool by pool.
    let terms: Terms = serde_json::from_str(
        r#"{"services": {"oracle": {"profit": "150", "threshold": "1/2"}, "bridge": {"profit": "400", "threshold": "2/3"}, "da": {"profit": "80", "threshold": "1/3"}, "custody": {"profit": "120", "threshold": "1/2"}}}"#,
    )
    .expect("terms");
    let mut stats = Stats::default();
    differential(&finished, &terms, 4, "demo", &mut stats);
    eprintln!("{stats:?}");
    assert!(stats.base_knock_ons > 0, "{stats:?}");
}

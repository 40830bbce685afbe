//! The audit against the chain: random scenario worlds (base pools in two assets, tiers, isolated and shared
//! allocations, a slash before the audit so that prices are not one), and for each AVS its failure replayed on the
//! real bytecode (it takes its whole backing in every base pool, then in every tier, with the guard at 100%). The
//! audit's loss per pool and per staker (`Source::bearers`) must equal the chain's within a stated rounding bound:
//! four raw units of the asset per slash, per position.

use std::collections::BTreeMap;

use bulkhead_audit::{Source, Terms};
use bulkhead_risk::number::Q;
use bulkhead_rng::SplitMix64;
use bulkhead_scenario::{self as scenario, FinalState};
use num_bigint::BigInt;
use num_traits::Zero;

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
struct World {
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

fn world(seed: u64) -> World {
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
    World { text: t, pools }
}

/// A pre-audit slash by a random AVS on a random pool, so that prices differ from one.
fn with_pre_slash(world: &World, seed: u64) -> String {
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

fn run(text: &str, name: &str) -> FinalState {
    let sc = scenario::parse(name, text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    scenario::run(&sc)
        .unwrap_or_else(|e| panic!("{e:#}\n{text}"))
        .final_state
}

fn q(text: &str) -> Q {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits: BigInt = format!("{int}{frac}").parse().expect("a decimal");
    Q::new(digits, BigInt::from(10u32).pow(frac.len() as u32))
}

fn pool_value(state: &FinalState, pool: &str) -> Q {
    state
        .pools
        .iter()
        .find(|p| p.name == pool)
        .map_or_else(Q::zero, |p| q(&p.value))
}

fn staker_value(state: &FinalState, staker: &str) -> Q {
    state
        .stakers
        .iter()
        .filter(|s| s.name == staker)
        .flat_map(|s| &s.positions)
        .fold(Q::zero(), |acc, p| acc + q(&p.value))
}

/// The steps of `avs` failing alone: 100% of its backing in `pools`, in that order.
fn failing(avs: &str, pools: &[&String]) -> String {
    pools
        .iter()
        .map(|p| format!("\n[[steps]]\naction = \"slash\"\navs = \"{avs}\"\npool = \"{p}\"\nfraction = \"100%\"\n"))
        .collect()
}

fn close(a: &Q, b: &Q, tol: &Q) -> bool {
    let d = a - b;
    (if d < Q::zero() { -d } else { d }) <= *tol
}

#[test]
fn the_audit_bears_losses_as_the_chain_books_them() {
    let terms: Terms = serde_json::from_str(
        r#"{"services": {"a1": {"profit": "1", "threshold": "1/2"}, "a2": {"profit": "1", "threshold": "1/2"}, "a3": {"profit": "1", "threshold": "1/2"}}}"#,
    )
    .expect("terms");
    let (mut compared, mut tier_losses) = (0usize, 0usize);
    for seed in 1..=20u64 {
        let world = world(seed);
        let text = with_pre_slash(&world, seed);
        let state = run(&text, "world.toml");
        let source = Source::from_final_state(&state, &terms).expect("the world maps to a network");
        for bearers in source.bearers() {
            let avs = state
                .avs
                .iter()
                .find(|a| a.name == bearers.service)
                .expect("an AVS");
            let backed = |tier: bool| -> Vec<&String> {
                avs.backings
                    .iter()
                    .filter(|b| {
                        world.pools[&b.pool].0.is_some() == tier && !q(&b.backing).is_zero()
                    })
                    .map(|b| &b.pool)
                    .collect()
            };
            let (bases, tiers) = (backed(false), backed(true));
            let after_bases = run(
                &format!("{text}{}", failing(&avs.name, &bases)),
                "bases.toml",
            );
            let after_all = run(
                &format!(
                    "{text}{}{}",
                    failing(&avs.name, &bases),
                    failing(&avs.name, &tiers)
                ),
                "all.toml",
            );
            let slashes = Q::from(BigInt::from(bases.len() + tiers.len() + 1));
            let context = || format!("seed {seed}, {} fails alone\n{text}", avs.name);
            // Per pool: a base loses its value drop; a tier, what its own slash took after the bases'.
            for (pool, (base, decimals)) in &world.pools {
                let chain = match base {
                    None => pool_value(&state, pool) - pool_value(&after_bases, pool),
                    Some(_) => pool_value(&after_bases, pool) - pool_value(&after_all, pool),
                };
                let audit = bearers
                    .pools
                    .iter()
                    .find(|(p, _)| p == pool)
                    .map_or_else(Q::zero, |(_, l)| l.0.clone());
                let tol = &slashes * Q::new(BigInt::from(4), BigInt::from(10u32).pow(*decimals));
                assert!(
                    close(&chain, &audit, &tol),
                    "pool {pool}: chain {chain}, audit {audit}; {}",
                    context()
                );
                if base.is_some() && !chain.is_zero() {
                    tier_losses += 1;
                }
                compared += 1;
            }
            // A tier slash never moves its base pool.
            for pool in world
                .pools
                .iter()
                .filter(|(_, (b, _))| b.is_none())
                .map(|(p, _)| p)
            {
                assert_eq!(
                    pool_value(&after_bases, pool),
                    pool_value(&after_all, pool),
                    "{}",
                    context()
                );
            }
            // Per staker: what their positions lost (a tier position valued in the base asset).
            for s in &state.stakers {
                let chain = staker_value(&state, &s.name) - staker_value(&after_all, &s.name);
                let audit = bearers
                    .stakers
                    .iter()
                    .find(|(n, _)| *n == s.name)
                    .map_or_else(Q::zero, |(_, l)| l.0.clone());
                let positions = Q::from(BigInt::from(s.positions.len().max(1)));
                let tol =
                    &slashes * positions * Q::new(BigInt::from(4), BigInt::from(10u32).pow(6));
                assert!(
                    close(&chain, &audit, &tol),
                    "staker {}: chain {chain}, audit {audit}; {}",
                    s.name,
                    context()
                );
                compared += 1;
            }
        }
    }
    // The worlds must exercise what the differential is about.
    assert!(compared > 100, "compared {compared}");
    assert!(tier_losses > 3, "tier losses compared: {tier_losses}");
}

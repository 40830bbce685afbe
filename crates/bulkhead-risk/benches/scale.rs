//! Scale benchmark (not a test): seeded random networks at the sizes, timed on one thread.
//!
//! `cargo bench -p bulkhead-risk --bench scale [filter]` (release). Each search gets the CLI's default budget
//! (`BENCH_NODE_LIMIT`, default 20 M nodes, the same for each worst_case_loss(ψ)). Prints one line per run:
//! exact attack search at 20 services × 60 validators (both models, secure and insecure profit levels),
//! exact worst_case_loss on the same networks, exact min_byzantine_services at 12 services, and the bounds-only
//! audit (certificate, LP bound, greedy heuristic, exposure) at 500 services × 10,000 validators.

use std::time::{Duration, Instant};

use bulkhead_risk::{
    AuditOptions, Exact, audit,
    generate::{self, Params, SplitMix64},
    network::{Model, Net},
    number,
    search::{self, Budget},
    shock,
};

fn limit() -> u64 {
    std::env::var("BENCH_NODE_LIMIT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000_000)
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed())
}

fn main() {
    let filter = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    let want = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    println!(
        "cores available: {}",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    for model in [Model::Full, Model::Elastic] {
        // Elastic amounts average about half the stake: higher profit levels reach insecure networks too.
        let levels = match model {
            Model::Full => [("secure-ish", (10, 60)), ("insecure-ish", (40, 200))],
            Model::Elastic => [("secure-ish", (20, 120)), ("insecure-ish", (300, 1500))],
        };
        for (label, pct) in levels {
            for seed in 1..=3u64 {
                let name = format!("exact 20x60 {model:?} {label} seed {seed}");
                if !want(&name) {
                    continue;
                }
                let mut rng = SplitMix64::new(seed);
                let params = Params {
                    validators: 60,
                    services: 20,
                    model,
                    degree: (1, 4),
                    stake: (1, 1000),
                    profit_pct: pct,
                };
                let network = generate::network(&mut rng, &params);
                let net = Net::from_network(&network).expect("net");
                let mut budget = Budget::new(limit());
                let (found, t) = timed(|| search::max_attack(&net, &mut budget, false));
                match found {
                    Ok(Some(f)) => println!(
                        "{name}: max_attack_profit {} ({} services attacked) in {:.3}s, {} nodes",
                        number::fmt(&net.value(f.value)),
                        f.attack.services.len(),
                        t.as_secs_f64(),
                        budget.used()
                    ),
                    other => println!("{name}: {other:?} after {:.3}s", t.as_secs_f64()),
                }
                for psi in ["1/100", "1/10"] {
                    let cap = (net.total_stake() as f64
                        * number::approx(&number::parse(psi).expect("psi")))
                    .floor() as i128;
                    let mut budget = Budget::new(limit());
                    let (r, t) = timed(|| shock::worst_case_loss(&net, cap, &mut budget));
                    match r {
                        Ok((loss, d, _)) => println!(
                            "{name}: worst_case_loss({psi}) {} (|D| = {}) in {:.3}s, {} nodes",
                            number::fmt(&number::frac(loss, net.total_stake())),
                            d.len(),
                            t.as_secs_f64(),
                            budget.used()
                        ),
                        Err(e) => println!(
                            "{name}: worst_case_loss({psi}) {e} after {:.3}s",
                            t.as_secs_f64()
                        ),
                    }
                }
            }
        }
    }
    for model in [Model::Full, Model::Elastic] {
        for seed in 1..=3u64 {
            let name = format!("exact min_byzantine 12x60 {model:?} seed {seed}");
            if !want(&name) {
                continue;
            }
            let mut rng = SplitMix64::new(100 + seed);
            let params = Params {
                validators: 60,
                services: 12,
                model,
                degree: (1, 3),
                stake: (1, 1000),
                profit_pct: (5, 40),
            };
            let net = Net::from_network(&generate::network(&mut rng, &params)).expect("net");
            let mut budget = Budget::new(limit());
            let (r, t) = timed(|| search::min_byzantine_services(&net, &mut budget));
            println!(
                "{name}: {:?} in {:.3}s, {} nodes",
                r.map(|o| o.map(|(k, _, _)| k)),
                t.as_secs_f64(),
                budget.used()
            );
        }
    }
    for (model, label, pct) in [
        (Model::Full, "secure-ish", (10, 60)),
        (Model::Full, "insecure-ish", (100, 400)),
        (Model::Elastic, "secure-ish", (10, 60)),
        (Model::Elastic, "insecure-ish", (200, 800)),
    ] {
        let name = format!("bounds-only 500x10000 {model:?} {label}");
        if !want(&name) {
            continue;
        }
        let mut rng = SplitMix64::new(42);
        let params = Params {
            validators: 10_000,
            services: 500,
            model,
            degree: (1, 8),
            stake: (1, 1_000_000),
            profit_pct: pct,
        };
        let (network, tg) = timed(|| generate::network(&mut rng, &params));
        let opts = AuditOptions {
            psis: ["1/1000", "1/10"]
                .iter()
                .map(|p| (p.to_string(), number::parse(p).expect("psi")))
                .collect(),
            bounds_only: true,
            ..AuditOptions::default()
        };
        let (report, t) = timed(|| audit(&network, &opts));
        match report {
            Ok(r) => {
                let interval = r.bounds.max_attack_profit.as_ref();
                println!(
                    "{name}: secure {:?}, max_attack_profit in [{:.4e}, {:.4e}] (heuristic attack on {} services), \
                     gamma {} in {:.3}s (generation {:.3}s)",
                    r.secure,
                    interval.map_or(f64::NAN, |i| i.lower.approx()),
                    interval
                        .and_then(|i| i.upper.as_ref().map(Exact::approx))
                        .unwrap_or(f64::NAN),
                    r.bounds
                        .heuristic_attack
                        .as_ref()
                        .map_or(0, |a| a.services.len()),
                    r.certificate
                        .gamma
                        .as_ref()
                        .map_or("none".to_string(), |g| format!("{:.4}", g.approx())),
                    t.as_secs_f64(),
                    tg.as_secs_f64()
                );
            }
            Err(e) => println!("{name}: error {e:#}"),
        }
    }
}

//! `bulkhead stress`: random chained-slash scenarios on the real bytecode, checked step by step against a pure-Rust
//! model of the accounting (and, in a share of the scenarios, of the reputation layer: ratings, bonds, penalties,
//! standings, risk-weighted reuse; in another, of the reward rail: payments, commissions, stakers' and withdrawals'
//! rewards, the rail's tokens conserved); any disagreement is shrunk and written out as a scenario file.
//!
//! ```no_run
//! use bulkhead_stress::{StressConfig, run};
//!
//! let config = StressConfig { scenarios: 100, seed: 7, ..StressConfig::default() };
//! let report = run(&config, &|| {})?;
//! assert_eq!(report.mismatches, 0);
//! # Ok::<(), eyre::Report>(())
//! ```
//!
//! - [`generator`]: seeded generation (scenario `i` of seed `S` has seed [`scenario_seed`]`(S, i)`).
//! - [`model`]: the accounting, the reputation layer and the reward rail, integer for integer, without an EVM
//!   ([`model::beta`]: the rating's fixed-point maths, `BetaReputation` ported).
//! - [`run`](mod@run): the steps on a copy of a deployed [`Base`] and the [`differential`] check.
//! - [`shrink`](mod@shrink): delta debugging of a failing scenario; [`repro`]: the scenario file.
//!
//! See `docs/stress.md`.

pub mod error;
pub mod generator;
pub mod model;
pub mod repro;
pub mod run;
pub mod shrink;
pub mod spec;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use alloy::primitives::U256;
use serde::Serialize;

pub use error::{Result, StressError};
pub use generator::{GenConfig, generate, scenario_seed};
pub use model::Mutation;
pub use run::{Base, Mismatch, Stats, Verdict, differential, differential_with};
pub use shrink::{Shrunk, shrink};
pub use spec::{Spec, Step};

use spec::decimals;

/// What to run.
#[derive(Debug, Clone)]
pub struct StressConfig {
    /// Number of scenarios.
    pub scenarios: u64,
    /// Seed of the run.
    pub seed: u64,
    /// Index of the first scenario (scenarios `first .. first + scenarios` run).
    pub first: u64,
    /// Worker threads; 0 = all cores.
    pub threads: usize,
    /// Timeline length.
    pub timeline: GenConfig,
    /// A deliberate model bug (to check that the differential check catches it).
    pub mutation: Mutation,
    /// Most differential runs spent shrinking one failure.
    pub shrink_budget: usize,
}

impl Default for StressConfig {
    fn default() -> Self {
        Self {
            scenarios: 100,
            seed: 1,
            first: 0,
            threads: 0,
            timeline: GenConfig::default(),
            mutation: Mutation::None,
            shrink_budget: 400,
        }
    }
}

/// A percentile summary of one loss figure.
#[derive(Debug, Clone, Serialize)]
pub struct Distribution {
    /// What is measured.
    pub name: String,
    /// Number of samples.
    pub count: usize,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest sample.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

impl Distribution {
    fn of(name: &str, mut samples: Vec<f64>) -> Self {
        samples.sort_by(f64::total_cmp);
        let n = samples.len();
        let rank = |q: f64| {
            if n == 0 {
                0.0
            } else {
                samples[((q * n as f64).ceil() as usize).clamp(1, n) - 1]
            }
        };
        Self {
            name: name.to_string(),
            count: n,
            p50: rank(0.5),
            p90: rank(0.9),
            p99: rank(0.99),
            max: samples.last().copied().unwrap_or(0.0),
            mean: if n == 0 {
                0.0
            } else {
                samples.iter().sum::<f64>() / n as f64
            },
        }
    }
}

/// A mismatch found, shrunk and (once [`write_failures`] ran) written out.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// Scenario index in the run.
    pub index: u64,
    /// Its seed (regenerate it with [`generate`]).
    pub seed: u64,
    /// Steps before shrinking.
    pub steps: usize,
    /// Steps after shrinking.
    pub shrunk_steps: usize,
    /// Step (of the shrunk scenario) after which model and chain disagree.
    pub step: usize,
    /// What disagrees.
    pub what: String,
    /// The model's value.
    pub model: String,
    /// The chain's value.
    pub chain: String,
    /// Whether a scenario file can check what differs.
    pub checkable: bool,
    /// The scenario file, once written.
    pub file: Option<PathBuf>,
    /// Whether `bulkhead simulate` fails on it (the scenario runner reports a failed expectation).
    pub reproduces: Option<bool>,
    /// The scenario file's text.
    #[serde(skip)]
    pub toml: String,
}

/// The outcome of a stress run.
#[derive(Debug, Clone, Serialize)]
pub struct StressReport {
    /// Seed of the run.
    pub seed: u64,
    /// Index of the first scenario.
    pub first: u64,
    /// Scenarios run.
    pub scenarios: u64,
    /// Worker threads.
    pub threads: usize,
    /// Cores the machine reports.
    pub cores: usize,
    /// Wall time, seconds (deployment included).
    pub elapsed_s: f64,
    /// Scenarios per second.
    pub per_s: f64,
    /// Steps played.
    pub steps: u64,
    /// Slash calls (instant or executed requests) that went through; the guard or the price floor may have cut
    /// some of them to nothing.
    pub slashes: u64,
    /// Steps that reverted (as the model predicted).
    pub reverts: u64,
    /// Scenarios on which model and chain disagree.
    pub mismatches: u64,
    /// Slashes of tier pools that took something.
    pub tier_slashes: u64,
    /// Pool generations ended by a full slash (a pool reset).
    pub resets: u64,
    /// Scenarios with the reputation layer on.
    pub reputation_scenarios: u64,
    /// Reputation steps played (bonds, bond withdrawals and payouts, checkpoints, standings, re-pricing, holds,
    /// reports), as `actions` counts them.
    pub reputation_steps: u64,
    /// Vetoes played with the reputation layer on (each records a fault and asks for a penalty).
    pub reputation_vetoes: u64,
    /// Penalties paid from bonds into pools.
    pub penalties: u64,
    /// Scenarios with payments through the reward rail.
    pub payment_scenarios: u64,
    /// Reward-rail steps played (rewards turned on, commissions set, payments, claims of rewards, escrow rewards
    /// and commission), as `actions` counts them.
    pub payment_steps: u64,
    /// The vault's hooks into the rail in transactions that went through, by name (`onPositionChange`, `onQueued`,
    /// `onSettled`, `onEscrowLeft`, `onGenerationEnded`).
    pub rail_hooks: BTreeMap<String, u64>,
    /// Steps per action, as `[went through, reverted]`.
    pub actions: BTreeMap<String, [u64; 2]>,
    /// Predicted (and confirmed) reverts per error name.
    pub reverts_by_error: BTreeMap<String, u64>,
    /// Scenarios that could not be run (engine errors).
    pub errors: Vec<String>,
    /// Loss distributions.
    pub distributions: Vec<Distribution>,
    /// Every mismatch, shrunk.
    pub failures: Vec<Failure>,
}

struct Outcome {
    index: u64,
    stats: Stats,
    failure: Option<Failure>,
    error: Option<String>,
}

/// Generates, runs and checks scenario `index` of `config`; shrinks it if it disagrees.
fn one(base: &Base, config: &StressConfig, index: u64) -> Outcome {
    let seed = scenario_seed(config.seed, index);
    let spec = generate(seed, config.timeline, base.start());
    let mut outcome = Outcome {
        index,
        stats: Stats::default(),
        failure: None,
        error: None,
    };
    let result = (|| -> Result<()> {
        let verdict = differential(base, &spec, config.mutation)?;
        outcome.stats = verdict.stats;
        if let Some(why) = verdict.invalid {
            return Err(StressError::InvalidScenario(why));
        }
        let Some(mismatch) = verdict.mismatch else {
            return Ok(());
        };
        let shrunk = shrink(
            base,
            &spec,
            &mismatch,
            config.mutation,
            config.shrink_budget,
        )?;
        let toml = reproduction(base, &shrunk, config.mutation, index);
        outcome.failure = Some(Failure {
            index,
            seed,
            steps: spec.steps.len(),
            shrunk_steps: shrunk.spec.steps.len(),
            step: shrunk.mismatch.step,
            what: shrunk.mismatch.what.clone(),
            model: shrunk.mismatch.model.clone(),
            chain: shrunk.mismatch.chain.clone(),
            checkable: shrunk.mismatch.checkable,
            file: None,
            reproduces: None,
            toml,
        });
        Ok(())
    })();
    if let Err(e) = result {
        outcome.error = Some(format!("scenario {index} (seed {seed:#x}): {e:#}"));
    }
    outcome
}

/// The scenario file of a shrunk failure, with the model's expectations for the steps the file holds (the steps
/// the format has no action for are listed in its header).
pub fn reproduction(base: &Base, shrunk: &Shrunk, mutation: Mutation, index: u64) -> String {
    let title = format!("stress-{index}");
    let (file, left_out) = shrunk.spec.scenario_only();
    let (outcomes, values) =
        run::predictions(base.start(), &file, mutation, &[]).unwrap_or_default();
    repro::to_toml(
        &file,
        &title,
        &shrunk.mismatch,
        &outcomes,
        &values,
        &left_out,
    )
}

/// Runs `config.scenarios` scenarios on `config.threads` threads; `progress` is called after each one.
pub fn run(config: &StressConfig, progress: &(dyn Fn() + Sync)) -> Result<StressReport> {
    let started = Instant::now();
    let base = Base::deploy()?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let threads = if config.threads == 0 {
        cores
    } else {
        config.threads
    }
    .max(1);
    let outcomes = play_all(&base, config, threads, progress);
    let elapsed = started.elapsed().as_secs_f64();
    Ok(summarise(config, threads, cores, elapsed, outcomes))
}

/// Every scenario of `config` on `threads` threads, in index order; a scenario that panics is an error of its own.
fn play_all(
    base: &Base,
    config: &StressConfig,
    threads: usize,
    progress: &(dyn Fn() + Sync),
) -> Vec<Outcome> {
    let next = AtomicU64::new(0);
    let outcomes = Mutex::new(Vec::with_capacity(config.scenarios as usize));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= config.scenarios {
                        break;
                    }
                    let index = config.first + i;
                    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        one(base, config, index)
                    }))
                    .unwrap_or_else(|_| Outcome {
                        index,
                        stats: Stats::default(),
                        failure: None,
                        error: Some(format!(
                            "scenario {index} (seed {:#x}) panicked",
                            scenario_seed(config.seed, index)
                        )),
                    });
                    if let Some(f) = &outcome.failure {
                        tracing::warn!(
                            "scenario {} (seed {:#x}) disagrees after step {}: {}",
                            f.index,
                            f.seed,
                            f.step,
                            f.what
                        );
                    }
                    outcomes.lock().expect("no worker panics").push(outcome);
                    progress();
                }
            });
        }
    });
    let mut outcomes = outcomes.into_inner().expect("no worker panics");
    outcomes.sort_by_key(|o| o.index);
    outcomes
}

/// The report of a run: totals, counts per action and per error, and the loss distributions.
fn summarise(
    config: &StressConfig,
    threads: usize,
    cores: usize,
    elapsed: f64,
    outcomes: Vec<Outcome>,
) -> StressReport {
    let mut stake = Vec::new();
    let (mut isolated, mut shared, mut cut, mut per_scenario, mut reverted) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut steps, mut slashes, mut reverts, mut tier_slashes, mut resets) = (0, 0, 0, 0, 0);
    let (mut rep_scenarios, mut rep_steps, mut rep_vetoes, mut penalties) = (0, 0, 0, 0);
    let (mut ratings, mut penalties_per) = (Vec::new(), Vec::new());
    let (mut pay_scenarios, mut pay_steps, mut claimed_share) = (0, 0, Vec::new());
    let mut rail_hooks: BTreeMap<String, u64> = BTreeMap::new();
    let mut actions: BTreeMap<String, [u64; 2]> = BTreeMap::new();
    let mut reverts_by_error: BTreeMap<String, u64> = BTreeMap::new();
    let mut errors = Vec::new();
    let mut failures = Vec::new();
    let tokens = |a: [U256; 3]| -> f64 {
        (0..3)
            .map(|i| f64::from(a[i]) / 10f64.powi(i32::from(decimals(i))))
            .sum()
    };
    let ratio = |a: U256, b: U256| f64::from(a) / f64::from(b);
    for o in outcomes {
        steps += o.stats.steps as u64;
        reverts += o.stats.reverts as u64;
        slashes += o.stats.slashes.len() as u64;
        tier_slashes += o.stats.tier_slashes;
        resets += o.stats.resets;
        if o.stats.reputation {
            rep_scenarios += 1;
            rep_steps += o.stats.reputation_steps;
            rep_vetoes += o.stats.rep_vetoes;
            penalties += o.stats.penalties;
            penalties_per.push(o.stats.penalties as f64);
            ratings.extend(o.stats.ratings.iter().map(|r| f64::from(*r) / 1e18));
        }
        if o.stats.payments {
            pay_scenarios += 1;
            pay_steps += o.stats.payment_steps;
            let paid = tokens(o.stats.rewards_paid);
            if paid > 0.0 {
                claimed_share.push(tokens(o.stats.rewards_claimed) / paid);
            }
            for (name, n) in model::HOOKS.iter().zip(o.stats.rail_hooks) {
                *rail_hooks.entry((*name).to_string()).or_default() += n;
            }
        }
        for (action, (ok, reverted)) in &o.stats.actions {
            let c = actions.entry((*action).to_string()).or_default();
            c[0] += ok;
            c[1] += reverted;
        }
        for (kind, n) in &o.stats.reverts_by_error {
            *reverts_by_error.entry(kind.name().to_string()).or_default() += n;
        }
        let deposited = tokens(o.stats.deposited);
        if deposited > 0.0 {
            stake.push(tokens(o.stats.slashed) / deposited);
        }
        per_scenario.push(o.stats.slashes.len() as f64);
        reverted.push(o.stats.reverts as f64);
        for s in &o.stats.slashes {
            if !s.backing.is_zero() {
                let loss = ratio(s.amount, s.backing);
                if s.mode == bulkhead_contracts::mode::ISOLATED {
                    isolated.push(loss);
                } else {
                    shared.push(loss);
                }
            }
            if !s.requested.is_zero() {
                cut.push(ratio(s.requested - s.allowed, s.requested));
            }
        }
        errors.extend(o.error);
        failures.extend(o.failure);
    }
    StressReport {
        seed: config.seed,
        first: config.first,
        scenarios: config.scenarios,
        threads,
        cores,
        elapsed_s: elapsed,
        per_s: config.scenarios as f64 / elapsed.max(1e-9),
        steps,
        slashes,
        reverts,
        mismatches: failures.len() as u64,
        tier_slashes,
        resets,
        reputation_scenarios: rep_scenarios,
        reputation_steps: rep_steps,
        reputation_vetoes: rep_vetoes,
        penalties,
        payment_scenarios: pay_scenarios,
        payment_steps: pay_steps,
        rail_hooks,
        actions,
        reverts_by_error,
        errors,
        distributions: vec![
            Distribution::of("stake slashed / deposited (per scenario, tokens)", stake),
            Distribution::of("isolated compartment loss (per slash)", isolated),
            Distribution::of("shared compartment loss (per slash)", shared),
            Distribution::of("cut by the cascade guard (per slash)", cut),
            Distribution::of("slashes per scenario", per_scenario),
            Distribution::of("reverted steps per scenario", reverted),
            Distribution::of("AVS rating at the end (reputation scenarios)", ratings),
            Distribution::of("penalties paid per reputation scenario", penalties_per),
            Distribution::of(
                "stakers' rewards claimed / paid to them (per payment scenario)",
                claimed_share,
            ),
        ],
        failures,
    }
}

/// Writes each failure as `<dir>/stress-<seed>-<index>.toml`, loads it back with the scenario parser and runs it on
/// the real bytecode to see that it fails there; returns the files.
pub fn write_failures(report: &mut StressReport, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    if report.failures.is_empty() {
        return Ok(files);
    }
    std::fs::create_dir_all(dir).map_err(|cause| StressError::Write {
        path: dir.to_path_buf(),
        cause,
    })?;
    for f in &mut report.failures {
        let path = dir.join(format!("stress-{}-{}.toml", report.seed, f.index));
        std::fs::write(&path, &f.toml).map_err(|cause| StressError::Write {
            path: path.clone(),
            cause,
        })?;
        // Both errors name the file: a scenario error is located in it, a run error in its steps.
        let scenario = bulkhead_scenario::load(&path)?;
        let run = bulkhead_scenario::run(&scenario)?;
        f.reproduces = Some(!run.passed);
        f.file = Some(path.clone());
        files.push(path);
    }
    Ok(files)
}

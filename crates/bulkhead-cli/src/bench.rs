//! `bulkhead bench`: chained-slash scenarios per second in the embedded EVM and, in the same run, the same
//! scenarios against a spawned anvil over JSON-RPC. A benchmark, not a test: it prints figures and checks that both
//! paths slashed the same amounts.

use std::{
    path::PathBuf,
    process::ExitCode,
    time::{Duration, Instant},
};

use crate::ui;
use bulkhead_bench::{self as bench, BenchWorld, Outcome, SLASHES_PER_SCENARIO};
use bulkhead_evm::{DeployConfig, Engine, System, deploy_rpc};
use eyre::{Result, WrapErr, ensure};
use serde::Serialize;
use tracing::info;

use crate::demo::{find_anvil, free_port, spawn};

/// Arguments of `bulkhead bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenarios to time in the embedded EVM (one thread).
    #[arg(long, default_value_t = 20_000)]
    scenarios: u64,

    /// Scenarios to time against anvil over JSON-RPC.
    #[arg(long, default_value_t = 200)]
    rpc_scenarios: u64,

    /// Threads for the all-cores figure [default: every core].
    #[arg(long)]
    threads: Option<usize>,

    /// Only the embedded path (no anvil needed).
    #[arg(long)]
    no_rpc: bool,

    /// The anvil binary [default: the one `make toolchain` installs under node_modules/@foundry-rs, else `anvil`].
    #[arg(long, env = "BULKHEAD_ANVIL", value_name = "PATH")]
    anvil: Option<PathBuf>,

    /// Print `{"embedded_per_s", "rpc_per_s", "ratio", "slashes_per_scenario", ...}` instead of a table.
    #[arg(long)]
    json: bool,
}

/// The figures, as `--json` prints them.
#[derive(Debug, Serialize)]
struct Figures {
    embedded_per_s: f64,
    rpc_per_s: Option<f64>,
    ratio: Option<f64>,
    slashes_per_scenario: usize,
    embedded_scenarios: u64,
    rpc_scenarios: u64,
    /// `embedded_per_s` is measured on one thread: it is the figure per core.
    cores: usize,
    /// The same scenarios split over `threads` threads, each with its own copy of the world.
    all_threads_per_s: f64,
    threads: usize,
    /// Mean wall time of one embedded scenario, microseconds.
    embedded_us: f64,
    /// Mean wall time of one RPC scenario, milliseconds.
    rpc_ms: Option<f64>,
    /// EVM instructions a scenario executes (mean over the first `PROFILED` seeds, counted by revm's inspector
    /// outside the timed runs), and of those the SLOADs and the calls into other contracts.
    evm_steps_per_scenario: f64,
    sloads_per_scenario: f64,
    calls_per_scenario: f64,
    /// `embedded_us` spread over those instructions, nanoseconds.
    ns_per_step: f64,
    /// revm on this CPU running its cheapest instructions (a predictable loop touching no state): a floor for
    /// `ns_per_step`, nanoseconds.
    baseline_ns_per_step: f64,
}

/// Seeds whose instructions are counted for the per-instruction figures.
const PROFILED: u64 = 10;

/// The two paths ran and disagree: the benchmark's negative outcome (exit 1), not a failure to run (exit 2).
#[derive(Debug)]
struct PathsDisagree(String);

impl std::fmt::Display for PathsDisagree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PathsDisagree {}

/// Runs the benchmark; exit status 1 if the two paths disagree, 2 if it could not run (as every command's).
pub fn run(args: &Args) -> ExitCode {
    match bench_all(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(if err.downcast_ref::<PathsDisagree>().is_some() {
                1
            } else {
                2
            })
        }
    }
}

fn bench_all(args: &Args) -> Result<()> {
    ensure!(args.scenarios > 0, "--scenarios must be at least 1");
    let mut engine = Engine::default();
    let sys = System::deploy(&mut engine, &DeployConfig::default())?;
    let world = bench::setup(&mut engine, &sys)?;
    // Scenarios read return values and views only; both paths skip formatting events.
    engine.set_decode_events(false);
    // Warm the allocator and caches before timing.
    for seed in 0..args.scenarios.min(500) {
        bench::scenario(&mut engine, &sys, &world, seed)?;
    }
    let (embedded, embedded_time) = time(&mut engine, &sys, &world, args.scenarios)?;
    let embedded_per_s = args.scenarios as f64 / embedded_time.as_secs_f64();
    info!(embedded_per_s, "embedded done");

    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let all_threads_per_s = parallel(&engine, &sys, &world, args.scenarios, threads)?;
    let counts = bench::opcodes(&mut engine, &sys, &world, 0..PROFILED)?;
    let per_scenario = |n: u64| n as f64 / PROFILED as f64;
    let embedded_us = embedded_time.as_secs_f64() * 1e6 / args.scenarios as f64;
    let baseline_ns_per_step = bench::interpreter_baseline(5)?;

    let rpc = if args.no_rpc || args.rpc_scenarios == 0 {
        None
    } else {
        Some(bench_rpc(args, &embedded)?)
    };
    let figures = Figures {
        embedded_per_s,
        rpc_per_s: rpc.map(|d| args.rpc_scenarios as f64 / d.as_secs_f64()),
        ratio: rpc.map(|d| embedded_per_s / (args.rpc_scenarios as f64 / d.as_secs_f64())),
        slashes_per_scenario: SLASHES_PER_SCENARIO,
        embedded_scenarios: args.scenarios,
        rpc_scenarios: if rpc.is_some() { args.rpc_scenarios } else { 0 },
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        all_threads_per_s,
        threads,
        embedded_us,
        rpc_ms: rpc.map(|d| d.as_secs_f64() * 1e3 / args.rpc_scenarios as f64),
        evm_steps_per_scenario: per_scenario(counts.total()),
        sloads_per_scenario: per_scenario(counts.of(0x54)),
        calls_per_scenario: per_scenario(counts.frames()),
        ns_per_step: embedded_us * 1e3 / per_scenario(counts.total()),
        baseline_ns_per_step,
    };
    if args.json {
        println!("{}", serde_json::to_string(&figures)?);
    } else {
        print_table(&figures);
    }
    Ok(())
}

fn time(
    engine: &mut Engine,
    sys: &System,
    world: &BenchWorld,
    scenarios: u64,
) -> Result<(Vec<Outcome>, Duration)> {
    let mut outcomes = Vec::with_capacity(scenarios as usize);
    let started = Instant::now();
    for seed in 0..scenarios {
        outcomes.push(bench::scenario(engine, sys, world, seed)?);
    }
    Ok((outcomes, started.elapsed()))
}

/// Scenarios per second with `threads` threads, each on its own clone of the engine (independent in memory).
fn parallel(
    engine: &Engine,
    sys: &System,
    world: &BenchWorld,
    scenarios: u64,
    threads: usize,
) -> Result<f64> {
    let started = Instant::now();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads as u64)
            .map(|t| {
                let mut engine = engine.clone();
                scope.spawn(move || -> Result<()> {
                    let mut seed = t;
                    while seed < scenarios {
                        bench::scenario(&mut engine, sys, world, seed)?;
                        seed += threads as u64;
                    }
                    Ok(())
                })
            })
            .collect();
        workers
            .into_iter()
            .try_for_each(|w| w.join().expect("a bench thread panicked"))
    })?;
    Ok(scenarios as f64 / started.elapsed().as_secs_f64())
}

/// The same scenarios on a fresh anvil, deployed over JSON-RPC; every outcome must equal the embedded one.
fn bench_rpc(args: &Args, embedded: &[Outcome]) -> Result<Duration> {
    let anvil = find_anvil(args.anvil.as_deref());
    let node = spawn(&anvil, free_port()?)?;
    let deployment = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(deploy_rpc(&node.url, None, &DeployConfig::default()))
        .wrap_err("deploying to the bench node")?;
    let mut engine = Engine::connect(&node.url)?;
    let sys = System::attach(&mut engine, &deployment)?;
    let world = bench::setup(&mut engine, &sys)?;
    engine.set_decode_events(false);
    let (outcomes, elapsed) = time(&mut engine, &sys, &world, args.rpc_scenarios)?;
    for (seed, (rpc, mem)) in outcomes.iter().zip(embedded).enumerate() {
        if rpc != mem {
            return Err(PathsDisagree(format!(
                "scenario {seed}: anvil slashed {:?}, the embedded EVM {:?}",
                rpc.slashed, mem.slashed
            ))
            .into());
        }
    }
    info!(
        compared = outcomes.len().min(embedded.len()),
        "anvil and embedded outcomes agree"
    );
    Ok(elapsed)
}

fn print_table(f: &Figures) {
    if ui::quiet() {
        println!(
            "embedded {:.0} scenarios/s (1 thread), {:.0} on {} threads{}",
            f.embedded_per_s,
            f.all_threads_per_s,
            f.threads,
            f.rpc_per_s
                .map_or_else(String::new, |r| format!(", anvil over JSON-RPC {r:.0}"))
        );
        return;
    }
    let mut table = ui::table(&["path", "scenarios", "per scenario", "scenarios/s"]);
    table.add_row(vec![
        "embedded revm (1 thread)".to_string(),
        f.embedded_scenarios.to_string(),
        format!("{:.1} µs", f.embedded_us),
        format!("{:.0}", f.embedded_per_s),
    ]);
    table.add_row(vec![
        format!("embedded revm ({} threads)", f.threads),
        f.embedded_scenarios.to_string(),
        format!("{:.1} µs", 1e6 / f.all_threads_per_s),
        format!("{:.0}", f.all_threads_per_s),
    ]);
    if let (Some(per_s), Some(ms)) = (f.rpc_per_s, f.rpc_ms) {
        table.add_row(vec![
            "anvil over JSON-RPC".to_string(),
            f.rpc_scenarios.to_string(),
            format!("{ms:.2} ms"),
            format!("{per_s:.0}"),
        ]);
    }
    println!(
        "Chained-slash scenarios: restore the world from a snapshot, {} shared slashes, check the isolated backing.",
        f.slashes_per_scenario
    );
    println!("{table}");
    if let Some(ratio) = f.ratio {
        println!(
            "embedded / RPC: {ratio:.0}x (outcomes identical on both paths); {} cores on this machine",
            f.cores
        );
    }
    println!(
        "EVM work: {:.0} instructions per scenario ({:.0} SLOAD, {:.0} calls), {:.1} ns each on one thread; \
         revm's cheapest instructions take {:.1} ns on this CPU",
        f.evm_steps_per_scenario,
        f.sloads_per_scenario,
        f.calls_per_scenario,
        f.ns_per_step,
        f.baseline_ns_per_step
    );
}

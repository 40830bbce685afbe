//! `bulkhead stress`: random chained-slash scenarios on the real bytecode, checked against the Rust model.

use std::path::PathBuf;

use bulkhead_stress::{self as stress, GenConfig, Mutation, StressConfig, StressReport};
use clap::{Args, ValueEnum};
use eyre::{Result, WrapErr};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::ui;

/// A deliberate model bug, to see the differential check catch it.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MutationArg {
    /// The faithful model.
    None,
    /// Slash amounts round up instead of down.
    CeilSlashAmount,
    /// A slash removes ⌊W·s/V⌋ weight instead of ⌈W·s/V⌉.
    FloorWeightCut,
}

/// Options of `bulkhead stress`.
#[derive(Debug, Args)]
pub struct StressArgs {
    /// Number of random scenarios.
    #[arg(long, default_value_t = 100)]
    pub scenarios: u64,
    /// Seed of the run; scenario i uses a seed derived from (seed, i).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Index of the first scenario (to rerun scenario i alone: --first i --scenarios 1).
    #[arg(long, default_value_t = 0)]
    pub first: u64,
    /// Worker threads (default: all cores); at most four per core (more only add switching: capped, with a warning).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub threads: Option<u32>,
    /// Where mismatches are written as scenario files.
    #[arg(long, default_value = "stress-failures")]
    pub out: PathBuf,
    /// Print the summary as one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Fewest random steps per scenario after its set-up.
    #[arg(long, default_value_t = GenConfig::default().min_steps)]
    pub min_steps: u64,
    /// Most random steps per scenario after its set-up.
    #[arg(long, default_value_t = GenConfig::default().max_steps)]
    pub max_steps: u64,
    /// Break the model on purpose (shows what a mismatch report and its scenario file look like).
    #[arg(long, value_enum, default_value_t = MutationArg::None)]
    pub mutation: MutationArg,
}

/// `asked` worker threads, at most four per core (a warning says so when it cuts).
fn capped_threads(asked: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let cap = 4 * cores;
    if asked > cap {
        eprintln!(
            "warning: --threads {asked} capped at {cap} (four per core on {cores} cores): more would only add switching"
        );
    }
    asked.min(cap)
}

/// Runs the stress test; the exit status is 0 when model and chain agree everywhere, 1 on a mismatch, 2 when a
/// scenario could not be run.
pub fn run(args: &StressArgs) -> Result<i32> {
    eyre::ensure!(
        args.min_steps <= args.max_steps,
        "--min-steps must not exceed --max-steps"
    );
    let config = StressConfig {
        scenarios: args.scenarios,
        seed: args.seed,
        first: args.first,
        threads: args
            .threads
            .map_or(0, |asked| capped_threads(asked as usize)),
        timeline: GenConfig {
            min_steps: args.min_steps,
            max_steps: args.max_steps,
        },
        mutation: match args.mutation {
            MutationArg::None => Mutation::None,
            MutationArg::CeilSlashAmount => Mutation::CeilSlashAmount,
            MutationArg::FloorWeightCut => Mutation::FloorWeightCut,
        },
        ..StressConfig::default()
    };
    let bar = ProgressBar::with_draw_target(Some(args.scenarios), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} scenarios ({per_sec}, eta {eta})",
        )
        .wrap_err("progress bar template")?,
    );
    let mut report = stress::run(&config, &|| bar.inc(1))?;
    bar.finish_and_clear();
    stress::write_failures(&mut report, &args.out)?;

    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_report(&report);
    }
    Ok(if !report.errors.is_empty() {
        2
    } else if report.mismatches > 0 {
        1
    } else {
        0
    })
}

fn print_report(report: &StressReport) {
    print!(
        "{}",
        ui::wrap(&format!(
            "{} scenarios (seed {}, first {}) in {:.2}s on {} threads ({} cores): {:.1} scenarios/s",
            report.scenarios,
            report.seed,
            report.first,
            report.elapsed_s,
            report.threads,
            report.cores,
            report.per_s
        ))
    );
    let mismatches = format!("{} mismatches", report.mismatches);
    println!(
        "{} steps, {} slashes, {} reverts predicted, {}",
        report.steps,
        report.slashes,
        report.reverts,
        if report.mismatches == 0 {
            ui::good(&mismatches)
        } else {
            ui::bad(&mismatches)
        }
    );
    if ui::quiet() {
        return;
    }
    let mut table = ui::table(&["loss figure", "n", "p50", "p90", "p99", "max", "mean"]);
    for d in &report.distributions {
        table.add_row(vec![
            d.name.clone(),
            d.count.to_string(),
            format!("{:.4}", d.p50),
            format!("{:.4}", d.p90),
            format!("{:.4}", d.p99),
            format!("{:.4}", d.max),
            format!("{:.4}", d.mean),
        ]);
    }
    println!("{table}");
    let mut table = ui::table(&["action", "went through", "reverted (as predicted)"]);
    for (action, [ok, reverted]) in &report.actions {
        table.add_row(vec![action.clone(), ok.to_string(), reverted.to_string()]);
    }
    println!("{table}");
    let errors: Vec<String> = report
        .reverts_by_error
        .iter()
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
    print!(
        "{}",
        ui::wrap(&format!("reverts by error: {}", errors.join(", ")))
    );
    print!(
        "{}",
        ui::wrap(&format!(
            "tier slashes that took something: {}; pools reset by a full slash: {}",
            report.tier_slashes, report.resets
        ))
    );
    if !report.failures.is_empty() {
        let mut table = ui::table(&[
            "scenario",
            "seed",
            "steps",
            "after step",
            "what",
            "model",
            "chain",
            "file",
            "simulate fails",
        ]);
        for f in &report.failures {
            table.add_row(vec![
                f.index.to_string(),
                format!("{:#x}", f.seed),
                format!("{} → {}", f.steps, f.shrunk_steps),
                f.step.to_string(),
                f.what.clone(),
                f.model.clone(),
                f.chain.clone(),
                f.file
                    .as_ref()
                    .map_or_else(String::new, |p| p.display().to_string()),
                f.reproduces.map_or_else(String::new, |r| r.to_string()),
            ]);
        }
        println!("{table}");
    }
    for e in &report.errors {
        eprintln!("error: {e}");
    }
}

//! `bulkhead simulate`: load each file, run it, print the timeline, the expectations and the final state (or one
//! JSON object per run).

use std::{
    io::Write,
    path::PathBuf,
    process::ExitCode,
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use alloy::{
    eips::BlockId,
    providers::{Provider, ProviderBuilder},
};

use bulkhead_evm::{Deployment, Engine, Snapshot};
use bulkhead_scenario::{
    self as scenario, FinalState, RunReport, StepOutcome, StepRecord, Target, format_duration,
};
use comfy_table::Cell;

use crate::ui::{self, right, table};
use tracing::{info, warn};

/// Arguments of `bulkhead simulate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario files (TOML, `version = 1`).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,

    /// Print one JSON object per run (one per line) instead of tables.
    #[arg(long)]
    json: bool,

    /// Fork the chain at this JSON-RPC URL into the embedded EVM and run against its deployment. Nothing is sent
    /// to the node.
    #[arg(long, value_name = "URL", conflicts_with = "rpc_url")]
    fork_url: Option<String>,

    /// Block to fork at (default: the latest).
    #[arg(long, value_name = "N", requires = "fork_url")]
    block: Option<u64>,

    /// Run on the anvil node at this URL itself: its deployment, transactions mined there from impersonated actors.
    #[arg(long, value_name = "URL")]
    rpc_url: Option<String>,

    /// Deployment file of the forked or connected chain [default: deployments/<chainId>.json].
    #[arg(long, value_name = "FILE")]
    deployment: Option<PathBuf>,
}

/// The chain the scenarios run on, when it is not a fresh in-memory one.
struct Chain {
    engine: Engine,
    deployment: Deployment,
    /// The node's state before the first file, to start every later file from it.
    start: Snapshot,
    runs: usize,
}

impl Chain {
    fn open(args: &Args) -> eyre::Result<Option<Self>> {
        let engine = match (&args.fork_url, &args.rpc_url) {
            (Some(url), _) => Engine::fork(url, args.block)?,
            (None, Some(url)) => Engine::connect(url)?,
            (None, None) => return Ok(None),
        };
        let path = args.deployment.clone().unwrap_or_else(|| {
            PathBuf::from(format!("deployments/{}.json", engine.config().chain_id))
        });
        let deployment = Deployment::load(&path)?;
        eyre::ensure!(
            deployment.chain_id == engine.config().chain_id,
            "{} is for chain {}, but the node is chain {}: pass --deployment for this chain",
            path.display(),
            deployment.chain_id,
            engine.config().chain_id
        );
        info!(
            "running on {} with the deployment of {}",
            engine.describe(),
            path.display()
        );
        let start = engine.snapshot()?;
        Ok(Some(Self {
            engine,
            deployment,
            start,
            runs: 0,
        }))
    }

    /// Every file starts from the state the command found: a fork gives each its own branch; a node is reverted to
    /// it before each file but the first, and keeps what the last file did.
    fn target(&mut self) -> eyre::Result<Target<'_>> {
        if self.runs > 0 && self.engine.is_node() {
            self.engine.restore(&self.start)?;
        }
        self.runs += 1;
        Ok(Target::Deployed {
            engine: Box::new(self.engine.clone()),
            deployment: &self.deployment,
        })
    }
}

/// How one file went.
enum Status {
    Passed,
    Failed,
    Error,
}

/// Runs every file; the exit status is the worst outcome.
pub fn run(args: &Args) -> ExitCode {
    let started = Instant::now();
    let mut chain = match Chain::open(args) {
        Ok(chain) => chain,
        Err(err) => {
            eprintln!("error: {err:#}");
            return ExitCode::from(2);
        }
    };
    let mut statuses = Vec::new();
    let stdout = std::io::stdout();
    for file in &args.files {
        let outcome = scenario::load(file)
            .map_err(eyre::Report::new)
            .and_then(|scenario| match &mut chain {
                Some(chain) => Ok(scenario::run_on(&scenario, chain.target()?)?),
                None => Ok(scenario::run(&scenario)?),
            });
        let status = match outcome {
            Ok(report) => {
                let status = if report.passed {
                    Status::Passed
                } else {
                    Status::Failed
                };
                let mut out = stdout.lock();
                let written = if args.json {
                    report_json(&report)
                        .and_then(|value| serde_json::to_string(&value))
                        .map_err(std::io::Error::other)
                        .and_then(|line| writeln!(out, "{line}"))
                } else {
                    writeln!(out, "{}", render(&report))
                };
                if let Err(e) = written
                    && e.kind() != std::io::ErrorKind::BrokenPipe
                {
                    warn!("writing the report: {e}");
                }
                status
            }
            Err(err) => {
                let message = format!("{err:#}");
                if args.json {
                    let line =
                        serde_json::json!({ "file": file.display().to_string(), "error": message });
                    println!("{line}");
                } else {
                    eprintln!("error: {message}");
                }
                Status::Error
            }
        };
        statuses.push(status);
    }
    let count = |f: fn(&Status) -> bool| statuses.iter().filter(|s| f(s)).count();
    let (passed, failed, errors) = (
        count(|s| matches!(s, Status::Passed)),
        count(|s| matches!(s, Status::Failed)),
        count(|s| matches!(s, Status::Error)),
    );
    info!(
        passed,
        failed,
        errors,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "simulate done"
    );
    if !args.json && statuses.len() > 1 {
        println!(
            "{passed} passed, {failed} failed, {errors} could not run ({} files)",
            statuses.len()
        );
    }
    if let (Some(url), Some(chain)) = (&args.rpc_url, chain) {
        // Dropping the engine switches the node's sender impersonation off again; say what stays changed.
        drop(chain);
        eprintln!("{}", node_note(url));
    }
    if errors > 0 {
        ExitCode::from(2)
    } else if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// What a run on a node leaves there: its state and its clock (moved forward by the scenarios' warps), and whether
/// sender impersonation is off again (switched off once more here, so that the note says what the node answered).
fn node_note(url: &str) -> String {
    let read = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(eyre::Report::from)
        .and_then(|rt| {
            rt.block_on(async {
                let provider = ProviderBuilder::new().connect_http(url.parse()?);
                let off = provider
                    .raw_request::<_, serde_json::Value>(
                        "anvil_autoImpersonateAccount".into(),
                        serde_json::json!([false]),
                    )
                    .await
                    .map(|_| ())
                    .map_err(eyre::Report::from);
                let block = provider
                    .get_block(BlockId::latest())
                    .await?
                    .ok_or_else(|| eyre::eyre!("no latest block"))?;
                Ok::<_, eyre::Report>((block.header.timestamp, off))
            })
        });
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let restart = restart_hint(url);
    let (clock, off) = match read {
        Ok((ts, off)) if ts > now => (
            format!(
                "; its clock is at {ts}, {} ahead of this machine's (the scenarios' warps)",
                format_duration(ts - now)
            ),
            off,
        ),
        Ok((_, off)) => (String::new(), off),
        Err(e) => (
            format!(" (its clock could not be read: {e:#})"),
            Err(eyre::eyre!("the node did not answer")),
        ),
    };
    let impersonation = match off {
        Ok(()) => "Sender impersonation is off again.".to_string(),
        Err(e) => {
            warn!("could not switch sender impersonation off on {url}: {e:#}");
            "warning: sender impersonation could not be switched off: the node may still take transactions from any \
             address."
                .to_string()
        }
    };
    format!("note: {url} keeps what the last file did{clock}. {impersonation} {restart}")
}

/// How to get a fresh node at `url`: `make anvil` serves 127.0.0.1:8545; elsewhere, anvil on the URL's port.
fn restart_hint(url: &str) -> String {
    let port = url
        .rsplit(':')
        .next()
        .map(|p| p.trim_end_matches('/'))
        .filter(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    match port {
        Some("8545") => format!("Restart the node at {url} (`make anvil`) for a fresh one."),
        Some(port) => format!(
            "Restart the node at {url} (`node_modules/.bin/anvil --port {port}`) for a fresh one."
        ),
        None => format!("Restart the node at {url} for a fresh one."),
    }
}

/// Event arguments that are ids of a kind `final_state` gives as numbers (pools, AVSs) or that are counters like them
/// (slash requests, committee proposals): numbers in the JSON report too, so that one kind has one type. Other
/// integers (amounts, WADs, withdrawal ids, which pack a pool id and an index into 256 bits) stay decimal strings.
const ID_ARGS: [&str; 5] = ["poolId", "avsId", "basePoolId", "requestId", "proposalId"];

/// The report as JSON, every id argument of every event a number ([`ID_ARGS`]).
pub(crate) fn report_json(report: &RunReport) -> serde_json::Result<serde_json::Value> {
    let mut value = serde_json::to_value(report)?;
    if let Some(steps) = value.get_mut("steps").and_then(|s| s.as_array_mut()) {
        for step in steps {
            if let Some(events) = step.get_mut("events").and_then(|e| e.as_array_mut()) {
                for event in events {
                    if let Some(args) = event.get_mut("args").and_then(|a| a.as_object_mut()) {
                        for (name, arg) in args.iter_mut() {
                            if let Some(id) = ID_ARGS
                                .contains(&name.as_str())
                                .then(|| arg.as_str().and_then(|t| t.parse::<u64>().ok()))
                                .flatten()
                            {
                                *arg = serde_json::Value::from(id);
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(value)
}

/// A multiple or percentage with at most 4 decimals, for tables (`0.714285714285714285x` → `0.7142x`); the JSON
/// report keeps the exact value.
pub(crate) fn short(exact: &str) -> String {
    let Some((int, rest)) = exact.split_once('.') else {
        return exact.to_string();
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let suffix = &rest[digits.len()..];
    if digits.len() <= 4 {
        return exact.to_string();
    }
    format!("{int}.{}…{suffix}", &digits[..4])
}

/// The human report of one run.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    let verdict = if report.passed {
        ui::good("PASSED")
    } else {
        ui::bad("FAILED")
    };
    out.push_str(&format!(
        "━━ {} ({}) — {verdict}\n",
        ui::bold(&report.scenario),
        report.file
    ));
    if ui::quiet() {
        out.push_str(&expectations_summary(report));
        return out;
    }
    if let Some(description) = &report.description {
        out.push_str(&ui::wrap(description.trim()));
    }
    render_steps(report, &mut out);
    let fs = &report.final_state;
    // Its time only when time moved (like the step table's column).
    if fs.time == 0 {
        out.push_str("Final state\n");
    } else {
        out.push_str(&format!("Final state at +{}\n", format_duration(fs.time)));
    }
    render_pools(fs, &mut out);
    render_avs(fs, &mut out);
    render_stakers(fs, &mut out);
    out.push_str(&expectations_summary(report));
    out
}

/// One row per step: what it did, its outcome, gas, results and the checks it failed.
fn render_steps(report: &RunReport, out: &mut String) {
    // The time column only when time moves (a scenario at one instant would print +0s on every row).
    let timed = report.steps.iter().any(|s| s.time != 0);
    let mut steps = if timed {
        table(&["#", "t", "action", "detail", "outcome", "gas", "results"])
    } else {
        table(&["#", "action", "detail", "outcome", "gas", "results"])
    };
    for step in &report.steps {
        steps.add_row(step_row(report, step, timed));
    }
    out.push_str(&format!("{steps}\n"));
}

fn step_row(report: &RunReport, step: &StepRecord, timed: bool) -> Vec<Cell> {
    let mut detail = step.detail.clone();
    if let Some(note) = &step.note {
        detail.push_str(&format!("\n» {note}"));
    }
    let mut outcome = step.outcome.to_string();
    if let Some(expected) = &step.expect_revert {
        let held =
            matches!(&step.outcome, StepOutcome::Reverted { error, .. } if error == expected);
        outcome = format!(
            "{outcome}\n{} expected revert {expected}",
            if held { "✓" } else { "✗" }
        );
    }
    let mut results = step.results.clone();
    for e in report.expectations.iter().filter(|e| e.step == step.index) {
        if step.action != "expect" && e.passed {
            continue;
        }
        results.push(if e.passed {
            format!("✓ {} = {}", e.what, e.actual)
        } else {
            format!("✗ {}: expected {}, actual {}", e.what, e.expected, e.actual)
        });
    }
    let failed = results.iter().any(|r| r.starts_with('✗')) || outcome.contains('✗');
    let reverted = matches!(step.outcome, StepOutcome::Reverted { .. });
    let mut row = vec![right(step.index)];
    if timed {
        row.push(Cell::new(format!("+{}", format_duration(step.time))));
    }
    row.extend([
        Cell::new(&step.action),
        Cell::new(detail),
        if reverted || failed {
            ui::verdict_cell(outcome, step.expect_revert.is_some() && !failed)
        } else {
            Cell::new(outcome)
        },
        right(step.gas.map_or_else(String::new, |g| g.to_string())),
        if failed {
            ui::verdict_cell(results.join("\n"), false)
        } else {
            Cell::new(results.join("\n"))
        },
    ]);
    row
}

fn render_pools(fs: &FinalState, out: &mut String) {
    let mut pools = table(&[
        "pool",
        "id",
        "operator",
        "value",
        "isolated",
        "shared stake",
        "Σ shared",
        "reuse",
        "cap",
        "guard used",
    ]);
    for p in &fs.pools {
        let name = match &p.tier_of {
            Some(base) => format!("{} (tier of {base})", p.name),
            None => p.name.clone(),
        };
        let with = |v: &str| format!("{v} {}", p.asset);
        pools.add_row(vec![
            Cell::new(name),
            Cell::new(p.id.map_or_else(|| "-".into(), |id| id.to_string())),
            Cell::new(&p.operator),
            right(with(&p.value)),
            right(with(&p.isolated)),
            right(with(&p.shared_stake)),
            right(with(&p.total_shared)),
            right(short(&p.reuse_ratio)),
            right(short(&p.reuse_cap)),
            right(short(&p.guard_used)),
        ]);
    }
    out.push_str(&format!("{pools}\n"));
}

fn render_avs(fs: &FinalState, out: &mut String) {
    let mut avs = table(&["AVS", "id", "kind", "backing", "sink", "sink holds"]);
    for a in &fs.avs {
        let backings: Vec<String> = a
            .backings
            .iter()
            .map(|b| format!("{}: {} {} ({})", b.pool, b.backing, b.asset, b.mode))
            .collect();
        let held: Vec<String> = fs
            .sinks
            .iter()
            .filter(|s| s.avs == a.name)
            .flat_map(|s| {
                s.balances
                    .iter()
                    .map(|b| format!("{} {}", b.amount, b.asset))
            })
            .collect();
        avs.add_row(vec![
            Cell::new(&a.name),
            right(a.id),
            Cell::new(&a.kind),
            Cell::new(lines_or(backings, "-")),
            Cell::new(&a.sink),
            Cell::new(lines_or(held, "0")),
        ]);
    }
    out.push_str(&format!("{avs}\n"));
}

fn render_stakers(fs: &FinalState, out: &mut String) {
    let mut stakers = table(&[
        "staker",
        "positions (value)",
        "unclaimed withdrawals",
        "wallet",
    ]);
    for s in &fs.stakers {
        let positions: Vec<String> = s
            .positions
            .iter()
            .map(|p| format!("{}: {} {} ({} shares)", p.pool, p.value, p.asset, p.shares))
            .collect();
        let escrow: Vec<String> = s
            .escrow
            .iter()
            .map(|e| format!("{}: {} {} ({}x)", e.pool, e.value, e.asset, e.withdrawals))
            .collect();
        let wallet: Vec<String> = s
            .wallet
            .iter()
            .map(|t| format!("{} {}", t.amount, t.asset))
            .collect();
        stakers.add_row(vec![
            Cell::new(&s.name),
            Cell::new(lines_or(positions, "-")),
            Cell::new(lines_or(escrow, "-")),
            Cell::new(lines_or(wallet, "-")),
        ]);
    }
    out.push_str(&format!("{stakers}\n"));
}

/// `Expectations: N passed, M failed (T ms)` and each failure, located.
fn expectations_summary(report: &RunReport) -> String {
    let mut out = String::new();
    let failures: Vec<_> = report.failures().collect();
    let failed = format!("{} failed", failures.len());
    out.push_str(&format!(
        "Expectations: {} passed, {} ({:.0} ms)\n",
        report.expectations.len() - failures.len(),
        if failures.is_empty() {
            failed
        } else {
            ui::bad(&failed)
        },
        report.wall_time_ms
    ));
    for failure in failures {
        out.push_str(&format!(
            "  {} {}:{}:{}: {}: {}\n      expected {}\n      actual   {}\n",
            ui::bad("✗"),
            report.file,
            failure.line,
            failure.column,
            failure.path,
            failure.what,
            failure.expected,
            failure.actual
        ));
    }
    out
}

/// One line per item, or `empty` when there are none (a table cell never shows blank).
fn lines_or(items: Vec<String>, empty: &str) -> String {
    if items.is_empty() {
        empty.to_string()
    } else {
        items.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The note after a run on a node says impersonation is off only when the node said so; a node that does not
    /// answer gets a warning instead.
    #[test]
    fn impersonation_is_said_off_only_when_it_is() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a port")
            .port();
        // Nothing listens there any more.
        let note = node_note(&format!("http://127.0.0.1:{port}"));
        assert!(!note.contains("is off again"), "{note}");
        assert!(
            note.contains("warning: sender impersonation could not be switched off"),
            "{note}"
        );
        assert!(
            note.contains(&format!("Restart the node at http://127.0.0.1:{port}")),
            "{note}"
        );
    }

    /// The restart hint names the node's own URL, and `make anvil` only for the port it serves.
    #[test]
    fn restart_names_the_node() {
        assert_eq!(
            restart_hint("http://127.0.0.1:8545"),
            "Restart the node at http://127.0.0.1:8545 (`make anvil`) for a fresh one."
        );
        let other = restart_hint("http://127.0.0.1:9100");
        assert!(other.contains("http://127.0.0.1:9100"), "{other}");
        assert!(other.contains("--port 9100"), "{other}");
        assert!(!other.contains("make anvil"), "{other}");
    }
}

//! `bulkhead demo`: the demo world (`examples/demo.toml`: 3 operators, 4 AVSs, 20 stakers, a tier, ratings and
//! bonds) and its chained slash, on a spawned anvil node (deployed over JSON-RPC) or in the embedded EVM.

use std::{
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, ExitCode, Stdio},
    time::{Duration, Instant},
};

use alloy::primitives::U256;
use bulkhead_evm::{DeployConfig, Deployment, Engine, anvil_binary, deploy_rpc};
use bulkhead_risk::Exact;
use bulkhead_scenario::{self as scenario, FinalState, RunReport, StepOutcome, StepRecord, Target};
use comfy_table::Cell;
use eyre::{Result, WrapErr, bail, eyre};
use tracing::info;

use crate::{
    deploy::write_deployment,
    simulate::{render, short},
    ui,
};

/// The demo world, compiled in so the binary runs it from anywhere.
pub(crate) const DEMO: &str = include_str!("../../../examples/demo.toml");
pub(crate) const DEMO_FILE: &str = "examples/demo.toml";

/// Arguments of `bulkhead demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run in the embedded EVM (no node): the system deployed from the bytecode into revm.
    #[arg(long)]
    embedded: bool,

    /// Leave anvil running with the deployment and the demo's state, write deployments/31337.json (an earlier one is
    /// kept beside it) and print how to connect; Ctrl-C (or any signal that ends this command) stops it.
    #[arg(long, conflicts_with = "embedded")]
    keep: bool,

    /// Port for anvil [default: a free one; 8545 with --keep]. A port already in use is refused: the demo never
    /// writes to a node it did not start.
    #[arg(long)]
    port: Option<u16>,

    /// The anvil binary [default: the one `make toolchain` installs under node_modules/@foundry-rs in this
    /// directory or a parent, else `anvil` on PATH].
    #[arg(long, env = "BULKHEAD_ANVIL", value_name = "PATH")]
    anvil: Option<PathBuf>,

    /// Print the run report as one JSON object instead of tables.
    #[arg(long)]
    json: bool,
}

/// Kills the node on every way out except `--keep`; a watchdog process kills it too if this one dies by a signal
/// (`kill`, SIGTERM to this pid alone), which no destructor sees.
pub(crate) struct Node {
    child: Child,
    pub(crate) url: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the demo; exit status 0 if every expectation of the demo held, 1 if one failed, 2 on an error (as every
/// command's).
pub fn run(args: &Args) -> ExitCode {
    match demo(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn demo(args: &Args) -> Result<bool> {
    let world = scenario::parse(DEMO_FILE, DEMO)?;
    if args.embedded {
        let report = scenario::run(&world)?;
        print(args, &report, "the embedded EVM (revm, in memory)")?;
        return Ok(report.passed);
    }

    let anvil = find_anvil(args.anvil.as_deref());
    let port = match args.port {
        Some(port) => port,
        None if args.keep => 8545,
        None => free_port()?,
    };
    let node = spawn(&anvil, port)?;
    let deployment = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(deploy_rpc(&node.url, None, &DeployConfig::default()))
        .wrap_err("deploying to the demo node")?;
    info!(
        vault = %deployment.contracts.stake_vault,
        manager = %deployment.contracts.allocation_manager,
        "deployed"
    );
    let engine = Engine::connect(&node.url)?;
    let deployed_at = engine.config().start_block - 1;
    let report = scenario::run_on(
        &world,
        Target::Deployed {
            engine: Box::new(engine),
            deployment: &deployment,
        },
    )?;
    print(args, &report, &format!("anvil at {}", node.url))?;
    if args.keep {
        keep(node, &deployment, deployed_at)?;
    }
    Ok(report.passed)
}

fn print(args: &Args, report: &RunReport, place: &str) -> Result<()> {
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&crate::simulate::report_json(report)?)?
        );
        return Ok(());
    }
    if ui::quiet() {
        println!(
            "Bulkhead demo on {place}: expectations {} ({} checked)",
            if report.passed {
                ui::good("all held")
            } else {
                ui::bad("some FAILED")
            },
            report.expectations.len()
        );
        return Ok(());
    }
    print!(
        "{}",
        ui::wrap(&format!(
            "Bulkhead demo on {place}: 3 operators, 4 AVSs, 20 stakers, one tier, ratings and bonds, a chained slash \
             ({DEMO_FILE}).\n"
        ))
    );
    println!("{}", render(&condensed(report)));
    if let Some(reputation) = reputation(&report.final_state) {
        println!("{reputation}");
    }
    print!("{}", ui::wrap(LEGEND));
    println!();
    println!("{}", story(report));
    println!();
    println!("{}", without_isolation(report)?);
    Ok(())
}

/// The report with each long run of `warp` and `checkpoint` steps (the weeks that season the demo's AVSs and
/// operators) folded into one row saying who closed how many epochs where and where each rating ended; every other
/// step, and any step of such a run that reverted or expected a revert, is shown as it ran.
fn condensed(report: &RunReport) -> RunReport {
    const FOLD: usize = 4;
    let foldable = |s: &StepRecord| {
        matches!(s.action.as_str(), "warp" | "checkpoint")
            && s.outcome == StepOutcome::Ok
            && s.expect_revert.is_none()
    };
    let mut out = report.clone();
    out.steps.clear();
    let mut i = 0;
    while i < report.steps.len() {
        let run = report.steps[i..].iter().take_while(|s| foldable(s)).count();
        if run >= FOLD {
            out.steps
                .push(fold(&report.steps[i..i + run], &report.final_state));
            i += run;
        } else {
            out.steps.push(report.steps[i].clone());
            i += 1;
        }
    }
    out
}

/// One row for a run of `warp` and `checkpoint` steps: per AVS or operator, its checkpoints, their pools, the epochs
/// they closed and its rating before and after (read from the `…RatingUpdated` events).
fn fold(steps: &[StepRecord], state: &FinalState) -> StepRecord {
    struct Subject {
        name: String,
        pools: Vec<String>,
        count: usize,
        epochs: (String, String),
        rating: (String, String),
    }
    let mut subjects: Vec<Subject> = Vec::new();
    for event in steps.iter().flat_map(|s| &s.events) {
        let arg = |name: &str| {
            event
                .args
                .iter()
                .find(|(k, _)| k == name)
                .map_or("", |(_, v)| v.as_str())
        };
        let name = match event.name.as_str() {
            "AVSRatingUpdated" => state
                .avs
                .iter()
                .find(|a| a.id.to_string() == arg("avsId"))
                .map_or_else(|| format!("AVS {}", arg("avsId")), |a| a.name.clone()),
            "OperatorRatingUpdated" => arg("operator").to_string(),
            _ => continue,
        };
        let pool = state
            .pools
            .iter()
            .find(|p| p.id.is_some_and(|id| id.to_string() == arg("poolId")))
            .map_or_else(|| format!("pool {}", arg("poolId")), |p| p.name.clone());
        let rating = |key: &str| {
            arg(key)
                .parse::<U256>()
                .map_or_else(|_| "?".into(), scenario::format_percent)
        };
        let (epoch, old, new) = (
            arg("epoch").to_string(),
            rating("oldRatingWad"),
            rating("newRatingWad"),
        );
        match subjects.iter_mut().find(|s| s.name == name) {
            Some(s) => {
                s.count += 1;
                s.epochs.1 = epoch;
                s.rating.1 = new;
                if !s.pools.contains(&pool) {
                    s.pools.push(pool);
                }
            }
            None => subjects.push(Subject {
                name,
                pools: vec![pool],
                count: 1,
                epochs: (epoch.clone(), epoch),
                rating: (old, new),
            }),
        }
    }
    let (first, last) = (&steps[0], &steps[steps.len() - 1]);
    let warps = steps.iter().filter(|s| s.action == "warp").count();
    let mut detail = format!(
        "{} steps: {warps} warps, {} checkpoints, +{} to +{}",
        steps.len(),
        steps.len() - warps,
        scenario::format_duration(first.time),
        scenario::format_duration(last.time)
    );
    // Subjects with the same record share a line: "oracle, bridge, da: 14 epochs (1–14) on P, rating 0% → 70%".
    let mut lines: Vec<(Vec<&str>, String)> = Vec::new();
    for s in &subjects {
        let what = format!(
            "{} epoch{} ({}–{}) on {}, rating {} → {}",
            s.count,
            if s.count == 1 { "" } else { "s" },
            s.epochs.0,
            s.epochs.1,
            s.pools.join(", "),
            s.rating.0,
            s.rating.1
        );
        match lines.iter_mut().find(|(_, w)| *w == what) {
            Some((names, _)) => names.push(&s.name),
            None => lines.push((vec![&s.name], what)),
        }
    }
    for (names, what) in lines {
        detail.push_str(&format!("\n{}: {what}", names.join(", ")));
    }
    StepRecord {
        index: first.index,
        line: first.line,
        time: first.time,
        action: format!("steps {}–{}", first.index, last.index),
        detail,
        note: None,
        outcome: StepOutcome::Ok,
        expect_revert: None,
        gas: None,
        results: Vec::new(),
        events: Vec::new(),
    }
}

/// Each AVS's and operator's rating at the end, the risk weight the manager counts the AVS with, and its bond against
/// what its rating requires (the cascade's slashes are not faults of either: the ratings are the preamble's).
fn reputation(state: &FinalState) -> Option<String> {
    let avs: Vec<_> = state
        .avs
        .iter()
        .filter_map(|a| a.reputation.as_ref().map(|r| (a, r)))
        .collect();
    if avs.is_empty() {
        return None;
    }
    let mut t = ui::table(&[
        "AVS",
        "rating",
        "evidence good / bad",
        "risk weight",
        "bond required",
        "bond held",
    ]);
    for (a, r) in avs {
        let held: Vec<String> = r
            .bonds
            .iter()
            .map(|b| format!("{} {}", b.amount, b.asset))
            .collect();
        t.add_row(vec![
            Cell::new(&a.name),
            ui::right(&r.rating),
            Cell::new(format!("{} / {}", short(&r.good), short(&r.bad))),
            ui::right(&r.risk_weight),
            Cell::new(format!("{} of its backing", r.required_bond_fraction)),
            Cell::new(format!(
                "{}{}",
                if held.is_empty() {
                    "none".to_string()
                } else {
                    held.join(" + ")
                },
                if r.bond_short { " (short)" } else { "" }
            )),
        ]);
    }
    let mut ops = ui::table(&["operator", "rating", "evidence good / bad"]);
    for o in &state.operators {
        ops.add_row(vec![
            Cell::new(&o.name),
            ui::right(&o.rating),
            Cell::new(format!("{} / {}", short(&o.good), short(&o.bad))),
        ]);
    }
    Some(format!("Ratings, risk weights and bonds:\n{t}\n{ops}"))
}

/// What the tables' words and numbers mean.
const LEGEND: &str = "Reading the tables. A pool is one operator's stake in one asset (P and Q); T is a tier: P \
shares that operatorC restaked. value: what can be slashed now (active stake and withdrawals still in escrow). \
isolated: the part only its isolated AVS can slash (custody's 20% of P). shared stake: value − isolated, which every \
shared AVS draws on elastically. Σ shared: the shared AVSs' backings, each times its AVS's risk weight, added up; \
reuse = Σ shared / shared stake, the leverage on that stake, never above the pool's cap (3×): when slashes shrink the \
shared stake, every shared backing is scaled down so the sum stays at the cap. guard used: what the pool lost in this \
window and the one before (compounded); the cascade guard cuts any slash past 50% a day. rating: the lower \
confidence bound of an AVS's or an operator's clean epochs, rising at most 0.05 an epoch from 0, where every new \
identity starts; it sets the risk weight (3× at 0 down to 1×) and the bond an AVS must hold (50% of the backing it \
draws at 0 down to 5%).";

/// The same cascade with fewer bulkheads: without the cascade guard, with custody allocated shared instead of
/// isolated, and with neither. Run on the embedded EVM beside the real run; the numbers come from the chain.
fn without_isolation(report: &RunReport) -> Result<String> {
    let shared = DEMO.replacen(
        "avs = \"custody\", mode = \"isolated\"",
        "avs = \"custody\", mode = \"shared\"",
        1,
    );
    eyre::ensure!(
        shared != DEMO,
        "the demo world no longer allocates custody isolated"
    );
    let no_guard =
        |text: &str| format!("{text}\n[guard]\nmax_fraction = \"100%\"\nwindow = \"1d\"\n");
    let run = |text: &str| -> Result<FinalState> {
        Ok(scenario::run(&scenario::parse(DEMO_FILE, text)?)?.final_state)
    };
    let columns = [
        (
            "as run: custody isolated, guard 50%/day",
            report.final_state.clone(),
        ),
        ("custody isolated, no guard", run(&no_guard(DEMO))?),
        ("custody shared, guard", run(&shared)?),
        ("custody shared, no guard", run(&no_guard(&shared))?),
    ];
    let mut header = vec!["the same cascade"];
    header.extend(columns.iter().map(|(name, _)| *name));
    let mut t = ui::table(&header);
    let row = |what: &str, f: &dyn Fn(&FinalState) -> String| -> Vec<String> {
        std::iter::once(what.to_string())
            .chain(columns.iter().map(|(_, s)| f(s)))
            .collect()
    };
    let pool = |name: &'static str| {
        move |s: &FinalState| {
            s.pools.iter().find(|p| p.name == name).map_or_else(
                || "-".into(),
                |p| format!("{} {}", short(&p.value), p.asset),
            )
        }
    };
    let custody = |s: &FinalState| {
        s.avs
            .iter()
            .find(|a| a.name == "custody")
            .and_then(|a| a.backings.iter().find(|b| b.pool == "P"))
            .map_or_else(
                || "0".into(),
                |b| format!("{} {}", short(&b.backing), b.asset),
            )
    };
    let taken = |s: &FinalState| {
        // The report's amounts are exact decimals: summed exactly, printed as one.
        let weth = Exact(
            s.sinks
                .iter()
                .flat_map(|k| &k.balances)
                .filter(|b| b.asset == "WETH")
                .filter_map(|b| b.amount.parse::<Exact>().ok())
                .map(|a| a.0)
                .sum(),
        );
        format!(
            "{} WETH",
            weth.decimal()
                .map_or_else(|| weth.to_string(), |d| short(&d))
        )
    };
    t.add_row(row("P left (of 1,000 WETH)", &pool("P")));
    t.add_row(row("T left (the tier, of 130 WETH)", &pool("T")));
    t.add_row(row("WETH the sinks took", &taken));
    t.add_row(row("custody's backing left in P", &custody));
    Ok(format!(
        "Without the bulkheads (the same slashes, fewer protections):\n{t}\n{}",
        ui::wrap(
            "Isolated, custody keeps its 200 WETH whatever the shared AVSs take; shared, it is backed only by what \
             the cascade leaves of the shared stake. Without the guard, the third slash is not cut and the pool \
             loses far more in one day; with neither, custody's security goes with it."
        )
    ))
}

/// What happened, in words, from the final state.
fn story(report: &RunReport) -> String {
    let state = &report.final_state;
    let mut lines = vec!["What happened:".to_string()];
    for sink in &state.sinks {
        let took: Vec<String> = sink
            .balances
            .iter()
            .map(|b| format!("{} {}", b.amount, b.asset))
            .collect();
        if !took.is_empty() {
            lines.push(format!("  {} slashed {}", sink.avs, took.join(" + ")));
        }
    }
    for avs in &state.avs {
        for b in avs.backings.iter().filter(|b| b.mode == "isolated") {
            lines.push(format!(
                "  {} (isolated in {}) still has {} {} behind it",
                avs.name, b.pool, b.backing, b.asset
            ));
        }
    }
    for avs in &state.avs {
        if let Some(r) = &avs.reputation {
            lines.push(format!(
                "  {} is rated {}: risk weight {}, bond {} of its backing",
                avs.name, r.rating, r.risk_weight, r.required_bond_fraction
            ));
        }
    }
    for pool in &state.pools {
        lines.push(format!(
            "  pool {}{}: {} {} left, cascade guard {} used",
            pool.name,
            pool.tier_of
                .as_ref()
                .map_or(String::new(), |base| format!(" (tier of {base})")),
            pool.value,
            pool.asset,
            pool.guard_used
        ));
    }
    lines.push(format!(
        "  expectations: {} ({} checked)",
        if report.passed {
            "all held"
        } else {
            "some FAILED"
        },
        report.expectations.len()
    ));
    lines.join("\n")
}

/// Writes the deployment, prints how to use the node (`deployed_at`: the last block before the demo's transactions)
/// and waits for it to end.
fn keep(mut node: Node, deployment: &Deployment, deployed_at: u64) -> Result<()> {
    let written = write_deployment(Path::new("deployments"), deployment)?.message;
    let c = &deployment.contracts;
    println!(
        "\nanvil keeps running at {url} (chain {chain}); {written}.\n\
         \x20 StakeVault        {vault}\n\
         \x20 AllocationManager {manager}\n\
         \x20 AllocationLens    {lens}\n\
         \x20 OperatorRegistry  {registry}\n\
         Try (from this directory):",
        url = node.url,
        chain = deployment.chain_id,
        vault = c.stake_vault,
        manager = c.allocation_manager,
        lens = bulkhead_contracts::lens_of(c.allocation_manager),
        registry = c.operator_registry,
    );
    for hint in hints(&node.url, deployment, deployed_at) {
        println!("  {hint}");
    }
    println!("Ctrl-C stops the node.");
    let status = node.child.wait().wrap_err("waiting for anvil")?;
    bail!("anvil exited ({status})")
}

/// Commands to try on the kept node, each runnable as printed from the directory the demo ran in (a CLI test runs
/// every one): the demo pool's risk through cast, the chain audited, and another scenario on a fork pinned at the
/// block before the demo ran (at the latest block its operators are registered already).
pub(crate) fn hints(url: &str, deployment: &Deployment, deployed_at: u64) -> Vec<String> {
    let bulkhead = std::env::current_exe()
        .ok()
        .and_then(|exe| {
            let cwd = std::env::current_dir().ok()?;
            exe.strip_prefix(&cwd).map(Path::to_path_buf).ok()
        })
        .map_or_else(|| "bulkhead".to_string(), |p| p.display().to_string());
    let cast = if Path::new("node_modules/.bin/cast").is_file() {
        "node_modules/.bin/cast"
    } else {
        "cast"
    };
    let risk = "(uint256,uint256,uint256,uint256,uint256,uint256,uint256,uint256,uint256)";
    vec![
        format!(
            "{cast} call {manager} 'poolRisk(uint256)({risk})' 1 --rpc-url {url}",
            manager = deployment.contracts.allocation_manager
        ),
        format!("{bulkhead} audit --rpc-url {url} --terms examples/networks/demo-chain-terms.json"),
        format!(
            "{bulkhead} simulate --fork-url {url} --block {block} examples/isolated_neighbour.toml",
            block = deployed_at
        ),
    ]
}

/// `path`, else the npm toolchain's anvil binary ([`anvil_binary`]).
pub(crate) fn find_anvil(path: Option<&Path>) -> PathBuf {
    path.map_or_else(anvil_binary, Path::to_path_buf)
}

pub(crate) fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").wrap_err("finding a free port for anvil")?;
    Ok(listener.local_addr()?.port())
}

pub(crate) fn spawn(anvil: &Path, port: u16) -> Result<Node> {
    // Never talk to a node this command did not start: anvil would fail to bind, and whatever listens there would
    // answer instead.
    if let Err(err) = TcpListener::bind(("127.0.0.1", port)) {
        bail!(
            "port {port} is in use ({err}): another node (`make anvil`?) listens there. Stop it, pass another \
             --port, or leave --port out to use a free one"
        );
    }
    let child = Command::new(anvil)
        .args(["--port", &port.to_string(), "--silent"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .wrap_err_with(|| {
            format!(
                "starting {}: run `make toolchain` (npm installs anvil under node_modules/@foundry-rs), pass --anvil PATH, or use --embedded",
                anvil.display()
            )
        })?;
    let mut node = Node {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    watchdog(node.child.id());
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = node.child.try_wait()? {
            return Err(eyre!(
                "anvil exited ({status}) before listening on port {port}: is the port taken? pass --port"
            ));
        }
        if started.elapsed() > Duration::from_secs(30) {
            bail!("anvil did not listen on port {port} within 30 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    if let Some(status) = node.child.try_wait()? {
        bail!("anvil exited ({status}) while something else answered on port {port}");
    }
    info!(url = node.url, "anvil is up");
    Ok(node)
}

/// A process that kills the node `anvil` as soon as this one is gone, whatever ended it (a signal to this pid
/// alone, SIGKILL included, runs no destructor).
fn watchdog(anvil: u32) {
    let script = format!(
        "while kill -0 {me} 2>/dev/null && kill -0 {anvil} 2>/dev/null; do sleep 0.2; done; kill {anvil} 2>/dev/null",
        me = std::process::id()
    );
    let spawned = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    if let Err(err) = spawned {
        tracing::warn!(
            "no watchdog for anvil ({err}): if this command is killed, stop pid {anvil} by hand"
        );
    }
}

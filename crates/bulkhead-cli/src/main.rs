//! `bulkhead`: the command line of the Bulkhead harness.
//!
//! - `bulkhead simulate <file>... [--json] [--fork-url <url> [--block <n>] | --rpc-url <url>]`: runs scenario files
//!   on the embedded engine, on a fork of a deployed chain, or on an anvil node (see `docs/scenarios.md`).
//! - `bulkhead deploy --rpc-url <url> [--private-key <hex>] [--out <dir>] [--json]`: deploys the system to a node
//!   and writes `<dir>/<chainId>.json` (the schema of `script/Deploy.s.sol`).
//! - `bulkhead demo [--embedded] [--keep]`: the demo world and its chained slash on a spawned anvil or in memory.
//! - `bulkhead dapp [--port <p>] [--http-port <p>] [--rpc-url <url>]`: the demo dApp on anvil (see `docs/dapp.md`).
//! - `bulkhead bench [--json]`: chained-slash scenarios per second, embedded and over JSON-RPC.
//! - `bulkhead market --rpc-url <url> | --fork-url <url> [--json]`: the security market's book, leases, utilisation
//!   and prices (see `docs/market.md`).
//! - `bulkhead stress`, `bulkhead audit`, `bulkhead decode`: see their `--help`.
//!
//! `-v` logs what runs (`-vv` every transaction, `-vvv` every decoded event) to stderr; `RUST_LOG` overrides it.
//! `--color auto|always|never` (and `NO_COLOR`) and `-q` apply to every command; tables fit the terminal.

mod audit;
mod bench;
mod dapp;
mod decode;
mod demo;
mod deploy;
mod market;
mod simulate;
mod stress;
mod ui;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Bulkhead: restaking with risk isolation.
#[derive(Debug, Parser)]
#[command(name = "bulkhead", version, about, propagate_version = true)]
struct Cli {
    /// More logs on stderr: -v what runs, -vv every transaction, -vvv every event (RUST_LOG overrides).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    /// Colour: auto (on a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, value_enum, default_value_t = ui::ColorChoice::Auto, global = true)]
    color: ui::ColorChoice,

    /// Print only the outcome line(s) of the command, no tables.
    #[arg(short, long, global = true)]
    quiet: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run scenario files on the embedded EVM, each from a fresh deployment, and check their expectations.
    ///
    /// Exit status: 0 if every expectation held, 1 if one failed, 2 if a file could not be loaded or run.
    #[command(
        after_help = "Examples:\n  bulkhead simulate examples/chained_slash.toml\n  bulkhead simulate examples/*.toml --json\n  bulkhead simulate --fork-url http://127.0.0.1:8545 --block 10 \\\n      examples/isolated_neighbour.toml"
    )]
    Simulate(simulate::Args),
    /// Deploy the system to a node over HTTP and write `deployments/<chainId>.json`.
    ///
    /// Demo WETH/WBTC/USDC are deployed and allowlisted on chain 31337 only. Exit status 2 on any error.
    #[command(
        after_help = "Examples:\n  bulkhead deploy --rpc-url http://127.0.0.1:8545\n  bulkhead deploy --rpc-url http://127.0.0.1:8545 --out /tmp/deployments \\\n      --json"
    )]
    Deploy(deploy::Args),
    /// Spawn anvil, deploy, seed the demo world (3 operators, 4 AVSs, 20 stakers, a tier) and fire a chained slash.
    ///
    /// `--embedded` runs the same world in the embedded EVM instead; `--keep` leaves the node up. Exit status 1 if
    /// an expectation of the demo failed, 2 if it could not run.
    #[command(
        after_help = "Examples:\n  bulkhead demo --embedded\n  bulkhead demo --keep --port 8546"
    )]
    Demo(demo::Args),
    /// Serve the demo dApp: anvil, the deployment, the demo world seeded, and the page on 127.0.0.1.
    ///
    /// Runs until Ctrl-C, which stops the page and the node it started. Exit status 2 if it could not start.
    #[command(after_help = "Examples:
  bulkhead dapp
  bulkhead dapp --port 8546 --http-port 8080
  bulkhead dapp --rpc-url http://127.0.0.1:8545")]
    Dapp(dapp::Args),
    /// Chained-slash scenarios per second in the embedded EVM and, in the same run, against anvil over JSON-RPC.
    ///
    /// A benchmark: it prints figures (`--json` for scripts). Exit status 1 if the two paths disagree, 2 if it
    /// could not run.
    #[command(
        after_help = "Examples:\n  bulkhead bench\n  bulkhead bench --scenarios 200 --rpc-scenarios 5 --json"
    )]
    Bench(bench::Args),
    /// Generate random chained-slash scenarios, run them on the real bytecode on all cores and check every step
    /// against the Rust model of the accounting; report loss distributions.
    ///
    /// Mismatches are shrunk and written as scenario files into `--out`. Exit status 0 if model and chain agree,
    /// 1 on a mismatch, 2 if a scenario could not be run.
    #[command(
        after_help = "Examples:\n  bulkhead stress --scenarios 200 --seed 1\n  bulkhead stress --scenarios 1 --first 17 --seed 1 --json"
    )]
    Stress(stress::StressArgs),
    /// Restaking risk audit of a network file: exact attack search, worst-case loss, Byzantine services, D&R
    /// certificate, exposure; `--json` for one object, `--html` for a report with SVG charts.
    ///
    /// Exit status: 0 if no profitable attack exists (or none is known with `--bounds-only`), 1 if the network is
    /// insecure, 2 if the file could not be loaded.
    #[command(
        after_help = "Examples:\n  bulkhead audit --network examples/networks/hub_insecure.json \\\n      --psi 1/100 1/10\n  bulkhead audit --scenario examples/demo.toml \\\n      --terms examples/networks/demo-terms.json --html demo-audit.html"
    )]
    Audit(audit::AuditArgs),
    /// The security market of a deployed chain: the book, the leases, utilisation and prices (reads only).
    #[command(after_help = "Examples:
  bulkhead market --rpc-url http://127.0.0.1:8545
  bulkhead market --fork-url http://127.0.0.1:8545 --closed --json")]
    Market(market::Args),
    /// Name a custom error (with its arguments), a call or an event topic of the Bulkhead contracts, from hex.
    ///
    /// Example: `bulkhead decode 0xd7e968e0` (as cast prints an error it has no signature for). Exit status 0 if
    /// something matched, 1 if nothing in the ABIs has the selector, 2 if the input is not hex.
    #[command(
        after_help = "Examples:\n  bulkhead decode 0xd7e968e0\n  bulkhead decode custom error 0xd7e968e0"
    )]
    Decode(decode::Args),
}

fn init_logging(verbose: u8) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(match verbose {
            0 => "warn",
            1 => "warn,bulkhead=info,bulkhead_evm=info,bulkhead_scenario=info,bulkhead_stress=info",
            2 => "warn,bulkhead=debug,bulkhead_evm=debug,bulkhead_scenario=debug,bulkhead_stress=debug",
            _ => "warn,bulkhead=trace,bulkhead_evm=trace,bulkhead_scenario=trace,bulkhead_stress=trace",
        })
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    ui::init(cli.color, cli.quiet);
    match cli.command {
        Command::Simulate(args) => simulate::run(&args),
        Command::Deploy(args) => deploy::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Dapp(args) => dapp::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Audit(args) => audit::run(&args),
        Command::Market(args) => market::run(&args),
        Command::Decode(args) => decode::run(&args),
        Command::Stress(args) => stress::run(&args).map_or_else(
            |e| {
                eprintln!("error: {e:#}");
                ExitCode::from(2)
            },
            |code| ExitCode::from(code as u8),
        ),
    }
}

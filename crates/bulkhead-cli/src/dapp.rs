//! `bulkhead dapp`: the demo dApp on a local anvil node. Starts anvil (or attaches to a running node with a
//! deployment file), deploys, seeds the demo world of `examples/demo.toml` (its preamble: deposits, a tier,
//! allocations, bonds, and the steps before the cascade: the epochs that season the AVSs and the operators, the
//! standings, the grown allocations), writes what the page needs to know (`world.json`: names, ids, the demo
//! accounts' dev keys, the reputation contract, the cascade's steps and the scenario's expectations) and serves the
//! page (`dapp/dist`) on 127.0.0.1. Ctrl-C stops everything it started.

use std::{
    io::{BufRead, BufReader, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::ExitCode,
};

use alloy::primitives::{Address, B256};
use bulkhead_evm::{Deployment, Engine, address_of, private_key_of};
use bulkhead_scenario::{
    self as scenario, FinalState, RunReport, Target,
    raw::{RawScenario, Scalar},
};
use eyre::{Result, WrapErr, bail, eyre};
use serde::Serialize;
use serde_json::{Value, json};

use crate::demo::{DEMO, DEMO_FILE, find_anvil, spawn};

/// Arguments of `bulkhead dapp`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port of the anvil node this command starts. A port in use is refused: the command never writes to a node it
    /// did not start (use --rpc-url to attach to one on purpose).
    #[arg(long, default_value_t = 8545)]
    port: u16,

    /// Port the page is served on (127.0.0.1 only).
    #[arg(long, default_value_t = 5173)]
    http_port: u16,

    /// Attach to this running node instead of starting one: it must hold the deployment of --deployment (or
    /// deployments/<chainId>.json). The demo world is seeded onto it unless that file's world already is.
    #[arg(long, value_name = "URL")]
    rpc_url: Option<String>,

    /// The deployment file when attaching [default: deployments/<chainId>.json].
    #[arg(long, requires = "rpc_url", value_name = "FILE")]
    deployment: Option<PathBuf>,

    /// Where the deployment file (and its ABIs, and the world the page reads) is written.
    #[arg(
        long,
        default_value = "deployments",
        value_name = "DIR",
        conflicts_with = "rpc_url"
    )]
    out: PathBuf,

    /// The built page [default: dapp/dist, built by `npm run dapp:build`].
    #[arg(long, default_value = "dapp/dist", value_name = "DIR")]
    dist: PathBuf,

    /// The anvil binary [default: the one `make toolchain` installs under node_modules/@foundry-rs].
    #[arg(long, env = "BULKHEAD_ANVIL", value_name = "PATH")]
    anvil: Option<PathBuf>,
}

/// Runs until interrupted; exit status 2 on an error (as every command's).
pub fn run(args: &Args) -> ExitCode {
    match dapp(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn dapp(args: &Args) -> Result<()> {
    if !args.dist.join("index.html").is_file() {
        bail!(
            "{} has no built page: run `npm run dapp:build` (or `make dapp`, which builds it)",
            args.dist.display()
        );
    }
    // Bind the page's port first: a taken port fails before anything is started or deployed.
    let listener = TcpListener::bind(("127.0.0.1", args.http_port)).wrap_err_with(|| {
        format!(
            "serving the page on 127.0.0.1:{}: pass another --http-port",
            args.http_port
        )
    })?;
    let (node, url, deployment_path) = match &args.rpc_url {
        Some(url) => {
            let engine = Engine::connect(url)?;
            let chain = engine.config().chain_id;
            let path = args
                .deployment
                .clone()
                .unwrap_or_else(|| PathBuf::from(format!("deployments/{chain}.json")));
            (None, url.clone(), path)
        }
        None => {
            let node = spawn(&find_anvil(args.anvil.as_deref()), args.port)?;
            let url = node.url.clone();
            let deployment = crate::deploy::deploy_and_write(&url, &args.out)?;
            (Some(node), url, deployment)
        }
    };
    let deployment = Deployment::load(&deployment_path)?;
    let world_path = deployment_path.with_extension("world.json");
    let world = match (&node, std::fs::read_to_string(&world_path)) {
        (None, Ok(text)) => serde_json::from_str(&text).wrap_err_with(|| {
            format!(
                "{} is not a world file: delete it to seed again",
                world_path.display()
            )
        })?,
        _ => {
            let world = seed(&url, &deployment, &deployment_path)?;
            std::fs::write(&world_path, serde_json::to_string_pretty(&world)?)
                .wrap_err_with(|| format!("writing {}", world_path.display()))?;
            world
        }
    };
    let page = format!("http://127.0.0.1:{}/", args.http_port);
    println!(
        "dApp: {page}\n  anvil {url} (chain {}), {} seeded with the demo world ({} stakers)\n  world: {}\n{}",
        deployment.chain_id,
        deployment_path.display(),
        world["actors"]
            .as_array()
            .map_or(0, |a| a.iter().filter(|x| x["role"] == "staker").count()),
        world_path.display(),
        if node.is_some() {
            "Ctrl-C stops the page and the node."
        } else {
            "Ctrl-C stops the page."
        }
    );
    serve(&listener, &args.dist, &world, &deployment_path);
    drop(node);
    Ok(())
}

/// One account of the page's burner picker.
#[derive(Serialize)]
struct Actor {
    name: String,
    role: &'static str,
    address: Address,
    #[serde(rename = "privateKey")]
    private_key: B256,
}

fn actor(name: &str, role: &'static str) -> Actor {
    Actor {
        name: name.to_string(),
        role,
        address: address_of(name),
        private_key: private_key_of(name),
    }
}

/// Seeds the demo's preamble onto the node and describes the world for the page.
fn seed(url: &str, deployment: &Deployment, deployment_path: &Path) -> Result<Value> {
    let mut raw: RawScenario = toml::from_str(DEMO).wrap_err("reading the demo's steps")?;
    let start = page_start(&raw)?;
    // The preamble is the file with its steps cut where the page takes over, written back as TOML: the setup and
    // every step before, as the scenario states them.
    raw.steps.truncate(start);
    let text = toml::to_string(&raw).wrap_err("writing the demo's preamble")?;
    let preamble = scenario::parse(&format!("{DEMO_FILE}, rewritten up to step {start}"), &text)?;
    let seeded = scenario::run_on(
        &preamble,
        Target::Deployed {
            engine: Box::new(Engine::connect(url)?),
            deployment,
        },
    )
    .wrap_err("seeding the demo world")?;
    if !seeded.passed {
        let failed: Vec<String> = seeded
            .failures()
            .map(|e| format!("{}: expected {}, actual {}", e.path, e.expected, e.actual))
            .collect();
        bail!(
            "seeding the demo world: the preamble's expectations failed on the node:\n  {}",
            failed.join("\n  ")
        );
    }
    // Each transaction was mined at the scenario's clock; when the clock moved on after the last one (a warp, the
    // setup's allocation delay), mine a block where it stands, so the page (which reads at the latest block) sees
    // what the scenario's first checks see (allocations in effect).
    let lag = clock_lag(&seeded, deployment.allocation_delay);
    if lag > 0 {
        advance_node(url, lag)?;
    }
    // The scenario run whole, in memory: what each step of the cascade should leave on the chain.
    let full = scenario::run(&scenario::parse(DEMO_FILE, DEMO)?)?;
    if !full.passed {
        bail!("the demo scenario fails in the embedded EVM: run `bulkhead demo --embedded`");
    }
    let block = Engine::connect(url)?.block_number();
    world(
        url,
        deployment,
        deployment_path,
        &seeded,
        &full,
        start,
        block,
    )
}

/// Where the page takes over: the `expect` steps just before the demo's first slash (the page's checks before the
/// cascade), then the cascade. Everything before is the world the page starts from.
fn page_start(raw: &RawScenario) -> Result<usize> {
    let action = |i: usize| {
        raw.steps[i]
            .get_ref()
            .action
            .as_ref()
            .map(|a| a.get_ref().as_str())
    };
    let first_slash = (0..raw.steps.len())
        .find(|&i| action(i) == Some("slash"))
        .ok_or_else(|| {
            eyre!("{DEMO_FILE} has no slash step: the page replays the demo's slashes")
        })?;
    let mut start = first_slash;
    while start > 0 && action(start - 1) == Some("expect") {
        start -= 1;
    }
    Ok(start)
}

/// How far the scenario's clock is past the last transaction the seeding mined: the time since the last step that
/// sent one, or, when no step did, since the setup's allocations, which the setup follows with the allocation delay
/// (with reputation on, the setup refreshes bonded AVSs' standings after it, and the node then runs that delay ahead
/// of the scenario: the allocations are in effect either way).
fn clock_lag(seeded: &RunReport, allocation_delay: u64) -> u64 {
    let end = seeded.final_state.time;
    seeded
        .steps
        .iter()
        .rev()
        .find(|s| s.gas.is_some())
        .map_or(end + allocation_delay, |last| end - last.time)
}

/// `evm_increaseTime(seconds)` and `evm_mine` on the node at `url`.
fn advance_node(url: &str, seconds: u64) -> Result<()> {
    use alloy::providers::{Provider, ProviderBuilder};
    let provider = ProviderBuilder::new().connect_http(
        url.parse()
            .wrap_err_with(|| format!("the node URL {url}"))?,
    );
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async {
            provider
                .raw_request::<_, Value>("evm_increaseTime".into(), json!([seconds]))
                .await?;
            provider
                .raw_request::<_, Value>("evm_mine".into(), json!([]))
                .await
        })
        .wrap_err_with(|| format!("moving the clock of {url}"))?;
    Ok(())
}

fn world(
    url: &str,
    deployment: &Deployment,
    deployment_path: &Path,
    seeded: &RunReport,
    full: &RunReport,
    start: usize,
    block: u64,
) -> Result<Value> {
    let state: &FinalState = &seeded.final_state;
    let mut actors = vec![Actor {
        name: "owner".into(),
        role: "owner",
        address: deployment.owner,
        private_key: bulkhead_evm::ANVIL_DEV_KEY.parse()?,
    }];
    let mut operators: Vec<&str> = state.pools.iter().map(|p| p.operator.as_str()).collect();
    let mut seen = std::collections::BTreeSet::new();
    operators.retain(|o| seen.insert(*o));
    actors.extend(operators.iter().map(|o| actor(o, "operator")));
    actors.extend(state.stakers.iter().map(|s| actor(&s.name, "staker")));
    actors.extend(
        state
            .avs
            .iter()
            .map(|a| actor(&format!("module-{}", a.name), "module")),
    );
    actors.extend(
        state
            .avs
            .iter()
            .filter(|a| a.sink != "burn")
            .map(|a| actor(&a.sink, "sink")),
    );
    // The scenario runner registers every AVS from one admin account, `avsAdmin`: the page signs as it to post the
    // AVSs' bids on the security market (and the admin receives their refunds).
    if !state.avs.is_empty() {
        actors.push(actor("avsAdmin", "admin"));
    }
    let assets: Vec<Value> = deployment
        .assets
        .iter()
        .map(|(symbol, address)| {
            json!({ "symbol": symbol, "address": address, "decimals": deployment.decimals.get(symbol).copied().unwrap_or(18) })
        })
        .collect();
    let pools: Vec<Value> = state
        .pools
        .iter()
        .map(|p| {
            json!({ "name": p.name, "id": p.id.map(|id| id.to_string()), "asset": p.asset, "operator": p.operator, "tierOf": p.tier_of })
        })
        .collect();
    let avs: Vec<Value> = state
        .avs
        .iter()
        .map(|a| {
            json!({ "name": a.name, "id": a.id, "kind": a.kind, "module": address_of(&format!("module-{}", a.name)),
                    "sink": if a.sink == "burn" { scenario::BURN } else { address_of(&a.sink) }, "sinkName": a.sink })
        })
        .collect();
    // The reputation contract, when the demo turned the layer on (its AVSs then have a reputation in the report):
    // the page shows ratings, risk weights and bonds from it, and hides them otherwise.
    let reputation = state
        .avs
        .iter()
        .any(|a| a.reputation.is_some())
        .then_some(deployment.contracts.reputation)
        .flatten();
    Ok(json!({
        "chainId": deployment.chain_id,
        "rpcUrl": url,
        // Served under /deployments/ from the file's directory, whatever it is.
        "deployment": format!(
            "deployments/{}",
            deployment_path.file_name().map_or_else(String::new, |f| f.to_string_lossy().into_owned())
        ),
        "scenario": DEMO_FILE,
        "deployedAtBlock": block,
        "actors": actors,
        "assets": assets,
        "pools": pools,
        "avs": avs,
        "reputation": reputation,
        "cascade": cascade(full, start)?,
    }))
}

/// The demo's steps for the page, from `start` on: each slash (its fraction as written, in WAD) and each `expect`
/// step's checks with their key paths (`pool_value.P`) and expected values, as the scenario states them.
fn cascade(full: &RunReport, start: usize) -> Result<Vec<Value>> {
    let raw: RawScenario = toml::from_str(DEMO).wrap_err("reading the demo's steps")?;
    let mut steps = Vec::new();
    for (i, (step, record)) in raw.steps.iter().zip(&full.steps).enumerate().skip(start) {
        let step = step.get_ref();
        match record.action.as_str() {
            "slash" => {
                let text =
                    |v: &Option<toml::Spanned<String>>| v.as_ref().map(|s| s.get_ref().clone());
                let fraction = match step.fraction.as_ref().map(|f| f.get_ref()) {
                    Some(Scalar::Str(s)) => scenario::parse_fraction(s.as_str())
                        .map_err(|e| eyre!("steps[{i}].fraction: {e}"))?,
                    other => bail!("steps[{i}].fraction: expected a string, got {other:?}"),
                };
                steps.push(json!({
                    "kind": "slash",
                    "note": record.detail,
                    "avs": text(&step.avs),
                    "pool": text(&step.pool),
                    "fractionWad": fraction.to_string(),
                }));
            }
            "expect" => {
                let prefix = format!("steps[{i}].");
                let checks: Vec<Value> = full
                    .expectations
                    .iter()
                    .filter(|e| e.step == i)
                    .map(|e| {
                        json!({ "path": e.path.strip_prefix(&prefix).unwrap_or(&e.path), "what": e.what, "expected": e.expected })
                    })
                    .collect();
                steps.push(json!({ "kind": "expect", "checks": checks }));
            }
            other => {
                bail!(
                    "the demo's step {i} is a {other}, after its first slash: the page replays slashes and checks only"
                )
            }
        }
    }
    Ok(steps)
}

/// Serves `dist`, `/world.json` and the deployment file with its ABIs, one request per connection, until the
/// process is stopped.
fn serve(listener: &TcpListener, dist: &Path, world: &Value, deployment_path: &Path) {
    let world = serde_json::to_vec_pretty(world).unwrap_or_default();
    let deployments = deployment_path.parent().unwrap_or(Path::new("."));
    for stream in listener.incoming().flatten() {
        if let Err(err) = answer(stream, dist, &world, deployments) {
            tracing::debug!("a page request failed: {err}");
        }
    }
}

fn answer(mut stream: TcpStream, dist: &Path, world: &[u8], deployments: &Path) -> Result<()> {
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("/");
    let path = path.split('?').next().unwrap_or("/");
    let (status, kind, body) = match route(path, dist, world, deployments) {
        Some((kind, body)) => ("200 OK", kind, body),
        None => (
            "404 Not Found",
            "text/plain",
            format!("{path}: not found\n").into_bytes(),
        ),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(&body)?;
    Ok(())
}

/// What a path serves: `world.json`, `deployments/…` (the deployment file and its ABIs), else a file of `dist`.
/// Paths that climb (`..`) serve nothing.
fn route(
    path: &str,
    dist: &Path,
    world: &[u8],
    deployments: &Path,
) -> Option<(&'static str, Vec<u8>)> {
    if path.split('/').any(|part| part == "..") {
        return None;
    }
    if path == "/world.json" {
        return Some(("application/json", world.to_vec()));
    }
    let file = match path.strip_prefix("/deployments/") {
        Some(rest) => deployments.join(rest),
        None if path == "/" => dist.join("index.html"),
        None => dist.join(path.trim_start_matches('/')),
    };
    let kind = match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        Some("json" | "map") => "application/json",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    };
    std::fs::read(&file).ok().map(|body| (kind, body))
}

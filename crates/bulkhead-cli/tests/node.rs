//! The node-facing commands end to end: `simulate --rpc-url` and `--fork-url [--block]` against a deployment on
//! a fresh anvil, `demo` on anvil and embedded, `bench --json`.

mod common;

use std::path::Path;

use alloy::node_bindings::Anvil;
use common::{bulkhead, deployed, text};

fn example(name: &str) -> String {
    bulkhead_contracts::repo_root()
        .join("examples")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn fork_block_pins_the_state_and_the_node_keeps_what_ran_on_it() {
    let (anvil, deployment) = deployed();
    let url = anvil.endpoint();
    let deployment = deployment.display().to_string();
    let chained = example("chained_slash.toml");
    let block = bulkhead_evm::Engine::connect(&url)
        .expect("connects")
        .config()
        .start_block
        - 1;

    // On the node itself: mined there, every expectation holds.
    let on_node = bulkhead(&[
        "simulate",
        "--rpc-url",
        &url,
        "--deployment",
        &deployment,
        &chained,
    ]);
    assert!(on_node.status.success(), "{}", text(&on_node));
    // It says what stays changed on the node, and leaves no sender impersonated.
    let said = text(&on_node);
    assert!(said.contains("keeps what the last file did"), "{said}");
    assert!(said.contains("ahead of this machine's"), "{said}");
    assert!(said.contains("Sender impersonation is off again"), "{said}");
    assert!(
        !impersonates(&url),
        "the node still takes transactions from any address"
    );

    // At the latest block the operators are registered already: the same file cannot set up again.
    let latest = bulkhead(&[
        "simulate",
        "--fork-url",
        &url,
        "--deployment",
        &deployment,
        &chained,
    ]);
    assert_eq!(latest.status.code(), Some(2), "{}", text(&latest));
    assert!(
        text(&latest).contains("AlreadyRegistered"),
        "{}",
        text(&latest)
    );

    // Pinned at the block before the run, the fork sees only the deployment, and reports JSON like the embedded run.
    let pinned = bulkhead(&[
        "simulate",
        "--fork-url",
        &url,
        "--block",
        &block.to_string(),
        "--deployment",
        &deployment,
        "--json",
        &chained,
    ]);
    assert!(pinned.status.success(), "{}", text(&pinned));
    let report: serde_json::Value =
        serde_json::from_slice(&pinned.stdout).expect("one JSON report");
    assert_eq!(report["passed"], true);
    assert_eq!(report["final_state"]["pools"][0]["value"], "270");
}

#[test]
fn simulate_on_a_node_needs_a_matching_deployment_file() {
    let anvil = Anvil::at(bulkhead_evm::anvil_binary()).spawn();
    let missing = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-such-deployment.json");
    let output = bulkhead(&[
        "simulate",
        "--fork-url",
        &anvil.endpoint(),
        "--deployment",
        &missing.display().to_string(),
        &example("chained_slash.toml"),
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("bulkhead deploy --rpc-url"),
        "{}",
        text(&output)
    );
}

#[test]
fn demo_runs_on_anvil_and_embedded() {
    for args in [vec!["demo"], vec!["demo", "--embedded"]] {
        let output = bulkhead(&args);
        let out = text(&output);
        assert!(output.status.success(), "{out}");
        assert!(out.contains("20 stakers"), "{out}");
        assert!(out.contains("oracle slashed 300 WETH + 20 WBTC"), "{out}");
        assert!(
            out.contains("custody (isolated in P) still has 200 WETH"),
            "{out}"
        );
        assert!(out.contains("expectations: all held"), "{out}");
        // What the numbers mean, and the same cascade with fewer bulkheads, from the chain.
        assert!(out.contains("Reading the tables."), "{out}");
        assert!(out.contains("custody shared, no guard"), "{out}");
        assert!(
            out.contains("91.7266… WETH"),
            "custody's backing without any bulkhead\n{out}"
        );
        // The ratings the demo seeds: fourteen clean weeks for the shared AVSs, none for custody.
        assert!(
            out.contains("oracle is rated 70%: risk weight 1.6x, bond 18.5% of its backing"),
            "{out}"
        );
        assert!(
            out.contains("custody is rated 0%: risk weight 3.0x, bond 50% of its backing"),
            "{out}"
        );
    }
}

#[test]
fn bench_reports_both_paths_as_json() {
    let output = bulkhead(&[
        "bench",
        "--scenarios",
        "20",
        "--rpc-scenarios",
        "3",
        "--json",
    ]);
    assert!(output.status.success(), "{}", text(&output));
    let figures: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(figures["slashes_per_scenario"], 3);
    for key in [
        "embedded_per_s",
        "rpc_per_s",
        "ratio",
        "ns_per_step",
        "baseline_ns_per_step",
    ] {
        assert!(
            figures[key].as_f64().is_some_and(|v| v > 0.0),
            "{key} in {figures}"
        );
    }
    // Counted by the inspector, so the same on every machine: three slashes of five calls each and the view's three.
    let steps = figures["evm_steps_per_scenario"].as_f64().expect("steps");
    assert!((10_000.0..30_000.0).contains(&steps), "{figures}");
    let calls = figures["calls_per_scenario"].as_f64().expect("calls");
    assert!((15.0..=18.0).contains(&calls), "{figures}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("an address")
        .port()
}

fn listening(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

#[test]
fn demo_refuses_a_port_in_use_and_writes_to_no_node() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = taken.local_addr().expect("an address").port().to_string();
    let started = std::time::Instant::now();
    let output = bulkhead(&["demo", "--port", &port]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let out = text(&output);
    assert!(out.contains(&format!("port {port} is in use")), "{out}");
    assert!(out.contains("--port"), "{out}");
    assert!(!out.contains("Bulkhead demo on"), "it ran anyway: {out}");
    assert!(started.elapsed().as_secs() < 10, "it deployed first");
}

/// `bulkhead demo --keep` started in a directory of its own (examples and the npm toolchain linked in, an earlier
/// deployment file there), up to the end of its banner.
struct Kept {
    demo: std::process::Child,
    port: u16,
    dir: std::path::PathBuf,
    banner: String,
}

fn keep_demo(name: &str) -> Kept {
    use std::{
        io::{BufRead, BufReader},
        process::{Command, Stdio},
    };
    let root = bulkhead_contracts::repo_root();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("deployments")).expect("a directory");
    for link in ["examples", "node_modules"] {
        let _ = std::fs::remove_file(dir.join(link));
        std::os::unix::fs::symlink(root.join(link), dir.join(link)).expect("a link");
    }
    std::fs::write(dir.join("deployments/31337.json"), "{\"earlier\": true}\n").expect("writes");
    let port = free_port();
    let bin = Path::new(env!("CARGO_BIN_EXE_bulkhead"));
    let mut demo = Command::new(bin)
        .args(["demo", "--keep", "--port", &port.to_string()])
        .current_dir(&dir)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts the demo");
    let mut lines = BufReader::new(demo.stdout.take().expect("stdout")).lines();
    let mut banner = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("a line");
        let done = line.contains("Ctrl-C stops the node");
        banner.push(line);
        if done {
            break;
        }
    }
    Kept {
        demo,
        port,
        dir,
        banner: banner.join("\n"),
    }
}

/// Sends `signal` to the demo's pid alone: the node must stop with it.
fn stop_with(mut kept: Kept, signal: &str) {
    use std::time::{Duration, Instant};
    assert!(listening(kept.port));
    std::process::Command::new("kill")
        .args([signal, &kept.demo.id().to_string()])
        .status()
        .expect("signals the demo");
    let _ = kept.demo.wait();
    let stopped = Instant::now();
    while listening(kept.port) && stopped.elapsed() < Duration::from_secs(15) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!listening(kept.port), "anvil outlived the demo ({signal})");
}

/// `demo --keep`: every command its banner prints runs as printed from its directory, the deployment file is written
/// there (an earlier one kept beside it), and a SIGTERM to the demo's pid alone stops the node too.
#[test]
fn demo_keep_hints_run_as_printed_and_a_signal_stops_the_node() {
    use std::process::Command;
    let kept = keep_demo("keep");
    let banner = &kept.banner;
    assert!(banner.contains("kept as deployments/31337."), "{banner}");
    assert!(banner.contains("AllocationLens"), "{banner}");
    let hints: Vec<&str> = banner
        .split("Try (from this directory):\n")
        .nth(1)
        .expect("hints")
        .lines()
        .take_while(|l| l.starts_with("  "))
        .map(str::trim)
        .collect();
    assert_eq!(hints.len(), 3, "{banner}");
    let bin = Path::new(env!("CARGO_BIN_EXE_bulkhead"));
    let path = format!(
        "{}:{}",
        bin.parent().expect("the binary's folder").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for hint in &hints {
        let run = Command::new("sh")
            .args(["-c", hint])
            .current_dir(&kept.dir)
            .env("PATH", &path)
            .env_remove("RUST_LOG")
            .output()
            .expect("runs the hint");
        assert!(run.status.success(), "{hint}\n{}", text(&run));
    }
    stop_with(kept, "-TERM");
}

/// `demo --keep` on another node: the README's cast lines for a deployment with pools run as printed against it (the
/// lens's address from the deployment file, which is the manager's `lens()`), and a SIGINT to the demo's pid alone
/// (not to its process group, as Ctrl-C would) stops the node too.
#[test]
fn readme_cast_lines_run_after_demo_keep_and_sigint_stops_the_node() {
    let kept = keep_demo("keep-int");
    let url = format!("http://127.0.0.1:{}", kept.port);
    let deployment = kept.dir.join("deployments/31337.json");
    let lines = common::readme_commands("Once a pool exists");
    assert_eq!(lines.len(), 2, "{lines:?}");
    for line in &lines {
        let command = common::for_deployment(line, &deployment, &url);
        let out = common::sh(&command);
        assert!(common::answered(&out), "{command}\n{}", text(&out));
    }
    // The README's `lens()` line answers what the file lists as AllocationLens.
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&deployment).expect("the file"))
            .expect("JSON");
    let lens_line = common::readme_commands("On any deployment")
        .into_iter()
        .find(|l| l.contains("lens()"))
        .expect("the lens line");
    let out = common::sh(&common::for_deployment(&lens_line, &deployment, &url));
    assert!(common::answered(&out), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim().to_lowercase(),
        file["contracts"]["AllocationLens"]
            .as_str()
            .expect("the lens")
            .to_lowercase()
    );
    stop_with(kept, "-INT");
}

/// Whether the node at `url` mines a transaction from an address nobody holds the key of.
fn impersonates(url: &str) -> bool {
    use alloy::providers::{Provider, ProviderBuilder};
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(async {
            let provider = ProviderBuilder::new().connect_http(url.parse().expect("a URL"));
            // Funded, so that only the missing key (not the gas) can refuse it.
            provider
                .raw_request::<_, serde_json::Value>(
                    "anvil_setBalance".into(),
                    serde_json::json!([
                        "0x00000000000000000000000000000000000b0b00",
                        "0xde0b6b3a7640000"
                    ]),
                )
                .await
                .expect("funds the address");
            let tx = serde_json::json!([{
                "from": "0x00000000000000000000000000000000000b0b00",
                "to": "0x00000000000000000000000000000000000b0b01",
                "value": "0x0"
            }]);
            provider
                .raw_request::<_, serde_json::Value>("eth_sendTransaction".into(), tx)
                .await
                .is_ok()
        })
}

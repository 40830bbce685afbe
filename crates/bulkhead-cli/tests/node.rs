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
    let block = bulkhead_sim::Engine::connect(&url)
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
    let anvil = Anvil::at(bulkhead_sim::anvil_binary()).spawn();
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

//! The node-facing commands end to end: `simulate --rpc-url` and `--fork-url [--block]` against a deployment on
//! a fresh anvil, `demo` on anvil and embedded, `bench --json`.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use alloy::node_bindings::{Anvil, AnvilInstance};

fn bulkhead(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bulkhead"))
        .args(args)
        .current_dir(bulkhead_contracts::repo_root())
        .env_remove("RUST_LOG")
        .output()
        .expect("runs bulkhead")
}

fn text(output: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn example(name: &str) -> String {
    bulkhead_contracts::repo_root()
        .join("examples")
        .join(name)
        .display()
        .to_string()
}

/// A fresh anvil with the system deployed by `bulkhead deploy`; returns the node and the deployment file.
fn deployed() -> (AnvilInstance, PathBuf) {
    let anvil = Anvil::at(bulkhead_sim::anvil_binary()).spawn();
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("node-{}", anvil.port()));
    let url = anvil.endpoint();
    let output = bulkhead(&[
        "deploy",
        "--rpc-url",
        &url,
        "--out",
        &out.display().to_string(),
    ]);
    assert!(output.status.success(), "{}", text(&output));
    (anvil, out.join("31337.json"))
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
    for key in ["embedded_per_s", "rpc_per_s", "ratio"] {
        assert!(
            figures[key].as_f64().is_some_and(|v| v > 0.0),
            "{key} in {figures}"
        );
    }
}

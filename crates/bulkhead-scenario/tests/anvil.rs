//! The same scenarios on an anvil node and on a fork of it in the embedded EVM: every step's outcome, gas, events
//! and every expectation and final number must be identical.

use std::{
    net::{TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use bulkhead_evm::{DeployConfig, Deployment, Engine, anvil_binary, deploy_rpc};
use bulkhead_scenario::{self as scenario, RunReport, Target};

/// An anvil child process, killed on drop.
struct Anvil {
    child: Child,
    url: String,
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn anvil() -> Anvil {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(anvil_binary())
        .args(["--port", &port.to_string(), "--silent"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("anvil starts (run `make toolchain`)");
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "anvil did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Anvil {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

fn deploy(url: &str) -> Deployment {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(deploy_rpc(url, None, &DeployConfig::default()))
        .expect("deploys")
}

fn examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(bulkhead_contracts::repo_root().join("examples"))
            .expect("examples/")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
    files.sort();
    files
}

/// The report without its wall time, the only field allowed to differ.
fn comparable(report: &RunReport) -> serde_json::Value {
    let mut value = serde_json::to_value(report).expect("serializes");
    value
        .as_object_mut()
        .expect("object")
        .remove("wall_time_ms");
    value
}

#[test]
fn fork_and_chain_agree_on_every_example() {
    let node = anvil();
    let deployment = deploy(&node.url);
    let base = Engine::connect(&node.url).expect("connects");
    let deployed = base.snapshot().expect("snapshot");
    let mut base = base;
    let files = examples();
    assert!(files.len() >= 9, "{files:?}");
    for file in files {
        let sc = scenario::load(&file).expect("loads");
        // The fork reads the node at its latest block: the deployment and nothing else.
        let fork = Engine::fork(&node.url, None).expect("forks");
        assert!(
            fork.describe().contains("ForkSource"),
            "{}",
            fork.describe()
        );
        let on_fork = scenario::run_on(
            &sc,
            Target::Deployed {
                engine: Box::new(fork),
                deployment: &deployment,
            },
        )
        .expect("runs on the fork");
        let on_chain = scenario::run_on(
            &sc,
            Target::Deployed {
                engine: Box::new(Engine::connect(&node.url).expect("connects")),
                deployment: &deployment,
            },
        )
        .expect("runs on the node");
        let failures: Vec<String> = on_chain.failures().map(|f| f.to_string()).collect();
        assert!(on_chain.passed, "{}: {failures:#?}", file.display());
        assert!(
            on_chain.steps.iter().any(|s| s.gas.is_some_and(|g| g > 0)),
            "{}: no transaction was mined",
            file.display()
        );
        assert_eq!(
            comparable(&on_fork),
            comparable(&on_chain),
            "{}: the fork and the chain differ",
            file.display()
        );
        base.restore(&deployed).expect("reverts the node");
    }
}

#[test]
fn a_fork_never_writes_to_the_node() {
    let node = anvil();
    let deployment = deploy(&node.url);
    let chain = Engine::connect(&node.url).expect("connects");
    let before = chain.nonce(deployment.owner);
    let sc = scenario::load(bulkhead_contracts::repo_root().join("examples/chained_slash.toml"))
        .expect("loads");
    let report = scenario::run_on(
        &sc,
        Target::Deployed {
            engine: Box::new(Engine::fork(&node.url, None).expect("forks")),
            deployment: &deployment,
        },
    )
    .expect("runs");
    assert!(report.passed);
    // The same scenario still runs on the node: its operators were never registered there.
    assert_eq!(chain.nonce(deployment.owner), before);
    let again = scenario::run_on(
        &sc,
        Target::Deployed {
            engine: Box::new(Engine::connect(&node.url).expect("connects")),
            deployment: &deployment,
        },
    )
    .expect("runs on the node");
    assert!(again.passed);
}

//! Running the `bulkhead` binary from the repository root, and a fresh anvil with the system deployed.

#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use alloy::node_bindings::{Anvil, AnvilInstance};

/// Runs `bulkhead args…` in the repository root (so relative example paths and the npm toolchain resolve).
pub fn bulkhead(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bulkhead"))
        .args(args)
        .current_dir(bulkhead_contracts::repo_root())
        .env_remove("RUST_LOG")
        .output()
        .expect("runs bulkhead")
}

/// Status, stdout and stderr, for assertion messages.
pub fn text(output: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A fresh anvil with the system deployed by `bulkhead deploy`; returns the node and the deployment file.
pub fn deployed() -> (AnvilInstance, PathBuf) {
    let anvil = Anvil::at(bulkhead_evm::anvil_binary()).spawn();
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

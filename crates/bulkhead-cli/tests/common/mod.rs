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

/// The commands of the first ```bash block of README.md after the paragraph that contains `marker`.
pub fn readme_commands(marker: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(bulkhead_contracts::repo_root().join("README.md"))
        .expect("README.md");
    let after = readme
        .split_once(marker)
        .unwrap_or_else(|| panic!("README.md has no {marker:?}"))
        .1;
    let block = after
        .split_once("```bash\n")
        .expect("a bash block after it")
        .1
        .split_once("```")
        .expect("the block ends")
        .0;
    block
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

/// A README command as it runs against a deployment: `<Contract>` placeholders replaced with the addresses under
/// `contracts` in the deployment file, the README's node URL with `url`.
pub fn for_deployment(command: &str, deployment: &Path, url: &str) -> String {
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(deployment).expect("the deployment file"))
            .expect("JSON");
    let mut command = command.replace("http://127.0.0.1:8545", url);
    for (name, address) in file["contracts"].as_object().expect("contracts") {
        command = command.replace(&format!("<{name}>"), address.as_str().expect("an address"));
    }
    assert!(!command.contains('<'), "a placeholder left in {command}");
    command
}

/// Whether a README command answered: exit 0 and no error printed (cast exits 0 on a reverted call), something on
/// stdout.
pub fn answered(out: &Output) -> bool {
    out.status.success()
        && !String::from_utf8_lossy(&out.stderr).contains("Error")
        && !String::from_utf8_lossy(&out.stdout).trim().is_empty()
}

/// Runs a shell command in the repository root (where `node_modules/.bin/cast` resolves).
pub fn sh(command: &str) -> Output {
    Command::new("sh")
        .args(["-c", command])
        .current_dir(bulkhead_contracts::repo_root())
        .env_remove("RUST_LOG")
        .output()
        .expect("runs the command")
}

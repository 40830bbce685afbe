//! Locations of Bulkhead's Solidity sources and the pinned toolchain, resolved from the workspace root.
//!
//! The Rust harness (compile with foundry-compilers, deploy into revm or anvil) builds on these paths; keeping them
//! in one crate means the layout of `contracts/`, the solc wrapper and the npm toolchain is written down once.

use std::path::{Path, PathBuf};

/// The repository root: two levels above this crate's manifest.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .expect("crates/bulkhead-contracts sits two levels below the repository root")
}

/// `contracts/`: the Solidity sources (forge `src`).
pub fn contracts_dir() -> PathBuf {
    repo_root().join("contracts")
}

/// The node wrapper that makes solc-js answer like native solc (`--version`, `--standard-json`).
pub fn solc_wrapper() -> PathBuf {
    repo_root().join("script/toolchain/solc")
}

/// Binaries installed by `npm ci` from `package-lock.json` (forge, anvil, cast).
pub fn npm_bin_dir() -> PathBuf {
    repo_root().join("node_modules/.bin")
}

/// Import remappings, the same as `foundry.toml`'s.
pub fn remappings() -> [(&'static str, PathBuf); 2] {
    let root = repo_root();
    [
        (
            "forge-std/",
            root.join("node_modules/@layerzerolabs/toolbox-foundry/lib/forge-std/"),
        ),
        (
            "@openzeppelin/contracts/",
            root.join("node_modules/@openzeppelin/contracts/"),
        ),
    ]
}

//! Compiles Bulkhead's Solidity once per change with foundry-compilers, through the solc-js wrapper, into `OUT_DIR`,
//! and writes `bindings.rs`: one alloy `sol!` invocation per contract the harness needs.
//!
//! Settings follow `foundry.toml` (which foundry-compilers does not read): evm_version prague, optimizer on with
//! 400 runs, no via-ir, the same two remappings.

use std::{
    env,
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
};

use foundry_compilers::{
    ProjectBuilder, ProjectPathsConfig,
    artifacts::{EvmVersion, Remapping, Settings},
    solc::{Solc, SolcCompiler, SolcSettings},
};

/// The artifacts the bindings are generated for, with the source file that defines each.
const CONTRACTS: &[(&str, &str)] = &[
    ("OperatorRegistry", "contracts/OperatorRegistry.sol"),
    ("StakeVault", "contracts/StakeVault.sol"),
    ("AllocationManager", "contracts/AllocationManager.sol"),
    (
        "DoubleSignSlasher",
        "contracts/modules/DoubleSignSlasher.sol",
    ),
    ("CommitteeSlasher", "contracts/modules/CommitteeSlasher.sol"),
    ("Reputation", "contracts/Reputation.sol"),
    ("AllocationLens", "contracts/periphery/AllocationLens.sol"),
    ("RewardRail", "contracts/RewardRail.sol"),
    ("SecurityMarket", "contracts/market/SecurityMarket.sol"),
    ("OperatorDesk", "contracts/market/OperatorDesk.sol"),
    ("MockERC20", "test/mocks/MockERC20.sol"),
];

const REMAPPINGS: &[(&str, &str)] = &[
    (
        "@openzeppelin/contracts/",
        "node_modules/@openzeppelin/contracts/",
    ),
    (
        "forge-std/",
        "node_modules/@layerzerolabs/toolbox-foundry/lib/forge-std/",
    ),
];

type BoxError = Box<dyn std::error::Error>;

fn main() {
    if let Err(err) = run() {
        // A build script's panic message is what cargo shows; keep it to the point.
        panic!("\n\nbulkhead-contracts: {err}\n");
    }
}

fn run() -> Result<(), BoxError> {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let root = manifest
        .ancestors()
        .nth(2)
        .ok_or("crates/bulkhead-contracts must sit two levels below the repository root")?
        .to_path_buf();
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);

    println!("cargo:rerun-if-changed=build.rs");
    println!(
        "cargo:rerun-if-changed={}",
        root.join("contracts").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        root.join("test/mocks").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        root.join("script/toolchain/solc").display()
    );
    // The locked toolchain (solc-js, OpenZeppelin) changes only with the lockfile.
    println!(
        "cargo:rerun-if-changed={}",
        root.join("package-lock.json").display()
    );

    check_toolchain(&root)?;

    let sources = sources(&root)?;
    let artifacts = compile(&root, &out_dir, &sources)?;
    write_abis(&out_dir, &artifacts)?;
    write_bindings(&out_dir, &artifacts)?;
    Ok(())
}

/// Fails early, with the fix, when the npm toolchain or the wrapper is missing.
fn check_toolchain(root: &Path) -> Result<(), BoxError> {
    let needed = [
        "script/toolchain/solc",
        "node_modules/solc/package.json",
        "node_modules/@openzeppelin/contracts/package.json",
    ];
    let missing: Vec<&str> = needed
        .into_iter()
        .filter(|p| !root.join(p).exists())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the Solidity toolchain is missing ({}); run `make toolchain` first (it installs solc-js and \
             OpenZeppelin from package-lock.json into node_modules/)",
            missing.join(", ")
        )
        .into())
    }
}

/// `contracts/**/*.sol` plus the mock token.
fn sources(root: &Path) -> Result<Vec<PathBuf>, BoxError> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for entry in fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(&path, found)?;
            } else if path.extension().is_some_and(|e| e == "sol") {
                found.push(path);
            }
        }
        Ok(())
    }
    let mut found = Vec::new();
    walk(&root.join("contracts"), &mut found)?;
    found.push(root.join("test/mocks/MockERC20.sol"));
    found.sort();
    Ok(found)
}

/// Compiles into `OUT_DIR/out` (cache in `OUT_DIR/cache`) and returns each needed contract's artifact path.
fn compile(
    root: &Path,
    out_dir: &Path,
    sources: &[PathBuf],
) -> Result<Vec<(&'static str, PathBuf)>, BoxError> {
    let paths = ProjectPathsConfig::builder()
        .root(root)
        .sources(root.join("contracts"))
        .tests(root.join("test"))
        .scripts(root.join("script"))
        .libs([root.join("node_modules")])
        .remappings(REMAPPINGS.iter().map(|(name, path)| Remapping {
            context: None,
            name: (*name).to_string(),
            path: root.join(path).to_string_lossy().into_owned(),
        }))
        .artifacts(out_dir.join("out"))
        .build_infos(out_dir.join("out/build-info"))
        .cache(out_dir.join("cache/solidity-files-cache.json"))
        .build_with_root(root);

    let mut settings = Settings::default();
    settings.optimizer.enabled = Some(true);
    settings.optimizer.runs = Some(400);
    settings.evm_version = Some(EvmVersion::Prague);
    settings.via_ir = Some(false);

    let wrapper = root.join("script/toolchain/solc");
    let solc = Solc::new(&wrapper).map_err(|e| {
        format!(
            "`{} --version` failed ({e}); is `node` on PATH? If node_modules is stale, run `make toolchain` first",
            wrapper.display()
        )
    })?;

    let project = ProjectBuilder::<SolcCompiler>::default()
        .paths(paths)
        .settings(SolcSettings {
            settings,
            ..Default::default()
        })
        .offline()
        .build(SolcCompiler::Specific(solc))?;

    let output = project.compile_files(sources.iter().cloned())?;
    if output.has_compiler_errors() {
        return Err(format!("solc reported errors:\n{output}").into());
    }

    let mut found = Vec::new();
    for &(name, source) in CONTRACTS {
        let artifact = output
            .artifact_ids()
            .find(|(id, _)| id.name == name && id.source.ends_with(source))
            .map(|(id, _)| id.path)
            .ok_or_else(|| format!("no artifact for {name} ({source}) in the compiler output"))?;
        found.push((name, artifact));
    }
    Ok(found)
}

/// `OUT_DIR/abi/<Name>.json`: each artifact's ABI alone, for runtime use (argument names in decoded values).
fn write_abis(out_dir: &Path, artifacts: &[(&str, PathBuf)]) -> Result<(), BoxError> {
    let dir = out_dir.join("abi");
    fs::create_dir_all(&dir)?;
    for (name, path) in artifacts {
        let artifact: serde_json::Value = serde_json::from_slice(&fs::read(path)?)?;
        let abi = artifact
            .get("abi")
            .ok_or_else(|| format!("{} has no `abi`", path.display()))?;
        fs::write(dir.join(format!("{name}.json")), serde_json::to_vec(abi)?)?;
    }
    Ok(())
}

/// Contracts whose ABI uses another contract's types (Reputation's errors and structs name
/// `IAllocationManager.RequestStatus`, …; the lens returns `IAllocationManager.Backing`): `sol!` would define that
/// interface's module a second time, so their bindings live in a module of their own (`bindings::reputation`, …),
/// re-exported at the top. The market and the desk name `IAllocationManager.Mode`; the rail its own structs.
const OWN_MODULE: &[&str] = &[
    "Reputation",
    "AllocationLens",
    "RewardRail",
    "SecurityMarket",
    "OperatorDesk",
];

/// One `sol!` per artifact: typed calls, errors and events, `BYTECODE`, the JSON ABI and rpc glue.
fn write_bindings(out_dir: &Path, artifacts: &[(&str, PathBuf)]) -> Result<(), BoxError> {
    let mut code =
        String::from("// @generated by crates/bulkhead-contracts/build.rs; do not edit.\n");
    for (name, path) in artifacts {
        let path = path.to_str().ok_or("artifact path is not UTF-8")?;
        let sol = format!(
            "alloy::sol!(\n    #[sol(rpc, all_derives, extra_methods)]\n    {name},\n    {path:?}\n);"
        );
        if OWN_MODULE.contains(name) {
            let module = name.to_lowercase();
            writeln!(
                code,
                "\n/// `{name}`'s bindings, with the types of other contracts its ABI uses.\npub mod {module} {{\n{sol}\n}}\npub use {module}::{name};"
            )?;
        } else {
            writeln!(code, "\n{sol}")?;
        }
    }
    fs::write(out_dir.join("bindings.rs"), code)?;
    Ok(())
}

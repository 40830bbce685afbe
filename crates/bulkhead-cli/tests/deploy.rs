//! `bulkhead deploy` against a fresh anvil (the npm toolchain's binary): the written file, code at every address,
//! and the wiring read back through a provider; `--json` prints the file; the README's cast lines for a fresh
//! deployment run as printed.

mod common;

use std::{path::Path, process::Command};

use alloy::{
    node_bindings::Anvil,
    primitives::{Address, aliases::U48},
    providers::{Provider, ProviderBuilder},
};
use bulkhead_contracts::{AllocationManager, StakeVault};
use bulkhead_evm::Deployment;

/// `bulkhead deploy --rpc-url URL --out DIR [extra…]`.
fn deploy_to(url: &str, out: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bulkhead"))
        .args(["deploy", "--rpc-url", url, "--out"])
        .arg(out)
        .args(extra)
        .env_remove("RUST_LOG")
        .output()
        .expect("runs bulkhead")
}

#[tokio::test]
async fn deploys_to_anvil_and_writes_the_deployment_file() {
    let anvil = Anvil::at(bulkhead_evm::anvil_binary()).spawn();
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("deploy-{}", anvil.port()));
    let _ = std::fs::remove_dir_all(&out); // a folder left by an earlier run on the same port

    let output = deploy_to(&anvil.endpoint(), &out, &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("AllocationManager"), "{stdout}");

    let text = std::fs::read_to_string(out.join("31337.json")).expect("deployments file");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let keys: Vec<&str> = json
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "chainId",
        "block",
        "escrowDelay",
        "allocationDelay",
        "deallocationDelay",
        "executionWindow",
        "owner",
        "guardian",
        "contracts",
        "assets",
        "artifacts",
        "decimals",
        "abis",
        "enums",
        "errors",
    ] {
        assert!(keys.contains(&key), "missing {key} in {text}");
    }
    // What a dApp needs without forge: ABIs beside the file, decimals, enum values, every custom error's selector.
    // Forge artifact paths are listed only where they exist (no `out/` here).
    assert!(
        json["artifacts"].as_object().expect("a map").is_empty(),
        "{text}"
    );
    for name in [
        "StakeVault",
        "AllocationManager",
        "OperatorRegistry",
        "DoubleSignSlasher",
        "CommitteeSlasher",
        "MockERC20",
        "Reputation",
        "AllocationLens",
    ] {
        let file = json["abis"][name]
            .as_str()
            .unwrap_or_else(|| panic!("no ABI for {name}"));
        let abi: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join(file)).expect("the ABI file"))
                .expect("JSON");
        assert!(abi.as_array().is_some_and(|a| !a.is_empty()), "{name}");
    }
    assert_eq!(json["decimals"]["USDC"], 6);
    assert_eq!(json["decimals"]["WBTC"], 8);
    assert_eq!(json["enums"]["Mode"]["Isolated"], 1);
    assert_eq!(json["enums"]["RequestStatus"]["Vetoed"], 2);
    assert_eq!(json["enums"]["NothingReason"]["GuardFull"], 2);
    let not_slashable = json["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .find(|e| e["signature"] == "NotSlashable(uint32,uint256)")
        .expect("NotSlashable is listed");
    let selector = alloy::primitives::keccak256("NotSlashable(uint32,uint256)");
    assert_eq!(
        not_slashable["selector"],
        format!("0x{}", alloy::primitives::hex::encode(&selector[..4]))
    );
    let deployment: Deployment = serde_json::from_value(json).expect("schema");
    assert_eq!(deployment.chain_id, 31_337);
    assert_eq!(deployment.escrow_delay, 604_800);
    assert_eq!(deployment.owner, anvil.addresses()[0]);

    let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url());
    let c = deployment.contracts;
    // The lens the manager created, under its contract name, with its ABI (allocationOf lives there).
    let lens = c.allocation_lens.expect("contracts.AllocationLens");
    assert_eq!(lens, bulkhead_contracts::lens_of(c.allocation_manager));
    let manager = AllocationManager::new(c.allocation_manager, &provider);
    assert_eq!(manager.lens().call().await.expect("lens()"), lens);
    let lens_abi =
        std::fs::read_to_string(out.join("abi/AllocationLens.json")).expect("the lens ABI");
    assert!(lens_abi.contains("\"allocationOf\""), "{lens_abi}");
    let mut addresses: Vec<Address> = vec![
        c.operator_registry,
        c.stake_vault,
        c.allocation_manager,
        lens,
    ];
    assert_eq!(
        deployment.assets.len(),
        3,
        "WETH, WBTC, USDC on a local chain"
    );
    addresses.extend(deployment.assets.values());
    for address in addresses {
        let code = provider.get_code_at(address).await.expect("eth_getCode");
        assert!(!code.is_empty(), "no code at {address}");
    }
    let vault = StakeVault::new(c.stake_vault, &provider);
    assert_eq!(
        vault.slasher().call().await.expect("slasher()"),
        c.allocation_manager
    );
    assert_eq!(
        vault.escrowDelay().call().await.expect("escrowDelay()"),
        U48::from(604_800)
    );

    // The README's cast lines: those for any deployment run as printed on this fresh one; those that need a pool
    // revert with UnknownPool(1), as it says.
    let file = out.join("31337.json");
    let url = anvil.endpoint();
    for line in common::readme_commands("On any deployment") {
        let command = common::for_deployment(&line, &file, &url);
        let ran = common::sh(&command);
        assert!(common::answered(&ran), "{command}\n{}", common::text(&ran));
    }
    for line in common::readme_commands("Once a pool exists") {
        let command = common::for_deployment(&line, &file, &url);
        let ran = common::sh(&command);
        assert!(!common::answered(&ran), "{command}");
        // As the README says: UnknownPool(1), which cast prints as its selector.
        let said = common::text(&ran);
        let unknown_pool = format!(
            "0x{}",
            alloy::primitives::hex::encode(
                &alloy::primitives::keccak256("UnknownPool(uint256)")[..4]
            )
        );
        assert_eq!(unknown_pool, "0x4fd97f14");
        assert!(
            said.contains(&format!("custom error {unknown_pool}")),
            "{command}\n{said}"
        );
    }

    // A second deployment on the same chain never overwrites the first silently: the first is kept beside it.
    // `--json` prints exactly what the new file holds (ABIs, enums, errors, the lens), the message on stderr.
    let again = deploy_to(&anvil.endpoint(), &out, &["--json"]);
    let printed = String::from_utf8_lossy(&again.stdout);
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{said}");
    assert!(
        said.contains("it held an earlier deployment on chain 31337: kept as"),
        "{said}"
    );
    let written = std::fs::read_to_string(&file).expect("the new file");
    assert_eq!(printed, written);
    let printed: serde_json::Value = serde_json::from_str(&printed).expect("JSON");
    for key in ["abis", "enums", "errors"] {
        assert!(printed.get(key).is_some(), "{key} missing from --json");
    }
    assert!(printed["contracts"]["AllocationLens"].is_string());
    let kept: Vec<_> = std::fs::read_dir(&out)
        .expect("the folder")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("31337.") && n != "31337.json")
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let first = std::fs::read_to_string(out.join(&kept[0])).expect("the kept file");
    assert_eq!(first, text, "the earlier deployment, unchanged");
}

#[test]
fn requires_a_key_off_the_local_chain() {
    let anvil = Anvil::at(bulkhead_evm::anvil_binary()).chain_id(1).spawn();
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("deploy-{}", anvil.port()));
    let output = deploy_to(&anvil.endpoint(), &out, &[]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "an error, as in every command"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("pass --private-key"), "{stderr}");
    assert!(!out.join("1.json").exists());
}

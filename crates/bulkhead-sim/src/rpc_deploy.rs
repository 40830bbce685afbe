//! Deploys the Bulkhead system to a node over JSON-RPC (plain HTTP) with a local signer, the way
//! `script/Deploy.s.sol` does, and describes it with the same `deployments/<chainId>.json` schema.

use std::collections::BTreeMap;

use alloy::{
    network::{EthereumWallet, ReceiptResponse},
    primitives::{Address, aliases::U48},
    providers::{Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use bulkhead_contracts::{AllocationManager, MockERC20, OperatorRegistry, StakeVault};
use eyre::{Result, WrapErr, bail, ensure};
use serde::{Deserialize, Serialize};

use crate::deploy::DeployConfig;

/// Chain id of a local anvil node: the only chain with a default key and demo tokens.
pub const LOCAL_CHAIN_ID: u64 = 31_337;

/// Anvil's first dev account key, used when no key is given on [`LOCAL_CHAIN_ID`].
pub const ANVIL_DEV_KEY: &str =
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// `deployments/<chainId>.json`, key for key what `script/Deploy.s.sol` writes, plus what a dApp needs without forge
/// when `bulkhead deploy` or `bulkhead demo --keep` wrote it (decimals, ABI files, enum values, custom errors).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// Chain id of the node.
    pub chain_id: u64,
    /// Latest block before the first deployment transaction.
    pub block: u64,
    /// Withdrawal escrow of the vault, in seconds.
    pub escrow_delay: u64,
    /// Allocation delay of the manager, in seconds.
    pub allocation_delay: u64,
    /// Deallocation delay of the manager, in seconds.
    pub deallocation_delay: u64,
    /// Execution window of vetoable slashes, in seconds.
    pub execution_window: u64,
    /// Owner of the vault and the manager (the deployer).
    #[serde(with = "checksummed")]
    pub owner: Address,
    /// Guardian of the vault (the deployer).
    #[serde(with = "checksummed")]
    pub guardian: Address,
    /// The core contracts.
    pub contracts: Contracts,
    /// Allowlisted demo tokens by symbol (WETH, WBTC, USDC); empty except on a local chain.
    #[serde(with = "checksummed::map")]
    pub assets: BTreeMap<String, Address>,
    /// Contract name to its forge artifact (`out/Name.sol/Name.json`), which holds the ABI.
    pub artifacts: BTreeMap<String, String>,
    /// Decimals of each token in `assets`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub decimals: BTreeMap<String, u8>,
    /// Contract name to its JSON ABI, relative to this file (written beside it; no forge needed).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub abis: BTreeMap<String, String>,
    /// Solidity enums as their `uint8` values (`Mode`: None 0, Isolated 1, Shared 2; ...): ABIs carry no names.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub enums: BTreeMap<String, BTreeMap<String, u8>>,
    /// Every custom error of the contracts, with its selector, for reading reverts without a signature database.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<CustomError>,
}

/// A custom error: its canonical signature, 4-byte selector, and the contracts whose ABI declares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomError {
    /// `Name(type,...)`.
    pub signature: String,
    /// `0x` and 8 hex digits.
    pub selector: String,
    /// Declaring contracts.
    pub contracts: Vec<String>,
}

impl Deployment {
    /// The delays the system was deployed with.
    pub fn config(&self) -> DeployConfig {
        DeployConfig {
            escrow_delay: self.escrow_delay,
            allocation_delay: self.allocation_delay,
            deallocation_delay: self.deallocation_delay,
            execution_window: self.execution_window,
            ..DeployConfig::default()
        }
    }

    /// Reads a `deployments/<chainId>.json` file.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).wrap_err_with(|| {
            format!(
                "reading the deployment file {}: deploy first with `bulkhead deploy --rpc-url URL` (or `make deploy-local`)",
                path.display()
            )
        })?;
        serde_json::from_str(&text).map_err(|e| {
            eyre::eyre!(
                "{}:{}:{}: not a deployment file: {e}",
                path.display(),
                e.line(),
                e.column()
            )
        })
    }
}

/// Addresses written in their EIP-55 form, as `script/Deploy.s.sol` writes them; any case is read.
mod checksummed {
    use alloy::primitives::Address;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(address: &Address, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&address.to_checksum(None))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Address, D::Error> {
        Address::deserialize(d)
    }

    pub mod map {
        use std::collections::BTreeMap;

        use alloy::primitives::Address;
        use serde::{Deserialize, Deserializer, Serializer, ser::SerializeMap};

        pub fn serialize<S: Serializer>(
            map: &BTreeMap<String, Address>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            let mut out = s.serialize_map(Some(map.len()))?;
            for (key, address) in map {
                out.serialize_entry(key, &address.to_checksum(None))?;
            }
            out.end()
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<BTreeMap<String, Address>, D::Error> {
            BTreeMap::deserialize(d)
        }
    }
}

/// Addresses of the core contracts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contracts {
    /// `OperatorRegistry`.
    #[serde(rename = "OperatorRegistry")]
    #[serde(with = "checksummed")]
    pub operator_registry: Address,
    /// `StakeVault`; its slasher is the manager.
    #[serde(rename = "StakeVault")]
    #[serde(with = "checksummed")]
    pub stake_vault: Address,
    /// `AllocationManager`.
    #[serde(rename = "AllocationManager")]
    #[serde(with = "checksummed")]
    pub allocation_manager: Address,
}

fn succeeded(receipt: impl ReceiptResponse, what: &str) -> Result<()> {
    ensure!(
        receipt.status(),
        "{what} reverted (tx {})",
        receipt.transaction_hash()
    );
    Ok(())
}

/// Deploys registry, vault and manager from `config`'s delays with the signer of `private_key` as owner and
/// guardian, makes the manager the vault's slasher and, on [`LOCAL_CHAIN_ID`], deploys and allowlists demo WETH (18),
/// WBTC (8) and USDC (6). Without a key it signs with [`ANVIL_DEV_KEY`], which only a local chain accepts.
pub async fn deploy_rpc(
    rpc_url: &str,
    private_key: Option<&str>,
    config: &DeployConfig,
) -> Result<Deployment> {
    let url = rpc_url
        .parse()
        .wrap_err_with(|| format!("invalid RPC URL {rpc_url}"))?;
    let chain_id = ProviderBuilder::new()
        .connect_http(url)
        .get_chain_id()
        .await
        .wrap_err_with(|| format!("reading the chain id from {rpc_url}"))?;
    let local = chain_id == LOCAL_CHAIN_ID;
    let key = match private_key {
        Some(key) => key,
        None if local => ANVIL_DEV_KEY,
        None => bail!("chain {chain_id} is not a local anvil chain: pass --private-key"),
    };
    let signer: PrivateKeySigner = key.parse().wrap_err("invalid private key")?;
    let owner = signer.address();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(rpc_url.parse()?);
    let block = provider.get_block_number().await?;

    let registry = OperatorRegistry::deploy_builder(&provider)
        .deploy()
        .await
        .wrap_err("deploying OperatorRegistry")?;
    let vault = StakeVault::deploy_builder(
        &provider,
        registry,
        U48::from(config.escrow_delay),
        owner,
        owner,
    )
    .deploy()
    .await
    .wrap_err("deploying StakeVault")?;
    let manager = AllocationManager::deploy_builder(
        &provider,
        vault,
        registry,
        owner,
        U48::from(config.allocation_delay),
        U48::from(config.deallocation_delay),
        U48::from(config.execution_window),
    )
    .deploy()
    .await
    .wrap_err("deploying AllocationManager")?;
    let stake_vault = StakeVault::new(vault, &provider);
    let receipt = stake_vault
        .setSlasher(manager)
        .send()
        .await?
        .get_receipt()
        .await?;
    succeeded(receipt, "StakeVault.setSlasher")?;

    let mut assets = BTreeMap::new();
    let mut decimals_of = BTreeMap::new();
    if local {
        for (name, symbol, decimals) in bulkhead_contracts::DEMO_TOKENS {
            let token = MockERC20::deploy_builder(&provider, name.into(), symbol.into(), decimals)
                .deploy()
                .await
                .wrap_err_with(|| format!("deploying {symbol}"))?;
            let receipt = stake_vault
                .setAssetAllowed(token, true)
                .send()
                .await?
                .get_receipt()
                .await?;
            succeeded(receipt, &format!("allowlisting {symbol}"))?;
            assets.insert(symbol.to_string(), token);
            decimals_of.insert(symbol.to_string(), decimals);
        }
    }

    let artifacts = [
        "OperatorRegistry",
        "StakeVault",
        "AllocationManager",
        "DoubleSignSlasher",
        "CommitteeSlasher",
        "MockERC20",
    ]
    .into_iter()
    .map(|name| (name.to_string(), format!("out/{name}.sol/{name}.json")))
    .collect();
    Ok(Deployment {
        chain_id,
        block,
        escrow_delay: config.escrow_delay,
        allocation_delay: config.allocation_delay,
        deallocation_delay: config.deallocation_delay,
        execution_window: config.execution_window,
        owner,
        guardian: owner,
        contracts: Contracts {
            operator_registry: registry,
            stake_vault: vault,
            allocation_manager: manager,
        },
        assets,
        artifacts,
        decimals: decimals_of,
        abis: BTreeMap::new(),
        enums: BTreeMap::new(),
        errors: Vec::new(),
    })
}

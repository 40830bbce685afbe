//! Deploys the Bulkhead system to a node over JSON-RPC (plain HTTP) with a local signer, the way
//! `script/Deploy.s.sol` does, and describes it with the same `deployments/<chainId>.json` schema.

use std::collections::BTreeMap;

use alloy::{
    network::{EthereumWallet, ReceiptResponse},
    primitives::aliases::U48,
    providers::{Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use bulkhead_contracts::{AllocationManager, MockERC20, OperatorRegistry, StakeVault};
use eyre::{Result, WrapErr, ensure};

use crate::deployment::{Contracts, DeployConfig, Deployment};

/// Chain id of a local anvil node: the only chain with a default key and demo tokens.
pub const LOCAL_CHAIN_ID: u64 = 31_337;

/// Anvil's first dev account key, used when no key is given on [`LOCAL_CHAIN_ID`].
pub const ANVIL_DEV_KEY: &str =
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

fn succeeded(receipt: impl ReceiptResponse, what: &str) -> Result<()> {
    ensure!(
        receipt.status(),
        "{what} reverted (tx {})",
        receipt.transaction_hash()
    );
    Ok(())
}

/// No deployer key was given and the chain is not a local anvil chain, where anvil's first dev key is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("chain {chain_id} is not a local anvil chain (31337): a deployer key is needed")]
pub struct KeyNeeded {
    /// The chain the node reported.
    pub chain_id: u64,
}

/// Deploys registry, vault and manager from `config`'s delays with the signer of `private_key` as owner and
/// guardian, makes the manager the vault's slasher and, on [`LOCAL_CHAIN_ID`], deploys and allowlists demo WETH (18),
/// WBTC (8) and USDC (6). Without a key it signs with [`ANVIL_DEV_KEY`], which only a local chain accepts.
/// Without a key on another chain: a [`KeyNeeded`] (`err.downcast_ref::<KeyNeeded>()`).
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
        None => return Err(eyre::Report::new(KeyNeeded { chain_id })),
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

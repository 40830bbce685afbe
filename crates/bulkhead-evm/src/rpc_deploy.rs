//! Deploys the Bulkhead system to a node over JSON-RPC (plain HTTP) with a local signer, the way
//! `script/Deploy.s.sol` does, and describes it with the same `deployments/<chainId>.json` schema.

use std::collections::BTreeMap;

use crate::{
    deployment::{Contracts, DeployConfig, Deployment},
    error::{DeployError, NodeError},
};
use alloy::{
    network::{EthereumWallet, ReceiptResponse},
    primitives::{Address, aliases::U48},
    providers::{Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use bulkhead_contracts::{
    AllocationManager, MockERC20, OperatorRegistry, Reputation, RewardRail, SecurityMarket,
    StakeVault,
};

pub use crate::error::KeyNeeded;

/// Chain id of a local anvil node: the only chain with a default key and demo tokens.
pub const LOCAL_CHAIN_ID: u64 = 31_337;

/// Anvil's first dev account key, used when no key is given on [`LOCAL_CHAIN_ID`].
pub const ANVIL_DEV_KEY: &str =
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// The node at `url`, for naming the step of a deployment that failed there.
struct Steps<'a> {
    url: &'a str,
}

impl Steps<'_> {
    /// A failed request of `step`.
    fn failed<E: Into<crate::error::Cause>>(
        &self,
        step: impl Into<String>,
    ) -> impl FnOnce(E) -> DeployError {
        let (url, step) = (self.url.to_string(), step.into());
        move |e| DeployError::Rpc {
            url,
            step,
            cause: e.into(),
        }
    }

    /// Sends a wiring transaction of `step` and waits for it: it must be mined and succeed.
    async fn wire<P: Provider, C: alloy::sol_types::SolCall>(
        &self,
        call: alloy::contract::SolCallBuilder<P, C>,
        step: &str,
    ) -> Result<(), DeployError> {
        let receipt = call
            .send()
            .await
            .map_err(self.failed(step))?
            .get_receipt()
            .await
            .map_err(self.failed(step))?;
        self.succeeded(receipt, step)
    }

    /// A mined transaction of `step` that must have succeeded.
    fn succeeded(&self, receipt: impl ReceiptResponse, step: &str) -> Result<(), DeployError> {
        if receipt.status() {
            return Ok(());
        }
        Err(DeployError::TxReverted {
            url: self.url.to_string(),
            step: step.to_string(),
            tx: receipt.transaction_hash().to_string(),
        })
    }
}

/// Deploys registry, vault and manager from `config`'s delays with the signer of `private_key` as owner and
/// guardian, makes the manager the vault's slasher, deploys reputation, the reward rail and the security market (the
/// rail wired to the vault and the market) and, on [`LOCAL_CHAIN_ID`], deploys and allowlists demo WETH (18),
/// WBTC (8) and USDC (6). Without a key it signs with [`ANVIL_DEV_KEY`], which only a local chain accepts.
/// Without a key on another chain: [`DeployError::KeyNeeded`].
pub async fn deploy_rpc(
    rpc_url: &str,
    private_key: Option<&str>,
    config: &DeployConfig,
) -> Result<Deployment, DeployError> {
    let url: alloy::transports::http::reqwest::Url =
        rpc_url.parse().map_err(|_| NodeError::InvalidUrl {
            url: rpc_url.to_string(),
        })?;
    let steps = Steps { url: rpc_url };
    let chain_id = ProviderBuilder::new()
        .connect_http(url.clone())
        .get_chain_id()
        .await
        .map_err(steps.failed("reading the chain id"))?;
    let local = chain_id == LOCAL_CHAIN_ID;
    let key = match private_key {
        Some(key) => key,
        None if local => ANVIL_DEV_KEY,
        None => return Err(KeyNeeded { chain_id }.into()),
    };
    let signer: PrivateKeySigner = key.parse().map_err(|_| DeployError::BadKey)?;
    let owner = signer.address();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(url);
    let block = provider
        .get_block_number()
        .await
        .map_err(steps.failed("reading the block number"))?;

    let registry = OperatorRegistry::deploy_builder(&provider)
        .deploy()
        .await
        .map_err(steps.failed("deploying OperatorRegistry"))?;
    let vault = StakeVault::deploy_builder(
        &provider,
        registry,
        U48::from(config.escrow_delay),
        owner,
        owner,
    )
    .deploy()
    .await
    .map_err(steps.failed("deploying StakeVault"))?;
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
    .map_err(steps.failed("deploying AllocationManager"))?;
    let stake_vault = StakeVault::new(vault, &provider);
    steps
        .wire(stake_vault.setSlasher(manager), "StakeVault.setSlasher")
        .await?;

    let (assets, decimals_of) = if local {
        demo_tokens(&provider, &stake_vault, &steps).await?
    } else {
        (BTreeMap::new(), BTreeMap::new())
    };

    // Last, as in the engine: reputation is deployed but off until the owner names it to the manager.
    let reputation = Reputation::deploy_builder(
        &provider,
        manager,
        vault,
        owner,
        u32::try_from(config.epoch_length).unwrap_or(u32::MAX),
        U48::from(config.deallocation_delay),
    )
    .deploy()
    .await
    .map_err(steps.failed("deploying Reputation"))?;

    // The rail and the market, wired as in the engine: the rail is the vault's reward hooks and the market pays
    // through it.
    let rail = RewardRail::deploy_builder(&provider, vault, owner)
        .deploy()
        .await
        .map_err(steps.failed("deploying RewardRail"))?;
    let market =
        SecurityMarket::deploy_builder(&provider, manager, vault, registry, rail, reputation)
            .deploy()
            .await
            .map_err(steps.failed("deploying SecurityMarket"))?;
    steps
        .wire(stake_vault.setRail(rail), "StakeVault.setRail")
        .await?;
    steps
        .wire(
            RewardRail::new(rail, &provider).setMarket(market),
            "RewardRail.setMarket",
        )
        .await?;

    let artifacts = [
        "OperatorRegistry",
        "StakeVault",
        "AllocationManager",
        "DoubleSignSlasher",
        "CommitteeSlasher",
        "MockERC20",
        "Reputation",
        "RewardRail",
        "SecurityMarket",
        "OperatorDesk",
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
            reputation: Some(reputation),
            allocation_lens: Some(bulkhead_contracts::lens_of(manager)),
            reward_rail: Some(rail),
            security_market: Some(market),
        },
        assets,
        artifacts,
        decimals: decimals_of,
        abis: BTreeMap::new(),
        enums: BTreeMap::new(),
        errors: Vec::new(),
    })
}

/// Deploys WETH (18), WBTC (8) and USDC (6) mocks and allowlists them in the vault: their addresses and decimals.
async fn demo_tokens<P: Provider>(
    provider: &P,
    stake_vault: &StakeVault::StakeVaultInstance<&P>,
    steps: &Steps<'_>,
) -> Result<(BTreeMap<String, Address>, BTreeMap<String, u8>), DeployError> {
    let mut assets = BTreeMap::new();
    let mut decimals_of = BTreeMap::new();
    for (name, symbol, decimals) in bulkhead_contracts::DEMO_TOKENS {
        let token = MockERC20::deploy_builder(provider, name.into(), symbol.into(), decimals)
            .deploy()
            .await
            .map_err(steps.failed(format!("deploying {symbol}")))?;
        steps
            .wire(
                stake_vault.setAssetAllowed(token, true),
                &format!("allowlisting {symbol}"),
            )
            .await?;
        assets.insert(symbol.to_string(), token);
        decimals_of.insert(symbol.to_string(), decimals);
    }
    Ok((assets, decimals_of))
}

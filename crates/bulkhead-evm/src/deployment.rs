//! What a deployment is: the delays it was made with (`DeployConfig`) and the `deployments/<chainId>.json` file that
//! describes one on a chain (`Deployment`). Shared by the in-memory deployment (`deploy.rs`) and the one over
//! JSON-RPC (`rpc_deploy.rs`), which depend on this module and not on each other.

use std::collections::BTreeMap;

use alloy::primitives::Address;
use serde::{Deserialize, Serialize};

use crate::error::DeployError;

/// One day in seconds.
pub const DAY: u64 = 86_400;

/// Parameters of a deployment. The defaults are the Solidity fixtures': 7-day escrow, allocation delay 1 day,
/// deallocation delay 3 days, execution window 1 day.
#[derive(Debug, Clone)]
pub struct DeployConfig {
    /// Withdrawal escrow of the vault, in seconds.
    pub escrow_delay: u64,
    /// Seconds before an allocation increase becomes slashable.
    pub allocation_delay: u64,
    /// Seconds a decreased allocation stays slashable.
    pub deallocation_delay: u64,
    /// Seconds a vetoable slash request stays executable after its veto window.
    pub execution_window: u64,
    /// Seconds per reputation epoch (the rating's clock), in [1 day, 30 days].
    pub epoch_length: u64,
    /// Actor that deploys and owns the vault and the manager.
    pub owner: String,
    /// Actor that can pause the vault.
    pub guardian: String,
}

impl Default for DeployConfig {
    fn default() -> Self {
        Self {
            escrow_delay: 7 * DAY,
            allocation_delay: DAY,
            deallocation_delay: 3 * DAY,
            execution_window: DAY,
            epoch_length: 7 * DAY,
            owner: "owner".to_string(),
            guardian: "guardian".to_string(),
        }
    }
}

/// `deployments/<chainId>.json`, key for key what `script/Deploy.s.sol` writes, plus what a dApp needs without forge
/// when `bulkhead deploy` or `bulkhead demo --keep` wrote it (the lens's address, decimals, ABI files, enum values,
/// custom errors).
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
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Self, DeployError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|cause| DeployError::Read {
            path: path.to_path_buf(),
            cause,
        })?;
        serde_json::from_str(&text).map_err(|cause| DeployError::Parse {
            path: path.to_path_buf(),
            line: cause.line(),
            column: cause.column(),
            cause,
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
    /// `Reputation` (issue 16), off until the owner names it to the manager; absent from older deployment files.
    #[serde(
        rename = "Reputation",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub reputation: Option<Address>,
    /// `AllocationLens`, the views kept out of the manager's bytecode (`allocationOf`, `avsBacking`, ...), which the
    /// manager creates (`AllocationManager.lens()`); written by `bulkhead deploy` and `bulkhead demo --keep`, absent
    /// from older deployment files and from `script/Deploy.s.sol`'s.
    #[serde(
        rename = "AllocationLens",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub allocation_lens: Option<Address>,
    /// `RewardRail` (issue 17), the vault's reward hooks; absent from older deployment files and from
    /// `script/Deploy.s.sol`'s.
    #[serde(
        rename = "RewardRail",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub reward_rail: Option<Address>,
    /// `SecurityMarket` (issue 17), paying through the rail; absent from older deployment files and from
    /// `script/Deploy.s.sol`'s.
    #[serde(
        rename = "SecurityMarket",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub security_market: Option<Address>,
}

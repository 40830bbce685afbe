//! The EVM under the Bulkhead harness: the real contract bytecode in revm with an in-memory database (fresh, or
//! forked from a node at a block), or on an anvil node over JSON-RPC, driven the same way.
//!
//! ```
//! use bulkhead_evm::{DeployConfig, Engine, System};
//! use bulkhead_contracts::{MockERC20, StakeVault};
//!
//! let mut engine = Engine::default();
//! let system = System::deploy(&mut engine, &DeployConfig::default())?;
//! let alice = engine.actor("alice");
//! let amount = system.weth.units(500);
//! engine.send(alice, system.weth.address, MockERC20::mintCall { to: alice, amount })?;
//! let held = engine.view(system.weth.address, MockERC20::balanceOfCall { account: alice })?;
//! assert_eq!(held, amount);
//! assert!(engine.view(system.vault, StakeVault::getAssetCall { asset: system.weth.address })?.allowed);
//! # Ok::<(), eyre::Report>(())
//! ```
//!
//! Protocol actions (deposit, allocate, slash, …) are the verbs of `bulkhead-protocol`, on top of this crate.
//!
//! - [`engine`]: transactions (`send`, `exec`, `expect_revert`, `view`), time (`warp`), snapshots.
//! - [`actors`]: named actors at forge's `makeAddr` addresses, labels.
//! - [`decode`]: reverts and logs decoded against every contract's errors and events.
//! - [`error`]: what can fail, typed ([`EngineError`], [`NodeError`], [`DeployError`]).
//! - [`deployment`]: what a deployment is (`DeployConfig`, `deployments/<chainId>.json`).
//! - [`deploy`]: the system as the Solidity fixtures deploy it, in the engine.
//! - [`rpc_deploy`]: the same system deployed to a node over HTTP.
//! - [`fork`]: the database under the engine: empty, or a node read at a fixed block.

pub mod actors;
pub mod decode;
pub mod deploy;
pub mod deployment;
pub mod engine;
pub mod error;
pub mod fork;
mod node;
pub mod rpc_deploy;

pub use actors::{Actors, address_of, private_key_of, signer_of};
pub use decode::{
    BulkheadError, BulkheadEvent, DecodedEvent, ErrorKind, Revert, decode_log, decode_revert,
};
pub use deploy::{System, Token};
pub use deployment::{Contracts, CustomError, DAY, DeployConfig, Deployment};
pub use engine::{ETHER, Engine, EngineConfig, OpcodeCounts, Receipt, Sender, Snapshot};
pub use error::{DeployError, EngineError, NodeError};
pub use node::anvil_binary;
pub use rpc_deploy::{ANVIL_DEV_KEY, KeyNeeded, LOCAL_CHAIN_ID, deploy_rpc};

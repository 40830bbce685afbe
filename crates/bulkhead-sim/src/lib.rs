//! Bulkhead's embedded engine: the real contract bytecode deployed into revm with an in-memory database.
//!
//! ```
//! use bulkhead_sim::{DeployConfig, Engine, System};
//! use bulkhead_contracts::StakeVault;
//!
//! let mut engine = Engine::default();
//! let system = System::deploy(&mut engine, &DeployConfig::default())?;
//! let op = system.register_operator(&mut engine, "operatorA", "keyA")?;
//! let (pool, _) = system.deposit(&mut engine, "alice", op, system.weth.address, system.weth.units(500))?;
//! let view = engine.view(system.vault, StakeVault::getPoolCall { poolId: pool })?;
//! assert_eq!(view.slashableAssets, system.weth.units(500));
//! # Ok::<(), eyre::Report>(())
//! ```
//!
//! - [`engine`]: transactions (`send`, `exec`, `expect_revert`, `view`), time (`warp`), snapshots.
//! - [`bench`]: the benchmark's chained-slash scenario, the same on every engine.
//! - [`actors`]: named actors at forge's `makeAddr` addresses, labels.
//! - [`decode`]: reverts and logs decoded against every contract's errors and events.
//! - [`deploy`]: the system as the Solidity fixtures deploy it.
//! - [`fork`]: the database under the engine: empty, or a node read at a fixed block.
//! - [`rpc_deploy`]: the same system deployed to a node over HTTP, described as `deployments/<chainId>.json`.
//! - [`scenario`]: declarative TOML scenarios run on the engine, with located errors and a report.

pub mod actors;
pub mod bench;
pub mod decode;
pub mod deploy;
pub mod deployment;
pub mod engine;
pub mod fork;
mod node;
pub mod rpc_deploy;
pub mod scenario;
pub mod stress;

pub use actors::{Actors, address_of, private_key_of, signer_of};
pub use decode::{BulkheadError, BulkheadEvent, DecodedEvent, Revert, decode_log, decode_revert};
pub use deploy::{System, Token};
pub use deployment::{Contracts, CustomError, DAY, DeployConfig, Deployment};
pub use engine::{ETHER, Engine, EngineConfig, OpcodeCounts, Receipt, Sender, Snapshot, revert_of};
pub use node::anvil_binary;
pub use rpc_deploy::{ANVIL_DEV_KEY, LOCAL_CHAIN_ID, deploy_rpc};

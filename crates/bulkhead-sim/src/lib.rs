//! The Bulkhead harness on top of the engine (`bulkhead-evm`, re-exported here): scenarios, the benchmark scenario and
//! the stress runner with its Rust model of the accounting.
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
//! - [`scenario`]: declarative TOML scenarios run on the engine, with located errors and a report.
//! - [`stress`]: random scenarios on the real bytecode checked step by step against a Rust model.
//! - [`bench`]: the benchmark's chained-slash scenario, the same on every engine.
//! - from `bulkhead-evm`: [`engine`], [`actors`], [`decode`], [`deployment`], [`deploy`], [`rpc_deploy`], [`fork`].

pub mod bench;
pub mod scenario;
pub mod stress;

// The engine lives in `bulkhead-evm`; its modules and names are re-exported so that the harness reads as one API.
pub use bulkhead_evm::{
    ANVIL_DEV_KEY, Actors, BulkheadError, BulkheadEvent, Contracts, CustomError, DAY, DecodedEvent,
    DeployConfig, Deployment, ETHER, Engine, EngineConfig, LOCAL_CHAIN_ID, OpcodeCounts, Receipt,
    Revert, Sender, Snapshot, System, Token, actors, address_of, anvil_binary, decode, decode_log,
    decode_revert, deploy, deploy_rpc, deployment, engine, fork, private_key_of, revert_of,
    rpc_deploy, signer_of,
};

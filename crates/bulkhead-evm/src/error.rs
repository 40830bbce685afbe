//! What can go wrong under the harness, typed as revm's `EVMError` and alloy's transport errors are: callers match
//! on variants (a revert carries its decoded [`Revert`]), never on message text.
//!
//! - [`EngineError`]: one transaction, view, deployment or snapshot of the [`Engine`](crate::Engine).
//! - [`NodeError`]: the JSON-RPC node underneath (anvil, or the node a fork reads).
//! - [`DeployError`]: deploying or attaching the Bulkhead system, and reading a deployment file.
//!
//! Each message carries its cause's text (one line, as a user reads it), so causes are fields, not `source()`.

use std::{error::Error as StdError, path::PathBuf};

use alloy::primitives::Address;

use crate::decode::Revert;

/// A boxed cause from a dependency (a transport error, a signer's parse error).
pub type Cause = Box<dyn StdError + Send + Sync>;

/// A failed transaction, view, deployment or snapshot. `call` reads `from -> Contract.signature(...)`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The contract refused: the revert decoded against every Bulkhead ABI. Nothing changed.
    #[error("{call} reverted: {revert}")]
    Reverted {
        /// The call that reverted.
        call: String,
        /// The decoded revert; boxed, as the happy path should not pay for its size.
        revert: Box<Revert>,
    },
    /// [`Engine::expect_revert`](crate::Engine::expect_revert) saw the call succeed (and it was committed).
    #[error("expected {call} to revert, but it succeeded")]
    DidNotRevert {
        /// The call that succeeded.
        call: String,
    },
    /// The EVM stopped the call without a revert (out of gas, an invalid opcode, a stack overflow).
    #[error("{call} halted: {reason}")]
    Halted {
        /// The call.
        call: String,
        /// revm's halt reason, with the gas spent.
        reason: String,
    },
    /// The EVM would not run the transaction at all (a bad nonce, a gas limit above the block's).
    #[error("{call}: the EVM refused the transaction: {reason}")]
    InvalidTransaction {
        /// The call.
        call: String,
        /// revm's reason.
        reason: String,
    },
    /// The call succeeded but its return data does not match the ABI the harness was built with: the address
    /// holds another contract (or another version of it).
    #[error(
        "decoding the return data of {call}: {reason} (is the address the contract the call was meant for?)"
    )]
    Decode {
        /// The call.
        call: String,
        /// alloy's decoding error.
        reason: String,
    },
    /// A creation transaction succeeded without creating a contract.
    #[error("deploying {label}: no contract was created")]
    NoContractCreated {
        /// What was being deployed.
        label: String,
    },
    /// The node underneath failed.
    #[error("{call}: {node}")]
    Node {
        /// The call, view or snapshot that needed the node.
        call: String,
        /// What the node did.
        node: NodeError,
    },
    /// A snapshot of one kind of engine (in memory, or a node) was restored on the other kind.
    #[error("a snapshot restores only on the kind of engine that took it (in memory, or a node)")]
    SnapshotKind,
    /// [`Engine::count_opcodes`](crate::Engine::count_opcodes) on a node, whose steps the harness cannot see.
    #[error(
        "opcodes are counted in memory only: count on an in-memory engine or a fork, not on a node"
    )]
    CountingOnNode,
}

impl EngineError {
    /// The decoded revert, when the contract refused.
    pub fn revert(&self) -> Option<&Revert> {
        match self {
            Self::Reverted { revert, .. } => Some(revert),
            _ => None,
        }
    }
}

/// A JSON-RPC node that could not be reached or did not answer as anvil does.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The URL does not parse.
    #[error("invalid RPC URL {url:?}: expected http://host:port, e.g. http://127.0.0.1:8545")]
    InvalidUrl {
        /// What was given.
        url: String,
    },
    /// The runtime for JSON-RPC calls could not start (out of threads or file descriptors).
    #[error("starting the runtime for JSON-RPC calls: {0}")]
    Runtime(std::io::Error),
    /// A request failed: the connection, or an error answer.
    #[error("{what} on {url}: {cause}")]
    Request {
        /// The node.
        url: String,
        /// The request, in words (`evm_snapshot`, `reading account 0x…`).
        what: String,
        /// The transport's or the node's error.
        cause: Cause,
    },
    /// The node has no such block.
    #[error("{url} has no block {block}: name a block the node has")]
    NoBlock {
        /// The node.
        url: String,
        /// The block asked for (`latest`, or a number).
        block: String,
    },
    /// The node refused `anvil_autoImpersonateAccount`: it is not anvil.
    #[error(
        "{url} does not impersonate senders: the node must be anvil (start one with `make anvil`): {cause}"
    )]
    NotAnvil {
        /// The node.
        url: String,
        /// The refusal.
        cause: Cause,
    },
    /// A transaction was accepted but not mined.
    #[error(
        "{url} did not mine the transaction from {from} within 10 s (is automine off?); the node has it as {pending}"
    )]
    NotMined {
        /// The node.
        url: String,
        /// The sender.
        from: Address,
        /// The node's view of the transaction (`eth_getTransactionByHash`).
        pending: String,
    },
    /// A call trace's output is not hex.
    #[error("{url} answered debug_traceTransaction with an output that is not hex: {cause}")]
    BadTrace {
        /// The node.
        url: String,
        /// The parse error.
        cause: Cause,
    },
    /// `evm_revert` refused a snapshot id.
    #[error(
        "{url} could not revert to snapshot {id}: it was taken before a snapshot restored since"
    )]
    SnapshotGone {
        /// The node.
        url: String,
        /// The node's snapshot id.
        id: String,
    },
}

/// Deploying the Bulkhead system (in the engine or over JSON-RPC), attaching to a deployment, or reading its file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeployError {
    /// One step of the deployment failed in the engine.
    #[error("{step}: {cause}")]
    Engine {
        /// The step (`deploying StakeVault`, `allowlisting WETH`).
        step: String,
        /// What the engine said.
        cause: Box<EngineError>,
    },
    /// One step of a deployment over JSON-RPC failed.
    #[error("{step} on {url}: {cause}")]
    Rpc {
        /// The node.
        url: String,
        /// The step.
        step: String,
        /// The transport's, the signer's or the node's error.
        cause: Cause,
    },
    /// A deployment transaction was mined but reverted.
    #[error("{step} reverted on {url} (tx {tx})")]
    TxReverted {
        /// The node.
        url: String,
        /// The step.
        step: String,
        /// The transaction hash.
        tx: String,
    },
    /// The node.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// No deployer key, on a chain other than anvil's.
    #[error(transparent)]
    KeyNeeded(#[from] KeyNeeded),
    /// The private key does not parse.
    #[error("invalid private key: expected 32 bytes of hex, 0x-prefixed")]
    BadKey,
    /// No Bulkhead `StakeVault` answers at the deployment's address.
    #[error(
        "no Bulkhead StakeVault at {vault} on {engine}: is the deployment file for this chain and block? ({cause})"
    )]
    NoVault {
        /// The address in the deployment file.
        vault: Address,
        /// The engine (`node http://…`, `fork …`).
        engine: String,
        /// The failed view.
        cause: Box<EngineError>,
    },
    /// The vault is slashed by another manager than the deployment names.
    #[error(
        "the StakeVault at {vault} is slashed by {slasher}, not by the deployment's AllocationManager {manager}"
    )]
    WrongSlasher {
        /// The vault.
        vault: Address,
        /// Its slasher on chain.
        slasher: Address,
        /// The deployment file's manager.
        manager: Address,
    },
    /// The deployment file cannot be read.
    #[error(
        "reading the deployment file {}: {cause}; deploy first with `bulkhead deploy --rpc-url URL` (or `make deploy-local`)",
        path.display()
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// The read error.
        cause: std::io::Error,
    },
    /// The deployment file is not a deployment.
    #[error("{}:{line}:{column}: not a deployment file: {cause}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Where it went wrong.
        line: usize,
        /// Where it went wrong.
        column: usize,
        /// serde's error.
        cause: serde_json::Error,
    },
}

/// No deployer key was given and the chain is not a local anvil chain, where anvil's first dev key is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("chain {chain_id} is not a local anvil chain (31337): a deployer key is needed")]
pub struct KeyNeeded {
    /// The chain the node reported.
    pub chain_id: u64,
}

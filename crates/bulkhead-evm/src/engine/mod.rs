//! The engine: revm over an in-memory `CacheDB` (empty, or forked from a node), or an anvil node itself, with one
//! committed transaction per call.
//!
//! Every transaction runs at the engine's clock; [`Engine::warp`] moves time (and the block number) forward. In
//! memory, snapshots are copies of the whole state, so restoring one is exact and branches never share state. On a
//! node ([`Engine::connect`]) each transaction is mined in its own block stamped with the engine's clock, and
//! snapshots are the node's (`evm_snapshot` / `evm_revert`).

use alloy::{
    primitives::{Address, Bytes, TxKind, U256},
    sol_types::SolCall,
};
use revm::{database::CacheDB, database_interface::DatabaseRef, primitives::hardfork::SpecId};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tracing::{debug, warn};

mod commit;
mod run;
mod types;

pub use types::{OpcodeCounts, Receipt, Sender};

use commit::Outcome;

use crate::{
    actors::Actors,
    decode::{Revert, decode_revert},
    error::{EngineError, NodeError},
    fork::{ForkPoint, ForkSource, Upstream},
    node::Node,
};

/// What every engine call returns.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// One ether (1e18 wei).
pub const ETHER: u128 = 1_000_000_000_000_000_000;

/// Chain and block parameters of an [`Engine`].
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Chain id, in the cfg and in every transaction (anvil's 31337 by default).
    pub chain_id: u64,
    /// Hard fork. Prague matches `evm_version = "prague"` in foundry.toml.
    pub spec: SpecId,
    /// Block timestamp at start (the Solidity fixtures `vm.warp(1_700_000_000)`).
    pub start_timestamp: u64,
    /// Block number at start.
    pub start_block: u64,
    /// Seconds per block, used by [`Engine::warp`] to advance the block number.
    pub block_time: u64,
    /// Gas limit of each transaction (Prague has no per-transaction cap below the block's).
    pub tx_gas_limit: u64,
    /// Block gas limit.
    pub block_gas_limit: u64,
    /// ETH given to each actor when it is first named.
    pub actor_balance: U256,
    /// Decode and label every log into [`Receipt::events`] (reports and expectations need it). Off, receipts carry
    /// no events: throughput runs that only read return values and views skip the formatting.
    pub decode_events: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            chain_id: 31_337,
            spec: SpecId::PRAGUE,
            start_timestamp: 1_700_000_000,
            start_block: 1,
            block_time: 12,
            tx_gas_limit: 30_000_000,
            block_gas_limit: 30_000_000,
            actor_balance: U256::from(100 * ETHER),
            decode_events: true,
        }
    }
}

/// A saved state of an [`Engine`]: accounts, storage, block, actors and labels.
#[derive(Debug, Clone)]
pub struct Snapshot {
    state: Saved,
    block_number: u64,
    timestamp: u64,
    actors: Arc<Actors>,
}

#[derive(Debug, Clone)]
enum Saved {
    Memory(Arc<CacheDB<Upstream>>),
    /// A slot in the node's list of snapshot ids.
    Node(usize),
}

/// Where the engine's state lives.
#[derive(Debug)]
enum Backend {
    /// revm over an in-memory cache of an empty chain or of a fork. Behind a lock only so that views, which take
    /// `&self`, can lend it to the thread's EVM (see [`THREAD_EVM`]); it is never contended.
    Memory(Mutex<CacheDB<Upstream>>),
    /// An anvil node; clones of the engine share it.
    Node(Arc<Node>),
}

impl Backend {
    fn memory(db: CacheDB<Upstream>) -> Self {
        Self::Memory(Mutex::new(db))
    }
}

impl Clone for Backend {
    fn clone(&self) -> Self {
        match self {
            Self::Memory(db) => Self::memory(lock(db).clone()),
            Self::Node(node) => Self::Node(Arc::clone(node)),
        }
    }
}

/// The database behind its lock. A panic while it was lent leaves it consistent (it is swapped back on unwinding,
/// and the EVM's journal, not the database, holds a transaction's writes until the commit), so a poisoned lock is
/// still usable.
fn lock(db: &Mutex<CacheDB<Upstream>>) -> MutexGuard<'_, CacheDB<Upstream>> {
    db.lock().unwrap_or_else(PoisonError::into_inner)
}

fn get_mut(db: &mut Mutex<CacheDB<Upstream>>) -> &mut CacheDB<Upstream> {
    db.get_mut().unwrap_or_else(PoisonError::into_inner)
}

/// A chain driven by named actors, with decoded reverts and events: revm 43 over a `CacheDB` (fresh or forked), or
/// an anvil node.
///
/// In memory, `Clone` gives an independent branch, like [`Engine::snapshot`]; on a node, clones share the node.
#[derive(Debug, Clone)]
pub struct Engine {
    backend: Backend,
    config: EngineConfig,
    block_number: u64,
    timestamp: u64,
    /// Shared with snapshots until one side names an actor: a restore is then a pointer copy.
    actors: Arc<Actors>,
    /// Set inside [`Engine::count_opcodes`]: every transaction and view runs under revm's counting inspector and
    /// adds what it executed here (a clone made inside counts here too). Behind a lock because views take `&self`.
    counting: Option<Arc<Mutex<OpcodeCounts>>>,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new(EngineConfig::default())
    }
}

impl Engine {
    /// An empty chain.
    pub fn new(config: EngineConfig) -> Self {
        Self {
            backend: Backend::memory(CacheDB::new(Upstream::Empty)),
            block_number: config.start_block,
            timestamp: config.start_timestamp,
            config,
            actors: Arc::default(),
            counting: None,
        }
    }

    /// Forks the chain at `rpc_url` at `block` (the latest when `None`) into memory: state is read from the node
    /// on first use and cached; nothing is ever sent to the node. The clock starts at the block's timestamp, the
    /// chain id is the node's.
    pub fn fork(rpc_url: &str, block: Option<u64>) -> Result<Self, NodeError> {
        let (source, point) = ForkSource::connect(rpc_url, block)?;
        let mut engine = Self::new(Self::config_at(point));
        engine.backend = Backend::memory(CacheDB::new(Upstream::Fork(Arc::new(source))));
        Ok(engine)
    }

    /// Drives the anvil node at `rpc_url`: transactions are mined there, from impersonated actors, at the engine's
    /// clock (which starts at the latest block's timestamp). Every call blocks until the node answers; inside an
    /// async runtime the request runs on a helper thread.
    pub fn connect(rpc_url: &str) -> Result<Self, NodeError> {
        let (node, point) = Node::connect(rpc_url)?;
        let mut engine = Self::new(Self::config_at(point));
        engine.backend = Backend::Node(Arc::new(node));
        Ok(engine)
    }

    fn config_at(point: ForkPoint) -> EngineConfig {
        EngineConfig {
            chain_id: point.chain_id,
            start_block: point.block + 1,
            start_timestamp: point.timestamp,
            ..EngineConfig::default()
        }
    }

    /// `true` when transactions are mined by a node rather than run in memory.
    pub fn is_node(&self) -> bool {
        matches!(self.backend, Backend::Node(_))
    }

    /// Where this engine runs: `memory`, `fork of URL at block N` or `node URL`.
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Memory(db) => match &lock(db).db {
                Upstream::Empty => "memory".to_string(),
                Upstream::Fork(fork) => format!("{fork:?}"),
                Upstream::Frozen(_) => "memory (from a snapshot)".to_string(),
            },
            Backend::Node(node) => format!("node {}", node.rpc_url()),
        }
    }

    /// The configuration this engine was made with.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Turns decoding of logs into [`Receipt::events`] on or off ([`EngineConfig::decode_events`]).
    pub fn set_decode_events(&mut self, on: bool) {
        self.config.decode_events = on;
    }

    /// Runs `f` with every transaction and view of this in-memory engine under revm's counting inspector, and
    /// returns what `f` returned and the EVM instructions it executed, by opcode. For measuring, not for speed: the
    /// inspector sees every step. A node's steps are not visible here, so on a node this is an error.
    pub fn count_opcodes<T, E: From<EngineError>>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, E>,
    ) -> Result<(T, OpcodeCounts), E> {
        if self.is_node() {
            return Err(EngineError::CountingOnNode.into());
        }
        let counts = Arc::new(Mutex::new(OpcodeCounts::default()));
        let outer = self.counting.replace(Arc::clone(&counts));
        let result = f(self);
        self.counting = outer;
        let counts = counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(outer) = &self.counting {
            outer
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .add(&counts.0);
        }
        Ok((result?, counts))
    }

    // ------------------------------------------------------------------ actors and accounts

    /// The actor called `name` (forge's `makeAddr(name)`), funded with [`EngineConfig::actor_balance`] when first
    /// named. Idempotent.
    pub fn actor(&mut self, name: &str) -> Address {
        if let Some(address) = self.actors.get(name) {
            return address;
        }
        let address = Arc::make_mut(&mut self.actors).add(name);
        let balance = self.config.actor_balance;
        self.set_balance(address, balance);
        address
    }

    /// Names and labels known to this engine.
    pub fn actors(&self) -> &Actors {
        &self.actors
    }

    /// Labels `address` (a contract, for instance) for logs and decoded values.
    pub fn label(&mut self, address: Address, label: impl Into<String>) {
        Arc::make_mut(&mut self.actors).set_label(address, label);
    }

    /// The label of `address`, or its checksummed form.
    pub fn name_of(&self, address: Address) -> String {
        self.actors.name_of(address)
    }

    /// Sets the ETH balance of `address`, keeping its nonce, code and storage. On a node that refuses, the refusal
    /// is logged and the next transaction from `address` fails with the node's reason.
    pub fn set_balance(&mut self, address: Address, wei: U256) {
        match &mut self.backend {
            Backend::Memory(db) => {
                let db = get_mut(db);
                let mut info = db.basic_ref(address).ok().flatten().unwrap_or_default();
                info.balance = wei;
                db.insert_account_info(address, info);
            }
            Backend::Node(node) => {
                if let Err(e) = node.set_balance(address, wei) {
                    warn!("funding {address}: {e:#}");
                }
            }
        }
    }

    fn account(&self, address: Address) -> (U256, u64) {
        match &self.backend {
            Backend::Memory(db) => lock(db)
                .basic_ref(address)
                .ok()
                .flatten()
                .map_or((U256::ZERO, 0), |info| (info.balance, info.nonce)),
            Backend::Node(node) => node.account(address).unwrap_or_else(|e| {
                warn!("{e:#}");
                (U256::ZERO, 0)
            }),
        }
    }

    /// The ETH balance of `address`.
    pub fn balance(&self, address: Address) -> U256 {
        self.account(address).0
    }

    /// The nonce of `address`.
    pub fn nonce(&self, address: Address) -> u64 {
        self.account(address).1
    }

    // ------------------------------------------------------------------ time

    /// The current block timestamp.
    pub fn timestamp(&self) -> u64 {
        self.timestamp
    }

    /// The current block number.
    pub fn block_number(&self) -> u64 {
        self.block_number
    }

    /// Moves time forward by `seconds`, and the block number by as many blocks as fit (at least one).
    pub fn warp(&mut self, seconds: u64) {
        self.timestamp += seconds;
        self.block_number += (seconds / self.config.block_time.max(1)).max(1);
        debug!(
            timestamp = self.timestamp,
            block = self.block_number,
            "warp +{seconds}s"
        );
    }

    // ------------------------------------------------------------------ snapshots

    /// Saves the whole state (a copy of the in-memory database, or a node snapshot): an error, never a panic, when
    /// the node refuses.
    pub fn snapshot(&self) -> Result<Snapshot> {
        let state = match &self.backend {
            Backend::Memory(db) => Saved::Memory(Arc::new(lock(db).clone())),
            Backend::Node(node) => {
                Saved::Node(node.snapshot().map_err(|node| EngineError::Node {
                    call: "snapshot".into(),
                    node,
                })?)
            }
        };
        Ok(Snapshot {
            state,
            block_number: self.block_number,
            timestamp: self.timestamp,
            actors: Arc::clone(&self.actors),
        })
    }

    /// Returns to a saved state. The snapshot stays valid and can be restored again (on a node, restoring a
    /// snapshot invalidates the ones taken after it).
    pub fn restore(&mut self, snapshot: &Snapshot) -> Result<()> {
        match (&mut self.backend, &snapshot.state) {
            (Backend::Memory(db), Saved::Memory(saved)) => {
                *get_mut(db) = CacheDB::new(Upstream::Frozen(Arc::clone(saved)));
            }
            (Backend::Node(node), Saved::Node(slot)) => {
                node.restore(*slot).map_err(|node| EngineError::Node {
                    call: "restore".into(),
                    node,
                })?
            }
            _ => return Err(EngineError::SnapshotKind),
        }
        self.block_number = snapshot.block_number;
        self.timestamp = snapshot.timestamp;
        self.actors = Arc::clone(&snapshot.actors);
        Ok(())
    }

    // ------------------------------------------------------------------ transactions

    /// Deploys `initcode` (creation bytecode followed by the ABI-encoded constructor arguments) from `from`, labels
    /// the new contract `label` and returns its address.
    pub fn deploy(&mut self, from: impl Sender, label: &str, initcode: Bytes) -> Result<Address> {
        let from = from.resolve(self);
        match self.commit(from, TxKind::Create, initcode, &|_| {
            format!("deploying {label}")
        })? {
            Outcome::Success {
                created: Some(address),
                gas_used,
                ..
            } => {
                debug!(%address, gas_used, "deployed {label}");
                self.label(address, label);
                Ok(address)
            }
            Outcome::Success { created: None, .. } => Err(EngineError::NoContractCreated {
                label: label.to_string(),
            }),
            Outcome::Revert(revert) => Err(EngineError::Reverted {
                call: format!("deploying {label}"),
                revert: Box::new(revert),
            }),
        }
    }

    /// Sends `call` to `to` as `from` and returns the decoded return value. A revert is
    /// [`EngineError::Reverted`], with the decoded [`Revert`] ([`EngineError::revert`]).
    pub fn send<C: SolCall>(
        &mut self,
        from: impl Sender,
        to: Address,
        call: C,
    ) -> Result<C::Return> {
        self.exec(from, to, call).map(|receipt| receipt.value)
    }

    /// Like [`Engine::send`], with gas used and the decoded events.
    pub fn exec<C: SolCall>(
        &mut self,
        from: impl Sender,
        to: Address,
        call: C,
    ) -> Result<Receipt<C::Return>> {
        let from = from.resolve(self);
        // Labels are looked up only when an error needs them: this is the hot path of every scenario.
        let what = |engine: &Self| engine.describe_call(from, to, C::SIGNATURE);
        let outcome = self.commit(from, TxKind::Call(to), call.abi_encode().into(), &what)?;
        match outcome {
            Outcome::Success {
                output,
                gas_used,
                events,
                ..
            } => {
                let value = C::abi_decode_returns(&output).map_err(|e| EngineError::Decode {
                    call: what(self),
                    reason: e.to_string(),
                })?;
                Ok(Receipt {
                    value,
                    gas_used,
                    events,
                })
            }
            Outcome::Revert(revert) => Err(EngineError::Reverted {
                call: what(self),
                revert: Box::new(revert),
            }),
        }
    }

    /// Sends `call` and expects it to revert: returns the decoded revert, or an error if it succeeded. A revert
    /// changes no state.
    pub fn expect_revert<C: SolCall>(
        &mut self,
        from: impl Sender,
        to: Address,
        call: C,
    ) -> Result<Revert> {
        let from = from.resolve(self);
        let what = |engine: &Self| engine.describe_call(from, to, C::SIGNATURE);
        match self.commit(from, TxKind::Call(to), call.abi_encode().into(), &what)? {
            Outcome::Revert(revert) => Ok(revert),
            Outcome::Success { .. } => Err(EngineError::DidNotRevert { call: what(self) }),
        }
    }

    /// `from -> Contract.signature(...)`, with labels: how errors and logs name a call.
    fn describe_call(&self, from: Address, to: Address, signature: &str) -> String {
        format!("{} -> {}.{signature}", self.name_of(from), self.name_of(to))
    }

    /// Calls a view (or any function, without committing) from the zero address and decodes the result.
    pub fn view<C: SolCall>(&self, to: Address, call: C) -> Result<C::Return> {
        self.view_as(Address::ZERO, to, call)
    }

    /// Calls `call` as `from` without committing anything, and decodes the result.
    pub fn view_as<C: SolCall>(&self, from: Address, to: Address, call: C) -> Result<C::Return> {
        let what = || format!("view {}.{}", self.name_of(to), C::SIGNATURE);
        match self.call_raw(from, to, call.abi_encode().into(), &what)? {
            Ok(output) => C::abi_decode_returns(&output).map_err(|e| EngineError::Decode {
                call: what(),
                reason: e.to_string(),
            }),
            Err(data) => Err(EngineError::Reverted {
                call: what(),
                revert: Box::new(decode_revert(&data, &self.actors)),
            }),
        }
    }
}

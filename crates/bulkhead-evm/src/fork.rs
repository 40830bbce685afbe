//! Where the in-memory database reads what it has not seen yet: nowhere (a fresh chain) or a live node at a fixed
//! block (a fork). A fork never writes to the node: every change stays in the engine's `CacheDB`.

use std::{
    collections::HashMap,
    fmt,
    future::Future,
    sync::{Arc, Mutex, PoisonError},
};

use alloy::{
    eips::BlockId,
    primitives::{Address, B256, U256, keccak256},
    providers::{DynProvider, Provider, ProviderBuilder},
};
use revm::{
    bytecode::Bytecode,
    database::CacheDB,
    database_interface::{DBErrorMarker, DatabaseRef},
    state::AccountInfo,
};
use tracing::{debug, trace};

use crate::error::NodeError;

type Result<T, E = NodeError> = std::result::Result<T, E>;

/// A failed read from the forked node.
#[derive(Debug, Clone)]
pub struct ForkError(String);

impl fmt::Display for ForkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "reading the forked chain: {}", self.0)
    }
}

impl std::error::Error for ForkError {}
impl DBErrorMarker for ForkError {}

/// Runs async provider calls from synchronous code, also from inside another runtime (on a scoped thread then).
#[derive(Debug)]
pub(crate) struct Blocking {
    runtime: tokio::runtime::Runtime,
}

impl Blocking {
    pub(crate) fn new() -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(NodeError::Runtime)?;
        Ok(Self { runtime })
    }

    pub(crate) fn run<F>(&self, future: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|scope| {
                scope
                    .spawn(|| self.runtime.block_on(future))
                    .join()
                    .expect("the JSON-RPC thread panicked")
            })
        } else {
            self.runtime.block_on(future)
        }
    }
}

/// Connects a plain-HTTP provider without fillers: every field of a request is set by the caller.
pub(crate) fn connect(rpc_url: &str) -> Result<DynProvider> {
    let url = rpc_url.parse().map_err(|_| NodeError::InvalidUrl {
        url: rpc_url.to_string(),
    })?;
    Ok(ProviderBuilder::new()
        .disable_recommended_fillers()
        .connect_http(url)
        .erased())
}

/// The chain behind a fork: a node read at one block, with every answer cached.
pub struct ForkSource {
    provider: DynProvider,
    rpc_url: String,
    block: u64,
    blocking: Blocking,
    accounts: Mutex<HashMap<Address, AccountInfo>>,
    storage: Mutex<HashMap<(Address, U256), U256>>,
}

impl fmt::Debug for ForkSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForkSource")
            .field("rpc_url", &self.rpc_url)
            .field("block", &self.block)
            .finish_non_exhaustive()
    }
}

/// What a fork starts from: the node's chain id and the forked block's number and timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForkPoint {
    /// Chain id of the node.
    pub chain_id: u64,
    /// The forked block.
    pub block: u64,
    /// Its timestamp.
    pub timestamp: u64,
}

impl ForkSource {
    /// Connects to `rpc_url` and pins `block` (the latest block when `None`).
    pub fn connect(rpc_url: &str, block: Option<u64>) -> Result<(Self, ForkPoint)> {
        let provider = connect(rpc_url)?;
        let blocking = Blocking::new()?;
        let (chain_id, header) = blocking
            .run(async {
                let chain_id = provider.get_chain_id().await?;
                let id = block.map_or(BlockId::latest(), BlockId::number);
                let header = provider.get_block(id).await?;
                Ok((chain_id, header))
            })
            .map_err(|e: alloy::transports::TransportError| NodeError::Request {
                url: rpc_url.to_string(),
                what: "reading the chain id and block".into(),
                cause: e.into(),
            })?;
        let header = header
            .ok_or_else(|| NodeError::NoBlock {
                url: rpc_url.to_string(),
                block: block.map_or("latest".to_string(), |b| b.to_string()),
            })?
            .header;
        let point = ForkPoint {
            chain_id,
            block: header.number,
            timestamp: header.timestamp,
        };
        debug!(rpc_url, ?point, "forking");
        Ok((
            Self {
                provider,
                rpc_url: rpc_url.to_string(),
                block: point.block,
                blocking,
                accounts: Mutex::default(),
                storage: Mutex::default(),
            },
            point,
        ))
    }

    fn at(&self) -> BlockId {
        BlockId::number(self.block)
    }

    fn fail(&self, what: String) -> impl FnOnce(alloy::transports::TransportError) -> ForkError {
        let url = self.rpc_url.clone();
        move |e| ForkError(format!("{what} from {url}: {e}"))
    }
}

impl DatabaseRef for ForkSource {
    type Error = ForkError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, ForkError> {
        if let Some(info) = self
            .accounts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&address)
        {
            return Ok(Some(info.clone()));
        }
        let (at, provider) = (self.at(), &self.provider);
        let (balance, nonce, code) = self
            .blocking
            .run(async move {
                tokio::try_join!(
                    provider.get_balance(address).block_id(at),
                    provider.get_transaction_count(address).block_id(at),
                    provider.get_code_at(address).block_id(at),
                )
            })
            .map_err(self.fail(format!("account {address}")))?;
        trace!(%address, code = code.len(), "fork: account");
        let code = Bytecode::new_raw(code);
        let info = AccountInfo::new(balance, nonce, code.hash_slow(), code);
        self.accounts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(address, info.clone());
        Ok(Some(info))
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, ForkError> {
        // `basic_ref` returns code with every account, so the cache above never asks for code by hash alone.
        Err(ForkError(format!(
            "code {code_hash} was asked for before its account"
        )))
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, ForkError> {
        if let Some(value) = self
            .storage
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(address, index))
        {
            return Ok(*value);
        }
        let (at, provider) = (self.at(), &self.provider);
        let value = self
            .blocking
            .run(async move { provider.get_storage_at(address, index).block_id(at).await })
            .map_err(self.fail(format!("storage {address}[{index}]")))?;
        self.storage
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((address, index), value);
        Ok(value)
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, ForkError> {
        let provider = &self.provider;
        let block = self
            .blocking
            .run(async move { provider.get_block(BlockId::number(number)).await })
            .map_err(self.fail(format!("block {number}")))?;
        Ok(block.map_or(B256::ZERO, |b| b.header.hash))
    }
}

/// The database under an engine's cache: an empty chain, a fork, or a snapshot.
#[derive(Debug, Clone, Default)]
pub enum Upstream {
    /// Nothing exists until the engine writes it.
    #[default]
    Empty,
    /// A node at a fixed block; shared by snapshots and clones, which only ever read it.
    Fork(Arc<ForkSource>),
    /// A frozen state (a snapshot): restoring puts an empty cache over it, so a restore costs nothing however
    /// large the state, and the snapshot can be restored again.
    Frozen(Arc<CacheDB<Upstream>>),
}

impl DatabaseRef for Upstream {
    type Error = ForkError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, ForkError> {
        match self {
            Self::Empty => Ok(None),
            Self::Fork(fork) => fork.basic_ref(address),
            Self::Frozen(state) => state.basic_ref(address),
        }
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, ForkError> {
        match self {
            Self::Empty => Ok(Bytecode::default()),
            Self::Fork(fork) => fork.code_by_hash_ref(code_hash),
            Self::Frozen(state) => state.code_by_hash_ref(code_hash),
        }
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, ForkError> {
        match self {
            Self::Empty => Ok(U256::ZERO),
            Self::Fork(fork) => fork.storage_ref(address, index),
            Self::Frozen(state) => state.storage_ref(address, index),
        }
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, ForkError> {
        match self {
            Self::Empty => Ok(keccak256(number.to_string().as_bytes())),
            Self::Fork(fork) => fork.block_hash_ref(number),
            Self::Frozen(state) => state.block_hash_ref(number),
        }
    }
}

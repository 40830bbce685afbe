//! An anvil node driven like the in-memory engine: actors are impersonated (`anvil_autoImpersonateAccount`), funded
//! with `anvil_setBalance`, and every transaction is mined in its own block at the engine's clock
//! (`evm_setNextBlockTimestamp`), so the same steps see the same `block.timestamp` on the node as in memory.

use std::{
    fmt,
    sync::{Mutex, PoisonError},
    time::Duration,
};

use alloy::{
    eips::BlockId,
    network::{ReceiptResponse, TransactionBuilder},
    primitives::{Address, Bytes, Log, TxKind, U256},
    providers::{DynProvider, Provider},
    rpc::types::{BlockOverrides, TransactionRequest},
};
use serde_json::{Value, json};
use tracing::{debug, trace};

use crate::{
    error::NodeError,
    fork::{Blocking, ForkPoint, connect},
};

type Result<T> = std::result::Result<T, NodeError>;

/// The anvil executable: the platform binary the npm toolchain installed (`node_modules/@foundry-rs/anvil-*/bin`)
/// in the working directory or a parent, else `anvil` on PATH. Not `node_modules/.bin/anvil`: that is a node
/// launcher, and killing it would leave the real node running.
pub fn anvil_binary() -> std::path::PathBuf {
    let cwd = std::env::current_dir().unwrap_or_default();
    for dir in cwd.ancestors() {
        let Ok(entries) = std::fs::read_dir(dir.join("node_modules/@foundry-rs")) else {
            continue;
        };
        let mut found: Vec<_> = entries
            .filter_map(|entry| entry.ok())
            .filter(|entry| entry.file_name().to_string_lossy().starts_with("anvil-"))
            .map(|entry| entry.path().join("bin/anvil"))
            .filter(|path| path.is_file())
            .collect();
        found.sort();
        if let Some(path) = found.into_iter().next() {
            return path;
        }
    }
    "anvil".into()
}

/// A transaction mined by the node.
#[derive(Debug, Clone)]
pub(crate) struct Mined {
    pub success: bool,
    /// Return data, or revert data when `success` is false.
    pub output: Bytes,
    pub gas_used: u64,
    pub logs: Vec<Log>,
    pub created: Option<Address>,
}

/// A connection to an anvil node.
pub struct Node {
    provider: DynProvider,
    rpc_url: String,
    blocking: Blocking,
    /// Snapshot ids handed out by `evm_snapshot`; anvil forgets an id once reverted to, so restores take a new one.
    snapshots: Mutex<Vec<U256>>,
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("rpc_url", &self.rpc_url)
            .finish_non_exhaustive()
    }
}

/// Impersonation was turned on for this connection's transactions only: a node left with it on would take a
/// transaction from any address.
impl Drop for Node {
    fn drop(&mut self) {
        if let Err(e) = self.rpc::<Value>("anvil_autoImpersonateAccount", json!([false])) {
            debug!(
                "could not switch impersonation off on {}: {e:#}",
                self.rpc_url
            );
        }
    }
}

impl Node {
    /// Connects to the anvil node at `rpc_url` and turns on impersonation of every sender (off again when the
    /// connection is dropped).
    pub(crate) fn connect(rpc_url: &str) -> Result<(Self, ForkPoint)> {
        let request = |what: &str| {
            let (url, what) = (rpc_url.to_string(), what.to_string());
            move |e: alloy::transports::TransportError| NodeError::Request {
                url,
                what,
                cause: e.into(),
            }
        };
        let provider = connect(rpc_url)?;
        let blocking = Blocking::new()?;
        let node = Self {
            provider,
            rpc_url: rpc_url.to_string(),
            blocking,
            snapshots: Mutex::default(),
        };
        let (chain_id, header) = node
            .blocking
            .run(async {
                let chain_id = node.provider.get_chain_id().await?;
                let header = node.provider.get_block(BlockId::latest()).await?;
                Ok((chain_id, header))
            })
            .map_err(request("reading the chain id and latest block"))?;
        let header = header
            .ok_or_else(|| NodeError::NoBlock {
                url: rpc_url.to_string(),
                block: "latest".into(),
            })?
            .header;
        let provider = &node.provider;
        node.blocking
            .run(async move {
                provider
                    .raw_request::<_, Value>("anvil_autoImpersonateAccount".into(), json!([true]))
                    .await
            })
            .map_err(|e| NodeError::NotAnvil {
                url: rpc_url.to_string(),
                cause: e.into(),
            })?;
        Ok((
            node,
            ForkPoint {
                chain_id,
                block: header.number,
                timestamp: header.timestamp,
            },
        ))
    }

    /// The node's URL.
    pub fn rpc_url(&self) -> &str {
        &self.rpc_url
    }

    fn rpc<R>(&self, method: &'static str, params: Value) -> Result<R>
    where
        R: serde::de::DeserializeOwned + fmt::Debug + Send + Sync + Unpin + 'static,
    {
        let provider = &self.provider;
        self.blocking
            .run(async move { provider.raw_request(method.into(), params).await })
            .map_err(|e| self.failed(method, e))
    }

    fn failed(&self, what: impl Into<String>, e: alloy::transports::TransportError) -> NodeError {
        NodeError::Request {
            url: self.rpc_url.clone(),
            what: what.into(),
            cause: e.into(),
        }
    }

    pub(crate) fn set_balance(&self, address: Address, wei: U256) -> Result<()> {
        self.rpc::<Value>("anvil_setBalance", json!([address, wei]))?;
        Ok(())
    }

    pub(crate) fn account(&self, address: Address) -> Result<(U256, u64)> {
        let provider = &self.provider;
        self.blocking
            .run(async move {
                tokio::try_join!(
                    provider.get_balance(address),
                    provider.get_transaction_count(address)
                )
            })
            .map_err(|e| self.failed(format!("reading account {address}"), e))
    }

    /// Mines one transaction at `timestamp` and returns its receipt and output (from a call trace).
    pub(crate) fn send(
        &self,
        from: Address,
        kind: TxKind,
        data: Bytes,
        gas: u64,
        timestamp: u64,
    ) -> Result<Mined> {
        self.rpc::<Value>("evm_setNextBlockTimestamp", json!([timestamp]))?;
        let mut request = TransactionRequest::default()
            .with_from(from)
            .with_input(data)
            .with_gas_limit(gas);
        request = match kind {
            TxKind::Call(to) => request.with_to(to),
            TxKind::Create => request.into_create(),
        };
        let provider = &self.provider;
        let (receipt, trace) = self
            .blocking
            .run(async move {
                // The nonce is the mined state's: after `evm_revert` the pool's idea of a sender's next nonce can run
                // ahead of the chain's, which would park the transaction as a future one.
                let nonce = provider.get_transaction_count(from).latest().await?;
                let hash = *provider
                    .send_transaction(request.with_nonce(nonce))
                    .await?
                    .tx_hash();
                let mut receipt = None;
                for attempt in 0..500u64 {
                    receipt = provider.get_transaction_receipt(hash).await?;
                    if receipt.is_some() {
                        break;
                    }
                    // Anvil's automine now and then leaves a ready transaction in the pool (seen in `bulkhead bench`:
                    // a slash sent after `evm_revert`, with the right nonce and fee, still pending 10 s later). A block
                    // mined on request picks it up, at the timestamp set above, which no block has used yet.
                    if attempt == 60 {
                        debug!(%hash, "not mined after ~1 s: mining a block");
                        provider
                            .raw_request::<_, Value>("evm_mine".into(), json!([]))
                            .await?;
                    }
                    tokio::time::sleep(Duration::from_millis(attempt.min(20))).await;
                }
                if receipt.is_none() {
                    let pending: Value = provider
                        .raw_request("eth_getTransactionByHash".into(), json!([hash]))
                        .await?;
                    return Ok((None, pending));
                }
                let trace: Value = provider
                    .raw_request(
                        "debug_traceTransaction".into(),
                        json!([hash, {"tracer": "callTracer", "tracerConfig": {"onlyTopCall": true}}]),
                    )
                    .await?;
                Ok::<_, alloy::transports::TransportError>((receipt, trace))
            })
            .map_err(|e| self.failed(format!("sending a transaction from {from}"), e))?;
        let Some(receipt) = receipt else {
            return Err(NodeError::NotMined {
                url: self.rpc_url.clone(),
                from,
                pending: trace.to_string(),
            });
        };
        let output = trace
            .get("output")
            .and_then(Value::as_str)
            .map(|hex| hex.parse::<Bytes>())
            .transpose()
            .map_err(|e| NodeError::BadTrace {
                url: self.rpc_url.clone(),
                cause: e.into(),
            })?
            .unwrap_or_default();
        trace!(
            success = receipt.status(),
            gas = receipt.gas_used(),
            "mined"
        );
        Ok(Mined {
            success: receipt.status(),
            output,
            gas_used: receipt.gas_used(),
            logs: receipt
                .inner
                .logs()
                .iter()
                .map(|log| log.inner.clone())
                .collect(),
            created: receipt.contract_address(),
        })
    }

    /// Calls without mining, in a block at `timestamp`. `Ok(Err(data))` is a revert with its data.
    pub(crate) fn call(
        &self,
        from: Address,
        to: Address,
        data: Bytes,
        timestamp: u64,
    ) -> Result<std::result::Result<Bytes, Bytes>> {
        let request = TransactionRequest::default()
            .with_from(from)
            .with_to(to)
            .with_input(data);
        let overrides = BlockOverrides {
            time: Some(timestamp),
            ..Default::default()
        };
        let provider = &self.provider;
        let result = self
            .blocking
            .run(async move { provider.call(request).with_block_overrides(overrides).await });
        match result {
            Ok(output) => Ok(Ok(output)),
            Err(e) => match e.as_error_resp().and_then(|resp| resp.as_revert_data()) {
                Some(data) => Ok(Err(data)),
                None => Err(self.failed(format!("eth_call to {to}"), e)),
            },
        }
    }

    pub(crate) fn snapshot(&self) -> Result<usize> {
        let id: U256 = self.rpc("evm_snapshot", json!([]))?;
        let mut ids = self
            .snapshots
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        ids.push(id);
        Ok(ids.len() - 1)
    }

    pub(crate) fn restore(&self, slot: usize) -> Result<()> {
        // Slots are only handed out by `snapshot`, so one is always there.
        let id = self
            .snapshots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)[slot];
        let reverted: bool = self.rpc("evm_revert", json!([id]))?;
        if !reverted {
            return Err(NodeError::SnapshotGone {
                url: self.rpc_url.clone(),
                id: id.to_string(),
            });
        }
        let fresh: U256 = self.rpc("evm_snapshot", json!([]))?;
        self.snapshots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)[slot] = fresh;
        Ok(())
    }
}

//! One transaction or call, in memory or on the node: run, decode, and hand back an [`Outcome`].

use alloy::primitives::{Address, Bytes, TxKind, U256};
use revm::{
    ExecuteCommitEvm, ExecuteEvm, InspectCommitEvm, InspectEvm,
    context::TxEnv,
    context_interface::result::{ExecutionResult, Output},
};
use tracing::{debug, trace};

use super::{
    Backend, Engine, Result, get_mut, lock,
    run::{counted, in_thread_evm},
};
use crate::{
    decode::{DecodedEvent, Revert, decode_log, decode_revert},
    error::EngineError,
    node::Mined,
};

/// Raw outcome of a transaction, before it is split into a [`Receipt`] or a [`Revert`].
pub(super) enum Outcome {
    Success {
        output: Bytes,
        created: Option<Address>,
        gas_used: u64,
        events: Vec<DecodedEvent>,
    },
    Revert(Revert),
}

impl Engine {
    /// Runs a call without committing it: its output, or its revert data.
    pub(super) fn call_raw(
        &self,
        from: Address,
        to: Address,
        data: Bytes,
        what: &dyn Fn() -> String,
    ) -> Result<std::result::Result<Bytes, Bytes>> {
        let db = match &self.backend {
            Backend::Memory(db) => db,
            Backend::Node(node) => {
                return node
                    .call(from, to, data, self.timestamp)
                    .map_err(|node| EngineError::Node { call: what(), node });
            }
        };
        let tx = self.tx(from, TxKind::Call(to), data, &what)?;
        // Run, never commit: the journal's changes are dropped with the result.
        let result = match &self.counting {
            None => in_thread_evm(&self.config, self.block_env(), &mut lock(db), |evm| {
                evm.transact(tx).map(|r| r.result)
            }),
            Some(counts) => counted(
                &self.config,
                self.block_env(),
                &mut lock(db),
                counts,
                |evm| evm.inspect_tx(tx).map(|r| r.result),
            ),
        }
        .map_err(|e| EngineError::InvalidTransaction {
            call: what(),
            reason: e.to_string(),
        })?;
        match result {
            ExecutionResult::Success { output, .. } => Ok(Ok(output.into_data())),
            ExecutionResult::Revert { output, .. } => Ok(Err(output)),
            ExecutionResult::Halt { reason, gas, .. } => Err(EngineError::Halted {
                call: what(),
                reason: format!("{reason:?} after {} gas", gas.tx_gas_used()),
            }),
        }
    }

    /// Executes and commits one transaction. Reverts are an [`Outcome`], not an error; halts (out of gas, invalid
    /// opcode) and invalid transactions are errors. `what` names the call in errors and logs (built only then: this
    /// is the hot path of every scenario).
    pub(super) fn commit(
        &mut self,
        from: Address,
        kind: TxKind,
        data: Bytes,
        what: &dyn Fn(&Self) -> String,
    ) -> Result<Outcome> {
        let mined = match &self.backend {
            Backend::Memory(_) => self.commit_in_memory(from, kind, data, what)?,
            Backend::Node(node) => {
                let mined = node
                    .send(from, kind, data, self.config.tx_gas_limit, self.timestamp)
                    .map_err(|node| EngineError::Node {
                        call: what(self),
                        node,
                    })?;
                // The node's next block follows the one just mined; keep the clock where the steps put it.
                self.block_number += 1;
                mined
            }
        };
        if !mined.success {
            let revert = decode_revert(&mined.output, &self.actors);
            debug!("{} reverted: {revert}", what(self));
            return Ok(Outcome::Revert(revert));
        }
        let events: Vec<DecodedEvent> = if self.config.decode_events {
            mined
                .logs
                .iter()
                .map(|log| decode_log(log, &self.actors))
                .collect()
        } else {
            Vec::new()
        };
        debug!(gas_used = mined.gas_used, "{} ok", what(self));
        for event in &events {
            trace!("  {event}");
        }
        Ok(Outcome::Success {
            output: mined.output,
            created: mined.created,
            gas_used: mined.gas_used,
            events,
        })
    }

    fn commit_in_memory(
        &mut self,
        from: Address,
        kind: TxKind,
        data: Bytes,
        what: &dyn Fn(&Self) -> String,
    ) -> Result<Mined> {
        let tx = self.tx(from, kind, data, &|| what(self))?;
        let block = self.block_env();
        let Backend::Memory(db) = &mut self.backend else {
            unreachable!("commit_in_memory on a node");
        };
        let result = match &self.counting {
            None => in_thread_evm(&self.config, block, get_mut(db), |evm| {
                evm.transact_commit(tx)
            }),
            Some(counts) => counted(&self.config, block, get_mut(db), counts, |evm| {
                evm.inspect_tx_commit(tx)
            }),
        }
        .map_err(|e| EngineError::InvalidTransaction {
            call: what(self),
            reason: e.to_string(),
        })?;
        match result {
            ExecutionResult::Success {
                gas, logs, output, ..
            } => Ok(Mined {
                success: true,
                created: match &output {
                    Output::Create(_, address) => *address,
                    Output::Call(_) => None,
                },
                output: output.into_data(),
                gas_used: gas.tx_gas_used(),
                logs,
            }),
            ExecutionResult::Revert { output, gas, .. } => Ok(Mined {
                success: false,
                output,
                gas_used: gas.tx_gas_used(),
                logs: Vec::new(),
                created: None,
            }),
            ExecutionResult::Halt { reason, gas, .. } => Err(EngineError::Halted {
                call: what(self),
                reason: format!("{reason:?} after {} gas", gas.tx_gas_used()),
            }),
        }
    }

    fn tx(
        &self,
        from: Address,
        kind: TxKind,
        data: Bytes,
        what: &dyn Fn() -> String,
    ) -> Result<TxEnv> {
        TxEnv::builder()
            .caller(from)
            .kind(kind)
            .data(data)
            .nonce(self.nonce(from))
            .chain_id(Some(self.config.chain_id))
            .gas_limit(self.config.tx_gas_limit)
            .gas_price(0)
            .build()
            .map_err(|e| EngineError::InvalidTransaction {
                call: what(),
                reason: format!("{e:?}"),
            })
    }

    pub(super) fn block_env(&self) -> revm::context::BlockEnv {
        revm::context::BlockEnv {
            number: U256::from(self.block_number),
            timestamp: U256::from(self.timestamp),
            gas_limit: self.config.block_gas_limit,
            basefee: 0,
            ..Default::default()
        }
    }
}

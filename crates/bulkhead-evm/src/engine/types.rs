//! What the engine hands back: receipts, senders and opcode counts.

use alloy::primitives::Address;

use crate::decode::DecodedEvent;

use super::Engine;

/// The result of a successful transaction.
#[derive(Debug, Clone)]
pub struct Receipt<T> {
    /// Decoded return data.
    pub value: T,
    /// Gas used by the transaction (intrinsic gas included, refunds deducted).
    pub gas_used: u64,
    /// Logs, decoded.
    pub events: Vec<DecodedEvent>,
}

impl<T> Receipt<T> {
    /// The same receipt with its value mapped (`()` for calls that return nothing).
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Receipt<U> {
        Receipt {
            value: f(self.value),
            gas_used: self.gas_used,
            events: self.events,
        }
    }
}

/// Who sends a transaction: an [`Address`], or an actor's name (named, and funded, on first use).
pub trait Sender {
    /// The sender's address.
    fn resolve(self, engine: &mut Engine) -> Address;
}

impl Sender for Address {
    fn resolve(self, _: &mut Engine) -> Address {
        self
    }
}

impl Sender for &str {
    fn resolve(self, engine: &mut Engine) -> Address {
        engine.actor(self)
    }
}

impl Sender for &String {
    fn resolve(self, engine: &mut Engine) -> Address {
        engine.actor(self)
    }
}

/// EVM instructions executed, by opcode: what [`Engine::count_opcodes`] measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpcodeCounts(pub(super) [u64; 256]);

impl Default for OpcodeCounts {
    fn default() -> Self {
        Self([0; 256])
    }
}

impl OpcodeCounts {
    /// All instructions executed.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// Executions of `opcode` (e.g. `0x54` for SLOAD).
    pub fn of(&self, opcode: u8) -> u64 {
        self.0[opcode as usize]
    }

    /// Executions of the opcodes that start another call frame (CALL, CALLCODE, DELEGATECALL, STATICCALL) or
    /// create a contract (CREATE, CREATE2).
    pub fn frames(&self) -> u64 {
        [0xf0, 0xf1, 0xf2, 0xf4, 0xf5, 0xfa]
            .iter()
            .map(|&op| self.of(op))
            .sum()
    }

    pub(super) fn add(&mut self, counts: &[u64; 256]) {
        for (total, n) in self.0.iter_mut().zip(counts) {
            *total += n;
        }
    }
}

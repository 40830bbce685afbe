//! The protocol driver: every Bulkhead action as one typed verb, every read as one typed view.
//!
//! Scenarios, the stress fuzzer, the benchmark and the tests all act on the contracts through [`Protocol`], so a
//! slash is sent from one place ([`Protocol::slash`]) whatever asks for it. A verb returns its value with the
//! transaction's gas and decoded events ([`Sent`]), or a [`ProtocolError`]: a revert decoded from the contracts'
//! ABIs ([`Revert`], matched by [`ErrorKind`], never by name) or a failure of the engine or node underneath.
//!
//! ```
//! use bulkhead_evm::{DeployConfig, Engine, System};
//! use bulkhead_protocol::{Protocol, Views};
//!
//! let mut engine = Engine::default();
//! let system = System::deploy(&mut engine, &DeployConfig::default())?;
//! let (operator, key, alice) = (engine.actor("operatorA"), engine.actor("keyA"), engine.actor("alice"));
//! let mut protocol = Protocol::new(&mut engine, system);
//! protocol.register_operator(operator, key)?;
//! let deposit = protocol.mint_and_deposit(alice, operator, system.weth.address, system.weth.units(500))?;
//! assert_eq!(protocol.pool(deposit.poolId)?.slashableAssets, system.weth.units(500));
//! # Ok::<(), eyre::Report>(())
//! ```
//!
//! - [`vault`]: staker verbs (deposit, tiers, withdrawals, redelegation) on `StakeVault`.
//! - [`manager`]: operator, AVS and governance verbs on `AllocationManager` (allocations, slashes, vetoes, guard).
//! - [`modules`]: the slashing modules (double-sign proofs, committee votes).
//! - [`book`]: the market at a glance ([`book::MarketBook`]): open orders, leases, utilisation and prices.
//! - [`market`]: desks, bids, asks, fills, streaming and refunds on `SecurityMarket`; payments, reward claims and
//!   commissions on `RewardRail`.
//! - [`reputation`]: bonds, checkpoints, fault reports and standing on `Reputation`; re-pricing shared allocations.
//! - [`views`]: typed reads of pools, backing, positions, escrow and risk ([`Views`], on a [`Protocol`] or a
//!   read-only [`Reader`]).

pub mod book;
pub mod manager;
pub mod market;
pub mod modules;
pub mod reputation;
pub mod vault;
pub mod views;

use alloy::{
    primitives::{Address, Bytes},
    sol_types::SolCall,
};
use bulkhead_evm::{Engine, EngineError, Receipt, System};

pub use bulkhead_evm::{ErrorKind, Revert};
pub use views::{Reader, Views};

/// A verb's transaction: its decoded return value, gas used and decoded events.
pub type Sent<T> = Receipt<T>;

/// Why a verb or a view did not return a value.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// The contracts refused: the revert decoded from their ABIs. Nothing changed on chain.
    #[error("{call} reverted: {revert}")]
    Reverted {
        /// The Solidity signature of the call that reverted.
        call: &'static str,
        /// The decoded revert (typed when a Bulkhead contract declares it); boxed, as a revert is large and the
        /// happy path should not pay for it.
        revert: Box<Revert>,
    },
    /// The engine or the node underneath failed (not a revert): a lost connection, a bad response.
    #[error("{engine}")]
    Engine {
        /// The Solidity signature of the call.
        call: &'static str,
        /// What failed (it names the call, with its sender and contract).
        engine: Box<EngineError>,
    },
    /// A key could not sign what a verb needed signed.
    #[error("signing {what}: {reason}")]
    Signing {
        /// What was being signed.
        what: String,
        /// The signer's error.
        reason: String,
    },
}

impl ProtocolError {
    /// The revert, when the contracts refused.
    pub fn revert(&self) -> Option<&Revert> {
        match self {
            Self::Reverted { revert, .. } => Some(revert),
            Self::Engine { .. } | Self::Signing { .. } => None,
        }
    }

    /// An engine error of `call`: its revert when the contracts refused, else the failure itself.
    fn from_engine(call: &'static str, err: EngineError) -> Self {
        match err {
            EngineError::Reverted { revert, .. } => Self::Reverted { call, revert },
            engine => Self::Engine {
                call,
                engine: Box::new(engine),
            },
        }
    }
}

/// A verb's result.
pub type Result<T, E = ProtocolError> = std::result::Result<T, E>;

/// The driver: a deployed [`System`] on an [`Engine`] (in memory, a fork, or a node). Borrow one where it is
/// needed: `Protocol::new(&mut engine, system)`. Verbs take addresses; name actors with [`Engine::actor`].
pub struct Protocol<'e> {
    engine: &'e mut Engine,
    sys: System,
}

impl<'e> Protocol<'e> {
    /// The driver of `sys` on `engine`.
    pub fn new(engine: &'e mut Engine, sys: System) -> Self {
        Self { engine, sys }
    }

    /// The deployed contracts' addresses.
    pub fn system(&self) -> &System {
        &self.sys
    }

    /// The engine underneath (time, balances, snapshots).
    pub fn engine(&mut self) -> &mut Engine {
        self.engine
    }

    /// Moves the chain's clock forward by `seconds` (and mines a block).
    pub fn warp(&mut self, seconds: u64) {
        self.engine.warp(seconds);
    }

    /// Sends `call` to `to` as `from`.
    fn tx<C: SolCall>(&mut self, from: Address, to: Address, call: C) -> Result<Sent<C::Return>> {
        self.engine
            .exec(from, to, call)
            .map_err(|err| ProtocolError::from_engine(C::SIGNATURE, err))
    }

    /// Sends `call` to `to` as `from`, for a call whose return value nobody needs.
    fn tx_unit<C: SolCall>(&mut self, from: Address, to: Address, call: C) -> Result<Sent<()>> {
        self.tx(from, to, call).map(|r| r.map(|_| ()))
    }

    /// Deploys `initcode` from `from`, labelled `label`; `what` names the contract in errors.
    fn deploy(
        &mut self,
        from: Address,
        label: &str,
        what: &'static str,
        initcode: Bytes,
    ) -> Result<Address> {
        self.engine
            .deploy(from, label, initcode)
            .map_err(|err| ProtocolError::from_engine(what, err))
    }

    /// Calls a view of `to`.
    fn read<C: SolCall>(&self, to: Address, call: C) -> Result<C::Return> {
        self.engine
            .view(to, call)
            .map_err(|err| ProtocolError::from_engine(C::SIGNATURE, err))
    }
}

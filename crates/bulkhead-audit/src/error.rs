//! What can go wrong mapping the chain or a scenario to a risk network: the terms file, the scenario, the engine
//! reading the chain, the network the mapping builds. Callers match on variants, never on message text.
//!
//! Each message carries its cause's text on one line; causes are fields named `cause` (or wrapped errors shown as
//! they are), never `source()`, so a report chain prints each once.

use std::{io, path::PathBuf};

use alloy::primitives::Address;
use bulkhead_evm::EngineError;
use bulkhead_protocol::ProtocolError;
use bulkhead_risk::RiskError;
use bulkhead_scenario::{RunError, ScenarioError};

/// An audit source that could not be read or mapped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The terms file cannot be read.
    #[error("reading the terms file {}: {cause}", path.display())]
    ReadTerms {
        /// The file.
        path: PathBuf,
        /// The read error.
        cause: io::Error,
    },
    /// The terms file is not JSON of the terms' shape.
    #[error(
        "{}:{line}:{column}: {cause}; expected {{\"services\": {{\"<avs>\": {{\"profit\": \"25\", \"threshold\": \"1/2\"}}}}, \"prices\": {{\"WBTC\": \"30\"}}}}",
        path.display()
    )]
    ParseTerms {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// Column of the error in its line.
        column: usize,
        /// serde's error.
        cause: serde_json::Error,
    },
    /// An AVS of the source has no terms.
    #[error(
        "the terms file has no entry for AVS {avs:?}: add \"{avs}\": {{\"profit\": \"…\", \"threshold\": \"…\"}} under \"services\""
    )]
    NoTerms {
        /// The AVS (its scenario name, or `avs-<id>` on a chain).
        avs: String,
    },
    /// The terms name AVSs the source does not have.
    #[error("the terms file names AVSs that do not exist here: {unknown:?} (known: {known:?})")]
    UnknownAvs {
        /// The names the source does not have.
        unknown: Vec<String>,
        /// The AVSs it has.
        known: Vec<String>,
    },
    /// An asset's price in the terms file is not a number.
    #[error("prices.{asset}: {message}")]
    Price {
        /// The asset symbol.
        asset: String,
        /// What is wrong with the price.
        message: String,
    },
    /// A scenario's amount is not a decimal.
    #[error("not a decimal amount: {text:?}")]
    Decimal {
        /// The amount as the scenario's report wrote it.
        text: String,
    },
    /// The scenario file cannot be loaded.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The scenario could not be run to its end.
    #[error(transparent)]
    Run(#[from] RunError),
    /// The scenario ran, but one of its expectations failed: its final state is not the world it describes.
    #[error(
        "{}: an expectation failed; fix the scenario (`bulkhead simulate {}` shows which) before auditing it",
        path.display(),
        path.display()
    )]
    ExpectationFailed {
        /// The scenario file.
        path: PathBuf,
    },
    /// A view of the chain failed.
    #[error(transparent)]
    Engine(Box<EngineError>),
    /// A view of the reputation layer failed.
    #[error("reading ratings and standings: {cause}")]
    Reputation {
        /// The failed view.
        cause: Box<ProtocolError>,
    },
    /// A pool's asset does not answer `decimals()`.
    #[error("reading the decimals of pool {pool}'s asset {asset}: {cause}")]
    Decimals {
        /// The vault's pool id.
        pool: u64,
        /// The asset.
        asset: Address,
        /// The failed view.
        cause: Box<EngineError>,
    },
    /// A view of the security market (a lease, its bid, its pool's commission) failed.
    #[error("reading the security market's leases: {cause}")]
    Market {
        /// The failed view.
        cause: Box<ProtocolError>,
    },
    /// A lease names a pool or an AVS the audit did not read.
    #[error("lease {lease} is on pool {pool} for AVS {avs}, which the audit did not read")]
    LeaseOutsideSource {
        /// The lease's id.
        lease: u64,
        /// Its pool's vault id.
        pool: u64,
        /// Its AVS's id.
        avs: u32,
    },
    /// The prior annual fault probability is not a probability.
    #[error("fault rate {text:?}: {message}")]
    FaultRate {
        /// The rate as given.
        text: String,
        /// What is wrong with it.
        message: String,
    },
    /// The network the mapping built does not validate (a terms file's profit or threshold, typically).
    #[error("the network read from the protocol is not valid: {cause}")]
    InvalidNetwork {
        /// What is wrong with it.
        cause: RiskError,
    },
}

impl From<ProtocolError> for AuditError {
    fn from(e: ProtocolError) -> Self {
        Self::Reputation { cause: Box::new(e) }
    }
}

impl From<EngineError> for AuditError {
    fn from(e: EngineError) -> Self {
        Self::Engine(Box::new(e))
    }
}

//! Why a stress run could not go on: the engine failed, or the chain and the generated scenario disagree about
//! what exists (a harness fault). A disagreement about a *value* is not an error: it is a [`Mismatch`](crate::Mismatch).

use std::path::PathBuf;

use bulkhead_evm::{DeployError, EngineError};
use bulkhead_protocol::ProtocolError;
use bulkhead_scenario::{RunError, ScenarioError};

/// A stress run that stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StressError {
    /// A verb or a view failed in the engine (a revert is an outcome, not this).
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// Deploying the base system failed.
    #[error("deploying the base system: {0}")]
    Deploy(#[from] DeployError),
    /// The chain lacks what the generated scenario says exists: a fault of the harness, not of the protocol.
    #[error("the chain does not hold what the generated scenario says: {0}")]
    Harness(String),
    /// The generator produced a scenario the model refuses to play.
    #[error("generated an invalid scenario: {0}")]
    InvalidScenario(String),
    /// One step of a generated scenario failed.
    #[error("step {step} ({action}) of scenario seed {seed}: {cause}")]
    AtStep {
        /// The scenario's seed.
        seed: u64,
        /// The step's index.
        step: usize,
        /// The step, as Rust debug text.
        action: String,
        /// What failed.
        cause: Box<StressError>,
    },
    /// A reproduction file could not be written.
    #[error("writing {}: {cause}", path.display())]
    Write {
        /// The file or its directory.
        path: PathBuf,
        /// The error.
        cause: std::io::Error,
    },
    /// A written reproduction does not load as a scenario.
    #[error("the written scenario does not load: {0}")]
    Reproduction(#[from] ScenarioError),
    /// A written reproduction could not be run.
    #[error("running the written scenario: {0}")]
    Replay(#[from] RunError),
}

/// What the stress library returns.
pub type Result<T, E = StressError> = std::result::Result<T, E>;

//! What can go wrong in the risk engine: a network file that cannot be read or is not valid, numbers too large for
//! the exact searches, a shock outside [0, 1]. Callers match on variants, never on message text.
//!
//! Each message carries its cause's text on one line, as a user reads it (`in net.json: edges[3][0]: unknown
//! validator "x"`), so causes are fields named `cause`, not `source()`: a report chain prints each once.

use std::{io, path::PathBuf};

/// A network that could not be loaded or audited.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RiskError {
    /// The network file cannot be read.
    #[error("reading {}: {cause}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The read error.
        cause: io::Error,
    },
    /// The network file is not valid: `cause` says where and why.
    #[error("in {}: {cause}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong in it (a [`RiskError::Parse`] or a [`RiskError::Field`]).
        cause: Box<RiskError>,
    },
    /// The text is not JSON of the network file's shape (a missing or unknown field, a wrong type).
    #[error("not a valid network file: {cause}")]
    Parse {
        /// 1-based line of the error in the text.
        line: usize,
        /// Column of the error in its line.
        column: usize,
        /// serde's error (its text names the line and column).
        cause: serde_json::Error,
    },
    /// A field's value is not valid: `edges[3][0]: unknown validator "x"`.
    #[error("{field}: {message}")]
    Field {
        /// Where in the file: `validators[2].stake`, `edges[3][0]`, `model`.
        field: String,
        /// What is wrong, and what was expected.
        message: String,
    },
    /// A number does not fit the exact searches once every number is put over the common denominator.
    #[error(
        "{what}: {value} is too large once every number is put over the common denominator {scale}"
    )]
    TooLarge {
        /// Which number: `validator "a" stake`, `service "x" profit`, `weight`.
        what: String,
        /// The number, as the file's value in lowest terms.
        value: String,
        /// The common denominator.
        scale: String,
    },
    /// The sum of every stake and profit does not fit the exact searches' 128-bit arithmetic.
    #[error("the total stake and profit are too large for exact 128-bit sums (scale {scale})")]
    TotalTooLarge {
        /// The common denominator.
        scale: String,
    },
    /// A shock size ψ outside [0, 1] (a fraction of the total stake).
    #[error("the shock ψ = {psi} is outside [0, 1]")]
    ShockOutOfRange {
        /// ψ, as it was given.
        psi: String,
    },
}

impl RiskError {
    /// A field error: `field: message`.
    pub(crate) fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Field {
            field: field.into(),
            message: message.into(),
        }
    }
}

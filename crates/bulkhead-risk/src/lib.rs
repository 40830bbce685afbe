//! Bulkhead's restaking risk engine: pure Rust, exact arithmetic.
//!
//! A network of validators (stake) and services (profit from corruption, threshold θ), with full restaking
//! (Durvasula & Roughgarden, "Robust Restaking Networks") or elastic allocations (Bar-Zur & Eyal, "Elastic
//! Restaking Networks"). The engine answers, exactly:
//!
//! - is the network **secure** (no attack with profit − cost > 0), the **max_attack_profit** and an attack reaching
//!   it ([`search::max_attack`]);
//! - **worst_case_loss(ψ)**: the stake lost to a shock of at most ψ of the stake plus the costliest profitable attack
//!   on what remains ([`shock::worst_case_loss`]);
//! - **min_byzantine_services**: the fewest services whose failure makes the rest insecure
//!   ([`search::min_byzantine_services`]);
//! - D&R's certificate and its loss bound ([`certificate`]), the exposure ([`exposure`]);
//!
//! and, at scale, certified bounds and a labelled greedy heuristic. [`brute`] is the literal reference the tests
//! compare against; [`html`] writes the self-contained report. The report keeps its numbers exact and typed
//! ([`number::Exact`]), printed only where it is rendered; what can fail is a [`RiskError`].
//!
//! ```
//! let network = bulkhead_risk::network::parse(r#"{"model": "full",
//!   "validators": [{"id": "a", "stake": "10"}, {"id": "b", "stake": "10"}],
//!   "services": [{"id": "x", "profit": "12", "threshold": "1/2"}],
//!   "edges": [["a", "x"], ["b", "x"]]}"#)?;
//! let report = bulkhead_risk::audit(&network, &Default::default())?;
//! // Corrupting x needs half of its 20 backing: one validator, cost 10 < profit 12.
//! assert_eq!(report.secure, Some(false));
//! assert_eq!(report.max_attack_profit.map(|p| p.to_string()).as_deref(), Some("2"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod brute;
pub mod certificate;
pub mod error;
pub mod exposure;
pub mod generate;
pub mod html;
pub mod network;
pub mod number;
pub mod report;
pub mod search;
pub mod shock;

pub use error::RiskError;
pub use number::Exact;
pub use report::{AuditOptions, Psi, Report, audit};

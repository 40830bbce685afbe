//! Declarative scenarios: a versioned TOML file describes assets, operators, stakers, AVSs, pools, allocations and
//! a timeline of actions and expectations; [`run`] plays it on the embedded engine from a fresh deployment.
//!
//! ```
//! let scenario = bulkhead_scenario::parse("inline.toml", r#"
//! version = 1
//! operators = [{ name = "operatorA" }]
//! stakers = [{ name = "alice" }]
//! avs = [{ name = "oracle", kind = "instant" }]
//! pools = [{ name = "P", operator = "operatorA", asset = "WETH" }]
//! deposits = [{ staker = "alice", pool = "P", amount = "100" }]
//! allocations = [{ pool = "P", avs = "oracle", mode = "isolated", fraction = "50%" }]
//!
//! [[steps]]
//! action = "slash"
//! avs = "oracle"
//! pool = "P"
//! fraction = "0.2"          # 20% of the 50 WETH backing = 10 WETH
//!
//! [[steps]]
//! action = "expect"
//! pool_value = { P = "90" }
//! "#)?;
//! let report = bulkhead_scenario::run(&scenario)?;
//! assert!(report.passed);
//! # Ok::<(), eyre::Report>(())
//! ```
//!
//! The format is documented in `docs/scenarios.md`. Errors in a file name the file, line, column and field:
//! `examples/x.toml:14:9: steps[3].fraction: expected a fraction like "0.25" or "25%", got "1.5"`.

mod error;
mod load;
mod model;
pub mod raw;
mod report;
mod runner;
pub mod standing;
mod units;

pub use error::ScenarioError;
pub use load::{VERSION, load, parse};
pub use model::{Action, Amount, Check, Scenario};
pub use report::{
    AvsSummary, BackingSummary, EscrowSummary, EventRecord, Expectation, FinalState,
    OperatorReputation, PoolSummary, PositionSummary, ReputationSummary, RunReport, SinkSummary,
    StakerSummary, StepOutcome, StepRecord, TokenAmount,
};
pub use runner::{BURN, Finished, RunError, Target, run, run_on, run_to_end};
pub use units::{format_duration, format_percent, format_ratio, format_units, parse_fraction};

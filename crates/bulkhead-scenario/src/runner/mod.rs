//! Runs a [`Scenario`] on a fresh [`Engine`] with the system deployed from the real bytecode, and reports every
//! step, every expectation and the final state. Every transaction goes through the protocol driver
//! ([`bulkhead_protocol::Protocol`]); this module only maps the scenario's names to addresses and ids and records
//! what happened.
//!
//! - [`setup`]: the world of the file's preamble (assets, operators, AVSs, deposits, allocations).
//! - [`act`]: one method per step action.
//! - [`check`]: `expect` steps and the views they read.
//! - [`events`]: a step's events in words.
//! - [`state`]: the final state of the report.

mod act;
mod check;
mod events;
mod market;
mod reputation;
mod setup;
mod state;

use std::time::Instant;

use alloy::primitives::{Address, U256, address};
use bulkhead_evm::{DecodedEvent, DeployError, Deployment, Engine, EngineError, Revert, System};
use bulkhead_protocol::{Protocol, ProtocolError, Sent, Views};
use tracing::{debug, info};

use crate::{
    error::ScenarioError,
    model::{Action, Loc, Scenario, Step},
    report::{EventRecord, Expectation, RunReport, StepOutcome, StepRecord},
    units::{format_duration, format_units},
};

/// Why a scenario could not be run to its end. A step's revert is not an error: the report records it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The file asks for what the chain cannot do (`file:line:col`).
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The engine or node failed under a verb or a view.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The engine or node failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// Deploying the system failed.
    #[error(transparent)]
    Deploy(#[from] DeployError),
    /// A part of the file's preamble could not be set up: `file:line:col: section: …`.
    #[error("{at}: {cause}")]
    Setup {
        /// Where in the file, and what was being set up.
        at: String,
        /// What failed.
        cause: Box<RunError>,
    },
}

impl RunError {
    /// `self`, as the failure of setting up `what`.
    fn setting_up(self, what: impl Into<String>) -> Self {
        Self::Setup {
            at: what.into(),
            cause: Box::new(self),
        }
    }
}

/// Names what was being set up when a preamble step failed.
trait SettingUp<T> {
    /// The error, as the failure of setting up `what()`.
    fn setting_up<S: Into<String>>(self, what: impl FnOnce() -> S) -> Result<T>;
}

impl<T, E: Into<RunError>> SettingUp<T> for std::result::Result<T, E> {
    fn setting_up<S: Into<String>>(self, what: impl FnOnce() -> S) -> Result<T> {
        self.map_err(|e| e.into().setting_up(what()))
    }
}

/// What running a scenario returns.
pub type Result<T, E = RunError> = std::result::Result<T, E>;

/// Where `burn` sinks send slashed tokens.
pub const BURN: Address = address!("0x000000000000000000000000000000000000dEaD");

/// Actor that registers the instant and veto AVSs and deploys the module contracts.
const AVS_ADMIN: &str = "avsAdmin";
/// Default sender of `double_sign` proofs and committee executions (anyone may send them).
const KEEPER: &str = "keeper";

/// Where a scenario runs.
#[derive(Debug)]
pub enum Target<'d> {
    /// A fresh in-memory chain with the system deployed from the bytecode, as the Solidity fixtures deploy it.
    Fresh,
    /// An engine holding `deployment`: a fork of its chain ([`Engine::fork`]) or its anvil node
    /// ([`Engine::connect`]). The scenario's actors, tokens and AVSs are added to what is there.
    Deployed {
        /// The engine (boxed: an engine is large and `Fresh` carries nothing).
        engine: Box<Engine>,
        /// The deployed system (`deployments/<chainId>.json`).
        deployment: &'d Deployment,
    },
}

/// Runs `scenario` from a fresh deployment. Reverts and failed expectations are part of the report; an error means
/// the scenario could not be run as written (located in the file) or the EVM failed.
pub fn run(scenario: &Scenario) -> Result<RunReport> {
    run_on(scenario, Target::Fresh)
}

/// Runs `scenario` on `target`, like [`run`].
pub fn run_on(scenario: &Scenario, target: Target<'_>) -> Result<RunReport> {
    run_to_end(scenario, target).map(|finished| finished.report)
}

/// A run's report, with the engine and the deployed system as its last step left them (`bulkhead audit` reads the
/// raw allocation state from them and replays failures on a copy).
#[derive(Debug)]
pub struct Finished {
    /// What [`run_on`] returns.
    pub report: RunReport,
    /// The engine after the last step.
    pub engine: Engine,
    /// The system the scenario ran on.
    pub system: System,
}

/// Runs `scenario` on `target` like [`run_on`], and keeps the engine.
pub fn run_to_end(scenario: &Scenario, target: Target<'_>) -> Result<Finished> {
    let started = Instant::now();
    info!(file = scenario.file(), "running {}", scenario.name());
    let mut run = Run::setup(scenario, target)?;
    let mut steps = Vec::new();
    let mut expectations = Vec::new();
    for step in &scenario.steps {
        let record = run.step(step, &mut expectations)?;
        debug!(
            step = step.index,
            "{} {}: {}", record.action, record.detail, record.outcome
        );
        steps.push(record);
    }
    let final_state = run.final_state()?;
    let passed = expectations.iter().all(|e| e.passed);
    let report = RunReport {
        file: scenario.file.clone(),
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
        passed,
        steps,
        expectations,
        final_state,
        wall_time_ms: started.elapsed().as_secs_f64() * 1e3,
    };
    Ok(Finished {
        report,
        engine: run.engine,
        system: run.sys,
    })
}

/// An AVS as deployed.
#[derive(Debug, Clone, Copy)]
struct AvsRt {
    id: u32,
    /// The slashing module: an actor for instant and veto AVSs, a contract for the others.
    module: Address,
    sink: Address,
}

/// A slash request (or committee proposal) a step made, for later `veto` and `execute_slash` steps.
#[derive(Debug, Clone)]
struct RequestRec {
    label: Option<String>,
    avs: usize,
    request_id: Option<u64>,
    proposal_id: Option<U256>,
}

/// A withdrawal a step queued, for later `claim` steps.
#[derive(Debug, Clone)]
struct WithdrawalRec {
    label: Option<String>,
    staker: String,
    id: U256,
    claimed: bool,
}

/// What a step's transactions did. The first revert ends the step: later transactions are not sent.
#[derive(Debug, Default)]
struct Exec {
    gas: u64,
    events: Vec<DecodedEvent>,
    revert: Option<Revert>,
}

impl Exec {
    /// Sends a transaction that belongs to the step: its gas and events are recorded. `None` if it reverted (or
    /// an earlier one did); an engine failure is an error.
    fn main<T>(
        &mut self,
        send: impl FnOnce() -> Result<Sent<T>, ProtocolError>,
    ) -> Result<Option<T>> {
        Ok(self.prepare(send)?.map(|sent| {
            self.gas += sent.gas_used;
            self.events.extend(sent.events);
            sent.value
        }))
    }

    /// Sends what prepares the step (mint, approve, opt-in, tier approval): a revert ends the step, nothing else is
    /// recorded.
    fn prepare<T>(&mut self, send: impl FnOnce() -> Result<T, ProtocolError>) -> Result<Option<T>> {
        if self.revert.is_some() {
            return Ok(None);
        }
        match send() {
            Ok(value) => Ok(Some(value)),
            Err(ProtocolError::Reverted { revert, .. }) => {
                self.revert = Some(*revert);
                Ok(None)
            }
            Err(err) => Err(err.into()),
        }
    }
}

/// A scenario being run: the engine, the deployed system, and the ids behind the file's names.
struct Run<'s> {
    sc: &'s Scenario,
    engine: Engine,
    sys: System,
    assets: Vec<Address>,
    avs: Vec<AvsRt>,
    pool_ids: Vec<Option<U256>>,
    requests: Vec<RequestRec>,
    withdrawals: Vec<WithdrawalRec>,
    /// Desks of the operators that sell through the market, by operator name.
    desks: std::collections::BTreeMap<String, Address>,
    /// Bids, asks and leases the steps made, by label (a label whose step reverted is absent).
    bids: std::collections::BTreeMap<String, U256>,
    asks: std::collections::BTreeMap<String, U256>,
    leases: std::collections::BTreeMap<String, U256>,
    last_events: Vec<DecodedEvent>,
    start: u64,
}

impl Run<'_> {
    /// The driver on this run's engine.
    fn protocol(&mut self) -> Protocol<'_> {
        Protocol::new(&mut self.engine, self.sys)
    }

    // ------------------------------------------------------------------ names and ids

    fn actor(&mut self, name: &str) -> Address {
        self.engine.actor(name)
    }

    /// The registered operator behind an operator's name: its desk if it sells through the market, else itself.
    fn operator_address(&mut self, name: &str) -> Address {
        match self.desks.get(name) {
            Some(desk) => *desk,
            None => self.actor(name),
        }
    }

    /// The vault id of a declared pool, once it exists.
    fn pool_id(&mut self, pool: usize) -> Result<Option<U256>> {
        if let Some(id) = self.pool_ids[pool] {
            return Ok(Some(id));
        }
        let def = &self.sc.pools[pool];
        let operator = self.operator_address(&def.operator.clone());
        let asset = match def.tier_of {
            None => self.assets[def.asset],
            Some(base) => match self.pool_id(base)? {
                Some(base_id) => self.protocol().tier_asset(base_id)?,
                None => return Ok(None),
            },
        };
        let id = self.protocol().pool_of(operator, asset)?;
        self.pool_ids[pool] = id;
        Ok(id)
    }

    fn require_pool(&mut self, pool: usize, loc: &Loc) -> Result<U256> {
        self.pool_id(pool)?.ok_or_else(|| {
            self.sc
                .error_at(
                    loc,
                    format!(
                        "pool {:?} does not exist in the vault yet: nothing has been deposited into it",
                        self.sc.pools[pool].name
                    ),
                )
                .into()
        })
    }

    fn pool_name(&self, id: U256) -> String {
        self.pool_ids
            .iter()
            .position(|p| *p == Some(id))
            .map_or_else(|| format!("pool #{id}"), |i| self.sc.pools[i].name.clone())
    }

    /// Decimals and symbol of the asset a pool's amounts are counted in.
    fn pool_unit(&self, id: U256) -> (u8, String) {
        match self.pool_ids.iter().position(|p| *p == Some(id)) {
            Some(i) => {
                let asset = &self.sc.assets[self.sc.pools[i].asset];
                (asset.decimals, asset.symbol.clone())
            }
            None => (18, String::new()),
        }
    }

    fn pool_amount(&self, id: U256, raw: U256) -> String {
        let (decimals, symbol) = self.pool_unit(id);
        format!("{} {symbol}", format_units(raw, decimals))
            .trim_end()
            .to_string()
    }

    fn avs_name(&self, id: u32) -> String {
        self.avs
            .iter()
            .position(|a| a.id == id)
            .map_or_else(|| format!("AVS #{id}"), |i| self.sc.avs[i].name.clone())
    }

    fn since_start(&self, timestamp: u64) -> String {
        let now = self.engine.timestamp();
        let at = format_duration(timestamp.saturating_sub(self.start));
        if timestamp >= now {
            format!("+{at} (in {})", format_duration(timestamp - now))
        } else {
            format!("+{at}")
        }
    }

    // ------------------------------------------------------------------ steps

    fn step(&mut self, step: &Step, expectations: &mut Vec<Expectation>) -> Result<StepRecord> {
        let time = self.engine.timestamp() - self.start;
        let line = step.loc.line(&self.sc.text);
        let mut exec = Exec::default();
        let detail = self.act(step, &mut exec)?;
        // Pools the step created get their ids (and names in the results).
        for pool in 0..self.sc.pools.len() {
            self.pool_id(pool)?;
        }
        let mut record = StepRecord {
            index: step.index,
            line,
            time,
            action: step.action.name().to_string(),
            detail,
            note: step.note.clone(),
            outcome: StepOutcome::Ok,
            expect_revert: step.expect_revert.clone(),
            gas: None,
            results: Vec::new(),
            events: Vec::new(),
        };
        if let Action::Expect(checks) = &step.action {
            record.outcome = self.run_checks(step.index, checks, expectations)?;
            return Ok(record);
        }
        self.record_transactions(&mut record, &exec);
        if let Some(expectation) = self.outcome_expectation(step, exec.revert.as_ref()) {
            expectations.push(expectation);
        }
        self.last_events = std::mem::take(&mut exec.events);
        Ok(record)
    }

    /// The step's outcome, gas, results in words and events.
    fn record_transactions(&self, record: &mut StepRecord, exec: &Exec) {
        record.outcome = match &exec.revert {
            None => StepOutcome::Ok,
            Some(revert) => StepOutcome::Reverted {
                error: revert.name.clone(),
                detail: revert.to_string(),
            },
        };
        if exec.revert.is_none() && (exec.gas > 0 || !exec.events.is_empty()) {
            record.gas = Some(exec.gas);
        }
        record.results = exec
            .events
            .iter()
            .filter_map(|e| self.describe(e))
            .collect();
        record.events = exec
            .events
            .iter()
            .filter(|e| e.contract != Some("MockERC20"))
            .map(|e| EventRecord {
                emitter: e.emitter.clone(),
                name: e.name.clone(),
                args: e.args.clone(),
            })
            .collect();
    }

    /// The outcome is an expectation too: ok, or the named revert (`expect_revert`).
    fn outcome_expectation(&self, step: &Step, revert: Option<&Revert>) -> Option<Expectation> {
        let actual = match revert {
            None => "ok".to_string(),
            Some(revert) => format!("reverted {revert}"),
        };
        match (&step.expect_revert, revert) {
            (Some(name), revert) => Some(self.expectation(
                step.index,
                step.loc_of("expect_revert"),
                check::Checked {
                    what: format!("{} reverts", step.action.name()),
                    expected: format!("revert {name}"),
                    actual,
                    passed: revert.is_some_and(|r| r.is(name)),
                },
            )),
            (None, Some(_)) => Some(self.expectation(
                step.index,
                &step.loc,
                check::Checked {
                    what: format!("{} succeeds", step.action.name()),
                    expected: "ok".to_string(),
                    actual,
                    passed: false,
                },
            )),
            (None, None) => None,
        }
    }

    fn expectation(&self, step: usize, loc: &Loc, checked: check::Checked) -> Expectation {
        let (line, column) = self.sc.source().position(loc.span.start);
        Expectation {
            step,
            line,
            column,
            path: loc.path.clone(),
            what: checked.what,
            expected: checked.expected,
            actual: checked.actual,
            passed: checked.passed,
        }
    }
}

/// An engine error during setup, attributed to a top-level section of the file.
fn located(sc: &Scenario, section: &str, err: RunError) -> RunError {
    let at = sc
        .text
        .find(&format!("[{section}]"))
        .map_or((1, 1), |offset| sc.source().position(offset));
    err.setting_up(format!("{}:{}:{}: {section}", sc.file, at.0, at.1))
}

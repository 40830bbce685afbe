//! The same steps on the real bytecode, sent the way the scenario runner sends them (through the protocol driver's
//! verbs), and the differential check that compares every step's outcome with the model: reverts by [`ErrorKind`].
//!
//! - [`chain`]: the chain side, one method per action through the driver's verbs.
//! - [`obs`]: what is compared after each step ([`Obs`]), as the model predicts it and as the chain reads it.

mod chain;
mod obs;

use chain::{Chain, Round};

use std::collections::BTreeMap;

use crate::{Result, StressError};
use alloy::primitives::U256;
use bulkhead_evm::{DeployConfig, Engine, ErrorKind, System};
use bulkhead_protocol::ProtocolError;
use bulkhead_scenario::{Action, BURN};

use crate::{
    generator::params,
    model::{Invalid, Model, Mutation, Ret, SlashOut},
    spec::{Spec, Step},
};

pub use obs::{Obs, describe, final_obs, model_value, step_obs};

const AVS_ADMIN: &str = "avsAdmin";
/// Who sends what anyone may send (the runner's `keeper`): evidence units, re-pricing, watched standings, holds and
/// reports.
const KEEPER: &str = "keeper";

/// The deployed system every scenario starts from (deployed once; each scenario runs on a copy).
#[derive(Debug, Clone)]
pub struct Base {
    engine: Engine,
    sys: System,
}

impl Base {
    /// Deploys the system as the scenario runner does (default `DeployConfig`).
    pub fn deploy() -> Result<Self> {
        let mut engine = Engine::default();
        let sys = System::deploy(&mut engine, &DeployConfig::default())?;
        engine.label(BURN, "burn");
        // A snapshot round trip: what every scenario starts from.
        let snapshot = engine.snapshot()?;
        engine.restore(&snapshot)?;
        Ok(Self { engine, sys })
    }

    /// The block timestamp scenarios start at.
    pub fn start(&self) -> u64 {
        self.engine.timestamp()
    }
}

/// Where the model and the chain disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Index of the step after which it was seen.
    pub step: usize,
    /// What was compared.
    pub what: String,
    /// The model's prediction.
    pub model: String,
    /// What the chain did.
    pub chain: String,
    /// Whether a scenario file can check what differs (an outcome, or a value an `expect` step reads).
    pub checkable: bool,
}

/// One scenario's loss figures (from the model, which agreed with the chain up to any mismatch).
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Steps played.
    pub steps: usize,
    /// Steps that reverted (as predicted).
    pub reverts: usize,
    /// Successful deposits per asset (base units).
    pub deposited: [U256; 3],
    /// Slashed out of the vault per asset (base units): a tier slash moves base shares to the sink and takes no
    /// tokens, so it is not counted here.
    pub slashed: [U256; 3],
    /// Every slash that went through.
    pub slashes: Vec<SlashOut>,
    /// Steps per action: (went through, reverted).
    pub actions: BTreeMap<&'static str, (u64, u64)>,
    /// Reverts per kind of error.
    pub reverts_by_error: BTreeMap<ErrorKind, u64>,
    /// Slashes of tier pools that went through.
    pub tier_slashes: u64,
    /// Pool generations ended by full slashes.
    pub resets: u64,
    /// Whether the scenario ran with the reputation layer on.
    pub reputation: bool,
    /// Reputation steps played (bonds, withdrawals, checkpoints, standings, re-pricing, holds, reports).
    pub reputation_steps: u64,
    /// Vetoes played with the reputation layer on (each a fault; a penalty when the bond and the pool allow).
    pub rep_vetoes: u64,
    /// Penalties paid into pools.
    pub penalties: u64,
    /// Each AVS's rating at the end (WAD), with reputation on.
    pub ratings: Vec<U256>,
    /// Whether the scenario has reward-rail steps.
    pub payments: bool,
    /// Reward-rail steps played (rewards turned on, commissions set, payments, claims).
    pub payment_steps: u64,
    /// Paid to stakers through the rail per asset (base units), after commission.
    pub rewards_paid: [U256; 3],
    /// Claimed from the rail per asset by stakers: their positions' and their withdrawals' rewards.
    pub rewards_claimed: [U256; 3],
    /// Commission claimed per asset.
    pub commission_claimed: [U256; 3],
    /// The vault's hooks into the rail, as [`crate::model::HOOKS`] names them.
    pub rail_hooks: [u64; 5],
}

/// The result of the differential run of one spec.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The first disagreement, if any.
    pub mismatch: Option<Mismatch>,
    /// The runner could not send a step (only while shrinking).
    pub invalid: Option<String>,
    /// Loss figures.
    pub stats: Stats,
}

fn show(r: &Result<U256, ErrorKind>) -> String {
    match r {
        Ok(v) => v.to_string(),
        Err(e) => format!("revert {e}"),
    }
}

/// A verb's or a view's outcome: its value, or the kind of revert when the contracts refused. A failure of the engine
/// underneath is an error.
fn outcome<T>(result: Result<T, ProtocolError>) -> Result<Result<T, ErrorKind>> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(ProtocolError::Reverted { revert, .. }) => Ok(Err(revert.kind())),
        Err(e) => Err(e.into()),
    }
}

/// What a step sent to the chain did: its return value, or the kind of revert of its main transaction.
type StepOut = Result<Ret, ErrorKind>;

/// Plays `spec` on the model and on a copy of `base`, comparing after every step; stops at the first mismatch.
pub fn differential(base: &Base, spec: &Spec, mutation: Mutation) -> Result<Verdict> {
    differential_with(base, spec, mutation, false)
}

/// [`differential`], optionally comparing only what a scenario file can check (`checkable`): outcomes and error
/// kinds, and the `expect` quantities — not return values, `getPool`, `getAllocation`, `avsBacking` nor sinks'
/// positions. A mismatch found that way reproduces under `bulkhead simulate`.
pub fn differential_with(
    base: &Base,
    spec: &Spec,
    mutation: Mutation,
    checkable: bool,
) -> Result<Verdict> {
    let mut model = Model::new(spec, params(spec), base.start(), mutation);
    let mut engine = base.engine.clone();
    let mut chain = Chain::new(&mut engine, base.sys, spec)?;
    let mut stats = Stats::default();
    let verdict = |mismatch, invalid, stats| {
        Ok(Verdict {
            mismatch,
            invalid,
            stats,
        })
    };
    stats.reputation = spec.reputation.is_some();
    stats.payments = spec.steps.iter().any(Step::is_payment);
    for (i, step) in spec.steps.iter().enumerate() {
        let predicted = match model.step(spec, step) {
            Ok(p) => p,
            Err(Invalid(why)) => return verdict(None, Some(why), stats),
        };
        let actual = chain.step(step).map_err(|cause| StressError::AtStep {
            seed: spec.seed,
            step: i,
            action: format!("{step:?}"),
            cause: Box::new(cause),
        })?;
        let outcomes = (&predicted, &actual);
        if let Some(mismatch) =
            check_outcome(spec, &model, i, step, outcomes, checkable, &mut stats)
        {
            return verdict(Some(mismatch), None, stats);
        }
        if let Some(mismatch) = check_values(spec, &model, &mut chain, i, step, checkable)? {
            return verdict(Some(mismatch), None, stats);
        }
        if !checkable && let Some(mismatch) = check_rail(spec, &model, i) {
            return verdict(Some(mismatch), None, stats);
        }
    }
    stats.resets = model.resets();
    stats.rail_hooks = model.rail_hooks();
    if let Some((ratings, penalties)) = model.reputation_figures() {
        stats.ratings = ratings;
        stats.penalties = penalties;
    }
    verdict(None, None, stats)
}

/// Compares step `i`'s outcome on the model and on the chain (`(predicted, actual)`) and counts it in `stats`: the
/// mismatch, if they differ (reverts of different kinds, a success and a revert, different return values).
fn check_outcome(
    spec: &Spec,
    model: &Model,
    i: usize,
    step: &Step,
    (predicted, actual): (&StepOut, &StepOut),
    checkable: bool,
    stats: &mut Stats,
) -> Option<Mismatch> {
    stats.steps += 1;
    if step.is_reputation() {
        stats.reputation_steps += 1;
    }
    if step.is_payment() {
        stats.payment_steps += 1;
    }
    if stats.reputation && matches!(step, Step::Scenario(Action::Veto { .. })) {
        stats.rep_vetoes += 1;
    }
    let what = format!("outcome of step {i} ({})", step.name());
    let counts = stats.actions.entry(step.name()).or_default();
    match (predicted, actual) {
        (Err(m), Err(c)) if m == c => {
            stats.reverts += 1;
            counts.1 += 1;
            *stats.reverts_by_error.entry(*c).or_default() += 1;
        }
        (Ok(m), Ok(c)) => {
            counts.0 += 1;
            let same = checkable
                || match (m, c) {
                    (Ret::Slash(m), Ret::Slash(c)) => m.amount == c.amount,
                    (m, c) => m == c,
                };
            if !same {
                return Some(Mismatch {
                    step: i,
                    what,
                    model: format!("{m:?}"),
                    chain: format!("{c:?}"),
                    // Return values have no check in the format.
                    checkable: false,
                });
            }
            if let Some(action) = step.action() {
                record(spec, model, action, m, stats);
            }
            record_payment(spec, model, step, m, stats);
        }
        _ => {
            let show = |r: &StepOut| match r {
                Ok(_) => "success".to_string(),
                Err(kind) => format!("revert {kind}"),
            };
            return Some(Mismatch {
                step: i,
                what,
                model: show(predicted),
                chain: show(actual),
                checkable: true,
            });
        }
    }
    None
}

/// Counts a step that went through in the loss figures: deposits, slashes (tier slashes apart).
fn record(spec: &Spec, model: &Model, action: &Action, ret: &Ret, stats: &mut Stats) {
    match ret {
        Ret::Deposit(_) => {
            if let Action::Deposit { pool, amount, .. } = action {
                stats.deposited[spec.pools[*pool].asset] += *amount;
            }
        }
        Ret::Slash(out) => {
            if model.is_tier(out.pool) {
                if !out.amount.is_zero() {
                    stats.tier_slashes += 1;
                }
            } else if let Some(p) =
                (0..spec.pools.len()).find(|&p| model.pool_id(spec, p) == Some(out.pool))
            {
                stats.slashed[spec.pools[p].asset] += out.amount;
            }
            stats.slashes.push(*out);
        }
        _ => {}
    }
}

/// Counts what a rail step that went through moved: paid to stakers, claimed.
fn record_payment(spec: &Spec, model: &Model, step: &Step, ret: &Ret, stats: &mut Stats) {
    let asset = match step {
        Step::Pay { pool, .. } | Step::ClaimRewards { pool, .. } => Some(spec.pools[*pool].asset),
        Step::ClaimCommission { asset, .. } => Some(*asset),
        Step::ClaimEscrowRewards { withdrawal, .. } => {
            model.withdrawal(withdrawal).and_then(|(_, wid)| {
                let id: usize = (wid >> 64usize).saturating_to();
                (0..spec.pools.len())
                    .find(|&p| model.pool_id(spec, p) == Some(id))
                    .map(|p| spec.pools[p].asset)
            })
        }
        _ => None,
    };
    match (asset, ret) {
        (Some(a), Ret::Paid(to_stakers, _)) => stats.rewards_paid[a] += *to_stakers,
        (Some(a), Ret::Reward(amount)) if matches!(step, Step::ClaimCommission { .. }) => {
            stats.commission_claimed[a] += *amount;
        }
        (Some(a), Ret::Reward(amount)) => stats.rewards_claimed[a] += *amount,
        _ => {}
    }
}

/// The rail's promises, on the model's books (which the step's observations just compared with the chain's): for
/// each token the rail holds, every claim covered and the rest within rounding of the recorded dust.
fn check_rail(spec: &Spec, model: &Model, i: usize) -> Option<Mismatch> {
    if !(0..model.pool_count()).any(|p| model.earns(p + 1)) {
        return None;
    }
    for asset in 0..3 {
        let why = match model.rail_books(spec, asset) {
            Ok(books) => match books.violation() {
                Some(why) => why,
                None => continue,
            },
            Err(kind) => format!("the books cannot be read: revert {kind}"),
        };
        return Some(Mismatch {
            step: i,
            what: format!("the rail's {} books", crate::spec::symbol(asset)),
            model: "Σdust − payments ≤ balance − every claim ≤ Σdust + spans priced".to_string(),
            chain: why,
            checkable: false,
        });
    }
    None
}

/// Compares the values step `i` touched (everything after the last step) on the model and on the chain: the first
/// that differs.
fn check_values(
    spec: &Spec,
    model: &Model,
    chain: &mut Chain<'_>,
    i: usize,
    step: &Step,
    checkable: bool,
) -> Result<Option<Mismatch>> {
    let mut round = Round::default();
    let obs = if i + 1 == spec.steps.len() {
        final_obs(spec, model)
    } else {
        step_obs(spec, model, step)
    };
    for o in obs {
        if checkable && !o.checkable() {
            continue;
        }
        let m = model_value(model, spec, o);
        let c = chain.observe(o, &mut round)?;
        if m != c {
            return Ok(Some(Mismatch {
                step: i,
                what: describe(spec, o),
                model: show(&m),
                chain: show(&c),
                checkable: o.checkable(),
            }));
        }
    }
    Ok(None)
}

/// Every step's predicted revert (`None`: success), and the predicted values after the last step.
pub type Predictions = (Vec<Option<ErrorKind>>, Vec<(Obs, Result<U256, ErrorKind>)>);

/// The model's predictions for a spec that ends at its mismatch: every step's outcome (`Some(kind)` for a revert)
/// and the values to expect after the last step. `None` if the model cannot play it.
pub fn predictions(
    base_start: u64,
    spec: &Spec,
    mutation: Mutation,
    extra: &[Obs],
) -> Option<Predictions> {
    let mut model = Model::new(spec, params(spec), base_start, mutation);
    let mut outcomes = Vec::new();
    for step in &spec.steps {
        let out = model.step(spec, step).ok()?;
        outcomes.push(out.err());
    }
    let mut obs = final_obs(spec, &model);
    obs.extend_from_slice(extra);
    obs.sort();
    obs.dedup();
    let values = obs
        .into_iter()
        .map(|o| (o, model_value(&model, spec, o)))
        .collect();
    Some((outcomes, values))
}

//! A shrunk mismatch as a scenario file (`docs/scenarios.md`, `version = 1`) whose expectations are the model's:
//! `bulkhead simulate` on it fails on the real bytecode, showing the model's value as expected and the chain's as
//! actual.
//!
//! The file is the serde serialisation of the scenario's raw types ([`bulkhead_scenario::raw`]): the spec's
//! declarations, its steps (scenario actions already, written back field by field), and a final `expect` step of
//! the model's values, under a header of `#` comments. Steps the format has no action for (a bond withdrawal's
//! payout, a standing of some pools only, a reported slash, the reward rail's calls on a plain operator's pool) are
//! left out of the file and listed in the header; the caller gives the model's predictions for the file's own steps.

use alloy::primitives::U256;
use bulkhead_evm::ErrorKind;
use bulkhead_scenario::{
    Action, Amount, format_units,
    raw::{
        Named, PerName, PerPair, RawAvs, RawGuard, RawOperator, RawPool, RawReputation,
        RawScenario, RawStaker, RawStep, S, Scalar, spanless,
    },
};

use crate::{
    run::{Mismatch, Obs},
    spec::{RESOLVER, Spec, Step, symbol},
};

/// A string value.
fn text(v: &str) -> S<String> {
    Some(spanless(v.to_string()))
}

/// An optional string value.
fn opt(v: Option<&String>) -> S<String> {
    v.map(|v| spanless(v.clone()))
}

/// A list of names.
fn names(v: &[String]) -> Vec<toml::Spanned<String>> {
    v.iter().map(|n| spanless(n.clone())).collect()
}

/// A fraction (WAD) as its exact decimal.
fn frac(wad: u64) -> S<Scalar> {
    Some(spanless(Scalar::Str(format_units(U256::from(wad), 18))))
}

/// An exact amount: `"<n> raw"` (base units, or shares).
fn raw(v: U256) -> Scalar {
    Scalar::Str(format!("{v} raw"))
}

/// An integer (seconds, a round).
fn int(v: u64) -> S<Scalar> {
    Some(spanless(
        i64::try_from(v).map_or_else(|_| Scalar::Str(v.to_string()), Scalar::Int),
    ))
}

/// Writes `spec` as a scenario file. `outcomes[i]` is the model's revert for step `i` (`expect_revert`, by name),
/// `expect` the values the model predicts after the last step; `left_out` the steps of the run the format has no
/// action for (by their index in the run), which the header lists (`spec` holds none of them: see
/// [`Spec::scenario_only`]).
pub fn to_toml(
    spec: &Spec,
    title: &str,
    mismatch: &Mismatch,
    outcomes: &[Option<ErrorKind>],
    expect: &[(Obs, Result<U256, ErrorKind>)],
    left_out: &[(usize, Step)],
) -> String {
    let mut file = declarations(spec, title);
    for (i, action) in spec.steps.iter().filter_map(Step::action).enumerate() {
        let mut step = raw_step(spec, action);
        step.expect_revert = outcomes
            .get(i)
            .copied()
            .flatten()
            .and_then(|kind| text(kind.name()));
        file.steps.push(spanless(step));
    }
    let (expect, skipped) = expect_step(spec, expect);
    file.steps.push(spanless(expect));
    let body = toml::to_string(&file).expect("the raw types of a scenario serialise");
    let mut out = header(mismatch);
    if !left_out.is_empty() {
        out.push_str(
            "# The run also sent steps the scenario format has no action for; the file leaves them out, so it may \
             not show the disagreement:\n",
        );
        for (i, step) in left_out {
            out.push_str(&format!("#   step {i}: {}\n", describe_step(spec, step)));
        }
    }
    out.push_str(&body);
    if !skipped.is_empty() {
        out.push_str(&format!(
            "# not checkable (the model's view reverts): {}\n",
            skipped.join(", ")
        ));
    }
    out
}

/// The `#` comments above the file: what it is, and the mismatch it shows.
fn header(mismatch: &Mismatch) -> String {
    let mut t = String::from(
        "# Written by `bulkhead stress`: a minimal scenario on which the Rust model and the real bytecode disagree.\n\
         # The expectations are the model's predictions: `bulkhead simulate` on this file fails where they differ.\n",
    );
    t.push_str(&format!(
        "# After step {}: {}: model {}, chain {}.\n",
        mismatch.step, mismatch.what, mismatch.model, mismatch.chain
    ));
    if !mismatch.checkable {
        t.push_str(
            "# That value has no check in the scenario format and the difference reaches no checkable value here: the \
             file replays the steps, and `bulkhead simulate` passes on it.\n",
        );
    }
    t
}

/// A step the format cannot write, in words.
fn describe_step(spec: &Spec, step: &Step) -> String {
    let avs = |a: usize| spec.avs[a].name.as_str();
    match step {
        Step::CompleteUnbond { avs: a, asset } => format!(
            "avsAdmin completes the withdrawal of {}'s {} bond (completeBondWithdrawal)",
            avs(*a),
            symbol(*asset)
        ),
        Step::Refresh { avs: a, pools } => format!(
            "refreshStanding({}, [{}])",
            avs(*a),
            pools
                .iter()
                .map(|&p| spec.pools[p].name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Step::ReportExecuted { request } => format!("reportExecutedSlash({request})"),
        Step::EnableRewards { pool, by } => {
            format!(
                "{by} turns rewards on for {} (enableRewards)",
                spec.pools[*pool].name
            )
        }
        Step::SetCommission { pool, bps, by } => format!(
            "{by} sets the commission of {} to {bps} bps (setCommission)",
            spec.pools[*pool].name
        ),
        Step::Pay {
            pool,
            amount,
            max_commission_bps,
        } => format!(
            "payer pays {amount} raw {} to {} (pay, commission at most {max_commission_bps} bps)",
            symbol(spec.pools[*pool].asset),
            spec.pools[*pool].name
        ),
        Step::ClaimRewards { staker, pool } => {
            format!(
                "{staker} claims its rewards from {} (claim)",
                spec.pools[*pool].name
            )
        }
        Step::ClaimEscrowRewards { staker, withdrawal } => {
            format!("{staker} claims the escrow rewards of {withdrawal} (claimEscrow)")
        }
        Step::ClaimCommission { operator, asset } => format!(
            "{operator} claims its {} commission (claimCommission)",
            symbol(*asset)
        ),
        Step::Scenario(action) => action.name().to_string(),
    }
}

/// An `{ <asset> = "<n> raw" }` table.
fn per_asset(amounts: &[(usize, U256)]) -> Option<Named<toml::Spanned<Scalar>>> {
    (!amounts.is_empty()).then(|| {
        Named(
            amounts
                .iter()
                .map(|&(asset, amount)| {
                    (spanless(symbol(asset).to_string()), spanless(raw(amount)))
                })
                .collect(),
        )
    })
}

/// Everything but the steps: name, operators, stakers, the guard, `[reputation]`, AVSs (instant, or veto with the
/// shared resolver; their setup bonds) and pools.
fn declarations(spec: &Spec, title: &str) -> RawScenario {
    let avs = spec.avs.iter().enumerate().map(|(i, avs)| {
        let veto = avs.veto_window.is_some();
        spanless(RawAvs {
            name: text(&avs.name),
            kind: text(if veto { "veto" } else { "instant" }),
            veto_window: avs.veto_window.and_then(int),
            resolver: if veto { text(RESOLVER) } else { None },
            max_slash: frac(avs.max_slash),
            sink: text(&if avs.burn {
                "burn".to_string()
            } else {
                spec.sink_name(i)
            }),
            bond: per_asset(&avs.bond),
            ..RawAvs::default()
        })
    });
    let pools = spec.pools.iter().map(|pool| {
        spanless(RawPool {
            name: text(&pool.name),
            operator: text(&spec.operators[pool.operator]),
            asset: match pool.tier_of {
                None => text(symbol(pool.asset)),
                Some(_) => None,
            },
            tier_of: pool.tier_of.and_then(|base| text(&spec.pools[base].name)),
        })
    });
    RawScenario {
        version: Some(spanless(Scalar::Int(1))),
        name: text(title),
        description: Some(format!(
            "stress scenario seed {:#x}, shrunk to {} steps",
            spec.seed,
            spec.steps.len()
        )),
        operators: (spec.operators.iter())
            .map(|n| {
                spanless(RawOperator {
                    name: text(n),
                    ..RawOperator::default()
                })
            })
            .collect(),
        stakers: (spec.stakers.iter())
            .map(|n| {
                spanless(RawStaker {
                    name: text(n),
                    funding: None,
                })
            })
            .collect(),
        guard: spec.guard.map(|(max, window)| {
            spanless(RawGuard {
                max_fraction: frac(max),
                window: int(u64::from(window)),
            })
        }),
        reputation: spec.reputation.as_ref().map(|units| {
            spanless(RawReputation {
                evidence_units: per_asset(units),
            })
        }),
        avs: avs.collect(),
        pools: pools.collect(),
        ..RawScenario::default()
    }
}

/// One step as the file writes it: the inverse of the loader (`Loader::action`). An `expect` step (which the model
/// refuses, so no generated or shrunk spec has one) is written without its checks.
fn raw_step(spec: &Spec, action: &Action) -> RawStep {
    let pool = |p: usize| text(&spec.pools[p].name);
    let avs = |a: usize| text(&spec.avs[a].name);
    let mut step = RawStep {
        action: text(action.name()),
        ..RawStep::default()
    };
    match action {
        Action::Deposit {
            staker,
            pool: p,
            amount,
        } => {
            step.staker = text(staker);
            step.pool = pool(*p);
            step.amount = Some(spanless(raw(*amount)));
        }
        Action::DepositToTier {
            staker,
            pool: p,
            shares,
        } => {
            step.staker = text(staker);
            step.pool = pool(*p);
            step.shares = Some(spanless(raw(*shares)));
        }
        Action::Allocate {
            pool: p,
            avs: a,
            mode,
            fraction,
            by,
            opt_in,
        } => {
            step.pool = pool(*p);
            step.avs = avs(*a);
            step.mode = text(mode.name());
            step.fraction = frac(*fraction);
            step.by = opt(by.as_ref());
            step.opt_in = (!opt_in).then(|| spanless(false));
        }
        Action::Deallocate {
            pool: p,
            avs: a,
            fraction,
            by,
        } => {
            step.pool = pool(*p);
            step.avs = avs(*a);
            step.fraction = frac(*fraction);
            step.by = opt(by.as_ref());
        }
        Action::Warp { seconds } => step.duration = int(*seconds),
        Action::QueueWithdrawal {
            staker,
            pool: p,
            amount,
            label,
        } => {
            step.staker = text(staker);
            step.pool = pool(*p);
            match amount {
                Amount::Shares(shares) => step.shares = Some(spanless(raw(*shares))),
                Amount::Fraction(f) => step.fraction = frac(*f),
            }
            step.label = opt(label.as_ref());
        }
        Action::Claim {
            staker,
            withdrawal,
            receiver,
        } => {
            step.staker = text(staker);
            step.withdrawal = opt(withdrawal.as_ref());
            step.receiver = opt(receiver.as_ref());
        }
        Action::RequestSlash {
            avs: a,
            pool: p,
            fraction,
            label,
            by,
            voters,
        } => {
            step.avs = avs(*a);
            step.pool = pool(*p);
            step.fraction = frac(*fraction);
            step.label = opt(label.as_ref());
            step.by = opt(by.as_ref());
            step.voters = voters.as_deref().map(|v| spanless(names(v)));
        }
        Action::Veto {
            avs: a,
            request,
            by,
        }
        | Action::ExecuteSlash {
            avs: a,
            request,
            by,
        } => {
            step.avs = avs(*a);
            step.request = opt(request.as_ref());
            step.by = opt(by.as_ref());
        }
        Action::Slash {
            avs: a,
            pool: p,
            fraction,
            by,
        } => {
            step.avs = avs(*a);
            step.pool = pool(*p);
            step.fraction = frac(*fraction);
            step.by = opt(by.as_ref());
        }
        Action::DoubleSign {
            avs: a,
            operator,
            round,
            pools,
            signer,
            by,
        } => {
            step.avs = avs(*a);
            step.operator = text(operator);
            step.round = int(*round);
            step.pools = pools.as_ref().map(|ps| {
                spanless(
                    ps.iter()
                        .map(|&p| spanless(spec.pools[p].name.clone()))
                        .collect(),
                )
            });
            step.signer = opt(signer.as_ref());
            step.by = opt(by.as_ref());
        }
        Action::OptIn { operator, avs: a } | Action::OptOut { operator, avs: a } => {
            step.operator = text(operator);
            step.avs = avs(*a);
        }
        Action::Bond { .. }
        | Action::Unbond { .. }
        | Action::Checkpoint { .. }
        | Action::RefreshStanding { .. }
        | Action::Reprice { .. } => reputation_step(spec, action, &mut step),
        // `expect`, and the market's steps: the model refuses them, so no generated or shrunk spec holds one.
        _ => {}
    }
    step
}

/// The reputation layer's steps, written as the loader reads them.
fn reputation_step(spec: &Spec, action: &Action, step: &mut RawStep) {
    let pool = |p: usize| text(&spec.pools[p].name);
    let avs = |a: usize| text(&spec.avs[a].name);
    match action {
        Action::Bond {
            avs: a,
            asset,
            amount,
            by,
        } => {
            step.avs = avs(*a);
            step.asset = text(symbol(*asset));
            step.amount = Some(spanless(raw(*amount)));
            step.by = opt(by.as_ref());
        }
        Action::Unbond {
            avs: a,
            asset,
            amount,
        } => {
            step.avs = avs(*a);
            step.asset = text(symbol(*asset));
            step.amount = Some(spanless(raw(*amount)));
        }
        Action::Checkpoint {
            avs: a,
            operator,
            pool: p,
            by,
        } => {
            step.avs = a.and_then(&avs);
            step.operator = opt(operator.as_ref());
            step.pool = pool(*p);
            step.by = opt(by.as_ref());
        }
        Action::RefreshStanding { avs: a, by } => {
            step.avs = avs(*a);
            step.by = opt(by.as_ref());
        }
        Action::Reprice { pool: p } => step.pool = pool(*p),
        _ => {}
    }
}

/// The final `expect` step: the model's value of every checkable quantity in `expect`; and the quantities left out
/// because the model's view reverts.
fn expect_step(spec: &Spec, expect: &[(Obs, Result<U256, ErrorKind>)]) -> (RawStep, Vec<String>) {
    let mut step = RawStep {
        action: text("expect"),
        note: text("the model's values"),
        ..RawStep::default()
    };
    let mut skipped = Vec::new();
    for (obs, value) in expect {
        let Ok(v) = value else {
            skipped.push(format!("{obs:?}"));
            continue;
        };
        let v = *v;
        let pool = |p: usize| spec.pools[p].name.as_str();
        match *obs {
            Obs::PoolValue(p) => per_name(&mut step.pool_value, pool(p), raw(v)),
            Obs::Isolated(p) => per_name(&mut step.isolated, pool(p), raw(v)),
            Obs::Shared(p) => per_name(&mut step.shared, pool(p), raw(v)),
            Obs::Reuse(p) => per_name(
                &mut step.reuse_ratio,
                pool(p),
                Scalar::Str(format!("{}x", format_units(v, 18))),
            ),
            Obs::Guard(p) => per_name(
                &mut step.guard_used,
                pool(p),
                Scalar::Str(format_units(v, 18)),
            ),
            Obs::Backing(a, p) => per_pair(&mut step.backing, &spec.avs[a].name, pool(p), raw(v)),
            Obs::Position(s, p) => per_pair(&mut step.position, &spec.stakers[s], pool(p), raw(v)),
            Obs::Escrow(s, p) => per_pair(&mut step.escrow, &spec.stakers[s], pool(p), raw(v)),
            Obs::Balance(s, a) => per_pair(&mut step.balance, &spec.stakers[s], symbol(a), raw(v)),
            Obs::Sink(avs, a) => per_pair(&mut step.sink, &spec.avs[avs].name, symbol(a), raw(v)),
            Obs::VaultBalance(a) => per_pair(&mut step.balance, "vault", symbol(a), raw(v)),
            Obs::Rating(a) => per_name(
                &mut step.rating,
                &spec.avs[a].name,
                Scalar::Str(format_units(v, 18)),
            ),
            Obs::RiskWeight(a) => {
                let tenths = v.saturating_to::<u64>();
                let shown = format!("{}.{}x", tenths / 10, tenths % 10);
                per_name(&mut step.risk_weight, &spec.avs[a].name, Scalar::Str(shown));
            }
            Obs::BondShort(a) => {
                per_name(
                    &mut step.bond_short,
                    &spec.avs[a].name,
                    Scalar::Bool(!v.is_zero()),
                );
            }
            Obs::Bond(a, asset) => {
                per_pair(&mut step.bond, &spec.avs[a].name, symbol(asset), raw(v))
            }
            // The scenario format cannot check the others (the mismatch line of the header names them), nor a
            // sink's position: `position` names stakers.
            _ => {}
        }
    }
    (step, skipped)
}

/// Adds `key = value` to a `{ <name> = <value> }` check.
fn per_name(check: &mut S<PerName>, key: &str, value: Scalar) {
    let table = check.get_or_insert_with(|| spanless(Named(Vec::new())));
    (table.get_mut().0).push((spanless(key.to_string()), spanless(value)));
}

/// Adds `who = { key = value }` to a `{ <name> = { <name> = <value> } }` check.
fn per_pair(check: &mut S<PerPair>, who: &str, key: &str, value: Scalar) {
    let outer = &mut check
        .get_or_insert_with(|| spanless(Named(Vec::new())))
        .get_mut()
        .0;
    let i = match outer.iter().position(|(w, _)| w.get_ref() == who) {
        Some(i) => i,
        None => {
            outer.push((spanless(who.to_string()), Named(Vec::new())));
            outer.len() - 1
        }
    };
    outer[i]
        .1
        .0
        .push((spanless(key.to_string()), spanless(value)));
}

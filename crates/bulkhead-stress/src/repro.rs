//! A shrunk mismatch as a scenario file (`docs/scenarios.md`, `version = 1`) whose expectations are the model's:
//! `bulkhead simulate` on it fails on the real bytecode, showing the model's value as expected and the chain's as
//! actual.

use std::fmt::Write as _;

use alloy::primitives::U256;
use bulkhead_evm::ErrorKind;

use crate::{
    run::{Mismatch, Obs},
    spec::{Action, Spec, symbol},
};
use bulkhead_scenario::format_units;

fn frac(wad: u64) -> String {
    format!("\"{}\"", format_units(U256::from(wad), 18))
}

fn raw(v: U256) -> String {
    format!("\"{v} raw\"")
}

fn q(s: &str) -> String {
    format!("\"{s}\"")
}

/// Writes `spec` as a scenario file. `outcomes[i]` is the model's revert for step `i` (`expect_revert`, by name), `expect`
/// the values the model predicts after the last step.
pub fn to_toml(
    spec: &Spec,
    title: &str,
    mismatch: &Mismatch,
    outcomes: &[Option<ErrorKind>],
    expect: &[(Obs, Result<U256, ErrorKind>)],
) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "# Written by `bulkhead stress`: a minimal scenario on which the Rust model and the real bytecode disagree."
    );
    let _ = writeln!(
        t,
        "# The expectations are the model's predictions: `bulkhead simulate` on this file fails where they differ."
    );
    let _ = writeln!(
        t,
        "# After step {}: {}: model {}, chain {}.",
        mismatch.step, mismatch.what, mismatch.model, mismatch.chain
    );
    if ["getPool(", "getAllocation(", "avsBacking(", "positionsOf("]
        .iter()
        .any(|view| mismatch.what.starts_with(view))
    {
        let _ = writeln!(
            t,
            "# That view has no check in the scenario format and the difference reaches no checkable value here: the \
             file replays the steps, and `bulkhead simulate` passes on it."
        );
    }
    let _ = writeln!(t, "version = 1");
    let _ = writeln!(t, "name = {}", q(title));
    let _ = writeln!(
        t,
        "description = {}",
        q(&format!(
            "stress scenario seed {:#x}, shrunk to {} steps",
            spec.seed,
            spec.steps.len()
        ))
    );
    t.push('\n');
    let list = |names: &[String]| {
        names
            .iter()
            .map(|n| format!("{{ name = {} }}", q(n)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(t, "operators = [{}]", list(&spec.operators));
    let _ = writeln!(t, "stakers = [{}]", list(&spec.stakers));
    if let Some((max, window)) = spec.guard {
        let _ = writeln!(
            t,
            "\n[guard]\nmax_fraction = {}\nwindow = {window}",
            frac(max)
        );
    }
    for (i, avs) in spec.avs.iter().enumerate() {
        let _ = writeln!(t, "\n[[avs]]\nname = {}", q(&avs.name));
        match avs.veto_window {
            Some(w) => {
                let _ = writeln!(
                    t,
                    "kind = \"veto\"\nveto_window = {w}\nresolver = {}",
                    q(crate::spec::RESOLVER)
                );
            }
            None => {
                let _ = writeln!(t, "kind = \"instant\"");
            }
        }
        let sink = if avs.burn {
            "burn".to_string()
        } else {
            spec.sink_name(i)
        };
        let _ = writeln!(
            t,
            "max_slash = {}\nsink = {}",
            frac(avs.max_slash),
            q(&sink)
        );
    }
    for pool in &spec.pools {
        let collateral = match pool.tier_of {
            Some(base) => format!("tier_of = {}", q(&spec.pools[base].name)),
            None => format!("asset = {}", q(symbol(pool.asset))),
        };
        let _ = writeln!(
            t,
            "\n[[pools]]\nname = {}\noperator = {}\n{collateral}",
            q(&pool.name),
            q(&spec.operators[pool.operator]),
        );
    }
    for (i, action) in spec.steps.iter().enumerate() {
        let _ = writeln!(t, "\n[[steps]]\naction = \"{}\"", action.name());
        let pool = |p: usize| q(&spec.pools[p].name);
        let avs = |a: usize| q(&spec.avs[a].name);
        let fields = match *action {
            Action::Deposit {
                staker,
                pool: p,
                amount,
            } => format!(
                "staker = {}\npool = {}\namount = {}",
                q(&spec.stakers[staker]),
                pool(p),
                raw(amount)
            ),
            Action::DepositToTier {
                staker,
                pool: p,
                shares,
            } => format!(
                "staker = {}\npool = {}\nshares = {}",
                q(&spec.stakers[staker]),
                pool(p),
                raw(shares)
            ),
            Action::Allocate {
                pool: p,
                avs: a,
                mode,
                fraction,
            } => format!(
                "pool = {}\navs = {}\nmode = \"{}\"\nfraction = {}",
                pool(p),
                avs(a),
                mode.name(),
                frac(fraction)
            ),
            Action::Deallocate {
                pool: p,
                avs: a,
                fraction,
            } => format!(
                "pool = {}\navs = {}\nfraction = {}",
                pool(p),
                avs(a),
                frac(fraction)
            ),
            Action::Warp { seconds } => format!("duration = {seconds}"),
            Action::Queue {
                staker,
                pool: p,
                fraction,
                label,
            } => format!(
                "staker = {}\npool = {}\nfraction = {}\nlabel = \"w{label}\"",
                q(&spec.stakers[staker]),
                pool(p),
                frac(fraction)
            ),
            Action::Claim { staker, label } => format!(
                "staker = {}\nwithdrawal = \"w{label}\"",
                q(&spec.stakers[staker])
            ),
            Action::Slash {
                avs: a,
                pool: p,
                fraction,
            } => format!(
                "avs = {}\npool = {}\nfraction = {}",
                avs(a),
                pool(p),
                frac(fraction)
            ),
            Action::Request {
                avs: a,
                pool: p,
                fraction,
                label,
            } => format!(
                "avs = {}\npool = {}\nfraction = {}\nlabel = \"r{label}\"",
                avs(a),
                pool(p),
                frac(fraction)
            ),
            Action::Veto { label } | Action::Execute { label } => format!("request = \"r{label}\""),
            Action::OptIn { operator, avs: a } | Action::OptOut { operator, avs: a } => format!(
                "operator = {}\navs = {}",
                q(&spec.operators[operator]),
                avs(a)
            ),
        };
        t.push_str(&fields);
        t.push('\n');
        if let Some(Some(kind)) = outcomes.get(i) {
            let _ = writeln!(t, "expect_revert = {}", q(kind.name()));
        }
    }

    // The model's values after the last step, grouped by check.
    let mut sections: Vec<(&str, Vec<String>)> = Vec::new();
    let mut nested: Vec<(&str, String, Vec<String>)> = Vec::new();
    let mut flat =
        |key: &'static str, entry: String| match sections.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(entry),
            None => sections.push((key, vec![entry])),
        };
    let mut skipped = Vec::new();
    for (obs, value) in expect {
        let Ok(v) = value else {
            skipped.push(format!("{obs:?}"));
            continue;
        };
        let v = *v;
        let pool = |p: usize| spec.pools[p].name.clone();
        match *obs {
            Obs::PoolValue(p) => flat("pool_value", format!("{} = {}", pool(p), raw(v))),
            Obs::Isolated(p) => flat("isolated", format!("{} = {}", pool(p), raw(v))),
            Obs::Shared(p) => flat("shared", format!("{} = {}", pool(p), raw(v))),
            Obs::Reuse(p) => flat(
                "reuse_ratio",
                format!("{} = \"{}x\"", pool(p), format_units(v, 18)),
            ),
            Obs::Guard(p) => flat(
                "guard_used",
                format!("{} = \"{}\"", pool(p), format_units(v, 18)),
            ),
            Obs::Backing(a, p) => {
                push_nested(
                    &mut nested,
                    "backing",
                    &spec.avs[a].name,
                    format!("{} = {}", pool(p), raw(v)),
                );
            }
            Obs::Position(s, p) => {
                push_nested(
                    &mut nested,
                    "position",
                    &spec.stakers[s],
                    format!("{} = {}", pool(p), raw(v)),
                );
            }
            Obs::Escrow(s, p) => {
                push_nested(
                    &mut nested,
                    "escrow",
                    &spec.stakers[s],
                    format!("{} = {}", pool(p), raw(v)),
                );
            }
            Obs::Balance(s, a) => {
                push_nested(
                    &mut nested,
                    "balance",
                    &spec.stakers[s],
                    format!("{} = {}", symbol(a), raw(v)),
                );
            }
            // The scenario format cannot check these: the mismatch line above names them.
            Obs::PoolField(..) | Obs::AllocField(..) | Obs::AvsTotal(_) => {}
            // Nor a sink's position: `position` names stakers.
            Obs::SinkPosition(..) => {}
            Obs::Sink(avs, a) => {
                push_nested(
                    &mut nested,
                    "sink",
                    &spec.avs[avs].name,
                    format!("{} = {}", symbol(a), raw(v)),
                );
            }
        }
    }
    let _ = writeln!(
        t,
        "\n[[steps]]\naction = \"expect\"\nnote = \"the model's values\""
    );
    for (key, entries) in sections {
        let _ = writeln!(t, "{key} = {{ {} }}", entries.join(", "));
    }
    let mut keys: Vec<&str> = Vec::new();
    for (k, _, _) in &nested {
        if !keys.contains(k) {
            keys.push(k);
        }
    }
    for key in keys {
        let inner: Vec<String> = nested
            .iter()
            .filter(|(k, _, _)| *k == key)
            .map(|(_, who, entries)| format!("{} = {{ {} }}", q(who), entries.join(", ")))
            .collect();
        let _ = writeln!(t, "{key} = {{ {} }}", inner.join(", "));
    }
    if !skipped.is_empty() {
        let _ = writeln!(
            t,
            "# not checkable (the model's view reverts): {}",
            skipped.join(", ")
        );
    }
    t
}

fn push_nested(
    nested: &mut Vec<(&'static str, String, Vec<String>)>,
    key: &'static str,
    who: &str,
    entry: String,
) {
    match nested.iter_mut().find(|(k, w, _)| *k == key && w == who) {
        Some((_, _, v)) => v.push(entry),
        None => nested.push((key, who.to_string(), vec![entry])),
    }
}

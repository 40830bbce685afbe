//! `bulkhead audit`: the restaking risk engine on a network file, on the final state of a scenario, or on a
//! deployment read over JSON-RPC. Prints tables (or one JSON object) and optionally writes a self-contained HTML
//! report.

use std::{path::PathBuf, process::ExitCode, time::Instant};

use bulkhead_risk::{AuditOptions, Exact, Report, exposure::Basis, html, network, number};

use crate::ui::{self, table};
use bulkhead_audit::{
    Bearers, FaultRate, RiskPricing, Source, Terms,
    pricing::{self, short},
};
use comfy_table::{Cell, CellAlignment};
use eyre::WrapErr;
use tracing::info;

/// Arguments of `bulkhead audit`: exactly one source, `--network`, `--scenario` or `--rpc-url`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["network", "scenario", "rpc_url"])))]
pub struct AuditArgs {
    /// Network file (JSON: model, validators, services, edges or allocations; see docs/audit.md).
    #[arg(long, value_name = "FILE")]
    network: Option<PathBuf>,

    /// Audit the final state of this scenario (run on the embedded EVM): the pools' compartments are validators,
    /// AVSs services.
    #[arg(long, value_name = "FILE", requires = "terms")]
    scenario: Option<PathBuf>,

    /// Audit the deployment on the chain at this JSON-RPC URL (read through a fork; nothing is sent).
    #[arg(long, value_name = "URL", requires = "terms")]
    rpc_url: Option<String>,

    /// Block to read the chain at (default: the latest).
    #[arg(long, value_name = "N", requires = "rpc_url")]
    block: Option<u64>,

    /// Deployment file of the chain [default: deployments/<chainId>.json].
    #[arg(long, value_name = "FILE", requires = "rpc_url")]
    deployment: Option<PathBuf>,

    /// Off-chain terms for --scenario / --rpc-url: per AVS its profit from corruption and threshold, per asset its
    /// price (JSON; see docs/audit.md).
    #[arg(long, value_name = "FILE")]
    terms: Option<PathBuf>,

    /// Shock sizes ψ for worst_case_loss, as fractions of the total stake ("1/10", "0.01"); default 1/100 and 1/10.
    #[arg(long, value_name = "PSI", num_args = 1.., action = clap::ArgAction::Append)]
    psi: Vec<String>,

    /// Prior annual fault probability of an AVS without a rating, for --scenario / --rpc-url's risk pricing (the
    /// chance in a year that its slashes take what it backs; with a rating r, this × (1 − r)): "1/20", "0.05".
    #[arg(long, value_name = "P", default_value = FaultRate::DEFAULT, conflicts_with = "network")]
    fault_rate: String,

    /// Print one JSON object instead of tables.
    #[arg(long)]
    json: bool,

    /// Also write a self-contained HTML report (inline SVG charts) to this file.
    #[arg(long, value_name = "OUT")]
    html: Option<PathBuf>,

    /// Skip the exact searches: certified bounds and a greedy heuristic attack (for large networks).
    #[arg(long)]
    bounds_only: bool,

    /// Budget of each exact search, in nodes (heavier nodes count more; 20 M is a few seconds); past it the measure
    /// is reported as certified bounds.
    #[arg(long, value_name = "N", default_value_t = 20_000_000)]
    node_limit: u64,
}

/// Runs the audit. Exit status: 0 when no profitable attack exists (or none was found with bounds), 1 when the
/// network is insecure, 2 if the file could not be loaded or the report not written.
pub fn run(args: &AuditArgs) -> ExitCode {
    match audit(args) {
        Ok(report) if report.secure == Some(false) => ExitCode::from(1),
        Ok(_) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// The network to audit, and, from a scenario or a chain, the pools and stakers behind it.
fn load(args: &AuditArgs) -> eyre::Result<(network::Network, Option<Source>, String)> {
    let terms = || Terms::load(args.terms.as_deref().expect("clap requires --terms"));
    let (source, title) = if let Some(path) = &args.network {
        let title = path
            .file_name()
            .map_or_else(|| "network".into(), |n| n.to_string_lossy().into_owned());
        return Ok((network::load(path)?, None, title));
    } else if let Some(path) = &args.scenario {
        (
            Source::from_scenario(path, &terms()?)?,
            format!("scenario {}", path.display()),
        )
    } else {
        let url = args.rpc_url.as_deref().expect("clap requires an input");
        let engine = bulkhead_evm::Engine::fork(url, args.block)?;
        let chain_id = engine.config().chain_id;
        let path = args
            .deployment
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("deployments/{chain_id}.json")));
        let deployment = bulkhead_evm::Deployment::load(&path)?;
        (
            Source::from_chain(&engine, &deployment, &terms()?)?,
            format!("chain {chain_id} at {url}"),
        )
    };
    Ok((source.parse_network()?, Some(source), title))
}

fn audit(args: &AuditArgs) -> eyre::Result<Report> {
    let started = Instant::now();
    // Its error names the flag's value: `fault rate "2": a probability a year is from 0 to 1 …`.
    let prior = FaultRate::parse(&args.fault_rate)?;
    let (network, source, title) = load(args)?;
    let texts = if args.psi.is_empty() {
        vec!["1/100".to_string(), "1/10".to_string()]
    } else {
        args.psi.clone()
    };
    let psis = texts
        .iter()
        .map(|t| {
            let q = number::parse(t).map_err(|e| eyre::eyre!("--psi: {e}"))?;
            eyre::ensure!(
                q >= number::Q::from_integer(0.into()) && q <= number::Q::from_integer(1.into()),
                "--psi {t}: a shock is a fraction of the stake, from 0 to 1 (e.g. 1/10)"
            );
            Ok((t.clone(), q))
        })
        .collect::<eyre::Result<Vec<_>>>()?;
    let (curve, sampled) = if args.html.is_some() {
        loss_breakpoints(&network)
    } else {
        (Vec::new(), false)
    };
    let opts = AuditOptions {
        psis,
        bounds_only: args.bounds_only,
        node_limit: args.node_limit,
        curve,
    };
    let mut report = bulkhead_risk::audit(&network, &opts)?;
    info!("audit of {title} in {:.2?}", started.elapsed());
    let bearers = source.as_ref().map(Source::bearers);
    if let Some(bearers) = &bearers {
        // Who bears each failure as the chain books it, not as the network model would: one set of figures.
        report.exposure.fails_alone = report
            .exposure
            .services
            .iter()
            .filter_map(|s| bearers.iter().find(|b| b.service == s.id))
            .map(Bearers::fails_alone)
            .collect();
        report.exposure.fails_alone_basis = Basis::Chain;
    }
    // Risk-priced security: each AVS's break-even premium beside what the market pays.
    let priced = match (&source, &bearers) {
        (Some(source), Some(bearers)) => Some(source.risk_pricing(bearers, &prior)?),
        _ => None,
    };
    if let Some(out) = &args.html {
        if sampled {
            report.notes.push(
                "loss curve: more than 96 sums of validator stakes below ψ = 1/2, so it is sampled at 21 points; \
                 between two samples the loss lies between their steps"
                    .into(),
            );
        }
        let unit = source.as_ref().map_or("stake units", Source::unit);
        let rows: Vec<html::Bearers> = bearers
            .iter()
            .flatten()
            .map(|b| html::Bearers {
                service: b.service.clone(),
                pools: b.pools.clone(),
                stakers: b.stakers.clone(),
            })
            .collect();
        let sections: Vec<String> = priced.iter().map(RiskPricing::html).collect();
        std::fs::write(
            out,
            html::render_with(&report, &title, unit, &rows, &sections),
        )
        .wrap_err_with(|| format!("writing {}", out.display()))?;
    }
    if args.json {
        let mut value = serde_json::to_value(&report)?;
        if let (Some(bearers), Some(exposure)) = (&bearers, value.get_mut("exposure")) {
            exposure["bearers"] = serde_json::to_value(bearers)?;
        }
        if let Some(source) = source.as_ref().filter(|s| !s.reputation().is_empty()) {
            let avs: serde_json::Map<String, serde_json::Value> = source
                .reputation()
                .iter()
                .map(|(name, r)| Ok((name.clone(), serde_json::to_value(r)?)))
                .collect::<eyre::Result<_>>()?;
            value["reputation"] = serde_json::Value::Object(avs);
            value["operator_reputation"] = serde_json::to_value(source.operator_reputation())?;
        }
        if let Some(priced) = &priced {
            value["risk_pricing"] = serde_json::to_value(priced)?;
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else if ui::quiet() {
        println!("{title}: {}", verdict_line(&report));
    } else {
        print!("{}", render(&report));
        if let Some(bearers) = &bearers {
            print!("{}", render_bearers(bearers));
        }
        if let Some(source) = source.as_ref().filter(|s| !s.reputation().is_empty()) {
            print!("{}", render_reputation(source.reputation()));
            print!("{}", render_operators(source.operator_reputation()));
        }
        if let Some(priced) = &priced {
            print!("{}", render_pricing(priced));
        }
        if let Some(out) = &args.html {
            println!("HTML report: {}", out.display());
        }
    }
    Ok(report)
}

/// A rational with a decimal hint: `"3/5 (≈0.6000)"`; an integer as it is.
fn show(q: &Exact) -> String {
    if q.is_integer() {
        q.to_string()
    } else {
        format!("{q} (≈{:.4})", q.approx())
    }
}

/// A fraction with its percentage: `"3/5 (60.000%)"`.
fn pct(q: &Exact) -> String {
    format!("{q} ({:.3}%)", 100.0 * q.approx())
}

const ROWS: usize = 20;

/// The verdict and the best attack's figure, on one line (`--quiet`).
fn verdict_line(r: &Report) -> String {
    let verdict = match r.secure {
        Some(true) => ui::good("SECURE"),
        Some(false) => ui::bad("INSECURE"),
        None => "UNDECIDED (bounds only)".to_string(),
    };
    let profit = r
        .max_attack_profit
        .as_ref()
        .map_or_else(String::new, |p| format!(", max_attack_profit {p}"));
    verdict + &profit
}

/// The ψ at which worst_case_loss can change: every sum of validator stakes up to half the total (the loss is
/// constant between two of them, so the chart's steps are exact). Past 16 validators or 96 sums, 21 samples
/// instead (the second value says so).
fn loss_breakpoints(net: &network::Network) -> (Vec<number::Q>, bool) {
    use number::Q;
    let stakes: Vec<&Q> = net.validators.iter().map(|v| &v.stake).collect();
    let total: Q = stakes
        .iter()
        .fold(Q::from_integer(0.into()), |acc, s| acc + *s);
    let half = Q::new(1.into(), 2.into());
    let sampled = || (0..=20).map(|k| Q::new(k.into(), 40.into())).collect();
    if stakes.len() > 16 || total <= Q::from_integer(0.into()) {
        return (sampled(), true);
    }
    let mut sums = std::collections::BTreeSet::new();
    for mask in 0u32..(1 << stakes.len()) {
        let sum = (0..stakes.len())
            .filter(|i| mask & (1 << i) != 0)
            .fold(Q::from_integer(0.into()), |acc, i| acc + stakes[i]);
        let psi = sum / &total;
        if psi <= half {
            sums.insert(psi);
        }
        if sums.len() > 96 {
            return (sampled(), true);
        }
    }
    sums.insert(half);
    (sums.into_iter().collect(), false)
}

/// The report as tables: the verdict, the best attack, the loss curve, exposure and who bears each failure.
fn render(r: &Report) -> String {
    let mut out = String::new();
    render_summary(r, &mut out);
    render_attack(r, &mut out);
    render_loss_curve(r, &mut out);
    render_exposure(r, &mut out);
    render_fails_alone(r, &mut out);
    for n in &r.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out
}

/// `(top N of M)` when a table shows only the first [`ROWS`].
fn more(n: usize) -> String {
    if n > ROWS {
        format!(" (top {ROWS} of {n})")
    } else {
        String::new()
    }
}

fn render_summary(r: &Report, out: &mut String) {
    let verdict = match r.secure {
        Some(true) => "SECURE: no attack with profit − cost > 0",
        Some(false) => "INSECURE: a profitable attack exists",
        None => "UNDECIDED (bounds only)",
    };
    let mut s = table(&["audit", ""]);
    s.add_row(vec!["mode".to_string(), r.mode.to_string()]);
    s.add_row(vec![
        "network".to_string(),
        format!(
            "{} model, {} validators, {} services, stake {}, profit {}",
            serde_json::to_value(r.network.model)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            r.network.validators,
            r.network.services,
            r.network.total_stake,
            r.network.total_profit
        ),
    ]);
    s.add_row(vec![
        Cell::new("verdict"),
        ui::verdict_cell(verdict, r.secure != Some(false)),
    ]);
    match (&r.max_attack_profit, &r.bounds.max_attack_profit) {
        (Some(v), _) => s.add_row(vec!["max_attack_profit".to_string(), show(v)]),
        (None, Some(i)) => s.add_row(vec![
            "max_attack_profit".to_string(),
            format!(
                "in [{}, {}] (certified bounds)",
                show(&i.lower),
                i.upper.as_ref().map_or("?".into(), show)
            ),
        ]),
        _ => s.add_row(vec!["max_attack_profit".to_string(), "-".to_string()]),
    };
    let byz = match (
        r.min_byzantine_services,
        &r.bounds.min_byzantine_services,
        &r.byzantine_set,
    ) {
        (Some(k), _, Some(z)) => format!("{k} {{{}}}", z.join(", ")),
        (Some(k), _, None) => k.to_string(),
        (None, Some((lo, hi)), _) => {
            format!("≥ {lo}{}", hi.map_or(String::new(), |h| format!(", ≤ {h}")))
        }
        (None, None, _) => "none: no set of failing services makes the rest insecure".to_string(),
    };
    s.add_row(vec!["min_byzantine_services".to_string(), byz]);
    s.add_row(vec![
        "certificate γ (D&R)".to_string(),
        match (&r.certificate.gamma, r.certificate.unbounded) {
            (Some(g), _) => show(g),
            (None, true) => "any γ (no profit at stake)".to_string(),
            (None, false) => "none (the sufficient condition fails)".to_string(),
        },
    ]);
    out.push_str(&format!("{s}\n"));
}

fn render_attack(r: &Report, out: &mut String) {
    let attack = r.best_attack.as_ref().map(|a| ("best attack", a)).or(r
        .bounds
        .heuristic_attack
        .as_ref()
        .map(|a| ("heuristic attack (greedy, no optimality claim)", a)));
    if let Some((label, a)) = attack {
        let mut t = table(&["service", "coalition"]);
        for svc in a.services.iter().take(ROWS) {
            let b = a
                .validators
                .get(svc)
                .map(|b| b.join(", "))
                .unwrap_or_default();
            t.add_row(vec![svc.clone(), b]);
        }
        out.push_str(&format!(
            "{label}: profit {}, cost {}\n{t}\n",
            show(&a.profit),
            show(&a.cost)
        ));
    }
}

fn render_loss_curve(r: &Report, out: &mut String) {
    let mut w = table(&[
        "ψ",
        "worst_case_loss",
        "lower",
        "upper",
        "certificate bound",
    ]);
    for p in r.loss_curve.iter().filter(|p| {
        r.worst_case_loss.contains_key(&p.psi.label)
            || r.bounds.worst_case_loss.contains_key(&p.psi.label)
    }) {
        w.add_row(vec![
            p.psi.label.clone(),
            p.exact.as_ref().map_or("-".into(), pct),
            pct(&p.lower),
            p.upper.as_ref().map_or("-".into(), pct),
            r.certificate
                .loss_bound
                .get(&p.psi.label)
                .map_or("-".into(), pct),
        ]);
    }
    out.push_str(&format!(
        "worst-case loss (fraction of the total stake)\n{w}\n"
    ));
}

fn render_exposure(r: &Report, out: &mut String) {
    let mut v = table(&[
        "validator",
        "stake",
        "allocated",
        "restaking degree",
        "services",
    ]);
    let mut vals: Vec<_> = r.exposure.validators.iter().collect();
    vals.sort_by(|a, b| {
        b.restaking_degree
            .cmp(&a.restaking_degree)
            .then(a.id.cmp(&b.id))
    });
    for x in vals.iter().take(ROWS) {
        v.add_row(vec![
            Cell::new(&x.id),
            Cell::new(&x.stake).set_alignment(CellAlignment::Right),
            Cell::new(&x.allocated).set_alignment(CellAlignment::Right),
            Cell::new(show(&x.restaking_degree)).set_alignment(CellAlignment::Right),
            Cell::new(x.services).set_alignment(CellAlignment::Right),
        ]);
    }
    out.push_str(&format!(
        "exposure per validator{}\n{v}\n",
        more(vals.len())
    ));
}

fn render_fails_alone(r: &Report, out: &mut String) {
    let chain = r.exposure.fails_alone_basis == Basis::Chain;
    let mut f = table(&[
        "service fails alone",
        "profit",
        "θ",
        "backing lost",
        if chain {
            "who bears it (pools)"
        } else {
            "who bears it (validators)"
        },
        "knock-on backing",
    ]);
    for (svc, fa) in r
        .exposure
        .services
        .iter()
        .zip(&r.exposure.fails_alone)
        .take(ROWS)
    {
        let bearers: Vec<String> = fa
            .losses
            .iter()
            .take(5)
            .map(|l| format!("{} −{}", l.validator, show(&l.amount)))
            .collect();
        let extra = fa.losses.len().saturating_sub(5);
        let knock: Vec<String> = fa
            .knock_on
            .iter()
            .take(4)
            .map(|k| format!("{} {} → {}", k.service, show(&k.before), show(&k.after)))
            .collect();
        f.add_row(vec![
            svc.id.clone(),
            svc.profit.to_string(),
            svc.threshold.to_string(),
            show(&fa.total),
            format!(
                "{}{}",
                bearers.join("\n"),
                if extra > 0 {
                    format!("\n… {extra} more")
                } else {
                    String::new()
                }
            ),
            if knock.is_empty() {
                "-".into()
            } else {
                knock.join("\n")
            },
        ]);
    }
    out.push_str(&format!(
        "who bears the risk{}\n{f}\n",
        more(r.exposure.services.len())
    ));
    if chain {
        out.push_str(&ui::wrap(
            "As the chain books it: each AVS takes its whole backing in every base pool, then in every tier at the base \
             price those slashes left (the cascade guard aside). Knock-on: the other AVSs' backings after, shared \
             ones rescaled to the reuse cap with their risk weights, tiers at the new base price.",
        ));
    }
}

/// Who bears each AVS failing alone, down to pools and stakers.
fn render_bearers(bearers: &[Bearers]) -> String {
    let mut t = table(&[
        "AVS fails alone",
        "pools lose",
        "stakers lose (through tiers)",
    ]);
    for b in bearers {
        let pools: Vec<String> = b
            .pools
            .iter()
            .map(|(p, q)| format!("{p}: {}", show(q)))
            .collect();
        let stakers: Vec<String> = b
            .stakers
            .iter()
            .map(|(s, q)| format!("{s}: {}", show(q)))
            .collect();
        t.add_row(vec![
            Cell::new(&b.service),
            Cell::new(if pools.is_empty() {
                "-".to_string()
            } else {
                pools.join("\n")
            }),
            Cell::new(if pools.is_empty() {
                "-".to_string()
            } else if stakers.is_empty() {
                "(no staker index on chain)".to_string()
            } else {
                stakers.join("\n")
            }),
        ]);
    }
    format!("Who bears the risk, per pool and staker\n{t}\n")
}

/// Each AVS's rating with its evidence and confidence, the risk weight the manager counts it with, its required bond
/// against what it holds, and the pools it would push over their reuse cap at the floor.
fn render_reputation(rows: &[(String, bulkhead_scenario::ReputationSummary)]) -> String {
    let mut t = table(&[
        "AVS",
        "rating (mean, bound)",
        "evidence good / bad",
        "risk weight",
        "bond required / held",
        "over cap if it fell to the floor",
    ]);
    for (name, r) in rows {
        let bonds: Vec<String> = r
            .bonds
            .iter()
            .map(|b| format!("{} {}", b.amount, b.asset))
            .collect();
        let weight = if r.risk_weight == r.risk_weight_now {
            r.risk_weight.clone()
        } else {
            format!("{} (rating asks {})", r.risk_weight, r.risk_weight_now)
        };
        t.add_row(vec![
            Cell::new(name),
            Cell::new(format!("{} ({}, {})", r.rating, r.mean, r.lower_bound)),
            Cell::new(format!("{} / {}", r.good, r.bad)),
            Cell::new(weight),
            Cell::new(format!(
                "{} of backing / {}{}",
                r.required_bond_fraction,
                if bonds.is_empty() {
                    "none".to_string()
                } else {
                    bonds.join(", ")
                },
                if r.bond_short { " (short)" } else { "" }
            )),
            Cell::new(if r.over_cap_at_floor.is_empty() {
                "-".to_string()
            } else {
                r.over_cap_at_floor.join(", ")
            }),
        ]);
    }
    format!("Reputation and dynamic stake weights\n{t}\n")
}

/// Each operator's rating with its evidence and confidence.
fn render_operators(rows: &[bulkhead_scenario::OperatorReputation]) -> String {
    let mut t = table(&["operator", "rating (mean, bound)", "evidence good / bad"]);
    for r in rows {
        t.add_row(vec![
            Cell::new(&r.name),
            Cell::new(format!("{} ({}, {})", r.rating, r.mean, r.lower_bound)),
            Cell::new(format!("{} / {}", r.good, r.bad)),
        ]);
    }
    format!("{t}\n")
}

/// Risk pricing: per AVS the fault probability, the loss, the break-even premium and what the market pays; per lease
/// its price beside its AVS's break-even, flagged when below.
fn render_pricing(p: &RiskPricing) -> String {
    let mut t = table(&[
        "AVS",
        "p a year",
        "loss",
        "E[loss]/yr",
        "break-even",
        "market pays",
        "paid / premium",
        "flagged",
    ]);
    for s in &p.services {
        let market = s.market_bps.as_ref().map_or_else(
            || "-".to_string(),
            |m| format!("{} on {}", short(m, 2), short(&s.leased_backing, 2)),
        );
        t.add_row(vec![
            Cell::new(&s.service),
            Cell::new(pricing::fault_label(s)),
            ui::right(short(&s.loss, 2)),
            ui::right(short(&s.expected_annual_loss, 2)),
            ui::right(short(&s.required_bps, 2)),
            ui::right(market),
            ui::right(format!("{} / {}", short(&s.paid, 2), short(&s.premium, 2))),
            if s.live_leases == 0 {
                Cell::new("-")
            } else {
                ui::verdict_cell(
                    format!("{} of {}", s.underpriced_leases, s.live_leases),
                    s.underpriced_leases == 0,
                )
            },
        ]);
    }
    let mut out = format!(
        "Risk pricing{} (amounts in {}; break-even and market in bps of the backing a year)\n{t}\n",
        more(p.services.len()),
        p.unit
    );
    if p.leases.is_empty() {
        out.push_str(if p.market {
            "No lease in the security market: nothing is paid for this risk yet.\n"
        } else {
            "No security market in this deployment (an older deployment file): nothing to compare.\n"
        });
    } else {
        let mut l = table(&[
            "lease",
            "AVS",
            "pool",
            "backing",
            "price",
            "break-even",
            "stakers keep",
            "status",
            "",
        ]);
        for x in &p.leases {
            l.add_row(vec![
                ui::right(x.lease_id),
                Cell::new(&x.service),
                Cell::new(format!("{} ({})", x.pool, x.mode)),
                ui::right(short(&x.backing, 2)),
                ui::right(x.price_bps),
                ui::right(short(&x.required_bps, 2)),
                ui::right(x.stakers_bps.as_ref().map_or("-".into(), |b| short(b, 2))),
                Cell::new(pricing::status_label(x)),
                match (x.live, x.underpriced) {
                    (true, true) => ui::verdict_cell("UNDERPRICED", false),
                    (true, false) => ui::verdict_cell("covers it", true),
                    (false, _) => Cell::new("-"),
                },
            ]);
        }
        out.push_str(&format!(
            "Leases against their AVS's risk (backing in {}; prices in bps a year)\n{l}\n",
            p.unit
        ));
    }
    out.push_str(&ui::wrap(&format!(
        "p: the chance in a year that the AVS's slashes take what it backs, {} (--fault-rate) without a rating, \
         × (1 − rating) with one; loss: what its backers lose if it fails alone; break-even = p × loss / backing. \
         flagged: live leases priced below it (underpriced), of all live ones. The prior is an assumption \
         (docs/market.md, \"Risk pricing in the audit\").",
        pricing::percent(&p.fault_rate)
    )));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/networks")
            .join(name)
    }

    fn args(name: &str, psi: &[&str]) -> AuditArgs {
        AuditArgs {
            network: Some(example(name)),
            scenario: None,
            rpc_url: None,
            block: None,
            deployment: None,
            terms: None,
            psi: psi.iter().map(|p| p.to_string()).collect(),
            fault_rate: FaultRate::DEFAULT.into(),
            json: true,
            html: None,
            bounds_only: false,
            node_limit: 20_000_000,
        }
    }

    #[test]
    fn example_networks_audit_as_documented() {
        let hub = audit(&args("hub_insecure.json", &["1/1000", "1/10"])).unwrap();
        assert_eq!(hub.secure, Some(false));
        let text = |q: Option<&Exact>| q.map(Exact::to_string);
        assert_eq!(text(hub.max_attack_profit.as_ref()).as_deref(), Some("320"));
        assert_eq!(
            text(hub.worst_case_loss.get("1/10")).as_deref(),
            Some("9/16")
        );
        assert!(render(&hub).contains("INSECURE"));
        let dr = audit(&args("dr_secure.json", &["1/1000"])).unwrap();
        assert_eq!(dr.secure, Some(true));
        assert_eq!(text(dr.certificate.gamma.as_ref()).as_deref(), Some("1/10"));
        assert_eq!(
            text(dr.certificate.loss_bound.get("1/1000")).as_deref(),
            Some("11/1000")
        );
        let elastic = audit(&args("elastic.json", &[])).unwrap();
        assert_eq!(elastic.secure, Some(true));
        assert_eq!(elastic.min_byzantine_services, Some(2));
    }

    #[test]
    fn html_report_is_self_contained() {
        let out = std::env::temp_dir().join(format!("bulkhead-audit-{}.html", std::process::id()));
        let mut a = args("elastic.json", &["1/10"]);
        a.html = Some(out.clone());
        audit(&a).unwrap();
        let page = std::fs::read_to_string(&out).unwrap();
        std::fs::remove_file(&out).unwrap();
        assert_eq!(page.matches("<svg").count(), 3);
        assert!(!page.contains("<script") && !page.contains("http"));
    }

    #[test]
    fn risk_pricing_tables_flag_the_underpriced_lease_only() {
        use bulkhead_audit::{
            LeasePricing, ServicePricing,
            pricing::{FaultBasis, LeaseStatus},
        };
        let q = |t: &str| t.parse::<Exact>().unwrap();
        let lease = |id: u64, price: u32, underpriced: bool| LeasePricing {
            lease_id: id,
            bid_id: id,
            service: "avs-1".into(),
            avs_id: 1,
            pool: format!("pool-{id}"),
            pool_id: id,
            mode: "isolated",
            backing: q("100"),
            backing_raw: "100000000000000000000".into(),
            price_bps: price,
            required_bps: q("500"),
            margin_bps: q(&(i64::from(price) - 500).to_string()),
            commission_bps: Some(1000),
            stakers_bps: Some(q(&(price * 9 / 10).to_string())),
            premium: q("5"),
            paid: q("0"),
            refunded: q("0"),
            start: 1,
            end: 2,
            status: LeaseStatus::Running,
            live: true,
            underpriced,
        };
        let pricing = RiskPricing {
            unit: "WETH".into(),
            fault_rate: q("1/20"),
            market: true,
            now: 1,
            services: vec![ServicePricing {
                service: "avs-1".into(),
                avs_id: 1,
                rating_wad: Some("700000000000000000".into()),
                fault_basis: FaultBasis::Rating,
                fault_probability: q("3/200"),
                backing: q("200"),
                loss: q("200"),
                expected_annual_loss: q("3"),
                required_bps: q("1300/3"),
                required_bps_ceil: 434,
                live_leases: 2,
                leased_backing: q("200"),
                market_bps: Some(q("400")),
                annual_premium: q("8"),
                premium: q("8"),
                paid: q("0"),
                refunded: q("0"),
                underpriced_leases: 1,
            }],
            leases: vec![lease(1, 500, false), lease(2, 300, true)],
            underpriced: 1,
        };
        let text = render_pricing(&pricing);
        assert_eq!(text.matches("UNDERPRICED").count(), 1, "{text}");
        assert_eq!(text.matches("covers").count(), 1, "{text}");
        // Single words: a narrow COLUMNS may wrap a cell at its spaces.
        for shown in ["1.5%", "70%)", "≈433.33", "(--fault-rate)", "5%", "WETH;"] {
            assert!(text.contains(shown), "{shown} in {text}");
        }
        assert!(!text.contains('\x1b'), "no colour unless asked");
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(audit(&args("missing.json", &[])).is_err());
        let err = audit(&args("elastic.json", &["3/2"])).unwrap_err();
        assert!(
            format!("{err:#}")
                .contains("--psi 3/2: a shock is a fraction of the stake, from 0 to 1")
        );
    }
}

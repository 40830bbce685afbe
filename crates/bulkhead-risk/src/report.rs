//! The audit: every measure of a network put together, as a serde report (the JSON of `bulkhead audit --json`).

use std::collections::BTreeMap;

use num_traits::{Signed, Zero};
use serde::Serialize;

use crate::{
    certificate::{self, Certificate},
    exposure::{self, Exposure},
    network::{Model, Net, Network},
    number::{self, Q},
    search::{self, Attack, Budget},
    shock,
};

/// What to compute.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// Shock sizes ψ, each with the text it was given as (the JSON key).
    pub psis: Vec<(String, Q)>,
    /// Skip the exact searches: certified bounds and the greedy heuristic only.
    pub bounds_only: bool,
    /// Node budget of each exact search (each worst_case_loss(ψ) gets one); past it the measure falls back to bounds.
    pub node_limit: u64,
    /// Extra ψ points for the loss curve (HTML chart); empty for none.
    pub curve: Vec<Q>,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            psis: Vec::new(),
            bounds_only: false,
            node_limit: 20_000_000,
            curve: Vec::new(),
        }
    }
}

/// An attack as printed: service ids, coalition per service, cost and gross profit.
#[derive(Debug, Clone, Serialize)]
pub struct AttackReport {
    /// Attacked services.
    pub services: Vec<String>,
    /// Coalition of each attacked service.
    pub validators: BTreeMap<String, Vec<String>>,
    /// Σ_i min(stake_i, Σ_{s∈A, i∈B_s} w_is).
    pub cost: String,
    /// Σ_{s∈A} profit_s.
    pub profit: String,
}

impl AttackReport {
    fn new(net: &Net, a: &Attack) -> AttackReport {
        AttackReport {
            services: a
                .services
                .iter()
                .map(|&s| net.service_ids[s].clone())
                .collect(),
            validators: a
                .services
                .iter()
                .zip(&a.coalitions)
                .map(|(&s, b)| {
                    (
                        net.service_ids[s].clone(),
                        b.iter().map(|&v| net.validator_ids[v].clone()).collect(),
                    )
                })
                .collect(),
            cost: number::fmt(&net.value(a.cost(net))),
            profit: number::fmt(&net.value(a.profit(net))),
        }
    }
}

/// The certificate section.
#[derive(Debug, Clone, Serialize)]
pub struct CertificateReport {
    /// Largest γ of D&R's condition, `null` if it does not hold (or holds for every γ: see `unbounded`).
    pub gamma: Option<String>,
    /// (1 + 1/γ) · ψ per ψ: a strict upper bound on worst_case_loss(ψ) (ψ itself when `unbounded`).
    pub loss_bound: BTreeMap<String, String>,
    /// No service has profit: the condition holds for every γ.
    pub unbounded: bool,
    /// Per validator, Σ_{s∋v} π_s / (θ_s · backing_s) (the condition asks ≤ 1/(1+γ)), largest first (at most 50).
    pub loads: Vec<(String, String)>,
}

/// A certified interval.
#[derive(Debug, Clone, Serialize)]
pub struct Interval {
    /// Certified lower bound (the value of a real configuration).
    pub lower: String,
    /// Certified upper bound, `null` if unknown.
    pub upper: Option<String>,
}

/// Bounds for what was not computed exactly.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Bounds {
    /// max_attack_profit ∈ [lower, upper].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_attack_profit: Option<Interval>,
    /// The greedy heuristic's attack (labelled: no optimality claim).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heuristic_attack: Option<AttackReport>,
    /// worst_case_loss(ψ) ∈ [lower, upper] for the ψ not computed exactly.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub worst_case_loss: BTreeMap<String, Interval>,
    /// min_byzantine_services ∈ [lower, upper] (upper `null`: unknown) when not computed exactly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_byzantine_services: Option<(usize, Option<usize>)>,
}

/// The worst shock found for one ψ.
#[derive(Debug, Clone, Serialize)]
pub struct Shock {
    /// The validators of D.
    pub shocked: Vec<String>,
    /// The costliest profitable attack on what remains, if any.
    pub attack: Option<AttackReport>,
}

/// One point of the loss curve.
#[derive(Debug, Clone, Serialize)]
pub struct CurvePoint {
    /// ψ.
    pub psi: String,
    /// worst_case_loss(ψ) if exact.
    pub exact: Option<String>,
    /// Certified lower bound.
    pub lower: String,
    /// Certified upper bound.
    pub upper: Option<String>,
}

/// Network summary.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Model.
    pub model: Model,
    /// Number of validators.
    pub validators: usize,
    /// Number of services.
    pub services: usize,
    /// Total stake.
    pub total_stake: String,
    /// Total profit from corruption.
    pub total_profit: String,
}

/// The full audit report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `"exact"` or `"bounds-only"`.
    pub mode: &'static str,
    /// The network's size.
    pub network: Summary,
    /// No profitable attack (exact; or certified in bounds mode, `null` when undecided).
    pub secure: Option<bool>,
    /// max over attacks of profit − cost (`null` if not computed exactly: see `bounds`).
    pub max_attack_profit: Option<String>,
    /// An attack reaching it.
    pub best_attack: Option<AttackReport>,
    /// worst_case_loss(ψ) per ψ computed exactly (fraction of the total stake).
    pub worst_case_loss: BTreeMap<String, String>,
    /// The worst shock behind each exact worst_case_loss.
    pub worst_case_shock: BTreeMap<String, Shock>,
    /// The fewest Byzantine services that make the rest insecure (0: insecure already; `null`: none, or not computed,
    /// see `notes`).
    pub min_byzantine_services: Option<usize>,
    /// The Byzantine services behind `min_byzantine_services`.
    pub byzantine_set: Option<Vec<String>>,
    /// D&R certificate.
    pub certificate: CertificateReport,
    /// Exposure.
    pub exposure: Exposure,
    /// Certified bounds for what was not computed exactly.
    pub bounds: Bounds,
    /// The loss curve (ψ → worst_case_loss) over the requested ψ and the extra curve points.
    pub loss_curve: Vec<CurvePoint>,
    /// What was not exact and why.
    pub notes: Vec<String>,
}

/// Runs the audit.
pub fn audit(network: &Network, opts: &AuditOptions) -> eyre::Result<Report> {
    let net = Net::from_network(network)?;
    for (text, psi) in &opts.psis {
        if psi.is_negative() || *psi > Q::from_integer(1.into()) {
            eyre::bail!("the shock ψ = {text} is outside [0, 1]");
        }
    }
    let total = net.total_stake();
    let cert = Certificate::new(network);
    let mut notes = Vec::new();
    let mut bounds = Bounds::default();
    let heuristic = search::greedy_attack(&net);
    let q = |x: i128| number::fmt(&net.value(x));

    // Attack search.
    let (mut secure, mut max_attack_profit, mut best_attack) = (None, None, None);
    let exact_attack = if opts.bounds_only {
        None
    } else {
        match search::max_attack(&net, &mut Budget::new(opts.node_limit), false) {
            Ok(found) => found,
            Err(e) => {
                notes.push(format!(
                    "max_attack_profit: {e} ({} nodes); bounds reported",
                    opts.node_limit
                ));
                None
            }
        }
    };
    if let Some(found) = &exact_attack {
        secure = Some(found.value <= 0);
        max_attack_profit = Some(q(found.value));
        best_attack = Some(AttackReport::new(&net, &found.attack));
    } else {
        let upper = certificate::attack_profit_upper_bound(&net);
        let lower = heuristic.as_ref().map(|h| h.value).unwrap_or(0);
        secure = if lower > 0 {
            Some(false)
        } else if cert.proves_secure() || !upper.is_positive() {
            Some(true)
        } else {
            secure
        };
        bounds.max_attack_profit = Some(Interval {
            lower: q(lower),
            upper: Some(number::fmt(&upper)),
        });
        bounds.heuristic_attack = heuristic
            .as_ref()
            .map(|h| AttackReport::new(&net, &h.attack));
        if opts.bounds_only {
            notes.push("bounds only: max_attack_profit, worst_case_loss and min_byzantine_services not searched exactly".into());
        }
    }

    // Worst-case loss.
    let mut worst_case_loss = BTreeMap::new();
    let mut worst_case_shock = BTreeMap::new();
    let mut loss_curve = Vec::new();
    let mut points: Vec<(String, Q, bool)> = opts
        .psis
        .iter()
        .map(|(t, p)| (t.clone(), p.clone(), true))
        .collect();
    for p in &opts.curve {
        if !points.iter().any(|x| &x.1 == p) {
            points.push((number::fmt(p), p.clone(), false));
        }
    }
    points.sort_by(|a, b| a.1.cmp(&b.1));
    let exact_wcl = !opts.bounds_only && net.n() <= 64;
    let mut wcl_exhausted = false;
    for (text, psi, requested) in &points {
        let cap_q = psi * Q::from_integer(total.into());
        let cap: i128 =
            num_traits::ToPrimitive::to_i128(&cap_q.floor().to_integer()).unwrap_or(total);
        let exact = if exact_wcl && !wcl_exhausted {
            match shock::worst_case_loss(&net, cap, &mut Budget::new(opts.node_limit)) {
                Ok(r) => Some(r),
                Err(e) => {
                    wcl_exhausted = true;
                    notes.push(format!(
                        "worst_case_loss({text}): {e} ({} nodes); bounds reported",
                        opts.node_limit
                    ));
                    None
                }
            }
        } else {
            None
        };
        let lower = wcl_lower(&net, cap, heuristic.as_ref());
        let upper = wcl_upper(&net, psi, &cert);
        let point = CurvePoint {
            psi: text.clone(),
            exact: exact
                .as_ref()
                .map(|r| number::fmt(&number::frac(r.0, total))),
            lower: number::fmt(&lower),
            upper: upper.as_ref().map(number::fmt),
        };
        if *requested {
            match &exact {
                Some((loss, d, attack)) => {
                    worst_case_loss.insert(text.clone(), number::fmt(&number::frac(*loss, total)));
                    worst_case_shock.insert(
                        text.clone(),
                        Shock {
                            shocked: d.iter().map(|&v| net.validator_ids[v].clone()).collect(),
                            attack: attack.as_ref().map(|a| AttackReport::new(&net, a)),
                        },
                    );
                }
                None => {
                    bounds.worst_case_loss.insert(
                        text.clone(),
                        Interval {
                            lower: number::fmt(&lower),
                            upper: upper.as_ref().map(number::fmt),
                        },
                    );
                }
            }
        }
        loss_curve.push(point);
    }
    if !exact_wcl && !opts.bounds_only && !points.is_empty() {
        notes.push(format!(
            "worst_case_loss: {} validators is past the exact search's limit (64); bounds reported",
            net.n()
        ));
    }

    // Byzantine services.
    let (mut min_byzantine_services, mut byzantine_set) = (None, None);
    let exact_byz = !opts.bounds_only && net.m() <= 16;
    let mut byz_done = false;
    if exact_byz {
        match search::min_byzantine_services(&net, &mut Budget::new(opts.node_limit)) {
            Ok(r) => {
                byz_done = true;
                if let Some((k, z, _)) = r {
                    min_byzantine_services = Some(k);
                    byzantine_set = Some(z.iter().map(|&s| net.service_ids[s].clone()).collect());
                }
            }
            Err(e) => notes.push(format!(
                "min_byzantine_services: {e} ({} nodes); bounds reported",
                opts.node_limit
            )),
        }
    } else if !opts.bounds_only {
        notes.push(format!("min_byzantine_services: {} services is past the exact search's limit (16); bounds reported", net.m()));
    }
    if !byz_done {
        if secure == Some(false) {
            min_byzantine_services = Some(0);
            byzantine_set = Some(Vec::new());
        } else {
            let lower = usize::from(secure == Some(true));
            bounds.min_byzantine_services = Some((lower, None));
        }
    }

    let loads = {
        let mut l: Vec<(usize, &Q)> = cert.load.iter().enumerate().collect();
        l.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(&b.0)));
        l.into_iter()
            .take(50)
            .map(|(v, x)| (net.validator_ids[v].clone(), number::fmt(x)))
            .collect()
    };
    let certificate = CertificateReport {
        gamma: cert.gamma.as_ref().map(number::fmt),
        loss_bound: opts
            .psis
            .iter()
            .filter_map(|(t, p)| cert.loss_bound(p).map(|b| (t.clone(), number::fmt(&b))))
            .collect(),
        unbounded: cert.unbounded,
        loads,
    };
    Ok(Report {
        mode: if opts.bounds_only {
            "bounds-only"
        } else {
            "exact"
        },
        network: Summary {
            model: network.model,
            validators: net.n(),
            services: net.m(),
            total_stake: q(total),
            total_profit: q(net.profit.iter().sum()),
        },
        secure,
        max_attack_profit,
        best_attack,
        worst_case_loss,
        worst_case_shock,
        min_byzantine_services,
        byzantine_set,
        certificate,
        exposure: exposure::exposure(&net),
        bounds,
        loss_curve,
        notes,
    })
}

/// A certified lower bound on worst_case_loss: the loss of real shocks — the largest validators that fit in the cap
/// (no attack counted), or no shock and the heuristic attack's cost if it is profitable.
fn wcl_lower(net: &Net, cap: i128, heuristic: Option<&search::Found>) -> Q {
    let total = net.total_stake();
    let mut stakes = net.stake.clone();
    stakes.sort_unstable_by(|a, b| b.cmp(a));
    let mut sd = 0i128;
    for s in stakes {
        if sd + s <= cap {
            sd += s;
        }
    }
    let attack = heuristic
        .filter(|h| h.value > 0)
        .map(|h| h.attack.cost(net))
        .unwrap_or(0);
    number::frac(sd.max(attack), total)
}

/// A certified upper bound: the certificate's (1 + 1/γ)ψ, else min(1, ψ + Σ profit / total) (a profitable attack
/// costs less than its profit).
fn wcl_upper(net: &Net, psi: &Q, cert: &Certificate) -> Option<Q> {
    let total = net.total_stake();
    let trivial =
        (psi + number::frac(net.profit.iter().sum(), total)).min(Q::from_integer(1.into()));
    Some(match cert.loss_bound(psi) {
        Some(b) if b < trivial => b,
        _ => trivial,
    })
}

/// Zero as a rational (re-exported for callers building options).
pub fn zero() -> Q {
    Q::zero()
}

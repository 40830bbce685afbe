//! The audit: every measure of a network put together, as a serde report (the JSON of `bulkhead audit --json`).

use std::collections::BTreeMap;

use num_traits::{Signed, Zero};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{
    certificate::{self, Certificate},
    error::RiskError,
    exposure::{self, Exposure},
    network::{Model, Net, Network},
    number::{self, Exact, Q},
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
    pub cost: Exact,
    /// Σ_{s∈A} profit_s.
    pub profit: Exact,
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
            cost: Exact(net.value(a.cost(net))),
            profit: Exact(net.value(a.profit(net))),
        }
    }
}

/// The certificate section.
#[derive(Debug, Clone, Serialize)]
pub struct CertificateReport {
    /// Largest γ of D&R's condition, `null` if it does not hold (or holds for every γ: see `unbounded`).
    pub gamma: Option<Exact>,
    /// (1 + 1/γ) · ψ per ψ (keyed by ψ as given): a strict upper bound on worst_case_loss(ψ) (ψ itself when
    /// `unbounded`).
    pub loss_bound: BTreeMap<String, Exact>,
    /// No service has profit: the condition holds for every γ.
    pub unbounded: bool,
    /// Per validator, Σ_{s∋v} π_s / (θ_s · backing_s) (the condition asks ≤ 1/(1+γ)), largest first (at most 50).
    pub loads: Vec<(String, Exact)>,
}

/// A certified interval.
#[derive(Debug, Clone, Serialize)]
pub struct Interval {
    /// Certified lower bound (the value of a real configuration).
    pub lower: Exact,
    /// Certified upper bound, `null` if unknown.
    pub upper: Option<Exact>,
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

/// A shock size ψ: its exact value and the text it was given as, which keys it in the report's maps. It
/// serializes as that text (`"0.01"` stays `"0.01"`); a point the caller did not name reads as [`number::fmt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Psi {
    /// The text it was given as.
    pub label: String,
    /// Its value, a fraction of the total stake.
    pub value: Exact,
}

impl Serialize for Psi {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.label)
    }
}

impl<'de> Deserialize<'de> for Psi {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let label = String::deserialize(deserializer)?;
        let value = label.parse().map_err(serde::de::Error::custom)?;
        Ok(Psi { label, value })
    }
}

/// One point of the loss curve.
#[derive(Debug, Clone, Serialize)]
pub struct CurvePoint {
    /// ψ.
    pub psi: Psi,
    /// worst_case_loss(ψ) if exact.
    pub exact: Option<Exact>,
    /// Certified lower bound.
    pub lower: Exact,
    /// Certified upper bound.
    pub upper: Option<Exact>,
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
    pub total_stake: Exact,
    /// Total profit from corruption.
    pub total_profit: Exact,
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
    pub max_attack_profit: Option<Exact>,
    /// An attack reaching it.
    pub best_attack: Option<AttackReport>,
    /// worst_case_loss(ψ) per ψ computed exactly (fraction of the total stake), keyed by ψ as given.
    pub worst_case_loss: BTreeMap<String, Exact>,
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

/// Runs the audit. Fails when the network's numbers are too large for the exact searches
/// ([`RiskError::TooLarge`]) or a shock is outside [0, 1] ([`RiskError::ShockOutOfRange`]).
pub fn audit(network: &Network, opts: &AuditOptions) -> Result<Report, RiskError> {
    let net = Net::from_network(network)?;
    for (text, psi) in &opts.psis {
        if psi.is_negative() || *psi > Q::from_integer(1.into()) {
            return Err(RiskError::ShockOutOfRange { psi: text.clone() });
        }
    }
    let cert = Certificate::new(network);
    let heuristic = search::greedy_attack(&net);
    let mut draft = Draft::default();
    let attacks = draft.attacks(&net, opts, &cert, heuristic.as_ref());
    let losses = draft.losses(&net, opts, &cert, heuristic.as_ref());
    let byzantine = draft.byzantine(&net, opts, attacks.secure);
    let q = |x: i128| Exact(net.value(x));
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
            total_stake: q(net.total_stake()),
            total_profit: q(net.profit.iter().sum()),
        },
        secure: attacks.secure,
        max_attack_profit: attacks.max_attack_profit,
        best_attack: attacks.best_attack,
        worst_case_loss: losses.worst_case_loss,
        worst_case_shock: losses.worst_case_shock,
        min_byzantine_services: byzantine.0,
        byzantine_set: byzantine.1,
        certificate: certificate_report(&net, opts, &cert),
        exposure: exposure::exposure(&net),
        bounds: draft.bounds,
        loss_curve: losses.curve,
        notes: draft.notes,
    })
}

/// What an audit has found not exact so far: certified bounds in its place, and notes saying why.
#[derive(Default)]
struct Draft {
    bounds: Bounds,
    notes: Vec<String>,
}

/// The attack search's findings.
struct Attacks {
    secure: Option<bool>,
    max_attack_profit: Option<Exact>,
    best_attack: Option<AttackReport>,
}

/// The worst-case loss at each requested shock, and the curve over every point.
struct Losses {
    worst_case_loss: BTreeMap<String, Exact>,
    worst_case_shock: BTreeMap<String, Shock>,
    curve: Vec<CurvePoint>,
}

impl Draft {
    /// The exact attack search, or certified bounds and the greedy attack when it is off or runs out of nodes.
    fn attacks(
        &mut self,
        net: &Net,
        opts: &AuditOptions,
        cert: &Certificate,
        heuristic: Option<&search::Found>,
    ) -> Attacks {
        let q = |x: i128| Exact(net.value(x));
        let exact = if opts.bounds_only {
            None
        } else {
            match search::max_attack(net, &mut Budget::new(opts.node_limit), false) {
                Ok(found) => found,
                Err(e) => {
                    self.notes.push(format!(
                        "max_attack_profit: {e} ({} nodes); bounds reported",
                        opts.node_limit
                    ));
                    None
                }
            }
        };
        if let Some(found) = &exact {
            return Attacks {
                secure: Some(found.value <= 0),
                max_attack_profit: Some(q(found.value)),
                best_attack: Some(AttackReport::new(net, &found.attack)),
            };
        }
        let upper = certificate::attack_profit_upper_bound(net);
        let lower = heuristic.map(|h| h.value).unwrap_or(0);
        let secure = if lower > 0 {
            Some(false)
        } else if cert.proves_secure() || !upper.is_positive() {
            Some(true)
        } else {
            None
        };
        self.bounds.max_attack_profit = Some(Interval {
            lower: q(lower),
            upper: Some(Exact(upper)),
        });
        self.bounds.heuristic_attack = heuristic.map(|h| AttackReport::new(net, &h.attack));
        if opts.bounds_only {
            self.notes.push("bounds only: max_attack_profit, worst_case_loss and min_byzantine_services not searched exactly".into());
        }
        Attacks {
            secure,
            max_attack_profit: None,
            best_attack: None,
        }
    }

    /// The worst-case loss at every requested ψ and curve point: exact up to 64 validators (until the node budget
    /// runs out), certified bounds otherwise.
    fn losses(
        &mut self,
        net: &Net,
        opts: &AuditOptions,
        cert: &Certificate,
        heuristic: Option<&search::Found>,
    ) -> Losses {
        let total = net.total_stake();
        let mut losses = Losses {
            worst_case_loss: BTreeMap::new(),
            worst_case_shock: BTreeMap::new(),
            curve: Vec::new(),
        };
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
                match shock::worst_case_loss(net, cap, &mut Budget::new(opts.node_limit)) {
                    Ok(r) => Some(r),
                    Err(e) => {
                        wcl_exhausted = true;
                        self.notes.push(format!(
                            "worst_case_loss({text}): {e} ({} nodes); bounds reported",
                            opts.node_limit
                        ));
                        None
                    }
                }
            } else {
                None
            };
            let lower = wcl_lower(net, cap, heuristic);
            let upper = wcl_upper(net, psi, cert);
            losses.curve.push(CurvePoint {
                psi: Psi {
                    label: text.clone(),
                    value: Exact(psi.clone()),
                },
                exact: exact.as_ref().map(|r| Exact(number::frac(r.0, total))),
                lower: Exact(lower.clone()),
                upper: upper.clone().map(Exact),
            });
            if !*requested {
                continue;
            }
            match &exact {
                Some((loss, d, attack)) => {
                    let fraction = Exact(number::frac(*loss, total));
                    losses.worst_case_loss.insert(text.clone(), fraction);
                    let shock = Shock {
                        shocked: d.iter().map(|&v| net.validator_ids[v].clone()).collect(),
                        attack: attack.as_ref().map(|a| AttackReport::new(net, a)),
                    };
                    losses.worst_case_shock.insert(text.clone(), shock);
                }
                None => {
                    let interval = Interval {
                        lower: Exact(lower),
                        upper: upper.map(Exact),
                    };
                    self.bounds.worst_case_loss.insert(text.clone(), interval);
                }
            }
        }
        if !exact_wcl && !opts.bounds_only && !points.is_empty() {
            self.notes.push(format!(
                "worst_case_loss: {} validators is past the exact search's limit (64); bounds reported",
                net.n()
            ));
        }
        losses
    }

    /// The fewest services whose failure leaves the rest insecure (exact up to 16 services), and which.
    fn byzantine(
        &mut self,
        net: &Net,
        opts: &AuditOptions,
        secure: Option<bool>,
    ) -> (Option<usize>, Option<Vec<String>>) {
        let exact_byz = !opts.bounds_only && net.m() <= 16;
        if exact_byz {
            match search::min_byzantine_services(net, &mut Budget::new(opts.node_limit)) {
                Ok(None) => return (None, None),
                Ok(Some((k, z, _))) => {
                    return (
                        Some(k),
                        Some(z.iter().map(|&s| net.service_ids[s].clone()).collect()),
                    );
                }
                Err(e) => self.notes.push(format!(
                    "min_byzantine_services: {e} ({} nodes); bounds reported",
                    opts.node_limit
                )),
            }
        } else if !opts.bounds_only {
            self.notes.push(format!("min_byzantine_services: {} services is past the exact search's limit (16); bounds reported", net.m()));
        }
        if secure == Some(false) {
            return (Some(0), Some(Vec::new()));
        }
        let lower = usize::from(secure == Some(true));
        self.bounds.min_byzantine_services = Some((lower, None));
        (None, None)
    }
}

/// The sufficient-condition certificate: γ, the loss bound per requested ψ, and the 50 most loaded validators.
fn certificate_report(net: &Net, opts: &AuditOptions, cert: &Certificate) -> CertificateReport {
    let mut loads: Vec<(usize, &Q)> = cert.load.iter().enumerate().collect();
    loads.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(&b.0)));
    CertificateReport {
        gamma: cert.gamma.clone().map(Exact),
        loss_bound: opts
            .psis
            .iter()
            .filter_map(|(t, p)| cert.loss_bound(p).map(|b| (t.clone(), Exact(b))))
            .collect(),
        unbounded: cert.unbounded,
        loads: loads
            .into_iter()
            .take(50)
            .map(|(v, x)| (net.validator_ids[v].clone(), Exact(x.clone())))
            .collect(),
    }
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

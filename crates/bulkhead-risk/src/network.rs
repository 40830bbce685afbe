//! The network file (JSON) and its two validated forms: [`Network`] in exact rationals (the reference, used by the
//! brute-force enumerator and the reports) and [`Net`] in scaled integers (used by the searches).
//!
//! ```json
//! {"model": "full" | "elastic",
//!  "validators": [{"id": "a", "stake": "100"}],
//!  "services": [{"id": "x", "profit": "25", "threshold": "1/2"}],
//!  "edges": [["a", "x"]],
//!  "allocations": [{"validator": "a", "service": "x", "amount": "60"}]}
//! ```
//!
//! `edges` belong to model `full` (w = stake), `allocations` to model `elastic` (w = amount ≤ stake).

use std::{collections::HashMap, path::Path};

use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    error::RiskError,
    number::{self, Q},
};

type Result<T, E = RiskError> = std::result::Result<T, E>;

/// Returns early with a [`RiskError::Field`]: `bail!(field, "message {args}")`.
macro_rules! bail {
    ($field:expr, $($message:tt)+) => {
        return Err(RiskError::field($field, format!($($message)+)))
    };
}

/// How a validator's stake backs the services it is connected to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    /// Durvasula & Roughgarden: the whole stake restaked to every neighbour (w = stake).
    Full,
    /// Bar-Zur & Eyal: an amount per service, each ≤ the stake, the sum possibly larger.
    Elastic,
}

/// A validator of the validated network.
#[derive(Debug, Clone)]
pub struct Validator {
    /// Identifier from the file.
    pub id: String,
    /// Stake, > 0.
    pub stake: Q,
}

/// A service (AVS) of the validated network.
#[derive(Debug, Clone)]
pub struct Service {
    /// Identifier from the file.
    pub id: String,
    /// Profit from corrupting it, ≥ 0.
    pub profit: Q,
    /// Fraction of its backing an attacker needs, in (0, 1].
    pub threshold: Q,
}

/// A validated network in exact rationals.
#[derive(Debug, Clone)]
pub struct Network {
    /// Full or elastic restaking.
    pub model: Model,
    /// Validators in file order.
    pub validators: Vec<Validator>,
    /// Services in file order.
    pub services: Vec<Service>,
    /// `(validator, service, w)`: the stake of the validator that backs the service, 0 < w ≤ stake.
    pub weights: Vec<(usize, usize, Q)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawValidator {
    id: String,
    stake: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    id: String,
    profit: Value,
    threshold: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllocation {
    validator: String,
    service: String,
    amount: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
    model: String,
    validators: Vec<RawValidator>,
    services: Vec<RawService>,
    #[serde(default)]
    edges: Option<Vec<(String, String)>>,
    #[serde(default)]
    allocations: Option<Vec<RawAllocation>>,
}

/// Reads and validates a network file.
pub fn load(path: &Path) -> Result<Network> {
    let text = std::fs::read_to_string(path).map_err(|cause| RiskError::Read {
        path: path.to_path_buf(),
        cause,
    })?;
    parse(&text).map_err(|cause| RiskError::File {
        path: path.to_path_buf(),
        cause: Box::new(cause),
    })
}

fn num(field: &str, v: &Value) -> Result<Q> {
    match v {
        Value::String(s) => number::parse(s).map_err(|e| RiskError::field(field, e)),
        Value::Number(n) if n.is_i64() || n.is_u64() => {
            number::parse(&n.to_string()).map_err(|e| RiskError::field(field, e))
        }
        other => bail!(
            field,
            "expected a string like \"100\" or \"3/2\", got {other}"
        ),
    }
}

/// Parses and validates the JSON text of a network file; errors name the field and why.
pub fn parse(text: &str) -> Result<Network> {
    let raw: RawNetwork = serde_json::from_str(text).map_err(|cause| RiskError::Parse {
        line: cause.line(),
        column: cause.column(),
        cause,
    })?;
    let model = match raw.model.as_str() {
        "full" => Model::Full,
        "elastic" => Model::Elastic,
        other => bail!("model", "{other:?} must be \"full\" or \"elastic\""),
    };
    if raw.validators.is_empty() {
        bail!("validators", "must not be empty");
    }
    if raw.services.is_empty() {
        bail!("services", "must not be empty");
    }
    let (validators, vindex) = validators(&raw.validators)?;
    let (services, sindex) = services(&raw.services)?;
    let ids = Ids {
        validators: &vindex,
        services: &sindex,
    };
    let weights = match model {
        Model::Full => {
            if raw.allocations.as_ref().is_some_and(|a| !a.is_empty()) {
                bail!(
                    "allocations",
                    "only for model \"elastic\"; model \"full\" uses edges"
                );
            }
            edges(&raw.edges.unwrap_or_default(), &ids, &validators)?
        }
        Model::Elastic => {
            if raw.edges.as_ref().is_some_and(|e| !e.is_empty()) {
                bail!(
                    "edges",
                    "only for model \"full\"; model \"elastic\" uses allocations"
                );
            }
            allocations(&raw.allocations.unwrap_or_default(), &ids, &validators)?
        }
    };
    Ok(Network {
        model,
        validators,
        services,
        weights,
    })
}

/// The validators, each id unique and each stake > 0, and the index of each id.
fn validators(raw: &[RawValidator]) -> Result<(Vec<Validator>, HashMap<String, usize>)> {
    let mut validators = Vec::with_capacity(raw.len());
    let mut index = HashMap::new();
    for (k, v) in raw.iter().enumerate() {
        if v.id.is_empty() {
            bail!(format!("validators[{k}].id"), "must not be empty");
        }
        if let Some(prev) = index.insert(v.id.clone(), k) {
            bail!(
                format!("validators[{k}].id"),
                "{:?} already used by validators[{prev}]",
                v.id
            );
        }
        let field = format!("validators[{k}].stake");
        let stake = num(&field, &v.stake)?;
        if !stake.is_positive() {
            bail!(field, "{:?} must be > 0", number::fmt(&stake));
        }
        validators.push(Validator {
            id: v.id.clone(),
            stake,
        });
    }
    Ok((validators, index))
}

/// The services, each id unique, each profit ≥ 0 and each threshold in (0, 1], and the index of each id.
fn services(raw: &[RawService]) -> Result<(Vec<Service>, HashMap<String, usize>)> {
    let mut services = Vec::with_capacity(raw.len());
    let mut index = HashMap::new();
    for (k, s) in raw.iter().enumerate() {
        if s.id.is_empty() {
            bail!(format!("services[{k}].id"), "must not be empty");
        }
        if let Some(prev) = index.insert(s.id.clone(), k) {
            bail!(
                format!("services[{k}].id"),
                "{:?} already used by services[{prev}]",
                s.id
            );
        }
        let field = format!("services[{k}].profit");
        let profit = num(&field, &s.profit)?;
        if profit.is_negative() {
            bail!(field, "{:?} must be ≥ 0", number::fmt(&profit));
        }
        let field = format!("services[{k}].threshold");
        let threshold = num(&field, &s.threshold)?;
        if !number::in_unit_interval(&threshold) {
            bail!(field, "{:?} must be in (0, 1]", number::fmt(&threshold));
        }
        services.push(Service {
            id: s.id.clone(),
            profit,
            threshold,
        });
    }
    Ok((services, index))
}

/// The index of each validator id and of each service id.
struct Ids<'a> {
    validators: &'a HashMap<String, usize>,
    services: &'a HashMap<String, usize>,
}

/// Model full's weights: one per edge, the validator's whole stake; no edge twice.
fn edges(
    raw: &[(String, String)],
    ids: &Ids<'_>,
    validators: &[Validator],
) -> Result<Vec<(usize, usize, Q)>> {
    let mut weights = Vec::with_capacity(raw.len());
    let mut seen = HashMap::new();
    for (k, (v, s)) in raw.iter().enumerate() {
        let Some(&vi) = ids.validators.get(v) else {
            bail!(format!("edges[{k}][0]"), "unknown validator {v:?}");
        };
        let Some(&si) = ids.services.get(s) else {
            bail!(format!("edges[{k}][1]"), "unknown service {s:?}");
        };
        if let Some(prev) = seen.insert((vi, si), k) {
            bail!(
                format!("edges[{k}]"),
                "[{v:?}, {s:?}] repeats edges[{prev}]"
            );
        }
        weights.push((vi, si, validators[vi].stake.clone()));
    }
    Ok(weights)
}

/// Model elastic's weights: one per allocation, its amount in (0, stake]; no pair twice.
fn allocations(
    raw: &[RawAllocation],
    ids: &Ids<'_>,
    validators: &[Validator],
) -> Result<Vec<(usize, usize, Q)>> {
    let mut weights = Vec::with_capacity(raw.len());
    let mut seen = HashMap::new();
    for (k, a) in raw.iter().enumerate() {
        let Some(&vi) = ids.validators.get(&a.validator) else {
            bail!(
                format!("allocations[{k}].validator"),
                "unknown validator {:?}",
                a.validator
            );
        };
        let Some(&si) = ids.services.get(&a.service) else {
            bail!(
                format!("allocations[{k}].service"),
                "unknown service {:?}",
                a.service
            );
        };
        if let Some(prev) = seen.insert((vi, si), k) {
            bail!(
                format!("allocations[{k}]"),
                "({:?}, {:?}) repeats allocations[{prev}]",
                a.validator,
                a.service
            );
        }
        let field = format!("allocations[{k}].amount");
        let amount = num(&field, &a.amount)?;
        if !amount.is_positive() {
            bail!(field, "{:?} must be > 0", number::fmt(&amount));
        }
        if amount > validators[vi].stake {
            bail!(
                field,
                "{:?} exceeds the stake {:?} of validator {:?}",
                number::fmt(&amount),
                number::fmt(&validators[vi].stake),
                a.validator
            );
        }
        weights.push((vi, si, amount));
    }
    Ok(weights)
}

impl Network {
    /// Total stake.
    pub fn total_stake(&self) -> Q {
        self.validators.iter().map(|v| v.stake.clone()).sum()
    }

    /// Backing of each service: Σ_i w_is.
    pub fn backing(&self) -> Vec<Q> {
        let mut b = vec![Q::zero(); self.services.len()];
        for (_, s, w) in &self.weights {
            b[*s] += w;
        }
        b
    }

    /// Writes the network back in the file format (used by generators and tests).
    pub fn to_json(&self) -> Value {
        let validators: Vec<Value> = self
            .validators
            .iter()
            .map(|v| serde_json::json!({"id": v.id, "stake": number::fmt(&v.stake)}))
            .collect();
        let services: Vec<Value> = self
            .services
            .iter()
            .map(|s| {
                serde_json::json!({"id": s.id, "profit": number::fmt(&s.profit), "threshold": number::fmt(&s.threshold)})
            })
            .collect();
        match self.model {
            Model::Full => {
                let edges: Vec<Value> = self
                    .weights
                    .iter()
                    .map(|(v, s, _)| {
                        serde_json::json!([self.validators[*v].id, self.services[*s].id])
                    })
                    .collect();
                serde_json::json!({"model": "full", "validators": validators, "services": services, "edges": edges})
            }
            Model::Elastic => {
                let allocations: Vec<Value> = self
                    .weights
                    .iter()
                    .map(|(v, s, w)| {
                        serde_json::json!({"validator": self.validators[*v].id, "service": self.services[*s].id, "amount": number::fmt(w)})
                    })
                    .collect();
                serde_json::json!({"model": "elastic", "validators": validators, "services": services, "allocations": allocations})
            }
        }
    }
}

/// Largest magnitude a scaled total may reach; keeps every sum of the searches inside `i128`.
const MAX_SCALED: i128 = 1 << 100;

/// A network in scaled integers: every stake, weight and profit multiplied by one common `scale` (the lcm of their
/// denominators), thresholds kept as exact fractions. Every comparison the searches make is exact integer arithmetic.
#[derive(Debug, Clone)]
pub struct Net {
    /// Validator ids (index = validator).
    pub validator_ids: Vec<String>,
    /// Service ids (index = service).
    pub service_ids: Vec<String>,
    /// Scaled stakes (may be 0 inside derived networks).
    pub stake: Vec<i128>,
    /// Scaled profits.
    pub profit: Vec<i128>,
    /// Thresholds as (numerator, denominator), in lowest terms.
    pub theta: Vec<(BigInt, BigInt)>,
    /// Per service: (validator, scaled w > 0).
    pub by_service: Vec<Vec<(usize, i128)>>,
    /// Per validator: (service, scaled w > 0).
    pub by_validator: Vec<Vec<(usize, i128)>>,
    /// Per service: Σ_i w_is.
    pub backing: Vec<i128>,
    /// Per service: the least integer weight an attacking coalition needs, ⌈θ_s · backing_s⌉ (0 without backing).
    pub need: Vec<i128>,
    /// Real value = scaled integer / scale.
    pub scale: BigInt,
}

/// ⌈num · w / den⌉ for w ≥ 0, exact.
pub fn ceil_mul_div(w: i128, num: &BigInt, den: &BigInt) -> i128 {
    let p = BigInt::from(w) * num;
    let (q, r) = p.div_rem(den);
    let q = if r.is_zero() { q } else { q + 1 };
    q.to_i128().expect("need ≤ backing fits in i128")
}

impl Net {
    /// Scales a validated network to integers; fails only if the numbers are too large for exact `i128` sums.
    pub fn from_network(net: &Network) -> Result<Net> {
        let mut scale = BigInt::one();
        let mut fold = |q: &Q| scale = scale.lcm(q.denom());
        for v in &net.validators {
            fold(&v.stake);
        }
        for s in &net.services {
            fold(&s.profit);
        }
        for (_, _, w) in &net.weights {
            fold(w);
        }
        let scaled = |q: &Q, what: &str| -> Result<i128> {
            let v = (q * Q::from_integer(scale.clone())).to_integer();
            v.to_i128()
                .filter(|x| x.abs() < MAX_SCALED)
                .ok_or_else(|| RiskError::TooLarge {
                    what: what.to_string(),
                    value: number::fmt(q),
                    scale: scale.to_string(),
                })
        };
        let stake: Vec<i128> = net
            .validators
            .iter()
            .map(|v| scaled(&v.stake, &format!("validator {:?} stake", v.id)))
            .collect::<Result<_>>()?;
        let profit: Vec<i128> = net
            .services
            .iter()
            .map(|s| scaled(&s.profit, &format!("service {:?} profit", s.id)))
            .collect::<Result<_>>()?;
        let total: i128 = stake.iter().sum::<i128>() + profit.iter().sum::<i128>();
        if total >= MAX_SCALED {
            return Err(RiskError::TotalTooLarge {
                scale: scale.to_string(),
            });
        }
        let (n, m) = (net.validators.len(), net.services.len());
        let mut by_service = vec![Vec::new(); m];
        let mut by_validator = vec![Vec::new(); n];
        for (v, s, w) in &net.weights {
            let w = scaled(w, "weight")?;
            by_service[*s].push((*v, w));
            by_validator[*v].push((*s, w));
        }
        let theta = net
            .services
            .iter()
            .map(|s| (s.threshold.numer().clone(), s.threshold.denom().clone()))
            .collect();
        Ok(Net::assemble(
            net.validators.iter().map(|v| v.id.clone()).collect(),
            net.services.iter().map(|s| s.id.clone()).collect(),
            stake,
            profit,
            theta,
            by_service,
            scale,
        ))
    }

    /// Builds the derived fields (per-validator lists, backing, need) from the per-service lists.
    pub fn assemble(
        validator_ids: Vec<String>,
        service_ids: Vec<String>,
        stake: Vec<i128>,
        profit: Vec<i128>,
        theta: Vec<(BigInt, BigInt)>,
        by_service: Vec<Vec<(usize, i128)>>,
        scale: BigInt,
    ) -> Net {
        let mut by_validator = vec![Vec::new(); stake.len()];
        let mut by_service = by_service;
        for list in &mut by_service {
            list.retain(|&(_, w)| w > 0);
        }
        for (s, list) in by_service.iter().enumerate() {
            for &(v, w) in list {
                by_validator[v].push((s, w));
            }
        }
        let backing: Vec<i128> = by_service
            .iter()
            .map(|l| l.iter().map(|&(_, w)| w).sum())
            .collect();
        let need = backing
            .iter()
            .zip(&theta)
            .map(|(&b, (num, den))| ceil_mul_div(b, num, den))
            .collect();
        Net {
            validator_ids,
            service_ids,
            stake,
            profit,
            theta,
            by_service,
            by_validator,
            backing,
            need,
            scale,
        }
    }

    /// Number of validators.
    pub fn n(&self) -> usize {
        self.stake.len()
    }

    /// Number of services.
    pub fn m(&self) -> usize {
        self.profit.len()
    }

    /// Total (scaled) stake.
    pub fn total_stake(&self) -> i128 {
        self.stake.iter().sum()
    }

    /// The network once the validators in `removed` are gone (stake 0, no weight), thresholds recomputed on what
    /// remains.
    pub fn without_validators(&self, removed: &[bool]) -> Net {
        let stake = self
            .stake
            .iter()
            .zip(removed)
            .map(|(&s, &r)| if r { 0 } else { s })
            .collect();
        let by_service = self
            .by_service
            .iter()
            .map(|l| l.iter().copied().filter(|&(v, _)| !removed[v]).collect())
            .collect();
        Net::assemble(
            self.validator_ids.clone(),
            self.service_ids.clone(),
            stake,
            self.profit.clone(),
            self.theta.clone(),
            by_service,
            self.scale.clone(),
        )
    }

    /// The other services once every service in `byzantine` takes every allocation made to it:
    /// stake'_i = max(0, stake_i − Σ_{z∈Z} w_iz), w'_is = min(w_is, stake'_i). Returns the derived network and the
    /// original index of each of its services.
    pub fn after_byzantine(&self, byzantine: &[bool]) -> (Net, Vec<usize>) {
        let mut stake = self.stake.clone();
        for (z, list) in self.by_service.iter().enumerate() {
            if byzantine[z] {
                for &(v, w) in list {
                    stake[v] -= w;
                }
            }
        }
        for s in &mut stake {
            *s = (*s).max(0);
        }
        let keep: Vec<usize> = (0..self.m()).filter(|&s| !byzantine[s]).collect();
        let by_service = keep
            .iter()
            .map(|&s| {
                self.by_service[s]
                    .iter()
                    .map(|&(v, w)| (v, w.min(stake[v])))
                    .collect()
            })
            .collect();
        let net = Net::assemble(
            self.validator_ids.clone(),
            keep.iter().map(|&s| self.service_ids[s].clone()).collect(),
            stake,
            keep.iter().map(|&s| self.profit[s]).collect(),
            keep.iter().map(|&s| self.theta[s].clone()).collect(),
            by_service,
            self.scale.clone(),
        );
        (net, keep)
    }

    /// A scaled integer back to an exact rational.
    pub fn value(&self, x: i128) -> Q {
        Q::new(BigInt::from(x), self.scale.clone())
    }
}

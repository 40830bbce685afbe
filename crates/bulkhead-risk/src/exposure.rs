//! Exposure: how much each validator restakes, what backs each service, and who bears the risk when each service
//! fails alone (takes every allocation made to it).

use serde::Serialize;

use crate::{
    network::Net,
    number::{self, Exact},
};

/// A validator's exposure.
#[derive(Debug, Clone, Serialize)]
pub struct ValidatorExposure {
    /// Validator id.
    pub id: String,
    /// Stake.
    pub stake: Exact,
    /// Σ_s w_is.
    pub allocated: Exact,
    /// Restaking degree: Σ_s w_is / stake.
    pub restaking_degree: Exact,
    /// Number of services it backs.
    pub services: usize,
}

/// One backer of a service.
#[derive(Debug, Clone, Serialize)]
pub struct Backer {
    /// Validator id.
    pub validator: String,
    /// w_is.
    pub amount: Exact,
}

/// A service's backing.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceExposure {
    /// Service id.
    pub id: String,
    /// Profit from corruption.
    pub profit: Exact,
    /// Threshold θ.
    pub threshold: Exact,
    /// Σ_i w_is.
    pub backing: Exact,
    /// Backers, largest first.
    pub backers: Vec<Backer>,
}

/// A validator's loss when a service fails alone.
#[derive(Debug, Clone, Serialize)]
pub struct Loss {
    /// Validator id.
    pub validator: String,
    /// Stake lost: w_iz.
    pub amount: Exact,
}

/// Knock-on effect on another service when a service fails alone.
#[derive(Debug, Clone, Serialize)]
pub struct KnockOn {
    /// The other service.
    pub service: String,
    /// Its backing before.
    pub before: Exact,
    /// Its backing after (w'_is = min(w_is, stake'_i)).
    pub after: Exact,
}

/// Who bears the risk of one service failing alone (in the network model: validators; from the chain: pools).
#[derive(Debug, Clone, Serialize)]
pub struct FailsAlone {
    /// The failing service.
    pub service: String,
    /// Total stake lost (its backing).
    pub total: Exact,
    /// Each backer's loss, largest first.
    pub losses: Vec<Loss>,
    /// Other services whose backing shrinks.
    pub knock_on: Vec<KnockOn>,
}

/// How [`Exposure::fails_alone`] was worked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    /// The network model (a network file): each backer loses its allocation, and another service's backing by a
    /// validator falls to min(w, the stake the validator has left).
    Network,
    /// The protocol's own accounting (an audit of a scenario or a deployment): the failure replayed as the contracts
    /// book it, the bearers are pools (`bulkhead_audit::Source::fails_alone`).
    Chain,
}

/// The exposure section of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Exposure {
    /// Per validator.
    pub validators: Vec<ValidatorExposure>,
    /// Per service.
    pub services: Vec<ServiceExposure>,
    /// Per service failing alone.
    pub fails_alone: Vec<FailsAlone>,
    /// Where `fails_alone` comes from: `"network"` or `"chain"`.
    pub fails_alone_basis: Basis,
}

/// Computes the exposure of a network (scaled form; values as exact rationals).
pub fn exposure(net: &Net) -> Exposure {
    let q = |x: i128| Exact(net.value(x));
    let validators = (0..net.n())
        .map(|v| {
            let allocated: i128 = net.by_validator[v].iter().map(|&(_, w)| w).sum();
            ValidatorExposure {
                id: net.validator_ids[v].clone(),
                stake: q(net.stake[v]),
                allocated: q(allocated),
                restaking_degree: Exact(number::frac(allocated, net.stake[v].max(1))),
                services: net.by_validator[v].len(),
            }
        })
        .collect();
    let sorted = |s: usize| {
        let mut l = net.by_service[s].clone();
        l.sort_by_key(|&(v, w)| (std::cmp::Reverse(w), v));
        l
    };
    let services = (0..net.m())
        .map(|s| ServiceExposure {
            id: net.service_ids[s].clone(),
            profit: q(net.profit[s]),
            threshold: Exact(number::Q::new(
                net.theta[s].0.clone(),
                net.theta[s].1.clone(),
            )),
            backing: q(net.backing[s]),
            backers: sorted(s)
                .iter()
                .map(|&(v, w)| Backer {
                    validator: net.validator_ids[v].clone(),
                    amount: q(w),
                })
                .collect(),
        })
        .collect();
    let mut lost = vec![0i128; net.m()];
    let fails_alone = (0..net.m())
        .map(|z| {
            let mut touched = Vec::new();
            for &(v, wz) in &net.by_service[z] {
                let left = (net.stake[v] - wz).max(0);
                for &(t, w) in &net.by_validator[v] {
                    if t != z && w > left {
                        if lost[t] == 0 {
                            touched.push(t);
                        }
                        lost[t] += w - left;
                    }
                }
            }
            touched.sort_unstable();
            let knock_on = touched
                .iter()
                .map(|&t| {
                    let k = KnockOn {
                        service: net.service_ids[t].clone(),
                        before: q(net.backing[t]),
                        after: q(net.backing[t] - lost[t]),
                    };
                    lost[t] = 0;
                    k
                })
                .collect();
            FailsAlone {
                service: net.service_ids[z].clone(),
                total: q(net.backing[z]),
                losses: sorted(z)
                    .iter()
                    .map(|&(v, w)| Loss {
                        validator: net.validator_ids[v].clone(),
                        amount: q(w),
                    })
                    .collect(),
                knock_on,
            }
        })
        .collect();
    Exposure {
        validators,
        services,
        fails_alone,
        fails_alone_basis: Basis::Network,
    }
}

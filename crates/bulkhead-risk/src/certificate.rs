//! Durvasula & Roughgarden's sufficient condition as a certificate, and the certified bounds used at scale.
//!
//! Condition (model full; model elastic with stake(N(s)) read as the backing Σ_i w_is): for every validator v,
//! load_v = Σ_{s∋v} π_s / (θ_s · backing_s) ≤ 1/(1+γ). Then every shock D with stake(D) ≤ ψ · total loses
//! worst_case_loss(ψ) < (1 + 1/γ) · ψ (for ψ > 0), and with ψ = 0 no attack is profitable (the network is secure).
//! The proof, for both models, is in `docs/audit.md`.

use num_bigint::BigInt;
use num_traits::{One, Signed, ToPrimitive, Zero};

use crate::{
    network::{Net, Network},
    number::Q,
};

/// The certificate of a network.
#[derive(Debug, Clone)]
pub struct Certificate {
    /// Per validator: load_v = Σ_{s∋v} π_s / (θ_s · backing_s).
    pub load: Vec<Q>,
    /// The largest γ with every load ≤ 1/(1+γ): 1/max load − 1, when max load is in (0, 1). `None` otherwise.
    pub gamma: Option<Q>,
    /// The certificate holds for every γ: no backed service has profit and no unbacked one either (bound ψ).
    pub unbounded: bool,
    /// A service with profit but no backing: falls to the empty set, no certificate.
    pub unbacked_profit: bool,
}

impl Certificate {
    /// Computes the loads and γ.
    pub fn new(net: &Network) -> Certificate {
        let backing = net.backing();
        let mut load = vec![Q::zero(); net.validators.len()];
        for (v, s, _) in &net.weights {
            let svc = &net.services[*s];
            load[*v] += &svc.profit / (&svc.threshold * &backing[*s]);
        }
        let unbacked_profit = net
            .services
            .iter()
            .zip(&backing)
            .any(|(s, b)| b.is_zero() && s.profit.is_positive());
        let max = load.iter().cloned().max().unwrap_or_else(Q::zero);
        let (gamma, unbounded) = if unbacked_profit {
            (None, false)
        } else if max.is_zero() {
            (None, true)
        } else if max < Q::one() {
            (Some(max.recip() - Q::one()), false)
        } else {
            (None, false)
        };
        Certificate {
            load,
            gamma,
            unbounded,
            unbacked_profit,
        }
    }

    /// True if the certificate proves the network secure (no profitable attack).
    pub fn proves_secure(&self) -> bool {
        self.gamma.is_some() || self.unbounded
    }

    /// The certified bound on worst_case_loss(ψ): (1 + 1/γ) · ψ (strict for ψ > 0), ψ when unbounded, `None` without
    /// a certificate.
    pub fn loss_bound(&self, psi: &Q) -> Option<Q> {
        if self.unbounded {
            return Some(psi.clone());
        }
        self.gamma.as_ref().map(|g| (Q::one() + g.recip()) * psi)
    }
}

/// A certified upper bound on max_attack_profit (the branch and bound's root relaxation, in exact arithmetic):
/// every over-allocated validator's stake is split over its services in proportion to its weights (price per unit
/// stake/Σ_s w_s, rounded down to a multiple of 2⁻³² so the sums stay integers), every other unit of weight costs
/// 1, and each service's coalition costs at least the cheapest fractional cover of its need.
pub fn attack_profit_upper_bound(net: &Net) -> Q {
    const SHIFT: u32 = 32;
    let one = BigInt::one() << SHIFT;
    let n = net.n();
    let price: Vec<BigInt> = (0..n)
        .map(|v| {
            let load: i128 = net.by_validator[v].iter().map(|&(_, w)| w).sum();
            if load > net.stake[v] {
                (BigInt::from(net.stake[v]) << SHIFT) / BigInt::from(load)
            } else {
                one.clone()
            }
        })
        .collect();
    let mut gains: Vec<BigInt> = Vec::with_capacity(net.m());
    for s in 0..net.m() {
        let mut items: Vec<(usize, i128)> = net.by_service[s].clone();
        items.sort_by(|a, b| price[a.0].cmp(&price[b.0]).then(a.0.cmp(&b.0)));
        let mut rem = net.need[s];
        let mut cost = BigInt::zero();
        for (v, w) in items {
            if rem <= 0 {
                break;
            }
            let take = w.min(rem);
            cost += &price[v] * BigInt::from(take);
            rem -= take;
        }
        gains.push((BigInt::from(net.profit[s]) << SHIFT) - cost);
    }
    let positive: Vec<&BigInt> = gains.iter().filter(|g| g.is_positive()).collect();
    let best = if positive.is_empty() {
        gains.iter().max().cloned().unwrap_or_else(BigInt::zero)
    } else {
        positive.into_iter().sum()
    };
    Q::new(best, &net.scale << SHIFT)
}

/// Approximate value of a rational for sorting and charts.
pub fn to_f64(q: &Q) -> f64 {
    q.to_f64().unwrap_or(f64::NAN)
}

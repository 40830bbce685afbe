//! Brute-force reference: every definition of the issue evaluated literally, in exact rationals, by enumerating
//! every attack (every non-empty A and every coalition B_s ⊆ backers(s)), every shock D and every set Z of
//! Byzantine services. Exponential; for tests on tiny networks only.
//!
//! Coalitions are enumerated among a service's backers only: a validator with w_is = 0 adds nothing to the
//! coalition's weight and nothing to the cost, so leaving it out changes neither.

use num_traits::{Signed, Zero};

use crate::{network::Network, number::Q};

/// A network in the brute force's own dense form (its own transforms, independent of the searches' code).
#[derive(Debug, Clone)]
pub struct Dense {
    /// Stakes.
    pub stake: Vec<Q>,
    /// Profits.
    pub profit: Vec<Q>,
    /// Thresholds.
    pub theta: Vec<Q>,
    /// `w[i][s]`, zero when the validator does not back the service.
    pub w: Vec<Vec<Q>>,
}

impl Dense {
    /// From a validated network.
    pub fn new(net: &Network) -> Dense {
        let (n, m) = (net.validators.len(), net.services.len());
        let mut w = vec![vec![Q::zero(); m]; n];
        for (v, s, x) in &net.weights {
            w[*v][*s] = x.clone();
        }
        Dense {
            stake: net.validators.iter().map(|v| v.stake.clone()).collect(),
            profit: net.services.iter().map(|s| s.profit.clone()).collect(),
            theta: net.services.iter().map(|s| s.threshold.clone()).collect(),
            w,
        }
    }

    fn without(&self, d: &[bool]) -> Dense {
        let mut out = self.clone();
        for (i, &gone) in d.iter().enumerate() {
            if gone {
                out.stake[i] = Q::zero();
                for x in &mut out.w[i] {
                    *x = Q::zero();
                }
            }
        }
        out
    }

    fn after_byzantine(&self, z: &[bool]) -> Dense {
        let m = self.profit.len();
        let keep: Vec<usize> = (0..m).filter(|&s| !z[s]).collect();
        let mut stake = self.stake.clone();
        for (i, st) in stake.iter_mut().enumerate() {
            for (s, _) in z.iter().enumerate().filter(|(_, gone)| **gone) {
                *st -= &self.w[i][s];
            }
            if st.is_negative() {
                *st = Q::zero();
            }
        }
        let w = (0..self.stake.len())
            .map(|i| {
                keep.iter()
                    .map(|&s| self.w[i][s].clone().min(stake[i].clone()))
                    .collect()
            })
            .collect();
        Dense {
            stake,
            profit: keep.iter().map(|&s| self.profit[s].clone()).collect(),
            theta: keep.iter().map(|&s| self.theta[s].clone()).collect(),
            w,
        }
    }
}

/// What enumerating every attack gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Attacks {
    /// max profit − cost over every attack (`None` without services).
    pub max_profit: Option<Q>,
    /// The largest cost of a profitable attack (`None` if none is profitable).
    pub max_profitable_cost: Option<Q>,
}

/// Enumerates every attack of `d`.
pub fn attacks(d: &Dense) -> Attacks {
    let (n, m) = (d.stake.len(), d.profit.len());
    // Every valid coalition of each service, as validator bitmasks.
    let coalitions: Vec<Vec<u32>> = (0..m)
        .map(|s| {
            let backers: Vec<usize> = (0..n).filter(|&i| d.w[i][s].is_positive()).collect();
            let total: Q = backers.iter().map(|&i| d.w[i][s].clone()).sum();
            (0u32..1 << backers.len())
                .filter_map(|sub| {
                    let mut mask = 0u32;
                    let mut got = Q::zero();
                    for (b, &i) in backers.iter().enumerate() {
                        if sub >> b & 1 == 1 {
                            mask |= 1 << i;
                            got += &d.w[i][s];
                        }
                    }
                    (got >= &d.theta[s] * &total).then_some(mask)
                })
                .collect()
        })
        .collect();
    let mut out = Attacks {
        max_profit: None,
        max_profitable_cost: None,
    };
    for a in 1u32..1 << m {
        let services: Vec<usize> = (0..m).filter(|&s| a >> s & 1 == 1).collect();
        let profit: Q = services.iter().map(|&s| d.profit[s].clone()).sum();
        let mut pick = vec![0u32; services.len()];
        product(d, &services, &coalitions, 0, &mut pick, &profit, &mut out);
    }
    out
}

fn product(
    d: &Dense,
    services: &[usize],
    coalitions: &[Vec<u32>],
    k: usize,
    pick: &mut [u32],
    profit: &Q,
    out: &mut Attacks,
) {
    if k == services.len() {
        let mut cost = Q::zero();
        for i in 0..d.stake.len() {
            let mut load = Q::zero();
            for (j, &s) in services.iter().enumerate() {
                if pick[j] >> i & 1 == 1 {
                    load += &d.w[i][s];
                }
            }
            cost += load.min(d.stake[i].clone());
        }
        let value = profit - &cost;
        if out.max_profit.as_ref().is_none_or(|b| &value > b) {
            out.max_profit = Some(value.clone());
        }
        if value.is_positive() && out.max_profitable_cost.as_ref().is_none_or(|b| &cost > b) {
            out.max_profitable_cost = Some(cost);
        }
        return;
    }
    for &c in &coalitions[services[k]] {
        pick[k] = c;
        product(d, services, coalitions, k + 1, pick, profit, out);
    }
}

/// worst_case_loss(ψ): the maximum over D with stake(D) ≤ ψ · total of (stake(D) + the largest cost of a profitable
/// attack on the network without D) / total.
pub fn worst_case_loss(d: &Dense, psi: &Q) -> Q {
    let n = d.stake.len();
    let total: Q = d.stake.iter().cloned().sum();
    let mut best = Q::zero();
    for mask in 0u32..1 << n {
        let gone: Vec<bool> = (0..n).map(|i| mask >> i & 1 == 1).collect();
        let sd: Q = (0..n)
            .filter(|&i| gone[i])
            .map(|i| d.stake[i].clone())
            .sum();
        if sd > psi * &total {
            continue;
        }
        let extra = attacks(&d.without(&gone))
            .max_profitable_cost
            .unwrap_or_else(Q::zero);
        let loss = (sd + extra) / &total;
        if loss > best {
            best = loss;
        }
    }
    best
}

/// min_byzantine_services: the smallest |Z| leaving the other services with a profitable attack.
pub fn min_byzantine_services(d: &Dense) -> Option<usize> {
    let m = d.profit.len();
    (0..=m).find(|&k| {
        (0u32..1 << m)
            .filter(|z| z.count_ones() as usize == k)
            .any(|z| {
                let zs: Vec<bool> = (0..m).map(|s| z >> s & 1 == 1).collect();
                attacks(&d.after_byzantine(&zs))
                    .max_profit
                    .is_some_and(|p| p.is_positive())
            })
    })
}

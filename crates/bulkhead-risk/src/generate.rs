//! Seeded random networks for the property tests and the benchmark, drawn from the workspace's SplitMix64
//! (`bulkhead-rng`): a seed printed anywhere regenerates the same network.

use num_bigint::BigInt;

use crate::{
    network::{Model, Network, Service, Validator},
    number::Q,
};

/// SplitMix64 (Steele, Lea & Flood): the workspace's one seeded generator; `chance(num, den)` is true with
/// probability `num/den`.
pub use bulkhead_rng::SplitMix64;

/// Shape of a random network.
#[derive(Debug, Clone)]
pub struct Params {
    /// Number of validators.
    pub validators: usize,
    /// Number of services.
    pub services: usize,
    /// Full or elastic.
    pub model: Model,
    /// Each validator backs a uniform number of services in this range (clamped to the number of services).
    pub degree: (usize, usize),
    /// Integer stakes uniform in this range.
    pub stake: (u64, u64),
    /// profit_s = θ_s · backing_s · pct / (100 · mean degree), pct uniform in this range (percent).
    pub profit_pct: (u64, u64),
}

const THRESHOLDS: [(u64, u64); 5] = [(1, 3), (1, 2), (2, 3), (3, 5), (1, 1)];

/// A random network.
pub fn network(rng: &mut SplitMix64, p: &Params) -> Network {
    let validators: Vec<Validator> = (0..p.validators)
        .map(|i| Validator {
            id: format!("v{i}"),
            stake: Q::from_integer(BigInt::from(rng.range(p.stake.0, p.stake.1))),
        })
        .collect();
    let mut weights = Vec::new();
    let mut backing = vec![Q::from_integer(0.into()); p.services];
    let (lo, hi) = (p.degree.0.min(p.services), p.degree.1.min(p.services));
    let mut degrees = 0usize;
    for (v, val) in validators.iter().enumerate() {
        let k = rng.range(lo as u64, hi as u64) as usize;
        degrees += k;
        // k distinct services (partial Fisher-Yates).
        let mut pool: Vec<usize> = (0..p.services).collect();
        for j in 0..k {
            let r = j + rng.range(0, (p.services - j - 1) as u64) as usize;
            pool.swap(j, r);
            let s = pool[j];
            let w = match p.model {
                Model::Full => val.stake.clone(),
                Model::Elastic => {
                    let st = val.stake.to_integer();
                    let st: u64 = st.try_into().unwrap_or(1);
                    Q::from_integer(BigInt::from(rng.range(1, st)))
                }
            };
            backing[s] += &w;
            weights.push((v, s, w));
        }
    }
    let mean_degree = (degrees.max(1) as u64)
        .div_ceil(p.validators.max(1) as u64)
        .max(1);
    let services = (0..p.services)
        .map(|s| {
            let (tn, td) = THRESHOLDS[rng.range(0, THRESHOLDS.len() as u64 - 1) as usize];
            let threshold = Q::new(BigInt::from(tn), BigInt::from(td));
            let pct = rng.range(p.profit_pct.0, p.profit_pct.1);
            let profit = (&threshold
                * &backing[s]
                * Q::new(BigInt::from(pct), BigInt::from(100 * mean_degree)))
            .floor();
            Service {
                id: format!("s{s}"),
                profit,
                threshold,
            }
        })
        .collect();
    Network {
        model: p.model,
        validators,
        services,
        weights,
    }
}

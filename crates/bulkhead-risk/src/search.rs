//! Exact searches on a scaled [`Net`]: the most profitable attack (branch and bound), the fewest Byzantine services,
//! and the greedy heuristic used at scale (the worst-case loss and the costliest profitable attack are in
//! [`crate::shock`]).
//!
//! Every value these functions return is computed and compared in exact integer arithmetic (`i128` over the net's
//! common denominator). The branch and bound of [`max_attack`] prunes with an `f64` upper bound widened by a margin
//! that dominates its rounding error, so a prune never discards a node that could beat the incumbent; see
//! `docs/audit.md`.

use crate::network::Net;

/// A node budget: searches stop with [`Exhausted`] once they have visited `limit` nodes.
#[derive(Debug, Clone)]
pub struct Budget {
    limit: u64,
    used: u64,
}

/// The search ran out of its node budget; its answer would not be exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted;

impl std::fmt::Display for Exhausted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the exact search exhausted its node budget")
    }
}

impl std::error::Error for Exhausted {}

impl Budget {
    /// A budget of `limit` nodes.
    pub fn new(limit: u64) -> Budget {
        Budget { limit, used: 0 }
    }

    /// Nodes visited so far.
    pub fn used(&self) -> u64 {
        self.used
    }

    pub(crate) fn tick(&mut self) -> Result<(), Exhausted> {
        self.charge(1)
    }

    /// Charges `units` for a node whose work is heavier than a plain branch (a bound over every edge, a derived
    /// network), so that one budget is about the same time whichever search spends it.
    pub(crate) fn charge(&mut self, units: u64) -> Result<(), Exhausted> {
        self.used += units;
        if self.used > self.limit {
            Err(Exhausted)
        } else {
            Ok(())
        }
    }
}

/// An attack: services `A` and, for each, the coalition `B_s` of validators that corrupts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attack {
    /// Attacked services (indices into the net), increasing.
    pub services: Vec<usize>,
    /// `coalitions[k]`: the validators of `B_{services[k]}`, increasing.
    pub coalitions: Vec<Vec<usize>>,
}

impl Attack {
    /// Σ_{s∈A} profit_s.
    pub fn profit(&self, net: &Net) -> i128 {
        self.services.iter().map(|&s| net.profit[s]).sum()
    }

    /// Σ_i min(stake_i, Σ_{s∈A, i∈B_s} w_is): the definition, evaluated exactly.
    pub fn cost(&self, net: &Net) -> i128 {
        let mut load = vec![0i128; net.n()];
        for (k, &s) in self.services.iter().enumerate() {
            for &(v, w) in &net.by_service[s] {
                if self.coalitions[k].binary_search(&v).is_ok() {
                    load[v] += w;
                }
            }
        }
        load.iter().zip(&net.stake).map(|(&l, &st)| l.min(st)).sum()
    }

    /// Non-empty, and every coalition reaches its service's threshold: Σ_{i∈B_s} w_is ≥ θ_s · Σ_i w_is.
    pub fn is_valid(&self, net: &Net) -> bool {
        !self.services.is_empty()
            && self.services.len() == self.coalitions.len()
            && self.services.iter().zip(&self.coalitions).all(|(&s, b)| {
                let got: i128 = net.by_service[s]
                    .iter()
                    .filter(|(v, _)| b.binary_search(v).is_ok())
                    .map(|&(_, w)| w)
                    .sum();
                got >= net.need[s]
            })
    }

    /// profit − cost.
    pub fn value(&self, net: &Net) -> i128 {
        self.profit(net) - self.cost(net)
    }

    pub(crate) fn normalise(mut self) -> Attack {
        let mut pairs: Vec<(usize, Vec<usize>)> = self
            .services
            .drain(..)
            .zip(self.coalitions.drain(..))
            .collect();
        pairs.sort_by_key(|p| p.0);
        for (_, b) in &mut pairs {
            b.sort_unstable();
            b.dedup();
        }
        Attack {
            services: pairs.iter().map(|p| p.0).collect(),
            coalitions: pairs.into_iter().map(|p| p.1).collect(),
        }
    }
}

/// The best attack a search found and its exact value (profit − cost).
#[derive(Debug, Clone)]
pub struct Found {
    /// profit − cost, scaled.
    pub value: i128,
    /// The attack.
    pub attack: Attack,
}

/// The largest sum over a non-empty subset: the sum of the positive values, or the largest value if none is.
fn best_nonempty_i(g: &[Option<i128>]) -> Option<(i128, Vec<usize>)> {
    let pos: Vec<usize> = (0..g.len())
        .filter(|&s| g[s].is_some_and(|x| x > 0))
        .collect();
    if !pos.is_empty() {
        return Some((pos.iter().map(|&s| g[s].unwrap_or(0)).sum(), pos));
    }
    let (s, x) = g
        .iter()
        .enumerate()
        .filter_map(|(s, x)| x.map(|x| (s, x)))
        .max_by_key(|&(s, x)| (x, std::cmp::Reverse(s)))?;
    Some((x, vec![s]))
}

fn best_nonempty_f(g: &[f64]) -> f64 {
    let mut pos = 0.0;
    let mut any = false;
    let mut top = f64::NEG_INFINITY;
    for &x in g {
        if x > 0.0 {
            pos += x;
            any = true;
        }
        top = top.max(x);
    }
    if any { pos } else { top }
}

/// Smallest subset sum ≥ `need` of `items` (weights sorted decreasing), with the chosen indices. `None` if the
/// items cannot reach `need`.
fn min_subset_sum(
    items: &[i128],
    need: i128,
    budget: &mut Budget,
) -> Result<Option<(i128, Vec<usize>)>, Exhausted> {
    let total: i128 = items.iter().sum();
    if total < need {
        return Ok(None);
    }
    let mut suffix = vec![0i128; items.len() + 1];
    for k in (0..items.len()).rev() {
        suffix[k] = suffix[k + 1] + items[k];
    }
    struct St<'a> {
        items: &'a [i128],
        suffix: Vec<i128>,
        need: i128,
        best: i128,
        best_set: Vec<usize>,
        cur: Vec<usize>,
    }
    fn go(st: &mut St<'_>, k: usize, sum: i128, budget: &mut Budget) -> Result<(), Exhausted> {
        budget.tick()?;
        if sum >= st.need {
            if sum < st.best {
                st.best = sum;
                st.best_set = st.cur.clone();
            }
            return Ok(());
        }
        if k == st.items.len() || sum + st.suffix[k] < st.need || st.best == st.need {
            return Ok(());
        }
        if sum + st.items[k] < st.best {
            st.cur.push(k);
            go(st, k + 1, sum + st.items[k], budget)?;
            st.cur.pop();
        }
        go(st, k + 1, sum, budget)
    }
    let mut st = St {
        items,
        suffix,
        need,
        best: total,
        best_set: (0..items.len()).collect(),
        cur: Vec::new(),
    };
    go(&mut st, 0, 0, budget)?;
    Ok(Some((st.best, st.best_set)))
}

const UNDECIDED: u8 = 0;
const BURNED: u8 = 1;
const OUT: u8 = 2;

/// Branch and bound for the most profitable attack.
///
/// Reformulation (exact): a validator's cost min(stake, load) is the cheaper of two purchases, *burn* it (pay its
/// stake, it joins every coalition it can) or buy single pairs (i, s) at price w_is. Given the burned set F every
/// service is then independent: its coalition needs the deficit d_s = need_s − w_s(F) from pairs, at least cost
/// min-subset-sum ≥ d_s. Only over-allocated validators (Σ_s w_is > stake) can be worth burning; the search
/// branches on them. Bound: pricing an undecided burn at stake/Σ_s w_is per unit of weight splits its stake over its
/// services, which makes the cost additive per service (a fractional cover per service).
struct Bnb<'a> {
    net: &'a Net,
    cand: Vec<usize>,
    rho: Vec<f64>,
    status: Vec<u8>,
    burned_w: Vec<i128>,
    sigma_f: i128,
    /// Per service: candidate backers sorted by rho (cheapest first).
    by_rho: Vec<Vec<(usize, f64)>>,
    /// Per service: (validator, w) sorted by w decreasing.
    by_w: Vec<Vec<(usize, i128)>>,
    best: Option<Found>,
    margin: f64,
    stop_at_profit: bool,
    gbuf: Vec<f64>,
    /// Pairs can be cheaper than burns (some w_is < stake_i). When every weight is the whole stake (model full),
    /// buying a pair costs the stake, as much as burning the validator, so every validator is a candidate and an
    /// attack is exactly a burned set.
    pairs: bool,
}

impl Bnb<'_> {
    fn target(&self) -> f64 {
        let b = self
            .best
            .as_ref()
            .map_or(f64::NEG_INFINITY, |f| f.value as f64);
        if self.stop_at_profit { b.max(0.0) } else { b }
    }

    fn upper(&mut self) -> f64 {
        let net = self.net;
        for s in 0..net.m() {
            let d = net.need[s] - self.burned_w[s];
            self.gbuf[s] = if d <= 0 {
                net.profit[s] as f64
            } else {
                let mut rem = d as f64;
                let mut cost = 0.0;
                for &(v, wf) in &self.by_rho[s] {
                    if rem <= 0.0 {
                        break;
                    }
                    if self.status[v] == UNDECIDED {
                        let take = wf.min(rem);
                        cost += take * self.rho[v];
                        rem -= take;
                    }
                }
                if rem > 0.0 && !self.pairs {
                    f64::NEG_INFINITY
                } else {
                    net.profit[s] as f64 - cost - rem.max(0.0)
                }
            };
        }
        best_nonempty_f(&self.gbuf) - self.sigma_f as f64
    }

    fn leaf(&mut self, budget: &mut Budget) -> Result<(), Exhausted> {
        let net = self.net;
        let mut g = vec![None; net.m()];
        let mut pairs: Vec<Vec<usize>> = vec![Vec::new(); net.m()];
        for s in 0..net.m() {
            let d = net.need[s] - self.burned_w[s];
            if d <= 0 {
                g[s] = Some(net.profit[s]);
                continue;
            }
            if !self.pairs {
                continue;
            }
            let avail: Vec<(usize, i128)> = self.by_w[s]
                .iter()
                .copied()
                .filter(|&(v, _)| self.status[v] != BURNED)
                .collect();
            let weights: Vec<i128> = avail.iter().map(|&(_, w)| w).collect();
            if let Some((cost, chosen)) = min_subset_sum(&weights, d, budget)? {
                g[s] = Some(net.profit[s] - cost);
                pairs[s] = chosen.iter().map(|&k| avail[k].0).collect();
            }
        }
        let Some((gain, services)) = best_nonempty_i(&g) else {
            return Ok(());
        };
        let value = gain - self.sigma_f;
        if self.best.as_ref().is_none_or(|b| value > b.value) {
            let coalitions = services
                .iter()
                .map(|&s| {
                    let mut b: Vec<usize> = net.by_service[s]
                        .iter()
                        .filter(|&&(v, _)| self.status[v] == BURNED)
                        .map(|&(v, _)| v)
                        .collect();
                    b.extend(&pairs[s]);
                    b
                })
                .collect();
            let attack = Attack {
                services,
                coalitions,
            }
            .normalise();
            // The relaxed value never exceeds the attack's real value; at the optimum they are equal.
            let real = attack.value(net);
            debug_assert!(real >= value);
            self.best = Some(Found {
                value: real.max(value),
                attack,
            });
        }
        Ok(())
    }

    fn dfs(&mut self, k: usize, budget: &mut Budget) -> Result<(), Exhausted> {
        budget.tick()?;
        if self.stop_at_profit && self.best.as_ref().is_some_and(|b| b.value > 0) {
            return Ok(());
        }
        let ub = self.upper();
        if ub + self.margin <= self.target() - self.margin {
            return Ok(());
        }
        if k == self.cand.len() {
            return self.leaf(budget);
        }
        let v = self.cand[k];
        let net = self.net;
        let useful = net.by_validator[v]
            .iter()
            .any(|&(s, _)| net.need[s] > self.burned_w[s]);
        if useful {
            self.status[v] = BURNED;
            self.sigma_f += net.stake[v];
            for &(s, w) in &net.by_validator[v] {
                self.burned_w[s] += w;
            }
            let r = self.dfs(k + 1, budget);
            for &(s, w) in &net.by_validator[v] {
                self.burned_w[s] -= w;
            }
            self.sigma_f -= net.stake[v];
            r?;
        }
        self.status[v] = OUT;
        let r = self.dfs(k + 1, budget);
        self.status[v] = UNDECIDED;
        r
    }
}

/// The most profitable attack (max profit − cost), exactly; `None` only for a net without services.
///
/// With `stop_at_profit` the search stops at the first attack with profit − cost > 0 (a decision procedure for
/// "insecure"): the result is then either such an attack or, if none exists, the exact maximum.
pub fn max_attack(
    net: &Net,
    budget: &mut Budget,
    stop_at_profit: bool,
) -> Result<Option<Found>, Exhausted> {
    if net.m() == 0 {
        return Ok(None);
    }
    let n = net.n();
    let load: Vec<i128> = (0..n)
        .map(|v| net.by_validator[v].iter().map(|&(_, w)| w).sum())
        .collect();
    let pairs = net
        .by_service
        .iter()
        .flatten()
        .any(|&(v, w)| w < net.stake[v]);
    let mut cand: Vec<usize> = (0..n)
        .filter(|&v| {
            if pairs {
                load[v] > net.stake[v]
            } else {
                load[v] > 0
            }
        })
        .collect();
    cand.sort_by_key(|&v| (std::cmp::Reverse(load[v]), v));
    let rho: Vec<f64> = (0..n)
        .map(|v| {
            if load[v] > net.stake[v] {
                net.stake[v] as f64 / load[v] as f64
            } else {
                1.0
            }
        })
        .collect();
    let mut status = vec![OUT; n];
    for &v in &cand {
        status[v] = UNDECIDED;
    }
    let by_rho = net
        .by_service
        .iter()
        .map(|l| {
            let mut c: Vec<(usize, f64)> = l
                .iter()
                .filter(|&&(v, _)| status[v] == UNDECIDED)
                .map(|&(v, w)| (v, w as f64))
                .collect();
            c.sort_by(|a, b| rho[a.0].total_cmp(&rho[b.0]));
            c
        })
        .collect();
    let by_w = net
        .by_service
        .iter()
        .map(|l| {
            let mut c = l.clone();
            c.sort_by_key(|&(v, w)| (std::cmp::Reverse(w), v));
            c
        })
        .collect();
    let scale_sum = net.stake.iter().map(|&x| x as f64).sum::<f64>()
        + net.profit.iter().map(|&x| x as f64).sum::<f64>();
    let mut bnb = Bnb {
        net,
        cand,
        rho,
        status,
        burned_w: vec![0; net.m()],
        sigma_f: 0,
        by_rho,
        by_w,
        best: greedy_attack(net),
        margin: 1e-9 * (scale_sum + 1.0),
        stop_at_profit,
        gbuf: vec![0.0; net.m()],
        pairs,
    };
    bnb.dfs(0, budget)?;
    Ok(bnb.best)
}

/// Greedy heuristic attack (no optimality claim): seeded with each of the 8 services of best stand-alone gain, then
/// every service in decreasing order of stand-alone gain is covered by the backers with the cheapest marginal cost
/// per unit of weight given what the attack already pays, and kept if its marginal gain is positive (3 passes).
/// The best total wins. Its value is exact (recomputed from the definition).
pub fn greedy_attack(net: &Net) -> Option<Found> {
    if net.m() == 0 {
        return None;
    }
    let mut load = vec![0i128; net.n()];
    let cover = |s: usize, load: &[i128]| -> (i128, Vec<(usize, i128)>) {
        let need = net.need[s];
        let mut items: Vec<(usize, i128, i128)> = net.by_service[s]
            .iter()
            .map(|&(v, w)| {
                (
                    v,
                    w,
                    (load[v] + w).min(net.stake[v]) - load[v].min(net.stake[v]),
                )
            })
            .collect();
        items.sort_by(|a, b| {
            let (ra, rb) = (a.2 as f64 / a.1 as f64, b.2 as f64 / b.1 as f64);
            ra.total_cmp(&rb).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0))
        });
        let mut taken = Vec::new();
        let mut got = 0i128;
        for &(v, w, m) in &items {
            if got >= need {
                break;
            }
            got += w;
            taken.push((v, w, m));
        }
        // Drop the costliest members the coalition does not need.
        let mut k = taken.len();
        while k > 0 {
            k -= 1;
            if got - taken[k].1 >= need {
                got -= taken[k].1;
                taken.remove(k);
            }
        }
        let cost: i128 = taken.iter().map(|t| t.2).sum();
        (
            net.profit[s] - cost,
            taken.into_iter().map(|(v, w, _)| (v, w)).collect(),
        )
    };
    let zero = vec![0i128; net.n()];
    let mut order: Vec<(i128, usize)> = (0..net.m()).map(|s| (cover(s, &zero).0, s)).collect();
    order.sort_by_key(|&(g, s)| (std::cmp::Reverse(g), s));
    // Seed with each of the best few services (even at a loss: sharing validators may pay it back), then add every
    // service whose marginal gain is positive; keep the best total.
    let mut best: Option<(i128, Vec<Option<Vec<usize>>>)> = None;
    for &(_, seed) in order.iter().take(8) {
        load.iter_mut().for_each(|l| *l = 0);
        let mut chosen: Vec<Option<Vec<usize>>> = vec![None; net.m()];
        let (mut total, taken) = cover(seed, &load);
        for &(v, w) in &taken {
            load[v] += w;
        }
        chosen[seed] = Some(taken.iter().map(|t| t.0).collect());
        for _pass in 0..3 {
            let mut changed = false;
            for &(_, s) in &order {
                if chosen[s].is_some() {
                    continue;
                }
                let (gain, taken) = cover(s, &load);
                if gain > 0 {
                    for &(v, w) in &taken {
                        load[v] += w;
                    }
                    total += gain;
                    chosen[s] = Some(taken.iter().map(|t| t.0).collect());
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        if best.as_ref().is_none_or(|b| total > b.0) {
            best = Some((total, chosen));
        }
    }
    let chosen = best.map(|b| b.1).unwrap_or_default();
    let (services, coalitions) = chosen
        .into_iter()
        .enumerate()
        .filter_map(|(s, b)| b.map(|b| (s, b)))
        .unzip();
    let attack = Attack {
        services,
        coalitions,
    }
    .normalise();
    debug_assert!(attack.is_valid(net));
    Some(Found {
        value: attack.value(net),
        attack,
    })
}

/// The fewest services whose failure (each taking every allocation made to it) leaves the others with a profitable
/// attack: `Some((k, Z, attack on the rest with original service indices))`, `k = 0` if the net is already
/// insecure, `None` if no such set exists. Tries every Z by increasing size.
pub fn min_byzantine_services(
    net: &Net,
    budget: &mut Budget,
) -> Result<Option<(usize, Vec<usize>, Attack)>, Exhausted> {
    let m = net.m();
    for k in 0..m {
        let mut z: Vec<usize> = (0..k).collect();
        loop {
            let mut mask = vec![false; m];
            for &s in &z {
                mask[s] = true;
            }
            let (sub, keep) = net.after_byzantine(&mask);
            if let Some(found) = max_attack(&sub, budget, true)?
                && found.value > 0
            {
                let attack = Attack {
                    services: found.attack.services.iter().map(|&s| keep[s]).collect(),
                    coalitions: found.attack.coalitions,
                };
                return Ok(Some((k, z, attack)));
            }
            // Next combination of k out of m.
            let mut i = k;
            loop {
                if i == 0 {
                    break;
                }
                i -= 1;
                if z[i] < m - k + i {
                    z[i] += 1;
                    for j in i + 1..k {
                        z[j] = z[j - 1] + 1;
                    }
                    i = usize::MAX;
                    break;
                }
            }
            if i != usize::MAX {
                break;
            }
        }
    }
    Ok(None)
}

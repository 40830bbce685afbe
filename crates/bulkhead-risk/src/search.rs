//! Exact searches on a scaled [`Net`]: the most profitable attack (branch and bound), the most costly profitable
//! attack, the worst-case loss of a shock, the fewest Byzantine services, and the greedy heuristic used at scale.
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

    fn tick(&mut self) -> Result<(), Exhausted> {
        self.charge(1)
    }

    /// Charges `units` for a node whose work is heavier than a plain branch (a bound over every edge, a derived
    /// network), so that one budget is about the same time whichever search spends it.
    fn charge(&mut self, units: u64) -> Result<(), Exhausted> {
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

    fn normalise(mut self) -> Attack {
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

/// The largest cost of a profitable attack (profit − cost > 0), exactly, with the attack; `None` if no attack is
/// profitable.
///
/// Services are chosen by branch and bound (bound: cost < profit(A) ≤ profit of what may still join, and cost ≤
/// Σ_i min(stake_i, load over what may still join)); for a fixed A, if every backer joining every coalition it can is
/// still profitable that is the answer, else a search over each backer's participation set P ⊆ A (cost
/// min(stake, w(P))) finds the costliest covering choice below profit(A).
pub fn max_profitable_cost(
    net: &Net,
    budget: &mut Budget,
) -> Result<Option<(i128, Attack)>, Exhausted> {
    max_profitable_cost_above(net, -1, budget)
}

/// [`max_profitable_cost`] restricted to costs above `floor`: the costliest profitable attack if its cost exceeds
/// `floor`, else `None` (with `floor = -1`, exactly [`max_profitable_cost`]). The search starts with `floor` as
/// its incumbent, so every bound that cannot beat it prunes; a costliest attack above the floor is found exactly
/// as without it (it beats the incumbent at every node on its path).
pub fn max_profitable_cost_above(
    net: &Net,
    floor: i128,
    budget: &mut Budget,
) -> Result<Option<(i128, Attack)>, Exhausted> {
    let m = net.m();
    let positive = may_gain(net, &vec![false; net.n()], &vec![0; m]);
    if !positive.iter().any(|&p| p) {
        return Ok(None);
    }
    // A decision first: most shocked networks have no profitable attack at all.
    if max_attack(net, budget, true)?.is_none_or(|f| f.value <= 0) {
        return Ok(None);
    }
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by_key(|&s| (std::cmp::Reverse(net.profit[s]), s));
    let mut st = Mpc {
        net,
        order,
        inc: vec![true; m],
        load: vec![0; net.n()],
        full_cost: 0,
        profit_all: net.profit.iter().sum(),
        positive_in: positive.iter().filter(|&&p| p).count(),
        positive,
        best: None,
        floor: floor.max(-1),
    };
    for s in 0..m {
        for &(v, w) in &net.by_service[s] {
            st.load[v] += w;
        }
    }
    st.full_cost = (0..net.n()).map(|v| st.load[v].min(net.stake[v])).sum();
    st.dfs(0, budget)?;
    Ok(st.best)
}

struct Mpc<'a> {
    net: &'a Net,
    order: Vec<usize>,
    /// Services in A or still undecided.
    inc: Vec<bool>,
    /// Load over the services in `inc`.
    load: Vec<i128>,
    full_cost: i128,
    profit_all: i128,
    /// Services whose stand-alone relaxed gain may be positive; a profitable A contains one.
    positive: Vec<bool>,
    positive_in: usize,
    best: Option<(i128, Attack)>,
    /// Only costs above this matter (−1: every profitable attack).
    floor: i128,
}

impl Mpc<'_> {
    fn best_cost(&self) -> i128 {
        self.best.as_ref().map_or(self.floor, |b| b.0)
    }

    fn dfs(&mut self, k: usize, budget: &mut Budget) -> Result<(), Exhausted> {
        budget.charge(16)?;
        // cost < profit(A) (integers: ≤ profit − 1) and cost ≤ the all-in cost.
        let ub = (self.profit_all - 1).min(self.full_cost);
        if ub <= self.best_cost() || self.positive_in == 0 {
            return Ok(());
        }
        let net = self.net;
        // Every A ⊆ inc loads a validator with at most its load over inc: price its weight at stake / that load.
        let (g, margin) =
            relaxed_gains_load(net, &vec![false; net.n()], &vec![0; net.m()], &self.load);
        if knapsack_bound(net, &g, margin, Some(&self.inc)) <= self.best_cost() {
            return Ok(());
        }
        if k == self.order.len() {
            let a: Vec<usize> = (0..self.net.m()).filter(|&s| self.inc[s]).collect();
            if a.is_empty() {
                return Ok(());
            }
            return self.fixed(&a, budget);
        }
        let s = self.order[k];
        self.dfs(k + 1, budget)?;
        // Exclude s (a service without backing is free profit: never exclude it).
        if self.net.by_service[s].is_empty() {
            return Ok(());
        }
        self.set(s, false);
        let r = self.dfs(k + 1, budget);
        self.set(s, true);
        r
    }

    fn set(&mut self, s: usize, on: bool) {
        let net = self.net;
        self.inc[s] = on;
        if self.positive[s] {
            self.positive_in = if on {
                self.positive_in + 1
            } else {
                self.positive_in - 1
            };
        }
        self.profit_all += if on { net.profit[s] } else { -net.profit[s] };
        for &(v, w) in &net.by_service[s] {
            let before = self.load[v].min(net.stake[v]);
            self.load[v] += if on { w } else { -w };
            self.full_cost += self.load[v].min(net.stake[v]) - before;
        }
    }

    /// A fixed: the costliest covering participation strictly below profit(A).
    fn fixed(&mut self, a: &[usize], budget: &mut Budget) -> Result<(), Exhausted> {
        let net = self.net;
        let profit: i128 = a.iter().map(|&s| net.profit[s]).sum();
        if self.full_cost < profit {
            let coalitions = a
                .iter()
                .map(|&s| net.by_service[s].iter().map(|&(v, _)| v).collect())
                .collect();
            let attack = Attack {
                services: a.to_vec(),
                coalitions,
            }
            .normalise();
            self.best = Some((self.full_cost, attack));
            return Ok(());
        }
        // Per validator the options P ⊆ A_i worth trying: all of A_i, and every proper subset with w(P) < stake
        // (once w(P) ≥ stake the cost is capped and the full set covers more for the same cost).
        let pos: Vec<Option<usize>> = (0..net.m())
            .map(|s| a.iter().position(|&x| x == s))
            .collect();
        let mut vals: Vec<(usize, Options)> = Vec::new();
        for v in 0..net.n() {
            let mine: Vec<(usize, i128)> = net.by_validator[v]
                .iter()
                .filter_map(|&(s, w)| pos[s].map(|k| (k, w)))
                .collect();
            if mine.is_empty() {
                continue;
            }
            if mine.len() > 16 {
                return Err(Exhausted);
            }
            let mut opts = Vec::new();
            let full = (1u32 << mine.len()) - 1;
            for mask in 1..=full {
                let sel: Vec<(usize, i128)> = (0..mine.len())
                    .filter(|&b| mask >> b & 1 == 1)
                    .map(|b| mine[b])
                    .collect();
                let w: i128 = sel.iter().map(|x| x.1).sum();
                if mask == full || w < net.stake[v] {
                    opts.push((w.min(net.stake[v]), sel));
                }
            }
            opts.sort_by_key(|o| std::cmp::Reverse(o.0));
            vals.push((v, opts));
        }
        // Validators backing the most services of A first (they decide coverage), then the costliest.
        vals.sort_by_key(|(v, o)| {
            (
                std::cmp::Reverse(o.iter().map(|x| x.1.len()).max().unwrap_or(0)),
                std::cmp::Reverse(o[0].0),
                *v,
            )
        });
        let mut rest_cost = vec![0i128; vals.len() + 1];
        let mut rest_w = vec![vec![0i128; a.len()]; vals.len() + 1];
        for k in (0..vals.len()).rev() {
            rest_cost[k] = rest_cost[k + 1] + vals[k].1[0].0;
            rest_w[k] = rest_w[k + 1].clone();
            let full = vals[k]
                .1
                .iter()
                .max_by_key(|o| o.1.len())
                .map(|o| o.1.clone())
                .unwrap_or_default();
            for (j, w) in full {
                rest_w[k][j] += w;
            }
        }
        let need: Vec<i128> = a.iter().map(|&s| net.need[s]).collect();
        // Per service of A: the validators' full weights and their price per unit, min(stake, W) / W with W the
        // validator's weight over A; any option P costs min(stake, w(P)) ≥ w(P) · min(stake, W) / W.
        let mut cheap: Vec<Vec<(usize, f64, f64)>> = vec![Vec::new(); a.len()];
        for (k, (_, opts)) in vals.iter().enumerate() {
            let Some((c, sel)) = opts.iter().max_by_key(|o| o.1.len()) else {
                continue;
            };
            let w: i128 = sel.iter().map(|x| x.1).sum();
            let rho = *c as f64 / w as f64;
            for &(j, x) in sel {
                cheap[j].push((k, x as f64, rho));
            }
        }
        for l in &mut cheap {
            l.sort_by(|x, y| x.2.total_cmp(&y.2));
        }
        let scale = net.stake.iter().map(|&x| x as f64).sum::<f64>()
            + net.profit.iter().map(|&x| x as f64).sum::<f64>();
        let mut inner = Inner {
            cheap,
            margin: 1e-9 * (scale + 1.0),
            vals: &vals,
            rest_cost,
            rest_w,
            need,
            cap: profit - 1,
            cov: vec![0; a.len()],
            pick: vec![usize::MAX; vals.len()],
            best: self.best_cost(),
            best_pick: None,
            reach: Reach::new(&vals, budget)?,
        };
        inner.go(0, 0, budget)?;
        if let Some(pick) = inner.best_pick {
            let mut coalitions = vec![Vec::new(); a.len()];
            for (k, &o) in pick.iter().enumerate() {
                if o == usize::MAX {
                    continue;
                }
                for &(j, _) in &vals[k].1[o].1 {
                    coalitions[j].push(vals[k].0);
                }
            }
            let attack = Attack {
                services: a.to_vec(),
                coalitions,
            }
            .normalise();
            self.best = Some((inner.best, attack));
        }
        Ok(())
    }
}

type Options = Vec<(i128, Vec<(usize, i128)>)>;

struct Inner<'a> {
    vals: &'a [(usize, Options)],
    /// Per service of A: (validator index k, full weight, price per unit), cheapest first.
    cheap: Vec<Vec<(usize, f64, f64)>>,
    /// Covers the `f64` rounding of the cover bound.
    margin: f64,
    rest_cost: Vec<i128>,
    rest_w: Vec<Vec<i128>>,
    need: Vec<i128>,
    cap: i128,
    cov: Vec<i128>,
    pick: Vec<usize>,
    best: i128,
    best_pick: Option<Vec<usize>>,
    reach: Option<Reach>,
}

/// Subset sums the remaining validators can still add (one option each, or none), as bitsets over multiples of
/// the options' gcd: `sums[k]` for validators k.. . Built only when the sums stay below 2²² steps.
struct Reach {
    gcd: i128,
    sums: Vec<Vec<u64>>,
}

impl Reach {
    fn new(vals: &[(usize, Options)], budget: &mut Budget) -> Result<Option<Reach>, Exhausted> {
        let mut gcd = 0i128;
        let mut total = 0i128;
        for (_, opts) in vals {
            for (c, _) in opts {
                gcd = num_integer::Integer::gcd(&gcd, c);
            }
            total += opts.iter().map(|o| o.0).max().unwrap_or(0);
        }
        if gcd <= 0 || total / gcd >= 1 << 22 {
            return Ok(None);
        }
        let bits = (total / gcd) as usize + 1;
        let words = bits.div_ceil(64);
        // One unit of budget per 16 word shifts, so that building the sets costs its time.
        let options: usize = vals.iter().map(|(_, o)| o.len()).sum();
        budget.charge((words * (options + vals.len()) / 16) as u64)?;
        let mut sums = vec![vec![0u64; words]; vals.len() + 1];
        sums[vals.len()][0] = 1;
        for k in (0..vals.len()).rev() {
            let mut cur = sums[k + 1].clone();
            for (c, _) in &vals[k].1 {
                let shift = (c / gcd) as usize;
                let (ws, bs) = (shift / 64, shift % 64);
                for i in (0..words).rev() {
                    if i < ws {
                        break;
                    }
                    let src = &sums[k + 1];
                    let mut v = src[i - ws] << bs;
                    if bs > 0 && i > ws {
                        v |= src[i - ws - 1] >> (64 - bs);
                    }
                    cur[i] |= v;
                }
            }
            sums[k] = cur;
        }
        Ok(Some(Reach { gcd, sums }))
    }

    /// The largest sum the validators k.. can add without exceeding `room`.
    fn best_below(&self, k: usize, room: i128) -> i128 {
        let set = &self.sums[k];
        let limit = ((room / self.gcd) as usize).min(set.len() * 64 - 1);
        let mut i = limit / 64;
        let mut word = set[i] & (u64::MAX >> (63 - limit % 64));
        loop {
            if word != 0 {
                return (i as i128 * 64 + 63 - word.leading_zeros() as i128) * self.gcd;
            }
            if i == 0 {
                return 0;
            }
            i -= 1;
            word = set[i];
        }
    }
}

impl Inner<'_> {
    fn go(&mut self, k: usize, cost: i128, budget: &mut Budget) -> Result<(), Exhausted> {
        budget.tick()?;
        if cost > self.cap {
            return Ok(());
        }
        if (cost + self.rest_cost[k]).min(self.cap) <= self.best {
            return Ok(());
        }
        // Exact subset-sum bound: the largest cost the rest can add without passing the cap (coverage ignored).
        if let Some(reach) = &self.reach
            && cost + reach.best_below(k, self.cap - cost) <= self.best
        {
            return Ok(());
        }
        if (0..self.need.len()).any(|j| self.cov[j] + self.rest_w[k][j] < self.need[j]) {
            return Ok(());
        }
        // Cover bound: completing the coverage costs at least Σ_j the cheapest fractional cover of j's deficit by
        // validators k.., each unit of weight priced as above (a validator's price is paid once per unit of weight
        // it brings, whichever services the weight goes to, so the sum over services is a lower bound). Pruned only
        // when it exceeds the cap by more than the rounding margin.
        if k < self.vals.len() {
            let mut lb = 0.0;
            // The scan is charged to the budget (one unit per 32 entries) so that a budget stays about a time.
            budget.charge(self.cheap.iter().map(Vec::len).sum::<usize>() as u64 / 32)?;
            for (j, list) in self.cheap.iter().enumerate() {
                let mut rem = (self.need[j] - self.cov[j]) as f64;
                for &(kk, w, rho) in list {
                    if rem <= 0.0 {
                        break;
                    }
                    if kk >= k {
                        let t = w.min(rem);
                        lb += t * rho;
                        rem -= t;
                    }
                }
            }
            if cost as f64 + lb > self.cap as f64 + self.margin {
                return Ok(());
            }
        }
        if k == self.vals.len() {
            self.best = cost;
            self.best_pick = Some(self.pick.clone());
            return Ok(());
        }
        let vals = self.vals;
        for (o, (c, sel)) in vals[k].1.iter().enumerate() {
            if cost + c > self.cap {
                continue;
            }
            for &(j, w) in sel {
                self.cov[j] += w;
            }
            self.pick[k] = o;
            let r = self.go(k + 1, cost + c, budget);
            for &(j, w) in sel {
                self.cov[j] -= w;
            }
            r?;
        }
        self.pick[k] = usize::MAX;
        self.go(k + 1, cost, budget)
    }
}

/// The worst case of a shock: over sets D with stake(D) ≤ `cap` (scaled), the largest stake(D) + the largest cost of
/// a profitable attack on the net without D (thresholds recomputed). Returns (loss, D, the attack if any).
///
/// Exhaustive over D (every subset within the cap, pruned by loss ≤ cap-limited stake(D) + min(Σ profit − 1, stake
/// left)), with [`max_profitable_cost`] on each: exact, for small networks.
pub fn worst_case_loss(
    net: &Net,
    cap: i128,
    budget: &mut Budget,
) -> Result<(i128, Vec<usize>, Option<Attack>), Exhausted> {
    let mut order: Vec<usize> = (0..net.n()).collect();
    order.sort_by_key(|&v| (std::cmp::Reverse(net.stake[v]), v));
    let total = net.total_stake();
    let profit_all: i128 = net.profit.iter().sum();
    let mut suffix = vec![0i128; order.len() + 1];
    for k in (0..order.len()).rev() {
        suffix[k] = suffix[k + 1] + net.stake[order[k]];
    }
    let mut best: (i128, Vec<usize>, Option<Attack>) = (-1, Vec::new(), None);
    let mut removed = vec![false; net.n()];
    let mut d = Vec::new();
    #[allow(clippy::too_many_arguments)]
    fn go(
        net: &Net,
        order: &[usize],
        suffix: &[i128],
        cap: i128,
        total: i128,
        profit_all: i128,
        start: usize,
        sd: i128,
        removed: &mut Vec<bool>,
        d: &mut Vec<usize>,
        best: &mut (i128, Vec<usize>, Option<Attack>),
        budget: &mut Budget,
        rank: &[usize],
    ) -> Result<(), Exhausted> {
        // A node costs about 1024 units of budget: 64 up front, the rest unless the slack bound prunes it.
        budget.charge(64)?;
        let m = net.m();
        let (g0, margin) = relaxed_gains(net, removed, &vec![0; m]);
        let here = knapsack_bound(net, &g0, margin, None)
            .min(profit_all - 1)
            .min(total - sd);
        // Slack bound (exact): D's own loss and every extension's are at most stake(D) + (what still fits under
        // the cap) + the costliest profitable attack on the net without D with an extra free service of profit
        // cap − stake(D) (see `slack_net`; the free service only adds attacks, so it also bounds D's own attack).
        // Searched only above what could still beat the incumbent, so `None` prunes the node and its subtree.
        // Tried only where an attack may already pay (elsewhere the relaxed bounds below are used alone), with a
        // budget of its own: past it the bound is simply not used.
        let mut slack = i128::MAX;
        if here >= 0 {
            let more = (cap - sd).min(suffix[start]);
            let floor = best.0 - sd - more;
            let sub = slack_net(net, removed, cap - sd);
            let mut own = Budget::new(SLACK_BUDGET);
            let r = max_profitable_cost_above(&sub, floor, &mut own);
            budget.charge(own.used())?;
            match r {
                Ok(Some((c, _))) => slack = c,
                // Every profitable attack there costs ≤ floor (0 if none): stake(D) + more + it ≤ the incumbent.
                Ok(None) if floor >= 0 => return Ok(()),
                // Below 0 the search was exact: no profitable attack at all (possible only when the cap is full).
                Ok(None) => slack = 0,
                Err(Exhausted) => {}
            }
        }
        budget.charge(960)?;
        // The costliest profitable attack on the net without D matters only if it can lift the loss above the
        // incumbent: skip the search when its bound cannot, and search only above best − stake(D) otherwise.
        let (c, att) = if here >= 0 && sd + here.min(slack) > best.0 {
            let sub = net.without_validators(removed);
            match max_profitable_cost_above(&sub, best.0 - sd, budget)? {
                Some((c, a)) => (c, Some(a)),
                None => (0, None),
            }
        } else {
            (0, None)
        };
        if sd + c > best.0 {
            *best = (sd + c, d.clone(), att);
        }
        for k in start..order.len() {
            // Bound for every D extending this one with members from order[k..]: the shock adds at most what fits
            // under the cap; the attack costs at most the slack bound, less than the total profit, and nothing if
            // no service can gain even after the largest further removal.
            let more = (cap - sd).min(suffix[k]);
            if (sd + more).saturating_add(slack) <= best.0 {
                return Ok(());
            }
            let extra: Vec<i128> = (0..m)
                .map(|s| {
                    let reach: i128 = net.by_service[s]
                        .iter()
                        .filter(|&&(v, _)| rank[v] >= k && !removed[v])
                        .map(|&(_, w)| w)
                        .sum();
                    reach.min(cap - sd)
                })
                .collect();
            let attack_ub = profitable_cost_bound(net, removed, &extra, None)
                .min(slack)
                .min(profit_all - 1)
                .min(total - sd)
                .max(0);
            let ub = sd + more + attack_ub;
            if ub <= best.0 {
                return Ok(());
            }
            let v = order[k];
            if sd + net.stake[v] > cap {
                continue;
            }
            removed[v] = true;
            d.push(v);
            let r = go(
                net,
                order,
                suffix,
                cap,
                total,
                profit_all,
                k + 1,
                sd + net.stake[v],
                removed,
                d,
                best,
                budget,
                rank,
            );
            d.pop();
            removed[v] = false;
            r?;
        }
        Ok(())
    }
    let mut rank = vec![0usize; net.n()];
    for (k, &v) in order.iter().enumerate() {
        rank[v] = k;
    }
    go(
        net,
        &order,
        &suffix,
        cap,
        total,
        profit_all,
        0,
        0,
        &mut removed,
        &mut d,
        &mut best,
        budget,
        &rank,
    )?;
    best.1.sort_unstable();
    Ok(best)
}

/// The net without the validators in `removed`, plus one service of profit `slack` that nobody backs (it falls to the
/// empty coalition, for free).
///
/// Its costliest profitable attack bounds every attack after a further shock: let E (disjoint from D, stake(E) =
/// e ≤ `slack`) be removed too and (A, B) be a profitable attack on the net without D ∪ E. On the net without D, give
/// each s ∈ A the coalition B'_s = B_s ∪ (E ∩ backers(s)): it covers, since w_s(B_s) ≥ θ_s (backing_s − w_{D,s} −
/// w_{E,s}) and θ_s ≤ 1 give w_s(B'_s) ≥ θ_s (backing_s − w_{D,s}); it costs cost(B) ≤ cost(B') ≤ cost(B) + e <
/// profit(A) + slack. So A plus the free service is a profitable attack here, of cost ≥ cost(B), and the shock's
/// loss is stake(D) + e + cost(B) ≤ stake(D) + (what still fits under the cap) + this net's costliest profitable
/// attack.
/// Node budget of one slack bound ([`slack_net`]) inside [`worst_case_loss`].
const SLACK_BUDGET: u64 = 20_000;

fn slack_net(net: &Net, removed: &[bool], slack: i128) -> Net {
    let sub = net.without_validators(removed);
    let mut service_ids = sub.service_ids.clone();
    service_ids.push("(shock slack)".into());
    let mut profit = sub.profit.clone();
    profit.push(slack.max(0));
    let mut theta = sub.theta.clone();
    theta.push((1.into(), 1.into()));
    let mut by_service = sub.by_service.clone();
    by_service.push(Vec::new());
    Net::assemble(
        sub.validator_ids.clone(),
        service_ids,
        sub.stake.clone(),
        profit,
        theta,
        by_service,
        sub.scale.clone(),
    )
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

/// Per service: may a profitable attack involve it? `false` only when it is certain that π_s − (a lower bound on
/// its coalition's share of any attack's cost) ≤ 0 for every further removal of at most `extra[s]` backing weight,
/// the validators in `removed` being gone already. The lower bound prices an over-allocated validator's weight at
/// stake / Σ_s w_s per unit (its stake split over its services), any other weight at 1, and covers the least need
/// ⌈θ_s (backing_s − removed weight − extra_s)⌉ fractionally. Since Σ_{s∈A} (π_s − share_s) ≥ profit − cost, a
/// profitable attack has a service with a positive term. Evaluated in `f64` and answered `true` within a margin
/// that dominates the rounding error (so the answer `false` is certain).
pub fn may_gain(net: &Net, removed: &[bool], extra: &[i128]) -> Vec<bool> {
    let (g, margin) = relaxed_gains(net, removed, extra);
    g.iter().map(|&x| x > -margin).collect()
}

/// An upper bound on the cost of any profitable attack once the validators in `removed` are gone and up to
/// `extra[s]` more backing of each service may go: a profitable A has Σ_{s∈A} g_s > 0 with g_s the relaxed gains of
/// [`may_gain`], and costs less than profit(A); the largest profit(A) under Σ_{s∈A} g_s > 0 is bounded by the
/// fractional knapsack (every positive-gain service, then the others by profit per unit of negative gain).
/// Returns −1 when no attack can be profitable. Rounded up with a margin covering the `f64` error.
pub fn profitable_cost_bound(
    net: &Net,
    removed: &[bool],
    extra: &[i128],
    among: Option<&[bool]>,
) -> i128 {
    let (g, margin) = relaxed_gains(net, removed, extra);
    knapsack_bound(net, &g, margin, among)
}

/// The knapsack of [`profitable_cost_bound`] on given relaxed gains.
fn knapsack_bound(net: &Net, g: &[f64], margin: f64, among: Option<&[bool]>) -> i128 {
    let inside = |s: usize| among.is_none_or(|a| a[s]);
    let mut budget = 0.0;
    let mut profit = 0.0;
    let mut any = false;
    let mut neg: Vec<(f64, f64)> = Vec::new();
    for s in (0..net.m()).filter(|&s| inside(s)) {
        if g[s] > -margin {
            any = true;
            budget += g[s].max(0.0);
            profit += net.profit[s] as f64;
        } else {
            neg.push((net.profit[s] as f64, -g[s]));
        }
    }
    if !any {
        return -1;
    }
    neg.sort_by(|a, b| (b.0 / b.1).total_cmp(&(a.0 / a.1)));
    budget += margin;
    for (p, c) in neg {
        if budget <= 0.0 {
            break;
        }
        let f = (budget / c).min(1.0);
        profit += p * f;
        budget -= c * f;
    }
    let ub = profit + 4.0 * margin;
    if ub >= i128::MAX as f64 {
        i128::MAX
    } else {
        ub.ceil() as i128
    }
}

fn full_loads(net: &Net) -> Vec<i128> {
    (0..net.n())
        .map(|v| net.by_validator[v].iter().map(|&(_, w)| w).sum())
        .collect()
}

fn relaxed_gains(net: &Net, removed: &[bool], extra: &[i128]) -> (Vec<f64>, f64) {
    relaxed_gains_load(net, removed, extra, &full_loads(net))
}

/// The relaxed gains with each validator's weight priced at min(1, stake / `load`): valid for every attack whose
/// services give the validator a load ≤ `load` (min(stake, x) ≥ x · min(1, stake / L) for 0 ≤ x ≤ L).
fn relaxed_gains_load(
    net: &Net,
    removed: &[bool],
    extra: &[i128],
    load: &[i128],
) -> (Vec<f64>, f64) {
    let price = |v: usize| {
        if load[v] > net.stake[v] {
            net.stake[v] as f64 / load[v] as f64
        } else {
            1.0
        }
    };
    let scale = net.stake.iter().map(|&x| x as f64).sum::<f64>()
        + net.profit.iter().map(|&x| x as f64).sum::<f64>();
    let margin = 1e-9 * (scale + 1.0);
    let gains = (0..net.m())
        .map(|s| {
            let gone: i128 = net.by_service[s]
                .iter()
                .filter(|&&(v, _)| removed[v])
                .map(|&(_, w)| w)
                .sum();
            let left = (net.backing[s] - gone - extra[s]).max(0);
            let (num, den) = &net.theta[s];
            let need = crate::network::ceil_mul_div(left, num, den);
            if need <= 0 {
                return net.profit[s] as f64;
            }
            let mut items: Vec<(f64, f64)> = net.by_service[s]
                .iter()
                .filter(|&&(v, _)| !removed[v])
                .map(|&(v, w)| (price(v), w as f64))
                .collect();
            items.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut rem = need as f64;
            let mut cost = 0.0;
            for (p, w) in items {
                if rem <= 0.0 {
                    break;
                }
                let take = w.min(rem);
                cost += p * take;
                rem -= take;
            }
            net.profit[s] as f64 - cost
        })
        .collect();
    (gains, margin)
}

//! worst_case_loss(ψ), searched attack first.
//!
//! For a fixed attacked set A the services outside A do not matter, so the worst shock against A is one joint choice
//! per validator: shocked (in D), in the attack (a participation set P ⊆ A, cost min(stake, w(P))), or neither; a
//! validator that backs nothing in A can only be shocked. Let F(A) = max stake(D) + cost over stake(D) ≤ cap,
//! cost ≤ profit(A) − 1 and, for each s ∈ A, coalition weight ≥ ⌈θ_s · (backing_s − w_s(D))⌉ (the threshold on what
//! is left). Then worst_case_loss · total = max(S*, max_A F(A)), with S* the largest stake of a set within the cap: a
//! shock without profitable attack loses at most S*, one with an attack (A, B) at most F(A), and both are reached.
//!
//! The sets A are enumerated in a set-enumeration tree, services by decreasing profit, and F(A) is solved exactly by
//! a branch and bound over A's backers (`joint.rs`) after A's subtree (the deepest sets, whose profits are the
//! largest, come first). A subtree of the sets A with I ⊆ A ⊆ X = I ∪ U (U the services still to decide) is cut when
//! one of these bounds cannot beat the incumbent; each is exact or widened past its `f64` rounding error:
//!
//! - *profit*: stake(D) ≤ S* and cost ≤ profit(A) − 1 ≤ profit(X) − 1;
//! - *all-in*: a validator outside D costs at most c_i = min(stake_i, load_i(X)), so
//!   F(A) ≤ Σ_i c_i + max_{stake(D) ≤ cap} Σ_{i∈D} (stake_i − c_i), a knapsack; and if Σ_i c_i ≤ profit(X) − 1,
//!   X's all-in attack (every backer in every coalition) is profitable after any shock and costs at least any attack
//!   on A ⊆ X after the same shock, so the subtree's best is F(X), that knapsack exactly: X alone is solved;
//! - *Lagrangian*: for λ ≥ 0, any attack after a shock pays cost + λ · stake(D) ≥ Σ_{s∈A} cover_s(λ), the cheapest
//!   fractional cover of θ_s · backing_s by units of weight joined at min(stake, L) / L or shocked at λ · stake / L
//!   (L the validator's load over X: its price split over its weight); with cost ≤ profit(A) − 1, stake(D) ≤ cap and
//!   profit(A) ≥ incumbent + 2 − S* (else stake(D) + cost cannot beat the incumbent), some A needs
//!   Σ_{s∈A} (cover_s(λ) − π_s) ≤ λ · cap − 1; the least left side over A is a fractional knapsack over U;
//! - *relaxation*: an attack on A ⊇ I restricted to I covers I after the same shock at no greater cost, so
//!   F(A) ≤ profit(X) − 1 + max{stake(D) : I can be covered after D at cost ≤ profit(X) − 1}, solved exactly by the
//!   joint search (skipped when I's own all-in attack fits that cost: any shock, S* among them, then works).

mod joint;
mod sums;

use joint::{Context, Goal, Solved, Theta};
use sums::{Item, Sums, by_density, fractional, knapsack};

use crate::{
    network::Net,
    search::{Attack, Budget, Exhausted},
};

/// The worst case of a shock: over sets D with stake(D) ≤ `cap` (scaled), the largest stake(D) + the largest cost of
/// a profitable attack on the net without D (thresholds recomputed). Returns (loss, D, the attack if any), exact.
pub fn worst_case_loss(
    net: &Net,
    cap: i128,
    budget: &mut Budget,
) -> Result<(i128, Vec<usize>, Option<Attack>), Exhausted> {
    run(net, cap.max(0), false, budget)
}

/// The largest cost of a profitable attack (profit − cost > 0), exactly, with the attack; `None` if no attack is
/// profitable. The same search with no shock (cap 0) and no incumbent, so that an attack of cost 0 counts.
pub fn max_profitable_cost(
    net: &Net,
    budget: &mut Budget,
) -> Result<Option<(i128, Attack)>, Exhausted> {
    let (cost, _, attack) = run(net, 0, true, budget)?;
    Ok(attack.map(|a| (cost, a)))
}

/// The search; its first incumbent is the largest shock within the cap (no attack), or nothing if `any_attack`.
fn run(
    net: &Net,
    cap: i128,
    any_attack: bool,
    budget: &mut Budget,
) -> Result<(i128, Vec<usize>, Option<Attack>), Exhausted> {
    let all = Sums::new((0..net.n()).map(|v| (v, net.stake[v])).collect(), budget)?;
    let (s_star, mut d) = all.best_set(cap, budget)?;
    d.sort_unstable();
    // A service without backing falls to the empty coalition: it is in every A, for free.
    let free: Vec<usize> = (0..net.m()).filter(|&s| net.backing[s] == 0).collect();
    let mut order: Vec<usize> = (0..net.m()).filter(|&s| net.backing[s] > 0).collect();
    order.sort_by_key(|&s| (std::cmp::Reverse(net.profit[s]), s));
    let mut suffix_profit = vec![0i128; order.len() + 1];
    for k in (0..order.len()).rev() {
        suffix_profit[k] = suffix_profit[k + 1] + net.profit[order[k]];
    }
    let scale = net.stake.iter().map(|&x| x as f64).sum::<f64>()
        + net.profit.iter().map(|&x| x as f64).sum::<f64>();
    let mut search = Shock {
        ctx: Context {
            net,
            cap,
            s_star,
            all,
            theta: net.theta.iter().map(Theta::new).collect(),
            theta_f: net
                .theta
                .iter()
                .map(|t| crate::number::ratio_f64(&t.0, &t.1))
                .collect(),
            margin: 1e-9 * (scale + 1.0),
        },
        order,
        suffix_profit,
        best: if any_attack {
            (-1, Vec::new(), None)
        } else {
            (s_star, d, None)
        },
        pairs: net.by_service.iter().map(|b| b.len() as u64).sum(),
        load: (0..net.n())
            .map(|v| net.by_validator[v].iter().map(|x| x.1).sum())
            .collect(),
        knap: Vec::new(),
        items: Vec::new(),
    };
    let mut a = free;
    search.visit(&mut a, 0, budget)?;
    Ok(search.best)
}

/// The verdict of [`Shock::subtree`].
enum Subtree {
    /// No set of the subtree can beat the incumbent.
    Pruned,
    /// The subtree's largest set X is the best of the subtree.
    Dominated,
    /// To be searched.
    Open,
}

/// The search over the set-enumeration tree of attacked services.
struct Shock<'a> {
    ctx: Context<'a>,
    /// Services with backing, by decreasing profit.
    order: Vec<usize>,
    suffix_profit: Vec<i128>,
    /// The incumbent: (loss, D, attack).
    best: (i128, Vec<usize>, Option<Attack>),
    /// Number of (validator, service) pairs of the net.
    pairs: u64,
    /// Each validator's load over the services of the current subtree, X.
    load: Vec<i128>,
    /// Scratch for the Lagrangian test.
    knap: Vec<(f64, f64, f64)>,
    items: Vec<(f64, f64, f64)>,
}

impl Shock<'_> {
    /// Visits the sets A = `a` ∪ (a subset of `order[t..]`), `load` being the load over `a` ∪ `order[t..]`.
    fn visit(
        &mut self,
        a: &mut Vec<usize>,
        t: usize,
        budget: &mut Budget,
    ) -> Result<(), Exhausted> {
        budget.tick()?;
        let net = self.ctx.net;
        let profit: i128 = a.iter().map(|&s| net.profit[s]).sum();
        for k in t..self.order.len() {
            let s = self.order[k];
            // Child: the sets a ∪ {s} ∪ (a subset of order[k+1..]); its X has the current load.
            let pcap = profit + net.profit[s] + self.suffix_profit[k + 1] - 1;
            if self.ctx.s_star + pcap <= self.best.0 {
                // Later children have less profit still.
                break;
            }
            a.push(s);
            let r = match self.subtree(pcap, budget)? {
                Subtree::Pruned => Ok(()),
                Subtree::Dominated => {
                    let mut x = a.clone();
                    x.extend(&self.order[k + 1..]);
                    self.solve(&x, pcap, budget)
                }
                Subtree::Open if self.relaxation_open(a, k + 1, pcap, budget)? => {
                    self.visit(a, k + 1, budget)
                }
                Subtree::Open => Ok(()),
            };
            a.pop();
            self.set_load(s, false);
            r?;
        }
        for k in t..self.order.len() {
            self.set_load(self.order[k], true);
        }
        if !a.is_empty() && self.ctx.s_star + profit - 1 > self.best.0 {
            self.solve(a, profit - 1, budget)?;
        }
        Ok(())
    }

    /// F(`a`) with cost ≤ `pcap` (= profit(a) − 1), into the incumbent if it beats it. When the all-in attack fits
    /// the cost, every shock keeps it profitable and nothing costs more after the same shock: F is the all-in cost
    /// plus the knapsack of what shocking a validator adds over its all-in price.
    fn solve(&mut self, a: &[usize], pcap: i128, budget: &mut Budget) -> Result<(), Exhausted> {
        if pcap < 0 || self.ctx.s_star + pcap <= self.best.0 {
            return Ok(());
        }
        let net = self.ctx.net;
        budget.charge(net.n() as u64 / 4)?;
        let (all_in, items) = all_in_items(net, &loads(net, a));
        let found = if all_in <= pcap {
            knapsack(
                &by_density(items),
                self.ctx.cap,
                self.best.0 - all_in,
                budget,
            )?
            .map(|(gain, mut shocked)| {
                shocked.sort_unstable();
                Solved {
                    value: all_in + gain,
                    attack: all_in_attack(net, a, &shocked),
                    shocked,
                }
            })
        } else {
            joint::solve(&self.ctx, a, Goal::Exact, pcap, self.best.0, budget)?
        };
        if let Some(found) = found {
            self.best = (found.value, found.shocked, Some(found.attack));
        }
        Ok(())
    }

    /// The all-in bound on the subtree whose X has the current loads (profit(X) − 1 = `pcap`): see the module
    /// documentation. The fractional knapsack first, the exact one only if that does not settle it.
    fn subtree(&mut self, pcap: i128, budget: &mut Budget) -> Result<Subtree, Exhausted> {
        budget.charge(self.ctx.net.n() as u64 / 4)?;
        let (all_in, items) = all_in_items(self.ctx.net, &self.load);
        if all_in <= pcap {
            return Ok(Subtree::Dominated);
        }
        let floor = self.best.0 - all_in;
        if floor < 0 {
            return Ok(Subtree::Open);
        }
        let items = by_density(items);
        if fractional(&items, self.ctx.cap) + self.ctx.margin <= floor as f64 {
            return Ok(Subtree::Pruned);
        }
        Ok(match knapsack(&items, self.ctx.cap, floor, budget)? {
            Some(_) => Subtree::Open,
            None => Subtree::Pruned,
        })
    }

    /// Whether the sets A ⊇ `a` within `a` ∪ `order[u..]` (profit − 1 ≤ `pcap`) may beat the incumbent by the
    /// Lagrangian test and the relaxation (see the module documentation). The relaxation holds at once when `a`'s own
    /// all-in attack fits `pcap`: then any shock, S* among them, leaves `a` covered.
    fn relaxation_open(
        &mut self,
        a: &[usize],
        u: usize,
        pcap: i128,
        budget: &mut Budget,
    ) -> Result<bool, Exhausted> {
        let net = self.ctx.net;
        if all_in_items(net, &loads(net, a)).0 <= pcap {
            return Ok(true);
        }
        if self.lagrange_prunes(a, u, budget)? {
            return Ok(false);
        }
        Ok(joint::solve(&self.ctx, a, Goal::Relaxed, pcap, self.best.0, budget)?.is_some())
    }

    fn set_load(&mut self, s: usize, on: bool) {
        for &(v, w) in &self.ctx.net.by_service[s] {
            self.load[v] += if on { w } else { -w };
        }
    }

    /// The Lagrangian test for the sets A ⊇ `a` within `a` ∪ `order[u..]` (see the module documentation): true if
    /// no such A can beat the incumbent. Its left side, minimised over A (a minimum of functions concave in λ), is
    /// concave in λ ∈ [0, 1] (past 1 shocking is never the cheaper cover): bisection on its slope.
    fn lagrange_prunes(
        &mut self,
        a: &[usize],
        u: usize,
        budget: &mut Budget,
    ) -> Result<bool, Exhausted> {
        budget.charge(self.pairs * OUTER_STEPS as u64 / 16)?;
        let (mut lo, mut hi) = (0.0, 1.0);
        for _ in 0..OUTER_STEPS {
            let mid = 0.5 * (lo + hi);
            let (lhs, slope) = self.outer_lagrangian(a, u, mid);
            if lhs > self.ctx.margin {
                return Ok(true);
            }
            if slope > 0.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Ok(false)
    }

    /// The least Σ_{s∈A} (cover_s(λ) − π_s) − λ · cap + 1 over the A of [`Shock::lagrange_prunes`] reaching the
    /// profit an improvement needs (every optional service whose cover is below its profit, then the others by
    /// (cover − π) / π, fractionally), and its slope in λ.
    fn outer_lagrangian(&mut self, a: &[usize], u: usize, lambda: f64) -> (f64, f64) {
        let net = self.ctx.net;
        let want = (self.best.0 + 2 - self.ctx.s_star) as f64;
        let cap = self.ctx.cap as f64;
        let (mut lhs, mut slope, mut profit) = (1.0 - lambda * cap, -cap, 0.0);
        for &s in a {
            let (c, used) = self.cover(s, lambda);
            lhs += c - net.profit[s] as f64;
            slope += used;
            profit += net.profit[s] as f64;
        }
        self.knap.clear();
        for k in u..self.order.len() {
            let s = self.order[k];
            let (c, used) = self.cover(s, lambda);
            let p = net.profit[s] as f64;
            if c < p {
                lhs += c - p;
                slope += used;
                profit += p;
            } else if p > 0.0 {
                self.knap.push(((c - p) / p, p, used));
            }
        }
        if profit < want {
            self.knap.sort_by(|x, y| x.0.total_cmp(&y.0));
            for &(ratio, p, used) in &self.knap {
                let t = p.min(want - profit);
                lhs += t * ratio;
                slope += used * t / p;
                profit += t;
                if profit >= want {
                    break;
                }
            }
            if profit < want - self.ctx.margin {
                return (f64::INFINITY, 0.0);
            }
        }
        (lhs, slope)
    }

    /// cover_s(λ) and the shock stake it uses (the fractional cover of [`joint`]'s Lagrangian bound, on the whole
    /// backing, with prices split over each validator's load over X).
    fn cover(&mut self, s: usize, lambda: f64) -> (f64, f64) {
        let net = self.ctx.net;
        let th = self.ctx.theta_f[s];
        self.items.clear();
        for &(v, w) in &net.by_service[s] {
            let load = self.load[v] as f64;
            let sigma = net.stake[v] as f64 / load;
            let (pb, pd, w) = (sigma.min(1.0), lambda * sigma, w as f64);
            if pd <= th * pb {
                self.items.push((pd / th, th * w, sigma / th));
                if th < 1.0 {
                    self.items
                        .push(((pb - pd) / (1.0 - th), (1.0 - th) * w, -sigma / (1.0 - th)));
                }
            } else {
                self.items.push((pb, w, 0.0));
            }
        }
        self.items.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut rem = th * net.backing[s] as f64;
        let (mut total, mut used) = (0.0, 0.0);
        for &(price, amount, stake) in &self.items {
            if rem <= 0.0 {
                break;
            }
            let t = amount.min(rem);
            total += t * price;
            used += t * stake;
            rem -= t;
        }
        (total, used)
    }
}

/// Bisection steps of the outer Lagrangian test.
const OUTER_STEPS: usize = 10;

/// Each validator's load over the services `a`.
fn loads(net: &Net, a: &[usize]) -> Vec<i128> {
    let mut load = vec![0i128; net.n()];
    for &s in a {
        for &(v, w) in &net.by_service[s] {
            load[v] += w;
        }
    }
    load
}

/// The all-in attack on `a` once `shocked` is gone: every remaining backer in every coalition.
fn all_in_attack(net: &Net, a: &[usize], shocked: &[usize]) -> Attack {
    let coalitions = a
        .iter()
        .map(|&s| {
            net.by_service[s]
                .iter()
                .map(|x| x.0)
                .filter(|v| shocked.binary_search(v).is_err())
                .collect()
        })
        .collect();
    Attack {
        services: a.to_vec(),
        coalitions,
    }
    .normalise()
}

/// Σ_i c_i with c_i = min(stake_i, `load`_i), and the knapsack items (i, stake_i, stake_i − c_i) of the validators
/// whose shock adds something over their all-in price.
fn all_in_items(net: &Net, load: &[i128]) -> (i128, Vec<Item>) {
    let mut all_in = 0;
    let mut items = Vec::new();
    for (v, (&load, &stake)) in load.iter().zip(&net.stake).enumerate() {
        let c = load.min(stake);
        all_in += c;
        if stake > c {
            items.push((v, stake, stake - c));
        }
    }
    (all_in, items)
}

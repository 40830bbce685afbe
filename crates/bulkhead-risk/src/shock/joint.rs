//! The joint search for one fixed set A of attacked services: each backer of A is shocked, joins the attack with one
//! of its participation sets, or stays out; the rest of the shock is the most stake of the other validators that
//! still fits under the cap.

use num_bigint::BigInt;
use num_traits::ToPrimitive;

use super::sums::{Sums, greedy_fill};
use crate::{
    network::{Net, ceil_mul_div},
    search::{Attack, Budget, Exhausted},
};

/// ⌈θ · x⌉ for x ≥ 0, exact: in `i128` when the product fits, else in big integers.
#[derive(Debug, Clone)]
pub(super) struct Theta {
    small: Option<(i128, i128)>,
    num: BigInt,
    den: BigInt,
}

impl Theta {
    pub(super) fn new((num, den): &(BigInt, BigInt)) -> Theta {
        Theta {
            small: num.to_i128().zip(den.to_i128()),
            num: num.clone(),
            den: den.clone(),
        }
    }

    fn ceil_of(&self, x: i128) -> i128 {
        if let Some((n, d)) = self.small
            && let Some(p) = n.checked_mul(x)
        {
            return p / d + i128::from(p % d != 0);
        }
        ceil_mul_div(x, &self.num, &self.den)
    }
}

/// What the joint search needs of the net and the shock, shared by every search of one worst_case_loss.
pub(super) struct Context<'a> {
    pub(super) net: &'a Net,
    /// The shock's cap (scaled stake).
    pub(super) cap: i128,
    /// S*: the largest stake of a set of validators within the cap.
    pub(super) s_star: i128,
    /// Every validator's stake, as subset sums.
    pub(super) all: Sums,
    pub(super) theta: Vec<Theta>,
    pub(super) theta_f: Vec<f64>,
    /// Dominates the rounding error of the `f64` bounds: 10⁻⁹ · (Σ stake + Σ profit + 1).
    pub(super) margin: f64,
}

/// What one joint search maximises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Goal {
    /// F(A) = stake(D) + cost over shocks D within the cap and attacks on A of cost ≤ `pcap` on the rest.
    Exact,
    /// The relaxation: stake(D) + `pcap` over shocks after which A can be covered at cost ≤ `pcap`. It stops at the
    /// first configuration above the target.
    Relaxed,
}

/// The best configuration of a joint search: its value, the shocked validators and the attack.
pub(super) struct Solved {
    pub(super) value: i128,
    pub(super) shocked: Vec<usize>,
    pub(super) attack: Attack,
}

/// Largest number of participation sets tried for one validator.
const MAX_OPTIONS: usize = 1 << 12;

/// Bisection steps of λ after the parent's λ (see [`Joint::lagrange_prunes`]): more steps prune a few more nodes
/// but cost more than they save.
const LAGRANGE_STEPS: usize = 1;

/// The joint search for `a` above `target`: `None` if nothing beats it.
pub(super) fn solve(
    ctx: &Context<'_>,
    a: &[usize],
    goal: Goal,
    pcap: i128,
    target: i128,
    budget: &mut Budget,
) -> Result<Option<Solved>, Exhausted> {
    let net = ctx.net;
    let mut pos = vec![usize::MAX; net.m()];
    for (j, &s) in a.iter().enumerate() {
        pos[s] = j;
    }
    let mut vals = Vec::new();
    let mut others = Vec::new();
    for v in 0..net.n() {
        let ws: Vec<(usize, i128)> = net.by_validator[v]
            .iter()
            .filter(|&&(s, _)| pos[s] != usize::MAX)
            .map(|&(s, w)| (pos[s], w))
            .collect();
        if ws.is_empty() {
            others.push((v, net.stake[v]));
        } else {
            vals.push(Choices::new(v, net.stake[v], ws)?);
        }
    }
    // Setting up scans every validator and builds tables of (validator, service of A) entries: charged like a bound.
    let options: usize = vals.iter().map(|c| c.opts.len()).sum();
    budget.charge(((vals.len() + 1) * a.len() + options + net.n()) as u64 / 16 + 1)?;
    // Validators with the most weight on A first: they decide coverage.
    vals.sort_by_key(|c| (std::cmp::Reverse(c.weight), c.v));
    others.sort_by_key(|&(v, w)| (std::cmp::Reverse(w), v));
    let n = vals.len();
    let mut rest_w = vec![vec![0i128; a.len()]; n + 1];
    let mut rest_stake = vec![0i128; n + 1];
    let mut rest_cost = vec![0i128; n + 1];
    for k in (0..n).rev() {
        rest_w[k] = rest_w[k + 1].clone();
        for &(j, w) in &vals[k].ws {
            rest_w[k][j] += w;
        }
        rest_stake[k] = rest_stake[k + 1] + vals[k].stake;
        rest_cost[k] = rest_cost[k + 1] + vals[k].opts[0].0;
    }
    let mut backers = vec![Vec::new(); a.len()];
    for (k, c) in vals.iter().enumerate() {
        for &(j, w) in &c.ws {
            backers[j].push((k, w as f64));
        }
    }
    let mut joint = Joint {
        ctx,
        goal,
        pcap,
        theta: a.iter().map(|&s| &ctx.theta[s]).collect(),
        theta_f: a.iter().map(|&s| ctx.theta_f[s]).collect(),
        backing: a.iter().map(|&s| net.backing[s]).collect(),
        rho: vals
            .iter()
            .map(|c| c.opts[0].0 as f64 / c.weight as f64)
            .collect(),
        sigma: vals
            .iter()
            .map(|c| c.stake as f64 / c.weight as f64)
            .collect(),
        pairs: backers.iter().map(|b| b.len() as u64).sum(),
        backers,
        vals,
        rest_w,
        rest_stake,
        rest_cost,
        others_total: others.iter().map(|x| x.1).sum(),
        others_items: others,
        others: None,
        deficit: vec![0.0; a.len()],
        items: Vec::new(),
        lambda: vec![0.5; n + 2],
        s_d: 0,
        cost: 0,
        rem_w: vec![0; a.len()],
        cov: vec![0; a.len()],
        pick: vec![0; n],
        target,
        best: None,
    };
    joint.go(0, budget)?;
    let Some(pick) = joint.best.take() else {
        return Ok(None);
    };
    let mut shocked = Vec::new();
    let mut coalitions = vec![Vec::new(); a.len()];
    let mut s_d = 0;
    for (c, &p) in joint.vals.iter().zip(&pick) {
        match p {
            0 => {}
            1 => {
                shocked.push(c.v);
                s_d += c.stake;
            }
            _ => {
                for &(j, _) in &c.opts[p - 2].1 {
                    coalitions[j].push(c.v);
                }
            }
        }
    }
    let room = ctx.cap - s_d;
    let fill = match &joint.others {
        Some(sums) => sums.best_set(room, budget)?.1,
        None => greedy_fill(&joint.others_items, room).1,
    };
    shocked.extend(fill);
    shocked.sort_unstable();
    let attack = Attack {
        services: a.to_vec(),
        coalitions,
    }
    .normalise();
    if goal == Goal::Exact {
        debug_assert_eq!(
            shocked.iter().map(|&v| net.stake[v]).sum::<i128>() + attack.cost(net),
            joint.target
        );
    }
    Ok(Some(Solved {
        value: joint.target,
        shocked,
        attack,
    }))
}

/// One validator's choices against A.
struct Choices {
    v: usize,
    stake: i128,
    /// (service of A by position, w).
    ws: Vec<(usize, i128)>,
    /// Σ of `ws`.
    weight: i128,
    /// Participation sets worth trying: (cost min(stake, w(P)), P), costliest first: every P ⊆ `ws` with
    /// w(P) < stake, and `ws` itself. A set reaching the stake costs the stake, as much as the whole of `ws`, which
    /// covers more.
    opts: Vec<(i128, Vec<(usize, i128)>)>,
}

impl Choices {
    fn new(v: usize, stake: i128, ws: Vec<(usize, i128)>) -> Result<Choices, Exhausted> {
        let weight: i128 = ws.iter().map(|x| x.1).sum();
        let mut opts = vec![(weight.min(stake), ws.clone())];
        // Depth first over the sets below the stake (weights are positive: a set at or past the stake has no
        // subset-extension below it).
        fn below(
            ws: &[(usize, i128)],
            from: usize,
            cur: &mut Vec<(usize, i128)>,
            w: i128,
            stake: i128,
            opts: &mut Vec<(i128, Vec<(usize, i128)>)>,
        ) -> Result<(), Exhausted> {
            for k in from..ws.len() {
                if w + ws[k].1 >= stake {
                    continue;
                }
                cur.push(ws[k]);
                if cur.len() < ws.len() {
                    if opts.len() == MAX_OPTIONS {
                        return Err(Exhausted);
                    }
                    opts.push((w + ws[k].1, cur.clone()));
                }
                below(ws, k + 1, cur, w + ws[k].1, stake, opts)?;
                cur.pop();
            }
            Ok(())
        }
        below(&ws, 0, &mut Vec::new(), 0, stake, &mut opts)?;
        opts.sort_by_key(|o| std::cmp::Reverse(o.0));
        Ok(Choices {
            v,
            stake,
            ws,
            weight,
            opts,
        })
    }
}

struct Joint<'a> {
    ctx: &'a Context<'a>,
    goal: Goal,
    /// Largest cost: profit(A) − 1 for [`Goal::Exact`].
    pcap: i128,
    theta: Vec<&'a Theta>,
    theta_f: Vec<f64>,
    backing: Vec<i128>,
    vals: Vec<Choices>,
    /// Per validator: the least price per unit of weight of any participation set, min(stake, W) / W (W its weight
    /// over A: min(stake, x) / x does not increase with x), and its stake per unit of weight, stake / W.
    rho: Vec<f64>,
    sigma: Vec<f64>,
    /// Per service of A: its backers (validator position, w).
    backers: Vec<Vec<(usize, f64)>>,
    /// Number of (validator, service of A) pairs.
    pairs: u64,
    /// Suffix sums over the validators k..: weight on each service, stake, costliest participation.
    rest_w: Vec<Vec<i128>>,
    rest_stake: Vec<i128>,
    rest_cost: Vec<i128>,
    /// The validators that back nothing in A (stakes decreasing); their subset sums are built at the first complete
    /// assignment the greedy fill cannot settle (most searches never need them).
    others_items: Vec<(usize, i128)>,
    others_total: i128,
    others: Option<Sums>,
    /// Scratch for the Lagrangian bound.
    deficit: Vec<f64>,
    items: Vec<(f64, f64, f64)>,
    /// λ to start from at each depth (the parent's).
    lambda: Vec<f64>,
    /// The partial assignment: shocked stake, attack cost, weight shocked and weight joined per service of A.
    s_d: i128,
    cost: i128,
    rem_w: Vec<i128>,
    cov: Vec<i128>,
    /// Per validator: 0 out, 1 shocked, 2 + o participation set o.
    pick: Vec<usize>,
    /// Only values above this matter; raised to each solution found.
    target: i128,
    best: Option<Vec<usize>>,
}

impl Joint<'_> {
    fn go(&mut self, k: usize, budget: &mut Budget) -> Result<(), Exhausted> {
        budget.tick()?;
        if self.goal == Goal::Relaxed && self.best.is_some() {
            return Ok(());
        }
        // Coverage: the rest helps most by joining (a unit joined covers 1, a unit shocked lowers the need by
        // θ ≤ 1), so if all of it joining cannot cover a service at today's need, no completion can.
        for j in 0..self.theta.len() {
            if self.cov[j] + self.rest_w[k][j]
                < self.theta[j].ceil_of(self.backing[j] - self.rem_w[j])
            {
                return Ok(());
            }
        }
        // The bound scans every (validator, service of A) pair once per λ tried: charged so that a budget stays a
        // time.
        budget.charge(self.pairs * (1 + LAGRANGE_STEPS as u64) / 16)?;
        if self.lagrange_prunes(k) {
            return Ok(());
        }
        // Objective: the final shock (with the others' fill) stays within S* and within the room; the cost within
        // `pcap` and what the rest can pay; and each of the rest adds its stake at most once, shocked or paying.
        let ctx = self.ctx;
        let room = ctx.cap - self.s_d;
        let fill = match &self.others {
            Some(sums) => sums.upper(room),
            None => ctx.all.upper(room).min(self.others_total),
        };
        let d_max = ctx
            .s_star
            .min(self.s_d + room.min(self.rest_stake[k] + fill));
        let ub = match self.goal {
            Goal::Exact => (d_max + self.pcap.min(self.cost + self.rest_cost[k]))
                .min(self.s_d + self.cost + self.rest_stake[k] + fill),
            Goal::Relaxed => d_max + self.pcap,
        };
        if ub <= self.target {
            return Ok(());
        }
        if k == self.vals.len() {
            let fill = self.leaf_fill(room, fill, budget)?;
            let value = self.s_d
                + fill
                + match self.goal {
                    Goal::Exact => self.cost,
                    Goal::Relaxed => self.pcap,
                };
            if value > self.target {
                self.target = value;
                self.best = Some(self.pick.clone());
            }
            return Ok(());
        }
        // Joining first: it covers more per unit than shocking, so feasible completions come sooner.
        for o in 0..self.vals[k].opts.len() {
            if self.cost + self.vals[k].opts[o].0 > self.pcap {
                continue;
            }
            self.join(k, o, true);
            self.pick[k] = 2 + o;
            let r = self.go(k + 1, budget);
            self.join(k, o, false);
            r?;
        }
        if self.s_d + self.vals[k].stake <= ctx.cap {
            self.shock(k, true);
            self.pick[k] = 1;
            let r = self.go(k + 1, budget);
            self.shock(k, false);
            r?;
        }
        self.pick[k] = 0;
        self.go(k + 1, budget)
    }

    /// The Lagrangian bound of [`Joint::lagrangian`] at the parent's λ, then one bisection step towards the best λ
    /// (the bound is concave in λ; its slope is the shock stake the relaxed cover uses minus the shock room). λ
    /// stays in [0, 1]: past 1 shocking is never the cheaper cover (λ · stake / W ≥ min(stake, W) / W ≥ θ · that).
    fn lagrange_prunes(&mut self, k: usize) -> bool {
        let room_d = (self.ctx.cap - self.s_d) as f64;
        let room_c = (self.pcap - self.cost) as f64;
        for j in 0..self.backers.len() {
            self.deficit[j] =
                self.theta_f[j] * (self.backing[j] - self.rem_w[j]) as f64 - self.cov[j] as f64;
        }
        let start = self.lambda[k];
        let (g, used) = self.lagrangian(k, start);
        if g - start * room_d - room_c > self.ctx.margin {
            return true;
        }
        let (mut lo, mut hi) = if used > room_d {
            (start, 1.0)
        } else {
            (0.0, start)
        };
        for _ in 0..LAGRANGE_STEPS {
            let mid = 0.5 * (lo + hi);
            let (g, used) = self.lagrangian(k, mid);
            if g - mid * room_d - room_c > self.ctx.margin {
                return true;
            }
            if used > room_d {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        self.lambda[k + 1] = 0.5 * (lo + hi);
        false
    }

    /// Σ_s of the cheapest fractional cover of s's deficit θ_s (backing_s − w_s(D)) − cov_s by the validators k..,
    /// each unit of weight joined at ρ (covering 1) or shocked at λσ (covering θ_s: the need drops), with the shock
    /// stake it uses. Any completion (B, D) pays cost(B) + λ · stake(D) at least this much: a participation set P
    /// costs min(stake, w(P)) ≥ ρ · w(P), a shock λ · stake = λσ · W, so splitting each validator's price over its
    /// weight gives each service a feasible fractional cover. If this exceeds the cost room + λ · the shock room,
    /// nothing fits.
    fn lagrangian(&mut self, k: usize, lambda: f64) -> (f64, f64) {
        let mut total = 0.0;
        let mut used = 0.0;
        for j in 0..self.backers.len() {
            let th = self.theta_f[j];
            let mut rem = self.deficit[j];
            if rem <= 0.0 {
                continue;
            }
            // (price per unit of cover, cover available, shock stake per unit of cover). A unit cheaper to shock
            // per unit of cover is shocked first and later upgraded to joined (1 − θ more cover at the difference):
            // the upgrade's price per cover is never below the shock's, so the greedy takes them in order.
            self.items.clear();
            for &(kk, w) in &self.backers[j] {
                if kk < k {
                    continue;
                }
                let (pb, pd, sigma) = (self.rho[kk], lambda * self.sigma[kk], self.sigma[kk]);
                if pd <= th * pb {
                    self.items.push((pd / th, th * w, sigma / th));
                    if th < 1.0 {
                        self.items.push((
                            (pb - pd) / (1.0 - th),
                            (1.0 - th) * w,
                            -sigma / (1.0 - th),
                        ));
                    }
                } else {
                    self.items.push((pb, w, 0.0));
                }
            }
            self.items.sort_by(|a, b| a.0.total_cmp(&b.0));
            for &(price, amount, stake) in &self.items {
                let t = amount.min(rem);
                total += t * price;
                used += t * stake;
                rem -= t;
                if rem <= 0.0 {
                    break;
                }
            }
            if rem > 0.0 {
                return (f64::INFINITY, 0.0);
            }
        }
        (total, used)
    }

    /// The others' largest stake under `room`, exactly: the greedy fill when it meets the bound `upper`, else from
    /// the others' subset sums.
    fn leaf_fill(
        &mut self,
        room: i128,
        upper: i128,
        budget: &mut Budget,
    ) -> Result<i128, Exhausted> {
        if let Some(sums) = &self.others {
            return sums.best_below(room, budget);
        }
        if greedy_fill(&self.others_items, room).0 == upper {
            return Ok(upper);
        }
        let sums = Sums::new(std::mem::take(&mut self.others_items), budget)?;
        let fill = sums.best_below(room, budget)?;
        self.others = Some(sums);
        Ok(fill)
    }

    fn shock(&mut self, k: usize, on: bool) {
        let c = &self.vals[k];
        let sign = if on { 1 } else { -1 };
        self.s_d += sign * c.stake;
        for &(j, w) in &c.ws {
            self.rem_w[j] += sign * w;
        }
    }

    fn join(&mut self, k: usize, o: usize, on: bool) {
        let (cost, set) = &self.vals[k].opts[o];
        let sign = if on { 1 } else { -1 };
        self.cost += sign * cost;
        for &(j, w) in set {
            self.cov[j] += sign * w;
        }
    }
}

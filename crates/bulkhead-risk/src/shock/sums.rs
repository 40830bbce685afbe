//! Subset sums and 0/1 knapsacks over validators' stakes, exact in integers.

use crate::search::{Budget, Exhausted};

/// Subset sums of a fixed list of validators' stakes: the most stake that fits under a room, and which validators
/// reach it. A bitset over multiples of the stakes' gcd when that stays below [`SUMS_BITS`] steps, a branch and
/// bound otherwise.
pub(super) struct Sums {
    /// (validator, stake), stakes decreasing.
    items: Vec<(usize, i128)>,
    total: i128,
    bits: Option<(i128, Vec<u64>)>,
}

/// Largest bitset (in bits) [`Sums`] builds.
const SUMS_BITS: i128 = 1 << 20;

impl Sums {
    pub(super) fn new(
        mut items: Vec<(usize, i128)>,
        budget: &mut Budget,
    ) -> Result<Sums, Exhausted> {
        items.retain(|&(_, w)| w > 0);
        items.sort_by_key(|&(v, w)| (std::cmp::Reverse(w), v));
        let total: i128 = items.iter().map(|x| x.1).sum();
        let gcd = items
            .iter()
            .fold(0i128, |g, x| num_integer::Integer::gcd(&g, &x.1));
        let bits = if gcd > 0 && total / gcd < SUMS_BITS {
            let words = ((total / gcd) as usize + 1).div_ceil(64);
            budget.charge((words * items.len() / 16) as u64 + 1)?;
            let mut set = vec![0u64; words];
            set[0] = 1;
            for &(_, w) in &items {
                shift_or(&mut set, (w / gcd) as usize);
            }
            Some((gcd, set))
        } else {
            None
        };
        Ok(Sums { items, total, bits })
    }

    /// An upper bound on the largest subset sum ≤ `room` (≥ 0): exact with the bitset, else min(room, total).
    pub(super) fn upper(&self, room: i128) -> i128 {
        match &self.bits {
            Some((gcd, set)) if room < self.total => highest_below(set, room / gcd) * gcd,
            _ => room.min(self.total),
        }
    }

    /// The largest subset sum ≤ `room` (≥ 0).
    pub(super) fn best_below(&self, room: i128, budget: &mut Budget) -> Result<i128, Exhausted> {
        if room >= self.total || self.bits.is_some() {
            return Ok(self.upper(room));
        }
        Ok(self.search(room, budget)?.0)
    }

    /// The largest subset sum ≤ `room` (≥ 0) and its validators.
    pub(super) fn best_set(
        &self,
        room: i128,
        budget: &mut Budget,
    ) -> Result<(i128, Vec<usize>), Exhausted> {
        if room >= self.total {
            return Ok((self.total, self.items.iter().map(|x| x.0).collect()));
        }
        let Some((gcd, _)) = &self.bits else {
            return self.search(room, budget);
        };
        // Sums of the items k.., to walk back from the best reachable sum.
        let words = ((self.total / gcd) as usize + 1).div_ceil(64);
        budget.charge((words * self.items.len() / 16) as u64 + 1)?;
        let mut layers = vec![vec![0u64; words]; self.items.len() + 1];
        layers[self.items.len()][0] = 1;
        for k in (0..self.items.len()).rev() {
            let mut cur = layers[k + 1].clone();
            shift_or(&mut cur, (self.items[k].1 / gcd) as usize);
            layers[k] = cur;
        }
        let best = highest_below(&layers[0], room / gcd);
        let mut left = best;
        let mut chosen = Vec::new();
        for (k, &(v, w)) in self.items.iter().enumerate() {
            let step = w / gcd;
            if left >= step && bit(&layers[k + 1], left - step) {
                chosen.push(v);
                left -= step;
            }
        }
        debug_assert_eq!(left, 0);
        Ok((best * gcd, chosen))
    }

    /// Branch and bound for the largest subset sum ≤ `room`, stopping as soon as it fills the room.
    fn search(&self, room: i128, budget: &mut Budget) -> Result<(i128, Vec<usize>), Exhausted> {
        let mut suffix = vec![0i128; self.items.len() + 1];
        for k in (0..self.items.len()).rev() {
            suffix[k] = suffix[k + 1] + self.items[k].1;
        }
        struct St<'a> {
            items: &'a [(usize, i128)],
            suffix: Vec<i128>,
            room: i128,
            best: i128,
            best_set: Vec<usize>,
            cur: Vec<usize>,
        }
        fn go(st: &mut St<'_>, k: usize, sum: i128, budget: &mut Budget) -> Result<(), Exhausted> {
            budget.tick()?;
            if sum > st.best {
                st.best = sum;
                st.best_set = st.cur.clone();
            }
            if k == st.items.len() || st.best == st.room || sum + st.suffix[k] <= st.best {
                return Ok(());
            }
            let (v, w) = st.items[k];
            if sum + w <= st.room {
                st.cur.push(v);
                go(st, k + 1, sum + w, budget)?;
                st.cur.pop();
            }
            go(st, k + 1, sum, budget)
        }
        let mut st = St {
            items: &self.items,
            suffix,
            room,
            best: 0,
            best_set: Vec::new(),
            cur: Vec::new(),
        };
        go(&mut st, 0, 0, budget)?;
        Ok((st.best, st.best_set))
    }
}

/// Largest first, each validator that still fits (`items` decreasing): a real choice, so a lower bound on the
/// largest stake under `room`.
pub(super) fn greedy_fill(items: &[(usize, i128)], room: i128) -> (i128, Vec<usize>) {
    let mut sum = 0;
    let mut chosen = Vec::new();
    for &(v, w) in items {
        if sum + w <= room {
            sum += w;
            chosen.push(v);
        }
    }
    (sum, chosen)
}

fn bit(set: &[u64], i: i128) -> bool {
    let i = i as usize;
    set[i / 64] >> (i % 64) & 1 == 1
}

/// `set |= set << shift`.
fn shift_or(set: &mut [u64], shift: usize) {
    let (ws, bs) = (shift / 64, shift % 64);
    for i in (ws..set.len()).rev() {
        let mut v = set[i - ws] << bs;
        if bs > 0 && i > ws {
            v |= set[i - ws - 1] >> (64 - bs);
        }
        set[i] |= v;
    }
}

/// The highest set bit at or below `limit` (bit 0, the empty sum, is always set).
fn highest_below(set: &[u64], limit: i128) -> i128 {
    let limit = (limit as usize).min(set.len() * 64 - 1);
    let mut i = limit / 64;
    let mut word = set[i] & (u64::MAX >> (63 - limit % 64));
    loop {
        if word != 0 {
            return i as i128 * 64 + 63 - word.leading_zeros() as i128;
        }
        i -= 1;
        word = set[i];
    }
}

/// A knapsack item: (validator, weight = its stake, value > 0).
pub(super) type Item = (usize, i128, i128);

/// Items by decreasing value per unit of weight.
pub(super) fn by_density(items: Vec<Item>) -> Vec<Item> {
    let mut keyed: Vec<(f64, Item)> = items
        .into_iter()
        .map(|x| (x.2 as f64 / x.1 as f64, x))
        .collect();
    keyed.sort_by(|a, b| b.0.total_cmp(&a.0));
    keyed.into_iter().map(|x| x.1).collect()
}

/// The fractional knapsack's value on items sorted [`by_density`], in `f64` (callers widen it by a margin).
pub(super) fn fractional(items: &[Item], cap: i128) -> f64 {
    let mut room = cap as f64;
    let mut gain = 0.0;
    for &(_, w, v) in items {
        if room <= 0.0 {
            break;
        }
        let (w, v) = (w as f64, v as f64);
        let t = w.min(room);
        gain += t * v / w;
        room -= t;
    }
    gain
}

/// 0/1 knapsack, exact: the largest Σ value over items (sorted [`by_density`]) of total weight ≤ `cap`, with its
/// validators, if it exceeds `floor`. A branch and bound first (it settles most calls in a few nodes); past
/// [`KNAPSACK_NODES`] a dynamic program over the capacities when they are few multiples of the weights' gcd
/// (subset-sum-like instances defeat the fractional bound), else the branch and bound on the caller's budget.
pub(super) fn knapsack(
    items: &[Item],
    cap: i128,
    floor: i128,
    budget: &mut Budget,
) -> Result<Option<(i128, Vec<usize>)>, Exhausted> {
    let mut own = Budget::new(KNAPSACK_NODES);
    let r = knapsack_bnb(items, cap, floor, &mut own);
    budget.charge(own.used())?;
    if let Ok(r) = r {
        return Ok(r);
    }
    let gcd = items
        .iter()
        .fold(0i128, |g, x| num_integer::Integer::gcd(&g, &x.1));
    let steps = cap / gcd.max(1) + 1;
    if steps.saturating_mul(items.len() as i128) <= KNAPSACK_DP_CELLS {
        return knapsack_dp(items, gcd, steps as usize, floor, budget);
    }
    knapsack_bnb(items, cap, floor, budget)
}

/// Branch-and-bound nodes [`knapsack`] tries before its dynamic program.
const KNAPSACK_NODES: u64 = 2_000;

/// Largest table (items × capacities) of the knapsack's dynamic program.
const KNAPSACK_DP_CELLS: i128 = 1 << 24;

/// Branch and bound, pruned by the fractional bound widened by a margin that dominates its rounding error.
fn knapsack_bnb(
    items: &[Item],
    cap: i128,
    floor: i128,
    budget: &mut Budget,
) -> Result<Option<(i128, Vec<usize>)>, Exhausted> {
    struct St<'a> {
        items: &'a [Item],
        /// Per item: (weight, value per unit of weight).
        dense: Vec<(f64, f64)>,
        margin: f64,
        best: i128,
        best_set: Option<Vec<usize>>,
        cur: Vec<usize>,
    }
    fn go(
        st: &mut St<'_>,
        k: usize,
        room: i128,
        value: i128,
        budget: &mut Budget,
    ) -> Result<(), Exhausted> {
        budget.tick()?;
        if value > st.best {
            st.best = value;
            st.best_set = Some(st.cur.clone());
        }
        let mut ub = value as f64;
        let mut r = room as f64;
        for &(w, density) in &st.dense[k..] {
            if r <= 0.0 {
                break;
            }
            let t = w.min(r);
            ub += t * density;
            r -= t;
        }
        if k == st.items.len() || ub + st.margin <= st.best as f64 {
            return Ok(());
        }
        let (id, w, v) = st.items[k];
        if w <= room {
            st.cur.push(id);
            go(st, k + 1, room - w, value + v, budget)?;
            st.cur.pop();
        }
        go(st, k + 1, room, value, budget)
    }
    let scale: f64 = items.iter().map(|x| x.1 as f64 + x.2 as f64).sum::<f64>() + cap as f64;
    let mut st = St {
        items,
        dense: items
            .iter()
            .map(|&(_, w, v)| (w as f64, v as f64 / w as f64))
            .collect(),
        margin: 1e-9 * (scale + 1.0),
        best: floor.max(-1),
        best_set: None,
        cur: Vec::new(),
    };
    go(&mut st, 0, cap, 0, budget)?;
    Ok(st.best_set.map(|set| (st.best, set)))
}

/// Dynamic program over capacities 0..`steps` in units of `gcd` (exact integers), with a bit per item and capacity
/// to walk back the chosen items.
fn knapsack_dp(
    items: &[Item],
    gcd: i128,
    steps: usize,
    floor: i128,
    budget: &mut Budget,
) -> Result<Option<(i128, Vec<usize>)>, Exhausted> {
    budget.charge((steps * items.len() / 16) as u64 + 1)?;
    let mut best = vec![0i128; steps];
    let words = steps.div_ceil(64);
    let mut took = vec![0u64; words * items.len()];
    for (k, &(_, w, v)) in items.iter().enumerate() {
        let w = (w / gcd) as usize;
        for c in (w..steps).rev() {
            if best[c - w] + v > best[c] {
                best[c] = best[c - w] + v;
                took[k * words + c / 64] |= 1 << (c % 64);
            }
        }
    }
    let value = best[steps - 1];
    if value <= floor {
        return Ok(None);
    }
    let mut c = steps - 1;
    let mut chosen = Vec::new();
    for k in (0..items.len()).rev() {
        if took[k * words + c / 64] >> (c % 64) & 1 == 1 {
            chosen.push(items[k].0);
            c -= (items[k].1 / gcd) as usize;
        }
    }
    Ok(Some((value, chosen)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::SplitMix64;

    /// Every subset: the largest Σ value of weight ≤ cap, and the largest weight ≤ cap.
    fn brute(items: &[Item], cap: i128) -> (i128, i128) {
        let (mut value, mut weight) = (0, 0);
        for mask in 0u32..1 << items.len() {
            let chosen = items.iter().enumerate().filter(|(k, _)| mask >> k & 1 == 1);
            let (w, v) = chosen.fold((0, 0), |(w, v), (_, x)| (w + x.1, v + x.2));
            if w <= cap {
                value = value.max(v);
                weight = weight.max(w);
            }
        }
        (value, weight)
    }

    fn check_knapsack(items: &[Item], cap: i128, what: &str) {
        let sorted = by_density(items.to_vec());
        let (value, _) = brute(items, cap);
        let got = knapsack(&sorted, cap, -1, &mut Budget::new(u64::MAX)).unwrap();
        let (v, chosen) = got.unwrap_or((0, Vec::new()));
        assert_eq!(v, value, "{what}: {items:?} cap {cap}");
        let w: i128 = chosen.iter().map(|&id| items[id].1).sum();
        let vv: i128 = chosen.iter().map(|&id| items[id].2).sum();
        assert!(w <= cap && vv == v, "{what}: chosen {chosen:?}");
        // Just below its optimum it is found, at it there is nothing above.
        let just_below = knapsack(&sorted, cap, value - 1, &mut Budget::new(u64::MAX)).unwrap();
        assert_eq!(just_below.map(|x| x.0), Some(value), "{what}");
        assert!(
            knapsack(&sorted, cap, value, &mut Budget::new(u64::MAX))
                .unwrap()
                .is_none()
        );
    }

    fn check_sums(items: &[Item], room: i128, what: &str) {
        let (_, weight) = brute(items, room);
        let sums = Sums::new(
            items.iter().map(|x| (x.0, x.1)).collect(),
            &mut Budget::new(u64::MAX),
        )
        .unwrap();
        let mut budget = Budget::new(u64::MAX);
        assert_eq!(
            sums.best_below(room, &mut budget).unwrap(),
            weight,
            "{what}"
        );
        assert!(sums.upper(room) >= weight, "{what}");
        let (best, set) = sums.best_set(room, &mut budget).unwrap();
        assert_eq!(best, weight, "{what}");
        assert_eq!(
            set.iter().map(|&id| items[id].1).sum::<i128>(),
            weight,
            "{what}"
        );
        let (g, gset) = greedy_fill(&sums.items, room);
        assert!(g <= weight && gset.iter().map(|&id| items[id].1).sum::<i128>() == g);
    }

    /// Random items, small (bitset, dynamic program) and huge (branch and bound only) weights, at every kind of room.
    #[test]
    fn knapsack_and_subset_sums_match_enumeration() {
        let mut rng = SplitMix64::new(0x5_0B5E7);
        for case in 0..300 {
            let n = rng.range(0, 12) as usize;
            let huge = case % 3 == 0;
            let items: Vec<Item> = (0..n)
                .map(|k| {
                    let w = rng.range(1, 40) as i128;
                    let w = if huge {
                        w * 1_000_000_007 + k as i128
                    } else {
                        w
                    };
                    (k, w, rng.range(1, w.min(1 << 40) as u64) as i128)
                })
                .collect();
            let total: i128 = items.iter().map(|x| x.1).sum();
            for room in [0, total / 3, total / 2, total.max(1) - 1, total, total + 5] {
                check_knapsack(&items, room, &format!("case {case}"));
                check_sums(&items, room, &format!("case {case}"));
            }
        }
    }

    /// Even weights under an odd capacity, value = weight: the fractional bound never closes the gap, so the branch
    /// and bound gives up after its own nodes and the dynamic program (small weights) or the branch and bound on the
    /// caller's budget (huge weights) answers.
    #[test]
    fn knapsack_past_its_branch_and_bound() {
        for huge in [false, true] {
            let items: Vec<Item> = (0..16)
                .map(|k| {
                    let k = k as i128;
                    let half = if huge {
                        (k + 2) * 1_000_000_007 + k * k
                    } else {
                        k + 2
                    };
                    (k as usize, 2 * half, 2 * half)
                })
                .collect();
            let total: i128 = items.iter().map(|x| x.1).sum();
            let cap = (total / 2) | 1;
            let mut own = Budget::new(KNAPSACK_NODES);
            assert!(knapsack_bnb(&by_density(items.clone()), cap, -1, &mut own).is_err());
            let steps = cap / 2 + 1;
            assert_eq!(steps * 16 > KNAPSACK_DP_CELLS, huge);
            check_knapsack(&items, cap, &format!("huge {huge}"));
        }
    }
}

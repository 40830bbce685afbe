//! Mirrors `contracts/AllocationManager.sol`: allocations as weights against W (isolated and shared, the pool's one
//! pending isolated increase, the reuse cap, allocation and deallocation delays), membership, the cascade guard,
//! instant slashes and the veto flow (request, veto, execute), and the manager's views.

use alloy::primitives::U256;
use bulkhead_contracts::{
    AllocationManager, WAD,
    mode::{self, ISOLATED, SHARED},
};
use bulkhead_evm::ErrorKind;

use super::{
    Alloc, Model, Mutation, PState, Request, Rev, SlashOut, Status,
    maths::{BPS, PANIC, mul_div, mul_div_ceil, sub, u, unit, wad},
};
use crate::spec::Spec;

/// `_weighted`: a shared weight as it counts against the reuse cap, times its risk weight in tenths, rounded down.
fn weighted(weight: U256, risk_weight_tenths: u8) -> U256 {
    weight * u(u64::from(risk_weight_tenths)) / u(10)
}

impl Model {
    fn is_slashable(&self, avs: usize, operator: usize) -> bool {
        let m = self
            .members
            .get(&(avs, operator))
            .copied()
            .unwrap_or_default();
        m.opted_in
            || (m.opted_out_at != 0 && self.now < m.opted_out_at + self.params.deallocation_delay)
    }

    /// `optIn`: `operator` joins the AVS's operator set.
    pub(super) fn opt_in(&mut self, operator: usize, avs: usize) -> Result<(), Rev> {
        let bond_short = self.standing[avs].1;
        let member = self.members.entry((avs, operator)).or_default();
        if member.opted_in {
            return Err(ErrorKind::of::<AllocationManager::AlreadyOptedIn>());
        }
        // Rejoining revives the allocations left behind: new backing, which a bond-short AVS does not get.
        if member.opted_out_at != 0 && bond_short {
            return Err(ErrorKind::of::<AllocationManager::BondBelowRequirement>());
        }
        member.opted_in = true;
        member.opted_out_at = 0;
        Ok(())
    }

    /// `optOut`: `operator` leaves; it stays slashable for the deallocation delay.
    pub(super) fn opt_out(&mut self, operator: usize, avs: usize) -> Result<(), Rev> {
        let now = self.now;
        let member = self.members.entry((avs, operator)).or_default();
        if !member.opted_in {
            return Err(ErrorKind::of::<AllocationManager::NotOptedIn>());
        }
        member.opted_in = false;
        member.opted_out_at = now;
        Ok(())
    }

    /// `_viewPool`: the pool's state as its next touch will leave it, and its operator.
    pub(super) fn view_pool(&self, id: usize) -> (PState, usize) {
        let (st, operator, _) = self.view_pool_settled(id);
        (st, operator)
    }

    /// `_viewPoolSettled`: the pool as `_syncPool` leaves it, and what a matured pending isolated increase adds to
    /// its allocation (`None` when none settles).
    fn view_pool_settled(&self, id: usize) -> (PState, usize, Option<U256>) {
        let p = &self.pools[id - 1];
        // `poolKey`: a tier whose base generation ended reports the generation its next touch gives it.
        let generation = p.generation + u32::from(self.tier_ended(id));
        let mut st = self.states.get(&id).copied().unwrap_or_default();
        let mut added = None;
        if st.total.is_zero() || st.generation != generation {
            st.total = unit();
            st.isolated = U256::ZERO;
            st.shared = U256::ZERO;
            st.pending_isolated = U256::ZERO;
            st.epoch = st.epoch.wrapping_add(1);
            st.generation = generation;
        } else if !st.pending_isolated.is_zero() && self.settles(&st) {
            let free = st.total.saturating_sub(st.isolated);
            let add = st.pending_isolated.min(free);
            st.isolated += add;
            st.pending_isolated = U256::ZERO;
            added = Some(add);
        }
        (st, p.operator, added)
    }

    /// `_settles`: the pool's pending isolated increase settles only once due and after the last executable second
    /// of every slash decided on the pool (`slashPendingUntil`), whenever it was committed.
    fn settles(&self, st: &PState) -> bool {
        self.now >= st.pending_isolated_at && self.now > st.slash_pending_until
    }

    /// `_viewAllocation`: the pool and the allocation as `_syncPool` leaves them; the pool's pending isolated
    /// increase, while a decided slash holds it, shown with the earliest time it settles.
    fn view_alloc(&self, id: usize, avs: usize) -> (PState, usize, Alloc) {
        let (st, operator, added) = self.view_pool_settled(id);
        let mut a = self.allocs.get(&(id, avs)).copied().unwrap_or_default();
        if let Some(add) = added
            && avs == st.pending_isolated_avs
            && a.epoch == st.epoch
        {
            a.current += add;
            a.pending = a.current;
            a.effect_at = 0;
        }
        if a.epoch == st.epoch
            && a.effect_at != 0
            && a.mode == ISOLATED
            && a.pending > a.current
            && a.effect_at <= st.slash_pending_until
        {
            a.effect_at = st.slash_pending_until + 1;
        }
        (st, operator, a)
    }

    /// `_syncPool`: writes what `view_pool` shows (the pending isolated increase's allocation included).
    fn sync_pool(&mut self, id: usize) -> usize {
        let stored_avs = self.states.get(&id).map_or(0, |st| st.pending_isolated_avs);
        let (st, operator, added) = self.view_pool_settled(id);
        if let Some(add) = added {
            let a = self.allocs.entry((id, stored_avs)).or_default();
            a.current += add;
            a.pending = a.current;
            a.effect_at = 0;
        }
        self.states.insert(id, st);
        operator
    }

    fn st(&mut self, id: usize) -> &mut PState {
        self.states.entry(id).or_default()
    }

    fn apply(&mut self, id: usize, avs: usize) -> Result<(), Rev> {
        let now = self.now;
        let st = self.states.get(&id).copied().unwrap_or_default();
        let a = self.allocs.entry((id, avs)).or_default();
        if a.epoch != st.epoch {
            *a = Alloc {
                epoch: st.epoch,
                ..Alloc::default()
            };
            return Ok(());
        }
        if a.effect_at == 0 || now < a.effect_at {
            return Ok(());
        }
        let (current, pending, mode, rw) = (a.current, a.pending, a.mode, a.rw);
        // An isolated increase takes effect only by settling with its pool (`sync_pool`).
        if mode == ISOLATED && pending > current {
            return Ok(());
        }
        a.current = pending;
        a.effect_at = 0;
        if pending < current {
            let st = self.st(id);
            if mode == ISOLATED {
                st.isolated = sub(st.isolated, current - pending)?;
            } else {
                st.shared = sub(st.shared, weighted(current, rw) - weighted(pending, rw))?;
            }
        }
        Ok(())
    }

    pub(super) fn allocate(
        &mut self,
        id: usize,
        avs: usize,
        mode: u8,
        fraction: u64,
    ) -> Result<(), Rev> {
        if fraction > WAD {
            return Err(ErrorKind::of::<AllocationManager::InvalidFraction>());
        }
        let operator = self.sync_pool(id);
        self.apply(id, avs)?;
        let a = self.allocs.get(&(id, avs)).copied().unwrap_or_default();
        if a.effect_at != 0 {
            return Err(ErrorKind::of::<AllocationManager::PendingChange>());
        }
        let current = a.current;
        if !current.is_zero() && a.mode != mode {
            return Err(ErrorKind::of::<AllocationManager::ModeMismatch>());
        }
        let st = self.states.get(&id).copied().unwrap_or_default();
        let target = u(fraction) * st.total / wad();
        if target == current {
            return Err(ErrorKind::of::<AllocationManager::NoChange>());
        }
        let effect_at = if target > current {
            let member = self
                .members
                .get(&(avs, operator))
                .copied()
                .unwrap_or_default();
            if !member.opted_in {
                return Err(ErrorKind::of::<AllocationManager::NotOptedIn>());
            }
            let (risk_weight, bond_short) = self.standing_now(avs);
            if bond_short {
                return Err(ErrorKind::of::<AllocationManager::BondBelowRequirement>());
            }
            let mut effect_at = self.now + self.params.allocation_delay;
            if mode == ISOLATED && effect_at <= st.slash_pending_until {
                effect_at = st.slash_pending_until + 1;
            }
            let mut added = target - current;
            if mode == SHARED {
                // The whole allocation is re-priced at the AVS's weight now: what it counted comes off, what it
                // counts now goes on.
                let st = self.st(id);
                st.shared = sub(st.shared, weighted(current, a.rw))?;
                added = weighted(target, risk_weight);
                self.allocs.entry((id, avs)).or_default().rw = risk_weight;
            }
            self.commit_increase(id, avs, mode, added, effect_at)?;
            effect_at
        } else {
            self.now + self.params.deallocation_delay
        };
        let a = self.allocs.entry((id, avs)).or_default();
        a.pending = target;
        a.effect_at = effect_at;
        a.mode = mode;
        Ok(())
    }

    fn commit_increase(
        &mut self,
        id: usize,
        avs: usize,
        mode: u8,
        delta: U256,
        effect_at: u64,
    ) -> Result<(), Rev> {
        let st = self.st(id);
        let total = st.total;
        let mut isolated = st.isolated;
        let mut shared = st.shared;
        if mode == ISOLATED {
            // Not booked: it stays in the shared stake until it takes effect; one per pool at a time.
            if !st.pending_isolated.is_zero() {
                return Err(ErrorKind::of::<AllocationManager::IsolatedIncreasePending>());
            }
            isolated += delta;
            if isolated > total {
                return Err(ErrorKind::of::<AllocationManager::IsolatedOverCommitted>());
            }
            st.pending_isolated = delta;
            st.pending_isolated_at = effect_at;
            st.pending_isolated_avs = avs;
        } else {
            shared += delta;
            st.shared = shared;
            // As if the pending isolated increase were in effect (`_commitIncrease`).
            isolated += st.pending_isolated;
        }
        // Default reuse cap 3x (no governance call changes it here); the path maximum (20x) is above it, and above a
        // tier's path (3x · 3x = 9x), so `PathReuseTooHigh` cannot happen.
        let limit = total.saturating_sub(isolated) * u(30_000) / u(BPS);
        if shared > limit {
            return Err(ErrorKind::of::<AllocationManager::ReuseCapExceeded>());
        }
        Ok(())
    }

    /// `_guardState`: (both windows compounded, the previous window's loss, the current window's loss).
    fn guard_state(&self, st: &PState) -> Result<(U256, U256, U256), Rev> {
        // The guard's window never changes here (no governance call), so nothing is merged.
        let window = self.now / self.params.guard_window;
        let last = st.guard_at / self.params.guard_window;
        let (previous, current) = if window == last + 1 {
            (st.guard_current, U256::ZERO)
        } else if window > last + 1 {
            (U256::ZERO, U256::ZERO)
        } else {
            (st.guard_previous, st.guard_current)
        };
        let used = previous + mul_div_ceil(current, sub(wad(), previous)?, wad())?;
        Ok((used, previous, current))
    }

    /// `_sharedWeight`: at most the shared stake, scaled to the 3x default cap when the committed shared limits
    /// exceed it.
    fn shared_weight(st: &PState, weight: U256) -> Result<U256, Rev> {
        let stake = sub(st.total, st.isolated)?;
        let weight = weight.min(stake);
        let limit = stake * u(30_000) / u(BPS);
        if st.shared > limit {
            mul_div(weight, limit, st.shared)
        } else {
            Ok(weight)
        }
    }

    fn slashable_weight(st: &PState, a: &Alloc) -> Result<U256, Rev> {
        if a.mode == SHARED {
            return Self::shared_weight(st, a.current);
        }
        Ok(a.current)
    }

    fn check_fraction(&self, avs: usize, fraction: u64) -> Result<(), Rev> {
        if fraction == 0 || fraction > WAD {
            return Err(ErrorKind::of::<AllocationManager::InvalidFraction>());
        }
        if fraction > self.avs_max[avs] {
            return Err(ErrorKind::of::<AllocationManager::SlashAboveMax>());
        }
        Ok(())
    }

    pub(super) fn slash(
        &mut self,
        spec: &Spec,
        avs: usize,
        id: usize,
        fraction: u64,
    ) -> Result<SlashOut, Rev> {
        self.check_fraction(avs, fraction)?;
        let operator = self.sync_pool(id);
        let st = self.states[&id];
        let a = self.allocs.get(&(id, avs)).copied().unwrap_or_default();
        if !self.is_slashable(avs, operator) || a.epoch != st.epoch || a.mode == mode::NONE {
            return Err(ErrorKind::of::<AllocationManager::NotSlashable>());
        }
        self.apply(id, avs)?;
        let st = self.states[&id];
        let a = self.allocs[&(id, avs)];
        let value = self.slashable_assets(id)?;
        let weight = Self::slashable_weight(&st, &a)?;
        // A tier is slashed like any pool (its value: its base shares in the base asset); the vault pays it in base
        // shares, so its base pool is not touched.
        let backing = match self.mutation {
            Mutation::CeilSlashAmount => mul_div_ceil(weight, value, st.total)?,
            _ => mul_div(weight, value, st.total)?,
        };
        let requested = backing * u(fraction) / wad();
        let allowed = self.guard(id, requested, value)?;
        let amount = self.preview_slash(id, allowed)?;
        if !amount.is_zero() {
            self.remove_weight(id, avs, amount, value)?;
            let sink = spec.sink_of(avs);
            self.vault_slash(id, amount, sink)?;
        }
        Ok(SlashOut {
            pool: id,
            amount,
            requested,
            allowed,
            backing,
            mode: a.mode,
        })
    }

    /// `_guardAllowance`: (allowed, previous window's loss, current window's loss after it).
    fn guard_allowance(
        &self,
        id: usize,
        amount: U256,
        value: U256,
    ) -> Result<(U256, U256, U256), Rev> {
        let st = self.states.get(&id).copied().unwrap_or_default();
        let (used, previous, mut current) = self.guard_state(&st)?;
        if amount.is_zero() {
            return Ok((U256::ZERO, previous, current));
        }
        let cap = u(self.params.guard_max);
        let loss = mul_div_ceil(amount, wad(), value)?;
        let mut allowed = U256::ZERO;
        if used + mul_div_ceil(loss, sub(wad(), used)?, wad())? <= cap {
            allowed = amount;
            current += mul_div_ceil(loss, sub(wad(), current)?, wad())?;
        } else if used < cap {
            allowed = amount.min(mul_div(cap - used, value, wad() - used)?);
            current = mul_div_ceil(cap - previous, wad(), wad() - previous)?;
        }
        Ok((allowed, previous, current))
    }

    fn guard(&mut self, id: usize, amount: U256, value: U256) -> Result<U256, Rev> {
        if amount.is_zero() {
            return Ok(U256::ZERO);
        }
        let (allowed, previous, current) = self.guard_allowance(id, amount, value)?;
        let now = self.now;
        let st = self.st(id);
        st.guard_previous = previous;
        st.guard_current = current;
        st.guard_at = now;
        Ok(allowed)
    }

    fn remove_weight(
        &mut self,
        id: usize,
        avs: usize,
        amount: U256,
        value: U256,
    ) -> Result<(), Rev> {
        let st = self.states[&id];
        let a = self.allocs[&(id, avs)];
        let total = st.total;
        let raw = match self.mutation {
            Mutation::FloorWeightCut => mul_div(total, amount, value)?,
            _ => mul_div_ceil(total, amount, value)?,
        };
        let cut = raw.min(Self::slashable_weight(&st, &a)?);
        let a = self.allocs.get_mut(&(id, avs)).ok_or(PANIC)?;
        // The cut leaves the sum at the allocation's risk weight, from the max(current, pending) it commits.
        let committed = a.current.max(a.pending);
        let rw = a.rw;
        a.current = sub(a.current, cut)?;
        a.pending -= cut.min(a.pending);
        let mode = a.mode;
        let st = self.st(id);
        st.total = total - cut;
        if mode == ISOLATED {
            st.isolated = sub(st.isolated, cut)?;
        } else {
            let left = sub(committed, cut)?;
            st.shared = sub(st.shared, weighted(committed, rw) - weighted(left, rw))?;
        }
        Ok(())
    }

    /// `slashableBacking(avs, pool)`.
    fn slashable_backing(&self, avs: usize, id: usize) -> Result<U256, Rev> {
        let (st, operator, a) = self.view_alloc(id, avs);
        if !self.is_slashable(avs, operator) {
            return Ok(U256::ZERO);
        }
        if a.epoch != st.epoch || a.mode == mode::NONE {
            return Ok(U256::ZERO);
        }
        let mut st = st;
        let mut weight = a.current;
        if a.effect_at != 0 && self.now >= a.effect_at {
            // As `_apply` will at the slash: a matured decrease also frees its committed weight.
            weight = a.pending;
            if weight < a.current {
                if a.mode == ISOLATED {
                    st.isolated = sub(st.isolated, a.current - weight)?;
                } else {
                    let freed = weighted(a.current, a.rw) - weighted(weight, a.rw);
                    st.shared = sub(st.shared, freed)?;
                }
            }
        }
        if a.mode == SHARED {
            weight = Self::shared_weight(&st, weight)?;
        }
        mul_div(weight, self.slashable_assets(id)?, st.total)
    }

    pub(super) fn request_slash(
        &mut self,
        avs: usize,
        id: usize,
        fraction: u64,
    ) -> Result<u64, Rev> {
        let Some(window) = self.avs_veto[avs] else {
            return Err(ErrorKind::of::<AllocationManager::NoVetoFlow>());
        };
        self.check_fraction(avs, fraction)?;
        if self.slashable_backing(avs, id)?.is_zero() {
            return Err(ErrorKind::of::<AllocationManager::NotSlashable>());
        }
        let executable_at = self.now + window;
        // With bonds, the AVS's bond stays until this request can no longer be vetoed.
        if self.rep.is_some() && executable_at > self.vetoable_until[avs] {
            self.vetoable_until[avs] = executable_at;
        }
        self.requests.push(Request {
            avs,
            pool: id,
            fraction,
            executable_at,
            status: Status::Pending,
        });
        // `_announce`: on this pool only (a tier slash never touches its base). An increase already due settles first.
        let until = executable_at + self.params.execution_window;
        if self.st(id).slash_pending_until < until {
            self.sync_pool(id);
            self.st(id).slash_pending_until = until;
        }
        Ok(self.requests.len() as u64)
    }

    fn pending_request(&self, rid: u64) -> Result<usize, Rev> {
        let i = (rid as usize)
            .checked_sub(1)
            .ok_or(ErrorKind::of::<AllocationManager::UnknownRequest>())?;
        let r = self
            .requests
            .get(i)
            .ok_or(ErrorKind::of::<AllocationManager::UnknownRequest>())?;
        if r.status != Status::Pending {
            return Err(ErrorKind::of::<AllocationManager::RequestNotPending>());
        }
        Ok(i)
    }

    pub(super) fn veto(&mut self, rid: u64) -> Result<(), Rev> {
        let i = self.pending_request(rid)?;
        if self.now >= self.requests[i].executable_at {
            return Err(ErrorKind::of::<AllocationManager::VetoWindowClosed>());
        }
        self.requests[i].status = Status::Vetoed;
        // Last: the AVS's fault and its bond's penalty, in the veto's transaction.
        if self.rep.is_some() {
            self.on_slash_vetoed(rid)?;
        }
        Ok(())
    }

    /// `applyPending(pool, every AVS)`: matured changes apply, and each shared allocation is re-priced at its AVS's
    /// current risk weight.
    pub(super) fn apply_pending(&mut self, id: usize) -> Result<(), Rev> {
        self.sync_pool(id);
        let epoch = self.states[&id].epoch;
        for avs in 0..self.avs_max.len() {
            let a = self.allocs.get(&(id, avs)).copied().unwrap_or_default();
            if a.epoch != epoch {
                continue;
            }
            if a.effect_at != 0 && self.now >= a.effect_at {
                self.apply(id, avs)?;
            }
            let a = self.allocs.get(&(id, avs)).copied().unwrap_or_default();
            if a.mode == SHARED {
                self.reprice(id, avs)?;
            }
        }
        Ok(())
    }

    /// `_reprice`: the allocation's committed weight leaves the pool's sum at its old risk weight and enters at the
    /// AVS's current one.
    fn reprice(&mut self, id: usize, avs: usize) -> Result<(), Rev> {
        let risk_weight = self.standing_now(avs).0;
        let a = self.allocs.get(&(id, avs)).copied().unwrap_or_default();
        let committed = a.current.max(a.pending);
        if risk_weight == a.rw || committed.is_zero() {
            return Ok(());
        }
        let st = self.st(id);
        st.shared = sub(st.shared, weighted(committed, a.rw))? + weighted(committed, risk_weight);
        self.allocs.entry((id, avs)).or_default().rw = risk_weight;
        Ok(())
    }

    pub(super) fn execute(&mut self, spec: &Spec, rid: u64) -> Result<SlashOut, Rev> {
        let i = self.pending_request(rid)?;
        let r = self.requests[i];
        if self.now < r.executable_at {
            return Err(ErrorKind::of::<AllocationManager::VetoWindowOpen>());
        }
        if self.now > r.executable_at + self.params.execution_window {
            return Err(ErrorKind::of::<AllocationManager::RequestExpired>());
        }
        self.requests[i].status = Status::Executed;
        let out = self.slash(spec, r.avs, r.pool, r.fraction)?;
        // A request is used up only by what was taken: the rest of a cut one stays executable.
        if out.amount < out.requested {
            let rest = ((out.requested - out.amount) * wad() / (out.backing - out.amount))
                .min(u(r.fraction));
            if !rest.is_zero() {
                self.requests[i].status = Status::Pending;
                self.requests[i].fraction = rest.to::<u64>();
            }
        }
        Ok(out)
    }

    // ------------------------------------------------------------------ views the runner checks

    /// `poolRisk`: (value, totalIsolated, sharedStake, reuseRatioWad, guardUsedWad).
    pub fn risk(&self, id: usize) -> Result<[U256; 5], Rev> {
        let (st, _) = self.view_pool(id);
        let value = self.slashable_assets(id)?;
        let isolated = mul_div(st.isolated, value, st.total)?;
        let shared_stake = sub(value, isolated)?;
        let limit = sub(st.total, st.isolated)? * u(30_000) / u(BPS);
        let shared = mul_div(st.shared.min(limit), value, st.total)?;
        let ratio = if shared_stake.is_zero() {
            if shared.is_zero() {
                U256::ZERO
            } else {
                U256::MAX
            }
        } else {
            shared * wad() / shared_stake
        };
        let (guard, _, _) = self.guard_state(&st)?;
        Ok([value, isolated, shared_stake, ratio, guard])
    }

    /// `slashableBacking(avs, pool)`.
    pub fn backing(&self, avs: usize, id: usize) -> Result<U256, Rev> {
        self.slashable_backing(avs, id)
    }

    /// Whether the request filed under `label` was executed (in full: a cut request stays pending for the rest).
    pub fn request_executed(&self, label: &str) -> bool {
        self.request_ids
            .get(label)
            .and_then(|&rid| self.requests.get(rid as usize - 1))
            .is_some_and(|r| r.status == Status::Executed)
    }

    /// When a still-pending request (by label) becomes executable.
    pub fn executable_at(&self, label: &str) -> Option<u64> {
        let rid = *self.request_ids.get(label)?;
        let r = self.requests.get(rid as usize - 1)?;
        (r.status == Status::Pending).then_some(r.executable_at)
    }

    /// `getAllocation`: [current, pending, effectAt, mode, epoch, riskWeightTenths].
    pub fn allocation_view(&self, avs: usize, id: usize) -> [U256; 6] {
        let (st, _, mut a) = self.view_alloc(id, avs);
        if a.epoch != st.epoch {
            return [
                U256::ZERO,
                U256::ZERO,
                U256::ZERO,
                U256::ZERO,
                U256::from(st.epoch),
                U256::ZERO,
            ];
        }
        if a.effect_at != 0 && self.now >= a.effect_at {
            a.current = a.pending;
            a.effect_at = 0;
        }
        [
            a.current,
            a.pending,
            U256::from(a.effect_at),
            U256::from(a.mode),
            U256::from(a.epoch),
            U256::from(a.rw),
        ]
    }

    /// `getPoolState(pool).sharedWeight`: the risk-weighted sum of the committed shared limits.
    pub fn shared_weight_sum(&self, id: usize) -> U256 {
        self.view_pool(id).0.shared
    }

    /// The standing the manager prices with (1× for every AVS under `Mutation::UnweightedReuse`).
    fn standing_now(&self, avs: usize) -> (u8, bool) {
        let (risk_weight, bond_short) = self.standing[avs];
        match self.mutation {
            Mutation::UnweightedReuse => (10, bond_short),
            _ => (risk_weight, bond_short),
        }
    }

    /// `getAVS(avs).requestsVetoableUntil`.
    pub fn vetoable_until(&self, avs: usize) -> u64 {
        self.vetoable_until[avs]
    }

    /// `committedBacking(avs, pool)`: the larger of the allocation in effect and its pending change (a matured
    /// change in effect) at the pool's value, rounded up, whatever the reuse cap; nothing once the operator is no
    /// longer slashable for the AVS (opted out past the deallocation delay): what a standing measures.
    pub(super) fn committed_backing(&self, avs: usize, id: usize) -> Result<U256, Rev> {
        let (st, operator, a) = self.view_alloc(id, avs);
        if a.epoch != st.epoch || !self.is_slashable(avs, operator) {
            return Ok(U256::ZERO);
        }
        let matured = a.effect_at != 0 && self.now >= a.effect_at;
        let weight = if matured || a.pending > a.current {
            a.pending
        } else {
            a.current
        };
        mul_div_ceil(weight, self.slashable_assets(id)?, st.total)
    }

    /// `getAVS(avs)`: (riskWeightTenths, bondShort), the standing last pushed.
    pub fn standing(&self, avs: usize) -> (u8, bool) {
        self.standing[avs]
    }

    /// `avsBacking(avs).total`: the AVS's slashable backing summed over every pool.
    pub fn avs_total(&self, avs: usize) -> Result<U256, Rev> {
        let mut total = U256::ZERO;
        for id in 1..=self.pools.len() {
            let (st, _, a) = self.view_alloc(id, avs);
            if a.epoch != st.epoch
                || a.mode == mode::NONE
                || (a.current.is_zero() && a.pending.is_zero())
            {
                continue;
            }
            total += self.slashable_backing(avs, id)?;
        }
        Ok(total)
    }

    /// Whether `avs` has (or had) an allocation record in vault pool `id`.
    pub fn has_allocation(&self, id: usize, avs: usize) -> bool {
        self.allocs.contains_key(&(id, avs))
    }
}

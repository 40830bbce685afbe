//! Mirrors `contracts/RewardRail.sol` and the hooks `StakeVault` sends it: a reward-per-share accumulator per pool
//! (`acc`, scaled by 10³⁶, from `ACC_ORIGIN`), each holder's snapshot and what it is owed, each queued withdrawal's
//! escrow earnings (from its queueing to its settlement batch, its early exit or its generation's end), the
//! operator's commission with its delay and the payer's cap, and the dust each payment leaves.
//!
//! Written from the contract's rules, integer for integer: the increment, each span's earnings and the commission
//! round down; a zero snapshot (or start, or end) reads as the origin. The vault side calls the hooks
//! ([`Model::on_position_change`] and the others) at the same points and in the same order as the contract.

use std::collections::BTreeMap;

use alloy::primitives::U256;
use bulkhead_contracts::{MockERC20, RewardRail, StakeVault};
use bulkhead_evm::ErrorKind;

use super::{
    Holder, Model, Mutation, Ret, Rev,
    maths::{PANIC, mul_div, mul_div_ceil, sub, u},
};
use crate::spec::{Spec, Step};

/// `MAX_COMMISSION_BPS`: an operator takes at most half of a payment.
pub const MAX_COMMISSION_BPS: u16 = 5_000;
/// `DEFAULT_COMMISSION_BPS`: the commission until the operator sets one.
pub const DEFAULT_COMMISSION_BPS: u16 = 1_000;
/// `COMMISSION_DELAY`: a commission change takes effect this long after it is made (seconds).
pub const COMMISSION_DELAY: u64 = 7 * 86_400;
/// The fields of `poolRewards(pool)`, in [`Model::rewards_view`]'s order (`token` as an asset index; 3 = none).
pub const REWARD_FIELDS: [&str; 7] = [
    "on",
    "token",
    "generation",
    "acc",
    "paidToStakers",
    "commissionPaid",
    "dust",
];
const BPS: u64 = 10_000;

/// `SCALE`: 10³⁶.
fn scale() -> U256 {
    U256::from(10u64).pow(U256::from(36u64))
}

/// `_origin`: a stored zero reads as `ACC_ORIGIN` (1).
fn origin(acc: U256) -> U256 {
    if acc.is_zero() { u(1) } else { acc }
}

/// A pool's books: `RailPool`.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct RailPool {
    pub(super) on: bool,
    /// The reward token (asset index), once rewards are on.
    token: Option<usize>,
    generation: u32,
    pub(super) acc: U256,
    bps: u16,
    next_bps: u16,
    next_at: u64,
    commission_set: bool,
    paid_to_stakers: U256,
    commission_paid: U256,
    dust: U256,
}

/// A holder's books in one pool: `Earner`.
#[derive(Debug, Clone, Copy, Default)]
struct Earner {
    snapshot: U256,
    owed: U256,
}

/// `RewardRail`'s storage, and two counts per token for the conservation bound.
#[derive(Debug, Clone, Default)]
pub(super) struct Rail {
    pools: BTreeMap<usize, RailPool>,
    earners: BTreeMap<(usize, Holder), Earner>,
    /// `_batchAcc`: (pool, batch) → `acc` when the batch settled.
    batch_acc: BTreeMap<(usize, usize), U256>,
    /// `_generationEndAcc`: (pool, generation) → `acc` when a full slash ended it.
    generation_end_acc: BTreeMap<(usize, u32), U256>,
    /// `_escrowFrom`, `_escrowLeftAt` by withdrawal id.
    escrow_from: BTreeMap<U256, U256>,
    escrow_left_at: BTreeMap<U256, U256>,
    /// `_commissionOwed`: (operator, token) → owed.
    commission_owed: BTreeMap<(usize, usize), U256>,
    /// Payments that went through, per token.
    payments: BTreeMap<usize, u64>,
    /// Spans priced (each rounds down by less than one unit) and paid or owed since, per token.
    spans: BTreeMap<usize, u64>,
    /// Hooks the vault sent, as [`HOOKS`] names them.
    hooks: [u64; 5],
}

/// The vault's hooks, in the order [`Model::rail_hooks`] counts them.
pub const HOOKS: [&str; 5] = [
    "onPositionChange",
    "onQueued",
    "onSettled",
    "onEscrowLeft",
    "onGenerationEnded",
];

/// What the rail holds of one token, split the way the conservation check reads it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RailBooks {
    /// The rail's token balance.
    pub balance: U256,
    /// Σ `claimable` over every holder of every pool paid in the token.
    pub claimable: U256,
    /// Σ `claimableEscrow` over every queued withdrawal of those pools.
    pub escrow: U256,
    /// Σ `commissionOwed` over every operator.
    pub commission: U256,
    /// Σ `poolRewards(pool).dust` over those pools.
    pub dust: U256,
    /// Payments that went through.
    pub payments: u64,
    /// Spans priced so far (paid or owed, and those the claimable sums above price).
    pub spans: u64,
}

impl RailBooks {
    /// What the rail holds beyond every claim: `balance − claimable − escrow − commission` (`None` if it holds less).
    pub fn residue(&self) -> Option<U256> {
        self.balance
            .checked_sub(self.claimable)?
            .checked_sub(self.escrow)?
            .checked_sub(self.commission)
    }

    /// Where the books break the rail's promises, if they do: every claim covered (solvency), and what is left over
    /// within rounding of the dust the payments recorded, `Σdust − payments ≤ residue ≤ Σdust + spans` (each payment's
    /// increment rounds down by less than one unit at the pool level; each priced span by less than one unit).
    pub fn violation(&self) -> Option<String> {
        let Some(residue) = self.residue() else {
            return Some(format!(
                "the rail holds {} but owes {} (claimable {}, escrow {}, commission {})",
                self.balance,
                self.claimable + self.escrow + self.commission,
                self.claimable,
                self.escrow,
                self.commission
            ));
        };
        if residue + U256::from(self.payments) < self.dust {
            return Some(format!(
                "the rail keeps {residue} beyond every claim, less than the dust {} of its {} payments",
                self.dust, self.payments
            ));
        }
        if residue > self.dust + U256::from(self.spans) {
            return Some(format!(
                "the rail keeps {residue} beyond every claim, more than the dust {} plus one unit for each of {} \
                 spans priced",
                self.dust, self.spans
            ));
        }
        None
    }
}

impl Rail {
    fn pool(&self, id: usize) -> RailPool {
        self.pools.get(&id).copied().unwrap_or_default()
    }
}

/// Who sends an operator-only rail call: the pool's operator, or someone else.
fn is_operator(spec: &Spec, by: &str, operator: usize) -> bool {
    spec.operators.get(operator).is_some_and(|o| o == by)
}

impl Model {
    // ------------------------------------------------------------------ steps

    /// A reward-rail step, sent as the stress runner sends it (`Step::EnableRewards` and the others).
    pub(super) fn payment_step(
        &mut self,
        spec: &Spec,
        step: &Step,
    ) -> Result<Result<Ret, Rev>, super::Invalid> {
        let staker = |name: &str| {
            spec.staker(name)
                .ok_or_else(|| super::Invalid(format!("unknown staker {name}")))
        };
        let known = |name: &str| {
            if spec.staker(name).is_some() || spec.operator(name).is_some() {
                Ok(())
            } else {
                Err(super::Invalid(format!(
                    "{name} is neither a staker nor an operator"
                )))
            }
        };
        let none = |r: Result<(), Rev>| r.map(|()| Ret::None);
        Ok(match step {
            Step::EnableRewards { pool, by } => {
                known(by)?;
                let id = self.require_pool(spec, *pool)?;
                let op = is_operator(spec, by, self.pools[id - 1].operator);
                none(self.tx(|m| m.enable_rewards(id, op)))
            }
            Step::SetCommission { pool, bps, by } => {
                known(by)?;
                let id = self.require_pool(spec, *pool)?;
                let op = is_operator(spec, by, self.pools[id - 1].operator);
                none(self.tx(|m| m.set_commission(id, op, *bps)))
            }
            Step::Pay {
                pool,
                amount,
                max_commission_bps,
            } => {
                let id = self.require_pool(spec, *pool)?;
                // The runner mints and approves first: transactions that stay even if the payment reverts.
                let token = self.pool_token(id);
                *self.balances.entry((Holder::Payer, token)).or_default() += *amount;
                self.tx(|m| m.pay(id, *amount, *max_commission_bps))
                    .map(|(to_stakers, commission)| Ret::Paid(to_stakers, commission))
            }
            Step::ClaimRewards { staker: s, pool } => {
                let s = staker(s)?;
                let id = self.require_pool(spec, *pool)?;
                self.tx(|m| m.claim_rewards(id, Holder::Staker(s)))
                    .map(Ret::Reward)
            }
            Step::ClaimEscrowRewards {
                staker: s,
                withdrawal,
            } => {
                let s = staker(s)?;
                let Some((_, wid)) = self.withdrawal(withdrawal) else {
                    return Err(super::Invalid(format!(
                        "withdrawal {withdrawal} was not queued"
                    )));
                };
                self.tx(|m| m.claim_escrow(wid, s)).map(Ret::Reward)
            }
            Step::ClaimCommission { operator, asset } => {
                let o = spec
                    .operator(operator)
                    .ok_or_else(|| super::Invalid(format!("unknown operator {operator}")))?;
                if *asset >= 3 {
                    return Err(super::Invalid(format!("unknown asset {asset}")));
                }
                self.tx(|m| m.claim_commission(o, *asset)).map(Ret::Reward)
            }
            _ => {
                return Err(super::Invalid(format!("not a reward-rail step: {step:?}")));
            }
        })
    }

    /// `enableRewards(pool)`: by the pool's operator; the vault's flag, once.
    fn enable_rewards(&mut self, id: usize, by_operator: bool) -> Result<(), Rev> {
        if !by_operator {
            return Err(ErrorKind::of::<RewardRail::NotPoolOperator>());
        }
        // `StakeVault.enableRewards`.
        let p = &mut self.pools[id - 1];
        if p.earns {
            return Err(ErrorKind::of::<StakeVault::RewardsAlreadyOn>());
        }
        p.earns = true;
        let generation = p.generation;
        let token = self.pool_token(id);
        let rp = self.rail.pools.entry(id).or_default();
        rp.generation = generation;
        rp.token = Some(token);
        rp.on = true;
        rp.acc = u(1);
        Ok(())
    }

    /// `_commissionNow`.
    fn commission_now(&self, rp: &RailPool) -> u16 {
        if rp.next_at != 0 && self.now >= rp.next_at {
            return rp.next_bps;
        }
        if rp.commission_set {
            rp.bps
        } else {
            DEFAULT_COMMISSION_BPS
        }
    }

    /// `setCommission(pool, bps)`: in effect after the delay; what is in effect now stays until then.
    fn set_commission(&mut self, id: usize, by_operator: bool, bps: u16) -> Result<(), Rev> {
        if !by_operator {
            return Err(ErrorKind::of::<RewardRail::NotPoolOperator>());
        }
        if bps > MAX_COMMISSION_BPS {
            return Err(ErrorKind::of::<RewardRail::CommissionTooHigh>());
        }
        let now_bps = self.commission_now(&self.rail.pool(id));
        let at = match self.mutation {
            Mutation::ImmediateCommission => self.now,
            _ => self.now + COMMISSION_DELAY,
        };
        let rp = self.rail.pools.entry(id).or_default();
        rp.bps = now_bps;
        rp.commission_set = true;
        rp.next_bps = bps;
        rp.next_at = at;
        Ok(())
    }

    /// `StakeVault.earningShares(pool)`: the pool's shares but those its tiers hold (nothing for an ended tier).
    fn earning_shares(&self, id: usize) -> Result<U256, Rev> {
        if self.tier_ended(id) {
            return Ok(U256::ZERO);
        }
        let p = &self.pools[id - 1];
        match self.tier_held.get(&id) {
            Some(_) if self.mutation == Mutation::TierSharesEarn => Ok(p.shares),
            Some(&(held, generation)) if generation == p.generation => sub(p.shares, held),
            _ => Ok(p.shares),
        }
    }

    /// `pay(pool, amount, maxCommissionBps)` by the payer: (toStakers, commission).
    fn pay(&mut self, id: usize, amount: U256, max_bps: u16) -> Result<(U256, U256), Rev> {
        if amount.is_zero() {
            return Err(ErrorKind::of::<RewardRail::ZeroAmount>());
        }
        let rp = self.rail.pool(id);
        if !rp.on {
            return Err(ErrorKind::of::<RewardRail::RewardsOff>());
        }
        let bps = self.commission_now(&rp).min(max_bps);
        // Matured withdrawals leave (and a tier whose base ended is reset) before the payment is shared.
        self.vault_settle(id)?;
        let supply = self.earning_shares(id)?;
        if supply.is_zero() {
            return Err(ErrorKind::of::<RewardRail::NoEarningShares>());
        }
        let commission = amount.checked_mul(u(u64::from(bps))).ok_or(PANIC)? / u(BPS);
        let to_stakers = amount - commission;
        let acc_delta = mul_div(to_stakers, scale(), supply)?;
        if acc_delta.is_zero() {
            return Err(ErrorKind::of::<RewardRail::PaymentTooSmall>());
        }
        let dust = sub(to_stakers, mul_div(acc_delta, supply, scale())?)?;
        let token = rp.token.ok_or(PANIC)?;
        let rp = self.rail.pools.entry(id).or_default();
        rp.acc = rp.acc.checked_add(acc_delta).ok_or(PANIC)?;
        rp.paid_to_stakers += to_stakers;
        rp.commission_paid += commission;
        rp.dust += dust;
        if !commission.is_zero() {
            let operator = self.pools[id - 1].operator;
            *self
                .rail
                .commission_owed
                .entry((operator, token))
                .or_default() += commission;
        }
        *self.rail.payments.entry(token).or_default() += 1;
        // `ExactPull`: the payer's tokens into the rail.
        self.transfer(Holder::Payer, Holder::Rail, token, amount)?;
        Ok((to_stakers, commission))
    }

    /// An ERC-20 transfer between two holders (`ERC20InsufficientBalance` if the sender lacks it).
    fn transfer(
        &mut self,
        from: Holder,
        to: Holder,
        token: usize,
        amount: U256,
    ) -> Result<(), Rev> {
        let balance = self.balances.entry((from, token)).or_default();
        if *balance < amount {
            return Err(ErrorKind::of::<MockERC20::ERC20InsufficientBalance>());
        }
        *balance -= amount;
        *self.balances.entry((to, token)).or_default() += amount;
        Ok(())
    }

    /// `_earned`: `shares` of `generation` held since `snapshot`, up to now or their generation's end; and whether a
    /// span was priced (rounded down).
    fn earned(
        &self,
        id: usize,
        snapshot: U256,
        shares: U256,
        generation: u32,
    ) -> Result<(U256, bool), Rev> {
        if shares.is_zero() {
            return Ok((U256::ZERO, false));
        }
        let rp = self.rail.pool(id);
        let up_to = if generation == rp.generation {
            rp.acc
        } else {
            origin(
                self.rail
                    .generation_end_acc
                    .get(&(id, generation))
                    .copied()
                    .unwrap_or_default(),
            )
        };
        let snapshot = origin(snapshot);
        if up_to > snapshot {
            let earned = match self.mutation {
                Mutation::CeilRewards => mul_div_ceil(shares, up_to - snapshot, scale())?,
                _ => mul_div(shares, up_to - snapshot, scale())?,
            };
            Ok((earned, true))
        } else {
            Ok((U256::ZERO, false))
        }
    }

    /// Counts a priced span in the pool's token.
    fn count_span(&mut self, id: usize) {
        if let Some(token) = self.rail.pool(id).token {
            *self.rail.spans.entry(token).or_default() += 1;
        }
    }

    /// `_accrue`: prices the holder's span at the shares it held and moves its snapshot to now.
    fn accrue(
        &mut self,
        id: usize,
        holder: Holder,
        shares: U256,
        generation: u32,
    ) -> Result<U256, Rev> {
        let acc = self.rail.pool(id).acc;
        let e = self
            .rail
            .earners
            .get(&(id, holder))
            .copied()
            .unwrap_or_default();
        let (earned, priced) = self.earned(id, e.snapshot, shares, generation)?;
        if priced {
            self.count_span(id);
        }
        let e = self.rail.earners.entry((id, holder)).or_default();
        e.owed = e.owed.checked_add(earned).ok_or(PANIC)?;
        e.snapshot = acc;
        Ok(acc)
    }

    /// The raw position `positionOf` returns: (shares, generation).
    fn raw_position(&self, id: usize, holder: Holder) -> (U256, u32) {
        self.positions
            .get(&(id, holder))
            .map_or((U256::ZERO, 0), |p| (p.shares, p.generation))
    }

    /// `claim(pool, receiver)` by a holder, paid to itself.
    fn claim_rewards(&mut self, id: usize, holder: Holder) -> Result<U256, Rev> {
        let rp = self.rail.pool(id);
        if !rp.on {
            return Err(ErrorKind::of::<RewardRail::RewardsOff>());
        }
        let (amount, priced) = self.claimable_priced(id, holder)?;
        if amount.is_zero() {
            return Err(ErrorKind::of::<RewardRail::NothingToClaim>());
        }
        if priced {
            self.count_span(id);
        }
        let e = self.rail.earners.entry((id, holder)).or_default();
        e.snapshot = rp.acc;
        e.owed = U256::ZERO;
        self.transfer(Holder::Rail, holder, rp.token.ok_or(PANIC)?, amount)?;
        Ok(amount)
    }

    /// `_escrowEarned`: a withdrawal's unpaid escrow earnings and the `acc` they run to (its early exit, its
    /// settlement batch, or now), and whether a span was priced.
    fn escrow_earned(&self, wid: U256) -> Result<(U256, U256, bool), Rev> {
        let (id, index) = split(wid);
        let p = &self.pools[id - 1];
        let shares = Self::entry_shares(p, index);
        let mut end = self
            .rail
            .escrow_left_at
            .get(&wid)
            .copied()
            .unwrap_or_default();
        if end.is_zero() {
            // `settlementOf`: settled below the stored count, in the first batch ending above it.
            end = if index < p.settled_count {
                let batch = p.batches.iter().position(|b| b.end > index).ok_or(PANIC)?;
                origin(
                    self.rail
                        .batch_acc
                        .get(&(id, batch))
                        .copied()
                        .unwrap_or_default(),
                )
            } else {
                self.rail.pool(id).acc
            };
        }
        let from = origin(self.rail.escrow_from.get(&wid).copied().unwrap_or_default());
        if end > from && !shares.is_zero() {
            Ok((mul_div(shares, end - from, scale())?, end, true))
        } else {
            Ok((U256::ZERO, end, false))
        }
    }

    /// `claimEscrow(withdrawal, receiver)` by `staker`, paid to itself.
    fn claim_escrow(&mut self, wid: U256, staker: usize) -> Result<U256, Rev> {
        let (id, index) = split(wid);
        // `getWithdrawal`: an unknown one reverts in the vault.
        let Some(p) = id.checked_sub(1).and_then(|i| self.pools.get(i)) else {
            return Err(ErrorKind::of::<StakeVault::UnknownWithdrawal>());
        };
        let Some(e) = p.queue.get(index) else {
            return Err(ErrorKind::of::<StakeVault::UnknownWithdrawal>());
        };
        if e.staker != staker {
            return Err(ErrorKind::of::<RewardRail::NotWithdrawalOwner>());
        }
        let rp = self.rail.pool(id);
        if !rp.on {
            return Err(ErrorKind::of::<RewardRail::RewardsOff>());
        }
        let (amount, end, priced) = self.escrow_earned(wid)?;
        if amount.is_zero() {
            return Err(ErrorKind::of::<RewardRail::NothingToClaim>());
        }
        if priced {
            self.count_span(id);
        }
        self.rail.escrow_from.insert(wid, end);
        self.transfer(
            Holder::Rail,
            Holder::Staker(staker),
            rp.token.ok_or(PANIC)?,
            amount,
        )?;
        Ok(amount)
    }

    /// `claimCommission(token, receiver)` by the operator, paid to itself.
    fn claim_commission(&mut self, operator: usize, token: usize) -> Result<U256, Rev> {
        let amount = self
            .rail
            .commission_owed
            .get(&(operator, token))
            .copied()
            .unwrap_or_default();
        if amount.is_zero() {
            return Err(ErrorKind::of::<RewardRail::NothingToClaim>());
        }
        self.rail
            .commission_owed
            .insert((operator, token), U256::ZERO);
        self.transfer(Holder::Rail, Holder::Operator(operator), token, amount)?;
        Ok(amount)
    }

    // ------------------------------------------------------------------ the vault's hooks (`IRewardHooks`)

    /// `onPositionChange(pool, holder, shares, generation)`: called (for an earning pool) before the position
    /// changes, with its values before.
    pub(super) fn on_position_change(&mut self, id: usize, holder: Holder) -> Result<(), Rev> {
        self.rail.hooks[0] += 1;
        let (shares, generation) = self.raw_position(id, holder);
        self.accrue(id, holder, shares, generation).map(|_| ())
    }

    /// `onQueued(pool, staker, shares, generation, withdrawal)`: the position's span, and the escrow's start.
    pub(super) fn on_queued(&mut self, id: usize, holder: Holder, wid: U256) -> Result<(), Rev> {
        self.rail.hooks[1] += 1;
        let (shares, generation) = self.raw_position(id, holder);
        let acc = self.accrue(id, holder, shares, generation)?;
        self.rail.escrow_from.insert(wid, acc);
        Ok(())
    }

    /// `onSettled(pool, batch)`.
    pub(super) fn on_settled(&mut self, id: usize, batch: usize) {
        self.rail.hooks[2] += 1;
        let acc = self.rail.pool(id).acc;
        self.rail.batch_acc.insert((id, batch), acc);
    }

    /// `onEscrowLeft(withdrawal)`.
    pub(super) fn on_escrow_left(&mut self, wid: U256) {
        self.rail.hooks[3] += 1;
        let (id, _) = split(wid);
        let acc = self.rail.pool(id).acc;
        self.rail.escrow_left_at.insert(wid, acc);
    }

    /// `onGenerationEnded(pool, generation)`.
    pub(super) fn on_generation_ended(&mut self, id: usize, generation: u32) {
        self.rail.hooks[4] += 1;
        let rp = self.rail.pools.entry(id).or_default();
        let acc = rp.acc;
        rp.generation = generation + 1;
        self.rail.generation_end_acc.insert((id, generation), acc);
    }

    // ------------------------------------------------------------------ views the runner checks

    /// How many times the vault sent each hook ([`HOOKS`]) in the transactions that went through.
    pub fn rail_hooks(&self) -> [u64; 5] {
        self.rail.hooks
    }

    /// Whether vault pool `id` earns (its rewards are on).
    pub fn earns(&self, id: usize) -> bool {
        self.rail.pool(id).on
    }

    /// `poolRewards(pool)`, as [`REWARD_FIELDS`].
    pub fn rewards_view(&self, id: usize) -> [U256; 7] {
        let rp = self.rail.pool(id);
        [
            U256::from(u8::from(rp.on)),
            U256::from(rp.token.unwrap_or(3)),
            U256::from(rp.generation),
            rp.acc,
            rp.paid_to_stakers,
            rp.commission_paid,
            rp.dust,
        ]
    }

    /// `commissionOf(pool)`: (bps now, next bps, next at; 0 and 0 when nothing is pending).
    pub fn commission_view(&self, id: usize) -> [U256; 3] {
        let rp = self.rail.pool(id);
        let now = U256::from(self.commission_now(&rp));
        if rp.next_at > self.now {
            [now, U256::from(rp.next_bps), U256::from(rp.next_at)]
        } else {
            [now, U256::ZERO, U256::ZERO]
        }
    }

    /// `claimable(pool, holder)`.
    pub fn claimable(&self, id: usize, holder: Holder) -> Result<U256, Rev> {
        Ok(self.claimable_priced(id, holder)?.0)
    }

    fn claimable_priced(&self, id: usize, holder: Holder) -> Result<(U256, bool), Rev> {
        if !self.rail.pool(id).on {
            return Ok((U256::ZERO, false));
        }
        let (shares, generation) = self.raw_position(id, holder);
        let e = self
            .rail
            .earners
            .get(&(id, holder))
            .copied()
            .unwrap_or_default();
        let (earned, priced) = self.earned(id, e.snapshot, shares, generation)?;
        Ok((e.owed.checked_add(earned).ok_or(PANIC)?, priced))
    }

    /// `claimableEscrow(withdrawal)` of entry `index` of vault pool `id`.
    pub fn claimable_escrow(&self, id: usize, index: usize) -> Result<U256, Rev> {
        Ok(self.claimable_escrow_priced(id, index)?.0)
    }

    fn claimable_escrow_priced(&self, id: usize, index: usize) -> Result<(U256, bool), Rev> {
        if index >= self.pools[id - 1].queue.len() {
            return Err(ErrorKind::of::<StakeVault::UnknownWithdrawal>());
        }
        if !self.rail.pool(id).on {
            return Ok((U256::ZERO, false));
        }
        let (amount, _, priced) = self.escrow_earned(U256::from(id) << 64 | U256::from(index))?;
        Ok((amount, priced))
    }

    /// Whether the vault holds a position of `holder` in pool `id` or the rail has its books there.
    pub fn seen_by_rail(&self, id: usize, holder: Holder) -> bool {
        self.positions.contains_key(&(id, holder)) || self.rail.earners.contains_key(&(id, holder))
    }

    /// Whether entry `index` of vault pool `id` is still in escrow: not settled, not claimed.
    pub fn in_escrow(&self, id: usize, index: usize) -> bool {
        let p = &self.pools[id - 1];
        index >= p.settled_count && p.queue.get(index).is_some_and(|e| !e.claimed)
    }

    /// Entries queued in vault pool `id`.
    pub fn queue_length(&self, id: usize) -> usize {
        self.pools[id - 1].queue.len()
    }

    /// `commissionOwed(operator, token)`.
    pub fn commission_owed(&self, operator: usize, token: usize) -> U256 {
        self.rail
            .commission_owed
            .get(&(operator, token))
            .copied()
            .unwrap_or_default()
    }

    /// The rail's books in `token`: what it holds, everything claimable from it by the spec's stakers, sinks and
    /// withdrawals and its operators, the dust, payments and spans.
    pub fn rail_books(&self, spec: &Spec, token: usize) -> Result<RailBooks, Rev> {
        let mut books = RailBooks {
            balance: self.balance(Holder::Rail, token),
            payments: self.rail.payments.get(&token).copied().unwrap_or_default(),
            spans: self.rail.spans.get(&token).copied().unwrap_or_default(),
            ..RailBooks::default()
        };
        for holder in holders(spec) {
            for id in 1..=self.pools.len() {
                if self.rail.pool(id).token == Some(token) {
                    let (amount, priced) = self.claimable_priced(id, holder)?;
                    books.claimable += amount;
                    books.spans += u64::from(priced);
                }
            }
        }
        for id in 1..=self.pools.len() {
            let rp = self.rail.pool(id);
            if rp.token != Some(token) {
                continue;
            }
            books.dust += rp.dust;
            for index in 0..self.pools[id - 1].queue.len() {
                let (amount, priced) = self.claimable_escrow_priced(id, index)?;
                books.escrow += amount;
                books.spans += u64::from(priced);
            }
        }
        for o in 0..spec.operators.len() {
            books.commission += self.commission_owed(o, token);
        }
        Ok(books)
    }
}

/// Everyone who can hold a position: the stakers, and each AVS's sink (tier slashes pay it base shares), once.
pub fn holders(spec: &Spec) -> Vec<Holder> {
    let mut out: Vec<Holder> = (0..spec.stakers.len()).map(Holder::Staker).collect();
    for avs in 0..spec.avs.len() {
        let sink = spec.sink_of(avs);
        if !out.contains(&sink) {
            out.push(sink);
        }
    }
    out
}

/// A withdrawal id's (vault pool id, queue index).
fn split(wid: U256) -> (usize, usize) {
    let id: usize = (wid >> 64usize).saturating_to();
    let index: usize = (wid & U256::from(u64::MAX)).saturating_to();
    (id, index)
}

#[cfg(test)]
mod tests {
    use super::RailBooks;
    use alloy::primitives::U256;

    fn books(balance: u64, claimable: u64, dust: u64, payments: u64, spans: u64) -> RailBooks {
        RailBooks {
            balance: U256::from(balance),
            claimable: U256::from(claimable),
            escrow: U256::from(3u64),
            commission: U256::from(7u64),
            dust: U256::from(dust),
            payments,
            spans,
        }
    }

    #[test]
    fn the_conservation_bound() {
        // One holder of 3 shares, two payments of 1 unit and no commission: each payment's increment ⌊10³⁶/3⌋ leaves
        // a dust of 1, yet the holder's one span priced over both is ⌊1.99…⌋ = 1: the rail keeps 1 beyond the claim.
        let two_payments = RailBooks {
            balance: U256::from(2u64),
            claimable: U256::from(1u64),
            dust: U256::from(2u64),
            payments: 2,
            spans: 1,
            ..RailBooks::default()
        };
        assert_eq!(two_payments.residue(), Some(U256::from(1u64)));
        assert_eq!(two_payments.violation(), None);
        // 100 held, 60 + 3 + 7 owed: 30 left over, within [40 − 12, 40 + 5].
        assert_eq!(books(100, 60, 40, 12, 5).violation(), None);
        // Owing more than it holds.
        assert!(
            books(100, 95, 0, 0, 0)
                .violation()
                .unwrap()
                .contains("owes 105")
        );
        // Less left over than the recorded dust allows (a claim over-credited), or more (a claim lost).
        assert!(books(100, 60, 43, 12, 5).violation().is_some());
        assert!(books(100, 60, 24, 12, 5).violation().is_some());
        assert_eq!(books(100, 60, 25, 12, 5).violation(), None);
    }
}

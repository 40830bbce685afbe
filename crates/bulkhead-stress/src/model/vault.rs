//! Mirrors `contracts/StakeVault.sol`: pools and shares (virtual-unit price, rounding, the price floor, the
//! generation reset on a full slash), the FIFO escrow queue and its lazy settlement into batches, slashes of token
//! pools and of tiers (paid in base shares), and the vault's views.

use alloy::primitives::U256;
use bulkhead_contracts::{MockERC20, StakeVault};
use bulkhead_evm::ErrorKind;

use super::{
    Batch, Entry, Holder, Model, Rev, VPool,
    maths::{PANIC, ceil_div, mul_div, mul_div_ceil, sub, u, u128_max, wad},
};

/// A tier's collateral key: `TIER + base pool id` (the vault's `tierAsset(base)`).
pub(super) const TIER: usize = 1_000;
/// `PRICE_FLOOR`: a partial slash leaves at least ⌈shares / PRICE_FLOOR⌉ of the collateral.
const PRICE_FLOOR: u64 = 100_000_000;

impl Model {
    fn to_assets(p: &VPool, shares: U256) -> Result<U256, Rev> {
        mul_div(shares, p.assets + u(1), p.shares + u(1))
    }

    fn floor_cut(amount: U256, available: U256, shares: U256) -> U256 {
        if amount >= available {
            return amount;
        }
        let keep = ceil_div(shares, u(PRICE_FLOOR));
        if available - amount >= keep {
            return amount;
        }
        if available > keep {
            available - keep
        } else {
            U256::ZERO
        }
    }

    pub(super) fn deposit(
        &mut self,
        staker: usize,
        operator: usize,
        asset: usize,
        amount: U256,
    ) -> Result<U256, Rev> {
        if amount.is_zero() {
            return Err(ErrorKind::of::<StakeVault::ZeroAmount>());
        }
        let tracked = self.tracked.get(&asset).copied().unwrap_or_default();
        let id = match self.pool_of.get(&(operator, asset)) {
            Some(&id) => id,
            None => {
                self.pools.push(VPool::new(operator, asset, None));
                let id = self.pools.len();
                self.pool_of.insert((operator, asset), id);
                id
            }
        };
        let shares = self.mint(id, staker, amount)?;
        let new_tracked = tracked + amount;
        if new_tracked > u128_max() {
            return Err(ErrorKind::of::<StakeVault::AmountTooLarge>());
        }
        self.tracked.insert(asset, new_tracked);
        let balance = self
            .balances
            .entry((Holder::Staker(staker), asset))
            .or_default();
        if *balance < amount {
            return Err(ErrorKind::of::<MockERC20::ERC20InsufficientBalance>());
        }
        *balance -= amount;
        Ok(shares)
    }

    fn mint(&mut self, id: usize, staker: usize, assets: U256) -> Result<U256, Rev> {
        // `MIN_DEPOSIT_PRICE_INVERSE`: a pool slashed below 1e-6 of its price takes no new stake.
        let p = &self.pools[id - 1];
        if p.shares > p.assets * u(1_000_000) {
            return Err(ErrorKind::of::<StakeVault::PoolPriceTooLow>());
        }
        let shares = self.add_at_price(id, assets)?;
        let generation = self.pools[id - 1].generation;
        self.credit(id, Holder::Staker(staker), generation, shares)?;
        Ok(shares)
    }

    /// `_addAtPrice`: `assets` into the pool at its price, the shares rounded down (a deposit's shares, a penalty's
    /// base shares for a tier).
    pub(super) fn add_at_price(&mut self, id: usize, assets: U256) -> Result<U256, Rev> {
        let p = &mut self.pools[id - 1];
        let shares = mul_div(assets, p.shares + u(1), p.assets + u(1))?;
        if shares.is_zero() {
            return Err(ErrorKind::of::<StakeVault::DepositTooSmall>());
        }
        // `MAX_POOL_AMOUNT`: type(uint128).max − 1.
        let (a, s) = (p.assets + assets, p.shares + shares);
        if a > u128_max() - u(1) || s > u128_max() - u(1) {
            return Err(ErrorKind::of::<StakeVault::AmountTooLarge>());
        }
        p.assets = a;
        p.shares = s;
        Ok(shares)
    }

    pub(super) fn queue_withdrawal(
        &mut self,
        staker: usize,
        id: usize,
        shares: U256,
    ) -> Result<U256, Rev> {
        if shares.is_zero() {
            return Err(ErrorKind::of::<StakeVault::ZeroAmount>());
        }
        let delay = self.params.escrow_delay;
        let now = self.now;
        let holder = Holder::Staker(staker);
        let pos = self
            .positions
            .get(&(id, holder))
            .copied()
            .unwrap_or_default();
        let held = pos.shares;
        if held < shares {
            return Err(ErrorKind::of::<StakeVault::InsufficientShares>());
        }
        let live = pos.generation == self.pools[id - 1].generation;
        let index = self.pools[id - 1].queue.len();
        let wid = U256::from(id) << 64 | U256::from(index);
        if self.pools[id - 1].earns {
            self.on_queued(id, holder, wid)?;
        }
        self.positions.entry((id, holder)).or_default().shares = held - shares;
        let p = &mut self.pools[id - 1];
        let mut cum = p.queue.last().map_or(U256::ZERO, |e| e.cum);
        if live {
            cum += shares;
        }
        p.queue.push(Entry {
            maturity: now + delay,
            claimed: false,
            cum,
            staker,
        });
        Ok(wid)
    }

    pub(super) fn entry_shares(p: &VPool, index: usize) -> U256 {
        let prev = if index == 0 {
            U256::ZERO
        } else {
            p.queue[index - 1].cum
        };
        p.queue[index].cum - prev
    }

    fn batch_value(p: &VPool, index: usize, shares: U256) -> Result<U256, Rev> {
        if shares.is_zero() {
            return Ok(U256::ZERO);
        }
        let b = p.batches.iter().find(|b| b.end > index).ok_or(PANIC)?;
        mul_div(shares, b.price_assets, b.price_shares)
    }

    pub(super) fn complete_withdrawal(&mut self, staker: usize, wid: U256) -> Result<U256, Rev> {
        let id: usize = (wid >> 64usize).to::<usize>();
        let index: usize = (wid & U256::from(u64::MAX)).to();
        let now = self.now;
        let p = self
            .pools
            .get_mut(id - 1)
            .ok_or(ErrorKind::of::<StakeVault::UnknownWithdrawal>())?;
        if index >= p.queue.len() {
            return Err(ErrorKind::of::<StakeVault::UnknownWithdrawal>());
        }
        let e = &p.queue[index];
        if e.staker != staker {
            return Err(ErrorKind::of::<StakeVault::NotWithdrawalOwner>());
        }
        if e.claimed {
            return Err(ErrorKind::of::<StakeVault::AlreadyClaimed>());
        }
        if now < e.maturity {
            return Err(ErrorKind::of::<StakeVault::NotMatured>());
        }
        p.queue[index].claimed = true;
        let shares = Self::entry_shares(&self.pools[id - 1], index);
        if self.pools[id - 1].base.is_some() {
            self.sync_tier(id);
            if index < self.tier_dead_below.get(&id).copied().unwrap_or(0) {
                return Ok(U256::ZERO);
            }
        }
        let p = &mut self.pools[id - 1];
        let assets;
        if index < p.settled_count {
            assets = Self::batch_value(p, index, shares)?;
            p.reserve = sub(p.reserve, assets)?;
        } else {
            assets = Self::to_assets(p, shares)?;
            p.assets = sub(p.assets, assets)?;
            p.shares = sub(p.shares, shares)?;
            p.early_claimed += shares;
            if p.earns {
                self.on_escrow_left(wid);
            }
        }
        if assets.is_zero() {
            return Ok(U256::ZERO);
        }
        let p = &self.pools[id - 1];
        if let Some(base) = p.base {
            // A tier pays base shares into the receiver's base position.
            self.tier_held_change(base, assets, false)?;
            let generation = self.pools[base - 1].generation;
            self.credit(base, Holder::Staker(staker), generation, assets)?;
            return Ok(assets);
        }
        let asset = p.asset;
        let tracked = self.tracked.entry(asset).or_default();
        *tracked = sub(*tracked, assets)?;
        *self
            .balances
            .entry((Holder::Staker(staker), asset))
            .or_default() += assets;
        Ok(assets)
    }

    /// `_credit`: adds shares to a position in the pool's current generation (an ended one restarts at zero).
    fn credit(
        &mut self,
        id: usize,
        holder: Holder,
        generation: u32,
        shares: U256,
    ) -> Result<(), Rev> {
        if self.pools[id - 1].earns {
            self.on_position_change(id, holder)?;
        }
        let pos = self.positions.entry((id, holder)).or_default();
        let held = if pos.generation == generation {
            pos.shares
        } else {
            U256::ZERO
        };
        if held + shares > u128_max() {
            return Err(ErrorKind::of::<StakeVault::AmountTooLarge>());
        }
        pos.shares = held + shares;
        pos.generation = generation;
        Ok(())
    }

    /// `_tierEnded`: a tier whose base was fully slashed since it last synced.
    pub(super) fn tier_ended(&self, id: usize) -> bool {
        match self.pools[id - 1].base {
            None => false,
            Some(base) => {
                self.tier_base_generation.get(&id).copied().unwrap_or(0)
                    != self.pools[base - 1].generation
            }
        }
    }

    /// `_syncTier`: a tier whose base generation ended is reset.
    pub(super) fn sync_tier(&mut self, id: usize) {
        let base = self.pools[id - 1].base.expect("a tier");
        let base_generation = self.pools[base - 1].generation;
        if self.tier_base_generation.get(&id).copied().unwrap_or(0) == base_generation {
            return;
        }
        self.tier_base_generation.insert(id, base_generation);
        let p = &mut self.pools[id - 1];
        self.tier_dead_below.insert(id, p.queue.len());
        p.assets = U256::ZERO;
        p.reserve = U256::ZERO;
        self.reset(id);
    }

    /// `_tierHeldChange`: base shares entering (`add`) or leaving the base's tiers; a count of an ended base
    /// generation is void.
    pub(super) fn tier_held_change(
        &mut self,
        base: usize,
        shares: U256,
        add: bool,
    ) -> Result<(), Rev> {
        let generation = self.pools[base - 1].generation;
        let count = match self.tier_held.get(&base) {
            Some(&(held, g)) if g == generation => held,
            _ => U256::ZERO,
        };
        let held = if add {
            count + shares
        } else {
            sub(count, shares)?
        };
        self.tier_held.insert(base, (held, generation));
        Ok(())
    }

    /// `StakeVault.settle(pool)` (the rail's call before a payment): a tier whose base ended is reset, then the
    /// matured prefix of the queue settles.
    pub(super) fn vault_settle(&mut self, id: usize) -> Result<(), Rev> {
        if self.pools[id - 1].base.is_some() {
            self.sync_tier(id);
        }
        self.settle_pool(id)
    }

    pub(super) fn deposit_to_tier(
        &mut self,
        staker: usize,
        base: usize,
        operator: usize,
        base_shares: U256,
    ) -> Result<U256, Rev> {
        if base_shares.is_zero() {
            return Err(ErrorKind::of::<StakeVault::ZeroAmount>());
        }
        if !self.tier_allowed.contains(&base) {
            return Err(ErrorKind::of::<StakeVault::TierNotAllowed>());
        }
        let generation = self.pools[base - 1].generation;
        let pos = self
            .positions
            .entry((base, Holder::Staker(staker)))
            .or_default();
        let held = if pos.generation == generation {
            pos.shares
        } else {
            U256::ZERO
        };
        if held < base_shares {
            return Err(ErrorKind::of::<StakeVault::InsufficientShares>());
        }
        if self.pools[base - 1].earns {
            self.on_position_change(base, Holder::Staker(staker))?;
        }
        let pos = self
            .positions
            .entry((base, Holder::Staker(staker)))
            .or_default();
        pos.shares = held - base_shares;
        // `_tierPool`: created at the base's generation, or synced.
        let id = match self.pool_of.get(&(operator, TIER + base)) {
            Some(&id) => {
                self.sync_tier(id);
                id
            }
            None => {
                self.pools
                    .push(VPool::new(operator, TIER + base, Some(base)));
                let id = self.pools.len();
                self.pool_of.insert((operator, TIER + base), id);
                self.tier_base_generation.insert(id, generation);
                id
            }
        };
        let shares = self.mint(id, staker, base_shares)?;
        self.tier_held_change(base, base_shares, true)?;
        Ok(shares)
    }

    /// `_tierCut`: the base shares paying a tier slash of `amount`, rounded down (against the AVS; all of them for
    /// the tier's whole value), within the tier's price floor (a cut payment valued rounded up).
    fn tier_cut(
        base: &VPool,
        held: U256,
        tier_shares: U256,
        amount: U256,
    ) -> Result<(U256, U256), Rev> {
        let pa = base.assets + u(1);
        let ps = base.shares + u(1);
        if amount >= mul_div(held, pa, ps)? {
            return Ok((amount, held));
        }
        let mut base_shares = mul_div(amount, ps, pa)?;
        if base_shares.is_zero() {
            return Ok((U256::ZERO, U256::ZERO));
        }
        let mut slashed = amount;
        let keep = ceil_div(tier_shares, u(PRICE_FLOOR));
        if base_shares < held && held - base_shares < keep {
            base_shares = if held > keep { held - keep } else { U256::ZERO };
            slashed = mul_div_ceil(base_shares, pa, ps)?;
        }
        Ok((slashed, base_shares))
    }

    fn slash_tier(&mut self, id: usize, amount: U256, sink: Holder) -> Result<U256, Rev> {
        self.sync_tier(id);
        self.settle_pool(id)?;
        let base = self.pools[id - 1].base.expect("a tier");
        let held = self.pools[id - 1].assets;
        let tier_shares = self.pools[id - 1].shares;
        let available = Self::to_assets(&self.pools[base - 1], held)?;
        if amount > available {
            return Err(ErrorKind::of::<StakeVault::SlashExceedsAssets>());
        }
        let (slashed, base_shares) =
            Self::tier_cut(&self.pools[base - 1], held, tier_shares, amount)?;
        if slashed.is_zero() {
            return Ok(U256::ZERO);
        }
        let p = &mut self.pools[id - 1];
        p.assets = held - base_shares;
        if p.assets.is_zero() {
            self.reset(id);
        }
        // Paid in base shares, into the sink's base position: the base pool's totals and price do not move.
        self.tier_held_change(base, base_shares, false)?;
        let generation = self.pools[base - 1].generation;
        self.credit(base, sink, generation, base_shares)?;
        Ok(slashed)
    }

    /// (settledTo, shares, assets) of the matured, unsettled prefix of the queue.
    fn pending_settlement(p: &VPool, now: u64) -> Result<(usize, U256, U256), Rev> {
        let from = p.settled_count;
        let n = p.queue.len();
        if from == n || p.queue[from].maturity > now {
            return Ok((from, U256::ZERO, U256::ZERO));
        }
        let mut lo = from + 1;
        while lo < n && p.queue[lo].maturity <= now {
            lo += 1;
        }
        let cum_from = if from == 0 {
            U256::ZERO
        } else {
            p.queue[from - 1].cum
        };
        let shares = sub(sub(p.queue[lo - 1].cum, cum_from)?, p.early_claimed)?;
        let assets = Self::to_assets(p, shares)?;
        Ok((lo, shares, assets))
    }

    /// `_settle`: the matured prefix of the queue leaves the slashable set, in one batch at the current price.
    pub(super) fn settle_pool(&mut self, id: usize) -> Result<(), Rev> {
        let p = &self.pools[id - 1];
        let (settled_to, shares, assets) = Self::pending_settlement(p, self.now)?;
        if settled_to == p.settled_count {
            return Ok(());
        }
        let (price_assets, price_shares) = (p.assets + u(1), p.shares + u(1));
        self.push_batch(id, settled_to, price_assets, price_shares);
        let p = &mut self.pools[id - 1];
        p.assets = sub(p.assets, assets)?;
        p.shares = sub(p.shares, shares)?;
        p.reserve += assets;
        p.early_claimed = U256::ZERO;
        Ok(())
    }

    /// `_pushBatch`: queue entries below `end` settled at `price_assets / price_shares`.
    fn push_batch(&mut self, id: usize, end: usize, price_assets: U256, price_shares: U256) {
        let p = &mut self.pools[id - 1];
        p.batches.push(Batch {
            price_assets,
            price_shares,
            end,
        });
        p.settled_count = end;
        let batch = p.batches.len() - 1;
        if p.earns {
            self.on_settled(id, batch);
        }
    }

    /// `_reset`: a full slash; what is still in escrow is worth nothing, and so are the outstanding shares.
    fn reset(&mut self, id: usize) {
        let n = self.pools[id - 1].queue.len();
        if n != self.pools[id - 1].settled_count {
            self.push_batch(id, n, U256::ZERO, u(1));
        }
        let p = &mut self.pools[id - 1];
        p.shares = U256::ZERO;
        p.early_claimed = U256::ZERO;
        let generation = p.generation;
        if p.earns {
            self.on_generation_ended(id, generation);
        }
        self.pools[id - 1].generation += 1;
    }

    /// `StakeVault.slashableAssets`.
    pub(super) fn slashable_assets(&self, id: usize) -> Result<U256, Rev> {
        let p = &self.pools[id - 1];
        let (_, _, pending) = Self::pending_settlement(p, self.now)?;
        let assets = sub(p.assets, pending)?;
        match p.base {
            None => Ok(assets),
            Some(_) if self.tier_ended(id) => Ok(U256::ZERO),
            Some(base) => Self::to_assets(&self.pools[base - 1], assets),
        }
    }

    pub(super) fn preview_slash(&self, id: usize, amount: U256) -> Result<U256, Rev> {
        let p = &self.pools[id - 1];
        let (_, pending_shares, pending_assets) = Self::pending_settlement(p, self.now)?;
        let assets = sub(p.assets, pending_assets)?;
        let shares = sub(p.shares, pending_shares)?;
        let Some(base) = p.base else {
            return Ok(if amount > assets {
                U256::ZERO
            } else {
                Self::floor_cut(amount, assets, shares)
            });
        };
        if self.tier_ended(id) {
            return Ok(U256::ZERO);
        }
        let base = &self.pools[base - 1];
        if amount > Self::to_assets(base, assets)? {
            return Ok(U256::ZERO);
        }
        Ok(Self::tier_cut(base, assets, shares, amount)?.0)
    }

    pub(super) fn vault_slash(
        &mut self,
        id: usize,
        amount: U256,
        sink: Holder,
    ) -> Result<U256, Rev> {
        if amount.is_zero() {
            return Err(ErrorKind::of::<StakeVault::ZeroAmount>());
        }
        if self.pools[id - 1].base.is_some() {
            return self.slash_tier(id, amount, sink);
        }
        self.settle_pool(id)?;
        let p = &mut self.pools[id - 1];
        let available = p.assets;
        if amount > available {
            return Err(ErrorKind::of::<StakeVault::SlashExceedsAssets>());
        }
        let slashed = Self::floor_cut(amount, available, p.shares);
        if slashed.is_zero() {
            return Ok(U256::ZERO);
        }
        let remaining = available - slashed;
        p.assets = remaining;
        if remaining.is_zero() {
            self.reset(id);
        }
        let asset = self.pools[id - 1].asset;
        let tracked = self.tracked.entry(asset).or_default();
        *tracked = sub(*tracked, slashed)?;
        *self.balances.entry((sink, asset)).or_default() += slashed;
        Ok(slashed)
    }

    // ------------------------------------------------------------------ views the runner checks

    /// The value of a holder's position (`positionsOf`), zero without one.
    pub fn position(&self, holder: Holder, id: usize) -> Result<U256, Rev> {
        let Some(pos) = self.positions.get(&(id, holder)) else {
            return Ok(U256::ZERO);
        };
        let p = &self.pools[id - 1];
        if pos.generation != p.generation || self.tier_ended(id) {
            return Ok(U256::ZERO);
        }
        let value = Self::to_assets(p, pos.shares)?;
        self.in_base_asset(id, value)
    }

    /// A tier's amounts are base shares: their value in the base asset (`convertToAssets` of the base).
    fn in_base_asset(&self, id: usize, amount: U256) -> Result<U256, Rev> {
        match self.pools[id - 1].base {
            None => Ok(amount),
            Some(base) => Self::to_assets(&self.pools[base - 1], amount),
        }
    }

    /// What a staker's unclaimed withdrawals from a pool would pay now (`withdrawalsOf`).
    pub fn escrow(&self, staker: usize, id: usize) -> Result<U256, Rev> {
        let p = &self.pools[id - 1];
        let ended = self.tier_ended(id);
        let dead_below = self.tier_dead_below.get(&id).copied().unwrap_or(0);
        let mut total = U256::ZERO;
        for (index, e) in p.queue.iter().enumerate() {
            if e.staker != staker || e.claimed || ended || index < dead_below {
                continue;
            }
            let shares = Self::entry_shares(p, index);
            total += if index < p.settled_count {
                Self::batch_value(p, index, shares)?
            } else {
                Self::to_assets(p, shares)?
            };
        }
        self.in_base_asset(id, total)
    }

    /// When a queued withdrawal matures.
    pub fn maturity(&self, wid: U256) -> u64 {
        let id: usize = (wid >> 64usize).to::<usize>();
        let index: usize = (wid & U256::from(u64::MAX)).to();
        self.pools[id - 1].queue[index].maturity
    }

    /// `getPool`: [slashableAssets, totalShares, escrowedShares, reserve, sharePrice, generation, queueLength,
    /// settledCount].
    pub fn pool_view(&self, id: usize) -> Result<[U256; 8], Rev> {
        let p = &self.pools[id - 1];
        let (settled_to, pending_shares, pending_assets) = Self::pending_settlement(p, self.now)?;
        let assets = sub(p.assets, pending_assets)?;
        let shares = sub(p.shares, pending_shares)?;
        let queued = p.queue.last().map_or(U256::ZERO, |e| e.cum);
        let settled_cum = if settled_to == 0 {
            U256::ZERO
        } else {
            p.queue[settled_to - 1].cum
        };
        let n = U256::from(p.queue.len());
        if self.tier_ended(id) {
            // `_asReset`: shown as its next touch will leave it.
            return Ok([
                U256::ZERO,
                U256::ZERO,
                U256::ZERO,
                U256::ZERO,
                wad(),
                U256::from(p.generation + 1),
                n,
                n,
            ]);
        }
        Ok([
            assets,
            shares,
            sub(queued, settled_cum)?,
            p.reserve + pending_assets,
            mul_div(wad(), assets + u(1), shares + u(1))?,
            U256::from(p.generation),
            n,
            U256::from(settled_to),
        ])
    }

    /// Pool generations ended by full slashes (tier resets included).
    pub fn resets(&self) -> u64 {
        self.pools.iter().map(|p| u64::from(p.generation)).sum()
    }

    /// Whether vault pool `id` is a tier.
    pub fn is_tier(&self, id: usize) -> bool {
        self.pools[id - 1].base.is_some()
    }

    /// A staker's live shares of a pool (zero for shares of an ended generation).
    pub fn shares(&self, staker: usize, id: usize) -> U256 {
        match self.positions.get(&(id, Holder::Staker(staker))) {
            Some(pos) if pos.generation == self.pools[id - 1].generation => pos.shares,
            _ => U256::ZERO,
        }
    }
}

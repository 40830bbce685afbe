//! Mirrors `contracts/Reputation.sol` (issue 16) at its deployment defaults: records of AVSs and operators (evidence
//! decayed by λ per epoch, faults that taint, checkpoints that credit a clean epoch and step the rating), AVS bonds
//! (deposits, one queued withdrawal per asset, its maturity and the hold of a pending request), the penalty of a vetoed
//! request paid into the targeted pool (`StakeVault.compensate`), and the standing pushed to the manager by
//! `refreshStanding` (each measure replacing the pool's last in its asset's sum, the measured assets judged against
//! the available bond, the risk weight in tenths rounded up).

use std::collections::{BTreeMap, BTreeSet};

use alloy::primitives::U256;
use bulkhead_contracts::{MockERC20, Reputation, StakeVault};
use bulkhead_evm::ErrorKind;

use super::{
    Holder, Model, Mutation, Rev, Status,
    beta::{self, Params as RatingParams},
    maths::{ceil_div, mul_div, mul_div_ceil, sub, u, u128_max, wad},
};

/// `PARAMETER_DELAY`: a queued parameter change (here, the evidence units) applies after 7 days.
pub const PARAMETER_DELAY: u64 = 7 * 86_400;
/// `StakeVault.MIN_COMPENSATION_SHARES`: a pool with fewer shares is refused a penalty.
const MIN_COMPENSATION_SHARES: u64 = 1_000_000;

/// `IReputation.Record`: one AVS's or operator's evidence and rating.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Record {
    /// Good evidence (WAD), decayed to `epoch`.
    pub good: U256,
    /// Bad evidence (WAD), decayed to `epoch`, rounded up.
    pub bad: U256,
    /// The rating (WAD), moved only by checkpoints.
    pub rating: U256,
    /// The epoch the evidence is decayed to.
    pub epoch: u32,
    /// A checkpoint happened in `epoch`.
    pub checkpointed: bool,
    /// A fault since the last checkpoint.
    pub tainted: bool,
}

/// `IReputation.Bond`: an AVS's bond in one asset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bond {
    /// Reachable by penalties and counted by standings.
    pub available: U256,
    /// The one queued withdrawal: reachable by penalties until paid out.
    pub queued: U256,
    /// When the queued withdrawal can be paid out.
    pub maturity: u64,
}

/// The reputation contract's state and its deployment's parameters (the defaults: nothing here is governed).
#[derive(Debug, Clone)]
pub(super) struct Rep {
    /// `genesis`: the deployment's timestamp.
    genesis: u64,
    epoch_length: u64,
    bond_delay: u64,
    rating: RatingParams,
    veto_bad: U256,
    executed_bad: U256,
    risk_floor: U256,
    risk_top: U256,
    bond_floor: U256,
    bond_top: U256,
    penalty: U256,
    /// `evidenceUnit[asset]`, for the assets given one.
    units: BTreeMap<usize, U256>,
    pub(super) avs: Vec<Record>,
    pub(super) operators: Vec<Record>,
    pub(super) bonds: BTreeMap<(usize, usize), Bond>,
    pub(super) total_bonded: BTreeMap<usize, U256>,
    /// `measuredBacking[avs][pool]`, by (AVS, vault pool id).
    pub(super) measured: BTreeMap<(usize, usize), U256>,
    /// `assetStanding(avs, asset)`: (backing, short), by (AVS, asset).
    pub(super) standings: BTreeMap<(usize, usize), (U256, bool)>,
    pub(super) short_assets: Vec<u64>,
    reported: BTreeSet<u64>,
    /// Penalties paid into pools (for the figures, not a contract variable).
    pub(super) penalties: u64,
}

impl Rep {
    /// The contract as deployed at `genesis` with the defaults, before any evidence unit applies.
    pub(super) fn new(
        genesis: u64,
        epoch_length: u64,
        bond_delay: u64,
        avs: usize,
        operators: usize,
    ) -> Self {
        let w = |x: u64| u(x) * wad() / u(100);
        Self {
            genesis,
            epoch_length,
            bond_delay,
            rating: RatingParams::default(),
            veto_bad: u(3) * wad(),
            executed_bad: wad(),
            risk_floor: u(3) * wad(),
            risk_top: wad(),
            bond_floor: w(50),
            bond_top: w(5),
            penalty: w(10),
            units: BTreeMap::new(),
            avs: vec![Record::default(); avs],
            operators: vec![Record::default(); operators],
            bonds: BTreeMap::new(),
            total_bonded: BTreeMap::new(),
            measured: BTreeMap::new(),
            standings: BTreeMap::new(),
            short_assets: vec![0; avs],
            reported: BTreeSet::new(),
            penalties: 0,
        }
    }

    /// `applyChange(EvidenceUnit, asset)` after its delay.
    pub(super) fn set_unit(&mut self, asset: usize, unit: U256) {
        self.units.insert(asset, unit);
    }
}

/// Which record a fault or checkpoint is about.
#[derive(Debug, Clone, Copy)]
enum Subject {
    Avs(usize),
    Operator(usize),
}

impl Model {
    fn rep(&self) -> Result<&Rep, Rev> {
        // Without a reputation contract its calls have no code to run: an empty revert.
        self.rep.as_ref().ok_or(ErrorKind::EMPTY)
    }

    fn rep_mut(&mut self) -> Result<&mut Rep, Rev> {
        self.rep.as_mut().ok_or(ErrorKind::EMPTY)
    }

    /// `epoch()`: (now − genesis) / epochLength.
    pub(super) fn rep_epoch(&self) -> Result<u32, Rev> {
        let r = self.rep()?;
        let elapsed = self.now.checked_sub(r.genesis).ok_or(super::maths::PANIC)?;
        Ok((elapsed / r.epoch_length) as u32)
    }

    fn record(&self, subject: Subject) -> Result<Record, Rev> {
        let r = self.rep()?;
        Ok(match subject {
            Subject::Avs(a) => r.avs[a],
            Subject::Operator(o) => r.operators[o],
        })
    }

    fn set_record(&mut self, subject: Subject, record: Record) -> Result<(), Rev> {
        let r = self.rep_mut()?;
        match subject {
            Subject::Avs(a) => r.avs[a] = record,
            Subject::Operator(o) => r.operators[o] = record,
        }
        Ok(())
    }

    /// The token of vault pool `id` (a tier's base asset), as `StakeVault.poolAsset` reports it.
    pub(super) fn pool_token(&self, id: usize) -> usize {
        let p = &self.pools[id - 1];
        match p.base {
            Some(base) => self.pools[base - 1].asset,
            None => p.asset,
        }
    }

    /// `_decayed`: the record's evidence decayed from its epoch to `current` (good down, bad up).
    fn decayed(&self, r: &Record, current: u32) -> Result<(U256, U256), Rev> {
        let forget = self.rep()?.rating.forget_wad;
        let epochs = current.checked_sub(r.epoch).ok_or(super::maths::PANIC)?;
        let (mut good, mut bad) = (r.good, r.bad);
        if epochs == 0 {
            return Ok((good, bad));
        }
        if !good.is_zero() {
            good = beta::decay_good(good, u64::from(epochs), forget)?;
        }
        if !bad.is_zero() {
            bad = beta::decay_bad(bad, u64::from(epochs), forget)?;
        }
        Ok((good, bad))
    }

    /// `_admit`: the current epoch, unless the record was already checkpointed in it.
    fn admit(&self, r: &Record) -> Result<u32, Rev> {
        let current = self.rep_epoch()?;
        if r.checkpointed && r.epoch == current {
            return Err(ErrorKind::of::<Reputation::AlreadyCheckpointed>());
        }
        Ok(current)
    }

    /// `_open`: anyone may checkpoint a tainted record, or one its subject did not checkpoint in the previous epoch.
    fn open(r: &Record, current: u32) -> bool {
        r.tainted || !r.checkpointed || u64::from(r.epoch) + 1 < u64::from(current)
    }

    /// `_checkpoint`: decay, credit a clean epoch unless tainted, step toward the lower bound.
    fn close_epoch(
        &self,
        r: &mut Record,
        value_at_risk: U256,
        asset: usize,
        current: u32,
    ) -> Result<(), Rev> {
        let rep = self.rep()?;
        let params = rep.rating;
        let (mut good, bad) = self.decayed(r, current)?;
        let mut credit = U256::ZERO;
        let tainted = r.tainted && self.mutation != Mutation::TaintedCredit;
        if !value_at_risk.is_zero() && !tainted {
            let unit = rep.units.get(&asset).copied().unwrap_or_default();
            if !unit.is_zero() {
                credit = beta::clean_epoch_evidence(value_at_risk, unit)?;
            }
        }
        good += credit;
        let target = beta::lower_bound(good, bad, params.z_wad)?;
        let rating = beta::step(r.rating, target, params.max_step_wad)?;
        // (`SafeCast.toUint72(good)` cannot fail: a flawless record stays under 1 / (1 − λ) = 20 units.)
        *r = Record {
            good,
            bad,
            rating,
            epoch: current,
            checkpointed: true,
            tainted: false,
        };
        Ok(())
    }

    /// `checkpointAVS(avs, pool)`, sent by the AVS's admin (`by_admin`) or someone else.
    pub(super) fn checkpoint_avs(
        &mut self,
        avs: usize,
        id: usize,
        by_admin: bool,
    ) -> Result<(), Rev> {
        let mut r = self.record(Subject::Avs(avs))?;
        let current = self.admit(&r)?;
        if !Self::open(&r, current) && !by_admin {
            return Err(ErrorKind::of::<Reputation::ReservedForSubject>());
        }
        let asset = self.pool_token(id);
        let value = if r.tainted && self.mutation != Mutation::TaintedCredit {
            U256::ZERO
        } else {
            self.backing(avs, id)?
        };
        self.close_epoch(&mut r, value, asset, current)?;
        self.set_record(Subject::Avs(avs), r)
    }

    /// `checkpointOperator(operator, pool)`, sent by the operator itself (`by_subject`) or someone else.
    pub(super) fn checkpoint_operator(
        &mut self,
        operator: usize,
        id: usize,
        by_subject: bool,
    ) -> Result<(), Rev> {
        if self.pools[id - 1].operator != operator {
            return Err(ErrorKind::of::<Reputation::NotOperatorPool>());
        }
        let mut r = self.record(Subject::Operator(operator))?;
        let current = self.admit(&r)?;
        if !by_subject && !Self::open(&r, current) {
            return Err(ErrorKind::of::<Reputation::ReservedForSubject>());
        }
        let mut value = U256::ZERO;
        if !r.tainted || self.mutation == Mutation::TaintedCredit {
            let (isolated, shared_stake, total_shared) = self.risk_parts(id)?;
            value = isolated + total_shared.min(shared_stake);
        }
        let asset = self.pool_token(id);
        self.close_epoch(&mut r, value, asset, current)?;
        self.set_record(Subject::Operator(operator), r)
    }

    /// `_addFault`: decays the record to now, adds `weight` bad evidence (saturating at 2^72 − 1) and taints it.
    fn add_fault(&mut self, subject: Subject, weight: U256) -> Result<(), Rev> {
        let mut r = self.record(subject)?;
        let current = self.rep_epoch()?;
        let (good, bad) = self.decayed(&r, current)?;
        let max = (U256::from(1u64) << 72usize) - u(1);
        r.good = good;
        r.bad = (bad + weight).min(max);
        r.checkpointed = r.checkpointed && r.epoch == current;
        r.epoch = current;
        r.tainted = true;
        self.set_record(subject, r)
    }

    /// `onSlashVetoed(requestId)`, inside the veto: the AVS's fault, then its penalty from the bond, paid into the
    /// pool. A refused payment rolls back the bond and the pool together and the veto goes through.
    pub(super) fn on_slash_vetoed(&mut self, rid: u64) -> Result<(), Rev> {
        let req = self.requests[rid as usize - 1];
        let (avs, id) = (req.avs, req.pool);
        let weight = self.rep()?.veto_bad;
        self.add_fault(Subject::Avs(avs), weight)?;
        let asset = self.pool_token(id);
        let penalty = self.rep()?.penalty;
        let (backing, scale) = (self.backing(avs, id)?, penalty * u(req.fraction));
        let asked = match self.mutation {
            Mutation::FloorPenalty => mul_div(backing, scale, wad() * wad())?,
            _ => mul_div_ceil(backing, scale, wad() * wad())?,
        };
        if asked.is_zero() {
            return Ok(());
        }
        let bond = self.bond(avs, asset);
        let amount = asked.min(bond.available + bond.queued);
        if amount.is_zero() {
            return Ok(());
        }
        // `try this.takePenalty(…)`: on a refusal nothing of it remains.
        let saved = self.clone();
        if self.take_penalty(avs, asset, id, amount).is_err() {
            *self = saved;
        } else {
            self.rep_mut()?.penalties += 1;
        }
        Ok(())
    }

    /// `takePenalty`: available first, then the queued withdrawal; the payment into the pool.
    fn take_penalty(
        &mut self,
        avs: usize,
        asset: usize,
        id: usize,
        amount: U256,
    ) -> Result<(), Rev> {
        let rep = self.rep_mut()?;
        let b = rep.bonds.entry((avs, asset)).or_default();
        let from_available = amount.min(b.available);
        let from_queued = amount - from_available;
        if from_queued > b.queued {
            return Err(ErrorKind::of::<Reputation::InsufficientBond>());
        }
        b.available -= from_available;
        if !from_queued.is_zero() {
            let queued = b.queued;
            b.queued = queued - from_queued;
            if queued == from_queued {
                b.maturity = 0;
            }
        }
        let total = rep.total_bonded.entry(asset).or_default();
        *total = sub(*total, amount)?;
        self.compensate(id, amount)
    }

    /// `StakeVault.compensate(pool, amount)`: matured withdrawals settle first; a pool with fewer than 10⁶ shares is
    /// refused; a tier is paid in base shares minted at the base price (rounded down) into its collateral.
    fn compensate(&mut self, id: usize, amount: U256) -> Result<(), Rev> {
        if amount.is_zero() {
            return Err(ErrorKind::of::<StakeVault::ZeroAmount>());
        }
        let tier = self.pools[id - 1].base;
        if tier.is_some() {
            self.sync_tier(id);
        }
        self.settle_pool(id)?;
        if self.pools[id - 1].shares < u(MIN_COMPENSATION_SHARES) {
            return Err(ErrorKind::of::<StakeVault::PoolTooSmallToCompensate>());
        }
        let mut collateral = amount;
        let mut asset = self.pools[id - 1].asset;
        if let Some(base) = tier {
            collateral = self.add_at_price(base, amount)?;
            self.tier_held_change(base, collateral, true)?;
            asset = self.pools[base - 1].asset;
        }
        let p = &mut self.pools[id - 1];
        let assets = p.assets + collateral;
        if assets > u128_max() - u(1) {
            return Err(ErrorKind::of::<StakeVault::AmountTooLarge>());
        }
        p.assets = assets;
        *self.tracked.entry(asset).or_default() += amount;
        Ok(())
    }

    /// `reportExecutedSlash(request)`: an executed request's fault on its pool's operator, once.
    pub(super) fn report_executed(&mut self, rid: u64) -> Result<(), Rev> {
        let req = self.request_rec(rid)?;
        if req.status != Status::Executed {
            return Err(ErrorKind::of::<Reputation::RequestNotExecuted>());
        }
        if self.rep()?.reported.contains(&rid) {
            return Err(ErrorKind::of::<Reputation::AlreadyReported>());
        }
        let operator = self.pools[req.pool - 1].operator;
        let rep = self.rep_mut()?;
        rep.reported.insert(rid);
        let weight = rep.executed_bad;
        self.add_fault(Subject::Operator(operator), weight)
    }

    /// `manager.getRequest(id)` for the reputation contract: `UnknownRequest` for a status of `None`.
    fn request_rec(&self, rid: u64) -> Result<super::Request, Rev> {
        (rid as usize)
            .checked_sub(1)
            .and_then(|i| self.requests.get(i))
            .copied()
            .ok_or(ErrorKind::of::<Reputation::UnknownRequest>())
    }

    /// The AVS's bond in `asset` (zero if none).
    pub fn bond(&self, avs: usize, asset: usize) -> Bond {
        self.rep
            .as_ref()
            .and_then(|r| r.bonds.get(&(avs, asset)).copied())
            .unwrap_or_default()
    }

    /// `mint_and_bond` by the AVS's admin: minted and approved (transactions that stay), then `depositBond`.
    pub(super) fn step_bond(&mut self, avs: usize, asset: usize, amount: U256) -> Result<(), Rev> {
        *self.balances.entry((Holder::Admin, asset)).or_default() += amount;
        self.tx(|m| m.deposit_bond(avs, asset, amount))
    }

    /// `depositBond(avs, asset, amount)` from the AVS's admin.
    fn deposit_bond(&mut self, avs: usize, asset: usize, amount: U256) -> Result<(), Rev> {
        if amount.is_zero() {
            return Err(ErrorKind::of::<Reputation::ZeroAmount>());
        }
        let rep = self.rep_mut()?;
        let tracked = rep.total_bonded.get(&asset).copied().unwrap_or_default();
        if tracked + amount > u128_max() {
            return Err(ErrorKind::of::<Reputation::AmountTooLarge>());
        }
        rep.bonds.entry((avs, asset)).or_default().available += amount;
        rep.total_bonded.insert(asset, tracked + amount);
        let balance = self.balances.entry((Holder::Admin, asset)).or_default();
        if *balance < amount {
            return Err(ErrorKind::of::<MockERC20::ERC20InsufficientBalance>());
        }
        *balance -= amount;
        Ok(())
    }

    /// `queueBondWithdrawal(avs, asset, amount)` by the AVS's admin.
    pub(super) fn queue_bond(&mut self, avs: usize, asset: usize, amount: U256) -> Result<(), Rev> {
        if amount.is_zero() {
            return Err(ErrorKind::of::<Reputation::ZeroAmount>());
        }
        let now = self.now;
        let rep = self.rep_mut()?;
        let delay = rep.bond_delay;
        let b = rep.bonds.entry((avs, asset)).or_default();
        if !b.queued.is_zero() {
            return Err(ErrorKind::of::<Reputation::WithdrawalAlreadyQueued>());
        }
        if amount > b.available {
            return Err(ErrorKind::of::<Reputation::InsufficientBond>());
        }
        b.available -= amount;
        b.queued = amount;
        b.maturity = now + delay;
        Ok(())
    }

    /// `completeBondWithdrawal(avs, asset, admin)` by the AVS's admin.
    pub(super) fn complete_bond(&mut self, avs: usize, asset: usize) -> Result<(), Rev> {
        let (now, vetoable) = (self.now, self.vetoable_until[avs]);
        let rep = self.rep_mut()?;
        let b = rep.bonds.entry((avs, asset)).or_default();
        let amount = b.queued;
        if amount.is_zero() {
            return Err(ErrorKind::of::<Reputation::NoWithdrawalQueued>());
        }
        if now < b.maturity {
            return Err(ErrorKind::of::<Reputation::BondNotMatured>());
        }
        // Held while a request of the AVS can still be vetoed (the manager's record).
        if now < vetoable {
            return Err(ErrorKind::of::<Reputation::BondOnHold>());
        }
        b.queued = U256::ZERO;
        b.maturity = 0;
        let total = rep.total_bonded.entry(asset).or_default();
        *total = sub(*total, amount)?;
        *self.balances.entry((Holder::Admin, asset)).or_default() += amount;
        Ok(())
    }

    /// `refreshStanding(avs, pools)`: each pool measured afresh (replacing its last measure in its asset's sum),
    /// the assets measured judged against the available bond, and the standing pushed to the manager.
    pub(super) fn refresh_standing(&mut self, avs: usize, ids: &[usize]) -> Result<(), Rev> {
        if ids.len() > 64 {
            return Err(ErrorKind::of::<Reputation::TooManyPools>());
        }
        let mut assets: Vec<usize> = Vec::new();
        for &id in ids {
            let asset = self.pool_token(id);
            // Committed, not only in effect: pending increases and allocations of opted-out operators count.
            let backing = self.committed_backing(avs, id)?;
            let rep = self.rep_mut()?;
            let last = rep.measured.get(&(avs, id)).copied().unwrap_or_default();
            if backing != last {
                rep.measured.insert((avs, id), backing);
                let st = rep.standings.entry((avs, asset)).or_default();
                // The sum holds `last`: the contract's checked arithmetic never underflows here.
                st.0 = sub(st.0 + backing, last)?;
            }
            if !assets.contains(&asset) {
                assets.push(asset);
            }
        }
        let fraction = self.required_bond_fraction(avs)?;
        let rep = self.rep_mut()?;
        let mut short_count = rep.short_assets[avs];
        for asset in assets {
            let available = rep
                .bonds
                .get(&(avs, asset))
                .map_or(U256::ZERO, |b| b.available);
            let st = rep.standings.entry((avs, asset)).or_default();
            let required = mul_div_ceil(st.0, fraction, wad())?;
            let short = available < required;
            if short != st.1 {
                st.1 = short;
                short_count = if short {
                    short_count + 1
                } else {
                    short_count.checked_sub(1).ok_or(super::maths::PANIC)?
                };
            }
        }
        rep.short_assets[avs] = short_count;
        let tenths = self.risk_weight_tenths(avs)?;
        self.standing[avs] = (tenths, short_count != 0);
        Ok(())
    }

    // ------------------------------------------------------------------ views

    /// `riskWeightWad(avs)`: the rating's weight, 3× at the floor to 1× at the top, rounded toward the floor.
    pub fn risk_weight_wad(&self, avs: usize) -> Result<U256, Rev> {
        let r = self.rep()?;
        beta::interpolate(r.avs[avs].rating, r.risk_floor, r.risk_top)
    }

    /// `riskWeightTenths(avs)`: the weight in the manager's tenths, rounded up.
    pub fn risk_weight_tenths(&self, avs: usize) -> Result<u8, Rev> {
        let tenths = ceil_div(self.risk_weight_wad(avs)?, wad() / u(10));
        Ok(tenths.saturating_to::<u8>())
    }

    /// `requiredBondFractionWad(avs)`: 50% of the backing at the floor to 5% at the top, rounded toward the floor.
    pub fn required_bond_fraction(&self, avs: usize) -> Result<U256, Rev> {
        let r = self.rep()?;
        beta::interpolate(r.avs[avs].rating, r.bond_floor, r.bond_top)
    }

    /// `avsRecord` / `operatorRecord`: [good, bad, rating, mean, lowerBound, epoch, checkpointed, tainted, seen].
    pub fn record_view(&self, operator: bool, who: usize) -> Result<[U256; 9], Rev> {
        let r = self.record(if operator {
            Subject::Operator(who)
        } else {
            Subject::Avs(who)
        })?;
        let z = self.rep()?.rating.z_wad;
        let flag = |b: bool| U256::from(u8::from(b));
        Ok([
            r.good,
            r.bad,
            r.rating,
            beta::mean(r.good, r.bad)?,
            beta::lower_bound(r.good, r.bad, z)?,
            U256::from(r.epoch),
            flag(r.checkpointed),
            flag(r.tainted),
            flag(r.epoch != 0 || r.checkpointed || r.tainted),
        ])
    }

    /// `poolRisk`'s (totalIsolated, sharedStake, totalShared), what an operator's checkpoint reads.
    fn risk_parts(&self, id: usize) -> Result<(U256, U256, U256), Rev> {
        let (st, _) = self.view_pool(id);
        let value = self.slashable_assets(id)?;
        let isolated = mul_div(st.isolated, value, st.total)?;
        let shared_stake = sub(value, isolated)?;
        let limit = sub(st.total, st.isolated)? * u(30_000) / u(super::maths::BPS);
        let total_shared = mul_div(st.shared.min(limit), value, st.total)?;
        Ok((isolated, shared_stake, total_shared))
    }

    /// `epoch()` of the reputation contract (an empty revert without one).
    pub fn reputation_epoch(&self) -> Result<u32, Rev> {
        self.rep_epoch()
    }

    /// `totalBonded(asset)`: what the reputation contract holds of it.
    pub fn total_bonded(&self, asset: usize) -> U256 {
        self.rep
            .as_ref()
            .and_then(|r| r.total_bonded.get(&asset).copied())
            .unwrap_or_default()
    }

    /// `measuredBacking(avs, pool)`, by vault pool id.
    pub fn measured(&self, avs: usize, id: usize) -> U256 {
        self.rep
            .as_ref()
            .and_then(|r| r.measured.get(&(avs, id)).copied())
            .unwrap_or_default()
    }

    /// `assetStanding(avs, asset)`: (backing, short).
    pub fn asset_standing(&self, avs: usize, asset: usize) -> (U256, bool) {
        self.rep
            .as_ref()
            .and_then(|r| r.standings.get(&(avs, asset)).copied())
            .unwrap_or_default()
    }

    /// `shortAssets(avs)`.
    pub fn short_assets(&self, avs: usize) -> u64 {
        self.rep.as_ref().map_or(0, |r| r.short_assets[avs])
    }

    /// The vault's token balance of `asset`: what it tracks (no donations are sent).
    pub fn vault_balance(&self, asset: usize) -> U256 {
        self.tracked.get(&asset).copied().unwrap_or_default()
    }

    /// The figures of the reputation layer, if on: per AVS its rating, and the penalties paid.
    pub fn reputation_figures(&self) -> Option<(Vec<U256>, u64)> {
        self.rep
            .as_ref()
            .map(|r| (r.avs.iter().map(|a| a.rating).collect(), r.penalties))
    }
}

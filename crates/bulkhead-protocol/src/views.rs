//! Typed reads: pools, tiers, positions, escrow, allocations, backing and risk. Views never change state.

use alloy::primitives::{Address, U256};
use bulkhead_contracts::{
    AllocationLens, AllocationManager, DoubleSignSlasher, MockERC20, OperatorDesk, Reputation,
    RewardRail, SecurityMarket, StakeVault,
    bindings::{
        IAllocationManager, IStakeVault, reputation::IReputation, rewardrail::IRewardRail,
        securitymarket::ISecurityMarket,
    },
    lens_of,
};

use alloy::sol_types::SolCall;
use bulkhead_evm::{Engine, System};

use crate::{Protocol, ProtocolError, Result};

/// `IStakeVault.PoolView`: value, shares, escrow and price of one pool.
pub type PoolView = IStakeVault::PoolView;
/// `IStakeVault.Position`: a staker's shares in one pool.
pub type Position = IStakeVault::PositionView;
/// `IStakeVault.WithdrawalView`: a queued withdrawal and when it matures.
pub type WithdrawalView = IStakeVault::WithdrawalView;
/// `IAllocationManager.Allocation`: an AVS's allocation of a pool, with its pending change.
pub type Allocation = IAllocationManager::Allocation;
/// `IAllocationManager.PoolRisk`: isolated and shared stake, reuse and the guard of one pool.
pub type PoolRisk = IAllocationManager::PoolRisk;
/// `IAllocationManager.Membership`: an operator's standing in an AVS's set.
pub type Membership = IAllocationManager::Membership;
/// `IAllocationManager.AVS`: an AVS as registered, with its standing (risk weight in tenths, bond-short).
pub type AvsView = IAllocationManager::AVS;
/// `IAllocationManager.PoolState`: a pool's weights, its shared sum (risk-weighted) and guard.
pub type PoolState = IAllocationManager::PoolState;
/// `IReputation.RecordView`: evidence, rating, mean and lower bound of an AVS or an operator.
pub type RecordView = IReputation::RecordView;
/// `IReputation.Bond`: an AVS's bond in one asset (available, queued, maturity).
pub type BondView = IReputation::Bond;
/// `AllocationLens.avsBacking`'s return: an AVS's slashable backing in total and per pool.
pub type AvsBacking = AllocationLens::avsBackingReturn;

/// `ISecurityMarket.Bid`: an AVS's bid (open while `backing` > 0).
pub type BidView = ISecurityMarket::Bid;
/// `ISecurityMarket.Ask`: an operator's ask (open while `capacity` > 0).
pub type AskView = ISecurityMarket::Ask;
/// `ISecurityMarket.LeaseView`: a lease with its premium, term and what has been paid and refunded.
pub type LeaseView = ISecurityMarket::LeaseView;
/// `IRewardRail.PoolRewards`: a pool's reward books (token, accumulator, paid, commission, dust).
pub type PoolRewards = IRewardRail::PoolRewards;

/// A read-only view of a deployed system: for code that holds the engine by shared reference. [`Protocol`] reads
/// the same views.
#[derive(Clone, Copy)]
pub struct Reader<'e> {
    engine: &'e Engine,
    sys: System,
}

impl<'e> Reader<'e> {
    /// The views of `sys` on `engine`.
    pub fn new(engine: &'e Engine, sys: System) -> Self {
        Self { engine, sys }
    }
}

impl Views for Reader<'_> {
    fn engine_ref(&self) -> &Engine {
        self.engine
    }

    fn system_ref(&self) -> &System {
        &self.sys
    }
}

impl Views for Protocol<'_> {
    fn engine_ref(&self) -> &Engine {
        self.engine
    }

    fn system_ref(&self) -> &System {
        &self.sys
    }
}

/// Calls a view of `to` on `engine`.
fn read<C: SolCall>(engine: &Engine, to: Address, call: C) -> Result<C::Return> {
    engine
        .view(to, call)
        .map_err(|err| ProtocolError::from_engine(C::SIGNATURE, err))
}

/// Every typed read of the protocol; implemented by [`Protocol`] and [`Reader`] (bring the trait into scope:
/// `use bulkhead_protocol::Views`).
pub trait Views {
    /// The engine read from.
    fn engine_ref(&self) -> &Engine;

    /// The deployed contracts.
    fn system_ref(&self) -> &System;

    /// `StakeVault.getPool`.
    fn pool(&self, pool: U256) -> Result<PoolView> {
        read(
            self.engine_ref(),
            self.system_ref().vault,
            StakeVault::getPoolCall { poolId: pool },
        )
    }

    /// What `pool` can be slashed for now, in its asset (a tier: in its base's asset).
    fn slashable_assets(&self, pool: U256) -> Result<U256> {
        let call = StakeVault::slashableAssetsCall { poolId: pool };
        read(self.engine_ref(), self.system_ref().vault, call)
    }

    /// The pool `operator` runs for `asset` (a token, or a tier's asset), if it exists.
    fn pool_of(&self, operator: Address, asset: Address) -> Result<Option<U256>> {
        let id = read(
            self.engine_ref(),
            self.system_ref().vault,
            StakeVault::poolOfCall { operator, asset },
        )?;
        Ok((!id.is_zero()).then_some(id))
    }

    /// The asset that stands for a tier over `base_pool` (tiers are keyed by it in `poolOf`).
    fn tier_asset(&self, base_pool: U256) -> Result<Address> {
        read(
            self.engine_ref(),
            self.system_ref().vault,
            StakeVault::tierAssetCall {
                basePoolId: base_pool,
            },
        )
    }

    /// Whether the owner allows tiers over `base_pool`.
    fn tier_allowed(&self, base_pool: U256) -> Result<bool> {
        read(
            self.engine_ref(),
            self.system_ref().vault,
            StakeVault::tierAllowedCall {
                basePoolId: base_pool,
            },
        )
    }

    /// Whether `base_pool`'s operator approved `operator` to run a tier over it.
    fn tier_operator_approved(&self, base_pool: U256, operator: Address) -> Result<bool> {
        let call = StakeVault::tierOperatorApprovedCall {
            basePoolId: base_pool,
            operator,
        };
        read(self.engine_ref(), self.system_ref().vault, call)
    }

    /// Every position of `staker`.
    fn positions(&self, staker: Address) -> Result<Vec<Position>> {
        read(
            self.engine_ref(),
            self.system_ref().vault,
            StakeVault::positionsOfCall { staker },
        )
    }

    /// `staker`'s shares of `pool` (zero without a position): `VaultFixture._sharesOf`.
    fn shares_of(&self, staker: Address, pool: U256) -> Result<U256> {
        Ok(self
            .positions(staker)?
            .iter()
            .find(|p| p.poolId == pool)
            .map_or(U256::ZERO, |p| p.shares))
    }

    /// `staker`'s withdrawals, newest first, from `cursor` (0 = newest), at most `limit`; and the next page's
    /// cursor (0 when there is none).
    fn withdrawals(
        &self,
        staker: Address,
        cursor: U256,
        limit: U256,
    ) -> Result<(Vec<WithdrawalView>, U256)> {
        let call = StakeVault::withdrawalsOfCall {
            staker,
            cursor,
            limit,
        };
        read(self.engine_ref(), self.system_ref().vault, call).map(|page| (page.views, page.next))
    }

    /// One withdrawal.
    fn withdrawal(&self, withdrawal: U256) -> Result<WithdrawalView> {
        let call = StakeVault::getWithdrawalCall {
            withdrawalId: withdrawal,
        };
        read(self.engine_ref(), self.system_ref().vault, call)
    }

    /// What `shares` of `pool` are worth now.
    fn convert_to_assets(&self, pool: U256, shares: U256) -> Result<U256> {
        let call = StakeVault::convertToAssetsCall {
            poolId: pool,
            shares,
        };
        read(self.engine_ref(), self.system_ref().vault, call)
    }

    /// An AVS's allocation of `pool` (mode, fraction, pending change).
    fn allocation(&self, pool: U256, avs: u32) -> Result<Allocation> {
        let call = AllocationManager::getAllocationCall {
            poolId: pool,
            avsId: avs,
        };
        read(self.engine_ref(), self.system_ref().manager, call)
    }

    /// `operator`'s membership of the AVS's operator set.
    fn membership(&self, avs: u32, operator: Address) -> Result<Membership> {
        let call = AllocationManager::membershipCall {
            avsId: avs,
            operator,
        };
        read(self.engine_ref(), self.system_ref().manager, call)
    }

    /// What the AVS can slash from `pool` now (base asset units).
    fn slashable_backing(&self, avs: u32, pool: U256) -> Result<U256> {
        let call = AllocationManager::slashableBackingCall {
            avsId: avs,
            poolId: pool,
        };
        read(self.engine_ref(), self.system_ref().manager, call)
    }

    /// `pool`'s isolated and shared stake, reuse and guard.
    fn pool_risk(&self, pool: U256) -> Result<PoolRisk> {
        read(
            self.engine_ref(),
            self.system_ref().manager,
            AllocationManager::poolRiskCall { poolId: pool },
        )
    }

    /// What `avs` can slash now, in total and pool by pool (the manager's lens, `avsBacking`).
    fn avs_backing(&self, avs: u32) -> Result<AvsBacking> {
        read(
            self.engine_ref(),
            lens_of(self.system_ref().manager),
            AllocationLens::avsBackingCall { avsId: avs },
        )
    }

    /// The AVS as registered, with its standing.
    fn avs(&self, avs: u32) -> Result<AvsView> {
        let call = AllocationManager::getAVSCall { avsId: avs };
        read(self.engine_ref(), self.system_ref().manager, call)
    }

    /// `pool`'s weights as the manager stores them (its shared sum is risk-weighted).
    fn pool_state(&self, pool: U256) -> Result<PoolState> {
        let call = AllocationManager::getPoolStateCall { poolId: pool };
        read(self.engine_ref(), self.system_ref().manager, call)
    }

    /// The AVS's reputation record: evidence, rating, mean, lower bound.
    fn avs_record(&self, avs: u32) -> Result<RecordView> {
        let call = Reputation::avsRecordCall { avsId: avs };
        read(self.engine_ref(), self.system_ref().reputation, call)
    }

    /// The operator's reputation record.
    fn operator_record(&self, operator: Address) -> Result<RecordView> {
        let call = Reputation::operatorRecordCall { operator };
        read(self.engine_ref(), self.system_ref().reputation, call)
    }

    /// The weight (WAD, 1e18 = 1×) the AVS's shared allocations would count with now.
    fn risk_weight_wad(&self, avs: u32) -> Result<U256> {
        let call = Reputation::riskWeightWadCall { avsId: avs };
        read(self.engine_ref(), self.system_ref().reputation, call)
    }

    /// The fraction of its backing (WAD) the AVS's bond must cover now.
    fn required_bond_fraction_wad(&self, avs: u32) -> Result<U256> {
        let call = Reputation::requiredBondFractionWadCall { avsId: avs };
        read(self.engine_ref(), self.system_ref().reputation, call)
    }

    /// The AVS's bond in `asset`.
    fn bond_of(&self, avs: u32, asset: Address) -> Result<BondView> {
        let call = Reputation::bondOfCall { avsId: avs, asset };
        read(self.engine_ref(), self.system_ref().reputation, call)
    }

    /// The risk weight (WAD) at the floor rating: what a new or fallen AVS counts with.
    fn risk_weight_floor_wad(&self) -> Result<U256> {
        let floor = read(
            self.engine_ref(),
            self.system_ref().reputation,
            Reputation::riskWeightFloorWadCall {},
        )?;
        Ok(U256::from(floor))
    }

    /// `pool`'s reuse cap in bps (its own, or the protocol default, never above the maximum): `poolRisk`'s
    /// `reuseCapWad`, exact in bps (1 bps = 1e14).
    fn reuse_cap_bps(&self, pool: U256) -> Result<U256> {
        Ok(self.pool_risk(pool)?.reuseCapWad / U256::from(100_000_000_000_000u64))
    }

    /// The reputation contract's current epoch.
    fn reputation_epoch(&self) -> Result<u32> {
        read(
            self.engine_ref(),
            self.system_ref().reputation,
            Reputation::epochCall {},
        )
    }

    /// Seconds a queued reputation parameter change waits (`PARAMETER_DELAY`).
    fn parameter_delay(&self) -> Result<u64> {
        let delay = read(
            self.engine_ref(),
            self.system_ref().reputation,
            Reputation::PARAMETER_DELAYCall {},
        )?;
        Ok(delay.to::<u64>())
    }

    /// The pools a double-sign module can slash `operator` in.
    fn double_sign_pools(&self, module: Address, operator: Address) -> Result<Vec<U256>> {
        read(
            self.engine_ref(),
            module,
            DoubleSignSlasher::slashablePoolsCall { operator },
        )
    }

    /// ERC-20 balance of `holder`.
    fn balance_of(&self, token: Address, holder: Address) -> Result<U256> {
        read(
            self.engine_ref(),
            token,
            MockERC20::balanceOfCall { account: holder },
        )
    }

    /// Seconds an allocation increase waits before it can be slashed (and a decrease before it frees the stake).
    fn allocation_delay(&self) -> Result<u64> {
        let delay = read(
            self.engine_ref(),
            self.system_ref().manager,
            AllocationManager::allocationDelayCall {},
        )?;
        Ok(delay.to::<u64>())
    }

    /// Seconds a deallocation waits.
    fn deallocation_delay(&self) -> Result<u64> {
        let delay = read(
            self.engine_ref(),
            self.system_ref().manager,
            AllocationManager::deallocationDelayCall {},
        )?;
        Ok(delay.to::<u64>())
    }

    /// Seconds after its veto window during which a request can be executed.
    fn execution_window(&self) -> Result<u64> {
        let window = read(
            self.engine_ref(),
            self.system_ref().manager,
            AllocationManager::executionWindowCall {},
        )?;
        Ok(window.to::<u64>())
    }

    /// The base pool of a tier pool (`None` for a base pool).
    fn base_of(&self, pool: U256) -> Result<Option<U256>> {
        let call = StakeVault::baseOfCall { poolId: pool };
        let base = read(self.engine_ref(), self.system_ref().vault, call)?;
        Ok((!base.is_zero()).then_some(base))
    }

    /// The number of bids, asks and leases ever made (ids run from 1 to each).
    fn market_counts(&self) -> Result<(u32, u32, u32)> {
        let (engine, market) = (self.engine_ref(), self.system_ref().market);
        Ok((
            read(engine, market, SecurityMarket::bidCountCall {})?,
            read(engine, market, SecurityMarket::askCountCall {})?,
            read(engine, market, SecurityMarket::leaseCountCall {})?,
        ))
    }

    /// `SecurityMarket.bids`.
    fn bid(&self, bid: U256) -> Result<BidView> {
        let call = SecurityMarket::bidsCall { bidId: bid };
        read(self.engine_ref(), self.system_ref().market, call)
    }

    /// `SecurityMarket.asks`.
    fn ask(&self, ask: U256) -> Result<AskView> {
        let call = SecurityMarket::asksCall { askId: ask };
        read(self.engine_ref(), self.system_ref().market, call)
    }

    /// `SecurityMarket.leases`.
    fn lease(&self, lease: U256) -> Result<LeaseView> {
        let call = SecurityMarket::leasesCall { leaseId: lease };
        read(self.engine_ref(), self.system_ref().market, call)
    }

    /// Every lease, in id order (an off-chain read: one call per lease).
    fn all_leases(&self) -> Result<Vec<LeaseView>> {
        let (_, _, leases) = self.market_counts()?;
        (1..=leases).map(|id| self.lease(U256::from(id))).collect()
    }

    /// `SecurityMarket.credits`: refunds `account` can withdraw in `token`.
    fn market_credits(&self, account: Address, token: Address) -> Result<U256> {
        let call = SecurityMarket::creditsCall { account, token };
        read(self.engine_ref(), self.system_ref().market, call)
    }

    /// The owner of the desk at `desk`, or `None` if `desk` is not one of the market's desks.
    fn desk_owner(&self, desk: Address) -> Result<Option<Address>> {
        let (engine, market) = (self.engine_ref(), self.system_ref().market);
        if !read(engine, market, SecurityMarket::isDeskCall { desk })? {
            return Ok(None);
        }
        read(engine, desk, OperatorDesk::ownerCall {}).map(Some)
    }

    /// `OperatorDesk.heldUntil`: until when a lease holds the desk's allocations to `avs` (0: not held).
    fn desk_held_until(&self, desk: Address, avs: u32) -> Result<u64> {
        let held = read(
            self.engine_ref(),
            desk,
            OperatorDesk::heldUntilCall { avsId: avs },
        )?;
        Ok(held.to::<u64>())
    }

    /// `RewardRail.poolRewards`.
    fn pool_rewards(&self, pool: U256) -> Result<PoolRewards> {
        let call = RewardRail::poolRewardsCall { poolId: pool };
        read(self.engine_ref(), self.system_ref().rail, call)
    }

    /// `RewardRail.claimable`: what `staker`'s shares of `pool` have earned and not claimed.
    fn claimable_rewards(&self, pool: U256, staker: Address) -> Result<U256> {
        let call = RewardRail::claimableCall {
            poolId: pool,
            staker,
        };
        read(self.engine_ref(), self.system_ref().rail, call)
    }

    /// `RewardRail.claimableEscrow`: what a queued withdrawal earned while slashable and has not claimed.
    fn claimable_escrow_rewards(&self, withdrawal: U256) -> Result<U256> {
        let call = RewardRail::claimableEscrowCall {
            withdrawalId: withdrawal,
        };
        read(self.engine_ref(), self.system_ref().rail, call)
    }

    /// `RewardRail.commissionOwed`: `operator`'s unclaimed commission in `token`.
    fn commission_owed(&self, operator: Address, token: Address) -> Result<U256> {
        let call = RewardRail::commissionOwedCall { operator, token };
        read(self.engine_ref(), self.system_ref().rail, call)
    }

    /// `RewardRail.commissionOf`: the pool's commission now, and the queued one with when it applies (bps, next
    /// bps, next at).
    fn commission_of(&self, pool: U256) -> Result<(u16, u16, u64)> {
        let call = RewardRail::commissionOfCall { poolId: pool };
        let c = read(self.engine_ref(), self.system_ref().rail, call)?;
        Ok((c.bps, c.nextBps, c.nextAt.to::<u64>()))
    }
}

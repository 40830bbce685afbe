//! Security-market and reward verbs (issue 17): desks, bids, asks, fills, streaming, refunds on `SecurityMarket`;
//! payments, reward claims and commissions on `RewardRail`.
//!
//! An operator sells through an `OperatorDesk` the market creates for it ([`Protocol::open_desk`]): the desk is the
//! registered operator, so its pools are `(desk, asset)` and stakers deposit with the desk's address.

use alloy::primitives::{Address, U256, aliases::U88};
use bulkhead_contracts::{MockERC20, Mode, OperatorDesk, RewardRail, SecurityMarket};

use crate::{Protocol, Result, Sent};

/// What `SecurityMarket.postBid` takes: the backing an AVS wants and what it will pay for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BidOrder {
    /// The AVS (its admin posts).
    pub avs: u32,
    /// The asset of the backing (a pool's asset, or a tier's base asset).
    pub asset: Address,
    /// Backing wanted, in the asset's base units.
    pub backing: U256,
    /// Isolated or shared backing.
    pub mode: Mode,
    /// Lowest operator rating, in bps of one (0: any).
    pub min_rating_bps: u16,
    /// Seconds the backing is leased for.
    pub term: u64,
    /// Highest price, in bps of the backing per year; the premium for the whole term at it is escrowed.
    pub max_price_bps: u32,
    /// Highest operator commission the AVS's payments accept, in bps.
    pub max_commission_bps: u16,
}

/// What `SecurityMarket.postAsk` takes: capacity an operator offers from one of its desk's pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AskOrder {
    /// The pool (its operator must be the desk).
    pub pool: U256,
    /// Backing offered, in the pool's asset.
    pub capacity: U256,
    /// Isolated or shared backing.
    pub mode: Mode,
    /// Lowest price, in bps of the backing per year.
    pub min_price_bps: u32,
    /// Longest term, in seconds.
    pub max_term: u64,
}

/// An amount as the market's packed `uint88`, saturating: a larger amount is refused by the contract
/// (`AmountTooLarge`), which is where the refusal belongs.
fn u88(amount: U256) -> U88 {
    U88::saturating_from(amount)
}

impl Protocol<'_> {
    /// `SecurityMarket.openDesk`: creates an `OperatorDesk` owned by `owner`, registered as an operator with signing
    /// key `key` (metadata `ipfs://<owner's label>-desk`). Returns the desk's address (its pools' operator).
    pub fn open_desk(&mut self, owner: Address, key: Address) -> Result<Sent<Address>> {
        let uri = format!("ipfs://{}-desk", self.engine.name_of(owner));
        let call = SecurityMarket::openDeskCall {
            metadataURI: uri,
            signingKey: key,
        };
        let sent = self.tx(owner, self.sys.market, call)?;
        self.engine
            .label(sent.value, format!("{}-desk", self.engine.name_of(owner)));
        Ok(sent)
    }

    /// `OperatorDesk.optIn`, by the desk's owner: the desk joins the AVS's operator set (a fill needs it).
    pub fn desk_opt_in(&mut self, owner: Address, desk: Address, avs: u32) -> Result<Sent<()>> {
        self.tx_unit(owner, desk, OperatorDesk::optInCall { avsId: avs })
    }

    /// `OperatorDesk.optOut`, by the desk's owner (refused while a lease holds the AVS).
    pub fn desk_opt_out(&mut self, owner: Address, desk: Address, avs: u32) -> Result<Sent<()>> {
        self.tx_unit(owner, desk, OperatorDesk::optOutCall { avsId: avs })
    }

    /// `OperatorDesk.allocate`, by the desk's owner: the desk's own allocation of `pool` to `avs` (refused while a
    /// lease holds the pair).
    pub fn desk_allocate(
        &mut self,
        owner: Address,
        desk: Address,
        pool: U256,
        avs: u32,
        mode: Mode,
        fraction_wad: u64,
    ) -> Result<Sent<()>> {
        let call = OperatorDesk::allocateCall {
            poolId: pool,
            avsId: avs,
            mode: mode.code(),
            fractionWad: fraction_wad,
        };
        self.tx_unit(owner, desk, call)
    }

    /// `OperatorDesk.enableRewards`, by the desk's owner: the pool starts earning (its stakers can be paid).
    pub fn desk_enable_rewards(
        &mut self,
        owner: Address,
        desk: Address,
        pool: U256,
    ) -> Result<Sent<()>> {
        self.tx_unit(
            owner,
            desk,
            OperatorDesk::enableRewardsCall { poolId: pool },
        )
    }

    /// `OperatorDesk.setCommission`, by the desk's owner: queues the pool's commission (it applies after the rail's
    /// delay, and never above a payer's limit).
    pub fn desk_set_commission(
        &mut self,
        owner: Address,
        desk: Address,
        pool: U256,
        bps: u16,
    ) -> Result<Sent<()>> {
        self.tx_unit(
            owner,
            desk,
            OperatorDesk::setCommissionCall { poolId: pool, bps },
        )
    }

    /// `OperatorDesk.claimCommission`, by the desk's owner: the desk's commission in `token`, paid to `receiver`.
    pub fn desk_claim_commission(
        &mut self,
        owner: Address,
        desk: Address,
        token: Address,
        receiver: Address,
    ) -> Result<Sent<U256>> {
        self.tx(
            owner,
            desk,
            OperatorDesk::claimCommissionCall { token, receiver },
        )
    }

    /// Mints the bid's escrow ceiling to the AVS's `admin`, approves the market and posts the bid
    /// ([`Protocol::post_bid`]).
    pub fn mint_and_post_bid(&mut self, admin: Address, bid: &BidOrder) -> Result<Sent<U256>> {
        let escrow = bid_escrow(bid);
        self.mint(bid.asset, admin, escrow)?;
        self.approve(admin, bid.asset, self.sys.market, escrow)?;
        self.post_bid(admin, bid)
    }

    /// `SecurityMarket.postBid`, by the AVS's admin (the escrow approved beforehand): the bid's id.
    pub fn post_bid(&mut self, admin: Address, bid: &BidOrder) -> Result<Sent<U256>> {
        let call = SecurityMarket::postBidCall {
            avsId: bid.avs,
            asset: bid.asset,
            backing: u88(bid.backing),
            mode: bid.mode.code(),
            minRatingBps: bid.min_rating_bps,
            term: alloy::primitives::aliases::U40::saturating_from(bid.term),
            maxPriceBps: bid.max_price_bps,
            maxCommissionBps: bid.max_commission_bps,
        };
        self.tx(admin, self.sys.market, call)
    }

    /// `SecurityMarket.postAsk`, by the owner of the pool's desk: the ask's id.
    pub fn post_ask(&mut self, owner: Address, ask: &AskOrder) -> Result<Sent<U256>> {
        let call = SecurityMarket::postAskCall {
            poolId: ask.pool,
            capacity: u128::try_from(ask.capacity).unwrap_or(u128::MAX),
            mode: ask.mode.code(),
            minPriceBps: ask.min_price_bps,
            maxTerm: alloy::primitives::aliases::U40::saturating_from(ask.max_term),
        };
        self.tx(owner, self.sys.market, call)
    }

    /// `SecurityMarket.cancelBid`, by the AVS's admin: the escrow still held returns to its credits.
    pub fn cancel_bid(&mut self, admin: Address, bid: U256) -> Result<Sent<()>> {
        self.tx_unit(
            admin,
            self.sys.market,
            SecurityMarket::cancelBidCall { bidId: bid },
        )
    }

    /// `SecurityMarket.cancelAsk`, by the desk's owner.
    pub fn cancel_ask(&mut self, owner: Address, ask: U256) -> Result<Sent<()>> {
        self.tx_unit(
            owner,
            self.sys.market,
            SecurityMarket::cancelAskCall { askId: ask },
        )
    }

    /// `SecurityMarket.fill`, by the bid's AVS admin (at the ask's price) or the ask's desk owner (at the bid's):
    /// leases `amount` of backing; the lease's id.
    pub fn fill(
        &mut self,
        from: Address,
        bid: U256,
        ask: U256,
        amount: U256,
    ) -> Result<Sent<U256>> {
        let call = SecurityMarket::fillCall {
            bidId: bid,
            askId: ask,
            amount: u88(amount),
        };
        self.tx(from, self.sys.market, call)
    }

    /// `SecurityMarket.stream`, by anyone: pays the lease's premium up to now to the pool's stakers (through the
    /// rail) and refunds what was not backed. Returns (paid, refunded).
    pub fn stream(&mut self, from: Address, lease: U256) -> Result<Sent<(U256, U256)>> {
        let call = SecurityMarket::streamCall { leaseId: lease };
        self.tx(from, self.sys.market, call)
            .map(|r| r.map(|v| (v.paid, v.refunded)))
    }

    /// `SecurityMarket.withdraw`: `from`'s refunds in `token`, paid to `receiver`.
    pub fn withdraw_credits(
        &mut self,
        from: Address,
        token: Address,
        receiver: Address,
    ) -> Result<Sent<U256>> {
        let call = SecurityMarket::withdrawCall { token, receiver };
        self.tx(from, self.sys.market, call)
    }

    /// `RewardRail.enableRewards`, by the pool's operator: the pool starts earning.
    pub fn enable_rewards(&mut self, operator: Address, pool: U256) -> Result<Sent<()>> {
        let call = RewardRail::enableRewardsCall { poolId: pool };
        self.tx_unit(operator, self.sys.rail, call)
    }

    /// `RewardRail.setCommission`, by the pool's operator (a plain operator; a desk's owner uses
    /// [`Protocol::desk_set_commission`]).
    pub fn set_commission(&mut self, operator: Address, pool: U256, bps: u16) -> Result<Sent<()>> {
        let call = RewardRail::setCommissionCall { poolId: pool, bps };
        self.tx_unit(operator, self.sys.rail, call)
    }

    /// Mints `amount` of the pool's reward token to `payer`, approves the rail and pays the pool
    /// ([`Protocol::pay`]).
    pub fn mint_and_pay(
        &mut self,
        payer: Address,
        token: Address,
        pool: U256,
        amount: U256,
        max_commission_bps: u16,
    ) -> Result<Sent<(U256, U256)>> {
        self.mint(token, payer, amount)?;
        self.approve(payer, token, self.sys.rail, amount)?;
        self.pay(payer, pool, amount, max_commission_bps)
    }

    /// `RewardRail.pay`: `payer` pays `amount` (approved beforehand) to the pool's stakers, minus a commission of at
    /// most `max_commission_bps`. Returns (to the stakers, commission).
    pub fn pay(
        &mut self,
        payer: Address,
        pool: U256,
        amount: U256,
        max_commission_bps: u16,
    ) -> Result<Sent<(U256, U256)>> {
        let call = RewardRail::payCall {
            poolId: pool,
            amount,
            maxCommissionBps: max_commission_bps,
        };
        self.tx(payer, self.sys.rail, call)
            .map(|r| r.map(|v| (v.toStakers, v.commission)))
    }

    /// `RewardRail.claim`: what `staker`'s shares of `pool` earned, paid to `receiver`.
    pub fn claim_rewards(
        &mut self,
        staker: Address,
        pool: U256,
        receiver: Address,
    ) -> Result<Sent<U256>> {
        let call = RewardRail::claimCall {
            poolId: pool,
            receiver,
        };
        self.tx(staker, self.sys.rail, call)
    }

    /// `RewardRail.claimEscrow`: what `staker`'s queued withdrawal earned while slashable, paid to `receiver`.
    pub fn claim_escrow_rewards(
        &mut self,
        staker: Address,
        withdrawal: U256,
        receiver: Address,
    ) -> Result<Sent<U256>> {
        let call = RewardRail::claimEscrowCall {
            withdrawalId: withdrawal,
            receiver,
        };
        self.tx(staker, self.sys.rail, call)
    }

    /// `RewardRail.claimCommission`, by a plain operator: its commission in `token`, paid to `receiver`.
    pub fn claim_commission(
        &mut self,
        operator: Address,
        token: Address,
        receiver: Address,
    ) -> Result<Sent<U256>> {
        let call = RewardRail::claimCommissionCall { token, receiver };
        self.tx(operator, self.sys.rail, call)
    }

    /// `owner` approves `spender` to take `amount` of `token`.
    pub fn approve(
        &mut self,
        owner: Address,
        token: Address,
        spender: Address,
        amount: U256,
    ) -> Result<Sent<bool>> {
        let call = MockERC20::approveCall {
            spender,
            value: amount,
        };
        self.tx(owner, token, call)
    }
}

/// Seconds in the market's year (365 days).
pub const YEAR: u64 = 365 * 86_400;

/// The escrow `postBid` takes: `backing · maxPriceBps · term / (10⁴ · year)`, rounded up (the contract's formula).
pub fn bid_escrow(bid: &BidOrder) -> U256 {
    let numerator = bid.backing * U256::from(bid.max_price_bps) * U256::from(bid.term);
    numerator.div_ceil(U256::from(10_000u64) * U256::from(YEAR))
}

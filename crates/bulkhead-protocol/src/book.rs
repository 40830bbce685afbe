//! The security market at a glance, read off chain: the book (open bids and asks), every lease with the backing it
//! has now, each traded pool's utilisation and each asset's prices. `bulkhead market` prints it; scripts read it as
//! JSON. Reading is one call per order and lease (fine off chain; nothing on chain loops over them).

use std::collections::BTreeMap;

use alloy::primitives::{Address, U256};
use bulkhead_contracts::{MockERC20, Mode};

use crate::{Result, Views, views::LeaseView};

/// What the market holds at `at` (the chain's timestamp).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketBook {
    /// The `SecurityMarket` read.
    pub market: Address,
    /// The chain's timestamp the book was read at.
    pub at: u64,
    /// Bids, in id order (open ones only unless closed were asked for).
    pub bids: Vec<BidRow>,
    /// Asks, in id order (open ones only unless closed were asked for).
    pub asks: Vec<AskRow>,
    /// Every lease, in id order.
    pub leases: Vec<LeaseRow>,
    /// Every pool with an ask or a lease: how much of it is leased.
    pub pools: Vec<PoolUse>,
    /// Per asset: the best bid, the best ask and what live leases pay.
    pub prices: Vec<AssetPrices>,
}

/// A token as the book shows amounts in it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Asset {
    /// Its address.
    pub address: Address,
    /// Its symbol (`?` when it has none).
    pub symbol: String,
    /// Its decimals (18 when it does not say).
    pub decimals: u8,
}

/// An amount in base units, written as a decimal string in JSON (it can exceed a double).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Amount(pub U256);

impl serde::Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

/// An AVS's bid.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BidRow {
    /// Its id.
    pub id: u32,
    /// The AVS.
    pub avs: u32,
    /// The asset amounts are in.
    pub asset: Asset,
    /// `isolated` or `shared`.
    pub mode: &'static str,
    /// Backing still wanted (0: filled or cancelled).
    pub backing: Amount,
    /// Premium still escrowed for it.
    pub escrow: Amount,
    /// Seconds.
    pub term: u64,
    /// Highest price, bps of the backing per year.
    pub max_price_bps: u32,
    /// Highest operator commission its payments accept, bps.
    pub max_commission_bps: u16,
    /// Lowest operator rating, bps of one (0: any).
    pub min_rating_bps: u16,
    /// Still open.
    pub open: bool,
}

/// An operator's ask.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AskRow {
    /// Its id.
    pub id: u32,
    /// The pool.
    pub pool: u64,
    /// The pool's operator: the desk that posted it.
    pub desk: Address,
    /// The asset amounts are in.
    pub asset: Asset,
    /// `isolated` or `shared`.
    pub mode: &'static str,
    /// Capacity still offered (0: filled or cancelled).
    pub capacity: Amount,
    /// Lowest price, bps of the backing per year.
    pub min_price_bps: u32,
    /// Seconds.
    pub max_term: u64,
    /// Still open.
    pub open: bool,
}

/// Where a lease is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum LeaseStatus {
    /// Filled; the allocation has not taken effect yet.
    Pending,
    /// Backing in force; premium streaming.
    Live,
    /// The term is over but the last span has not been streamed.
    Due,
    /// Streamed to its end.
    Ended,
    /// Ended early: the pool was fully slashed or the AVS ejected the desk.
    EndedEarly,
}

impl LeaseStatus {
    /// Not ended: the lease holds (or will hold) its pool's backing.
    pub fn in_force(self) -> bool {
        !matches!(self, Self::Ended | Self::EndedEarly)
    }
}

/// A lease with the backing it provides now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaseRow {
    /// Its id.
    pub id: u64,
    /// The bid it filled.
    pub bid: u64,
    /// The pool.
    pub pool: u64,
    /// The AVS.
    pub avs: u32,
    /// The asset amounts are in.
    pub asset: Asset,
    /// `isolated` or `shared`.
    pub mode: &'static str,
    /// Backing leased.
    pub backing: Amount,
    /// The AVS's slashable backing in the pool now (what the lease provides; it may hold more than the lease).
    pub backing_now: Amount,
    /// Price, bps of the backing per year.
    pub price_bps: u64,
    /// Premium for the whole term at the lease's price.
    pub premium: Amount,
    /// When the allocation takes effect and the premium starts streaming.
    pub start: u64,
    /// start + the term.
    pub end: u64,
    /// Streamed up to this time (the start before the first stream).
    pub streamed_to: u64,
    /// Paid to the pool's stakers and commission.
    pub paid: Amount,
    /// Returned to the AVS for backing not provided (and, at an early end, for the rest of the term).
    pub refunded: Amount,
    /// Still escrowed: premium − paid − refunded.
    pub escrowed: Amount,
    /// Where it is in its life.
    pub status: LeaseStatus,
}

/// A traded pool's utilisation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolUse {
    /// The pool.
    pub pool: u64,
    /// The pool's operator.
    pub operator: Address,
    /// The asset amounts are in.
    pub asset: Asset,
    /// Slashable assets of the pool now.
    pub value: Amount,
    /// Backing leased by leases not yet ended.
    pub leased: Amount,
    /// Capacity its open asks still offer.
    pub offered: Amount,
    /// leased / value, in bps (0 for an empty pool).
    pub utilisation_bps: u64,
}

/// An asset's prices, in bps of the backing per year.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetPrices {
    /// The asset amounts are in.
    pub asset: Asset,
    /// Highest price an open bid pays (None: no open bid).
    pub best_bid_bps: Option<u32>,
    /// Lowest price an open ask takes (None: no open ask).
    pub best_ask_bps: Option<u32>,
    /// Backing leased by leases not yet ended.
    pub leased: Amount,
    /// Their price weighted by backing, rounded down (None: no such lease).
    pub leased_price_bps: Option<u64>,
}

fn mode_name(code: u8) -> &'static str {
    Mode::from_code(code).map_or("none", Mode::name)
}

/// Reads symbols and decimals once per token.
struct Assets<'v, V: Views + ?Sized> {
    views: &'v V,
    known: BTreeMap<Address, Asset>,
}

impl<V: Views + ?Sized> Assets<'_, V> {
    fn of(&mut self, address: Address) -> Asset {
        self.known
            .entry(address)
            .or_insert_with(|| {
                let engine = self.views.engine_ref();
                Asset {
                    address,
                    symbol: engine
                        .view(address, MockERC20::symbolCall {})
                        .unwrap_or_else(|_| "?".into()),
                    decimals: engine
                        .view(address, MockERC20::decimalsCall {})
                        .unwrap_or(18),
                }
            })
            .clone()
    }
}

impl MarketBook {
    /// Reads the market of `views`'s system; `closed` keeps filled and cancelled orders in the book.
    pub fn read<V: Views + ?Sized>(views: &V, closed: bool) -> Result<Self> {
        let at = views.engine_ref().timestamp();
        let (bid_count, ask_count, _) = views.market_counts()?;
        let mut assets = Assets {
            views,
            known: BTreeMap::new(),
        };
        let mut bids = Vec::new();
        for id in 1..=bid_count {
            let b = views.bid(U256::from(id))?;
            let open = !b.backing.is_zero();
            if open || closed {
                bids.push(BidRow {
                    id,
                    avs: b.avsId,
                    asset: assets.of(b.asset),
                    mode: mode_name(b.mode),
                    backing: Amount(U256::from(b.backing)),
                    escrow: Amount(U256::from(b.escrow)),
                    term: b.term.to::<u64>(),
                    max_price_bps: b.maxPriceBps,
                    max_commission_bps: b.maxCommissionBps,
                    min_rating_bps: b.minRatingBps,
                    open,
                });
            }
        }
        let mut asks = Vec::new();
        for id in 1..=ask_count {
            let a = views.ask(U256::from(id))?;
            let open = a.capacity != 0;
            if open || closed {
                let pool = views.pool(U256::from(a.poolId))?;
                asks.push(AskRow {
                    id,
                    pool: u64::from(a.poolId),
                    desk: pool.operator,
                    asset: assets.of(reward_asset(views, pool.poolId, pool.asset)?),
                    mode: mode_name(a.mode),
                    capacity: Amount(U256::from(a.capacity)),
                    min_price_bps: a.minPriceBps,
                    max_term: a.maxTerm.to::<u64>(),
                    open,
                });
            }
        }
        let mut leases = Vec::new();
        for l in views.all_leases()? {
            leases.push(lease_row(views, &mut assets, &l, at)?);
        }
        let pools = pool_use(views, &mut assets, &asks, &leases)?;
        let prices = prices(&bids, &asks, &leases);
        Ok(Self {
            market: views.system_ref().market,
            at,
            bids,
            asks,
            leases,
            pools,
            prices,
        })
    }
}

/// The token a pool is paid in: its asset, or for a tier its base pool's asset.
fn reward_asset<V: Views + ?Sized>(views: &V, pool: U256, pool_asset: Address) -> Result<Address> {
    match views.base_of(pool)? {
        Some(base) => Ok(views.pool(base)?.asset),
        None => Ok(pool_asset),
    }
}

fn lease_row<V: Views + ?Sized>(
    views: &V,
    assets: &mut Assets<'_, V>,
    l: &LeaseView,
    at: u64,
) -> Result<LeaseRow> {
    let (start, end, streamed_to) = (
        l.start.to::<u64>(),
        l.end.to::<u64>(),
        l.streamedTo.to::<u64>(),
    );
    let status = if l.ended {
        if streamed_to < end {
            LeaseStatus::EndedEarly
        } else {
            LeaseStatus::Ended
        }
    } else if at < start {
        LeaseStatus::Pending
    } else if at < end {
        LeaseStatus::Live
    } else {
        LeaseStatus::Due
    };
    Ok(LeaseRow {
        id: l.leaseId.to::<u64>(),
        bid: l.bidId.to::<u64>(),
        pool: l.poolId.to::<u64>(),
        avs: l.avsId,
        asset: assets.of(l.asset),
        mode: mode_name(l.mode),
        backing: Amount(l.backing),
        backing_now: Amount(views.slashable_backing(l.avsId, l.poolId)?),
        price_bps: l.priceBps.to::<u64>(),
        premium: Amount(l.premium),
        start,
        end,
        streamed_to: if streamed_to == 0 { start } else { streamed_to },
        paid: Amount(l.paid),
        refunded: Amount(l.refunded),
        escrowed: Amount(l.premium.saturating_sub(l.paid + l.refunded)),
        status,
    })
}

fn pool_use<V: Views + ?Sized>(
    views: &V,
    assets: &mut Assets<'_, V>,
    asks: &[AskRow],
    leases: &[LeaseRow],
) -> Result<Vec<PoolUse>> {
    let mut by_pool: BTreeMap<u64, (U256, U256)> = BTreeMap::new();
    for a in asks.iter().filter(|a| a.open) {
        by_pool.entry(a.pool).or_default().1 += a.capacity.0;
    }
    for l in leases.iter().filter(|l| l.status.in_force()) {
        by_pool.entry(l.pool).or_default().0 += l.backing.0;
    }
    by_pool
        .into_iter()
        .map(|(pool, (leased, offered))| {
            let view = views.pool(U256::from(pool))?;
            let value = view.slashableAssets;
            let utilisation_bps = if value.is_zero() {
                0
            } else {
                (leased * U256::from(10_000u64) / value).saturating_to::<u64>()
            };
            Ok(PoolUse {
                pool,
                operator: view.operator,
                asset: assets.of(reward_asset(views, view.poolId, view.asset)?),
                value: Amount(value),
                leased: Amount(leased),
                offered: Amount(offered),
                utilisation_bps,
            })
        })
        .collect()
}

fn prices(bids: &[BidRow], asks: &[AskRow], leases: &[LeaseRow]) -> Vec<AssetPrices> {
    let mut by_asset: BTreeMap<Address, AssetPrices> = BTreeMap::new();
    let mut weighted: BTreeMap<Address, U256> = BTreeMap::new();
    for b in bids.iter().filter(|b| b.open) {
        let p = by_asset
            .entry(b.asset.address)
            .or_insert_with(|| empty(&b.asset));
        p.best_bid_bps = Some(
            p.best_bid_bps
                .map_or(b.max_price_bps, |x| x.max(b.max_price_bps)),
        );
    }
    for a in asks.iter().filter(|a| a.open) {
        let p = by_asset
            .entry(a.asset.address)
            .or_insert_with(|| empty(&a.asset));
        p.best_ask_bps = Some(
            p.best_ask_bps
                .map_or(a.min_price_bps, |x| x.min(a.min_price_bps)),
        );
    }
    for l in leases.iter().filter(|l| l.status.in_force()) {
        let p = by_asset
            .entry(l.asset.address)
            .or_insert_with(|| empty(&l.asset));
        p.leased.0 += l.backing.0;
        *weighted.entry(l.asset.address).or_default() += l.backing.0 * U256::from(l.price_bps);
    }
    for (address, sum) in weighted {
        if let Some(p) = by_asset.get_mut(&address)
            && !p.leased.0.is_zero()
        {
            p.leased_price_bps = Some((sum / p.leased.0).saturating_to::<u64>());
        }
    }
    by_asset.into_values().collect()
}

fn empty(asset: &Asset) -> AssetPrices {
    AssetPrices {
        asset: asset.clone(),
        best_bid_bps: None,
        best_ask_bps: None,
        leased: Amount::default(),
        leased_price_bps: None,
    }
}

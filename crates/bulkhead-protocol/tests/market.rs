//! The security market's three worked examples (`test/market/SecurityMarket.t.sol`, `docs/market.md`) replayed
//! through the protocol driver on the real bytecode as `System::deploy` wires it (rail = the vault's reward hooks,
//! market = the rail's payer), asserting the same hand-derived numbers.

mod common;

use alloy::primitives::{Address, U256};
use bulkhead_contracts::{Mode, OperatorDesk, SecurityMarket};
use bulkhead_evm::{DAY, DeployConfig, Engine, System};
use bulkhead_protocol::{
    ErrorKind, Protocol, Views,
    manager::AvsRegistration,
    market::{AskOrder, BidOrder, bid_escrow},
};
use common::{ether, sci};
use eyre::Result;

const TERM: u64 = 365 * DAY;

/// `MarketFixture`: `deskOwner`'s desk runs a WETH pool holding alice's 100 and bob's 300 (400 shares), rewards
/// on; AVS `avs` (admin `avsAdmin`, instant module `module`), the desk opted in.
struct Market {
    engine: Engine,
    sys: System,
    desk_owner: Address,
    desk: Address,
    alice: Address,
    bob: Address,
    admin: Address,
    module: Address,
    pool: U256,
    avs: u32,
}

impl Market {
    fn setup() -> Result<Self> {
        common::init_tracing();
        let mut engine = Engine::default();
        let sys = System::deploy(&mut engine, &DeployConfig::default())?;
        let [desk_owner, key, alice, bob, admin, module, sink] = [
            "deskOwner",
            "deskKey",
            "alice",
            "bob",
            "avsAdmin",
            "module",
            "sink",
        ]
        .map(|name| engine.actor(name));
        let mut p = Protocol::new(&mut engine, sys);
        let desk = p.open_desk(desk_owner, key)?.value;
        let pool = p
            .mint_and_deposit(alice, desk, sys.weth.address, ether(100))?
            .poolId;
        p.mint_and_deposit(bob, desk, sys.weth.address, ether(300))?;
        p.desk_enable_rewards(desk_owner, desk, pool)?;
        let avs = p.register_avs(admin, &instant(module, sink))?.value;
        p.desk_opt_in(desk_owner, desk, avs)?;
        Ok(Self {
            engine,
            sys,
            desk_owner,
            desk,
            alice,
            bob,
            admin,
            module,
            pool,
            avs,
        })
    }

    fn protocol(&mut self) -> Protocol<'_> {
        Protocol::new(&mut self.engine, self.sys)
    }

    fn bid(&self, backing: U256, mode: Mode) -> BidOrder {
        BidOrder {
            avs: self.avs,
            asset: self.sys.weth.address,
            backing,
            mode,
            min_rating_bps: 0,
            term: TERM,
            max_price_bps: 1000,
            max_commission_bps: 1000,
        }
    }

    fn ask(&self, capacity: U256, mode: Mode) -> AskOrder {
        AskOrder {
            pool: self.pool,
            capacity,
            mode,
            min_price_bps: 500,
            max_term: 730 * DAY,
        }
    }

    /// A 200-WETH lease at 10% a year over one year, filled by the desk (at the bid's price): its id and start.
    fn lease(&mut self, mode: Mode) -> Result<(U256, u64)> {
        let (bid, ask) = (self.bid(ether(200), mode), self.ask(ether(400), mode));
        let (admin, owner) = (self.admin, self.desk_owner);
        let mut p = self.protocol();
        let bid = p.mint_and_post_bid(admin, &bid)?.value;
        let ask = p.post_ask(owner, &ask)?.value;
        let lease = p.fill(owner, bid, ask, ether(200))?.value;
        let start = p.lease(lease)?.start.to::<u64>();
        Ok((lease, start))
    }

    fn warp_to(&mut self, t: u64) {
        let now = self.engine.timestamp();
        self.engine.warp(t - now);
    }
}

fn instant(module: Address, sink: Address) -> AvsRegistration {
    AvsRegistration {
        metadata_uri: "ipfs://avs".into(),
        slasher: module,
        sink,
        resolver: Address::ZERO,
        veto_window: 0,
        max_slash_wad: sci("1e18").to::<u64>(),
    }
}

#[test]
fn example1_an_isolated_lease_pays_the_stakers_over_its_term() -> Result<()> {
    let mut m = Market::setup()?;
    let (weth, market) = (m.sys.weth.address, m.sys.market);
    assert_eq!(bid_escrow(&m.bid(ether(200), Mode::Isolated)), ether(20));
    let (lease, start) = m.lease(Mode::Isolated)?;
    let (alice, bob, owner, desk, pool) = (m.alice, m.bob, m.desk_owner, m.desk, m.pool);
    let view = m.protocol().lease(lease)?;
    assert_eq!(view.premium, ether(20), "200 x 10% x 1 year");
    assert_eq!(view.end.to::<u64>(), start + TERM);
    assert_eq!(
        m.protocol().balance_of(weth, market)?,
        ether(20),
        "escrowed"
    );

    m.warp_to(start + TERM / 2);
    let (paid, refunded) = m.protocol().stream(alice, lease)?.value;
    assert_eq!((paid, refunded), (ether(10), U256::ZERO));
    assert_eq!(m.protocol().claimable_rewards(pool, alice)?, sci("2.25e18"));
    assert_eq!(m.protocol().claimable_rewards(pool, bob)?, sci("6.75e18"));

    m.warp_to(start + TERM);
    let mut p = m.protocol();
    assert_eq!(p.stream(bob, lease)?.value.0, ether(10));
    let view = p.lease(lease)?;
    assert!(view.ended);
    assert_eq!(
        view.paid + view.refunded,
        view.premium,
        "premium conservation"
    );
    assert_eq!(p.claim_rewards(alice, pool, alice)?.value, sci("4.5e18"));
    assert_eq!(p.claim_rewards(bob, pool, bob)?.value, sci("13.5e18"));
    assert_eq!(
        p.desk_claim_commission(owner, desk, weth, owner)?.value,
        ether(2)
    );
    assert_eq!(p.balance_of(weth, market)?, U256::ZERO, "nothing escrowed");
    let books = p.pool_rewards(pool)?;
    assert_eq!(books.paidToStakers, ether(18));
    assert_eq!(books.commissionPaid, ether(2));
    Ok(())
}

#[test]
fn example2_a_partly_slashed_shared_lease_refunds_the_shortfall() -> Result<()> {
    let mut m = Market::setup()?;
    let (owner, desk, pool, admin, weth) =
        (m.desk_owner, m.desk, m.pool, m.admin, m.sys.weth.address);
    // A second AVS Y holds the whole pool shared; the guard lets one slash take everything.
    let (module_y, sink) = (m.engine.actor("moduleY"), m.engine.actor("sink"));
    let mut p = m.protocol();
    p.set_guard(sci("1e18").to::<u64>(), 1)?;
    let y = p.register_avs(admin, &instant(module_y, sink))?.value;
    p.desk_opt_in(owner, desk, y)?;
    p.desk_allocate(owner, desk, pool, y, Mode::Shared, sci("1e18").to::<u64>())?;
    let (lease, start) = m.lease(Mode::Shared)?;

    m.warp_to(start + TERM / 2);
    assert_eq!(m.protocol().stream(admin, lease)?.value.0, ether(10));
    let avs = m.avs;
    let mut p = m.protocol();
    p.slash(module_y, y, pool, sci("0.75e18").to::<u64>())?;
    assert_eq!(p.slashable_backing(avs, pool)?, ether(100), "half leased");

    m.warp_to(start + TERM);
    let mut p = m.protocol();
    let (paid, refunded) = p.stream(admin, lease)?.value;
    assert_eq!(
        (paid, refunded),
        (ether(5), ether(5)),
        "the shortfall returns"
    );
    assert_eq!(p.market_credits(admin, weth)?, ether(5));
    assert_eq!(p.withdraw_credits(admin, weth, admin)?.value, ether(5));
    let err = p.withdraw_credits(admin, weth, admin).unwrap_err();
    assert!(
        err.revert()
            .is_some_and(|r| r.kind() == ErrorKind::of::<SecurityMarket::NothingToWithdraw>())
    );
    Ok(())
}

#[test]
fn example3_a_commission_raise_cannot_front_run_the_payment() -> Result<()> {
    let mut m = Market::setup()?;
    let (lease, start) = m.lease(Mode::Isolated)?;
    let (owner, desk, pool, alice, weth) =
        (m.desk_owner, m.desk, m.pool, m.alice, m.sys.weth.address);
    m.warp_to(start + 73 * DAY);
    m.protocol().stream(alice, lease)?;
    m.protocol().desk_set_commission(owner, desk, pool, 5000)?;
    m.warp_to(start + 146 * DAY);
    let mut p = m.protocol();
    assert_eq!(p.stream(alice, lease)?.value, (ether(4), U256::ZERO));
    assert_eq!(
        p.commission_owed(desk, weth)?,
        sci("0.8e18"),
        "at the bid's 10%"
    );
    assert_eq!(p.claimable_rewards(pool, alice)?, sci("1.8e18"));
    let (bps, next, _) = p.commission_of(pool)?;
    assert_eq!(
        (bps, next),
        (5000, 0),
        "the raise is in effect, and still never reached the lease"
    );
    Ok(())
}

#[test]
fn the_desk_cannot_lower_a_leased_allocation_before_the_end() -> Result<()> {
    let mut m = Market::setup()?;
    let (_, start) = m.lease(Mode::Isolated)?;
    let (owner, desk, pool, avs) = (m.desk_owner, m.desk, m.pool, m.avs);
    m.warp_to(start + 10 * DAY);
    let mut p = m.protocol();
    let err = p
        .desk_allocate(owner, desk, pool, avs, Mode::Isolated, 0)
        .unwrap_err();
    assert!(
        err.revert()
            .is_some_and(|r| r.kind() == ErrorKind::of::<OperatorDesk::LeaseHoldsAVS>()),
        "{err}"
    );
    assert_eq!(p.desk_held_until(desk, avs)?, start + TERM);
    assert_eq!(p.desk_owner(desk)?, Some(owner));
    assert_eq!(p.desk_owner(owner)?, None, "a person is not a desk");
    Ok(())
}

#[test]
fn nobody_is_paid_for_backing_its_own_avs_slashed_away() -> Result<()> {
    let mut m = Market::setup()?;
    let (lease, start) = m.lease(Mode::Isolated)?;
    let (module, avs, pool, admin) = (m.module, m.avs, m.pool, m.admin);
    m.warp_to(start + TERM / 2);
    let mut p = m.protocol();
    assert_eq!(p.stream(admin, lease)?.value.0, ether(10));
    // The AVS takes half its isolated 200: the second half of the term is paid on 100.
    p.slash(module, avs, pool, sci("0.5e18").to::<u64>())?;
    assert_eq!(p.slashable_backing(avs, pool)?, ether(100));
    m.warp_to(start + TERM);
    let mut p = m.protocol();
    assert_eq!(p.stream(admin, lease)?.value, (ether(5), ether(5)));
    let view = p.lease(lease)?;
    assert_eq!(
        (view.paid, view.refunded, view.premium),
        (ether(15), ether(5), ether(20))
    );
    Ok(())
}

//! Risk-priced security (`Source::risk_pricing`) on the real bytecode, every figure worked out by hand.
//!
//! The market world: two desks, each running a WETH pool (A: alice 100 + bob 300; B: carol 200), both earning; one
//! AVS (`avs-1`, no reputation layer, so its fault probability is the prior, 1/20 a year) leases 200 WETH of A at
//! 500 bps a year and 100 WETH of B at 300 bps, both isolated, both for one year (365 days, the market's year):
//! - the AVS's backing B = 200 + 100 = 300 WETH; failing alone it takes all of it: loss L = 300;
//! - expected annual loss E = 1/20 · 300 = 15 WETH; break-even 10⁴ · 15 / 300 = 500 bps a year;
//! - lease 1 is priced at exactly the break-even (not underpriced: the flag is strict), lease 2 at 300 < 500
//!   (underpriced, margin −200);
//! - the market pays (200 · 500 + 100 · 300) / 300 = 1300/3 bps on 300 WETH: 13 WETH a year for an expected loss of
//!   15; premiums 10 + 3 = 13 WETH, half of each paid at mid-term (5 + 1.5 = 13/2), nothing refunded;
//! - the commission is the default 10% (within the bids' 10% limit): the stakers keep 450 and 270 bps.

use alloy::primitives::{Address, U256};
use bulkhead_audit::{
    AuditError, FaultRate, RiskPricing, Source, Terms,
    pricing::{FaultBasis, LeaseStatus, fault_probability},
};
use bulkhead_contracts::{Mode, WAD};
use bulkhead_evm::{DAY, DeployConfig, Deployment, Engine, System};
use bulkhead_protocol::{
    Protocol, Views,
    manager::AvsRegistration,
    market::{AskOrder, BidOrder},
};
use bulkhead_risk::number::{self, Exact, Q};
use serde_json::json;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const TERM: u64 = 365 * DAY;

fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(WAD)
}

fn q(text: &str) -> Exact {
    Exact(number::parse(text).expect("a number"))
}

/// The market world above, at `start + TERM / 2` after both leases were streamed; returns the engine, the system and
/// the leases' start.
fn market_world() -> Result<(Engine, System, u64)> {
    let mut engine = Engine::default();
    let sys = System::deploy(&mut engine, &DeployConfig::default())?;
    let [
        owner1,
        key1,
        owner2,
        key2,
        alice,
        bob,
        carol,
        admin,
        module,
        sink,
    ] = [
        "deskOwner1",
        "deskKey1",
        "deskOwner2",
        "deskKey2",
        "alice",
        "bob",
        "carol",
        "avsAdmin",
        "module",
        "sink",
    ]
    .map(|name| engine.actor(name));
    let weth = sys.weth.address;
    let mut p = Protocol::new(&mut engine, sys);
    let desk1 = p.open_desk(owner1, key1)?.value;
    let desk2 = p.open_desk(owner2, key2)?.value;
    let pool_a = p.mint_and_deposit(alice, desk1, weth, ether(100))?.poolId;
    p.mint_and_deposit(bob, desk1, weth, ether(300))?;
    let pool_b = p.mint_and_deposit(carol, desk2, weth, ether(200))?.poolId;
    p.desk_enable_rewards(owner1, desk1, pool_a)?;
    p.desk_enable_rewards(owner2, desk2, pool_b)?;
    let registration = AvsRegistration {
        metadata_uri: "ipfs://avs".into(),
        slasher: module,
        sink,
        resolver: Address::ZERO,
        veto_window: 0,
        max_slash_wad: WAD,
    };
    let avs = p.register_avs(admin, &registration)?.value;
    p.desk_opt_in(owner1, desk1, avs)?;
    p.desk_opt_in(owner2, desk2, avs)?;
    let mut lease = |owner: Address, pool: U256, backing: U256, price: u32| -> Result<U256> {
        let bid = BidOrder {
            avs,
            asset: weth,
            backing,
            mode: Mode::Isolated,
            min_rating_bps: 0,
            term: TERM,
            max_price_bps: price,
            max_commission_bps: 1000,
        };
        let ask = AskOrder {
            pool,
            capacity: backing,
            mode: Mode::Isolated,
            min_price_bps: 100,
            max_term: 730 * DAY,
        };
        let bid = p.mint_and_post_bid(admin, &bid)?.value;
        let ask = p.post_ask(owner, &ask)?.value;
        // The desk fills the bid: at the bid's price.
        Ok(p.fill(owner, bid, ask, backing)?.value)
    };
    let fair = lease(owner1, pool_a, ether(200), 500)?;
    let cheap = lease(owner2, pool_b, ether(100), 300)?;
    let start = p.lease(fair)?.start.to::<u64>();
    assert_eq!(p.lease(cheap)?.start.to::<u64>(), start, "one block");
    let now = engine.timestamp();
    engine.warp(start + TERM / 2 - now);
    let mut p = Protocol::new(&mut engine, sys);
    assert_eq!(p.stream(alice, fair)?.value, (ether(5), U256::ZERO));
    assert_eq!(
        p.stream(alice, cheap)?.value,
        (U256::from(15u64) * U256::from(WAD / 10), U256::ZERO)
    );
    Ok((engine, sys, start))
}

/// `sys` as a deployment file names it; `market: false` leaves out the rail and the market, as a file written
/// before issue 17 does.
fn deployment(sys: &System, market: bool) -> Result<Deployment> {
    let mut contracts = json!({
        "OperatorRegistry": sys.registry,
        "StakeVault": sys.vault,
        "AllocationManager": sys.manager,
        "Reputation": sys.reputation,
    });
    if market {
        contracts["RewardRail"] = json!(sys.rail);
        contracts["SecurityMarket"] = json!(sys.market);
    }
    Ok(serde_json::from_value(json!({
        "chainId": 31337,
        "block": 0,
        "escrowDelay": 7 * DAY,
        "allocationDelay": DAY,
        "deallocationDelay": 3 * DAY,
        "executionWindow": DAY,
        "owner": sys.owner,
        "guardian": sys.guardian,
        "contracts": contracts,
        "assets": {"WETH": sys.weth.address},
        "artifacts": {},
    }))?)
}

fn terms() -> Result<Terms> {
    Ok(serde_json::from_value(json!({
        "services": {"avs-1": {"profit": "100", "threshold": "1/2"}},
        "unit": "WETH",
    }))?)
}

fn price(engine: &Engine, sys: &System, market: bool, prior: &FaultRate) -> Result<RiskPricing> {
    let source = Source::from_chain(engine, &deployment(sys, market)?, &terms()?)?;
    Ok(source.risk_pricing(&source.bearers(), prior)?)
}

#[test]
fn a_lease_below_its_avss_break_even_is_flagged_and_only_that_one() -> Result {
    let (engine, sys, start) = market_world()?;
    let pricing = price(&engine, &sys, true, &FaultRate::default())?;
    assert!(pricing.market);
    assert_eq!(pricing.fault_rate, q("1/20"));
    assert_eq!(pricing.unit, "WETH");
    assert_eq!(pricing.now, start + TERM / 2);
    let [s] = &pricing.services[..] else {
        panic!("one AVS: {:?}", pricing.services)
    };
    assert_eq!((s.service.as_str(), s.avs_id), ("avs-1", 1));
    assert_eq!(s.fault_basis, FaultBasis::Prior, "no reputation layer");
    assert_eq!(s.rating_wad, None);
    assert_eq!(s.fault_probability, q("1/20"));
    assert_eq!(s.backing, q("300"));
    assert_eq!(s.loss, q("300"), "isolated: it takes all it backs");
    assert_eq!(s.expected_annual_loss, q("15"));
    assert_eq!(s.required_bps, q("500"));
    assert_eq!(s.required_bps_ceil, 500);
    assert_eq!(s.live_leases, 2);
    assert_eq!(s.leased_backing, q("300"));
    assert_eq!(s.market_bps, Some(q("1300/3")));
    assert_eq!(s.annual_premium, q("13"), "below the expected loss, 15");
    assert_eq!(s.premium, q("13"));
    assert_eq!(s.paid, q("13/2"));
    assert_eq!(s.refunded, q("0"));
    assert_eq!(s.underpriced_leases, 1);

    let [fair, cheap] = &pricing.leases[..] else {
        panic!("two leases: {:?}", pricing.leases)
    };
    assert_eq!((fair.lease_id, fair.pool_id, fair.price_bps), (1, 1, 500));
    assert_eq!(
        (cheap.lease_id, cheap.pool_id, cheap.price_bps),
        (2, 2, 300)
    );
    assert_eq!(
        (fair.pool.as_str(), cheap.pool.as_str()),
        ("pool-1", "pool-2")
    );
    for l in [fair, cheap] {
        assert_eq!(l.status, LeaseStatus::Running);
        assert!(l.live);
        assert_eq!(l.required_bps, q("500"));
        assert_eq!(l.mode, "isolated");
        assert_eq!(l.commission_bps, Some(1000));
        assert_eq!((l.start, l.end), (start, start + TERM));
        assert_eq!(l.refunded, q("0"));
    }
    assert_eq!(
        (fair.backing.clone(), cheap.backing.clone()),
        (q("200"), q("100"))
    );
    assert_eq!(fair.backing_raw, ether(200).to_string());
    assert_eq!(
        (fair.premium.clone(), cheap.premium.clone()),
        (q("10"), q("3"))
    );
    assert_eq!((fair.paid.clone(), cheap.paid.clone()), (q("5"), q("3/2")));
    assert_eq!(fair.margin_bps, q("0"));
    assert_eq!(cheap.margin_bps, q("-200"));
    assert_eq!(fair.stakers_bps, Some(q("450")));
    assert_eq!(cheap.stakers_bps, Some(q("270")));
    assert!(!fair.underpriced, "at the break-even exactly: covered");
    assert!(cheap.underpriced, "300 < 500");
    assert_eq!(pricing.underpriced, 1);

    // JSON: ids, prices, counts and flags are numbers and booleans; amounts exact rationals as the audit writes them.
    let v = serde_json::to_value(&pricing)?;
    assert_eq!(v["services"][0]["required_bps_ceil"], json!(500));
    assert_eq!(v["services"][0]["market_bps"], json!("1300/3"));
    assert_eq!(v["services"][0]["fault_basis"], json!("prior"));
    assert_eq!(v["leases"][1]["price_bps"], json!(300));
    assert_eq!(v["leases"][1]["lease_id"], json!(2));
    assert_eq!(v["leases"][1]["underpriced"], json!(true));
    assert_eq!(v["leases"][1]["status"], json!("running"));
    assert_eq!(v["leases"][1]["margin_bps"], json!("-200"));
    assert_eq!(v["underpriced"], json!(1));

    // The HTML section: both tables, the flag on the second lease only.
    let html = pricing.html();
    assert!(
        html.contains("data-testid=\"risk-pricing\"")
            && html.contains("data-testid=\"lease-pricing\"")
    );
    assert_eq!(html.matches(">underpriced</td>").count(), 1);
    assert_eq!(html.matches(">covers its risk</td>").count(), 1);

    // A higher prior flags both; none flags neither.
    let doubled = price(&engine, &sys, true, &FaultRate::parse("1/10")?)?;
    assert_eq!(doubled.services[0].required_bps, q("1000"));
    assert_eq!(doubled.underpriced, 2);
    let none = price(&engine, &sys, true, &FaultRate::parse("0")?)?;
    assert_eq!(none.services[0].required_bps, q("0"));
    assert_eq!(none.underpriced, 0);
    Ok(())
}

#[test]
fn a_lease_past_its_term_is_no_longer_live() -> Result {
    let (mut engine, sys, start) = market_world()?;
    let now = engine.timestamp();
    engine.warp(start + TERM - now);
    let pricing = price(&engine, &sys, true, &FaultRate::default())?;
    for l in &pricing.leases {
        assert_eq!(
            l.status,
            LeaseStatus::Over,
            "not streamed since: not closed"
        );
        assert!(!l.live && !l.underpriced);
    }
    let s = &pricing.services[0];
    assert_eq!((s.live_leases, s.underpriced_leases), (0, 0));
    assert_eq!(s.market_bps, None);
    assert_eq!(s.leased_backing, q("0"));
    assert_eq!(
        s.required_bps,
        q("500"),
        "the risk is still priced: the backing is still there"
    );
    assert_eq!(pricing.underpriced, 0);
    Ok(())
}

#[test]
fn a_deployment_file_without_a_market_is_still_priced() -> Result {
    let (engine, sys, _) = market_world()?;
    let pricing = price(&engine, &sys, false, &FaultRate::default())?;
    assert!(!pricing.market);
    assert!(pricing.leases.is_empty(), "no market named: no lease read");
    let s = &pricing.services[0];
    assert_eq!((s.backing.clone(), s.loss.clone()), (q("300"), q("300")));
    assert_eq!(s.required_bps, q("500"));
    assert_eq!((s.live_leases, s.market_bps.clone()), (0, None));
    assert!(pricing.html().contains("no security market"));
    Ok(())
}

/// The demo world (`examples/demo.toml`), reputation on: oracle, bridge and da are rated 0.70 (fourteen clean epochs,
/// a step of 0.05 each), custody 0. With the prior 1/20: p = 1/20 · 0.3 = 3/200 for the three, 1/20 for custody.
/// Oracle and da back base pools only, and custody is isolated: each loses all it backs, so the break-even is 10⁴ · p
/// (150, 150, 500 bps). The bridge backs P (168.75 WETH), Q (18.75 WBTC = 562.5) and the tier T (65): 796.25 in all;
/// failing alone, its slash of P lowers T through the base price before it takes what is left of T, so it loses
/// 12389/16 (docs/audit.md), not 796.25: the break-even is 150 · (12389/16) / 796.25 = 14295/98 ≈ 145.87 bps.
#[test]
fn the_demo_worlds_ratings_set_the_fault_probabilities() -> Result {
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo.toml");
    let terms: Terms = serde_json::from_value(json!({
        "services": {
            "oracle": {"profit": "150", "threshold": "1/2"},
            "bridge": {"profit": "400", "threshold": "2/3"},
            "da": {"profit": "80", "threshold": "1/3"},
            "custody": {"profit": "120", "threshold": "1/2"}
        },
        "prices": {"WBTC": "30"},
        "unit": "WETH"
    }))?;
    let source = Source::from_scenario(&demo, &terms)?;
    let pricing = source.risk_pricing(&source.bearers(), &FaultRate::default())?;
    assert!(pricing.market && pricing.leases.is_empty());
    let by = |name: &str| {
        pricing
            .services
            .iter()
            .find(|s| s.service == name)
            .expect(name)
    };
    for name in ["oracle", "bridge", "da"] {
        let s = by(name);
        assert_eq!(s.fault_basis, FaultBasis::Rating);
        assert_eq!(
            s.rating_wad.as_deref(),
            Some("700000000000000000"),
            "{name}"
        );
        assert_eq!(s.fault_probability, q("3/200"), "{name}");
    }
    assert_eq!(by("oracle").required_bps, q("150"));
    assert_eq!(by("da").required_bps, q("150"));
    let bridge = by("bridge");
    assert_eq!(bridge.backing, q("796.25"));
    assert_eq!(bridge.loss, q("12389/16"));
    assert_eq!(bridge.expected_annual_loss, q("37167/3200"));
    assert_eq!(bridge.required_bps, q("14295/98"));
    assert_eq!(bridge.required_bps_ceil, 146);
    let custody = by("custody");
    assert_eq!(custody.rating_wad.as_deref(), Some("0"));
    assert_eq!(custody.fault_probability, q("1/20"));
    assert_eq!(
        (custody.backing.clone(), custody.loss.clone()),
        (q("200"), q("200"))
    );
    assert_eq!(custody.required_bps, q("500"));
    Ok(())
}

#[test]
fn the_fault_probability_and_its_prior() -> Result {
    let prior = FaultRate::default();
    assert_eq!(prior.value(), &number::parse("1/20")?);
    assert_eq!(fault_probability(&prior, None), number::parse("1/20")?);
    let wad = |t: &str| number::parse(t).map(|r| r * Q::from_integer(WAD.into()));
    assert_eq!(
        fault_probability(&prior, Some(&wad("0")?)),
        number::parse("1/20")?
    );
    assert_eq!(
        fault_probability(&prior, Some(&wad("0.7")?)),
        number::parse("3/200")?
    );
    assert_eq!(
        fault_probability(&prior, Some(&wad("1")?)),
        number::parse("0")?
    );
    assert_eq!(FaultRate::parse("0.05")?, prior);
    for bad in ["3/2", "-1/20", "x"] {
        assert!(
            matches!(FaultRate::parse(bad), Err(AuditError::FaultRate { .. })),
            "{bad}"
        );
    }
    assert_eq!(
        FaultRate::parse("3/2").unwrap_err().to_string(),
        "fault rate \"3/2\": a probability a year is from 0 to 1 (e.g. 1/20 or 0.05)"
    );
    Ok(())
}

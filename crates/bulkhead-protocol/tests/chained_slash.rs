//! `test/isolation/ChainedSlash.t.sol`, replayed step by step through the protocol driver on the real bytecode, asserting
//! the same hand-derived numbers (copied from the Solidity test's comments and assertions).

mod common;

use alloy::primitives::U256;
use bulkhead_contracts::{
    AllocationManager, Mode, bindings::AllocationManager::AllocationManagerEvents,
};
use bulkhead_evm::{BulkheadError, BulkheadEvent, decode::DecodedEvent};
use bulkhead_protocol::{ErrorKind, Views};
use common::{Chained, ether, sci, wad};
use eyre::Result;

#[test]
fn chained_slash_three_shared_one_isolated_and_a_tier() -> Result<()> {
    let mut s = Chained::setup()?;
    let (p, t) = (s.p, s.t);
    let zero = U256::ZERO;

    // Step 0. P: 1,000 WETH / 1,000 shares. T holds 200 base shares = 200 WETH.
    s.expect_backings(ether(200), ether(500), ether(500), ether(400), ether(200))?;
    s.expect_values(ether(500), ether(300), ether(200))?;
    assert_eq!(
        s.pool_risk(t)?.pathReuseWad,
        sci("9e18"),
        "path reuse = 3x (base) * 3x (tier)"
    );
    let lens = s
        .engine
        .view(s.sys.manager, AllocationManager::lensCall {})?;
    assert_eq!(
        lens,
        bulkhead_contracts::lens_of(s.sys.manager),
        "the lens is the manager's first creation"
    );

    // Step 1. S1 slashes 40% of its 500 = 200. P: 800 WETH / 1,000 shares (price 0.8).
    assert_eq!(s.slash_by("S1", p, wad("0.4e18"))?, ether(200));
    s.expect_backings(ether(200), ether(300), ether(500), ether(400), ether(160))?;
    s.expect_values(ether(400), ether(240), ether(160))?;
    s.expect_sinks(ether(200), zero, zero, zero)?;
    assert_eq!(s.pool_risk(p)?.guardUsedWad, sci("0.2e18"));

    // Step 2. TA slashes 50% of its 160 = 80 WETH, paid in P shares rounded down against the AVS:
    // ⌊80e18·(1000e18 + 1)/(800e18 + 1)⌋ = 100e18 − 1 base shares move from T into TA's sink. P does not move
    // (800 WETH / 1,000 shares, W 0.8e27): every P backing and staker keeps every wei, and P's guard is untouched.
    // T keeps 100e18 + 1 base shares = 80 WETH.
    assert_eq!(s.slash_by("TA", t, wad("0.5e18"))?, ether(80));
    s.expect_backings(ether(200), ether(300), ether(500), ether(400), ether(80))?;
    s.expect_values(ether(400), ether(240), ether(80))?;
    s.expect_sinks(ether(200), zero, zero, zero)?;
    let ta_sink = s.avs["TA"].sink;
    assert_eq!(
        s.shares_of(ta_sink, p)?,
        ether(100) - U256::from(1),
        "TA's sink holds P shares"
    );
    let pool_p = s.reader().pool(p)?;
    assert_eq!(pool_p.totalShares, ether(1000));
    let pool_t = s.reader().pool(t)?;
    assert_eq!(
        pool_t.slashableAssets,
        ether(100) + U256::from(1),
        "tier collateral, in base shares"
    );
    assert_eq!(s.pool_risk(p)?.guardUsedWad, sci("0.2e18"));
    assert_eq!(s.pool_risk(t)?.guardUsedWad, sci("0.5e18"));

    // Step 3. S2 slashes 72% of its 500 = 360. P: 440 WETH / 1,000 shares (price 0.44); shared stake 240, elastic.
    assert_eq!(s.slash_by("S2", p, wad("0.72e18"))?, ether(360));
    // The committed shared limits (0.84e27) pass 3x the shared stake (0.72e27): shared backings scale by 6/7.
    let scaled = sci("205714285714285714285");
    s.expect_backings(ether(200), scaled, ether(120), scaled, ether(44))?;
    s.expect_values(ether(220), ether(132), ether(44))?;
    s.expect_sinks(ether(200), ether(360), zero, zero)?;
    assert_eq!(s.pool_risk(p)?.guardUsedWad, sci("0.56e18"));

    // Over the reuse cap (0.84e27 committed on 0.24e27 shared stake; what is slashable is scaled to 3x): new shared
    // allocations are refused, decreases still go through.
    assert_eq!(s.pool_risk(p)?.reuseRatioWad, sci("3e18"));
    let s4 = s.add_avs("S4")?.id;
    let op_a = s.op_a;
    s.protocol().opt_in(op_a, s4)?;
    let refused = s
        .protocol()
        .allocate(op_a, p, s4, Mode::Shared, wad("0.01e18"))
        .expect_err("over the reuse cap");
    let revert = refused.revert().expect("a revert, not an engine failure");
    assert_eq!(
        revert.kind(),
        ErrorKind::of::<AllocationManager::ReuseCapExceeded>()
    );
    assert_eq!(revert.name, "ReuseCapExceeded");
    let AllocationManager::ReuseCapExceeded {
        sharedWeight,
        limit,
    } = revert.as_error().expect("decodes as ReuseCapExceeded");
    assert_eq!((sharedWeight, limit), (sci("0.8444e27"), sci("0.72e27")));
    assert!(
        matches!(revert.typed, Some(BulkheadError::Manager(ref e)) if e.is_reuse_cap_exceeded())
    );
    s.allocate(op_a, p, "S3", Mode::Shared, 0)?;

    // Step 4. I asks for 100% of its 200; the guard has 0.73 - 0.56 left: allowed = 0.17 * 440 / 0.44 = 170.
    // P: 270 WETH / 1,000 shares (price 0.27). The guard trip is announced.
    let (i, module_i) = (s.id("I"), s.avs["I"].module);
    let receipt = s.protocol().slash(module_i, i, p, wad("1e18"))?;
    assert_eq!(receipt.value, ether(170));
    let tripped: Vec<&DecodedEvent> = receipt
        .events
        .iter()
        .filter(|e| e.name == "CascadeGuardTripped")
        .collect();
    assert_eq!(tripped.len(), 1);
    assert_eq!(tripped[0].address, s.sys.manager);
    match &tripped[0].typed {
        Some(BulkheadEvent::Manager(AllocationManagerEvents::CascadeGuardTripped(e))) => {
            assert_eq!(
                (e.poolId, e.avsId, e.requested, e.allowed),
                (p, i, ether(200), ether(170))
            );
        }
        other => panic!("expected CascadeGuardTripped, got {other:?}"),
    }
    s.expect_backings(ether(30), scaled, ether(120), scaled, ether(27))?;
    s.expect_values(ether(135), ether(81), ether(27))?;
    s.expect_sinks(ether(200), ether(360), ether(170), zero)?;
    assert_eq!(s.pool_risk(p)?.guardUsedWad, sci("0.73e18"));
    // TA's sink holds 100 P shares (less a wei), now worth 27 (less a wei): paid in P's collateral, it bears P's
    // AVSs until it leaves.
    let ta_sink_shares = s.shares_of(ta_sink, p)?;
    assert_eq!(
        s.convert_to_assets(p, ta_sink_shares)?,
        ether(27) - U256::from(1)
    );

    // Conservation: 1,000 deposited = 270 still in the vault + 730 in the sinks (200 + 360 + 170).
    let in_vault = s.weth_of(s.sys.vault)?;
    assert_eq!(in_vault, ether(270));
    assert_eq!(in_vault + s.sink_total()?, ether(1000));
    Ok(())
}

//! Engine behaviour on the deployed system: decoded reverts and events, snapshots, time.

mod common;

use alloy::primitives::{Bytes, U256};
use bulkhead_bench as bench;
use bulkhead_contracts::{AllocationManager, StakeVault};
use bulkhead_evm::{BulkheadError, DAY, DeployConfig, Engine, EngineError, System};
use common::{Chained, ether, wad};
use eyre::Result;

#[test]
fn revert_decodes_to_custom_error_by_name() -> Result<()> {
    let mut s = Chained::setup()?;
    let (p, ta) = (s.p, s.avs["TA"]);

    // TA only has an allocation in the tier T: its module cannot reach the base pool P.
    let call = AllocationManager::slashCall {
        avsId: ta.id,
        poolId: p,
        fractionWad: wad("0.5e18"),
    };
    let err = s
        .engine
        .send(ta.module, s.sys.manager, call.clone())
        .expect_err("TA cannot slash P");
    let revert = err.revert().expect("the error carries the decoded revert");
    assert!(
        matches!(err, EngineError::Reverted { ref call, .. } if call.ends_with("AllocationManager.slash(uint32,uint256,uint64)")),
        "{err}"
    );
    assert_eq!(revert.name, "NotSlashable");
    assert_eq!(revert.contract, Some("AllocationManager"));
    assert_eq!(
        revert.to_string(),
        format!("NotSlashable(avsId: {}, poolId: {p})", ta.id)
    );
    assert_eq!(
        revert.as_error::<AllocationManager::NotSlashable>(),
        Some(AllocationManager::NotSlashable {
            avsId: ta.id,
            poolId: p
        })
    );
    assert!(matches!(&revert.typed, Some(BulkheadError::Manager(e)) if e.is_not_slashable()));
    // The report reads: what was sent, then why it failed.
    let report = format!("{err:#}");
    assert!(
        report.contains("module-TA -> AllocationManager.slash(uint32,uint256,uint64)"),
        "{report}"
    );
    assert!(report.contains("NotSlashable(avsId: "), "{report}");

    // Same call from someone else: the slasher check fires first, and the caller shows by name.
    let revert = s.engine.expect_revert("mallory", s.sys.manager, call)?;
    assert_eq!(
        revert.to_string(),
        format!("NotAVSSlasher(avsId: {}, caller: mallory)", ta.id)
    );

    // An ERC-20 error bubbling up through the vault decodes against the token's ABI, addresses labelled.
    let weth = s.sys.weth.address;
    let op_a = s.op_a;
    let revert = s.engine.expect_revert(
        "dave",
        s.sys.vault,
        StakeVault::depositCall {
            operator: op_a,
            asset: weth,
            assets: ether(1),
        },
    )?;
    assert_eq!(revert.contract, Some("MockERC20"));
    assert_eq!(
        revert.to_string(),
        format!(
            "ERC20InsufficientAllowance(spender: StakeVault, allowance: 0, needed: {})",
            ether(1)
        )
    );

    // A revert changes nothing.
    assert_eq!(s.sink_of("TA")?, ether(0));
    Ok(())
}

#[test]
fn events_are_decoded_by_name() -> Result<()> {
    let mut s = Chained::setup()?;
    let (p, s1) = (s.p, s.avs["S1"]);
    let receipt = s.engine.exec(
        s1.module,
        s.sys.manager,
        AllocationManager::slashCall {
            avsId: s1.id,
            poolId: p,
            fractionWad: wad("0.4e18"),
        },
    )?;
    let names: Vec<String> = receipt
        .events
        .iter()
        .map(|e| format!("{}.{}", e.emitter, e.name))
        .collect();
    assert!(names.contains(&"WETH.Transfer".to_string()), "{names:?}");
    assert!(
        names.contains(&"StakeVault.Slashed".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"AllocationManager.OperatorSlashed".to_string()),
        "{names:?}"
    );
    let transfer = receipt
        .events
        .iter()
        .find(|e| e.name == "Transfer")
        .expect("a transfer");
    assert_eq!(
        transfer.to_string(),
        format!(
            "WETH.Transfer(from: StakeVault, to: sink-S1, value: {})",
            ether(200)
        )
    );
    assert!(receipt.gas_used > 21_000);
    Ok(())
}

#[test]
fn snapshots_isolate_scenarios() -> Result<()> {
    let mut s = Chained::setup()?;
    let p = s.p;
    let base = s.engine.snapshot().expect("a snapshot");
    let start = s.engine.timestamp();
    let value = |s: &Chained| {
        s.engine
            .view(s.sys.vault, StakeVault::slashableAssetsCall { poolId: p })
    };

    // Scenario A: S1 slashes 40% and a week passes.
    assert_eq!(s.slash_by("S1", p, wad("0.4e18"))?, ether(200));
    s.engine.warp(7 * DAY);
    assert_eq!(value(&s)?, ether(800));
    assert_eq!(s.sink_of("S1")?, ether(200));

    // Back to the base: nothing of A is left, time included.
    s.engine.restore(&base).expect("restores");
    assert_eq!(s.engine.timestamp(), start);
    assert_eq!(value(&s)?, ether(1000));
    assert_eq!(s.sink_of("S1")?, U256::ZERO);
    s.expect_backings(ether(200), ether(500), ether(500), ether(400), ether(200))?;

    // Scenario B from the same base: S2 takes 72% of a full 500.
    assert_eq!(s.slash_by("S2", p, wad("0.72e18"))?, ether(360));
    assert_eq!(value(&s)?, ether(640));
    assert_eq!(s.sink_of("S1")?, U256::ZERO);

    // A snapshot can be restored again, and a cloned engine is an independent branch.
    s.engine.restore(&base).expect("restores");
    let mut branch = s.clone();
    assert_eq!(branch.slash_by("I", p, wad("0.5e18"))?, ether(100));
    assert_eq!(value(&branch)?, ether(900));
    assert_eq!(value(&s)?, ether(1000));
    assert_eq!(
        s.slash_by("I", p, wad("0.5e18"))?,
        ether(100),
        "the same slash on the original"
    );
    Ok(())
}

/// In-memory engines lend their state to one EVM per thread: engines on the same thread, on other threads, and one
/// whose transaction is refused must never see each other's state.
#[test]
fn engines_sharing_a_thread_or_not_keep_their_own_state() -> Result<()> {
    fn assets(s: &Chained) -> Result<U256> {
        Ok(s.engine
            .view(s.sys.vault, StakeVault::slashableAssetsCall { poolId: s.p })?)
    }
    let s = Chained::setup()?;
    let p = s.p;

    // A transaction the EVM refuses before running it (gas limit above the block's) fails on its own engine...
    let mut config = s.engine.config().clone();
    config.tx_gas_limit = config.block_gas_limit + 1;
    let err = Engine::new(config)
        .deploy("deployer", "Nothing", Bytes::new())
        .unwrap_err();
    assert!(
        matches!(err, EngineError::InvalidTransaction { .. }),
        "{err}"
    );

    // ...and the next engine on this thread runs on its own state.
    let mut here = s.clone();
    assert_eq!(here.slash_by("S1", p, wad("0.4e18"))?, ether(200));
    assert_eq!(assets(&here)?, ether(800));

    // Two threads slash different fractions of S1's 500 on clones of the same world at once, over and over.
    let handles: Vec<_> = [("0.1e18", 950), ("0.3e18", 850)]
        .into_iter()
        .map(|(fraction, left)| {
            let mut branch = s.clone();
            std::thread::spawn(move || -> Result<()> {
                let before = branch.engine.snapshot().expect("a snapshot");
                for _ in 0..20 {
                    branch.slash_by("S1", p, wad(fraction))?;
                    assert_eq!(assets(&branch)?, ether(left));
                    branch.engine.restore(&before).expect("restores");
                }
                Ok(())
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("a slashing thread panicked")?;
    }
    assert_eq!(assets(&s)?, ether(1000), "the original never moved");
    assert_eq!(assets(&here)?, ether(800));
    Ok(())
}

alloy::sol! {
    function run() external;
}

/// Opcode counting sees every instruction of transactions and views, exactly, and changes no outcome.
#[test]
fn opcode_counts_are_exact_and_change_nothing() -> Result<()> {
    // The interpreter baseline's loop, deployed: `PUSH1 len, PUSH1 10, PUSH0, CODECOPY, PUSH1 len, PUSH0, RETURN`.
    let runtime = bench::baseline_code(10);
    let len = u8::try_from(runtime.len())?;
    let mut initcode = vec![0x60, len, 0x60, 0x0a, 0x5f, 0x39, 0x60, len, 0x5f, 0xf3];
    initcode.extend_from_slice(&runtime);
    let mut engine = Engine::default();
    let looped = engine.deploy("deployer", "Loop", initcode.into())?;
    let ((), counts) = engine.count_opcodes(|engine| {
        engine.send("caller", looped, runCall {})?;
        engine.view(looped, runCall {})?;
        Ok::<_, EngineError>(())
    })?;
    assert_eq!(counts.total(), 2 * bench::baseline_steps(10));
    assert_eq!(counts.of(0x57), 2 * 10, "JUMPI once a loop");
    assert_eq!(counts.of(0x01), 2 * 10 * 8, "ADD eight times a loop");
    assert_eq!(counts.frames(), 0);

    // The benchmark scenario: the same outcome counted or not, and every slash calls into the vault and the token.
    let mut engine = Engine::default();
    let sys = System::deploy(&mut engine, &DeployConfig::default())?;
    let world = bench::setup(&mut engine, &sys)?;
    let plain = bench::scenario(&mut engine, &sys, &world, 7)?;
    let (counted, counts) =
        engine.count_opcodes(|engine| bench::scenario(engine, &sys, &world, 7))?;
    assert_eq!(counted, plain);
    assert_eq!(bench::opcodes(&mut engine, &sys, &world, 7..8)?, counts);
    assert!(counts.frames() >= 3 * 5, "{} calls", counts.frames());
    assert!(counts.of(0x54) > 3 * 20, "{} SLOADs", counts.of(0x54));
    assert!(counts.total() > 10_000, "{} instructions", counts.total());
    // Counting is off again afterwards: the next scenario runs on the thread's plain EVM, with the same result.
    assert_eq!(bench::scenario(&mut engine, &sys, &world, 7)?, plain);
    Ok(())
}

/// The baseline is a real measurement of a finished loop.
#[test]
fn interpreter_baseline_measures_a_finished_loop() -> Result<()> {
    let ns = bench::interpreter_baseline(1)?;
    assert!(ns.is_finite() && ns > 0.0, "{ns} ns per instruction");
    Ok(())
}

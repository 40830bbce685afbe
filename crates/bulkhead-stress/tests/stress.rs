//! Property tests of the differential check: seeded random scenarios on the real bytecode agree with the Rust model
//! step by step; a deliberately wrong model is caught, shrunk, and written as a scenario that fails.

use bulkhead_scenario as scenario;
use bulkhead_stress::{
    self as stress, Base, GenConfig, Mutation, StressConfig, differential, generate, scenario_seed,
    shrink,
};

/// Short timelines keep the debug build inside its time budget; the CLI runs the default (longer) ones.
const SMALL: GenConfig = GenConfig {
    min_steps: 3,
    max_steps: 8,
};
/// A little longer, for the mutation runs: enough slashes for a weight cut to show in a backing.
const MEDIUM: GenConfig = GenConfig {
    min_steps: 4,
    max_steps: 10,
};

#[test]
fn generation_is_reproducible_and_chained() {
    let base = Base::deploy().unwrap();
    for i in 0..50 {
        let seed = scenario_seed(42, i);
        let a = generate(seed, GenConfig::default(), base.start());
        let b = generate(seed, GenConfig::default(), base.start());
        assert_eq!(a, b, "scenario {i} regenerates identically");
        assert!(a.slash_count() >= 3, "scenario {i} has at least 3 slashes");
        assert!((1..=3).contains(&a.operators.len()));
        assert!((2..=8).contains(&a.stakers.len()));
        assert!((2..=6).contains(&a.avs.len()));
    }
    assert_ne!(scenario_seed(1, 0), scenario_seed(1, 1));
    assert_ne!(scenario_seed(1, 0), scenario_seed(2, 0));
}

#[test]
fn random_scenarios_agree_with_the_model() {
    let config = StressConfig {
        scenarios: 200,
        seed: 0x5eed,
        threads: 2,
        timeline: SMALL,
        ..StressConfig::default()
    };
    let report = stress::run(&config, &|| {}).unwrap();
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    for f in &report.failures {
        eprintln!(
            "scenario {} seed {:#x}: after step {}: {}: model {}, chain {}\n{}",
            f.index, f.seed, f.step, f.what, f.model, f.chain, f.toml
        );
    }
    assert_eq!(report.mismatches, 0);
    assert_eq!(report.scenarios, 200);
    // The scenarios do what they are for: slashes went through, and the model predicted reverts.
    assert!(
        report.slashes >= 200,
        "only {} slashes went through",
        report.slashes
    );
    assert!(report.reverts > 0);
    // Every kind of step ran, and the tier and veto paths were exercised, not just generated.
    for action in [
        "deposit",
        "deposit_to_tier",
        "allocate",
        "deallocate",
        "queue_withdrawal",
        "claim",
        "slash",
        "request_slash",
        "execute_slash",
        "veto",
    ] {
        let [ok, _] = report.actions.get(action).copied().unwrap_or_default();
        assert!(ok > 0, "no {action} went through: {:?}", report.actions);
    }
    assert!(report.tier_slashes > 0);
    eprintln!(
        "{} scenarios with reputation, {} reputation steps, {} vetoes, {} penalties; {:?}; {:?}",
        report.reputation_scenarios,
        report.reputation_steps,
        report.reputation_vetoes,
        report.penalties,
        report.actions,
        report.reverts_by_error
    );
    // The reputation layer ran too: each of its steps went through, and vetoes paid penalties into pools.
    assert!(report.reputation_scenarios >= 40);
    for action in [
        "bond",
        "unbond",
        "complete_unbond",
        "checkpoint",
        "refresh_standing",
        "refresh_pools",
        "reprice",
    ] {
        let [ok, _] = report.actions.get(action).copied().unwrap_or_default();
        assert!(ok > 0, "no {action} went through: {:?}", report.actions);
    }
    assert!(report.penalties > 0, "no penalty was paid");
    // Payments through the reward rail: every rail step went through, its refusals were predicted, and the vault's
    // hooks fired for every kind of share change.
    eprintln!(
        "{} scenarios with payments, {} rail steps; hooks {:?}",
        report.payment_scenarios, report.payment_steps, report.rail_hooks
    );
    assert!(report.payment_scenarios >= 70);
    for action in [
        "enable_rewards",
        "set_commission",
        "pay",
        "claim_rewards",
        "claim_escrow_rewards",
        "claim_commission",
    ] {
        let [ok, reverted] = report.actions.get(action).copied().unwrap_or_default();
        assert!(
            ok > 0 && reverted > 0,
            "{action}: {ok} went through, {reverted} reverted"
        );
    }
    for (hook, n) in &report.rail_hooks {
        assert!(*n > 0, "no {hook}: {:?}", report.rail_hooks);
    }
    assert_eq!(report.rail_hooks.len(), 5);
    for error in [
        "ReuseCapExceeded",
        "NotMatured",
        "NotSlashable",
        "SlashAboveMax",
        "BondBelowRequirement",
        "ReservedForSubject",
        "NotOperatorPool",
        "NoWithdrawalQueued",
        "RewardsOff",
        "RewardsAlreadyOn",
        "NotPoolOperator",
        "CommissionTooHigh",
        "NoEarningShares",
        "PaymentTooSmall",
        "NothingToClaim",
        "NotWithdrawalOwner",
    ] {
        assert!(
            report.reverts_by_error.contains_key(error),
            "no {error} predicted: {:?}",
            report.reverts_by_error
        );
    }
}

#[test]
fn a_wrong_model_is_caught_shrunk_and_reproduced() {
    let base = Base::deploy().unwrap();
    let mutation = Mutation::CeilSlashAmount;
    let mut found = None;
    for i in 0..40 {
        let spec = generate(scenario_seed(9, i), SMALL, base.start());
        let verdict = differential(&base, &spec, mutation).unwrap();
        assert!(verdict.invalid.is_none());
        if let Some(m) = verdict.mismatch {
            found = Some((i, spec, m));
            break;
        }
    }
    let (index, spec, mismatch) = found.expect("rounding a slash up is caught within 40 scenarios");
    // The faithful model agrees on the same scenario: the mismatch is the mutation's.
    assert!(
        differential(&base, &spec, Mutation::None)
            .unwrap()
            .mismatch
            .is_none()
    );

    let shrunk = shrink(&base, &spec, &mismatch, mutation, 120).unwrap();
    assert!(shrunk.spec.steps.len() <= spec.steps.len());
    assert!(
        differential(&base, &shrunk.spec, mutation)
            .unwrap()
            .mismatch
            .is_some()
    );
    let toml = stress::reproduction(&base, &shrunk, mutation, index);

    let dir = std::env::temp_dir().join(format!("bulkhead-stress-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("repro.toml");
    std::fs::write(&path, &toml).unwrap();
    let parsed = scenario::load(&path).unwrap_or_else(|e| panic!("{e}\n{toml}"));
    let report = scenario::run(&parsed).unwrap();
    assert!(
        !report.passed,
        "the repro must fail on the real bytecode:\n{toml}"
    );
    let failed: Vec<_> = report.expectations.iter().filter(|e| !e.passed).collect();
    assert!(!failed.is_empty());
    std::fs::remove_dir_all(&dir).ok();
}

/// A model that gets one rule of the reputation layer wrong disagrees with the chain on a scenario with the layer on,
/// and the faithful model agrees on that scenario: penalties rounded down, reuse counted without risk weights, a
/// checkpoint crediting an epoch after a fault.
#[test]
fn a_wrong_reputation_model_is_caught() {
    let base = Base::deploy().unwrap();
    let specs: Vec<_> = (0..80)
        .map(|i| generate(scenario_seed(31, i), GenConfig::default(), base.start()))
        .filter(|spec| spec.reputation.is_some())
        .collect();
    assert!(specs.len() >= 15, "only {} with reputation", specs.len());
    for mutation in [
        Mutation::UnweightedReuse,
        Mutation::FloorPenalty,
        Mutation::TaintedCredit,
    ] {
        let caught = specs.iter().find(|spec| {
            let verdict = differential(&base, spec, mutation).unwrap();
            assert!(verdict.invalid.is_none());
            verdict.mismatch.is_some()
        });
        let spec = caught.unwrap_or_else(|| panic!("{mutation:?} is caught"));
        let faithful = differential(&base, spec, Mutation::None).unwrap();
        assert!(faithful.mismatch.is_none(), "{:?}", faithful.mismatch);
    }
}

/// A model that gets one rule of the reward rail wrong disagrees with the chain on a scenario with payments, and the
/// faithful model agrees on that scenario: a span's rewards rounded up, a commission change in effect at once, the
/// base shares held by tiers earning the base's rewards.
#[test]
fn a_wrong_rail_model_is_caught() {
    let base = Base::deploy().unwrap();
    let specs: Vec<_> = (0..60)
        .map(|i| generate(scenario_seed(57, i), GenConfig::default(), base.start()))
        .filter(|spec| spec.steps.iter().any(stress::Step::is_payment))
        .collect();
    assert!(specs.len() >= 20, "only {} with payments", specs.len());
    for mutation in [
        Mutation::CeilRewards,
        Mutation::ImmediateCommission,
        Mutation::TierSharesEarn,
    ] {
        let caught = specs.iter().find_map(|spec| {
            let verdict = differential(&base, spec, mutation).unwrap();
            assert!(verdict.invalid.is_none());
            verdict.mismatch.map(|m| (spec, m))
        });
        let (spec, mismatch) = caught.unwrap_or_else(|| panic!("{mutation:?} is caught"));
        eprintln!(
            "{mutation:?}: {} (model {}, chain {})",
            mismatch.what, mismatch.model, mismatch.chain
        );
        let faithful = differential(&base, spec, Mutation::None).unwrap();
        assert!(faithful.mismatch.is_none(), "{:?}", faithful.mismatch);
    }
}

#[test]
fn write_failures_writes_loadable_failing_files() {
    let config = StressConfig {
        scenarios: 3,
        seed: 4,
        threads: 1,
        timeline: MEDIUM,
        mutation: Mutation::FloorWeightCut,
        shrink_budget: 40,
        ..StressConfig::default()
    };
    let mut report = stress::run(&config, &|| {}).unwrap();
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    assert!(
        report.mismatches > 0,
        "a weight cut rounded down is caught in 3 scenarios"
    );
    let dir = std::env::temp_dir().join(format!("bulkhead-stress-out-{}", std::process::id()));
    // Every file is written and loads with the scenario parser (`write_failures` fails otherwise) ...
    let files = stress::write_failures(&mut report, &dir).unwrap();
    assert_eq!(files.len() as u64, report.mismatches);
    for file in &files {
        scenario::load(file).unwrap();
    }
    // ... and `bulkhead simulate` fails on it, unless the disagreement never reaches a value a scenario file can
    // check (a weight off by one unit of 1e27 can vanish in every rounded backing): then it is named in the file's
    // header and is one of the views the format has no check for.
    let mut reproduced = 0;
    for f in &report.failures {
        match f.reproduces {
            Some(true) => reproduced += 1,
            _ => assert!(!f.checkable, "{}", f.toml),
        }
    }
    assert!(reproduced > 0, "no written scenario fails under simulate");
    std::fs::remove_dir_all(&dir).ok();
}

/// The other direction: on scenarios where model and chain agree, the file written with the model's expectations
/// passes under the scenario runner. So the stress runner sends exactly what `bulkhead simulate` sends, and reads
/// what it reads.
#[test]
fn written_scenarios_replay_in_the_scenario_runner() {
    let base = Base::deploy().unwrap();
    let (mut tiers, mut vetoes, mut reputation, mut left_out) = (0, 0, 0, 0);
    for i in 0..16 {
        let spec = generate(scenario_seed(21, i), SMALL, base.start());
        tiers += usize::from(spec.pools.iter().any(|p| p.tier_of.is_some()));
        vetoes += usize::from(spec.avs.iter().any(|a| a.veto_window.is_some()));
        reputation += usize::from(spec.reputation.is_some());
        left_out += spec.scenario_only().1.len();
        let verdict = differential(&base, &spec, Mutation::None).unwrap();
        assert!(verdict.mismatch.is_none(), "{:?}", verdict.mismatch);
        let shrunk = stress::Shrunk {
            mismatch: stress::Mismatch {
                step: spec.steps.len() - 1,
                what: "nothing (an agreement check)".to_string(),
                model: "-".to_string(),
                chain: "-".to_string(),
                checkable: true,
            },
            spec,
            runs: 0,
        };
        let toml = stress::reproduction(&base, &shrunk, Mutation::None, i);
        let parsed = scenario::parse(&format!("agree-{i}.toml"), &toml)
            .unwrap_or_else(|e| panic!("{e}\n{toml}"));
        let report = scenario::run(&parsed).unwrap();
        let failed: Vec<_> = report.expectations.iter().filter(|e| !e.passed).collect();
        assert!(report.passed, "{failed:#?}\n{toml}");
        assert!(report.expectations.len() > 10);
    }
    assert!(
        tiers > 0 && vetoes > 0 && reputation > 0 && left_out > 0,
        "tiers {tiers}, veto AVSs {vetoes}, reputation {reputation}, steps left out {left_out}"
    );
}

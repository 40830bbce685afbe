//! Every scenario in `examples/` runs on the real bytecode and every expectation in it holds; a wrong number in a
//! scenario is reported as a failed expectation with expected and actual values.

use std::path::PathBuf;

use bulkhead_scenario::{self as scenario, StepOutcome};
use eyre::Result;

fn examples() -> Vec<PathBuf> {
    let dir = bulkhead_contracts::repo_root().join("examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_passes() -> Result<()> {
    let files = examples();
    assert!(
        files.len() >= 6,
        "expected at least 6 examples, found {files:?}"
    );
    for file in files {
        let scenario = scenario::load(&file)?;
        let report = scenario::run(&scenario)?;
        let failures: Vec<String> = report.failures().map(ToString::to_string).collect();
        assert!(
            failures.is_empty(),
            "{}:\n{}",
            file.display(),
            failures.join("\n")
        );
        assert!(report.passed);
        let checks = report
            .expectations
            .iter()
            .filter(|e| report.steps[e.step].action == "expect")
            .count();
        assert!(
            checks >= 5,
            "{} checks too little: {checks}",
            file.display()
        );
        assert_eq!(report.steps.len(), scenario.step_count());
    }
    Ok(())
}

/// Writing a file is serialising its raw types: every example, read and written back, is a file that loads and runs
/// to the same report (a stress reproduction is written this way).
#[test]
fn every_example_survives_a_round_trip_through_the_raw_types() -> Result<()> {
    for file in examples() {
        let text = std::fs::read_to_string(&file)?;
        let raw: scenario::raw::RawScenario = toml::from_str(&text)?;
        let written = toml::to_string(&raw)?;
        let again: scenario::raw::RawScenario = toml::from_str(&written)?;
        assert_eq!(
            toml::to_string(&again)?,
            written,
            "{}: a fixed point",
            file.display()
        );
        let original = scenario::run(&scenario::load(&file)?)?;
        let rewritten = scenario::run(&scenario::parse("rewritten.toml", &written)?)?;
        assert_eq!(
            serde_json::to_value(&rewritten.final_state)?,
            serde_json::to_value(&original.final_state)?,
            "{}: the rewritten file ends in the same state",
            file.display()
        );
        assert_eq!(rewritten.expectations.len(), original.expectations.len());
        assert!(rewritten.passed, "{}:\n{written}", file.display());
    }
    Ok(())
}

#[test]
fn a_wrong_number_is_a_failed_expectation() -> Result<()> {
    let text =
        std::fs::read_to_string(bulkhead_contracts::repo_root().join("examples/guard_trip.toml"))?;
    // The guard lets 500 through, not 600.
    let text = text.replacen(
        r#"pool_value = { P = "500", Q = "1000" }"#,
        r#"pool_value = { P = "600", Q = "1000" }"#,
        1,
    );
    let report = scenario::run(&scenario::parse("guard_trip.toml", &text)?)?;
    assert!(!report.passed);
    let failures: Vec<_> = report.failures().collect();
    assert_eq!(failures.len(), 1, "{failures:?}");
    let failure = failures[0];
    assert_eq!(failure.path, "steps[1].pool_value.P");
    assert_eq!(
        (failure.expected.as_str(), failure.actual.as_str()),
        ("600 WETH", "500 WETH")
    );
    assert_eq!(
        failure.to_string(),
        format!(
            "{}:{}: steps[1].pool_value.P: slashable value of P: expected 600 WETH, actual 500 WETH",
            failure.line, failure.column
        )
    );
    assert_eq!(
        report.steps[1].outcome,
        StepOutcome::Checked {
            passed: 9,
            failed: 1
        }
    );
    Ok(())
}

#[test]
fn outcomes_are_expectations_too() -> Result<()> {
    let text = r#"
version = 1
operators = [{ name = "operatorA" }]
stakers = [{ name = "alice" }]
avs = [{ name = "oracle", kind = "instant" }]
pools = [{ name = "P", operator = "operatorA", asset = "WETH" }]
deposits = [{ staker = "alice", pool = "P", amount = "100" }]
allocations = [{ pool = "P", avs = "oracle", mode = "isolated", fraction = "50%" }]

[[steps]]                     # reverts, but nobody said so
action = "slash"
avs = "oracle"
pool = "P"
fraction = "0"

[[steps]]                     # said to revert, but succeeds
action = "slash"
avs = "oracle"
pool = "P"
fraction = "10%"
expect_revert = "InvalidFraction"

[[steps]]                     # reverts with another error than expected
action = "claim"
staker = "alice"
expect_revert = "NotMatured"
"#;
    // The last step has no withdrawal to claim: a scenario error, located.
    let scenario = scenario::parse("inline.toml", text)?;
    let err = scenario::run(&scenario).expect_err("nothing to claim");
    assert_eq!(
        err.to_string(),
        "inline.toml:24:10: steps[2]: alice has no unclaimed withdrawal queued in this scenario"
    );

    let text = text.replace(
        "action = \"claim\"\nstaker = \"alice\"\nexpect_revert = \"NotMatured\"",
        "action = \"allocate\"\npool = \"P\"\navs = \"oracle\"\nmode = \"shared\"\nfraction = \"10%\"\nexpect_revert = \"IsolatedOverCommitted\"",
    );
    let report = scenario::run(&scenario::parse("inline.toml", &text)?)?;
    let failures: Vec<String> = report
        .failures()
        .map(|f| format!("{}: expected {}, actual {}", f.path, f.expected, f.actual))
        .collect();
    assert_eq!(
        failures,
        [
            "steps[0]: expected ok, actual reverted InvalidFraction(fractionWad: 0)",
            "steps[1].expect_revert: expected revert InvalidFraction, actual ok",
            "steps[2].expect_revert: expected revert IsolatedOverCommitted, actual reverted ModeMismatch(existing: 1, requested: 2)",
        ]
    );
    assert_eq!(
        report.steps[0].outcome,
        StepOutcome::Reverted {
            error: "InvalidFraction".into(),
            detail: "InvalidFraction(fractionWad: 0)".into()
        }
    );
    // The slash's pool touch first lets the matured isolated increase take effect (its event), then slashes.
    assert_eq!(
        report.steps[1].results,
        [
            "oracle in P: isolated, effective at +0s",
            "oracle took 5 WETH from P"
        ]
    );
    Ok(())
}

#[test]
fn tiers_opt_in_committee_votes_and_tier_claims() -> Result<()> {
    let text = r#"
version = 1
operators = [{ name = "opA" }, { name = "opB" }]
stakers = [{ name = "alice" }]
avs = [
  { name = "board", kind = "committee", members = ["m1", "m2", "m3"], quorum = 2, veto_window = "1d", resolver = "council" },
  { name = "tierAVS", kind = "instant" },
]
pools = [{ name = "P", operator = "opA", asset = "WBTC" }, { name = "T", operator = "opB", tier_of = "P" }]
deposits = [{ staker = "alice", pool = "P", amount = "10" }]
allocations = [{ pool = "P", avs = "board", mode = "shared", fraction = "100%" }]

[[steps]]
action = "deposit_to_tier"
staker = "alice"
pool = "T"
shares = "4"

[[steps]]
action = "opt_in"
operator = "opB"
avs = "tierAVS"

[[steps]]
action = "allocate"
pool = "T"
avs = "tierAVS"
mode = "isolated"
fraction = "100%"
opt_in = false

[[steps]]
action = "expect"
backing = { tierAVS = { T = "0" } }
position = { alice = { P = "6", T = "4" } }

[[steps]]
action = "warp"
duration = "1d"

[[steps]]
action = "expect"
backing = { tierAVS = { T = "4" }, board = { P = "10" } }

[[steps]]
action = "request_slash"
avs = "board"
pool = "P"
fraction = "50%"
voters = ["m3"]
label = "lonely"

[[steps]]
action = "expect"
events = ["SlashProposed", "Voted"]
no_events = ["SlashRequested"]

[[steps]]
action = "execute_slash"
request = "lonely"
expect_revert = "QuorumNotReached"

[[steps]]
action = "queue_withdrawal"
staker = "alice"
pool = "T"
shares = "1"
label = "t1"

[[steps]]
action = "warp"
duration = "7d"

[[steps]]
action = "claim"
staker = "alice"
withdrawal = "t1"

[[steps]]
action = "expect"
position = { alice = { P = "7", T = "3" } }
escrow = { alice = { T = "0" } }
pool_value = { P = "10", T = "3" }
"#;
    let report = scenario::run(&scenario::parse("inline.toml", text)?)?;
    let failures: Vec<String> = report.failures().map(ToString::to_string).collect();
    assert!(report.passed, "{failures:#?}");
    assert_eq!(report.steps[0].results, ["4 shares of tier T"]);
    assert_eq!(report.steps[11].results.len(), 1);
    assert!(
        report.steps[11].results[0].ends_with("paid 1 P shares to alice"),
        "{:?}",
        report.steps[11].results
    );
    let t = &report.final_state.pools[1];
    assert_eq!(
        (t.name.as_str(), t.tier_of.as_deref(), t.value.as_str()),
        ("T", Some("P"), "3")
    );

    // A proposal without its quorum filed no request: nothing to veto.
    let vetoed = text.replace(
        "action = \"execute_slash\"\nrequest = \"lonely\"\nexpect_revert = \"QuorumNotReached\"",
        "action = \"veto\"\nrequest = \"lonely\"",
    );
    let err = scenario::run(&scenario::parse("inline.toml", &vetoed)?).expect_err("no request");
    assert_eq!(
        err.to_string(),
        "inline.toml:60:11: steps[8].request: that proposal never reached its quorum: there is no request to veto"
    );
    Ok(())
}

#[test]
fn a_committee_votes_within_its_voting_period() -> Result<()> {
    let committee = |period: &str| {
        format!(
            r#"
version = 1
operators = [{{ name = "opA" }}]
stakers = [{{ name = "alice" }}]
avs = [{{ name = "board", kind = "committee", members = ["m1", "m2"], quorum = 2, veto_window = "1d", resolver = "council"{period} }}]
pools = [{{ name = "P", operator = "opA", asset = "WETH" }}]
deposits = [{{ staker = "alice", pool = "P", amount = "100" }}]
allocations = [{{ pool = "P", avs = "board", mode = "shared", fraction = "100%" }}]

[[steps]]
action = "request_slash"
avs = "board"
pool = "P"
fraction = "50%"
label = "r"

[[steps]]
action = "warp"
duration = "1d"

[[steps]]
action = "execute_slash"
request = "r"

[[steps]]
action = "expect"
pool_value = {{ P = "50" }}
"#
        )
    };
    // Default: the longest the delays allow (veto 1 day + execution 1 day, deallocation 3 days: 1 day − 1 s).
    for period in [
        "",
        r#", voting_period = "12h""#,
        r#", voting_period = "86399""#,
    ] {
        let report = scenario::run(&scenario::parse("inline.toml", &committee(period))?)?;
        let failures: Vec<String> = report.failures().map(ToString::to_string).collect();
        assert!(report.passed, "{period}: {failures:#?}");
    }
    // One second longer and a deallocation filed at the proposal would take effect at its request's last second.
    let err = scenario::run(&scenario::parse(
        "inline.toml",
        &committee(r#", voting_period = "1d""#),
    )?)
    .expect_err("too long");
    assert!(err.to_string().contains("InvalidVotingPeriod"), "{err}");
    // Only a committee has a voting period.
    let veto = committee("").replace(
        r#"kind = "committee", members = ["m1", "m2"], quorum = 2,"#,
        r#"kind = "veto", voting_period = "1h","#,
    );
    let err = scenario::parse("inline.toml", &veto).expect_err("not a veto AVS's field");
    assert!(
        err.to_string()
            .contains("not a field of an AVS of kind \"veto\""),
        "{err}"
    );
    Ok(())
}

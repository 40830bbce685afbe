//! `bulkhead audit` on the protocol's own state: a scenario's final state and a deployment on anvil read through a
//! fork. The demo world is audited both ways and must give the same verdict and the same losses.

mod common;

use std::{path::Path, process::Output};

use common::{bulkhead, deployed, text};
use serde_json::Value;

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(output)))
}

fn bearers<'a>(report: &'a Value, service: &str) -> &'a Value {
    report["exposure"]["bearers"]
        .as_array()
        .expect("bearers")
        .iter()
        .find(|b| b["service"] == service)
        .unwrap_or_else(|| panic!("no bearers for {service}"))
}

fn loss_of<'a>(list: &'a Value, name: &str) -> &'a str {
    list.as_array()
        .expect("list")
        .iter()
        .find(|pair| pair[0] == name)
        .and_then(|pair| pair[1].as_str())
        .unwrap_or_else(|| panic!("{name} not in {list}"))
}

/// The audit of the demo world's final state.
fn demo_audit() -> Value {
    let out = bulkhead(&[
        "audit",
        "--scenario",
        "examples/demo.toml",
        "--terms",
        "examples/networks/demo-terms.json",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    json(&out)
}

#[test]
fn a_scenario_is_audited_down_to_its_stakers() {
    let report = demo_audit();
    // Validators are compartments: P's shared stake (300), P's isolated custody compartment (200), Q (20 WBTC at 30 =
    // 600, all shared) and the tier T's isolated bridge compartment (65, restaked on top of P: 1,165 in all).
    assert_eq!(report["network"]["validators"], 4);
    assert_eq!(report["network"]["total_stake"], "1165");
    assert_eq!(report["secure"], true);
    // custody failing alone takes its 200 WETH from P (value 500). staker01 holds 50 of P: 200·50/500 = 20. The tier
    // T holds 65 of P and passes its 26 on: staker13 (20 of T's 65) 8, staker14 (45) 18.
    let custody = bearers(&report, "custody");
    assert_eq!(loss_of(&custody["pools"], "P"), "200");
    assert_eq!(loss_of(&custody["stakers"], "staker01"), "20");
    assert_eq!(loss_of(&custody["stakers"], "staker13"), "8");
    assert_eq!(loss_of(&custody["stakers"], "staker14"), "18");
    // bridge fails alone as the chain books it: first its (cap-scaled) 168.75 of P (at the end P's three shared AVSs
    // commit 1.6 × 1 = 1.6 of weight against a cap of 3 × 0.3 = 0.9, each backed by 0.3 · 0.9/1.6 of W = 0.5, the
    // demo's comments work it out), which lowers P's price by 168.75/500 = 0.3375 and T with it (65 → 43.0625 =
    // 689/16); then all of T that is left, paid in P shares. staker14 (45 of T's 65) loses 45 · 0.3375 = 15.1875
    // through P and 45 · 0.6625 = 29.8125 on T: 45, all of the position and never more.
    let bridge = bearers(&report, "bridge");
    assert_eq!(loss_of(&bridge["pools"], "P"), "675/4");
    assert_eq!(loss_of(&bridge["pools"], "T"), "689/16");
    assert_eq!(loss_of(&bridge["stakers"], "staker14"), "45");
    assert_eq!(loss_of(&bridge["stakers"], "staker13"), "20");
    // custody's isolated compartment is a validator of its own: no other AVS's failure reaches it.
    let fails = report["exposure"]["fails_alone"]
        .as_array()
        .expect("fails_alone");
    for f in fails {
        let hits_custody = f["knock_on"]
            .as_array()
            .expect("knock_on")
            .iter()
            .any(|k| k["service"] == "custody");
        assert!(!hits_custody, "{f}");
    }
}

#[test]
fn terms_must_name_every_avs() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let terms = dir.join("partial-terms.json");
    std::fs::write(
        &terms,
        r#"{"services": {"oracle": {"profit": "1", "threshold": "1/2"}}}"#,
    )
    .expect("writes");
    let out = bulkhead(&[
        "audit",
        "--scenario",
        "examples/demo.toml",
        "--terms",
        &terms.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("no entry for AVS \"bridge\""),
        "{}",
        text(&out)
    );
}

#[test]
fn a_deployment_on_anvil_audits_like_its_scenario() {
    let (anvil, deployment) = deployed();
    let url = anvil.endpoint();
    let deployment = deployment.display().to_string();
    let world = bulkhead(&[
        "simulate",
        "--rpc-url",
        &url,
        "--deployment",
        &deployment,
        "examples/demo.toml",
    ]);
    assert!(world.status.success(), "{}", text(&world));

    let on_chain = bulkhead(&[
        "audit",
        "--rpc-url",
        &url,
        "--deployment",
        &deployment,
        "--terms",
        "examples/networks/demo-chain-terms.json",
        "--json",
    ]);
    assert!(on_chain.status.success(), "{}", text(&on_chain));
    let chain = json(&on_chain);
    let scenario = demo_audit();
    for key in [
        "secure",
        "max_attack_profit",
        "worst_case_loss",
        "min_byzantine_services",
    ] {
        assert_eq!(chain[key], scenario[key], "{key}");
    }
    assert_eq!(chain["network"]["total_stake"], "1165");
    // AVS ids follow registration order: oracle 1, bridge 2, da 3, custody 4; pools P 1, Q 2, T 3.
    let custody = bearers(&chain, "avs-4");
    assert_eq!(loss_of(&custody["pools"], "pool-1"), "200");
    assert!(custody["stakers"].as_array().expect("list").is_empty());
    // The bridge's tier compartment, as from the scenario: 65 · (1 − 168.75/500).
    assert_eq!(
        loss_of(&bearers(&chain, "avs-2")["pools"], "pool-3"),
        "689/16"
    );
}

/// With `[reputation]`, the audit shows each AVS's rating with its evidence, the risk weight the manager counts it
/// with, its required bond against what it holds, and the pools it would push over their cap at the floor: P holds
/// the two veterans' shared allocations at exactly the 3x cap (1 × 2 + 0.5 × 2), so either falling to the floor's
/// 3x passes it; Q's newcomer is at the floor already.
#[test]
fn audit_shows_ratings_weights_bonds_and_who_would_break_a_cap() {
    let out = bulkhead(&[
        "audit",
        "--scenario",
        "examples/risk_weighted_reuse.toml",
        "--terms",
        "examples/networks/risk-weighted-terms.json",
        "--json",
    ]);
    let report = json(&out);
    let veteran = &report["reputation"]["veteranA"];
    assert_eq!(veteran["rating_wad"], "500000000000000000", "{veteran}");
    assert_eq!(veteran["risk_weight"], "2.0x");
    assert_eq!(veteran["required_bond_fraction"], "27.5%");
    assert_eq!(veteran["bonds"][0]["amount"], "400");
    assert_eq!(veteran["over_cap_at_floor"], serde_json::json!(["P"]));
    let newcomer = &report["reputation"]["newcomerA"];
    assert_eq!(newcomer["rating_wad"], "0");
    assert_eq!(newcomer["risk_weight"], "3.0x");
    assert_eq!(newcomer["over_cap_at_floor"], serde_json::json!([]));
    // operatorA closed one epoch with P's 1,000 WETH at risk: one step, 5%.
    let operator = report["operator_reputation"]
        .as_array()
        .expect("operators")
        .iter()
        .find(|o| o["name"] == "operatorA")
        .expect("operatorA");
    assert_eq!(operator["rating_wad"], "50000000000000000", "{operator}");
    assert_eq!(operator["good"], "1");

    let table = bulkhead(&[
        "audit",
        "--scenario",
        "examples/risk_weighted_reuse.toml",
        "--terms",
        "examples/networks/risk-weighted-terms.json",
    ]);
    let said = text(&table);
    assert!(
        said.contains("Reputation and dynamic stake weights"),
        "{said}"
    );
    assert!(said.contains("27.5% of backing / 400 WETH"), "{said}");
}

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
    // One set of figures, the chain's: the "who bears the risk" table (`fails_alone`) books the same pools as the
    // per-pool table, not the network model's compartments (which would say T/bridge −65).
    assert_eq!(report["exposure"]["fails_alone_basis"], "chain");
    let fails = report["exposure"]["fails_alone"]
        .as_array()
        .expect("fails_alone");
    let bridge_row = fails
        .iter()
        .find(|f| f["service"] == "bridge")
        .expect("the bridge's row");
    // P 168.75 + Q 18.75 WBTC at 30 = 562.5 + T 43.0625.
    assert_eq!(bridge["backing_lost"], "12389/16");
    assert_eq!(bridge_row["total"], "12389/16");
    let bearers_of = |row: &Value| -> Vec<(String, String)> {
        row["losses"]
            .as_array()
            .expect("losses")
            .iter()
            .map(|l| {
                (
                    l["validator"].as_str().expect("a pool").to_string(),
                    l["amount"].as_str().expect("an amount").to_string(),
                )
            })
            .collect()
    };
    assert_eq!(
        bearers_of(bridge_row),
        [("P", "675/4"), ("Q", "1125/2"), ("T", "689/16")]
            .map(|(p, q)| (p.to_string(), q.to_string()))
    );
    // The oracle failing alone takes its 168.75 of P: the shared stake left (131.25) rescales the bridge's and the
    // DA layer's shared backings to the 3x cap with their 1.6x risk weights, 38.8569… WETH each; Q's 1.25 WBTC left
    // backs the bridge 0.1378… WBTC (4.136… at 30); T falls with P's price to 43.0625. The differential test checks
    // these against the chain.
    let oracle = bearers(&report, "oracle");
    let knock = |service: &str| {
        oracle["knock_on"]
            .as_array()
            .expect("knock_on")
            .iter()
            .find(|k| k["service"] == service)
            .unwrap_or_else(|| panic!("no knock-on on {service}: {oracle}"))
            .clone()
    };
    let on_bridge = knock("bridge");
    assert_eq!(
        (on_bridge["before"].as_str(), on_bridge["after"].as_str()),
        (Some("3185/4"), Some("889469/10336"))
    );
    let in_pool = |k: &Value, pool: &str| {
        k["pools"]
            .as_array()
            .expect("pools")
            .iter()
            .find(|p| p["pool"] == pool)
            .map(|p| p["after"].as_str().expect("after").to_string())
    };
    assert_eq!(in_pool(&on_bridge, "P").as_deref(), Some("23625/608"));
    assert_eq!(in_pool(&on_bridge, "Q").as_deref(), Some("1125/272"));
    assert_eq!(in_pool(&on_bridge, "T").as_deref(), Some("689/16"));
    assert_eq!(knock("da")["after"], "23625/608");
    let oracle_row = fails
        .iter()
        .find(|f| f["service"] == "oracle")
        .expect("the oracle's row");
    assert_eq!(oracle_row["knock_on"][0]["after"], "889469/10336");
    // custody's isolated compartment is a validator of its own: no other AVS's failure reaches it.
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
    // Backing lost and knock-on, read from the chain's weights, as from the scenario.
    assert_eq!(chain["exposure"]["fails_alone_basis"], "chain");
    assert_eq!(bearers(&chain, "avs-2")["backing_lost"], "12389/16");
    let oracle = bearers(&chain, "avs-1");
    let on_bridge = oracle["knock_on"]
        .as_array()
        .expect("knock_on")
        .iter()
        .find(|k| k["service"] == "avs-2")
        .expect("the bridge");
    assert_eq!(on_bridge["after"], "889469/10336");
}

/// `audit --json`'s types: exact rationals as strings, raw WADs as integer strings beside every formatted rating,
/// weight and fraction, risk weights in tenths as numbers, counts as numbers, and the basis of `fails_alone`.
#[test]
fn audit_json_is_typed() {
    let report = demo_audit();
    let integer_string = |v: &Value| v.as_str().is_some_and(|s| s.parse::<u128>().is_ok());
    let rational_string = |v: &Value| {
        v.as_str().is_some_and(|s| {
            let (n, d) = s.split_once('/').unwrap_or((s, "1"));
            n.trim_start_matches('-').parse::<u128>().is_ok() && d.parse::<u128>().is_ok()
        })
    };
    assert!(report["network"]["validators"].is_u64());
    assert!(rational_string(&report["network"]["total_stake"]));
    assert!(report["min_byzantine_services"].is_u64());
    for (name, r) in report["reputation"].as_object().expect("reputation") {
        for key in [
            "rating_wad",
            "mean_wad",
            "lower_bound_wad",
            "required_bond_fraction_wad",
        ] {
            assert!(integer_string(&r[key]), "{name}.{key}: {r}");
        }
        for key in ["risk_weight_tenths", "risk_weight_now_tenths"] {
            assert!(r[key].is_u64(), "{name}.{key}: {r}");
        }
        for key in [
            "rating",
            "mean",
            "lower_bound",
            "risk_weight",
            "required_bond_fraction",
        ] {
            assert!(r[key].is_string(), "{name}.{key}: {r}");
        }
        assert!(r["bond_short"].is_boolean());
    }
    let oracle = &report["reputation"]["oracle"];
    assert_eq!(oracle["risk_weight_tenths"], 16);
    assert_eq!(oracle["required_bond_fraction_wad"], "185000000000000000");
    assert_eq!(report["reputation"]["custody"]["risk_weight_tenths"], 30);
    for operator in report["operator_reputation"].as_array().expect("operators") {
        for key in ["rating_wad", "mean_wad", "lower_bound_wad"] {
            assert!(integer_string(&operator[key]), "{key}: {operator}");
        }
    }
    for b in report["exposure"]["bearers"].as_array().expect("bearers") {
        assert!(rational_string(&b["backing_lost"]), "{b}");
        for k in b["knock_on"].as_array().expect("knock_on") {
            assert!(
                rational_string(&k["before"]) && rational_string(&k["after"]),
                "{k}"
            );
        }
    }
    // A network file has no chain behind it: its `fails_alone` is the network model's.
    let network = bulkhead(&[
        "audit",
        "--network",
        "examples/networks/elastic.json",
        "--json",
    ]);
    assert!(network.status.success(), "{}", text(&network));
    assert_eq!(json(&network)["exposure"]["fails_alone_basis"], "network");
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

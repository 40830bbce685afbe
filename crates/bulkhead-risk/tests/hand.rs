//! Small networks solved by hand, in both models; the reasoning is in the comments.

use bulkhead_risk::{AuditOptions, audit, network, number};
use serde_json::Value;

fn run(json: &str, psis: &[&str]) -> Value {
    let net = network::parse(json).expect("valid network");
    let opts = AuditOptions {
        psis: psis
            .iter()
            .map(|p| (p.to_string(), number::parse(p).unwrap()))
            .collect(),
        ..AuditOptions::default()
    };
    let report = audit(&net, &opts).expect("audit");
    serde_json::to_value(&report).unwrap()
}

/// One service x (θ = 1/2) backed by a (10) and b (10), full model. Its backing is 20, so a coalition needs 10:
/// either validator alone. Cost 10. With profit 12 the attack gains 12 − 10 = 2: insecure.
#[test]
fn full_single_service_insecure() {
    let r = run(
        r#"{"model": "full",
            "validators": [{"id": "a", "stake": "10"}, {"id": "b", "stake": "10"}],
            "services": [{"id": "x", "profit": "12", "threshold": "1/2"}],
            "edges": [["a", "x"], ["b", "x"]]}"#,
        &["0", "1/2"],
    );
    assert_eq!(r["secure"], false);
    assert_eq!(r["max_attack_profit"], "2");
    assert_eq!(r["best_attack"]["services"], serde_json::json!(["x"]));
    assert_eq!(
        r["best_attack"]["validators"]["x"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(r["best_attack"]["cost"], "10");
    assert_eq!(r["best_attack"]["profit"], "12");
    // ψ = 0: no shock; the costliest profitable attack costs 10 (both validators would cost 20 ≥ 12): 10/20.
    assert_eq!(r["worst_case_loss"]["0"], "1/2");
    // ψ = 1/2: D = {a} (10 ≤ 10). Then x is backed by b alone (need 5): b costs 10 < 12, profitable. 20/20 = 1.
    assert_eq!(r["worst_case_loss"]["1/2"], "1");
    assert_eq!(r["min_byzantine_services"], 0);
}

/// Strict tie: same network with profit 10. The cheapest attack costs exactly 10 = profit: profit − cost = 0 is
/// not an attack. Secure, max_attack_profit 0, and no profitable attack, so worst_case_loss(0) = 0.
#[test]
fn full_tie_is_not_an_attack() {
    let r = run(
        r#"{"model": "full",
            "validators": [{"id": "a", "stake": "10"}, {"id": "b", "stake": "10"}],
            "services": [{"id": "x", "profit": "10", "threshold": "1/2"}],
            "edges": [["a", "x"], ["b", "x"]]}"#,
        &["0"],
    );
    assert_eq!(r["secure"], true);
    assert_eq!(r["max_attack_profit"], "0");
    assert_eq!(r["worst_case_loss"]["0"], "0");
    // Z = {x} leaves no service to attack: no Byzantine set makes the rest insecure.
    assert_eq!(r["min_byzantine_services"], Value::Null);
}

/// Restaking leverage, full model. a (6) backs x and y, b (4) backs x, c (4) backs y; θ = 1/2, profit 5 each.
/// Backings 10 and 10, needs 5 and 5: a alone (6) reaches both, b or c alone (4) reach nothing.
/// - {x} with {a}: 5 − 6 = −1; {x, y} with {a}: 10 − 6 = 4 (a is paid once); with {a, b} or {a, c}: 10 − 10 = 0.
///
/// So max_attack_profit = 4 via a on both services.
///
/// worst_case_loss, total 14: the costliest profitable attack is {x, y} by {a} (cost 6; adding b or c costs 10,
/// a tie). ψ = 0 → 6/14 = 3/7. ψ = 2/7 (cap 4): D = {b}: x backed by a only (need 3), y by a and c (need 5);
/// {x, y} by {a} costs 6 < 10, {a, c} costs 10 (tie): loss 4 + 6 = 10 → 5/7 (D = {c} is symmetric, a does not fit).
#[test]
fn full_shared_validator() {
    let r = run(
        r#"{"model": "full",
            "validators": [{"id": "a", "stake": "6"}, {"id": "b", "stake": "4"}, {"id": "c", "stake": "4"}],
            "services": [{"id": "x", "profit": "5", "threshold": "1/2"}, {"id": "y", "profit": "5", "threshold": "1/2"}],
            "edges": [["a", "x"], ["b", "x"], ["a", "y"], ["c", "y"]]}"#,
        &["0", "2/7"],
    );
    assert_eq!(r["secure"], false);
    assert_eq!(r["max_attack_profit"], "4");
    assert_eq!(r["best_attack"]["services"], serde_json::json!(["x", "y"]));
    assert_eq!(
        r["best_attack"]["validators"]["x"],
        serde_json::json!(["a"])
    );
    assert_eq!(
        r["best_attack"]["validators"]["y"],
        serde_json::json!(["a"])
    );
    assert_eq!(r["best_attack"]["cost"], "6");
    assert_eq!(r["worst_case_loss"]["0"], "3/7");
    assert_eq!(r["worst_case_loss"]["2/7"], "5/7");
    assert_eq!(r["min_byzantine_services"], 0);
    // Exposure: a restakes 6 to each of two services: degree 2.
    let a = &r["exposure"]["validators"][0];
    assert_eq!(
        (a["id"].as_str(), a["restaking_degree"].as_str()),
        (Some("a"), Some("2"))
    );
    // x failing alone takes a's and b's whole stake; y loses a's 6 of backing (10 → 4).
    let fx = &r["exposure"]["fails_alone"][0];
    assert_eq!(fx["total"], "10");
    assert_eq!(fx["knock_on"][0]["service"], "y");
    assert_eq!(fx["knock_on"][0]["after"], "4");
    // The D&R loads: a: 5/(1/2·10) + 5/(1/2·10) = 2 ≥ 1, no certificate.
    assert_eq!(r["certificate"]["gamma"], Value::Null);
}

/// Elastic cap: a (stake 10) allocates 6 to x and 6 to y (12 > 10), b (10) allocates 6 to x, c (10) 6 to y;
/// θ = 1/2, backings 12 and 12, needs 6 and 6. Profit 21/4 each.
/// - {x} by {a}: 21/4 − 6 = −3/4.
/// - {x, y} by {a} on both: a's load is 12 but it loses at most its stake 10: 21/2 − 10 = 1/2 > 0.
/// - {x, y} by {b} and {c}: 21/2 − 12 < 0. So max_attack_profit = 1/2: insecure, only because of the reuse.
///
/// Byzantine: the network is already insecure, 0.
#[test]
fn elastic_reuse_capped_at_stake() {
    let r = run(
        r#"{"model": "elastic",
            "validators": [{"id": "a", "stake": "10"}, {"id": "b", "stake": "10"}, {"id": "c", "stake": "10"}],
            "services": [{"id": "x", "profit": "21/4", "threshold": "1/2"}, {"id": "y", "profit": "5.25", "threshold": "1/2"}],
            "allocations": [{"validator": "a", "service": "x", "amount": "6"}, {"validator": "a", "service": "y", "amount": "6"},
                            {"validator": "b", "service": "x", "amount": "6"}, {"validator": "c", "service": "y", "amount": "6"}]}"#,
        &["0"],
    );
    assert_eq!(r["secure"], false);
    assert_eq!(r["max_attack_profit"], "1/2");
    assert_eq!(r["best_attack"]["cost"], "10");
    assert_eq!(r["best_attack"]["profit"], "21/2");
    // The only profitable attack costs 10 (a on both; adding b or c costs ≥ 16 > 21/2): 10/30.
    assert_eq!(r["worst_case_loss"]["0"], "1/3");
    assert_eq!(r["min_byzantine_services"], 0);
    assert_eq!(r["exposure"]["validators"][0]["restaking_degree"], "6/5");
}

/// Elastic, secure, with Byzantine services. Same allocations, profit 5 each.
/// - {x, y} by {a}: 10 − 10 = 0, a tie, not an attack; everything else costs more. Secure, max 0.
/// - Z = {x}: x takes a's 6 and b's 6: a keeps 4, so w'_ay = min(6, 4) = 4; c still backs y with 6. y's backing
///   is 10, need 5: c alone costs 6 > 5, a alone (4) is short, {a, c} costs 10. Not profitable; Z = {y} is
///   symmetric, and Z = {x, y} leaves nothing to attack: min_byzantine_services = null.
#[test]
fn elastic_tie_and_no_byzantine_set() {
    let r = run(
        r#"{"model": "elastic",
            "validators": [{"id": "a", "stake": "10"}, {"id": "b", "stake": "10"}, {"id": "c", "stake": "10"}],
            "services": [{"id": "x", "profit": "5", "threshold": "1/2"}, {"id": "y", "profit": "5", "threshold": "1/2"}],
            "allocations": [{"validator": "a", "service": "x", "amount": "6"}, {"validator": "a", "service": "y", "amount": "6"},
                            {"validator": "b", "service": "x", "amount": "6"}, {"validator": "c", "service": "y", "amount": "6"}]}"#,
        &["1/3"],
    );
    assert_eq!(r["secure"], true);
    assert_eq!(r["max_attack_profit"], "0");
    assert_eq!(r["min_byzantine_services"], Value::Null);
    // ψ = 1/3 (cap 10): removing one validator leaves one service per remaining validator priced 6 > 5, or a on
    // both at 10 = profit (tie). No attack: the loss is the shock, 10/30.
    assert_eq!(r["worst_case_loss"]["1/3"], "1/3");
}

/// Byzantine services, full model. a (10) backs x and y; b (10) and c back y; θ = 1/2; profit(x) = 1.
#[test]
fn full_byzantine_services() {
    let base = |py: &str, sc: &str| {
        format!(
            r#"{{"model": "full",
            "validators": [{{"id": "a", "stake": "10"}}, {{"id": "b", "stake": "10"}}, {{"id": "c", "stake": "{sc}"}}],
            "services": [{{"id": "x", "profit": "1", "threshold": "1/2"}}, {{"id": "y", "profit": "{py}", "threshold": "1/2"}}],
            "edges": [["a", "x"], ["a", "y"], ["b", "y"], ["c", "y"]]}}"#
        )
    };
    // c = 30, profit(y) = 29. x: backing 10, need 5, a costs 10 > 1. y: backing 50, need 25: a + b = 20 is short,
    // the cheapest coalition is {c} = 30 > 29 (or {a, b, ...} ≥ 30). {x, y} by {a, c}: 30 − 40. Best: y by c,
    // 29 − 30 = −1. Secure.
    // Z = {x}: x takes a's whole stake (w = stake): y is backed by b and c (40, need 20): c costs 30 > 29, b is
    // short: still secure. Z = {y}: y takes a, b and c: x is left with no backing at all, so it falls to the empty
    // coalition, for free: profit 1 > 0. min_byzantine_services = 1 with Z = {y}.
    let r = run(&base("29", "30"), &[]);
    assert_eq!(r["secure"], true);
    assert_eq!(r["max_attack_profit"], "-1");
    assert_eq!(r["min_byzantine_services"], 1);
    assert_eq!(r["byzantine_set"], serde_json::json!(["y"]));
    // c = 18, profit(y) = 19: y's backing is 38, need 19: {a, b} costs 20 > 19, c (18) is short. But a also
    // reaches x: {x, y} by {a} on x and {a, b} on y costs 20 for 1 + 19 = 20, a tie: secure, max 0.
    // Z = {x} (tried first) wipes a: y is backed by b and c (28, need 14): c alone costs 18 < 19.
    let r = run(&base("19", "18"), &[]);
    assert_eq!(r["secure"], true);
    assert_eq!(r["max_attack_profit"], "0");
    assert_eq!(r["min_byzantine_services"], 1);
    assert_eq!(r["byzantine_set"], serde_json::json!(["x"]));
}

/// D&R's abstract: with 10% slack (γ = 1/10) a shock of ψ = 0.1% loses at most (1 + 1/γ) · ψ = 11 · 0.1% = 1.1%.
/// a (500), b (499), t (1), all backing x (θ = 1/2) with profit 5000/11: each validator's load is
/// π / (θ · backing) = (5000/11) / 500 = 10/11 = 1/(1 + 1/10), so γ = 1/10 exactly.
/// Exactly: cap = 1/1000 · 1000 = 1, so D = ∅ or {t}. Without t the need is ⌈999/2⌉ = 500: the cheapest coalition
/// is a (500) > 5000/11 ≈ 454.5. No profitable attack either way: worst_case_loss = 1/1000 < 11/1000.
#[test]
fn dr_abstract_bound() {
    let r = run(
        r#"{"model": "full",
            "validators": [{"id": "a", "stake": "500"}, {"id": "b", "stake": "499"}, {"id": "t", "stake": "1"}],
            "services": [{"id": "x", "profit": "5000/11", "threshold": "1/2"}],
            "edges": [["a", "x"], ["b", "x"], ["t", "x"]]}"#,
        &["1/1000"],
    );
    assert_eq!(r["certificate"]["gamma"], "1/10");
    assert_eq!(r["certificate"]["loss_bound"]["1/1000"], "11/1000");
    assert_eq!(r["worst_case_loss"]["1/1000"], "1/1000");
    assert_eq!(r["secure"], true);
}

/// Past its node budget an exact search falls back to certified bounds, says so in `notes`, and the bounds bracket
/// the exact values computed with a large budget.
#[test]
fn node_budget_falls_back_to_bounds() {
    use bulkhead_risk::generate::{self, Params, SplitMix64};
    let mut rng = SplitMix64::new(11);
    let params = Params {
        validators: 14,
        services: 6,
        model: network::Model::Full,
        degree: (1, 3),
        stake: (1, 100),
        profit_pct: (40, 200),
    };
    let net = generate::network(&mut rng, &params);
    let psis = vec![("1/10".to_string(), number::parse("1/10").unwrap())];
    let exact = audit(
        &net,
        &AuditOptions {
            psis: psis.clone(),
            ..AuditOptions::default()
        },
    )
    .unwrap();
    let tight = audit(
        &net,
        &AuditOptions {
            psis,
            node_limit: 3,
            ..AuditOptions::default()
        },
    )
    .unwrap();
    assert!(exact.notes.is_empty(), "{:?}", exact.notes);
    assert!(
        tight.max_attack_profit.is_none()
            && tight.notes.iter().any(|n| n.contains("max_attack_profit"))
    );
    let mp = tight.bounds.max_attack_profit.as_ref().unwrap();
    let v = exact.max_attack_profit.as_ref().unwrap();
    assert!(&mp.lower <= v && v <= mp.upper.as_ref().unwrap());
    let wl = &tight.bounds.worst_case_loss["1/10"];
    let w = &exact.worst_case_loss["1/10"];
    assert!(&wl.lower <= w && w <= wl.upper.as_ref().unwrap());
}

/// The costliest profitable attack is a subset-sum question. x (θ = 1/3, profit 10) is backed by a (6), b (5) and
/// c (4): backing 15, need 5. Coalitions and costs: {b} 5, {a} 6, {b, c} 9, {a, c} 10 (a tie: not profitable),
/// {a, b} 11, {a, b, c} 15. The most profitable is {b} (10 − 5 = 5); the costliest profitable one skips the largest
/// validator: {b, c} at 9, so worst_case_loss(0) = 9/15 = 3/5.
#[test]
fn costliest_profitable_attack_skips_the_largest_validator() {
    let r = run(
        r#"{"model": "full",
            "validators": [{"id": "a", "stake": "6"}, {"id": "b", "stake": "5"}, {"id": "c", "stake": "4"}],
            "services": [{"id": "x", "profit": "10", "threshold": "1/3"}],
            "edges": [["a", "x"], ["b", "x"], ["c", "x"]]}"#,
        &["0"],
    );
    assert_eq!(r["max_attack_profit"], "5");
    assert_eq!(
        r["best_attack"]["validators"]["x"],
        serde_json::json!(["b"])
    );
    assert_eq!(r["worst_case_loss"]["0"], "3/5");
    assert_eq!(
        r["worst_case_shock"]["0"]["attack"]["validators"]["x"],
        serde_json::json!(["b", "c"])
    );
}

//! Invalid network files: the error names the field and says why.

use bulkhead_risk::network;

fn err(json: &str) -> String {
    format!("{:#}", network::parse(json).expect_err("must be rejected"))
}

const V: &str = r#""validators": [{"id": "a", "stake": "100"}]"#;
const S: &str = r#""services": [{"id": "x", "profit": "25", "threshold": "1/2"}]"#;

#[test]
fn names_the_field_and_why() {
    let cases: Vec<(String, &str)> = vec![
        (
            format!(
                r#"{{"model": "full", {V}, "services": [{{"id": "x", "profit": "1", "threshold": "1/2"}}, {{"id": "y", "profit": "1", "threshold": "1/3"}}, {{"id": "z", "profit": "1", "threshold": "3/2"}}], "edges": []}}"#
            ),
            r#"services[2].threshold: "3/2" must be in (0, 1]"#,
        ),
        (
            format!(r#"{{"model": "partial", {V}, {S}, "edges": []}}"#),
            r#"model: "partial" must be "full" or "elastic""#,
        ),
        (
            format!(r#"{{"model": "full", {V}, {S}, "edges": [["q", "x"]]}}"#),
            r#"edges[0][0]: unknown validator "q""#,
        ),
        (
            format!(r#"{{"model": "full", {V}, {S}, "edges": [["a", "q"]]}}"#),
            r#"edges[0][1]: unknown service "q""#,
        ),
        (
            format!(r#"{{"model": "full", {V}, {S}, "edges": [["a", "x"], ["a", "x"]]}}"#),
            r#"edges[1]: ["a", "x"] repeats edges[0]"#,
        ),
        (
            format!(
                r#"{{"model": "elastic", {V}, {S}, "allocations": [{{"validator": "a", "service": "x", "amount": "150"}}]}}"#
            ),
            r#"allocations[0].amount: "150" exceeds the stake "100" of validator "a""#,
        ),
        (
            format!(
                r#"{{"model": "elastic", {V}, {S}, "allocations": [{{"validator": "a", "service": "x", "amount": "0"}}]}}"#
            ),
            r#"allocations[0].amount: "0" must be > 0"#,
        ),
        (
            format!(r#"{{"model": "elastic", {V}, {S}, "edges": [["a", "x"]]}}"#),
            r#"edges: only for model "full""#,
        ),
        (
            format!(
                r#"{{"model": "full", {V}, {S}, "allocations": [{{"validator": "a", "service": "x", "amount": "1"}}]}}"#
            ),
            r#"allocations: only for model "elastic""#,
        ),
        (
            format!(r#"{{"model": "full", "validators": [{{"id": "a", "stake": "abc"}}], {S}}}"#),
            r#"validators[0].stake: "abc" is not a number"#,
        ),
        (
            format!(r#"{{"model": "full", "validators": [{{"id": "a", "stake": "0"}}], {S}}}"#),
            r#"validators[0].stake: "0" must be > 0"#,
        ),
        (
            format!(r#"{{"model": "full", "validators": [{{"id": "a", "stake": 1.5}}], {S}}}"#),
            r#"validators[0].stake: expected a string"#,
        ),
        (
            format!(
                r#"{{"model": "full", "validators": [{{"id": "a", "stake": "1"}}, {{"id": "a", "stake": "2"}}], {S}}}"#
            ),
            r#"validators[1].id: "a" already used by validators[0]"#,
        ),
        (
            format!(
                r#"{{"model": "full", {V}, "services": [{{"id": "x", "profit": "-1", "threshold": "1"}}]}}"#
            ),
            r#"services[0].profit: "-1" must be ≥ 0"#,
        ),
        (
            format!(
                r#"{{"model": "full", {V}, "services": [{{"id": "x", "profit": "1", "threshold": "0"}}]}}"#
            ),
            r#"services[0].threshold: "0" must be in (0, 1]"#,
        ),
        (
            format!(r#"{{"model": "full", {V}, "services": []}}"#),
            "services: must not be empty",
        ),
        (
            format!(r#"{{"model": "full", {V}}}"#),
            "missing field `services`",
        ),
        (
            format!(r#"{{"model": "full", {V}, {S}, "extra": 1}}"#),
            "unknown field `extra`",
        ),
    ];
    for (json, want) in cases {
        let got = err(&json);
        assert!(
            got.contains(want),
            "for {json}\n  expected: {want}\n  got:      {got}"
        );
    }
}

#[test]
fn a_valid_file_parses() {
    let net = network::parse(&format!(
        r#"{{"model": "full", {V}, {S}, "edges": [["a", "x"]]}}"#
    ))
    .unwrap();
    assert_eq!(
        (net.validators.len(), net.services.len(), net.weights.len()),
        (1, 1, 1)
    );
}

/// Callers match on the error's variant: the field and the message apart, the file and the cause apart.
#[test]
fn errors_are_typed() {
    use bulkhead_risk::{AuditOptions, RiskError, audit, number};

    let bad_edge = format!(r#"{{"model": "full", {V}, {S}, "edges": [["q", "x"]]}}"#);
    match network::parse(&bad_edge) {
        Err(RiskError::Field { field, message }) => {
            assert_eq!(field, "edges[0][0]");
            assert_eq!(message, r#"unknown validator "q""#);
        }
        other => panic!("{other:?}"),
    }
    match network::parse("{\n  \"model\": ") {
        Err(RiskError::Parse { line: 2, .. }) => {}
        other => panic!("{other:?}"),
    }
    let dir = std::env::temp_dir().join(format!("bulkhead-risk-invalid-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.json");
    std::fs::write(&file, &bad_edge).unwrap();
    let err = network::load(&file).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            r#"in {}: edges[0][0]: unknown validator "q""#,
            file.display()
        )
    );
    assert!(
        matches!(&err, RiskError::File { cause, .. } if matches!(**cause, RiskError::Field { .. }))
    );
    assert!(
        std::error::Error::source(&err).is_none(),
        "the cause is in the message, not the chain"
    );
    assert!(matches!(
        network::load(&dir.join("missing.json")),
        Err(RiskError::Read { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();

    let net = network::parse(&format!(
        r#"{{"model": "full", {V}, {S}, "edges": [["a", "x"]]}}"#
    ))
    .unwrap();
    let opts = AuditOptions {
        psis: vec![("3/2".into(), number::parse("3/2").unwrap())],
        ..AuditOptions::default()
    };
    match audit(&net, &opts) {
        Err(RiskError::ShockOutOfRange { psi }) => assert_eq!(psi, "3/2"),
        other => panic!("{other:?}"),
    }
    let huge = network::parse(&format!(
        r#"{{"model": "full", "validators": [{{"id": "a", "stake": "1/3"}}], "services": [{{"id": "x", "profit": "{}", "threshold": "1/2"}}], "edges": [["a", "x"]]}}"#,
        u128::MAX
    ))
    .unwrap();
    match audit(&huge, &AuditOptions::default()) {
        Err(e @ RiskError::TooLarge { .. }) => {
            assert!(e.to_string().starts_with(r#"service "x" profit: "#), "{e}")
        }
        other => panic!("{other:?}"),
    }
}

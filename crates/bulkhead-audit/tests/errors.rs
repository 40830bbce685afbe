//! What goes wrong mapping a scenario to a network comes back as an [`AuditError`] variant, its message as users
//! read it.

use std::path::{Path, PathBuf};

use bulkhead_audit::{AuditError, Source, Terms};
use bulkhead_risk::RiskError;

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo.toml")
}

/// The demo's terms with `edit` applied.
fn terms(edit: impl FnOnce(&mut serde_json::Value)) -> Terms {
    let mut value = serde_json::json!({
        "services": {
            "oracle": {"profit": "150", "threshold": "1/2"},
            "bridge": {"profit": "400", "threshold": "2/3"},
            "da": {"profit": "80", "threshold": "1/3"},
            "custody": {"profit": "120", "threshold": "1/2"}
        },
        "prices": {"WBTC": "30"},
        "unit": "WETH"
    });
    edit(&mut value);
    serde_json::from_value(value).expect("terms")
}

#[test]
fn terms_files_fail_with_the_file_and_the_place() {
    let dir = std::env::temp_dir().join(format!("bulkhead-audit-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = dir.join("missing.json");
    match Terms::load(&missing) {
        Err(e @ AuditError::ReadTerms { .. }) => assert!(
            e.to_string()
                .starts_with(&format!("reading the terms file {}: ", missing.display())),
            "{e}"
        ),
        other => panic!("{other:?}"),
    }
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\n  \"services\": 3}").unwrap();
    match Terms::load(&bad) {
        Err(e @ AuditError::ParseTerms { line: 2, .. }) => {
            assert!(
                e.to_string().starts_with(&format!("{}:2:", bad.display())),
                "{e}"
            );
            assert!(e.to_string().contains("; expected {\"services\""), "{e}");
        }
        other => panic!("{other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn terms_must_match_the_scenario() {
    let no_bridge = terms(|t| {
        t["services"].as_object_mut().unwrap().remove("bridge");
    });
    match Source::from_scenario(&demo(), &no_bridge) {
        Err(e @ AuditError::NoTerms { .. }) => {
            assert!(
                e.to_string()
                    .starts_with(r#"the terms file has no entry for AVS "bridge": "#)
            )
        }
        other => panic!("{other:?}"),
    }
    let ghost =
        terms(|t| t["services"]["ghost"] = serde_json::json!({"profit": "1", "threshold": "1/2"}));
    match Source::from_scenario(&demo(), &ghost) {
        Err(AuditError::UnknownAvs { unknown, known }) => {
            assert_eq!(unknown, ["ghost"]);
            assert_eq!(known, ["bridge", "custody", "da", "oracle"]);
        }
        other => panic!("{other:?}"),
    }
    let bad_price = terms(|t| t["prices"]["WBTC"] = "abc".into());
    match Source::from_scenario(&demo(), &bad_price) {
        Err(e @ AuditError::Price { .. }) => assert!(
            e.to_string()
                .starts_with(r#"prices.WBTC: "abc" is not a number"#),
            "{e}"
        ),
        other => panic!("{other:?}"),
    }
    match Source::from_scenario(Path::new("no-such-scenario.toml"), &terms(|_| {})) {
        Err(AuditError::Scenario(e)) => assert_eq!(e.file, "no-such-scenario.toml"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_invalid_mapped_network_names_the_field() {
    let bad_threshold = terms(|t| t["services"]["oracle"]["threshold"] = "7".into());
    let source = Source::from_scenario(&demo(), &bad_threshold).expect("maps");
    match source.parse_network() {
        Err(e @ AuditError::InvalidNetwork { .. }) => {
            let AuditError::InvalidNetwork {
                cause: RiskError::Field { field, .. },
            } = &e
            else {
                panic!("{e:?}")
            };
            assert!(field.ends_with(".threshold"), "{field}");
            assert!(
                e.to_string()
                    .starts_with("the network read from the protocol is not valid: services["),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }
}

//! `bulkhead simulate` end to end: tables, JSON, and the exit status.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/bulkhead-cli")
        .to_path_buf()
}

fn examples() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(repo_root().join("examples"))
        .expect("examples/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".toml"))
        .map(|name| format!("examples/{name}"))
        .collect();
    files.sort();
    files
}

fn bulkhead(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bulkhead"))
        .args(args)
        .current_dir(repo_root())
        .env_remove("RUST_LOG")
        .output()
        .expect("runs bulkhead")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A scenario file under the target directory (kept out of the repository).
fn scratch(name: &str, contents: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("writes the scenario");
    path
}

#[test]
fn every_example_passes_with_tables() {
    let files = examples();
    let args: Vec<&str> = std::iter::once("simulate")
        .chain(files.iter().map(String::as_str))
        .collect();
    let out = bulkhead(&args);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert_eq!(stdout.matches("— PASSED").count(), files.len(), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "{} passed, 0 failed, 0 could not run",
            files.len()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("guard tripped on P: I asked 200 WETH, allowed 170 WETH"),
        "{stdout}"
    );
}

#[test]
fn json_is_one_object_per_run() {
    let files = examples();
    let args: Vec<&str> = ["simulate", "--json"]
        .into_iter()
        .chain(files.iter().map(String::as_str))
        .collect();
    let out = bulkhead(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let runs: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is a JSON object"))
        .collect();
    assert_eq!(runs.len(), files.len());
    for (run, file) in runs.iter().zip(&files) {
        assert_eq!(run["file"], file.as_str());
        assert_eq!(run["passed"], true);
        assert!(run["steps"].as_array().is_some_and(|s| !s.is_empty()));
        assert!(
            run["final_state"]["pools"]
                .as_array()
                .is_some_and(|p| !p.is_empty())
        );
    }
    let chained = runs
        .iter()
        .find(|r| r["scenario"] == "chained-slash")
        .expect("the chained slash");
    let pool_p = &chained["final_state"]["pools"][0];
    assert_eq!(
        (pool_p["name"].as_str(), pool_p["value"].as_str()),
        (Some("P"), Some("270"))
    );
    // Shared backings scaled to the 3x cap after the slashes shrank the shared stake.
    assert_eq!(pool_p["reuse_ratio"], "3x");
    // Typed beside the formatted: the raw WAD as an integer string, the decimals, a numeric id like an AVS's.
    assert_eq!(pool_p["reuse_ratio_wad"], "3000000000000000000");
    assert_eq!(pool_p["guard_used_wad"], "730000000000000000");
    assert_eq!(pool_p["decimals"], 18);
    assert_eq!(pool_p["id"], 1);
    assert!(chained["final_state"]["avs"][0]["id"].is_u64());
    let slash = &chained["steps"][9];
    assert_eq!(slash["action"], "slash");
    assert_eq!(slash["events"][0]["name"], "CascadeGuardTripped");
    assert_eq!(
        slash["events"][0]["args"]["allowed"],
        "170000000000000000000"
    );
    // One type per kind of id: numbers in events as in the final state; amounts stay integer strings.
    let args = &slash["events"][0]["args"];
    assert_eq!(args["poolId"], pool_p["id"]);
    assert!(args["avsId"].is_u64(), "{args}");
    for run in &runs {
        for step in run["steps"].as_array().expect("steps") {
            for event in step["events"].as_array().expect("events") {
                for (name, value) in event["args"].as_object().expect("args") {
                    if ["poolId", "avsId", "basePoolId", "requestId", "proposalId"]
                        .contains(&name.as_str())
                    {
                        assert!(value.is_u64(), "{name} in {event}");
                    } else {
                        assert!(value.is_string(), "{name} in {event}");
                    }
                }
            }
        }
    }
    // Reputation: the raw values beside the formatted ones, typed.
    let demo = runs
        .iter()
        .find(|r| r["scenario"] == "demo-world")
        .expect("the demo");
    let oracle = &demo["final_state"]["avs"][0]["reputation"];
    assert_eq!(oracle["risk_weight"], "1.6x");
    assert_eq!(oracle["risk_weight_tenths"], 16);
    assert_eq!(oracle["risk_weight_now_tenths"], 16);
    assert_eq!(oracle["required_bond_fraction"], "18.5%");
    assert_eq!(oracle["required_bond_fraction_wad"], "185000000000000000");
    for key in ["mean_wad", "lower_bound_wad", "rating_wad"] {
        let raw = oracle[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key}: {oracle}"));
        assert!(raw.parse::<u128>().is_ok(), "{key}: {raw}");
    }
    let operator = &demo["final_state"]["operators"][0];
    assert!(
        operator["mean_wad"]
            .as_str()
            .is_some_and(|w| w.parse::<u128>().is_ok()),
        "{operator}"
    );
}

#[test]
fn a_failed_expectation_exits_1_with_expected_and_actual() {
    let text_in =
        std::fs::read_to_string(repo_root().join("examples/guard_trip.toml")).expect("the example");
    let wrong = text_in.replacen(
        r#"guard_used = { P = "50%" }"#,
        r#"guard_used = { P = "30%" }"#,
        1,
    );
    let path = scratch("guard_wrong.toml", &wrong);
    let out = bulkhead(&["simulate", path.to_str().expect("utf-8")]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("— FAILED"), "{stdout}");
    assert!(
        stdout.contains("steps[5].guard_used.P: cascade guard used in P"),
        "{stdout}"
    );
    assert!(
        stdout.contains("expected 30%") && stdout.contains("actual   50%"),
        "{stdout}"
    );

    let out = bulkhead(&["simulate", "--json", path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    let run: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let failed: Vec<&serde_json::Value> = run["expectations"]
        .as_array()
        .expect("expectations")
        .iter()
        .filter(|e| e["passed"] == false)
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        (failed[0]["expected"].as_str(), failed[0]["actual"].as_str()),
        (Some("30%"), Some("50%"))
    );
}

#[test]
fn a_malformed_file_exits_2_with_a_located_error() {
    let path = scratch(
        "malformed.toml",
        "version = 1\n\n[[steps]]\naction = \"warp\"\nduration = \"soon\"\n",
    );
    let out = bulkhead(&[
        "simulate",
        path.to_str().expect("utf-8"),
        "examples/guard_trip.toml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "error: {}:5:12: steps[0].duration: expected a duration like",
            path.display()
        )),
        "{stderr}"
    );
    // The other file still ran.
    assert!(text(&out.stdout).contains("guard-trip"));
}

#[test]
fn verbose_logs_go_to_stderr() {
    let out = bulkhead(&["-v", "simulate", "--json", "examples/guard_trip.toml"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout).lines().count(), 1);
    assert!(
        text(&out.stderr).contains("running guard-trip"),
        "{}",
        text(&out.stderr)
    );
}

/// Every command ends the same way on the same kind of failure: 2 when it could not run (bad arguments or input,
/// an unreachable node), 1 when it ran and the outcome is negative.
#[test]
fn exit_codes_agree_across_commands() {
    let unreachable = "http://127.0.0.1:9";
    for args in [
        vec!["simulate", "--rpc-url", unreachable, "examples/demo.toml"],
        vec!["deploy", "--rpc-url", unreachable],
        vec![
            "audit",
            "--rpc-url",
            unreachable,
            "--terms",
            "examples/networks/demo-terms.json",
        ],
        vec!["audit"],
        vec!["simulate", "no-such-file.toml"],
    ] {
        let out = bulkhead(&args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn audit_without_a_source_names_every_source() {
    let out = bulkhead(&["audit"]);
    let err = text(&out.stderr);
    for flag in ["--network", "--scenario", "--rpc-url"] {
        assert!(err.contains(flag), "{err}");
    }
}

#[test]
fn stress_caps_threads_with_a_warning() {
    let out = bulkhead(&["stress", "--threads", "100000", "--scenarios", "2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("--threads 100000 capped at"), "{err}");
    assert!(!text(&out.stdout).contains("on 100000 threads"));
}

fn bulkhead_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bulkhead"));
    command
        .args(args)
        .current_dir(repo_root())
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("runs bulkhead")
}

#[test]
fn tables_fit_the_width_and_one_style_everywhere() {
    for args in [
        vec!["simulate", "examples/demo.toml"],
        vec![
            "audit",
            "--scenario",
            "examples/demo.toml",
            "--terms",
            "examples/networks/demo-terms.json",
        ],
        vec!["stress", "--scenarios", "3"],
        vec!["demo", "--embedded"],
    ] {
        let out = bulkhead_env(&args, &[("COLUMNS", "90")]);
        let stdout = text(&out.stdout);
        let widest = stdout.lines().map(|l| l.chars().count()).max().unwrap_or(0);
        assert!(
            widest <= 90,
            "{args:?}: a line of {widest} columns\n{stdout}"
        );
        // One table style: UTF-8 boxes, never ASCII `+---+`.
        assert!(
            stdout.contains('┆') && !stdout.contains("+--"),
            "{args:?}\n{stdout}"
        );
    }
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let always = bulkhead_env(
        &[
            "--color",
            "always",
            "simulate",
            "-q",
            "examples/guard_trip.toml",
        ],
        &[],
    );
    assert!(
        text(&always.stdout).contains("\u{1b}[32mPASSED"),
        "{}",
        text(&always.stdout)
    );
    // Into a pipe, `auto` is plain; so are `never` and NO_COLOR with `auto`.
    for (args, env) in [
        (vec!["simulate", "-q", "examples/guard_trip.toml"], vec![]),
        (
            vec![
                "--color",
                "never",
                "simulate",
                "-q",
                "examples/guard_trip.toml",
            ],
            vec![],
        ),
        (
            vec!["simulate", "-q", "examples/guard_trip.toml"],
            vec![("NO_COLOR", "1")],
        ),
    ] {
        let out = bulkhead_env(&args, &env);
        assert!(!text(&out.stdout).contains('\u{1b}'), "{args:?} {env:?}");
    }
}

/// A failed run is red where colour is on: the verdict, the failed count, each ✗ (in the step table and under it).
#[test]
fn failures_are_red_when_colour_is_on() {
    let text_in =
        std::fs::read_to_string(repo_root().join("examples/guard_trip.toml")).expect("the example");
    let wrong = text_in.replacen(
        r#"guard_used = { P = "50%" }"#,
        r#"guard_used = { P = "30%" }"#,
        1,
    );
    let path = scratch("guard_wrong_colour.toml", &wrong);
    let path = path.to_str().expect("utf-8");
    let out = bulkhead_env(&["--color", "always", "simulate", path], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    for red in ["\u{1b}[31mFAILED", "\u{1b}[31m1 failed", "\u{1b}[31m✗"] {
        assert!(stdout.contains(red), "{red:?} in\n{stdout}");
    }
    // The step whose check failed: its outcome cell in red too (comfy-table's 8-colour red, 31).
    let failed_row = stdout
        .lines()
        .find(|l| l.contains("✗ cascade guard used in P"))
        .expect("the failed check's row");
    assert!(
        failed_row.contains("\u{1b}[31m") || failed_row.contains("\u{1b}[38;5;9m"),
        "{failed_row:?}"
    );
    let plain = bulkhead_env(&["--color", "never", "simulate", path], &[]);
    assert!(!text(&plain.stdout).contains('\u{1b}'));
}

/// A scenario where time never moves has no time column (no `+0s` on every row) and no time after "Final state"; one
/// that warps has both.
#[test]
fn no_time_column_when_time_stands_still() {
    let still = scratch(
        "still.toml",
        r#"version = 1
operators = [{ name = "operatorA" }]
stakers = [{ name = "alice" }]
avs = [{ name = "oracle", kind = "instant" }]
pools = [{ name = "P", operator = "operatorA", asset = "WETH" }]
deposits = [{ staker = "alice", pool = "P", amount = "100" }]
allocations = [{ pool = "P", avs = "oracle", mode = "isolated", fraction = "50%" }]

[[steps]]
action = "slash"
avs = "oracle"
pool = "P"
fraction = "20%"

[[steps]]
action = "expect"
pool_value = { P = "90" }
"#,
    );
    let out = bulkhead(&["simulate", still.to_str().expect("utf-8")]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(!stdout.contains("┆ +0s"), "{stdout}");
    let header = stdout
        .lines()
        .find(|l| l.contains("action") && l.contains("detail"))
        .expect("the step table's header");
    assert!(!header.contains(" t "), "{header}");
    assert!(stdout.contains("Final state\n"), "{stdout}");

    let moving = bulkhead(&["simulate", "examples/guard_trip.toml"]);
    let stdout = text(&moving.stdout);
    let header = stdout
        .lines()
        .find(|l| l.contains("action") && l.contains("detail"))
        .expect("the step table's header");
    assert!(header.contains(" t "), "{header}");
    assert!(stdout.contains("Final state at +"), "{stdout}");
}

/// Every link in the README and the docs stays in the repository and reaches a file, and every `crates/…` path they
/// name exists.
#[test]
fn docs_point_inside_the_repository() {
    let root = repo_root();
    let mut files = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    let root = root.canonicalize().expect("the root");
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("reads");
        let dir = file.parent().expect("a folder");
        // Markdown links: `](target)`, outside the web.
        for part in text.split("](").skip(1) {
            let target = part.split(')').next().unwrap_or_default();
            let target = target.split('#').next().unwrap_or_default();
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let resolved = dir.join(target);
            let resolved = resolved
                .canonicalize()
                .unwrap_or_else(|e| panic!("{}: link {target}: {e}", file.display()));
            assert!(
                resolved.starts_with(&root),
                "{}: link {target} leaves the repository",
                file.display()
            );
            checked += 1;
        }
        // `crates/…` paths in code spans.
        for span in text.split('`').skip(1).step_by(2) {
            if span.starts_with("crates/")
                && !span.contains(char::is_whitespace)
                && !span.contains('*')
            {
                let path = span.trim_end_matches(['.', ',', ':', ')']);
                let path = path.split(['#', ':']).next().unwrap_or(path);
                assert!(
                    root.join(path).exists(),
                    "{}: `{span}` does not exist",
                    file.display()
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "checked {checked}");
}

#[test]
fn quiet_prints_the_outcome_only() {
    let out = bulkhead(&[
        "-q",
        "simulate",
        "examples/guard_trip.toml",
        "examples/demo.toml",
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(!stdout.contains('┆'), "{stdout}");
    // The demo's 79 checks: its expected revert, 8 after the seasoning, 32 before the cascade, 38 during it.
    assert!(
        stdout.contains("Expectations: 79 passed, 0 failed"),
        "{stdout}"
    );
    let audit = bulkhead(&[
        "audit",
        "-q",
        "--scenario",
        "examples/demo.toml",
        "--terms",
        "examples/networks/demo-terms.json",
    ]);
    assert_eq!(
        text(&audit.stdout).lines().count(),
        1,
        "{}",
        text(&audit.stdout)
    );
}

/// Every command's `--help` fits 80 columns (its usage line aside) and ends with examples; each example that needs no node runs as
/// printed (exit 0, or 1 for an audit that finds the network insecure: never 2, "could not run"), in a directory of
/// its own with `examples/` linked in, so that what they write (the audit's HTML report) stays out of the repository.
#[test]
fn help_fits_and_its_examples_run_as_printed() {
    let bin = env!("CARGO_BIN_EXE_bulkhead");
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("help-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory");
    for link in ["examples", "node_modules"] {
        let _ = std::fs::remove_file(dir.join(link));
        std::os::unix::fs::symlink(repo_root().join(link), dir.join(link)).expect("a link");
    }
    let report = repo_root().join("demo-audit.html");
    let before = std::fs::metadata(&report).and_then(|m| m.modified()).ok();
    let mut ran = 0;
    for sub in [
        "simulate", "deploy", "demo", "dapp", "bench", "stress", "audit", "decode",
    ] {
        let help = bulkhead_env(&[sub, "--help"], &[("COLUMNS", "80")]);
        let help = text(&help.stdout);
        // (clap never breaks the usage line itself)
        let widest = help
            .lines()
            .filter(|l| !l.starts_with("Usage:"))
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0);
        assert!(widest <= 80, "{sub} --help: a line of {widest} columns");
        let examples = help
            .split("Examples:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("{sub} has no examples"));
        for example in examples
            .replace("\\\n", " ")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            assert!(example.starts_with("bulkhead "), "{example}");
            if ["--fork-url", "--rpc-url", "--keep", "bench", "dapp"]
                .iter()
                .any(|n| example.contains(n))
            {
                continue; // needs a node, or serves until stopped (the browser test runs `dapp`)
            }
            let command = example.replacen("bulkhead", bin, 1);
            let out = Command::new("sh")
                .args(["-c", &command])
                .current_dir(&dir)
                .env_remove("RUST_LOG")
                .output()
                .expect("runs the example");
            assert!(
                matches!(out.status.code(), Some(0 | 1)),
                "{example}: {}",
                text(&out.stderr)
            );
            ran += 1;
        }
    }
    assert!(ran >= 8, "ran {ran} examples");
    // The audit example's report is written where it ran, never into the repository.
    assert!(dir.join("demo-audit.html").is_file());
    let after = std::fs::metadata(&report).and_then(|m| m.modified()).ok();
    assert_eq!(before, after, "{} was written", report.display());
}

/// `bulkhead dapp` refuses, before it starts or deploys anything, a page that was not built and a page port in use.
#[test]
fn dapp_refuses_before_starting_anything() {
    let missing = bulkhead(&["dapp", "--dist", "/nonexistent-bulkhead-dist"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing.stderr).contains("npm run dapp:build"),
        "{}",
        text(&missing.stderr)
    );

    let dist = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dapp-dist");
    std::fs::create_dir_all(&dist).expect("a scratch dist");
    std::fs::write(dist.join("index.html"), "<!doctype html>").expect("a page");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let http_port = taken.local_addr().expect("its address").port();
    let node_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let out = bulkhead(&[
        "dapp",
        "--dist",
        dist.to_str().expect("a UTF-8 path"),
        "--http-port",
        &http_port.to_string(),
        "--port",
        &node_port.to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--http-port"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        std::net::TcpListener::bind(("127.0.0.1", node_port)).is_ok(),
        "no node was started on {node_port}"
    );
}

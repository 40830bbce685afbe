//! `bulkhead market` on a fresh anvil: deploy, run the isolated-lease example half-way on the node (a scenario that
//! stops after the first stream), then read the book as JSON and as tables and check it against the hand-derived
//! figures of `examples/market_isolated_lease.toml`.

use std::{path::Path, process::Command};

use alloy::node_bindings::Anvil;

fn bulkhead(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bulkhead"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .env("COLUMNS", "200")
        .output()
        .expect("runs bulkhead")
}

fn ok(output: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The example's preamble and steps up to the first stream (half the term), and a second bid left open.
fn half_way() -> String {
    let example = std::fs::read_to_string(
        bulkhead_contracts::repo_root().join("examples/market_isolated_lease.toml"),
    )
    .expect("the example");
    let cut = example
        .find("# Half the term")
        .expect("the example's half-way mark");
    format!(
        "{}\n[[steps]]\naction = \"bid\"\nlabel = \"b2\"\navs = \"oracle\"\nasset = \"WETH\"\namount = \"50\"\nmode = \"shared\"\nterm = \"30d\"\nmax_price = \"12%\"\n",
        &example[..cut]
    )
}

#[test]
fn reads_the_book_and_the_leases_of_a_node() {
    let anvil = Anvil::at(bulkhead_evm::anvil_binary()).spawn();
    let url = anvil.endpoint();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("market-{}", anvil.port()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a folder");
    ok(&bulkhead(
        &["deploy", "--rpc-url", &url, "--out", "deployments"],
        &dir,
    ));
    std::fs::write(dir.join("half.toml"), half_way()).expect("writes the scenario");
    ok(&bulkhead(
        &["simulate", "--rpc-url", &url, "half.toml"],
        &dir,
    ));

    let json = ok(&bulkhead(
        &["market", "--rpc-url", &url, "--json", "--closed"],
        &dir,
    ));
    let book: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let ether = |n: &str| format!("{n}000000000000000000");
    // Bid b1 was filled (closed), b2 is open; ask a1 has 200 of its 400 left.
    let bids = book["bids"].as_array().expect("bids");
    assert_eq!(bids.len(), 2, "{json}");
    assert_eq!(bids[0]["open"], false);
    assert_eq!(bids[1]["open"], true);
    assert_eq!(bids[1]["backing"], ether("50"));
    assert_eq!(bids[1]["maxPriceBps"], 1200);
    assert_eq!(bids[1]["mode"], "shared");
    let asks = book["asks"].as_array().expect("asks");
    assert_eq!(asks[0]["capacity"], ether("200"));
    assert_eq!(asks[0]["minPriceBps"], 500);
    // The lease: 200 WETH at 10%, 20 premium, 10 paid after the first stream, live, backed in full.
    let lease = &book["leases"][0];
    assert_eq!(lease["backing"], ether("200"));
    assert_eq!(lease["backingNow"], ether("200"));
    assert_eq!(lease["priceBps"], 1000);
    assert_eq!(lease["premium"], ether("20"));
    assert_eq!(lease["paid"], ether("10"));
    assert_eq!(lease["escrowed"], ether("10"));
    assert_eq!(lease["status"], "live");
    assert_eq!(lease["asset"]["symbol"], "WETH");
    // P: 400 WETH, 200 leased (50%), 200 still offered.
    let pool = &book["pools"][0];
    assert_eq!(pool["value"], ether("400"));
    assert_eq!(pool["leased"], ether("200"));
    assert_eq!(pool["offered"], ether("200"));
    assert_eq!(pool["utilisationBps"], 5000);
    let prices = &book["prices"][0];
    assert_eq!(prices["bestBidBps"], 1200);
    assert_eq!(prices["bestAskBps"], 500);
    assert_eq!(prices["leasedPriceBps"], 1000);

    // Without --closed the filled bid is gone; the tables say the same in words.
    let json = ok(&bulkhead(&["market", "--rpc-url", &url, "--json"], &dir));
    let book: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(book["bids"].as_array().expect("bids").len(), 1);
    let text = ok(&bulkhead(&["market", "--rpc-url", &url], &dir));
    for needle in [
        "Bids",
        "Asks",
        "Leases",
        "Utilisation",
        "Prices",
        "200 WETH",
        "10%",
        "50%",
        "live",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
    assert!(
        !text.contains('\u{1b}'),
        "NO_COLOR: no escape codes\n{text}"
    );

    // A deployment file of another chain is refused with the fix.
    let out = bulkhead(
        &["market", "--rpc-url", &url, "--deployment", "nowhere.json"],
        &dir,
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nowhere.json"), "{err}");
}

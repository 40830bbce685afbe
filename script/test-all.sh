#!/usr/bin/env bash
# Every check and test of Bulkhead, in order: formatting, lints, Rust tests, the HTML report and the demo dApp in headless Chromium
# (Debian's chromium, installed when missing), the gas benchmark, Solidity tests (CI
# profile: 1,000 fuzz runs, deep invariants), then static analysis (slither). `make test` runs this after installing the toolchain; so does CI.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

step() { printf '\n==> %s\n' "$*"; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT

step "forge fmt --check"
forge fmt --check
step "cargo fmt --check"
cargo fmt --all --check
step "cargo clippy --all-targets -D warnings"
cargo clippy --locked --workspace --all-targets -- -D warnings
step "cargo test"
cargo test --locked --workspace
step "browser: the HTML audit report in headless Chromium"
script/toolchain/chromium.sh
mkdir -p target/browser
cargo run --locked -q -p bulkhead-cli -- audit --scenario examples/demo.toml \
  --terms examples/networks/demo-terms.json --html target/browser/audit-report.html -q
node script/browser/audit-report.mjs target/browser/audit-report.html target/browser/audit-report.png
step "browser: the demo dApp on a fresh anvil in headless Chromium"
npm run -s dapp:build
cargo build --locked -q -p bulkhead-cli
node script/browser/dapp.mjs target/debug/bulkhead target/browser/dapp
step "forge build"
forge build
step "gas benchmark (each operation its own transaction)"
forge test --match-path 'test/gas/*' --isolate -vv | tee "$log" | grep -E '^ *GAS ' || { cat "$log"; exit 1; }
step "forge test (profile ci)"
FOUNDRY_PROFILE=ci forge test --no-match-path 'test/gas/*' | tee "$log" || true # the count below decides, after slither has run
# Last: slither runs `forge clean` and rebuilds the contracts for its own analysis.
step "slither (High and Medium findings fail; triage in slither.config.json)"
script/toolchain/slither.sh

# One closing line that any reader of this log can count: 'N passed, N failed'.
summary=$(grep -E 'tests passed, [0-9]+ failed' "$log" | tail -1)
passed=$(sed -E 's/.* ([0-9]+) tests passed.*/\1/' <<<"$summary")
failed=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$summary")
echo
# A failing test is named again here, so a log cut to its last lines still says which one and how to replay it.
grep -E '^(Encountered [0-9]+ failing test in|\[FAIL|Fuzz seed:)' "$log" | sort -u || true
echo "forge: ${passed:-0} passed, ${failed:-0} failed"
[[ ${passed:-0} -gt 0 && ${failed:-1} -eq 0 ]]

//! The model's port of `BetaReputation` (`bulkhead_stress::model::beta`) against the library itself, on random
//! inputs, through the embedded EVM: a probe contract exposing each internal function is compiled from the
//! library's source with the project's solc (the npm toolchain's wrapper, standard JSON, the settings of
//! `foundry.toml`), deployed, and called. Every result must be equal to the wei, and every refusal the same named
//! error.

use std::{
    collections::BTreeMap,
    io::Write,
    path::Path,
    process::{Command, Stdio},
};

use alloy::{
    primitives::{Bytes, U256},
    sol,
};
use bulkhead_evm::{Engine, EngineError, ErrorKind};
use bulkhead_rng::SplitMix64;
use bulkhead_stress::model::beta;
use serde_json::{Value, json};

sol! {
    /// The probe's ABI (its source is `PROBE` below).
    interface IBetaProbe {
        function cleanEpochEvidence(uint256 valueAtRisk, uint256 evidenceUnit) external pure returns (uint256);
        function decayGoodEvidence(uint256 evidenceWad, uint256 epochs, uint64 forgetWad) external pure returns (uint256);
        function decayBadEvidence(uint256 evidenceWad, uint256 epochs, uint64 forgetWad) external pure returns (uint256);
        function mean(uint256 goodWad, uint256 badWad) external pure returns (uint256);
        function lowerBound(uint256 goodWad, uint256 badWad, uint64 zWad) external pure returns (uint256);
        function step(uint256 previousWad, uint256 targetWad, uint64 maxStepWad) external pure returns (uint256);
        function interpolate(uint256 ratingWad, uint256 atFloor, uint256 atTop) external pure returns (uint256);
    }
}

/// Each internal function of the library as an external one.
const PROBE: &str = r#"// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BetaReputation} from "contracts/libraries/BetaReputation.sol";

contract BetaProbe {
    function cleanEpochEvidence(uint256 v, uint256 u) external pure returns (uint256) {
        return BetaReputation.cleanEpochEvidence(v, u);
    }
    function decayGoodEvidence(uint256 e, uint256 k, uint64 f) external pure returns (uint256) {
        return BetaReputation.decayGoodEvidence(e, k, f);
    }
    function decayBadEvidence(uint256 e, uint256 k, uint64 f) external pure returns (uint256) {
        return BetaReputation.decayBadEvidence(e, k, f);
    }
    function mean(uint256 g, uint256 b) external pure returns (uint256) {
        return BetaReputation.mean(g, b);
    }
    function lowerBound(uint256 g, uint256 b, uint64 z) external pure returns (uint256) {
        return BetaReputation.lowerBound(g, b, z);
    }
    function step(uint256 p, uint256 t, uint64 m) external pure returns (uint256) {
        return BetaReputation.step(p, t, m);
    }
    function interpolate(uint256 r, uint256 a, uint256 b) external pure returns (uint256) {
        return BetaReputation.interpolate(r, a, b);
    }
}
"#;

const OZ: &str = "@openzeppelin/contracts/";
const OZ_DIR: &str = "node_modules/@openzeppelin/contracts/";

/// The source unit `name` imports, resolved to unit names (repository-relative paths).
fn imports(name: &str, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if !line.starts_with("import ") {
            continue;
        }
        let Some(path) = line.split('"').nth(1) else {
            continue;
        };
        let resolved = if let Some(rest) = path.strip_prefix(OZ) {
            format!("{OZ_DIR}{rest}")
        } else if path.starts_with('.') {
            let mut parts: Vec<&str> = name.split('/').collect();
            parts.pop();
            for part in path.split('/') {
                match part {
                    "." => {}
                    ".." => {
                        parts.pop();
                    }
                    p => parts.push(p),
                }
            }
            parts.join("/")
        } else {
            path.to_string()
        };
        out.push(resolved);
    }
    out
}

/// Compiles the probe with the project's solc wrapper and returns its creation code.
fn compile_probe(root: &Path) -> Bytes {
    let mut sources = BTreeMap::new();
    let mut todo = vec![("Probe.sol".to_string(), PROBE.to_string())];
    while let Some((name, text)) = todo.pop() {
        for dep in imports(&name, &text) {
            if !sources.contains_key(&dep) && !todo.iter().any(|(n, _)| *n == dep) {
                let dep_text = std::fs::read_to_string(root.join(&dep))
                    .unwrap_or_else(|e| panic!("reading {dep}: {e} (run `make toolchain`)"));
                todo.push((dep, dep_text));
            }
        }
        sources.insert(name, json!({ "content": text }));
    }
    let input = json!({
        "language": "Solidity",
        "sources": sources,
        "settings": {
            "remappings": [format!("{OZ}={OZ_DIR}")],
            "optimizer": { "enabled": true, "runs": 400 },
            "evmVersion": "prague",
            "outputSelection": { "Probe.sol": { "BetaProbe": ["evm.bytecode.object"] } }
        }
    });
    let mut solc = Command::new(bulkhead_contracts::solc_wrapper())
        .arg("--standard-json")
        .current_dir(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the solc wrapper runs (node on PATH; `make toolchain`)");
    solc.stdin
        .take()
        .expect("piped stdin")
        .write_all(input.to_string().as_bytes())
        .expect("solc reads its input");
    let output = solc.wait_with_output().expect("solc finishes");
    let out: Value = serde_json::from_slice(&output.stdout).expect("solc answers JSON");
    let errors: Vec<&Value> = out["errors"]
        .as_array()
        .map(|e| e.iter().filter(|e| e["severity"] == "error").collect())
        .unwrap_or_default();
    assert!(errors.is_empty(), "solc: {errors:#?}");
    let hex = out["contracts"]["Probe.sol"]["BetaProbe"]["evm"]["bytecode"]["object"]
        .as_str()
        .expect("the probe's bytecode");
    hex.parse().expect("hex bytecode")
}

/// A call's result, or the kind of its revert.
fn on_chain<T>(result: Result<T, EngineError>) -> Result<T, ErrorKind> {
    match result {
        Ok(v) => Ok(v),
        Err(EngineError::Reverted { revert, .. }) => Err(revert.kind()),
        Err(e) => panic!("the engine failed: {e}"),
    }
}

/// A random U256 of up to `bits` bits, often small or at an edge.
fn any(rng: &mut SplitMix64, bits: usize) -> U256 {
    match rng.below(10) {
        0 => U256::ZERO,
        1 => U256::from(rng.below(1_000)),
        _ => {
            let mut v = U256::ZERO;
            for _ in 0..4 {
                v = (v << 64usize) | U256::from(rng.next_u64());
            }
            let keep = rng.range(1, bits as u64) as usize;
            v >> (256 - keep)
        }
    }
}

/// A parameter: mostly within `[lo, hi]`, sometimes at an edge or just outside.
fn param(rng: &mut SplitMix64, lo: u64, hi: u64) -> u64 {
    match rng.below(20) {
        0 => lo - 1,
        1 => hi + 1,
        2 => lo,
        3 => hi,
        _ => rng.range(lo, hi),
    }
}

#[test]
fn the_port_equals_the_library_on_random_inputs() {
    let root = bulkhead_contracts::repo_root();
    let code = compile_probe(&root);
    let mut engine = Engine::default();
    let deployer = engine.actor("deployer");
    let probe = engine.deploy(deployer, "BetaProbe", code).unwrap();
    let mut rng = SplitMix64::new(0xbe7a);
    let wad = U256::from(10u64).pow(U256::from(18u64));
    let mut compared = BTreeMap::<&str, (usize, usize)>::new();
    let mut count = |name: &'static str, ok: bool| {
        let c = compared.entry(name).or_default();
        if ok {
            c.0 += 1;
        } else {
            c.1 += 1;
        }
    };
    for i in 0..1_500u64 {
        // Evidence as records hold it (up to 2^72) and far beyond.
        let evidence = any(&mut rng, if i % 3 == 0 { 200 } else { 80 });
        let epochs = match rng.below(4) {
            0 => rng.below(4),
            1 => rng.below(100),
            2 => rng.below(70_000),
            _ => rng.next_u64() >> rng.below(64),
        };
        let forget = param(&mut rng, beta::MIN_FORGET_WAD, beta::MAX_FORGET_WAD);
        let call = IBetaProbe::decayGoodEvidenceCall {
            evidenceWad: evidence,
            epochs: U256::from(epochs),
            forgetWad: forget,
        };
        let chain = on_chain(engine.view(probe, call));
        assert_eq!(
            beta::decay_good(evidence, epochs, forget),
            chain,
            "decayGood({evidence}, {epochs}, {forget})"
        );
        count("decayGoodEvidence", chain.is_ok());
        let call = IBetaProbe::decayBadEvidenceCall {
            evidenceWad: evidence,
            epochs: U256::from(epochs),
            forgetWad: forget,
        };
        let chain = on_chain(engine.view(probe, call));
        assert_eq!(
            beta::decay_bad(evidence, epochs, forget),
            chain,
            "decayBad({evidence}, {epochs}, {forget})"
        );
        count("decayBadEvidence", chain.is_ok());

        // Evidence of up to 2^90 wei (a billion units), now and then enough to overflow.
        let (good, bad) = (
            any(&mut rng, if i % 50 == 0 { 256 } else { 90 }),
            any(&mut rng, 90),
        );
        let z = param(&mut rng, beta::MIN_Z_WAD, beta::MAX_Z_WAD);
        let chain = on_chain(engine.view(
            probe,
            IBetaProbe::lowerBoundCall {
                goodWad: good,
                badWad: bad,
                zWad: z,
            },
        ));
        assert_eq!(
            beta::lower_bound(good, bad, z),
            chain,
            "lowerBound({good}, {bad}, {z})"
        );
        count("lowerBound", chain.is_ok());
        let chain = on_chain(engine.view(
            probe,
            IBetaProbe::meanCall {
                goodWad: good,
                badWad: bad,
            },
        ));
        assert_eq!(beta::mean(good, bad), chain, "mean({good}, {bad})");
        count("mean", chain.is_ok());

        let (previous, target) = (any(&mut rng, 60) % wad, any(&mut rng, 60) % wad);
        let max_step = param(&mut rng, beta::MIN_MAX_STEP_WAD, beta::MAX_MAX_STEP_WAD);
        let chain = on_chain(engine.view(
            probe,
            IBetaProbe::stepCall {
                previousWad: previous,
                targetWad: target,
                maxStepWad: max_step,
            },
        ));
        assert_eq!(
            beta::step(previous, target, max_step),
            chain,
            "step({previous}, {target}, {max_step})"
        );
        count("step", chain.is_ok());

        // A rating is at most 1: now and then above it.
        let rating = if rng.chance(10, 100) {
            wad + U256::from(rng.range(1, 1 << 40))
        } else {
            any(&mut rng, 60) % (wad + U256::from(1u64))
        };
        let (a, b) = (any(&mut rng, 63), any(&mut rng, 63));
        let chain = on_chain(engine.view(
            probe,
            IBetaProbe::interpolateCall {
                ratingWad: rating,
                atFloor: a,
                atTop: b,
            },
        ));
        assert_eq!(
            beta::interpolate(rating, a, b),
            chain,
            "interpolate({rating}, {a}, {b})"
        );
        count("interpolate", chain.is_ok());

        let (value, unit) = (any(&mut rng, 100), any(&mut rng, 100));
        let chain = on_chain(engine.view(
            probe,
            IBetaProbe::cleanEpochEvidenceCall {
                valueAtRisk: value,
                evidenceUnit: unit,
            },
        ));
        assert_eq!(
            beta::clean_epoch_evidence(value, unit),
            chain,
            "cleanEpochEvidence({value}, {unit})"
        );
        count("cleanEpochEvidence", chain.is_ok());
    }
    // Both the results and the refusals were compared, for every function.
    for (name, (ok, refused)) in &compared {
        assert!(*ok > 500, "{name}: only {ok} results compared");
        if *name != "mean" {
            assert!(*refused > 20, "{name}: only {refused} refusals compared");
        }
    }
}

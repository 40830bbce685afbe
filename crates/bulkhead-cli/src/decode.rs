//! `bulkhead decode <HEX>`: what a hex string means to the Bulkhead contracts, from their ABIs alone (no forge,
//! no node): a custom error with its arguments (or a bare selector, as in `custom error 0xd7e968e0`), `Error(string)`
//! and `Panic(uint256)`, a function call with its arguments, or an event's topic 0.

use std::process::ExitCode;

use alloy::dyn_abi::JsonAbiExt;
use bulkhead_contracts::Contract;
use bulkhead_evm::{Actors, decode::format_value, decode_revert};
use serde::Serialize;

/// Arguments of `bulkhead decode`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Hex data, `0x` optional: revert data or a bare 4-byte error selector, calldata, or a 32-byte event topic.
    /// Text around it is ignored, so `"custom error 0xd7e968e0"` can be pasted as cast prints it.
    #[arg(value_name = "HEX", num_args = 1.., required = true)]
    data: Vec<String>,

    /// Print one JSON array of matches instead of text.
    #[arg(long)]
    json: bool,
}

/// One meaning of the data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Match {
    /// `error`, `call` or `event`.
    pub kind: &'static str,
    /// Contracts whose ABI declares it.
    pub contracts: Vec<&'static str>,
    /// Its canonical signature, `Name(type,...)`.
    pub signature: String,
    /// The 4-byte selector or 32-byte topic, hex.
    pub selector: String,
    /// Decoded arguments as (name, value); empty for a bare selector or an event topic.
    pub args: Vec<(String, String)>,
}

/// Exit status: 0 if something matched, 1 if nothing in the ABIs has this selector, 2 if the input is not hex.
pub fn run(args: &Args) -> ExitCode {
    let text = args.data.join(" ");
    let bytes = match parse(&text) {
        Ok(bytes) => bytes,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let matches = decode(&bytes);
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&matches).expect("matches serialize")
        );
    } else if matches.is_empty() {
        eprintln!("{}", nothing_matches(&bytes));
    } else {
        for m in &matches {
            println!(
                "{} {} ({}, {})",
                m.kind,
                m.signature,
                m.contracts.join(", "),
                m.selector
            );
            for (name, value) in &m.args {
                println!("  {name}: {value}");
            }
        }
    }
    if matches.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// What `decode` says when no ABI knows the data: every contract it looked in, from [`Contract::ALL`].
fn nothing_matches(bytes: &[u8]) -> String {
    let names: Vec<&str> = Contract::ALL.iter().map(|c| c.name()).collect();
    format!(
        "nothing in the Bulkhead ABIs ({}) has the selector {}",
        names.join(", "),
        hex(&bytes[..bytes.len().min(4)])
    )
}

/// The last `0x…` (or bare hex) word of `text`, as bytes.
fn parse(text: &str) -> Result<Vec<u8>, String> {
    let word = text
        .split(|c: char| c.is_whitespace() || c == ',' || c == ':' || c == '"' || c == '\'')
        .rfind(|w| !w.is_empty())
        .ok_or(
            "no hex data given: pass revert data, calldata, a selector or a topic, e.g. 0xd7e968e0",
        )?;
    let digits = word.strip_prefix("0x").unwrap_or(word);
    if digits.len() % 2 == 1 || digits.is_empty() {
        return Err(format!(
            "{word:?} is not hex bytes (an even number of hex digits, `0x` optional)"
        ));
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16))
        .collect::<Result<_, _>>()
        .map_err(|_| format!("{word:?} is not hex"))
}

fn hex(bytes: &[u8]) -> String {
    format!(
        "0x{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// Adds `m`, or its contract to an equal signature already found (interfaces repeat their errors).
fn add(matches: &mut Vec<Match>, m: Match) {
    match matches
        .iter_mut()
        .find(|x| x.kind == m.kind && x.signature == m.signature)
    {
        Some(existing) => existing.contracts.extend(m.contracts),
        None => matches.push(m),
    }
}

/// Every meaning of `bytes` in the Bulkhead ABIs (one entry per signature, naming every contract that declares it).
pub fn decode(bytes: &[u8]) -> Vec<Match> {
    let mut matches: Vec<Match> = Vec::new();
    let actors = Actors::default();
    if bytes.len() == 32 {
        for contract in Contract::ALL {
            for event in contract.abi().events() {
                if event.selector().as_slice() == bytes {
                    add(
                        &mut matches,
                        Match {
                            kind: "event",
                            contracts: vec![contract.name()],
                            signature: event.signature(),
                            selector: hex(bytes),
                            args: Vec::new(),
                        },
                    );
                }
            }
        }
    }
    if bytes.len() >= 4 {
        let selector = &bytes[..4];
        for contract in Contract::ALL {
            for error in contract.abi().errors() {
                if error.selector().as_slice() == selector {
                    add(
                        &mut matches,
                        Match {
                            kind: "error",
                            contracts: vec![contract.name()],
                            signature: error.signature(),
                            selector: hex(selector),
                            args: if bytes.len() > 4 {
                                decode_revert(bytes, &actors).args
                            } else {
                                Vec::new()
                            },
                        },
                    );
                }
            }
            for function in contract.abi().functions() {
                if function.selector().as_slice() != selector {
                    continue;
                }
                let args: Vec<(String, String)> = function
                    .abi_decode_input(&bytes[4..])
                    .map(|values| {
                        function
                            .inputs
                            .iter()
                            .zip(&values)
                            .map(|(p, v)| (p.name.clone(), format_value(v, &actors)))
                            .collect()
                    })
                    .unwrap_or_default();
                // A function's selector alone, or with arguments that decode: a call.
                if bytes.len() == 4 || !args.is_empty() || function.inputs.is_empty() {
                    add(
                        &mut matches,
                        Match {
                            kind: "call",
                            contracts: vec![contract.name()],
                            signature: function.signature(),
                            selector: hex(selector),
                            args,
                        },
                    );
                }
            }
        }
        if matches.is_empty() {
            let revert = decode_revert(bytes, &actors);
            if revert.name == "Error" || revert.name == "Panic" {
                add(
                    &mut matches,
                    Match {
                        kind: "error",
                        contracts: Vec::new(),
                        signature: if revert.name == "Error" {
                            "Error(string)".into()
                        } else {
                            "Panic(uint256)".into()
                        },
                        selector: hex(selector),
                        args: revert.args,
                    },
                );
            }
        }
    }
    matches
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::sol_types::{SolCall, SolError, SolEvent};
    use bulkhead_contracts::{AllocationManager, StakeVault};

    #[test]
    fn names_the_market_and_the_rails_errors() {
        let error = bulkhead_contracts::OperatorDesk::PairAllocated {
            poolId: alloy::primitives::U256::from(3),
            avsId: 2,
        }
        .abi_encode();
        let m = decode(&error);
        assert_eq!(m[0].signature, "PairAllocated(uint256,uint32)");
        assert!(m[0].contracts.contains(&"OperatorDesk"), "{m:?}");
        let error = bulkhead_contracts::RewardRail::NothingToClaim {}.abi_encode();
        let m = decode(&error);
        assert_eq!(m[0].signature, "NothingToClaim()");
        assert!(m[0].contracts.contains(&"RewardRail"), "{m:?}");
    }

    #[test]
    fn names_errors_calls_and_events_of_every_contract() {
        let error = AllocationManager::NotSlashable {
            avsId: 5,
            poolId: alloy::primitives::U256::from(1),
        }
        .abi_encode();
        let m = decode(&error);
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!(m[0].kind, "error");
        assert_eq!(m[0].signature, "NotSlashable(uint32,uint256)");
        assert!(m[0].contracts.contains(&"AllocationManager"));
        assert_eq!(
            m[0].args,
            vec![("avsId".into(), "5".into()), ("poolId".into(), "1".into())]
        );
        // The bare selector, as cast prints an unknown custom error.
        let m = decode(&error[..4]);
        assert_eq!(m[0].signature, "NotSlashable(uint32,uint256)");
        assert!(m[0].args.is_empty());

        let call = StakeVault::getPoolCall {
            poolId: alloy::primitives::U256::from(7),
        }
        .abi_encode();
        let m = decode(&call);
        assert_eq!(m[0].kind, "call");
        assert_eq!(m[0].signature, "getPool(uint256)");
        assert_eq!(m[0].args, vec![("poolId".into(), "7".into())]);

        let topic = AllocationManager::OperatorSlashed::SIGNATURE_HASH;
        let m = decode(topic.as_slice());
        assert_eq!(m[0].kind, "event");
        assert!(m[0].signature.starts_with("OperatorSlashed("), "{m:?}");
    }

    #[test]
    fn pasted_text_and_bad_input() {
        assert_eq!(
            parse("custom error 0xd7e968e0").unwrap(),
            vec![0xd7, 0xe9, 0x68, 0xe0]
        );
        assert!(parse("0xabc").unwrap_err().contains("not hex bytes"));
        assert!(parse("0xzz").unwrap_err().contains("not hex"));
        assert!(decode(&[0xde, 0xad, 0xbe, 0xef]).is_empty());
    }

    #[test]
    fn nothing_found_names_every_abi_searched() {
        let said = nothing_matches(&[0xde, 0xad, 0xbe, 0xef]);
        for name in [
            "Reputation",
            "AllocationLens",
            "StakeVault",
            "CommitteeSlasher",
        ] {
            assert!(said.contains(name), "{said}");
        }
        assert!(said.ends_with("has the selector 0xdeadbeef"), "{said}");
    }
}

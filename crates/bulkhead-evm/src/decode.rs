//! Revert data and logs, decoded against every Bulkhead contract's errors and events.
//!
//! Matching uses the `*Errors` / `*Events` enums that `sol!` generated (selectors and typed values); argument names
//! come from the same bindings' JSON ABI, so a revert reads `NotSlashable(avsId: 5, poolId: 1)` and a log reads
//! `AllocationManager.OperatorSlashed(avsId: 2, poolId: 1, operator: operatorA, ...)`.

use std::fmt;

use alloy::{
    dyn_abi::{DynSolValue, ErrorExt, EventExt},
    primitives::{Address, Bytes, Log},
    sol_types::{
        Panic, PanicKind, Revert as RevertString, SolError, SolEventInterface, SolInterface,
    },
};
use bulkhead_contracts::{
    Contract,
    bindings::{
        AllocationManager::{AllocationManagerErrors, AllocationManagerEvents},
        CommitteeSlasher::{CommitteeSlasherErrors, CommitteeSlasherEvents},
        DoubleSignSlasher::{DoubleSignSlasherErrors, DoubleSignSlasherEvents},
        MockERC20::{MockERC20Errors, MockERC20Events},
        OperatorDesk::{OperatorDeskErrors, OperatorDeskEvents},
        OperatorRegistry::{OperatorRegistryErrors, OperatorRegistryEvents},
        Reputation::{ReputationErrors, ReputationEvents},
        RewardRail::{RewardRailErrors, RewardRailEvents},
        SecurityMarket::{SecurityMarketErrors, SecurityMarketEvents},
        StakeVault::{StakeVaultErrors, StakeVaultEvents},
    },
};

use crate::actors::Actors;

/// A custom error of one of the Bulkhead contracts, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkheadError {
    /// Raised by `OperatorRegistry`.
    Registry(OperatorRegistryErrors),
    /// Raised by `StakeVault` (OpenZeppelin's Ownable and SafeERC20 errors included).
    Vault(StakeVaultErrors),
    /// Raised by `AllocationManager`.
    Manager(AllocationManagerErrors),
    /// Raised by `DoubleSignSlasher`.
    DoubleSign(DoubleSignSlasherErrors),
    /// Raised by `CommitteeSlasher`.
    Committee(CommitteeSlasherErrors),
    /// Raised by `Reputation`.
    Reputation(ReputationErrors),
    /// Raised by `RewardRail`.
    Rail(RewardRailErrors),
    /// Raised by `SecurityMarket`.
    Market(SecurityMarketErrors),
    /// Raised by an `OperatorDesk`.
    Desk(OperatorDeskErrors),
    /// Raised by `MockERC20` (OpenZeppelin's ERC-20 errors).
    Token(MockERC20Errors),
}

/// An event of one of the Bulkhead contracts, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkheadEvent {
    /// Emitted by `OperatorRegistry`.
    Registry(OperatorRegistryEvents),
    /// Emitted by `StakeVault`.
    Vault(StakeVaultEvents),
    /// Emitted by `AllocationManager`.
    Manager(AllocationManagerEvents),
    /// Emitted by `DoubleSignSlasher`.
    DoubleSign(DoubleSignSlasherEvents),
    /// Emitted by `CommitteeSlasher`.
    Committee(CommitteeSlasherEvents),
    /// Emitted by `Reputation`.
    Reputation(ReputationEvents),
    /// Emitted by `RewardRail`.
    Rail(RewardRailEvents),
    /// Emitted by `SecurityMarket`.
    Market(SecurityMarketEvents),
    /// Emitted by an `OperatorDesk`.
    Desk(OperatorDeskEvents),
    /// Emitted by `MockERC20`.
    Token(MockERC20Events),
}

/// For each contract: its name, its JSON ABI (argument names), and typed decoders built on its `sol!` enums.
struct Known {
    contract: &'static str,
    abi: Contract,
    error_name: fn([u8; 4]) -> Option<&'static str>,
    error: fn(&[u8]) -> Option<BulkheadError>,
    event_name: fn([u8; 32]) -> Option<&'static str>,
    event: fn(&Log) -> Option<BulkheadEvent>,
}

macro_rules! known {
    ($($contract:ident => $variant:ident, $errors:ident, $events:ident;)*) => {
        [$(
            Known {
                contract: stringify!($contract),
                abi: Contract::$contract,
                error_name: $errors::name_by_selector,
                error: |data| <$errors as SolInterface>::abi_decode(data).ok().map(BulkheadError::$variant),
                event_name: $events::name_by_selector,
                event: |log| {
                    <$events as SolEventInterface>::decode_log(log).ok().map(|decoded| BulkheadEvent::$variant(decoded.data))
                },
            }
        ),*]
    };
}

/// Lookup order: the manager and the vault first (their errors bubble up through the modules).
static KNOWN: [Known; 10] = known! {
    AllocationManager => Manager, AllocationManagerErrors, AllocationManagerEvents;
    StakeVault => Vault, StakeVaultErrors, StakeVaultEvents;
    OperatorRegistry => Registry, OperatorRegistryErrors, OperatorRegistryEvents;
    DoubleSignSlasher => DoubleSign, DoubleSignSlasherErrors, DoubleSignSlasherEvents;
    CommitteeSlasher => Committee, CommitteeSlasherErrors, CommitteeSlasherEvents;
    Reputation => Reputation, ReputationErrors, ReputationEvents;
    SecurityMarket => Market, SecurityMarketErrors, SecurityMarketEvents;
    OperatorDesk => Desk, OperatorDeskErrors, OperatorDeskEvents;
    RewardRail => Rail, RewardRailErrors, RewardRailEvents;
    MockERC20 => Token, MockERC20Errors, MockERC20Events;
};

/// A decoded revert: the error's name and its named arguments, with the raw data kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revert {
    /// Error name: a custom error's name, `Error` for `require`/`revert("...")`, `Panic`, or `EmptyRevert` / `Unknown`.
    pub name: String,
    /// Contract whose ABI declares the error (`None` for `Error`, `Panic`, empty and unknown data).
    pub contract: Option<&'static str>,
    /// Arguments as (name, formatted value), in declaration order.
    pub args: Vec<(String, String)>,
    /// The typed custom error, when one of the Bulkhead contracts declares it.
    pub typed: Option<BulkheadError>,
    /// The raw revert data.
    pub data: Bytes,
}

impl Revert {
    /// True if the error is called `name`.
    pub fn is(&self, name: &str) -> bool {
        self.name == name
    }

    /// The error decoded as `E`, if its selector and data match.
    pub fn as_error<E: SolError>(&self) -> Option<E> {
        E::abi_decode(&self.data).ok()
    }
}

impl Revert {
    /// What kind of error this is, by selector: compared as a value (the stress differential matches its model's
    /// reverts against the chain's with it).
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::of_data(&self.data)
    }
}

/// The kind of a revert: the 4-byte selector of the error raised, a custom error of one of the contracts,
/// `Panic(uint256)` or `Error(string)`. One type for every revert the protocol can raise, built from the bindings
/// (`ErrorKind::of::<NotSlashable>()`), so a revert is never matched by its name as a string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ErrorKind([u8; 4]);

impl ErrorKind {
    /// A revert with no data (`revert()`, or a call to an address without code).
    pub const EMPTY: Self = Self([0; 4]);

    /// The kind of the Solidity error `E`.
    pub const fn of<E: SolError>() -> Self {
        Self(E::SELECTOR)
    }

    /// The kind of raw revert data (its first four bytes; [`ErrorKind::EMPTY`] when shorter).
    pub fn of_data(data: &[u8]) -> Self {
        data.get(..4)
            .and_then(|s| <[u8; 4]>::try_from(s).ok())
            .map_or(Self::EMPTY, Self)
    }

    /// The error's name from the contracts' ABIs (`Panic`, `Error`, `EmptyRevert`, or `Unknown`).
    pub fn name(self) -> &'static str {
        if self == Self::EMPTY {
            return "EmptyRevert";
        }
        if self == Self::of::<Panic>() {
            return "Panic";
        }
        if self == Self::of::<RevertString>() {
            return "Error";
        }
        KNOWN
            .iter()
            .find_map(|known| (known.error_name)(self.0))
            .unwrap_or("Unknown")
    }
}

impl fmt::Debug for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Revert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.name)?;
        write_args(f, &self.args)?;
        f.write_str(")")
    }
}

impl std::error::Error for Revert {}

/// Decodes revert data against every Bulkhead contract's errors, then `Error(string)` and `Panic(uint256)`.
/// Addresses in arguments are shown by their label in `actors`.
pub fn decode_revert(data: &[u8], actors: &Actors) -> Revert {
    let raw = Bytes::copy_from_slice(data);
    let unnamed = |name: &str, args: Vec<(String, String)>| Revert {
        name: name.to_string(),
        contract: None,
        args,
        typed: None,
        data: raw.clone(),
    };
    let Some(selector) = data
        .get(..4)
        .map(|s| <[u8; 4]>::try_from(s).expect("4 bytes"))
    else {
        return unnamed(
            if data.is_empty() {
                "EmptyRevert"
            } else {
                "Unknown"
            },
            hex_arg(data),
        );
    };

    for known in &KNOWN {
        let abi = known.abi.abi();
        let Some(name) = (known.error_name)(selector) else {
            continue;
        };
        let typed = (known.error)(data);
        let args = abi
            .errors
            .get(name)
            .and_then(|overloads| overloads.iter().find(|e| e.selector() == selector))
            .and_then(|error| {
                let decoded = error.decode_error(data).ok()?;
                Some(
                    error
                        .inputs
                        .iter()
                        .zip(&decoded.body)
                        .map(|(param, value)| (param.name.clone(), format_value(value, actors)))
                        .collect(),
                )
            })
            .unwrap_or_else(|| hex_arg(&data[4..]));
        return Revert {
            name: name.to_string(),
            contract: Some(known.contract),
            args,
            typed,
            data: raw,
        };
    }

    if let Ok(revert) = RevertString::abi_decode(data) {
        return unnamed(
            "Error",
            vec![("reason".into(), format!("{:?}", revert.reason))],
        );
    }
    if let Ok(panic) = Panic::abi_decode(data) {
        let code = panic.code;
        let kind = u32::try_from(code)
            .ok()
            .and_then(PanicKind::from_number)
            .map_or_else(
                || "unknown panic code".to_string(),
                |k| k.as_str().to_string(),
            );
        return unnamed(
            "Panic",
            vec![("code".into(), format!("{code:#x} ({kind})"))],
        );
    }
    unnamed("Unknown", hex_arg(data))
}

/// A decoded log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedEvent {
    /// The emitting contract's address.
    pub address: Address,
    /// Its label (or checksummed address).
    pub emitter: String,
    /// Contract whose ABI declares the event, when known.
    pub contract: Option<&'static str>,
    /// Event name, or `Unknown`.
    pub name: String,
    /// Arguments as (name, formatted value), in declaration order (indexed ones included).
    pub args: Vec<(String, String)>,
    /// The typed event, when one of the Bulkhead contracts declares it.
    pub typed: Option<BulkheadEvent>,
    /// The raw log.
    pub log: Log,
}

impl fmt::Display for DecodedEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}(", self.emitter, self.name)?;
        write_args(f, &self.args)?;
        f.write_str(")")
    }
}

/// Decodes a log against every Bulkhead contract's events.
pub fn decode_log(log: &Log, actors: &Actors) -> DecodedEvent {
    let emitter = actors.name_of(log.address);
    let unknown = || DecodedEvent {
        address: log.address,
        emitter: emitter.clone(),
        contract: None,
        name: "Unknown".to_string(),
        args: vec![
            ("topics".into(), format!("{:?}", log.data.topics())),
            ("data".into(), log.data.data.to_string()),
        ],
        typed: None,
        log: log.clone(),
    };
    let Some(topic0) = log.data.topics().first() else {
        return unknown();
    };

    for known in &KNOWN {
        let abi = known.abi.abi();
        let Some(name) = (known.event_name)(topic0.0) else {
            continue;
        };
        let Some(typed) = (known.event)(log) else {
            continue;
        };
        let args = abi
            .events
            .get(name)
            .and_then(|overloads| overloads.iter().find(|e| e.selector() == *topic0))
            .and_then(|event| {
                let decoded = event.decode_log(&log.data).ok()?;
                let (mut indexed, mut body) =
                    (decoded.indexed.into_iter(), decoded.body.into_iter());
                event
                    .inputs
                    .iter()
                    .map(|param| {
                        let value = if param.indexed {
                            indexed.next()
                        } else {
                            body.next()
                        }?;
                        Some((param.name.clone(), format_value(&value, actors)))
                    })
                    .collect::<Option<Vec<_>>>()
            })
            .unwrap_or_default();
        return DecodedEvent {
            address: log.address,
            emitter,
            contract: Some(known.contract),
            name: name.to_string(),
            args,
            typed: Some(typed),
            log: log.clone(),
        };
    }
    unknown()
}

/// Formats a value for people: integers in decimal, addresses by label, bytes in hex.
pub fn format_value(value: &DynSolValue, actors: &Actors) -> String {
    let list = |items: &[DynSolValue], open: &str, close: &str| {
        let inner: Vec<String> = items.iter().map(|v| format_value(v, actors)).collect();
        format!("{open}{}{close}", inner.join(", "))
    };
    match value {
        DynSolValue::Bool(b) => b.to_string(),
        DynSolValue::Int(i, _) => i.to_string(),
        DynSolValue::Uint(u, _) => u.to_string(),
        DynSolValue::Address(a) => actors.name_of(*a),
        DynSolValue::FixedBytes(word, size) => Bytes::copy_from_slice(&word[..*size]).to_string(),
        DynSolValue::Bytes(b) => Bytes::copy_from_slice(b).to_string(),
        DynSolValue::String(s) => format!("{s:?}"),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) => list(items, "[", "]"),
        DynSolValue::Tuple(items) => list(items, "(", ")"),
        other => format!("{other:?}"),
    }
}

fn hex_arg(data: &[u8]) -> Vec<(String, String)> {
    if data.is_empty() {
        Vec::new()
    } else {
        vec![("data".into(), Bytes::copy_from_slice(data).to_string())]
    }
}

fn write_args(f: &mut fmt::Formatter<'_>, args: &[(String, String)]) -> fmt::Result {
    for (i, (name, value)) in args.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        if name.is_empty() {
            f.write_str(value)?;
        } else {
            write!(f, "{name}: {value}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use alloy::primitives::U256;

    use super::*;

    #[test]
    fn decodes_error_string_panic_and_empty() {
        let actors = Actors::default();
        let data = RevertString {
            reason: "nope".into(),
        }
        .abi_encode();
        assert_eq!(
            decode_revert(&data, &actors).to_string(),
            r#"Error(reason: "nope")"#
        );
        let data = Panic {
            code: U256::from(0x11),
        }
        .abi_encode();
        let revert = decode_revert(&data, &actors);
        assert_eq!(revert.name, "Panic");
        assert!(
            revert.to_string().starts_with("Panic(code: 0x11 ("),
            "{revert}"
        );
        assert_eq!(decode_revert(&[], &actors).to_string(), "EmptyRevert()");
        assert_eq!(decode_revert(&[1, 2, 3, 4, 5], &actors).name, "Unknown");
    }
}

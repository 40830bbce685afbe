//! Named actors and address labels.
//!
//! An actor's private key is `keccak256(name)` and its address the key's, exactly forge-std's `makeAddrAndKey(name)`,
//! so `alice` here is the same address as `makeAddr("alice")` in the Solidity tests, and can sign (operator keys
//! for the double-signing module, for example).

use std::collections::{BTreeMap, HashMap};

use alloy::{
    primitives::{Address, B256, keccak256},
    signers::local::PrivateKeySigner,
};

/// The private key of the actor called `name`: `keccak256(name)`, as forge-std's `makeAddrAndKey`.
pub fn private_key_of(name: &str) -> B256 {
    keccak256(name.as_bytes())
}

/// A signer for the actor called `name`.
pub fn signer_of(name: &str) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&private_key_of(name))
        .expect("keccak256 of a name is a valid secp256k1 key")
}

/// The address of the actor called `name`: forge-std's `makeAddr(name)`.
pub fn address_of(name: &str) -> Address {
    signer_of(name).address()
}

/// Names of actors and labels of contracts, both ways.
#[derive(Debug, Clone, Default)]
pub struct Actors {
    by_name: BTreeMap<String, Address>,
    labels: HashMap<Address, String>,
}

impl Actors {
    /// Registers the actor `name` (idempotent) and returns its address.
    pub fn add(&mut self, name: &str) -> Address {
        let address = address_of(name);
        self.by_name.insert(name.to_string(), address);
        self.labels
            .entry(address)
            .or_insert_with(|| name.to_string());
        address
    }

    /// The address of a registered actor.
    pub fn get(&self, name: &str) -> Option<Address> {
        self.by_name.get(name).copied()
    }

    /// Gives `address` a readable name (a contract, for example). Replaces an earlier label.
    pub fn set_label(&mut self, address: Address, label: impl Into<String>) {
        self.labels.insert(address, label.into());
    }

    /// The label of `address`, if it has one.
    pub fn label(&self, address: Address) -> Option<&str> {
        self.labels.get(&address).map(String::as_str)
    }

    /// The label of `address`, or its checksummed hex form.
    pub fn name_of(&self, address: Address) -> String {
        self.label(address)
            .map_or_else(|| address.to_checksum(None), str::to_string)
    }

    /// Every registered actor, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Address)> {
        self.by_name
            .iter()
            .map(|(name, address)| (name.as_str(), *address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_forge_make_addr() {
        // forge-std: makeAddr("alice") == 0x328809Bc894f92807417D2dAD6b7C998c1aFdac6
        assert_eq!(
            address_of("alice"),
            "0x328809Bc894f92807417D2dAD6b7C998c1aFdac6"
                .parse::<Address>()
                .unwrap()
        );
    }
}

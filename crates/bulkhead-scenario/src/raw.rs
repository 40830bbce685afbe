//! The file as serde reads and writes it: every value that is checked later keeps its span (`toml::Spanned`), and
//! every table refuses unknown fields. Meaning (names, units, which fields an action takes) is checked in `load`.
//! Writing a file (a stress reproduction) is the serde serialisation of these types: build them with [`spanless`]
//! and `toml::to_string` them; absent fields are left out.

// The fields are the file's keys, named as in the file and documented one by one in `docs/scenarios.md`.
#![allow(missing_docs)]

use std::{fmt, marker::PhantomData};

use serde::{
    Deserialize, Deserializer, Serialize, Serializer,
    de::{IgnoredAny, MapAccess, SeqAccess, Visitor},
    ser::SerializeMap,
};
use toml::Spanned;

/// A string, number or boolean as written; amounts, fractions and durations accept more than one form.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// An array or a table where a scalar was expected (the name of what was found).
    Other(&'static str),
}

impl Serialize for Scalar {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Str(v) => serializer.serialize_str(v),
            Self::Int(v) => serializer.serialize_i64(*v),
            Self::Float(v) => serializer.serialize_f64(*v),
            Self::Bool(v) => serializer.serialize_bool(*v),
            Self::Other(what) => Err(serde::ser::Error::custom(format!(
                "{what} where a scalar belongs"
            ))),
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl<'de> Visitor<'de> for ScalarVisitor {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Str(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
                Ok(i64::try_from(v).map_or(Scalar::Other("integer above 2^63"), Scalar::Int))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar::Float(v))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other("array"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other("table"))
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}

/// A table whose keys are names (pools, AVSs, actors, tokens), in file order, keys with their spans.
#[derive(Debug, Clone)]
pub struct Named<V>(pub Vec<(Spanned<String>, V)>);

impl<V: Serialize> Serialize for Named<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key.get_ref(), value)?;
        }
        map.end()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Named<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NamedVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for NamedVisitor<V> {
            type Value = Named<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of names")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Named<V>, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<Spanned<String>, V>()? {
                    entries.push(entry);
                }
                Ok(Named(entries))
            }
        }
        deserializer.deserialize_map(NamedVisitor(PhantomData))
    }
}

/// A value written without a place in a file (for files the tool writes).
pub fn spanless<T>(value: T) -> Spanned<T> {
    Spanned::new(0..0, value)
}

/// An optional field, with its span when read from a file.
pub type S<T> = Option<Spanned<T>>;
/// `{ <pool> = <value> }`.
pub type PerName = Named<Spanned<Scalar>>;
/// `{ <name> = { <name> = <value> } }`.
pub type PerPair = Named<Named<Spanned<Scalar>>>;

/// The whole file.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: S<Scalar>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actors: Vec<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<Spanned<RawAsset>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operators: Vec<Spanned<RawOperator>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stakers: Vec<Spanned<RawStaker>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub avs: Vec<Spanned<RawAvs>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pools: Vec<Spanned<RawPool>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deposits: Vec<Spanned<RawDeposit>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allocations: Vec<Spanned<RawAllocation>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard: S<RawGuard>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reputation: S<RawReputation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Spanned<RawStep>>,
}

/// `[reputation]`: turns the reputation layer on (issue 16).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReputation {
    /// Asset symbol -> the amount at stake for one epoch that earns a full unit of good evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence_units: Option<Named<Spanned<Scalar>>>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAsset {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decimals: S<Scalar>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOperator {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desk: S<bool>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStaker {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub funding: Option<Named<Spanned<Scalar>>>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAvs {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sink: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_slash: S<Scalar>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub veto_window: S<Scalar>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolver: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fraction: S<Scalar>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: S<Vec<Spanned<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quorum: S<Scalar>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voting_period: S<Scalar>,
    /// Asset symbol -> amount bonded at setup (with `[reputation]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bond: Option<Named<Spanned<Scalar>>>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPool {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier_of: S<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDeposit {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staker: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: S<Scalar>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAllocation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avs: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fraction: S<Scalar>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: S<bool>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGuard {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_fraction: S<Scalar>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: S<Scalar>,
}

/// One step of the timeline: every field any action takes; `load` checks which ones this action uses.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect_revert: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staker: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avs: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: S<Scalar>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shares: S<Scalar>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fraction: S<Scalar>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opt_in: S<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: S<Scalar>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawal: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiver: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voters: S<Vec<Spanned<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub round: S<Scalar>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pools: S<Vec<Spanned<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset: S<String>,
    // the security market's steps
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bid: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ask: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease: S<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub term: S<Scalar>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_term: S<Scalar>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_price: S<Scalar>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_price: S<Scalar>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_commission: S<Scalar>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commission: S<Scalar>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_rating: S<Scalar>,
    // `expect` checks
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool_value: S<PerName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isolated: S<PerName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared: S<PerName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reuse_ratio: S<PerName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard_used: S<PerName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backing: S<PerPair>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: S<PerPair>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escrow: S<PerPair>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance: S<PerPair>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sink: S<PerPair>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: S<PerName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_weight: S<PerName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bond_short: S<PerName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bond: S<PerPair>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claimable: S<PerPair>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leases: S<PerPair>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credits: S<PerPair>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commission_owed: S<PerPair>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: S<Vec<Spanned<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_events: S<Vec<Spanned<String>>>,
}

//! The file as serde reads it: every value that is checked later keeps its span (`toml::Spanned`), and every table
//! refuses unknown fields. Meaning (names, units, which fields an action takes) is checked in `load`.

use std::{fmt, marker::PhantomData};

use serde::{
    Deserialize, Deserializer,
    de::{IgnoredAny, MapAccess, SeqAccess, Visitor},
};
use toml::Spanned;

/// A string, number or boolean as written; amounts, fractions and durations accept more than one form.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// An array or a table where a scalar was expected (the name of what was found).
    Other(&'static str),
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
pub(crate) struct Named<V>(pub Vec<(Spanned<String>, V)>);

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

pub(crate) type S<T> = Option<Spanned<T>>;
/// `{ <pool> = <value> }`.
pub(crate) type PerName = Named<Spanned<Scalar>>;
/// `{ <name> = { <name> = <value> } }`.
pub(crate) type PerPair = Named<Named<Spanned<Scalar>>>;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub version: S<Scalar>,
    pub name: S<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub actors: Vec<Spanned<String>>,
    #[serde(default)]
    pub assets: Vec<Spanned<RawAsset>>,
    #[serde(default)]
    pub operators: Vec<Spanned<RawOperator>>,
    #[serde(default)]
    pub stakers: Vec<Spanned<RawStaker>>,
    #[serde(default)]
    pub avs: Vec<Spanned<RawAvs>>,
    #[serde(default)]
    pub pools: Vec<Spanned<RawPool>>,
    #[serde(default)]
    pub deposits: Vec<Spanned<RawDeposit>>,
    #[serde(default)]
    pub allocations: Vec<Spanned<RawAllocation>>,
    pub guard: S<RawGuard>,
    #[serde(default)]
    pub steps: Vec<Spanned<RawStep>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAsset {
    pub symbol: S<String>,
    pub decimals: S<Scalar>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOperator {
    pub name: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStaker {
    pub name: S<String>,
    pub funding: Option<Named<Spanned<Scalar>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAvs {
    pub name: S<String>,
    pub kind: S<String>,
    pub sink: S<String>,
    pub max_slash: S<Scalar>,
    pub veto_window: S<Scalar>,
    pub resolver: S<String>,
    pub fraction: S<Scalar>,
    pub members: S<Vec<Spanned<String>>>,
    pub quorum: S<Scalar>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPool {
    pub name: S<String>,
    pub operator: S<String>,
    pub asset: S<String>,
    pub tier_of: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDeposit {
    pub staker: S<String>,
    pub pool: S<String>,
    pub amount: S<Scalar>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAllocation {
    pub pool: S<String>,
    pub avs: S<String>,
    pub mode: S<String>,
    pub fraction: S<Scalar>,
    pub pending: S<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGuard {
    pub max_fraction: S<Scalar>,
    pub window: S<Scalar>,
}

/// One step of the timeline: every field any action takes; `load` checks which ones this action uses.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    pub action: S<String>,
    pub note: S<String>,
    pub expect_revert: S<String>,
    pub by: S<String>,
    pub staker: S<String>,
    pub operator: S<String>,
    pub pool: S<String>,
    pub avs: S<String>,
    pub amount: S<Scalar>,
    pub shares: S<Scalar>,
    pub fraction: S<Scalar>,
    pub mode: S<String>,
    pub opt_in: S<bool>,
    pub duration: S<Scalar>,
    pub label: S<String>,
    pub withdrawal: S<String>,
    pub receiver: S<String>,
    pub request: S<String>,
    pub voters: S<Vec<Spanned<String>>>,
    pub round: S<Scalar>,
    pub pools: S<Vec<Spanned<String>>>,
    pub signer: S<String>,
    // `expect` checks
    pub pool_value: S<PerName>,
    pub isolated: S<PerName>,
    pub shared: S<PerName>,
    pub reuse_ratio: S<PerName>,
    pub guard_used: S<PerName>,
    pub backing: S<PerPair>,
    pub position: S<PerPair>,
    pub escrow: S<PerPair>,
    pub balance: S<PerPair>,
    pub sink: S<PerPair>,
    pub events: S<Vec<Spanned<String>>>,
    pub no_events: S<Vec<Spanned<String>>>,
}

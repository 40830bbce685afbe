//! From text to a validated [`Scenario`]: serde reads the file (spans kept), then every name, unit and field is
//! checked here, each error pointing at the value it is about.
//!
//! - this module: the entry points and the checks of single values (names, amounts, fractions, durations);
//! - [`preamble`]: assets, actors, AVSs, pools, setup deposits and allocations, the guard;
//! - [`steps`]: the timeline, one function per action (the table [`steps::ACTION_FIELDS`] says which fields each
//!   takes);
//! - [`checks`]: the checks of `expect` steps.

mod checks;
mod market;
mod preamble;
mod reputation;
mod steps;

use std::{collections::BTreeSet, ops::Range, path::Path};

use alloy::primitives::U256;
use bulkhead_contracts::{Contract, Mode};
use toml::Spanned;

use crate::{
    error::{ScenarioError, Source, join_key},
    model::{Asset, Avs, Loc, Pool, Scenario},
    raw::{RawScenario, S, Scalar},
    units,
};

/// The format version this crate reads.
pub const VERSION: i64 = 1;

/// Reads and validates the scenario file at `path`; errors name the path as given.
pub fn load(path: impl AsRef<Path>) -> std::result::Result<Scenario, ScenarioError> {
    let path = path.as_ref();
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        file: file.clone(),
        position: None,
        path: String::new(),
        message: format!("cannot read the file: {e}"),
    })?;
    parse(&file, &text)
}

/// Validates scenario `text`; errors are reported against the name `file`.
pub fn parse(file: &str, text: &str) -> std::result::Result<Scenario, ScenarioError> {
    let src = Source { file, text };
    let raw: RawScenario = toml::from_str(text).map_err(|e| src.toml_error(&e))?;
    Loader::new(src).scenario(raw)
}

type Result<T> = std::result::Result<T, ScenarioError>;

/// The validation state: what the file has declared so far.
struct Loader<'a> {
    src: Source<'a>,
    assets: Vec<Asset>,
    actors: Vec<String>,
    operators: Vec<String>,
    /// Operators that sell through a market desk.
    desks: Vec<String>,
    stakers: Vec<String>,
    avs: Vec<Avs>,
    pools: Vec<Pool>,
    withdrawal_labels: BTreeSet<String>,
    request_labels: Vec<(String, usize)>,
    /// Bids by label, with their asset.
    bid_labels: Vec<(String, usize)>,
    /// Asks by label, with their pool.
    ask_labels: Vec<(String, usize)>,
    /// Leases by label, with their asset.
    lease_labels: Vec<(String, usize)>,
    /// The file has a `[reputation]` section.
    reputation_on: bool,
}

fn list(names: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    let names: Vec<String> = names.into_iter().map(|n| n.as_ref().to_string()).collect();
    if names.is_empty() {
        "none are declared".to_string()
    } else {
        format!("declared: {}", names.join(", "))
    }
}

fn field(path: &str, name: &str) -> String {
    join_key(path, name)
}

impl<'a> Loader<'a> {
    fn new(src: Source<'a>) -> Self {
        Self {
            src,
            assets: bulkhead_contracts::DEMO_TOKENS
                .iter()
                .map(|(_, symbol, decimals)| Asset {
                    symbol: (*symbol).to_string(),
                    decimals: *decimals,
                    builtin: true,
                })
                .collect(),
            actors: Vec::new(),
            operators: Vec::new(),
            desks: Vec::new(),
            stakers: Vec::new(),
            avs: Vec::new(),
            pools: Vec::new(),
            withdrawal_labels: BTreeSet::new(),
            request_labels: Vec::new(),
            bid_labels: Vec::new(),
            ask_labels: Vec::new(),
            lease_labels: Vec::new(),
            reputation_on: false,
        }
    }

    fn err(&self, span: Range<usize>, path: &str, message: impl Into<String>) -> ScenarioError {
        self.src.error(span, path, message)
    }

    fn loc(&self, span: Range<usize>, path: &str) -> Loc {
        Loc {
            span,
            path: path.to_string(),
        }
    }

    /// A field the table must have.
    fn required<'r, T>(
        &self,
        value: &'r S<T>,
        table: &Range<usize>,
        path: &str,
        name: &str,
    ) -> Result<&'r Spanned<T>> {
        value
            .as_ref()
            .ok_or_else(|| self.err(table.clone(), path, format!("missing field `{name}`")))
    }

    fn declare_actor(&mut self, name: &str) {
        if !self.actors.iter().any(|a| a == name) {
            self.actors.push(name.to_string());
        }
    }

    fn name(&self, value: &Spanned<String>, path: &str) -> Result<String> {
        let name = value.get_ref().trim();
        if name.is_empty() {
            return Err(self.err(value.span(), path, "expected a name, got \"\""));
        }
        Ok(name.to_string())
    }

    fn actor(&self, value: &Spanned<String>, path: &str) -> Result<String> {
        let name = value.get_ref();
        if self.actors.iter().any(|a| a == name) {
            return Ok(name.clone());
        }
        Err(self.err(
            value.span(),
            path,
            format!(
                "unknown actor {name:?}: declare it in `actors`, `operators` or `stakers` ({})",
                list(&self.actors)
            ),
        ))
    }

    fn operator(&self, value: &Spanned<String>, path: &str) -> Result<String> {
        let name = value.get_ref();
        if self.operators.iter().any(|a| a == name) {
            return Ok(name.clone());
        }
        Err(self.err(
            value.span(),
            path,
            format!("unknown operator {name:?} ({})", list(&self.operators)),
        ))
    }

    fn staker(&self, value: &Spanned<String>, path: &str) -> Result<String> {
        let name = value.get_ref();
        if self.stakers.iter().any(|a| a == name) {
            return Ok(name.clone());
        }
        Err(self.err(
            value.span(),
            path,
            format!("unknown staker {name:?} ({})", list(&self.stakers)),
        ))
    }

    fn pool(&self, value: &Spanned<String>, path: &str) -> Result<usize> {
        let name = value.get_ref();
        self.pools
            .iter()
            .position(|p| &p.name == name)
            .ok_or_else(|| {
                self.err(
                    value.span(),
                    path,
                    format!(
                        "unknown pool {name:?} ({})",
                        list(self.pools.iter().map(|p| &p.name))
                    ),
                )
            })
    }

    fn avs(&self, value: &Spanned<String>, path: &str) -> Result<usize> {
        let name = value.get_ref();
        self.avs
            .iter()
            .position(|a| &a.name == name)
            .ok_or_else(|| {
                self.err(
                    value.span(),
                    path,
                    format!(
                        "unknown AVS {name:?} ({})",
                        list(self.avs.iter().map(|a| &a.name))
                    ),
                )
            })
    }

    fn asset(&self, value: &Spanned<String>, path: &str) -> Result<usize> {
        let name = value.get_ref();
        self.assets
            .iter()
            .position(|a| &a.symbol == name)
            .ok_or_else(|| {
                self.err(
                    value.span(),
                    path,
                    format!(
                        "unknown asset {name:?} ({})",
                        list(self.assets.iter().map(|a| &a.symbol))
                    ),
                )
            })
    }

    fn amount(&self, value: &Spanned<Scalar>, asset: usize, path: &str) -> Result<U256> {
        let asset = &self.assets[asset];
        units::amount(value.get_ref(), asset.decimals, &asset.symbol)
            .map_err(|m| self.err(value.span(), path, m))
    }

    fn fraction(&self, value: &Spanned<Scalar>, path: &str) -> Result<u64> {
        units::fraction(value.get_ref()).map_err(|m| self.err(value.span(), path, m))
    }

    fn duration(&self, value: &Spanned<Scalar>, path: &str) -> Result<u64> {
        units::duration(value.get_ref()).map_err(|m| self.err(value.span(), path, m))
    }

    fn integer(
        &self,
        value: &Spanned<Scalar>,
        path: &str,
        what: &str,
        range: Range<i64>,
    ) -> Result<i64> {
        match value.get_ref() {
            Scalar::Int(i) if range.contains(i) => Ok(*i),
            other => Err(self.err(
                value.span(),
                path,
                format!("expected {what}, got {}", units::shown(other)),
            )),
        }
    }

    fn mode(&self, value: &Spanned<String>, path: &str) -> Result<Mode> {
        match value.get_ref().as_str() {
            "isolated" => Ok(Mode::Isolated),
            "shared" => Ok(Mode::Shared),
            other => Err(self.err(
                value.span(),
                path,
                format!("expected \"isolated\" or \"shared\", got {other:?}"),
            )),
        }
    }

    fn unique(
        &self,
        seen: &mut BTreeSet<String>,
        value: &Spanned<String>,
        path: &str,
        what: &str,
    ) -> Result<String> {
        let name = self.name(value, path)?;
        if !seen.insert(name.clone()) {
            return Err(self.err(
                value.span(),
                path,
                format!("{what} {name:?} is declared twice"),
            ));
        }
        Ok(name)
    }

    // ------------------------------------------------------------------ sections

    fn error_name(&self, value: &Spanned<String>, path: &str) -> Result<String> {
        let name = value.get_ref();
        let known = ["Error", "Panic", "EmptyRevert"].contains(&name.as_str())
            || Contract::ALL
                .iter()
                .any(|c| c.abi().errors.contains_key(name));
        if known {
            Ok(name.clone())
        } else {
            Err(self.err(
                value.span(),
                path,
                format!("unknown error {name:?}: no Bulkhead contract declares it"),
            ))
        }
    }

    fn event_name(&self, value: &Spanned<String>, path: &str) -> Result<String> {
        let name = value.get_ref();
        if Contract::ALL
            .iter()
            .any(|c| c.abi().events.contains_key(name))
        {
            Ok(name.clone())
        } else {
            Err(self.err(
                value.span(),
                path,
                format!("unknown event {name:?}: no Bulkhead contract declares it"),
            ))
        }
    }
}

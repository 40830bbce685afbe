//! From text to a validated [`Scenario`]: serde reads the file (spans kept), then every name, unit and field is
//! checked here, each error pointing at the value it is about.

use std::{collections::BTreeSet, ops::Range, path::Path};

use alloy::primitives::U256;
use bulkhead_contracts::{Contract, mode};
use toml::Spanned;

use super::{
    error::{ScenarioError, Source, join_key},
    model::{
        Action, Allocation, Amount, Asset, Avs, AvsKind, Check, CheckKind, Deposit, Holder, Loc,
        Pool, Scenario, Sink, Staker, Step,
    },
    raw::{Named, PerName, PerPair, RawAvs, RawScenario, RawStep, S, Scalar},
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

const ACTIONS: [&str; 15] = [
    "deposit",
    "deposit_to_tier",
    "allocate",
    "deallocate",
    "warp",
    "queue_withdrawal",
    "claim",
    "request_slash",
    "veto",
    "execute_slash",
    "slash",
    "double_sign",
    "opt_in",
    "opt_out",
    "expect",
];

type Result<T> = std::result::Result<T, ScenarioError>;

struct Loader<'a> {
    src: Source<'a>,
    assets: Vec<Asset>,
    actors: Vec<String>,
    operators: Vec<String>,
    stakers: Vec<String>,
    avs: Vec<Avs>,
    pools: Vec<Pool>,
    withdrawal_labels: BTreeSet<String>,
    request_labels: Vec<(String, usize)>,
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
            stakers: Vec::new(),
            avs: Vec::new(),
            pools: Vec::new(),
            withdrawal_labels: BTreeSet::new(),
            request_labels: Vec::new(),
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

    fn mode(&self, value: &Spanned<String>, path: &str) -> Result<u8> {
        match value.get_ref().as_str() {
            "isolated" => Ok(mode::ISOLATED),
            "shared" => Ok(mode::SHARED),
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

    fn scenario(mut self, raw: RawScenario) -> Result<Scenario> {
        match &raw.version {
            None => {
                return Err(ScenarioError {
                    file: self.src.file.to_string(),
                    position: Some((1, 1)),
                    path: "version".into(),
                    message: format!("missing; a scenario starts with `version = {VERSION}`"),
                });
            }
            Some(v) if *v.get_ref() == Scalar::Int(VERSION) => {}
            Some(v) => {
                return Err(self.err(
                    v.span(),
                    "version",
                    match v.get_ref() {
                        Scalar::Int(n) => format!("unsupported version {n}, expected {VERSION}"),
                        other => format!(
                            "expected the integer {VERSION} (`version = {VERSION}`), got {}",
                            units::shown(other)
                        ),
                    },
                ));
            }
        }
        let name = match &raw.name {
            Some(n) => self.name(n, "name")?,
            None => Path::new(self.src.file).file_stem().map_or_else(
                || self.src.file.to_string(),
                |s| s.to_string_lossy().into_owned(),
            ),
        };

        // Assets.
        for (i, asset) in raw.assets.iter().enumerate() {
            let path = format!("assets[{i}]");
            let symbol = self.required(&asset.get_ref().symbol, &asset.span(), &path, "symbol")?;
            let sym = self.name(symbol, &field(&path, "symbol"))?;
            if self.assets.iter().any(|a| a.symbol == sym) {
                return Err(self.err(
                    symbol.span(),
                    &field(&path, "symbol"),
                    format!("asset {sym:?} is already defined (WETH, WBTC and USDC are built in)"),
                ));
            }
            let decimals =
                self.required(&asset.get_ref().decimals, &asset.span(), &path, "decimals")?;
            let decimals = self.integer(
                decimals,
                &field(&path, "decimals"),
                "decimals between 0 and 36",
                0..37,
            )?;
            self.assets.push(Asset {
                symbol: sym,
                decimals: decimals as u8,
                builtin: false,
            });
        }

        // Actors: operators, stakers, extra actors.
        let mut seen = BTreeSet::new();
        for (i, op) in raw.operators.iter().enumerate() {
            let path = format!("operators[{i}]");
            let name = self.required(&op.get_ref().name, &op.span(), &path, "name")?;
            let name = self.unique(&mut seen, name, &field(&path, "name"), "operator")?;
            self.declare_actor(&name);
            self.operators.push(name);
        }
        let mut seen = BTreeSet::new();
        let mut stakers = Vec::new();
        for (i, st) in raw.stakers.iter().enumerate() {
            let path = format!("stakers[{i}]");
            let name = self.required(&st.get_ref().name, &st.span(), &path, "name")?;
            let name = self.unique(&mut seen, name, &field(&path, "name"), "staker")?;
            self.declare_actor(&name);
            self.stakers.push(name.clone());
            let funding = match &st.get_ref().funding {
                None => None,
                Some(Named(entries)) => {
                    let mut out = Vec::new();
                    for (symbol, amount) in entries {
                        let p = field(&field(&path, "funding"), symbol.get_ref());
                        let asset = self.asset(symbol, &p)?;
                        out.push((asset, self.amount(amount, asset, &p)?));
                    }
                    Some(out)
                }
            };
            stakers.push(Staker { name, funding });
        }
        for (i, actor) in raw.actors.iter().enumerate() {
            let name = self.name(actor, &format!("actors[{i}]"))?;
            self.declare_actor(&name);
        }

        // AVSs (they may declare resolvers, members and sink actors).
        let mut seen = BTreeSet::new();
        for (i, avs) in raw.avs.iter().enumerate() {
            let path = format!("avs[{i}]");
            let parsed = self.avs_entry(avs.get_ref(), &avs.span(), &path, &mut seen)?;
            self.avs.push(parsed);
        }

        // Pools: names first, so a tier may name a base declared after it.
        let mut seen = BTreeSet::new();
        for (i, pool) in raw.pools.iter().enumerate() {
            let path = format!("pools[{i}]");
            let name = self.required(&pool.get_ref().name, &pool.span(), &path, "name")?;
            let name = self.unique(&mut seen, name, &field(&path, "name"), "pool")?;
            let operator =
                self.required(&pool.get_ref().operator, &pool.span(), &path, "operator")?;
            let operator = self.operator(operator, &field(&path, "operator"))?;
            self.pools.push(Pool {
                name,
                operator,
                asset: 0,
                tier_of: None,
            });
        }
        for (i, pool) in raw.pools.iter().enumerate() {
            let path = format!("pools[{i}]");
            let p = pool.get_ref();
            match (&p.asset, &p.tier_of) {
                (Some(asset), None) => {
                    self.pools[i].asset = self.asset(asset, &field(&path, "asset"))?;
                }
                (None, Some(base)) => {
                    let b = self.pool(base, &field(&path, "tier_of"))?;
                    if raw.pools[b].get_ref().tier_of.is_some() || b == i {
                        return Err(self.err(
                            base.span(),
                            &field(&path, "tier_of"),
                            format!(
                                "pool {:?} is a tier itself: tiers have one level",
                                base.get_ref()
                            ),
                        ));
                    }
                    self.pools[i].tier_of = Some(b);
                }
                (Some(_), Some(base)) => {
                    return Err(self.err(
                        base.span(),
                        &field(&path, "tier_of"),
                        "a pool has either `asset` or `tier_of` (a tier's asset is its base pool's shares)",
                    ));
                }
                (None, None) => {
                    return Err(self.err(
                        pool.span(),
                        &path,
                        "missing field `asset` (or `tier_of` for a tier)",
                    ));
                }
            }
        }
        for i in 0..self.pools.len() {
            if let Some(base) = self.pools[i].tier_of {
                self.pools[i].asset = self.pools[base].asset;
            }
            let same = (0..i).find(|&j| {
                self.pools[j].operator == self.pools[i].operator
                    && self.pools[j].tier_of == self.pools[i].tier_of
                    && (self.pools[i].tier_of.is_some()
                        || self.pools[j].asset == self.pools[i].asset)
            });
            if let Some(j) = same {
                let span = raw.pools[i]
                    .get_ref()
                    .name
                    .as_ref()
                    .map_or(raw.pools[i].span(), Spanned::span);
                return Err(self.err(
                    span,
                    &format!("pools[{i}].name"),
                    format!(
                        "pool {:?} is the same vault pool as {:?} (one pool per operator and asset)",
                        self.pools[i].name, self.pools[j].name
                    ),
                ));
            }
        }

        // Setup deposits.
        let mut deposits = Vec::new();
        for (i, d) in raw.deposits.iter().enumerate() {
            let path = format!("deposits[{i}]");
            let r = d.get_ref();
            let staker = self.required(&r.staker, &d.span(), &path, "staker")?;
            let staker = self.staker(staker, &field(&path, "staker"))?;
            let pool = self.required(&r.pool, &d.span(), &path, "pool")?;
            let pool = self.pool(pool, &field(&path, "pool"))?;
            let amount = self.required(&r.amount, &d.span(), &path, "amount")?;
            let amount_path = field(&path, "amount");
            let value = self.amount(amount, self.pools[pool].asset, &amount_path)?;
            deposits.push(Deposit {
                staker,
                pool,
                amount: value,
                loc: self.loc(amount.span(), &amount_path),
            });
        }

        // Setup allocations.
        let mut allocations = Vec::new();
        for (i, a) in raw.allocations.iter().enumerate() {
            let path = format!("allocations[{i}]");
            let r = a.get_ref();
            let pool = self.required(&r.pool, &a.span(), &path, "pool")?;
            let pool_loc = self.loc(pool.span(), &field(&path, "pool"));
            let pool = self.pool(pool, &field(&path, "pool"))?;
            let avs = self.required(&r.avs, &a.span(), &path, "avs")?;
            let avs = self.avs(avs, &field(&path, "avs"))?;
            let m = self.required(&r.mode, &a.span(), &path, "mode")?;
            let m = self.mode(m, &field(&path, "mode"))?;
            let fraction = self.required(&r.fraction, &a.span(), &path, "fraction")?;
            let fraction = self.fraction(fraction, &field(&path, "fraction"))?;
            allocations.push(Allocation {
                pool,
                avs,
                mode: m,
                fraction,
                pending: r.pending.as_ref().is_some_and(|p| *p.get_ref()),
                loc: pool_loc,
            });
        }

        let guard = match &raw.guard {
            None => None,
            Some(g) => {
                let r = g.get_ref();
                let max = self.required(&r.max_fraction, &g.span(), "guard", "max_fraction")?;
                let max = self.fraction(max, "guard.max_fraction")?;
                let window = self.required(&r.window, &g.span(), "guard", "window")?;
                let seconds = self.duration(window, "guard.window")?;
                let seconds = u32::try_from(seconds).map_err(|_| {
                    self.err(
                        window.span(),
                        "guard.window",
                        "expected a window below 2^32 seconds",
                    )
                })?;
                Some((max, seconds))
            }
        };

        let mut steps = Vec::new();
        for (i, step) in raw.steps.iter().enumerate() {
            steps.push(self.step(i, step)?);
        }

        Ok(Scenario {
            file: self.src.file.to_string(),
            text: self.src.text.to_string(),
            name,
            description: raw.description,
            assets: self.assets,
            actors: self.actors,
            operators: self.operators,
            stakers,
            avs: self.avs,
            pools: self.pools,
            deposits,
            allocations,
            guard,
            steps,
        })
    }

    fn avs_entry(
        &mut self,
        r: &RawAvs,
        span: &Range<usize>,
        path: &str,
        seen: &mut BTreeSet<String>,
    ) -> Result<Avs> {
        let name = self.required(&r.name, span, path, "name")?;
        let name = self.unique(seen, name, &field(path, "name"), "AVS")?;
        let kind_value = self.required(&r.kind, span, path, "kind")?;
        let kind_path = field(path, "kind");
        // Which optional fields each kind takes.
        let allowed: &[&str] = match kind_value.get_ref().as_str() {
            "instant" => &["max_slash"],
            "veto" => &["max_slash", "veto_window", "resolver"],
            "double_sign" => &["fraction"],
            "committee" => &["max_slash", "veto_window", "resolver", "members", "quorum"],
            other => {
                return Err(self.err(
                    kind_value.span(),
                    &kind_path,
                    format!("expected \"instant\", \"veto\", \"double_sign\" or \"committee\", got {other:?}"),
                ));
            }
        };
        let kind_name = kind_value.get_ref().clone();
        let present = [
            ("max_slash", r.max_slash.as_ref().map(Spanned::span)),
            ("veto_window", r.veto_window.as_ref().map(Spanned::span)),
            ("resolver", r.resolver.as_ref().map(Spanned::span)),
            ("fraction", r.fraction.as_ref().map(Spanned::span)),
            ("members", r.members.as_ref().map(Spanned::span)),
            ("quorum", r.quorum.as_ref().map(Spanned::span)),
        ];
        for (f, span) in present {
            if let Some(span) = span
                && !allowed.contains(&f)
            {
                return Err(self.err(
                    span,
                    &field(path, f),
                    format!(
                        "not a field of an AVS of kind {kind_name:?} (it takes: {})",
                        allowed.join(", ")
                    ),
                ));
            }
        }
        let (kspan, src) = (kind_value.span(), self.src);
        let need = |f: &str| {
            src.error(
                kspan.clone(),
                path,
                format!("an AVS of kind {kind_name:?} needs field `{f}`"),
            )
        };
        let window = |this: &Self| -> Result<u64> {
            let w = r.veto_window.as_ref().ok_or_else(|| need("veto_window"))?;
            this.duration(w, &field(path, "veto_window"))
        };
        let resolver = |this: &mut Self| -> Result<String> {
            let v = r.resolver.as_ref().ok_or_else(|| need("resolver"))?;
            let name = this.name(v, &field(path, "resolver"))?;
            this.declare_actor(&name);
            Ok(name)
        };
        let kind = match kind_name.as_str() {
            "instant" => AvsKind::Instant,
            "veto" => AvsKind::Veto {
                window: window(self)?,
                resolver: resolver(self)?,
            },
            "double_sign" => {
                let f = r.fraction.as_ref().ok_or_else(|| need("fraction"))?;
                AvsKind::DoubleSign {
                    fraction: self.fraction(f, &field(path, "fraction"))?,
                }
            }
            _ => {
                let members_value = r.members.as_ref().ok_or_else(|| need("members"))?;
                let mut members = Vec::new();
                for (j, m) in members_value.get_ref().iter().enumerate() {
                    let name = self.name(m, &format!("{}[{j}]", field(path, "members")))?;
                    self.declare_actor(&name);
                    members.push(name);
                }
                let quorum = r.quorum.as_ref().ok_or_else(|| need("quorum"))?;
                let n = members.len() as i64;
                let quorum = self.integer(
                    quorum,
                    &field(path, "quorum"),
                    &format!("a quorum between 1 and the number of members ({n})"),
                    1..n + 1,
                )? as u32;
                AvsKind::Committee {
                    members,
                    quorum,
                    window: window(self)?,
                    resolver: resolver(self)?,
                }
            }
        };
        let max_slash = match &r.max_slash {
            Some(m) => self.fraction(m, &field(path, "max_slash"))?,
            None => match kind {
                AvsKind::DoubleSign { fraction } => fraction,
                _ => units::WAD,
            },
        };
        let sink = match &r.sink {
            None => Sink::Burn,
            Some(s) if s.get_ref() == "burn" => Sink::Burn,
            Some(s) => {
                let name = self.name(s, &field(path, "sink"))?;
                self.declare_actor(&name);
                Sink::Actor(name)
            }
        };
        Ok(Avs {
            name,
            kind,
            sink,
            max_slash,
        })
    }

    // ------------------------------------------------------------------ steps

    fn step(&mut self, index: usize, step: &Spanned<RawStep>) -> Result<Step> {
        let path = format!("steps[{index}]");
        let r = step.get_ref();
        let action_value = self.required(&r.action, &step.span(), &path, "action")?;
        let action = action_value.get_ref().as_str();
        let action_path = field(&path, "action");
        if !ACTIONS.contains(&action) {
            return Err(self.err(
                action_value.span(),
                &action_path,
                format!(
                    "unknown action {action:?}; expected one of {}",
                    ACTIONS.join(", ")
                ),
            ));
        }
        let allowed: &[&str] = match action {
            "deposit" => &["staker", "pool", "amount"],
            "deposit_to_tier" => &["staker", "pool", "shares"],
            "allocate" => &["pool", "avs", "mode", "fraction", "by", "opt_in"],
            "deallocate" => &["pool", "avs", "fraction", "by"],
            "warp" => &["duration"],
            "queue_withdrawal" => &["staker", "pool", "shares", "fraction", "label"],
            "claim" => &["staker", "withdrawal", "receiver"],
            "request_slash" => &["avs", "pool", "fraction", "label", "by", "voters"],
            "veto" | "execute_slash" => &["avs", "request", "by"],
            "slash" => &["avs", "pool", "fraction", "by"],
            "double_sign" => &["avs", "operator", "round", "pools", "signer", "by"],
            "opt_in" | "opt_out" => &["operator", "avs"],
            _ => &[
                "pool_value",
                "isolated",
                "shared",
                "reuse_ratio",
                "guard_used",
                "backing",
                "position",
                "escrow",
                "balance",
                "sink",
                "events",
                "no_events",
            ],
        };
        let spans = step_fields(r);
        for (name, span) in &spans {
            let common = matches!(*name, "action" | "note")
                || (*name == "expect_revert" && !matches!(action, "warp" | "expect"));
            if let Some(span) = span
                && !common
                && !allowed.contains(name)
            {
                return Err(self.err(
                    span.clone(),
                    &field(&path, name),
                    format!(
                        "not a field of action {action:?} (it takes: {})",
                        allowed.join(", ")
                    ),
                ));
            }
        }
        let fields: Vec<(&'static str, Loc)> = spans
            .iter()
            .filter_map(|(name, span)| {
                span.clone()
                    .map(|s| (*name, self.loc(s, &field(&path, name))))
            })
            .collect();

        let (aspan, src) = (action_value.span(), self.src);
        let need = |f: &str| {
            src.error(
                aspan.clone(),
                &path,
                format!("action {action:?} needs field `{f}`"),
            )
        };
        let p = |f: &str| field(&path, f);

        let expect_revert = match &r.expect_revert {
            None => None,
            Some(e) => Some(self.error_name(e, &p("expect_revert"))?),
        };
        let by = match &r.by {
            None => None,
            Some(b) => Some(self.actor(b, &p("by"))?),
        };

        let action = match action {
            "deposit" | "deposit_to_tier" => {
                let staker = self.staker(
                    r.staker.as_ref().ok_or_else(|| need("staker"))?,
                    &p("staker"),
                )?;
                let pool_value = r.pool.as_ref().ok_or_else(|| need("pool"))?;
                let pool = self.pool(pool_value, &p("pool"))?;
                let tier = self.pools[pool].tier_of.is_some();
                if action == "deposit" && tier {
                    return Err(self.err(
                        pool_value.span(),
                        &p("pool"),
                        format!(
                            "pool {:?} is a tier: use action \"deposit_to_tier\"",
                            pool_value.get_ref()
                        ),
                    ));
                }
                if action == "deposit_to_tier" && !tier {
                    return Err(self.err(
                        pool_value.span(),
                        &p("pool"),
                        format!(
                            "pool {:?} is not a tier (it has no `tier_of`)",
                            pool_value.get_ref()
                        ),
                    ));
                }
                let asset = self.pools[pool].asset;
                if action == "deposit" {
                    let amount = r.amount.as_ref().ok_or_else(|| need("amount"))?;
                    Action::Deposit {
                        staker,
                        pool,
                        amount: self.amount(amount, asset, &p("amount"))?,
                    }
                } else {
                    let shares = r.shares.as_ref().ok_or_else(|| need("shares"))?;
                    Action::DepositToTier {
                        staker,
                        pool,
                        shares: self.amount(shares, asset, &p("shares"))?,
                    }
                }
            }
            "allocate" => Action::Allocate {
                pool: self.pool(r.pool.as_ref().ok_or_else(|| need("pool"))?, &p("pool"))?,
                avs: self.avs(r.avs.as_ref().ok_or_else(|| need("avs"))?, &p("avs"))?,
                mode: self.mode(r.mode.as_ref().ok_or_else(|| need("mode"))?, &p("mode"))?,
                fraction: self.fraction(
                    r.fraction.as_ref().ok_or_else(|| need("fraction"))?,
                    &p("fraction"),
                )?,
                by,
                opt_in: r.opt_in.as_ref().is_none_or(|o| *o.get_ref()),
            },
            "deallocate" => Action::Deallocate {
                pool: self.pool(r.pool.as_ref().ok_or_else(|| need("pool"))?, &p("pool"))?,
                avs: self.avs(r.avs.as_ref().ok_or_else(|| need("avs"))?, &p("avs"))?,
                fraction: match &r.fraction {
                    Some(f) => self.fraction(f, &p("fraction"))?,
                    None => 0,
                },
                by,
            },
            "warp" => Action::Warp {
                seconds: self.duration(
                    r.duration.as_ref().ok_or_else(|| need("duration"))?,
                    &p("duration"),
                )?,
            },
            "queue_withdrawal" => {
                let staker = self.staker(
                    r.staker.as_ref().ok_or_else(|| need("staker"))?,
                    &p("staker"),
                )?;
                let pool = self.pool(r.pool.as_ref().ok_or_else(|| need("pool"))?, &p("pool"))?;
                let amount = match (&r.shares, &r.fraction) {
                    (Some(s), None) => {
                        Amount::Shares(self.amount(s, self.pools[pool].asset, &p("shares"))?)
                    }
                    (None, Some(f)) => Amount::Fraction(self.fraction(f, &p("fraction"))?),
                    (Some(_), Some(f)) => {
                        return Err(self.err(
                            f.span(),
                            &p("fraction"),
                            "give either `shares` or `fraction` (of the position), not both",
                        ));
                    }
                    (None, None) => return Err(need("shares` or `fraction")),
                };
                let label = match &r.label {
                    None => None,
                    Some(l) => {
                        let label = self.name(l, &p("label"))?;
                        if !self.withdrawal_labels.insert(label.clone()) {
                            return Err(self.err(
                                l.span(),
                                &p("label"),
                                format!("withdrawal label {label:?} is used twice"),
                            ));
                        }
                        Some(label)
                    }
                };
                Action::QueueWithdrawal {
                    staker,
                    pool,
                    amount,
                    label,
                }
            }
            "claim" => {
                let staker = self.staker(
                    r.staker.as_ref().ok_or_else(|| need("staker"))?,
                    &p("staker"),
                )?;
                let withdrawal = match &r.withdrawal {
                    None => None,
                    Some(w) => {
                        if !self.withdrawal_labels.contains(w.get_ref()) {
                            return Err(self.err(
                                w.span(),
                                &p("withdrawal"),
                                format!(
                                    "unknown withdrawal {:?}: no earlier queue_withdrawal step has this label ({})",
                                    w.get_ref(),
                                    list(&self.withdrawal_labels)
                                ),
                            ));
                        }
                        Some(w.get_ref().clone())
                    }
                };
                let receiver = match &r.receiver {
                    None => None,
                    Some(v) => Some(self.actor(v, &p("receiver"))?),
                };
                Action::Claim {
                    staker,
                    withdrawal,
                    receiver,
                }
            }
            "request_slash" => {
                let avs_value = r.avs.as_ref().ok_or_else(|| need("avs"))?;
                let avs = self.avs(avs_value, &p("avs"))?;
                let kind = self.avs[avs].kind.clone();
                match kind {
                    AvsKind::Veto { .. } | AvsKind::Committee { .. } => {}
                    _ => {
                        return Err(self.err(
                            avs_value.span(),
                            &p("avs"),
                            format!(
                                "AVS {:?} is {}: only veto and committee AVSs request slashes",
                                avs_value.get_ref(),
                                kind.name()
                            ),
                        ));
                    }
                }
                if let (AvsKind::Committee { .. }, Some(b)) = (&kind, &r.by) {
                    return Err(self.err(
                        b.span(),
                        &p("by"),
                        "a committee requests through its members' votes: use `voters`",
                    ));
                }
                let voters = match (&kind, &r.voters) {
                    (_, None) => None,
                    (AvsKind::Committee { .. }, Some(v)) => {
                        let mut out = Vec::new();
                        for (j, name) in v.get_ref().iter().enumerate() {
                            out.push(self.actor(name, &format!("{}[{j}]", p("voters")))?);
                        }
                        if out.is_empty() {
                            return Err(self.err(
                                v.span(),
                                &p("voters"),
                                "expected at least one voter",
                            ));
                        }
                        Some(out)
                    }
                    (_, Some(v)) => {
                        return Err(self.err(
                            v.span(),
                            &p("voters"),
                            "only a committee AVS has voters",
                        ));
                    }
                };
                let pool = self.pool(r.pool.as_ref().ok_or_else(|| need("pool"))?, &p("pool"))?;
                let fraction = self.fraction(
                    r.fraction.as_ref().ok_or_else(|| need("fraction"))?,
                    &p("fraction"),
                )?;
                let label = match &r.label {
                    None => None,
                    Some(l) => {
                        let label = self.name(l, &p("label"))?;
                        if self.request_labels.iter().any(|(x, _)| *x == label) {
                            return Err(self.err(
                                l.span(),
                                &p("label"),
                                format!("request label {label:?} is used twice"),
                            ));
                        }
                        self.request_labels.push((label.clone(), avs));
                        Some(label)
                    }
                };
                Action::RequestSlash {
                    avs,
                    pool,
                    fraction,
                    label,
                    by,
                    voters,
                }
            }
            "veto" | "execute_slash" => {
                let request = match &r.request {
                    None => None,
                    Some(q) => match self.request_labels.iter().find(|(x, _)| x == q.get_ref()) {
                        Some((label, avs)) => Some((label.clone(), *avs)),
                        None => {
                            return Err(self.err(
                                q.span(),
                                &p("request"),
                                format!(
                                    "unknown request {:?}: no earlier request_slash step has this label ({})",
                                    q.get_ref(),
                                    list(self.request_labels.iter().map(|(x, _)| x))
                                ),
                            ));
                        }
                    },
                };
                let avs = match (&r.avs, &request) {
                    (Some(a), Some((label, of))) => {
                        let avs = self.avs(a, &p("avs"))?;
                        if avs != *of {
                            return Err(self.err(
                                a.span(),
                                &p("avs"),
                                format!(
                                    "request {label:?} was filed by AVS {:?}",
                                    self.avs[*of].name
                                ),
                            ));
                        }
                        avs
                    }
                    (Some(a), None) => self.avs(a, &p("avs"))?,
                    (None, Some((_, of))) => *of,
                    (None, None) => return Err(need("avs` or `request")),
                };
                if self.avs[avs].kind.resolver().is_none() {
                    let span = r.avs.as_ref().map_or(aspan.clone(), Spanned::span);
                    return Err(self.err(
                        span,
                        &p("avs"),
                        format!(
                            "AVS {:?} has no veto flow (it is {})",
                            self.avs[avs].name,
                            self.avs[avs].kind.name()
                        ),
                    ));
                }
                let request = request.map(|(label, _)| label);
                if action == "veto" {
                    Action::Veto { avs, request, by }
                } else {
                    Action::ExecuteSlash { avs, request, by }
                }
            }
            "slash" => {
                let avs_value = r.avs.as_ref().ok_or_else(|| need("avs"))?;
                let avs = self.avs(avs_value, &p("avs"))?;
                if matches!(
                    self.avs[avs].kind,
                    AvsKind::DoubleSign { .. } | AvsKind::Committee { .. }
                ) {
                    let how = if matches!(self.avs[avs].kind, AvsKind::DoubleSign { .. }) {
                        "\"double_sign\""
                    } else {
                        "\"request_slash\" and \"execute_slash\""
                    };
                    return Err(self.err(
                        avs_value.span(),
                        &p("avs"),
                        format!(
                            "AVS {:?} slashes through its module contract: use action {how}",
                            avs_value.get_ref()
                        ),
                    ));
                }
                Action::Slash {
                    avs,
                    pool: self.pool(r.pool.as_ref().ok_or_else(|| need("pool"))?, &p("pool"))?,
                    fraction: self.fraction(
                        r.fraction.as_ref().ok_or_else(|| need("fraction"))?,
                        &p("fraction"),
                    )?,
                    by,
                }
            }
            "double_sign" => {
                let avs_value = r.avs.as_ref().ok_or_else(|| need("avs"))?;
                let avs = self.avs(avs_value, &p("avs"))?;
                if !matches!(self.avs[avs].kind, AvsKind::DoubleSign { .. }) {
                    return Err(self.err(
                        avs_value.span(),
                        &p("avs"),
                        format!("AVS {:?} is not a double_sign AVS", avs_value.get_ref()),
                    ));
                }
                let round = r.round.as_ref().ok_or_else(|| need("round"))?;
                let round = self.integer(
                    round,
                    &p("round"),
                    "a round number (a non-negative integer)",
                    0..i64::MAX,
                )?;
                let pools = match &r.pools {
                    None => None,
                    Some(list) => {
                        let mut out = Vec::new();
                        for (j, name) in list.get_ref().iter().enumerate() {
                            out.push(self.pool(name, &format!("{}[{j}]", p("pools")))?);
                        }
                        Some(out)
                    }
                };
                let signer = match &r.signer {
                    None => None,
                    Some(s) => Some(self.actor(s, &p("signer"))?),
                };
                Action::DoubleSign {
                    avs,
                    operator: self.operator(
                        r.operator.as_ref().ok_or_else(|| need("operator"))?,
                        &p("operator"),
                    )?,
                    round: round as u64,
                    pools,
                    signer,
                    by,
                }
            }
            "opt_in" | "opt_out" => {
                let operator = self.operator(
                    r.operator.as_ref().ok_or_else(|| need("operator"))?,
                    &p("operator"),
                )?;
                let avs = self.avs(r.avs.as_ref().ok_or_else(|| need("avs"))?, &p("avs"))?;
                if action == "opt_in" {
                    Action::OptIn { operator, avs }
                } else {
                    Action::OptOut { operator, avs }
                }
            }
            _ => {
                let checks = self.checks(r, &path)?;
                if checks.is_empty() {
                    return Err(self.err(
                        aspan,
                        &path,
                        format!(
                            "an expect step needs at least one check ({})",
                            allowed.join(", ")
                        ),
                    ));
                }
                Action::Expect(checks)
            }
        };

        Ok(Step {
            index,
            loc: self.loc(action_value.span(), &path),
            note: r.note.as_ref().map(|n| n.get_ref().clone()),
            expect_revert,
            action,
            fields,
        })
    }

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

    fn checks(&self, r: &RawStep, path: &str) -> Result<Vec<Check>> {
        let mut checks = Vec::new();
        // pool -> value
        let per_pool: [(&str, &S<PerName>); 5] = [
            ("pool_value", &r.pool_value),
            ("isolated", &r.isolated),
            ("shared", &r.shared),
            ("reuse_ratio", &r.reuse_ratio),
            ("guard_used", &r.guard_used),
        ];
        for (what, table) in per_pool {
            let Some(table) = table else { continue };
            for (pool_name, value) in &table.get_ref().0 {
                let p = field(&field(path, what), pool_name.get_ref());
                let pool = self.pool(pool_name, &p)?;
                let asset = self.pools[pool].asset;
                let kind = match what {
                    "pool_value" => CheckKind::PoolValue {
                        pool,
                        expected: self.amount(value, asset, &p)?,
                    },
                    "isolated" => CheckKind::Isolated {
                        pool,
                        expected: self.amount(value, asset, &p)?,
                    },
                    "shared" => CheckKind::Shared {
                        pool,
                        expected: self.amount(value, asset, &p)?,
                    },
                    "reuse_ratio" => CheckKind::ReuseRatio {
                        pool,
                        expected: units::ratio(value.get_ref())
                            .map_err(|m| self.err(value.span(), &p, m))?,
                    },
                    _ => CheckKind::GuardUsed {
                        pool,
                        expected: U256::from(self.fraction(value, &p)?),
                    },
                };
                checks.push(Check {
                    loc: self.loc(value.span(), &p),
                    kind,
                });
            }
        }
        // outer name -> inner name -> amount
        let nested: [(&str, &S<PerPair>); 5] = [
            ("backing", &r.backing),
            ("position", &r.position),
            ("escrow", &r.escrow),
            ("balance", &r.balance),
            ("sink", &r.sink),
        ];
        for (what, table) in nested {
            let Some(table) = table else { continue };
            for (outer, inner) in &table.get_ref().0 {
                let outer_path = field(&field(path, what), outer.get_ref());
                for (key, value) in &inner.0 {
                    let p = field(&outer_path, key.get_ref());
                    let kind = match what {
                        "backing" => {
                            let avs = self.avs(outer, &outer_path)?;
                            let pool = self.pool(key, &p)?;
                            CheckKind::Backing {
                                avs,
                                pool,
                                expected: self.amount(value, self.pools[pool].asset, &p)?,
                            }
                        }
                        "position" | "escrow" => {
                            let staker = self.staker(outer, &outer_path)?;
                            let pool = self.pool(key, &p)?;
                            let expected = self.amount(value, self.pools[pool].asset, &p)?;
                            if what == "position" {
                                CheckKind::Position {
                                    staker,
                                    pool,
                                    expected,
                                }
                            } else {
                                CheckKind::Escrow {
                                    staker,
                                    pool,
                                    expected,
                                }
                            }
                        }
                        "balance" => {
                            let holder = match outer.get_ref().as_str() {
                                "burn" => Holder::Burn,
                                "vault" => Holder::Vault,
                                _ => Holder::Actor(self.actor(outer, &outer_path)?),
                            };
                            let asset = self.asset(key, &p)?;
                            CheckKind::Balance {
                                holder,
                                asset,
                                expected: self.amount(value, asset, &p)?,
                            }
                        }
                        _ => {
                            let avs = self.avs(outer, &outer_path)?;
                            let asset = self.asset(key, &p)?;
                            CheckKind::Sink {
                                avs,
                                asset,
                                expected: self.amount(value, asset, &p)?,
                            }
                        }
                    };
                    checks.push(Check {
                        loc: self.loc(value.span(), &p),
                        kind,
                    });
                }
            }
        }
        for (what, list, present) in [
            ("events", &r.events, true),
            ("no_events", &r.no_events, false),
        ] {
            let Some(list) = list else { continue };
            for (j, name) in list.get_ref().iter().enumerate() {
                let p = format!("{}[{j}]", field(path, what));
                checks.push(Check {
                    loc: self.loc(name.span(), &p),
                    kind: CheckKind::Event {
                        name: self.event_name(name, &p)?,
                        present,
                    },
                });
            }
        }
        // In the order they are written.
        checks.sort_by_key(|c| c.loc.span.start);
        Ok(checks)
    }
}

/// Every field of a step with its span, when present.
fn step_fields(r: &RawStep) -> Vec<(&'static str, Option<Range<usize>>)> {
    macro_rules! spans {
        ($($f:ident),* $(,)?) => {
            vec![$((stringify!($f), r.$f.as_ref().map(Spanned::span))),*]
        };
    }
    spans![
        action,
        note,
        expect_revert,
        by,
        staker,
        operator,
        pool,
        avs,
        amount,
        shares,
        fraction,
        mode,
        opt_in,
        duration,
        label,
        withdrawal,
        receiver,
        request,
        voters,
        round,
        pools,
        signer,
        pool_value,
        isolated,
        shared,
        reuse_ratio,
        guard_used,
        backing,
        position,
        escrow,
        balance,
        sink,
        events,
        no_events,
    ]
}

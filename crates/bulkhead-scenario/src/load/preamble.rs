//! The preamble of a file: version, name, assets, actors, AVSs, pools, setup deposits and allocations, the guard.

use std::{collections::BTreeSet, ops::Range, path::Path};

use alloy::primitives::U256;
use toml::Spanned;

use super::{Loader, Result, VERSION, field};
use crate::{
    error::ScenarioError,
    model::{Allocation, Asset, Avs, AvsKind, Deposit, Pool, Scenario, Sink, Staker},
    raw::{Named, RawAvs, RawScenario, Scalar},
    units,
};

impl Loader<'_> {
    pub(super) fn scenario(mut self, raw: RawScenario) -> Result<Scenario> {
        let name = self.version_and_name(&raw)?;
        self.assets_section(&raw)?;
        let stakers = self.actors_section(&raw)?;
        let reputation = self.reputation_section(&raw)?;
        // AVSs (they may declare resolvers, members and sink actors).
        let mut seen = BTreeSet::new();
        for (i, avs) in raw.avs.iter().enumerate() {
            let path = format!("avs[{i}]");
            let parsed = self.avs_entry(avs.get_ref(), &avs.span(), &path, &mut seen)?;
            self.avs.push(parsed);
        }
        self.pools_section(&raw)?;
        let deposits = self.deposits_section(&raw)?;
        let allocations = self.allocations_section(&raw)?;
        let guard = self.guard_section(&raw)?;
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
            desks: self.desks,
            stakers,
            avs: self.avs,
            pools: self.pools,
            deposits,
            allocations,
            guard,
            reputation,
            steps,
        })
    }

    /// `[reputation]`: on, with the evidence unit of each asset named.
    fn reputation_section(&mut self, raw: &RawScenario) -> Result<Option<Vec<(usize, U256)>>> {
        let Some(section) = &raw.reputation else {
            return Ok(None);
        };
        self.reputation_on = true;
        let mut units = Vec::new();
        for (symbol, amount) in section.get_ref().evidence_units.iter().flat_map(|n| &n.0) {
            let path = format!("reputation.evidence_units.{}", symbol.get_ref());
            let asset = self.asset(symbol, &path)?;
            units.push((asset, self.amount(amount, asset, &path)?));
        }
        Ok(Some(units))
    }

    /// An AVS's `bond = { <asset> = <amount> }`, bonded at setup (needs `[reputation]`).
    fn avs_bond(&self, r: &RawAvs, path: &str) -> Result<Vec<(usize, U256)>> {
        let Some(bond) = &r.bond else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for (symbol, amount) in &bond.0 {
            let p = field(&field(path, "bond"), symbol.get_ref());
            if !self.reputation_on {
                return Err(self.err(
                    symbol.span(),
                    &p,
                    "a bond needs the reputation layer: add a `[reputation]` section",
                ));
            }
            let asset = self.asset(symbol, &p)?;
            out.push((asset, self.amount(amount, asset, &p)?));
        }
        Ok(out)
    }

    /// `version` must be this crate's; the name is the file's stem unless given.
    fn version_and_name(&self, raw: &RawScenario) -> Result<String> {
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
        Ok(match &raw.name {
            Some(n) => self.name(n, "name")?,
            None => Path::new(self.src.file).file_stem().map_or_else(
                || self.src.file.to_string(),
                |s| s.to_string_lossy().into_owned(),
            ),
        })
    }

    fn assets_section(&mut self, raw: &RawScenario) -> Result<()> {
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

        Ok(())
    }

    /// Operators, stakers (with their funding) and extra actors.
    fn actors_section(&mut self, raw: &RawScenario) -> Result<Vec<Staker>> {
        // Actors: operators, stakers, extra actors.
        let mut seen = BTreeSet::new();
        for (i, op) in raw.operators.iter().enumerate() {
            let path = format!("operators[{i}]");
            let name = self.required(&op.get_ref().name, &op.span(), &path, "name")?;
            let name = self.unique(&mut seen, name, &field(&path, "name"), "operator")?;
            self.declare_actor(&name);
            if op.get_ref().desk.as_ref().is_some_and(|d| *d.get_ref()) {
                self.desks.push(name.clone());
            }
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

        Ok(stakers)
    }

    fn pools_section(&mut self, raw: &RawScenario) -> Result<()> {
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

        Ok(())
    }

    fn deposits_section(&self, raw: &RawScenario) -> Result<Vec<Deposit>> {
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

        Ok(deposits)
    }

    fn allocations_section(&self, raw: &RawScenario) -> Result<Vec<Allocation>> {
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

        Ok(allocations)
    }

    fn guard_section(&self, raw: &RawScenario) -> Result<Option<(u64, u32)>> {
        Ok(match &raw.guard {
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
        self.avs_fields_fit_kind(r, kind_value, path)?;
        let kind = self.avs_kind(r, kind_value, path)?;
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
            bond: self.avs_bond(r, path)?,
        })
    }

    /// Refuses an unknown kind, and any optional field the AVS's kind does not take.
    fn avs_fields_fit_kind(&self, r: &RawAvs, kind: &Spanned<String>, path: &str) -> Result<()> {
        let allowed: &[&str] = match kind.get_ref().as_str() {
            "instant" => &["max_slash"],
            "veto" => &["max_slash", "veto_window", "resolver"],
            "double_sign" => &["fraction"],
            "committee" => &[
                "max_slash",
                "veto_window",
                "resolver",
                "members",
                "quorum",
                "voting_period",
            ],
            other => {
                return Err(self.err(
                    kind.span(),
                    &field(path, "kind"),
                    format!("expected \"instant\", \"veto\", \"double_sign\" or \"committee\", got {other:?}"),
                ));
            }
        };
        let present = [
            ("max_slash", r.max_slash.as_ref().map(Spanned::span)),
            ("veto_window", r.veto_window.as_ref().map(Spanned::span)),
            ("resolver", r.resolver.as_ref().map(Spanned::span)),
            ("fraction", r.fraction.as_ref().map(Spanned::span)),
            ("members", r.members.as_ref().map(Spanned::span)),
            ("quorum", r.quorum.as_ref().map(Spanned::span)),
            ("voting_period", r.voting_period.as_ref().map(Spanned::span)),
        ];
        for (f, span) in present {
            if let Some(span) = span
                && !allowed.contains(&f)
            {
                return Err(self.err(
                    span,
                    &field(path, f),
                    format!(
                        "not a field of an AVS of kind {:?} (it takes: {})",
                        kind.get_ref(),
                        allowed.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The AVS's kind with the fields it needs (`avs_fields_fit_kind` has checked the kind's name).
    fn avs_kind(
        &mut self,
        r: &RawAvs,
        kind_value: &Spanned<String>,
        path: &str,
    ) -> Result<AvsKind> {
        let kind_name = kind_value.get_ref().clone();
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
        Ok(match kind_name.as_str() {
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
                let voting_period = match &r.voting_period {
                    Some(v) => Some(self.duration(v, &field(path, "voting_period"))?),
                    None => None,
                };
                AvsKind::Committee {
                    members,
                    quorum,
                    window: window(self)?,
                    voting_period,
                    resolver: resolver(self)?,
                }
            }
        })
    }

    // ------------------------------------------------------------------ steps
}

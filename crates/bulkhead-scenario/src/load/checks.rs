//! The checks of an `expect` step: per pool, per (AVS or staker, pool), per holder and asset, and events.

use alloy::primitives::U256;
use toml::Spanned;

use super::{Loader, Result, field};
use crate::{
    model::{Check, CheckKind, Holder, LeaseField},
    raw::{PerName, PerPair, RawStep, S, Scalar},
    units,
};

impl Loader<'_> {
    pub(super) fn checks(&self, r: &RawStep, path: &str) -> Result<Vec<Check>> {
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
                let kind = self.pool_check(what, pool, value, &p)?;
                checks.push(Check {
                    loc: self.loc(value.span(), &p),
                    kind,
                });
            }
        }
        // AVS -> value
        let per_avs: [(&str, &S<PerName>); 3] = [
            ("rating", &r.rating),
            ("risk_weight", &r.risk_weight),
            ("bond_short", &r.bond_short),
        ];
        for (what, table) in per_avs {
            let Some(table) = table else { continue };
            for (avs_name, value) in &table.get_ref().0 {
                let p = field(&field(path, what), avs_name.get_ref());
                let avs = self.avs(avs_name, &p)?;
                checks.push(Check {
                    loc: self.loc(value.span(), &p),
                    kind: self.avs_check(what, avs, value, &p)?,
                });
            }
        }
        // outer name -> inner name -> amount
        let nested: [(&str, &S<PerPair>); 10] = [
            ("bond", &r.bond),
            ("claimable", &r.claimable),
            ("leases", &r.leases),
            ("credits", &r.credits),
            ("commission_owed", &r.commission_owed),
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
                    let kind = self.pair_check(what, outer, (key, value), (&outer_path, &p))?;
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

    /// One check of a per-pool table (`pool_value`, `isolated`, `shared`, `reuse_ratio`, `guard_used`).
    fn pool_check(
        &self,
        what: &str,
        pool: usize,
        value: &Spanned<Scalar>,
        p: &str,
    ) -> Result<CheckKind> {
        let asset = self.pools[pool].asset;
        Ok(match what {
            "pool_value" => CheckKind::PoolValue {
                pool,
                expected: self.amount(value, asset, p)?,
            },
            "isolated" => CheckKind::Isolated {
                pool,
                expected: self.amount(value, asset, p)?,
            },
            "shared" => CheckKind::Shared {
                pool,
                expected: self.amount(value, asset, p)?,
            },
            "reuse_ratio" => CheckKind::ReuseRatio {
                pool,
                expected: units::ratio(value.get_ref())
                    .map_err(|m| self.err(value.span(), p, m))?,
            },
            _ => CheckKind::GuardUsed {
                pool,
                expected: U256::from(self.fraction(value, p)?),
            },
        })
    }

    /// One check of a per-AVS table (`rating`, `risk_weight`, `bond_short`).
    fn avs_check(
        &self,
        what: &str,
        avs: usize,
        value: &Spanned<Scalar>,
        p: &str,
    ) -> Result<CheckKind> {
        Ok(match what {
            "rating" => CheckKind::Rating {
                avs,
                expected: U256::from(self.fraction(value, p)?),
            },
            "risk_weight" => {
                let wad =
                    units::ratio(value.get_ref()).map_err(|m| self.err(value.span(), p, m))?;
                let tenth = U256::from(units::WAD / 10);
                let tenths = wad / tenth;
                if wad % tenth != U256::ZERO || tenths < U256::from(10) || tenths > U256::from(50) {
                    return Err(self.err(
                        value.span(),
                        p,
                        format!(
                            "expected a risk weight from \"1x\" to \"5x\" in tenths (\"2.6x\"), got {}",
                            units::shown(value.get_ref())
                        ),
                    ));
                }
                CheckKind::RiskWeight {
                    avs,
                    expected: tenths.to::<u8>(),
                }
            }
            _ => match value.get_ref() {
                Scalar::Bool(expected) => CheckKind::BondShort {
                    avs,
                    expected: *expected,
                },
                other => {
                    return Err(self.err(
                        value.span(),
                        p,
                        format!("expected true or false, got {}", units::shown(other)),
                    ));
                }
            },
        })
    }

    /// One check of a per-pair table (`backing`, `position`, `escrow`, `balance`, `sink`): `outer` names the AVS,
    /// staker or holder, `key` the pool or asset.
    fn pair_check(
        &self,
        what: &str,
        outer: &Spanned<String>,
        (key, value): (&Spanned<String>, &Spanned<Scalar>),
        (outer_path, p): (&str, &str),
    ) -> Result<CheckKind> {
        Ok(match what {
            "backing" => {
                let avs = self.avs(outer, outer_path)?;
                let pool = self.pool(key, p)?;
                CheckKind::Backing {
                    avs,
                    pool,
                    expected: self.amount(value, self.pools[pool].asset, p)?,
                }
            }
            "position" | "escrow" => {
                let staker = self.staker(outer, outer_path)?;
                let pool = self.pool(key, p)?;
                let expected = self.amount(value, self.pools[pool].asset, p)?;
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
                    _ => Holder::Actor(self.actor(outer, outer_path)?),
                };
                let asset = self.asset(key, p)?;
                CheckKind::Balance {
                    holder,
                    asset,
                    expected: self.amount(value, asset, p)?,
                }
            }
            "claimable" => {
                let staker = self.staker(outer, outer_path)?;
                let pool = self.pool(key, p)?;
                CheckKind::Claimable {
                    staker,
                    pool,
                    expected: self.amount(value, self.pools[pool].asset, p)?,
                }
            }
            "leases" => {
                let Some((lease, asset)) = self
                    .lease_labels
                    .iter()
                    .find(|(l, _)| l == outer.get_ref())
                    .cloned()
                else {
                    return Err(self.err(
                        outer.span(),
                        outer_path,
                        format!(
                            "unknown lease {:?}: no earlier fill step has this label ({})",
                            outer.get_ref(),
                            super::list(self.lease_labels.iter().map(|(l, _)| l))
                        ),
                    ));
                };
                let Some((_, field)) = LeaseField::ALL.iter().find(|(n, _)| n == key.get_ref())
                else {
                    let names: Vec<&str> = LeaseField::ALL.iter().map(|(n, _)| *n).collect();
                    return Err(self.err(
                        key.span(),
                        p,
                        format!(
                            "unknown lease figure {:?}; expected one of {}",
                            key.get_ref(),
                            names.join(", ")
                        ),
                    ));
                };
                CheckKind::Lease {
                    lease,
                    field: *field,
                    asset,
                    expected: self.amount(value, asset, p)?,
                }
            }
            "credits" => {
                let actor = self.actor(outer, outer_path)?;
                let asset = self.asset(key, p)?;
                CheckKind::Credits {
                    actor,
                    asset,
                    expected: self.amount(value, asset, p)?,
                }
            }
            "commission_owed" => {
                let operator = self.operator(outer, outer_path)?;
                let asset = self.asset(key, p)?;
                CheckKind::CommissionOwed {
                    operator,
                    asset,
                    expected: self.amount(value, asset, p)?,
                }
            }
            "bond" => {
                let avs = self.avs(outer, outer_path)?;
                let asset = self.asset(key, p)?;
                CheckKind::Bond {
                    avs,
                    asset,
                    expected: self.amount(value, asset, p)?,
                }
            }
            _ => {
                let avs = self.avs(outer, outer_path)?;
                let asset = self.asset(key, p)?;
                CheckKind::Sink {
                    avs,
                    asset,
                    expected: self.amount(value, asset, p)?,
                }
            }
        })
    }
}

//! `expect` steps: each check reads the chain through the driver's views and compares it with the file's value.

use super::Result;
use alloy::primitives::U256;
use bulkhead_protocol::Views;

use super::{BURN, Run};
use crate::{
    model::{Check, CheckKind, Holder},
    report::{Expectation, StepOutcome},
    units::{format_percent, format_ratio, format_units},
};

/// One check's result, in words.
pub(super) struct Checked {
    /// What was checked (`slashable value of P`).
    pub what: String,
    /// The file's value, with its unit.
    pub expected: String,
    /// The chain's value, with its unit.
    pub actual: String,
    /// Whether they are equal.
    pub passed: bool,
}

impl Run<'_> {
    /// Runs an `expect` step's checks into `expectations`; the step's outcome counts them.
    pub(super) fn run_checks(
        &mut self,
        step: usize,
        checks: &[Check],
        expectations: &mut Vec<Expectation>,
    ) -> Result<StepOutcome> {
        let (mut passed, mut failed) = (0, 0);
        for check in checks {
            let checked = self.check(&check.kind)?;
            if checked.passed {
                passed += 1;
            } else {
                failed += 1;
            }
            expectations.push(self.expectation(step, &check.loc, checked));
        }
        Ok(StepOutcome::Checked { passed, failed })
    }

    /// An amount of a scenario asset, with its symbol.
    fn amount(&self, asset: usize, raw: U256) -> String {
        let a = &self.sc.assets[asset];
        format!("{} {}", format_units(raw, a.decimals), a.symbol)
    }

    /// A check of an amount in `asset`.
    pub(super) fn amounts(
        &self,
        what: String,
        asset: usize,
        expected: U256,
        actual: U256,
    ) -> Checked {
        Checked {
            what,
            expected: self.amount(asset, expected),
            actual: self.amount(asset, actual),
            passed: actual == expected,
        }
    }

    fn check(&mut self, kind: &CheckKind) -> Result<Checked> {
        let sc = self.sc;
        let pool_asset = |pool: usize| sc.pools[pool].asset;
        Ok(match kind {
            CheckKind::PoolValue { pool, expected }
            | CheckKind::Isolated { pool, expected }
            | CheckKind::Shared { pool, expected } => {
                let (value, isolated, shared) = self.pool_values(*pool)?;
                let (what, actual) = match kind {
                    CheckKind::PoolValue { .. } => ("slashable value", value),
                    CheckKind::Isolated { .. } => ("isolated value", isolated),
                    _ => ("shared stake", shared),
                };
                let what = format!("{what} of {}", sc.pools[*pool].name);
                self.amounts(what, pool_asset(*pool), *expected, actual)
            }
            CheckKind::ReuseRatio { pool, expected } | CheckKind::GuardUsed { pool, expected } => {
                self.check_risk(kind, *pool, *expected)?
            }
            CheckKind::Backing {
                avs,
                pool,
                expected,
            } => {
                let actual = self.backing(*avs, *pool)?;
                let what = format!(
                    "backing of {} in {}",
                    sc.avs[*avs].name, sc.pools[*pool].name
                );
                self.amounts(what, pool_asset(*pool), *expected, actual)
            }
            CheckKind::Position {
                staker,
                pool,
                expected,
            } => {
                let actual = self
                    .position(staker, *pool)?
                    .map_or(U256::ZERO, |(_, value)| value);
                let what = format!("{staker}'s position in {}", sc.pools[*pool].name);
                self.amounts(what, pool_asset(*pool), *expected, actual)
            }
            CheckKind::Escrow {
                staker,
                pool,
                expected,
            } => {
                let actual = self.escrow(staker, *pool)?.1;
                let what = format!(
                    "{staker}'s unclaimed withdrawals from {}",
                    sc.pools[*pool].name
                );
                self.amounts(what, pool_asset(*pool), *expected, actual)
            }
            CheckKind::Balance {
                holder,
                asset,
                expected,
            } => {
                let (name, address) = match holder {
                    Holder::Actor(name) => (name.clone(), self.actor(name)),
                    Holder::Burn => ("burn".to_string(), BURN),
                    Holder::Vault => ("the vault".to_string(), self.sys.vault),
                };
                let token = self.assets[*asset];
                let actual = self.protocol().balance_of(token, address)?;
                let what = format!("{} balance of {name}", sc.assets[*asset].symbol);
                self.amounts(what, *asset, *expected, actual)
            }
            CheckKind::Sink {
                avs,
                asset,
                expected,
            } => {
                let (token, sink) = (self.assets[*asset], self.avs[*avs].sink);
                let actual = self.protocol().balance_of(token, sink)?;
                let what = format!(
                    "{} in the sink of {}",
                    sc.assets[*asset].symbol, sc.avs[*avs].name
                );
                self.amounts(what, *asset, *expected, actual)
            }
            CheckKind::Rating { avs, expected } => self.check_rating(*avs, *expected)?,
            CheckKind::RiskWeight { avs, expected } => self.check_risk_weight(*avs, *expected)?,
            CheckKind::BondShort { avs, expected } => self.check_bond_short(*avs, *expected)?,
            CheckKind::Bond {
                avs,
                asset,
                expected,
            } => self.check_bond(*avs, *asset, *expected)?,
            CheckKind::Claimable { .. }
            | CheckKind::Lease { .. }
            | CheckKind::Credits { .. }
            | CheckKind::CommissionOwed { .. } => self.check_market(kind)?,
            CheckKind::Event { name, present } => {
                let found = self.last_events.iter().filter(|e| &e.name == name).count();
                Checked {
                    what: format!("event {name} in the previous step"),
                    expected: if *present { "emitted" } else { "not emitted" }.to_string(),
                    actual: if found == 0 {
                        "not emitted".to_string()
                    } else {
                        format!("emitted {found}x")
                    },
                    passed: (found > 0) == *present,
                }
            }
        })
    }

    /// `reuse_ratio` and `guard_used`: ratios of the pool's risk view (zero before the pool exists).
    fn check_risk(&mut self, kind: &CheckKind, pool: usize, expected: U256) -> Result<Checked> {
        let risk = match self.pool_id(pool)? {
            Some(id) => Some(self.protocol().pool_risk(id)?),
            None => None,
        };
        let name = &self.sc.pools[pool].name;
        Ok(if matches!(kind, CheckKind::ReuseRatio { .. }) {
            let actual = risk.map_or(U256::ZERO, |r| r.reuseRatioWad);
            Checked {
                what: format!("reuse ratio of {name}"),
                expected: format_ratio(expected),
                actual: format_ratio(actual),
                passed: actual == expected,
            }
        } else {
            let actual = risk.map_or(U256::ZERO, |r| r.guardUsedWad);
            Checked {
                what: format!("cascade guard used in {name}"),
                expected: format_percent(expected),
                actual: format_percent(actual),
                passed: actual == expected,
            }
        })
    }

    // ------------------------------------------------------------------ views by the file's names

    /// (value, isolated, shared stake) of a pool, zero before it exists.
    pub(super) fn pool_values(&mut self, pool: usize) -> Result<(U256, U256, U256)> {
        let Some(id) = self.pool_id(pool)? else {
            return Ok((U256::ZERO, U256::ZERO, U256::ZERO));
        };
        let risk = self.protocol().pool_risk(id)?;
        Ok((risk.value, risk.totalIsolated, risk.sharedStake))
    }

    /// What the AVS can slash from the pool now (zero before the pool exists).
    pub(super) fn backing(&mut self, avs: usize, pool: usize) -> Result<U256> {
        let Some(id) = self.pool_id(pool)? else {
            return Ok(U256::ZERO);
        };
        let avs_id = self.avs[avs].id;
        Ok(self.protocol().slashable_backing(avs_id, id)?)
    }

    /// A tier's amounts are base shares: their value in the base asset.
    fn in_base_asset(&mut self, pool: usize, amount: U256) -> Result<U256> {
        match self.sc.pools[pool].tier_of {
            None => Ok(amount),
            Some(base) => match self.pool_id(base)? {
                Some(base_id) => Ok(self.protocol().convert_to_assets(base_id, amount)?),
                None => Ok(U256::ZERO),
            },
        }
    }

    /// (shares, value in the pool's asset) of a staker's position, if it has one.
    pub(super) fn position(&mut self, staker: &str, pool: usize) -> Result<Option<(U256, U256)>> {
        let Some(id) = self.pool_id(pool)? else {
            return Ok(None);
        };
        let address = self.actor(staker);
        let positions = self.protocol().positions(address)?;
        let Some(position) = positions.iter().find(|p| p.poolId == id) else {
            return Ok(None);
        };
        let value = self.in_base_asset(pool, position.value)?;
        Ok(Some((position.shares, value)))
    }

    /// (count, value in the pool's asset) of a staker's unclaimed withdrawals from a pool.
    pub(super) fn escrow(&mut self, staker: &str, pool: usize) -> Result<(usize, U256)> {
        let Some(id) = self.pool_id(pool)? else {
            return Ok((0, U256::ZERO));
        };
        let address = self.actor(staker);
        let (views, _) = self
            .protocol()
            .withdrawals(address, U256::ZERO, U256::from(u32::MAX))?;
        let (mut count, mut value) = (0, U256::ZERO);
        for w in views.iter().filter(|w| w.poolId == id && !w.claimed) {
            count += 1;
            value += w.value;
        }
        Ok((count, self.in_base_asset(pool, value)?))
    }
}

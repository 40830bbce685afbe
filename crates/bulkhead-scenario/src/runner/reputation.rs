//! The reputation layer in a scenario (`[reputation]`, issue 16): turning it on in the preamble, the AVSs' setup
//! bonds and standing, the `bond` / `unbond` / `checkpoint` / `refresh_standing` / `reprice` steps and the
//! `rating` / `risk_weight` / `bond_short` / `bond` checks.

use alloy::primitives::{Address, U256};
use bulkhead_protocol::{Protocol, Views, reputation::Parameter};

use super::{AVS_ADMIN, Exec, Result, Run, SettingUp, check::Checked, located};

/// Most pools one `refreshStanding` measures (`Reputation.MAX_WEIGHTED_POOLS`).
const MAX_POOLS_PER_REFRESH: usize = 64;

use crate::{
    model::Step,
    report::{OperatorReputation, ReputationSummary},
    standing::{BondAsset, avs_reputation, operator_reputation, tenths},
    units::{format_percent, format_units},
};

impl Run<'_> {
    /// Turns reputation on before any AVS registers (so each starts bond-short, at the floor) and gives each asset
    /// of `[reputation]` its evidence unit, waiting out the parameter delay.
    pub(super) fn setup_reputation(
        engine: &mut bulkhead_evm::Engine,
        sys: bulkhead_evm::System,
        sc: &crate::model::Scenario,
        assets: &[Address],
    ) -> Result<()> {
        let Some(units) = &sc.reputation else {
            return Ok(());
        };
        let keeper = engine.actor(super::KEEPER);
        let mut p = Protocol::new(engine, sys);
        p.enable_reputation()
            .map_err(|e| located(sc, "reputation", e.into()))?;
        if units.is_empty() {
            return Ok(());
        }
        for (asset, unit) in units {
            p.queue_change(Parameter::EvidenceUnit, assets[*asset], *unit)
                .map_err(|e| located(sc, "reputation", e.into()))?;
        }
        let delay = p.parameter_delay()?;
        p.warp(delay);
        for (asset, _) in units {
            p.apply_change(keeper, Parameter::EvidenceUnit, assets[*asset])
                .map_err(|e| located(sc, "reputation", e.into()))?;
        }
        Ok(())
    }

    /// Each AVS's setup bond, then a first standing (no backing yet: not short once it has a bond).
    pub(super) fn setup_bonds(&mut self) -> Result<()> {
        let sc = self.sc;
        if sc.reputation.is_none() {
            return Ok(());
        }
        let admin = self.engine.actor(AVS_ADMIN);
        for (i, def) in sc.avs.iter().enumerate() {
            let id = self.avs[i].id;
            for (asset, amount) in &def.bond {
                let token = self.assets[*asset];
                self.protocol()
                    .mint_and_bond(admin, id, token, *amount)
                    .setting_up(|| format!("bonding AVS {}", def.name))?;
            }
            if !def.bond.is_empty() {
                let pools = self.known_pools()?;
                self.refresh(admin, i, pools)
                    .setting_up(|| format!("the standing of AVS {}", def.name))?;
            }
        }
        Ok(())
    }

    /// After the preamble's allocations: every bonded AVS's standing, its backing counted.
    pub(super) fn standing_after_allocations(&mut self) -> Result<()> {
        let sc = self.sc;
        if sc.reputation.is_none() {
            return Ok(());
        }
        let admin = self.engine.actor(AVS_ADMIN);
        for (i, def) in sc.avs.iter().enumerate() {
            if !def.bond.is_empty() {
                let pools = self.known_pools()?;
                self.refresh(admin, i, pools)
                    .setting_up(|| format!("the standing of AVS {}", def.name))?;
            }
        }
        Ok(())
    }

    /// Every pool of the scenario that exists: what a watcher measures (a pool without backing measures 0, which
    /// also clears an earlier measure once the backing has left).
    fn known_pools(&mut self) -> Result<Vec<U256>> {
        let mut pools = Vec::new();
        for pool in 0..self.sc.pools.len() {
            if let Some(pool_id) = self.pool_id(pool)? {
                pools.push(pool_id);
            }
        }
        Ok(pools)
    }

    /// `refreshStanding` from `from`, measuring `pools` (in calls of at most `MAX_WEIGHTED_POOLS`).
    fn refresh(
        &mut self,
        from: Address,
        avs: usize,
        pools: Vec<U256>,
    ) -> std::result::Result<bulkhead_protocol::Sent<()>, bulkhead_protocol::ProtocolError> {
        let id = self.avs[avs].id;
        let mut chunks = pools.chunks(MAX_POOLS_PER_REFRESH);
        let mut sent = self
            .protocol()
            .refresh_standing(from, id, chunks.next().unwrap_or(&[]))?;
        for chunk in chunks {
            sent = self.protocol().refresh_standing(from, id, chunk)?;
        }
        Ok(sent)
    }

    pub(super) fn bond_step(
        &mut self,
        exec: &mut Exec,
        (avs, asset): (usize, usize),
        amount: U256,
        by: Option<&str>,
    ) -> Result<String> {
        let from = self.engine.actor(by.unwrap_or(AVS_ADMIN));
        let (id, token) = (self.avs[avs].id, self.assets[asset]);
        exec.main(|| self.protocol().mint_and_bond(from, id, token, amount))?;
        Ok(format!(
            "{} bonds {} {}",
            self.sc.avs[avs].name,
            format_units(amount, self.sc.assets[asset].decimals),
            self.sc.assets[asset].symbol
        ))
    }

    pub(super) fn unbond_step(
        &mut self,
        exec: &mut Exec,
        (avs, asset): (usize, usize),
        amount: U256,
    ) -> Result<String> {
        let admin = self.engine.actor(AVS_ADMIN);
        let (id, token) = (self.avs[avs].id, self.assets[asset]);
        exec.main(|| {
            self.protocol()
                .queue_bond_withdrawal(admin, id, token, amount)
        })?;
        Ok(format!(
            "{} queues a withdrawal of {} {} of its bond",
            self.sc.avs[avs].name,
            format_units(amount, self.sc.assets[asset].decimals),
            self.sc.assets[asset].symbol
        ))
    }

    pub(super) fn checkpoint_step(
        &mut self,
        step: &Step,
        exec: &mut Exec,
        (avs, operator): (Option<usize>, Option<&str>),
        pool: usize,
        by: Option<&str>,
    ) -> Result<String> {
        let pool_id = self.require_pool(pool, step.loc_of("pool"))?;
        let pool_name = &self.sc.pools[pool].name;
        match (avs, operator) {
            (Some(avs), _) => {
                let from = self.engine.actor(by.unwrap_or(AVS_ADMIN));
                let id = self.avs[avs].id;
                exec.main(|| self.protocol().checkpoint_avs(from, id, pool_id))?;
                let rating = self.protocol().avs_record(id)?.ratingWad;
                Ok(format!(
                    "{} closes its epoch on {pool_name}: rating {}",
                    self.sc.avs[avs].name,
                    format_percent(rating)
                ))
            }
            (None, Some(operator)) => {
                let subject = self.engine.actor(operator);
                let from = by.map_or(subject, |b| self.engine.actor(b));
                exec.main(|| self.protocol().checkpoint_operator(from, subject, pool_id))?;
                let rating = self.protocol().operator_record(subject)?.ratingWad;
                Ok(format!(
                    "{operator} closes its epoch on {pool_name}: rating {}",
                    format_percent(rating)
                ))
            }
            (None, None) => unreachable!("the loader requires avs or operator"),
        }
    }

    pub(super) fn refresh_standing_step(
        &mut self,
        exec: &mut Exec,
        avs: usize,
        by: Option<&str>,
    ) -> Result<String> {
        let from = self.engine.actor(by.unwrap_or(AVS_ADMIN));
        let pools = self.known_pools()?;
        exec.main(|| self.refresh(from, avs, pools))?;
        let id = self.avs[avs].id;
        let standing = self.protocol().avs(id)?;
        Ok(format!(
            "{}'s standing: risk weight {}x{}",
            self.sc.avs[avs].name,
            tenths(standing.riskWeightTenths),
            if standing.bondShort {
                ", bond short: no new backing"
            } else {
                ""
            }
        ))
    }

    pub(super) fn reprice_step(
        &mut self,
        step: &Step,
        exec: &mut Exec,
        pool: usize,
    ) -> Result<String> {
        let pool_id = self.require_pool(pool, step.loc_of("pool"))?;
        let keeper = self.engine.actor(super::KEEPER);
        let ids: Vec<u32> = self.avs.iter().map(|a| a.id).collect();
        exec.main(|| self.protocol().apply_pending(keeper, pool_id, &ids))?;
        Ok(format!(
            "{}'s shared allocations re-priced at their AVSs' risk weights",
            self.sc.pools[pool].name
        ))
    }

    /// `rating`, `risk_weight`, `bond_short`: one AVS's reputation and standing.
    pub(super) fn check_rating(&mut self, avs: usize, expected: U256) -> Result<Checked> {
        let id = self.avs[avs].id;
        let actual = self.protocol().avs_record(id)?.ratingWad;
        Ok(Checked {
            what: format!("rating of {}", self.sc.avs[avs].name),
            expected: format_percent(expected),
            actual: format_percent(actual),
            passed: actual == expected,
        })
    }

    pub(super) fn check_risk_weight(&mut self, avs: usize, expected: u8) -> Result<Checked> {
        let id = self.avs[avs].id;
        let actual = self.protocol().avs(id)?.riskWeightTenths;
        Ok(Checked {
            what: format!("risk weight of {}", self.sc.avs[avs].name),
            expected: format!("{}x", tenths(expected)),
            actual: format!("{}x", tenths(actual)),
            passed: actual == expected,
        })
    }

    pub(super) fn check_bond_short(&mut self, avs: usize, expected: bool) -> Result<Checked> {
        let id = self.avs[avs].id;
        let actual = self.protocol().avs(id)?.bondShort;
        Ok(Checked {
            what: format!("bond of {} short of its requirement", self.sc.avs[avs].name),
            expected: expected.to_string(),
            actual: actual.to_string(),
            passed: actual == expected,
        })
    }

    pub(super) fn check_bond(
        &mut self,
        avs: usize,
        asset: usize,
        expected: U256,
    ) -> Result<Checked> {
        let token = self.assets[asset];
        let id = self.avs[avs].id;
        let actual = U256::from(self.protocol().bond_of(id, token)?.available);
        let symbol = &self.sc.assets[asset].symbol;
        let what = format!("{symbol} bond of {}", self.sc.avs[avs].name);
        Ok(self.amounts(what, asset, expected, actual))
    }
}

impl Run<'_> {
    /// Every operator's rating and evidence, for the report.
    pub(super) fn operator_reputations(&mut self) -> Result<Vec<OperatorReputation>> {
        let sc = self.sc;
        let mut out = Vec::new();
        for name in &sc.operators {
            let operator = self.engine.actor(name);
            out.push(operator_reputation(
                &self.protocol(),
                name.clone(),
                operator,
            )?);
        }
        Ok(out)
    }

    /// AVS `avs`'s reputation, standing and bond for the report, and the pools it would push over their cap at the
    /// floor's risk weight.
    pub(super) fn reputation_summary(&mut self, avs: usize) -> Result<ReputationSummary> {
        let assets: Vec<BondAsset> = self
            .sc
            .assets
            .iter()
            .zip(&self.assets)
            .map(|(a, token)| BondAsset {
                symbol: a.symbol.clone(),
                token: *token,
                decimals: a.decimals,
            })
            .collect();
        let mut pools = Vec::new();
        for pool in 0..self.sc.pools.len() {
            if let Some(pool_id) = self.pool_id(pool)? {
                pools.push((self.sc.pools[pool].name.clone(), pool_id));
            }
        }
        let id = self.avs[avs].id;
        Ok(avs_reputation(&self.protocol(), id, &assets, &pools)?)
    }
}

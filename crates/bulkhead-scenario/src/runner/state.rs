//! The final state of a run, for the report: pools, each AVS's backing, stakers' positions, escrow and wallets,
//! and what each sink received.

use super::Result;
use alloy::primitives::{Address, U256};
use bulkhead_contracts::{Mode, mode};
use bulkhead_protocol::Views;
use bulkhead_protocol::views::PoolRisk;

use super::Run;
use crate::{
    model::Sink,
    report::{
        AvsSummary, BackingSummary, EscrowSummary, FinalState, PoolSummary, PositionSummary,
        SinkSummary, StakerSummary, TokenAmount,
    },
    units::{format_percent, format_ratio, format_units},
};

impl Run<'_> {
    pub(super) fn final_state(&mut self) -> Result<FinalState> {
        let pools = self.pool_summaries()?;
        let avs = self.avs_summaries()?;
        let stakers = self.staker_summaries()?;
        let mut sinks = Vec::new();
        for (a, def) in self.sc.avs.iter().enumerate() {
            sinks.push(SinkSummary {
                avs: def.name.clone(),
                holder: self.engine.name_of(self.avs[a].sink),
                balances: self.balances(self.avs[a].sink)?,
            });
        }
        let operators = if self.sc.reputation.is_some() {
            self.operator_reputations()?
        } else {
            Vec::new()
        };
        Ok(FinalState {
            time: self.engine.timestamp() - self.start,
            pools,
            avs,
            stakers,
            sinks,
            operators,
        })
    }

    fn pool_summaries(&mut self) -> Result<Vec<PoolSummary>> {
        let sc = self.sc;
        let mut pools = Vec::new();
        for (i, pool) in sc.pools.iter().enumerate() {
            let asset = &sc.assets[pool.asset];
            let units = |raw: U256| format_units(raw, asset.decimals);
            let id = self.pool_id(i)?;
            let risk = match id {
                Some(id) => Some(self.protocol().pool_risk(id)?),
                None => None,
            };
            let get = |f: fn(&PoolRisk) -> U256| risk.as_ref().map_or(U256::ZERO, f);
            pools.push(PoolSummary {
                name: pool.name.clone(),
                id: id.map(|id| id.to::<u64>()),
                decimals: asset.decimals,
                operator: pool.operator.clone(),
                asset: asset.symbol.clone(),
                tier_of: pool.tier_of.map(|b| sc.pools[b].name.clone()),
                value: units(get(|r| r.value)),
                isolated: units(get(|r| r.totalIsolated)),
                shared_stake: units(get(|r| r.sharedStake)),
                total_shared: units(get(|r| r.totalShared)),
                reuse_ratio: format_ratio(get(|r| r.reuseRatioWad)),
                reuse_ratio_wad: get(|r| r.reuseRatioWad).to_string(),
                reuse_cap: format_ratio(get(|r| r.reuseCapWad)),
                reuse_cap_wad: get(|r| r.reuseCapWad).to_string(),
                guard_used: format_percent(get(|r| r.guardUsedWad)),
                guard_used_wad: get(|r| r.guardUsedWad).to_string(),
            });
        }
        Ok(pools)
    }

    fn avs_summaries(&mut self) -> Result<Vec<AvsSummary>> {
        let sc = self.sc;
        let mut avs = Vec::new();
        for (a, def) in sc.avs.iter().enumerate() {
            let rt = self.avs[a];
            let mut backings = Vec::new();
            for (i, pool) in sc.pools.iter().enumerate() {
                let Some(id) = self.pool_id(i)? else { continue };
                let allocated = self.protocol().allocation(id, rt.id)?.mode;
                let backing = self.backing(a, i)?;
                if allocated == mode::NONE && backing.is_zero() {
                    continue;
                }
                let asset = &sc.assets[pool.asset];
                backings.push(BackingSummary {
                    pool: pool.name.clone(),
                    mode: Mode::from_code(allocated)
                        .unwrap_or(Mode::Shared)
                        .name()
                        .to_string(),
                    backing: format_units(backing, asset.decimals),
                    asset: asset.symbol.clone(),
                });
            }
            avs.push(AvsSummary {
                name: def.name.clone(),
                id: rt.id,
                kind: def.kind.name().to_string(),
                sink: match &def.sink {
                    Sink::Burn => "burn".to_string(),
                    Sink::Actor(name) => name.clone(),
                },
                backings,
                reputation: if sc.reputation.is_some() {
                    Some(self.reputation_summary(a)?)
                } else {
                    None
                },
            });
        }
        Ok(avs)
    }

    fn staker_summaries(&mut self) -> Result<Vec<StakerSummary>> {
        let sc = self.sc;
        let mut stakers = Vec::new();
        for staker in &sc.stakers {
            let mut positions = Vec::new();
            let mut escrow = Vec::new();
            for (i, pool) in sc.pools.iter().enumerate() {
                let asset = &sc.assets[pool.asset];
                if let Some((shares, value)) = self.position(&staker.name, i)?
                    && !(shares.is_zero() && value.is_zero())
                {
                    positions.push(PositionSummary {
                        pool: pool.name.clone(),
                        shares: format_units(shares, asset.decimals),
                        value: format_units(value, asset.decimals),
                        asset: asset.symbol.clone(),
                    });
                }
                let (count, value) = self.escrow(&staker.name, i)?;
                if count > 0 {
                    escrow.push(EscrowSummary {
                        pool: pool.name.clone(),
                        withdrawals: count,
                        value: format_units(value, asset.decimals),
                        asset: asset.symbol.clone(),
                    });
                }
            }
            let address = self.actor(&staker.name);
            let wallet = self.balances(address)?;
            stakers.push(StakerSummary {
                name: staker.name.clone(),
                positions,
                escrow,
                wallet,
            });
        }
        Ok(stakers)
    }

    /// Non-zero balances of every scenario asset.
    fn balances(&mut self, holder: Address) -> Result<Vec<TokenAmount>> {
        let mut out = Vec::new();
        for (i, asset) in self.sc.assets.iter().enumerate() {
            let token = self.assets[i];
            let balance = self.protocol().balance_of(token, holder)?;
            if !balance.is_zero() {
                out.push(TokenAmount {
                    asset: asset.symbol.clone(),
                    amount: format_units(balance, asset.decimals),
                });
            }
        }
        Ok(out)
    }
}

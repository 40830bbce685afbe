//! The security market in a scenario (issue 17): desk pools earn from their first deposit; the `bid`, `ask`,
//! `fill`, `cancel_bid`, `cancel_ask`, `stream`, `claim_rewards`, `withdraw_refunds`, `claim_commission`,
//! `set_commission` and `pay` steps; the `claimable`, `leases`, `credits` and `commission_owed` checks.

use alloy::primitives::{Address, U256};
use bulkhead_protocol::{
    Views,
    market::{AskOrder, BidOrder},
};

use super::{AVS_ADMIN, Exec, KEEPER, Result, Run, check::Checked};
use crate::{
    model::{Action, CheckKind, LeaseField, Step},
    units::{format_duration, format_units},
};

impl Run<'_> {
    /// A desk's pool earns from the moment it exists: its owner turns rewards on after the first deposit.
    pub(super) fn desk_pool_earns(&mut self, exec: &mut Exec, pool: usize) -> Result<()> {
        let name = self.sc.pools[pool].operator.clone();
        let (Some(desk), Some(pool_id)) = (self.desks.get(&name).copied(), self.pool_id(pool)?)
        else {
            return Ok(());
        };
        if exec.revert.is_some() || self.protocol().pool_rewards(pool_id)?.on {
            return Ok(());
        }
        let owner = self.actor(&name);
        exec.prepare(|| self.protocol().desk_enable_rewards(owner, desk, pool_id))?;
        Ok(())
    }

    /// An amount of a scenario asset, with its symbol.
    fn units(&self, asset: usize, raw: U256) -> String {
        let a = &self.sc.assets[asset];
        format!("{} {}", format_units(raw, a.decimals), a.symbol)
    }

    /// The id behind a label of `kind`; a label whose step reverted is an error at the field.
    fn label_id(&self, step: &Step, field: &str, label: &str) -> Result<U256> {
        let known = match field {
            "bid" => &self.bids,
            "ask" => &self.asks,
            _ => &self.leases,
        };
        known.get(label).copied().ok_or_else(|| {
            self.sc
                .error_at(
                    step.loc_of(field),
                    format!("{field} {label:?} was not made (its step reverted)"),
                )
                .into()
        })
    }

    /// Who sends a step: `by`, else `default`.
    fn sender(&mut self, by: Option<&String>, default: &str) -> Address {
        let name = by.map_or(default, String::as_str).to_string();
        self.actor(&name)
    }

    /// The owner of the desk behind a pool (the pool's operator by name).
    fn pool_owner(&mut self, pool: usize) -> Address {
        let name = self.sc.pools[pool].operator.clone();
        self.actor(&name)
    }

    /// Sends one market step; returns what it did, in words.
    pub(super) fn market_step(&mut self, step: &Step, exec: &mut Exec) -> Result<String> {
        let sc = self.sc;
        match &step.action {
            Action::Bid { label, order, by } => {
                let admin = self.sender(by.as_ref(), AVS_ADMIN);
                let bid = BidOrder {
                    avs: self.avs[order.avs].id,
                    asset: self.assets[order.asset],
                    backing: order.backing,
                    mode: order.mode,
                    min_rating_bps: order.min_rating_bps,
                    term: order.term,
                    max_price_bps: order.max_price_bps,
                    max_commission_bps: order.max_commission_bps,
                };
                if let Some(id) = exec.main(|| self.protocol().mint_and_post_bid(admin, &bid))? {
                    self.bids.insert(label.clone(), id);
                }
                Ok(format!(
                    "{} bids for {} of {} backing over {} at up to {}/yr (bid {label})",
                    sc.avs[order.avs].name,
                    self.units(order.asset, order.backing),
                    order.mode.name(),
                    format_duration(order.term),
                    bps(order.max_price_bps.into())
                ))
            }
            Action::Ask {
                label,
                pool,
                capacity,
                mode,
                min_price_bps,
                max_term,
                by,
            } => {
                let pool_id = self.require_pool(*pool, step.loc_of("pool"))?;
                let owner = match by {
                    Some(b) => self.actor(b),
                    None => self.pool_owner(*pool),
                };
                let ask = AskOrder {
                    pool: pool_id,
                    capacity: *capacity,
                    mode: *mode,
                    min_price_bps: *min_price_bps,
                    max_term: *max_term,
                };
                if let Some(id) = exec.main(|| self.protocol().post_ask(owner, &ask))? {
                    self.asks.insert(label.clone(), id);
                }
                Ok(format!(
                    "{} offers {} of {} backing for up to {} at {}/yr or more (ask {label})",
                    sc.pools[*pool].name,
                    self.units(sc.pools[*pool].asset, *capacity),
                    mode.name(),
                    format_duration(*max_term),
                    bps((*min_price_bps).into())
                ))
            }
            Action::Fill {
                label,
                bid,
                ask,
                amount,
                by,
            } => {
                let bid_id = self.label_id(step, "bid", bid)?;
                let ask_id = self.label_id(step, "ask", ask)?;
                let from = match by {
                    Some(b) => self.actor(b),
                    None => {
                        let pool_id = U256::from(self.protocol().ask(ask_id)?.poolId);
                        let desk = self.protocol().pool(pool_id)?.operator;
                        self.protocol().desk_owner(desk)?.unwrap_or(desk)
                    }
                };
                if let Some(id) =
                    exec.main(|| self.protocol().fill(from, bid_id, ask_id, *amount))?
                {
                    self.leases.insert(label.clone(), id);
                    let lease = self.protocol().lease(id)?;
                    return Ok(format!(
                        "{} fills bid {bid} with ask {ask}: lease {label}, {} at {}/yr from {} for {}",
                        self.engine.name_of(from),
                        self.pool_amount(lease.poolId, lease.backing),
                        bps(lease.priceBps.to::<u64>()),
                        self.since_start(lease.start.to::<u64>()),
                        format_duration(lease.end.to::<u64>() - lease.start.to::<u64>()),
                    ));
                }
                Ok(format!("fill bid {bid} with ask {ask}"))
            }
            Action::CancelBid { bid, by } => {
                let id = self.label_id(step, "bid", bid)?;
                let admin = self.sender(by.as_ref(), AVS_ADMIN);
                exec.main(|| self.protocol().cancel_bid(admin, id))?;
                Ok(format!("bid {bid} cancelled"))
            }
            Action::CancelAsk { ask, by } => {
                let id = self.label_id(step, "ask", ask)?;
                let owner = match by {
                    Some(b) => self.actor(b),
                    None => {
                        let pool_id = U256::from(self.protocol().ask(id)?.poolId);
                        let desk = self.protocol().pool(pool_id)?.operator;
                        self.protocol().desk_owner(desk)?.unwrap_or(desk)
                    }
                };
                exec.main(|| self.protocol().cancel_ask(owner, id))?;
                Ok(format!("ask {ask} cancelled"))
            }
            Action::Stream { lease, by } => {
                let id = self.label_id(step, "lease", lease)?;
                let from = self.sender(by.as_ref(), KEEPER);
                let pool = self.protocol().lease(id)?.poolId;
                match exec.main(|| self.protocol().stream(from, id))? {
                    Some((paid, refunded)) => Ok(format!(
                        "lease {lease} streams: {} to the stakers, {} back to the AVS",
                        self.pool_amount(pool, paid),
                        self.pool_amount(pool, refunded)
                    )),
                    None => Ok(format!("lease {lease} streams")),
                }
            }
            Action::ClaimRewards {
                staker,
                pool,
                receiver,
            } => {
                let pool_id = self.require_pool(*pool, step.loc_of("pool"))?;
                let from = self.actor(staker);
                let to = receiver.as_ref().map_or(from, |r| self.engine.actor(r));
                let claimed = exec.main(|| self.protocol().claim_rewards(from, pool_id, to))?;
                Ok(format!(
                    "{staker} claims {} of rewards from {}",
                    self.pool_amount(pool_id, claimed.unwrap_or_default()),
                    sc.pools[*pool].name
                ))
            }
            Action::WithdrawRefunds { asset, by } => {
                let from = self.sender(by.as_ref(), AVS_ADMIN);
                let token = self.assets[*asset];
                let got = exec.main(|| self.protocol().withdraw_credits(from, token, from))?;
                Ok(format!(
                    "{} withdraws {} of refunds",
                    self.engine.name_of(from),
                    self.units(*asset, got.unwrap_or_default())
                ))
            }
            Action::ClaimCommission { operator, asset } => {
                let owner = self.actor(operator);
                let token = self.assets[*asset];
                let got = match self.desks.get(operator).copied() {
                    Some(desk) => exec.main(|| {
                        self.protocol()
                            .desk_claim_commission(owner, desk, token, owner)
                    })?,
                    None => exec.main(|| self.protocol().claim_commission(owner, token, owner))?,
                };
                Ok(format!(
                    "{operator} claims {} of commission",
                    self.units(*asset, got.unwrap_or_default())
                ))
            }
            Action::SetCommission {
                pool,
                bps: commission,
                by,
            } => {
                let pool_id = self.require_pool(*pool, step.loc_of("pool"))?;
                let name = sc.pools[*pool].operator.clone();
                match (self.desks.get(&name).copied(), by) {
                    (Some(desk), None) => {
                        let owner = self.actor(&name);
                        exec.main(|| {
                            self.protocol()
                                .desk_set_commission(owner, desk, pool_id, *commission)
                        })?;
                    }
                    (_, by) => {
                        let from = self.sender(by.as_ref(), &name);
                        exec.main(|| self.protocol().set_commission(from, pool_id, *commission))?;
                    }
                }
                Ok(format!(
                    "{}'s commission set to {} (in effect after the rail's delay)",
                    sc.pools[*pool].name,
                    bps((*commission).into())
                ))
            }
            Action::Pay {
                pool,
                amount,
                max_commission_bps,
                by,
            } => {
                let pool_id = self.require_pool(*pool, step.loc_of("pool"))?;
                let from = self.sender(by.as_ref(), KEEPER);
                let token = self.assets[sc.pools[*pool].asset];
                exec.main(|| {
                    self.protocol()
                        .mint_and_pay(from, token, pool_id, *amount, *max_commission_bps)
                })?;
                Ok(format!(
                    "{} pays {} to the stakers of {} (commission at most {})",
                    self.engine.name_of(from),
                    self.pool_amount(pool_id, *amount),
                    sc.pools[*pool].name,
                    bps((*max_commission_bps).into())
                ))
            }
            _ => unreachable!("market_step is only called for market actions"),
        }
    }

    /// The market's checks.
    pub(super) fn check_market(&mut self, kind: &CheckKind) -> Result<Checked> {
        let sc = self.sc;
        Ok(match kind {
            CheckKind::Claimable {
                staker,
                pool,
                expected,
            } => {
                let actual = match self.pool_id(*pool)? {
                    Some(id) => {
                        let address = self.actor(staker);
                        self.protocol().claimable_rewards(id, address)?
                    }
                    None => U256::ZERO,
                };
                let what = format!("{staker}'s claimable rewards in {}", sc.pools[*pool].name);
                self.amounts(what, sc.pools[*pool].asset, *expected, actual)
            }
            CheckKind::Lease {
                lease,
                field,
                asset,
                expected,
            } => {
                let actual = match self.leases.get(lease).copied() {
                    Some(id) => {
                        let l = self.protocol().lease(id)?;
                        match field {
                            LeaseField::Paid => l.paid,
                            LeaseField::Refunded => l.refunded,
                            LeaseField::Premium => l.premium,
                            LeaseField::Escrowed => l.premium.saturating_sub(l.paid + l.refunded),
                            LeaseField::Backing => l.backing,
                        }
                    }
                    None => U256::ZERO,
                };
                let what = format!("{} of lease {lease}", field.name());
                self.amounts(what, *asset, *expected, actual)
            }
            CheckKind::Credits {
                actor,
                asset,
                expected,
            } => {
                let (address, token) = (self.actor(actor), self.assets[*asset]);
                let actual = self.protocol().market_credits(address, token)?;
                let what = format!("{actor}'s refunds in the market");
                self.amounts(what, *asset, *expected, actual)
            }
            CheckKind::CommissionOwed {
                operator,
                asset,
                expected,
            } => {
                let (address, token) = (self.operator_address(operator), self.assets[*asset]);
                let actual = self.protocol().commission_owed(address, token)?;
                let what = format!("{operator}'s unclaimed commission");
                self.amounts(what, *asset, *expected, actual)
            }
            _ => unreachable!("check_market is only called for market checks"),
        })
    }
}

/// Bps as a percentage: `10%`, `0.5%`.
fn bps(bps: u64) -> String {
    format!("{}%", format_units(U256::from(bps), 2))
}

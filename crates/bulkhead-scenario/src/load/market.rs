//! The security market's steps (issue 17): `bid`, `ask`, `fill`, `cancel_bid`, `cancel_ask`, `stream`,
//! `claim_rewards`, `withdraw_refunds`, `claim_commission`, `set_commission`, `pay`. Orders and leases are named by
//! the `label` of the step that made them; prices and commissions are fractions in whole bps (`"10%"`, `"0.05"`).

use toml::Spanned;

use super::{Loader, Result, list, steps::At};
use crate::{
    model::{Action, BidSpec},
    raw::{RawStep, Scalar},
    units::WAD,
};

/// One bps in WAD.
const BPS_IN_WAD: u64 = WAD / 10_000;

impl Loader<'_> {
    /// A fraction in whole bps (`"10%"` is 1,000).
    fn bps(&self, value: &Spanned<Scalar>, path: &str) -> Result<u64> {
        let wad = self.fraction(value, path)?;
        if wad % BPS_IN_WAD != 0 {
            return Err(self.err(
                value.span(),
                path,
                "prices and commissions are whole bps: a multiple of 0.01%",
            ));
        }
        Ok(wad / BPS_IN_WAD)
    }

    /// A new label of `kind` (`bid`, `ask`, `lease`), refused if an earlier step used it.
    fn new_label(
        &self,
        value: &Spanned<String>,
        path: &str,
        kind: &str,
        taken: &[(String, usize)],
    ) -> Result<String> {
        let label = self.name(value, path)?;
        if taken.iter().any(|(l, _)| *l == label) {
            return Err(self.err(
                value.span(),
                path,
                format!("{kind} label {label:?} is used twice"),
            ));
        }
        Ok(label)
    }

    /// A label an earlier step made, with what it was recorded with.
    fn known_label(
        &self,
        value: &Spanned<String>,
        path: &str,
        kind: &str,
        maker: &str,
        taken: &[(String, usize)],
    ) -> Result<(String, usize)> {
        taken
            .iter()
            .find(|(l, _)| l == value.get_ref())
            .cloned()
            .ok_or_else(|| {
                self.err(
                    value.span(),
                    path,
                    format!(
                        "unknown {kind} {:?}: no earlier {maker} step has this label ({})",
                        value.get_ref(),
                        list(taken.iter().map(|(l, _)| l))
                    ),
                )
            })
    }

    /// The market's steps.
    pub(super) fn market_action(
        &mut self,
        at: &At<'_>,
        r: &RawStep,
        by: Option<String>,
    ) -> Result<Action> {
        Ok(match at.action {
            "bid" => {
                let label = self.new_label(
                    at.req(&r.label, "label")?,
                    &at.p("label"),
                    "bid",
                    &self.bid_labels,
                )?;
                let asset = self.asset(at.req(&r.asset, "asset")?, &at.p("asset"))?;
                let order = BidSpec {
                    avs: self.avs(at.req(&r.avs, "avs")?, &at.p("avs"))?,
                    asset,
                    backing: self.amount(at.req(&r.amount, "amount")?, asset, &at.p("amount"))?,
                    mode: self.mode(at.req(&r.mode, "mode")?, &at.p("mode"))?,
                    term: self.duration(at.req(&r.term, "term")?, &at.p("term"))?,
                    max_price_bps: self
                        .bps(at.req(&r.max_price, "max_price")?, &at.p("max_price"))?
                        as u32,
                    max_commission_bps: match &r.max_commission {
                        Some(v) => self.bps(v, &at.p("max_commission"))? as u16,
                        None => DEFAULT_MAX_COMMISSION_BPS,
                    },
                    min_rating_bps: match &r.min_rating {
                        Some(v) => self.bps(v, &at.p("min_rating"))? as u16,
                        None => 0,
                    },
                };
                self.bid_labels.push((label.clone(), asset));
                Action::Bid { label, order, by }
            }
            "ask" => {
                let label = self.new_label(
                    at.req(&r.label, "label")?,
                    &at.p("label"),
                    "ask",
                    &self.ask_labels,
                )?;
                let pool = self.pool(at.req(&r.pool, "pool")?, &at.p("pool"))?;
                let asset = self.pools[pool].asset;
                let action = Action::Ask {
                    label: label.clone(),
                    pool,
                    capacity: self.amount(at.req(&r.amount, "amount")?, asset, &at.p("amount"))?,
                    mode: self.mode(at.req(&r.mode, "mode")?, &at.p("mode"))?,
                    min_price_bps: self
                        .bps(at.req(&r.min_price, "min_price")?, &at.p("min_price"))?
                        as u32,
                    max_term: self.duration(at.req(&r.max_term, "max_term")?, &at.p("max_term"))?,
                    by,
                };
                self.ask_labels.push((label, pool));
                action
            }
            "fill" => {
                let label = self.new_label(
                    at.req(&r.label, "label")?,
                    &at.p("label"),
                    "lease",
                    &self.lease_labels,
                )?;
                let (bid, asset) = self.known_label(
                    at.req(&r.bid, "bid")?,
                    &at.p("bid"),
                    "bid",
                    "bid",
                    &self.bid_labels,
                )?;
                let (ask, _) = self.known_label(
                    at.req(&r.ask, "ask")?,
                    &at.p("ask"),
                    "ask",
                    "ask",
                    &self.ask_labels,
                )?;
                let amount = self.amount(at.req(&r.amount, "amount")?, asset, &at.p("amount"))?;
                self.lease_labels.push((label.clone(), asset));
                Action::Fill {
                    label,
                    bid,
                    ask,
                    amount,
                    by,
                }
            }
            "cancel_bid" => Action::CancelBid {
                bid: self
                    .known_label(
                        at.req(&r.bid, "bid")?,
                        &at.p("bid"),
                        "bid",
                        "bid",
                        &self.bid_labels,
                    )?
                    .0,
                by,
            },
            "cancel_ask" => Action::CancelAsk {
                ask: self
                    .known_label(
                        at.req(&r.ask, "ask")?,
                        &at.p("ask"),
                        "ask",
                        "ask",
                        &self.ask_labels,
                    )?
                    .0,
                by,
            },
            "stream" => Action::Stream {
                lease: self
                    .known_label(
                        at.req(&r.lease, "lease")?,
                        &at.p("lease"),
                        "lease",
                        "fill",
                        &self.lease_labels,
                    )?
                    .0,
                by,
            },
            "claim_rewards" => Action::ClaimRewards {
                staker: self.staker(at.req(&r.staker, "staker")?, &at.p("staker"))?,
                pool: self.pool(at.req(&r.pool, "pool")?, &at.p("pool"))?,
                receiver: match &r.receiver {
                    None => None,
                    Some(v) => Some(self.actor(v, &at.p("receiver"))?),
                },
            },
            "withdraw_refunds" => Action::WithdrawRefunds {
                asset: self.asset(at.req(&r.asset, "asset")?, &at.p("asset"))?,
                by,
            },
            "claim_commission" => Action::ClaimCommission {
                operator: self.operator(at.req(&r.operator, "operator")?, &at.p("operator"))?,
                asset: self.asset(at.req(&r.asset, "asset")?, &at.p("asset"))?,
            },
            "set_commission" => Action::SetCommission {
                pool: self.pool(at.req(&r.pool, "pool")?, &at.p("pool"))?,
                bps: self.bps(at.req(&r.commission, "commission")?, &at.p("commission"))? as u16,
                by,
            },
            _ => {
                let pool = self.pool(at.req(&r.pool, "pool")?, &at.p("pool"))?;
                let asset = self.pools[pool].asset;
                Action::Pay {
                    pool,
                    amount: self.amount(at.req(&r.amount, "amount")?, asset, &at.p("amount"))?,
                    max_commission_bps: match &r.max_commission {
                        Some(v) => self.bps(v, &at.p("max_commission"))? as u16,
                        None => DEFAULT_MAX_COMMISSION_BPS,
                    },
                    by,
                }
            }
        })
    }
}

/// A bid's or a payment's commission limit when the file names none: the rail's default commission (10%).
const DEFAULT_MAX_COMMISSION_BPS: u16 = 1_000;

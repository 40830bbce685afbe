//! The timeline: each step's action and fields, checked against the names the preamble declared. One function per
//! action; [`ACTION_FIELDS`] says which fields each action takes.

use std::ops::Range;

use toml::Spanned;

use super::{Loader, Result, field, list};
use crate::{
    error::{ScenarioError, Source},
    model::{Action, Amount, AvsKind, Loc, Step},
    raw::RawStep,
};

/// Every action and the fields it takes (besides `action`, `note`, and `expect_revert` on transactions).
pub(crate) const ACTION_FIELDS: [(&str, &[&str]); 31] = [
    ("deposit", &["staker", "pool", "amount"]),
    ("deposit_to_tier", &["staker", "pool", "shares"]),
    (
        "allocate",
        &["pool", "avs", "mode", "fraction", "by", "opt_in"],
    ),
    ("deallocate", &["pool", "avs", "fraction", "by"]),
    ("warp", &["duration"]),
    (
        "queue_withdrawal",
        &["staker", "pool", "shares", "fraction", "label"],
    ),
    ("claim", &["staker", "withdrawal", "receiver"]),
    (
        "request_slash",
        &["avs", "pool", "fraction", "label", "by", "voters"],
    ),
    ("veto", &["avs", "request", "by"]),
    ("execute_slash", &["avs", "request", "by"]),
    ("slash", &["avs", "pool", "fraction", "by"]),
    (
        "double_sign",
        &["avs", "operator", "round", "pools", "signer", "by"],
    ),
    ("opt_in", &["operator", "avs"]),
    ("opt_out", &["operator", "avs"]),
    ("bond", &["avs", "asset", "amount", "by"]),
    ("unbond", &["avs", "asset", "amount"]),
    ("checkpoint", &["avs", "operator", "pool", "by"]),
    ("refresh_standing", &["avs", "by"]),
    ("reprice", &["pool"]),
    (
        "bid",
        &[
            "label",
            "avs",
            "asset",
            "amount",
            "mode",
            "term",
            "max_price",
            "max_commission",
            "min_rating",
            "by",
        ],
    ),
    (
        "ask",
        &[
            "label",
            "pool",
            "amount",
            "mode",
            "min_price",
            "max_term",
            "by",
        ],
    ),
    ("fill", &["label", "bid", "ask", "amount", "by"]),
    ("cancel_bid", &["bid", "by"]),
    ("cancel_ask", &["ask", "by"]),
    ("stream", &["lease", "by"]),
    ("claim_rewards", &["staker", "pool", "receiver"]),
    ("withdraw_refunds", &["asset", "by"]),
    ("claim_commission", &["operator", "asset"]),
    ("set_commission", &["pool", "commission", "by"]),
    ("pay", &["pool", "amount", "max_commission", "by"]),
    (
        "expect",
        &[
            "pool_value",
            "isolated",
            "shared",
            "reuse_ratio",
            "guard_used",
            "rating",
            "risk_weight",
            "bond_short",
            "bond",
            "backing",
            "position",
            "escrow",
            "balance",
            "sink",
            "claimable",
            "leases",
            "credits",
            "commission_owed",
            "events",
            "no_events",
        ],
    ),
];

/// The step being read: its path, action and the span of its `action` value (where a missing field is reported).
pub(super) struct At<'a> {
    src: Source<'a>,
    pub(super) path: String,
    pub(super) action: &'a str,
    pub(super) span: Range<usize>,
}

impl At<'_> {
    /// The path of one of the step's fields.
    pub(super) fn p(&self, name: &str) -> String {
        field(&self.path, name)
    }

    /// The error for a missing field.
    fn need(&self, name: &str) -> ScenarioError {
        self.src.error(
            self.span.clone(),
            &self.path,
            format!("action {:?} needs field `{name}`", self.action),
        )
    }

    /// The field's value, or the error that it is missing.
    pub(super) fn req<'r, T>(
        &self,
        value: &'r Option<Spanned<T>>,
        name: &str,
    ) -> Result<&'r Spanned<T>> {
        value.as_ref().ok_or_else(|| self.need(name))
    }
}

impl Loader<'_> {
    pub(super) fn step(&mut self, index: usize, step: &Spanned<RawStep>) -> Result<Step> {
        let path = format!("steps[{index}]");
        let r = step.get_ref();
        let action_value = self.required(&r.action, &step.span(), &path, "action")?;
        let action = action_value.get_ref().as_str();
        let Some((_, allowed)) = ACTION_FIELDS.iter().find(|(name, _)| *name == action) else {
            let names: Vec<&str> = ACTION_FIELDS.iter().map(|(name, _)| *name).collect();
            return Err(self.err(
                action_value.span(),
                &field(&path, "action"),
                format!(
                    "unknown action {action:?}; expected one of {}",
                    names.join(", ")
                ),
            ));
        };
        let fields = self.step_field_locs(r, &path, action, allowed)?;
        let at = At {
            src: self.src,
            path,
            action,
            span: action_value.span(),
        };
        let expect_revert = match &r.expect_revert {
            None => None,
            Some(e) => Some(self.error_name(e, &at.p("expect_revert"))?),
        };
        let by = match &r.by {
            None => None,
            Some(b) => Some(self.actor(b, &at.p("by"))?),
        };
        let action = self.action(&at, r, by, allowed)?;
        Ok(Step {
            index,
            loc: self.loc(at.span.clone(), &at.path),
            note: r.note.as_ref().map(|n| n.get_ref().clone()),
            expect_revert,
            action,
            fields,
        })
    }

    /// Refuses a field the action does not take; the located fields that are present.
    fn step_field_locs(
        &self,
        r: &RawStep,
        path: &str,
        action: &str,
        allowed: &[&str],
    ) -> Result<Vec<(&'static str, Loc)>> {
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
                    &field(path, name),
                    format!(
                        "not a field of action {action:?} (it takes: {})",
                        allowed.join(", ")
                    ),
                ));
            }
        }
        Ok(spans
            .iter()
            .filter_map(|(name, span)| {
                span.clone()
                    .map(|s| (*name, self.loc(s, &field(path, name))))
            })
            .collect())
    }

    /// The action of a step whose fields are known to belong to it.
    fn action(
        &mut self,
        at: &At<'_>,
        r: &RawStep,
        by: Option<String>,
        allowed: &[&str],
    ) -> Result<Action> {
        Ok(match at.action {
            "deposit" | "deposit_to_tier" => self.deposit(at, r)?,
            "allocate" => Action::Allocate {
                pool: self.pool(at.req(&r.pool, "pool")?, &at.p("pool"))?,
                avs: self.avs(at.req(&r.avs, "avs")?, &at.p("avs"))?,
                mode: self.mode(at.req(&r.mode, "mode")?, &at.p("mode"))?,
                fraction: self.fraction(at.req(&r.fraction, "fraction")?, &at.p("fraction"))?,
                by,
                opt_in: r.opt_in.as_ref().is_none_or(|o| *o.get_ref()),
            },
            "deallocate" => Action::Deallocate {
                pool: self.pool(at.req(&r.pool, "pool")?, &at.p("pool"))?,
                avs: self.avs(at.req(&r.avs, "avs")?, &at.p("avs"))?,
                fraction: match &r.fraction {
                    Some(f) => self.fraction(f, &at.p("fraction"))?,
                    None => 0,
                },
                by,
            },
            "warp" => Action::Warp {
                seconds: self.duration(at.req(&r.duration, "duration")?, &at.p("duration"))?,
            },
            "queue_withdrawal" => self.queue_withdrawal(at, r)?,
            "claim" => self.claim(at, r)?,
            "request_slash" => self.request_slash(at, r, by)?,
            "veto" | "execute_slash" => self.veto_or_execute(at, r, by)?,
            "slash" => self.slash(at, r, by)?,
            "double_sign" => self.double_sign(at, r, by)?,
            "opt_in" | "opt_out" => {
                let operator =
                    self.operator(at.req(&r.operator, "operator")?, &at.p("operator"))?;
                let avs = self.avs(at.req(&r.avs, "avs")?, &at.p("avs"))?;
                if at.action == "opt_in" {
                    Action::OptIn { operator, avs }
                } else {
                    Action::OptOut { operator, avs }
                }
            }
            "bond" | "unbond" | "checkpoint" | "refresh_standing" | "reprice" => {
                self.reputation_action(at, r, by)?
            }
            "bid" | "ask" | "fill" | "cancel_bid" | "cancel_ask" | "stream" | "claim_rewards"
            | "withdraw_refunds" | "claim_commission" | "set_commission" | "pay" => {
                self.market_action(at, r, by)?
            }
            _ => {
                let checks = self.checks(r, &at.path)?;
                if checks.is_empty() {
                    return Err(self.err(
                        at.span.clone(),
                        &at.path,
                        format!(
                            "an expect step needs at least one check ({})",
                            allowed.join(", ")
                        ),
                    ));
                }
                Action::Expect(checks)
            }
        })
    }

    /// `deposit` into a pool of tokens, `deposit_to_tier` into a tier (in base shares).
    fn deposit(&self, at: &At<'_>, r: &RawStep) -> Result<Action> {
        let staker = self.staker(at.req(&r.staker, "staker")?, &at.p("staker"))?;
        let pool_value = at.req(&r.pool, "pool")?;
        let pool = self.pool(pool_value, &at.p("pool"))?;
        let tier = self.pools[pool].tier_of.is_some();
        let refused = match (at.action == "deposit", tier) {
            (true, true) => Some(format!(
                "pool {:?} is a tier: use action \"deposit_to_tier\"",
                pool_value.get_ref()
            )),
            (false, false) => Some(format!(
                "pool {:?} is not a tier (it has no `tier_of`)",
                pool_value.get_ref()
            )),
            _ => None,
        };
        if let Some(message) = refused {
            return Err(self.err(pool_value.span(), &at.p("pool"), message));
        }
        let asset = self.pools[pool].asset;
        Ok(if at.action == "deposit" {
            let amount = self.amount(at.req(&r.amount, "amount")?, asset, &at.p("amount"))?;
            Action::Deposit {
                staker,
                pool,
                amount,
            }
        } else {
            let shares = self.amount(at.req(&r.shares, "shares")?, asset, &at.p("shares"))?;
            Action::DepositToTier {
                staker,
                pool,
                shares,
            }
        })
    }

    fn queue_withdrawal(&mut self, at: &At<'_>, r: &RawStep) -> Result<Action> {
        let staker = self.staker(at.req(&r.staker, "staker")?, &at.p("staker"))?;
        let pool = self.pool(at.req(&r.pool, "pool")?, &at.p("pool"))?;
        let amount = match (&r.shares, &r.fraction) {
            (Some(s), None) => {
                Amount::Shares(self.amount(s, self.pools[pool].asset, &at.p("shares"))?)
            }
            (None, Some(f)) => Amount::Fraction(self.fraction(f, &at.p("fraction"))?),
            (Some(_), Some(f)) => {
                return Err(self.err(
                    f.span(),
                    &at.p("fraction"),
                    "give either `shares` or `fraction` (of the position), not both",
                ));
            }
            (None, None) => return Err(at.need("shares` or `fraction")),
        };
        let label = match &r.label {
            None => None,
            Some(l) => {
                let label = self.name(l, &at.p("label"))?;
                if !self.withdrawal_labels.insert(label.clone()) {
                    return Err(self.err(
                        l.span(),
                        &at.p("label"),
                        format!("withdrawal label {label:?} is used twice"),
                    ));
                }
                Some(label)
            }
        };
        Ok(Action::QueueWithdrawal {
            staker,
            pool,
            amount,
            label,
        })
    }

    fn claim(&self, at: &At<'_>, r: &RawStep) -> Result<Action> {
        let staker = self.staker(at.req(&r.staker, "staker")?, &at.p("staker"))?;
        let withdrawal = match &r.withdrawal {
            None => None,
            Some(w) if !self.withdrawal_labels.contains(w.get_ref()) => {
                return Err(self.err(
                    w.span(),
                    &at.p("withdrawal"),
                    format!(
                        "unknown withdrawal {:?}: no earlier queue_withdrawal step has this label ({})",
                        w.get_ref(),
                        list(&self.withdrawal_labels)
                    ),
                ));
            }
            Some(w) => Some(w.get_ref().clone()),
        };
        let receiver = match &r.receiver {
            None => None,
            Some(v) => Some(self.actor(v, &at.p("receiver"))?),
        };
        Ok(Action::Claim {
            staker,
            withdrawal,
            receiver,
        })
    }

    /// Only veto and committee AVSs request; a committee through its members' votes.
    fn request_slash(&mut self, at: &At<'_>, r: &RawStep, by: Option<String>) -> Result<Action> {
        let avs_value = at.req(&r.avs, "avs")?;
        let avs = self.avs(avs_value, &at.p("avs"))?;
        let kind = self.avs[avs].kind.clone();
        if !matches!(kind, AvsKind::Veto { .. } | AvsKind::Committee { .. }) {
            return Err(self.err(
                avs_value.span(),
                &at.p("avs"),
                format!(
                    "AVS {:?} is {}: only veto and committee AVSs request slashes",
                    avs_value.get_ref(),
                    kind.name()
                ),
            ));
        }
        if let (AvsKind::Committee { .. }, Some(b)) = (&kind, &r.by) {
            return Err(self.err(
                b.span(),
                &at.p("by"),
                "a committee requests through its members' votes: use `voters`",
            ));
        }
        let voters = self.voters(at, r, &kind)?;
        let pool = self.pool(at.req(&r.pool, "pool")?, &at.p("pool"))?;
        let fraction = self.fraction(at.req(&r.fraction, "fraction")?, &at.p("fraction"))?;
        let label = match &r.label {
            None => None,
            Some(l) => {
                let label = self.name(l, &at.p("label"))?;
                if self.request_labels.iter().any(|(x, _)| *x == label) {
                    return Err(self.err(
                        l.span(),
                        &at.p("label"),
                        format!("request label {label:?} is used twice"),
                    ));
                }
                self.request_labels.push((label.clone(), avs));
                Some(label)
            }
        };
        Ok(Action::RequestSlash {
            avs,
            pool,
            fraction,
            label,
            by,
            voters,
        })
    }

    /// A committee's `voters` (at least one); no other AVS has any.
    fn voters(&self, at: &At<'_>, r: &RawStep, kind: &AvsKind) -> Result<Option<Vec<String>>> {
        let Some(v) = &r.voters else {
            return Ok(None);
        };
        if !matches!(kind, AvsKind::Committee { .. }) {
            return Err(self.err(v.span(), &at.p("voters"), "only a committee AVS has voters"));
        }
        let mut out = Vec::new();
        for (j, name) in v.get_ref().iter().enumerate() {
            out.push(self.actor(name, &format!("{}[{j}]", at.p("voters")))?);
        }
        if out.is_empty() {
            return Err(self.err(v.span(), &at.p("voters"), "expected at least one voter"));
        }
        Ok(Some(out))
    }

    /// `veto` and `execute_slash` name a request by label, or take the AVS's latest.
    fn veto_or_execute(&self, at: &At<'_>, r: &RawStep, by: Option<String>) -> Result<Action> {
        let request = match &r.request {
            None => None,
            Some(q) => match self.request_labels.iter().find(|(x, _)| x == q.get_ref()) {
                Some((label, avs)) => Some((label.clone(), *avs)),
                None => {
                    return Err(self.err(
                        q.span(),
                        &at.p("request"),
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
                let avs = self.avs(a, &at.p("avs"))?;
                if avs != *of {
                    return Err(self.err(
                        a.span(),
                        &at.p("avs"),
                        format!(
                            "request {label:?} was filed by AVS {:?}",
                            self.avs[*of].name
                        ),
                    ));
                }
                avs
            }
            (Some(a), None) => self.avs(a, &at.p("avs"))?,
            (None, Some((_, of))) => *of,
            (None, None) => return Err(at.need("avs` or `request")),
        };
        if self.avs[avs].kind.resolver().is_none() {
            let span = r.avs.as_ref().map_or(at.span.clone(), Spanned::span);
            return Err(self.err(
                span,
                &at.p("avs"),
                format!(
                    "AVS {:?} has no veto flow (it is {})",
                    self.avs[avs].name,
                    self.avs[avs].kind.name()
                ),
            ));
        }
        let request = request.map(|(label, _)| label);
        Ok(if at.action == "veto" {
            Action::Veto { avs, request, by }
        } else {
            Action::ExecuteSlash { avs, request, by }
        })
    }

    /// An instant slash; double-sign and committee AVSs slash through their modules.
    fn slash(&self, at: &At<'_>, r: &RawStep, by: Option<String>) -> Result<Action> {
        let avs_value = at.req(&r.avs, "avs")?;
        let avs = self.avs(avs_value, &at.p("avs"))?;
        let how = match self.avs[avs].kind {
            AvsKind::DoubleSign { .. } => Some("\"double_sign\""),
            AvsKind::Committee { .. } => Some("\"request_slash\" and \"execute_slash\""),
            _ => None,
        };
        if let Some(how) = how {
            return Err(self.err(
                avs_value.span(),
                &at.p("avs"),
                format!(
                    "AVS {:?} slashes through its module contract: use action {how}",
                    avs_value.get_ref()
                ),
            ));
        }
        Ok(Action::Slash {
            avs,
            pool: self.pool(at.req(&r.pool, "pool")?, &at.p("pool"))?,
            fraction: self.fraction(at.req(&r.fraction, "fraction")?, &at.p("fraction"))?,
            by,
        })
    }

    fn double_sign(&self, at: &At<'_>, r: &RawStep, by: Option<String>) -> Result<Action> {
        let avs_value = at.req(&r.avs, "avs")?;
        let avs = self.avs(avs_value, &at.p("avs"))?;
        if !matches!(self.avs[avs].kind, AvsKind::DoubleSign { .. }) {
            return Err(self.err(
                avs_value.span(),
                &at.p("avs"),
                format!("AVS {:?} is not a double_sign AVS", avs_value.get_ref()),
            ));
        }
        let round = self.integer(
            at.req(&r.round, "round")?,
            &at.p("round"),
            "a round number (a non-negative integer)",
            0..i64::MAX,
        )?;
        let pools = match &r.pools {
            None => None,
            Some(names) => {
                let mut out = Vec::new();
                for (j, name) in names.get_ref().iter().enumerate() {
                    out.push(self.pool(name, &format!("{}[{j}]", at.p("pools")))?);
                }
                Some(out)
            }
        };
        let signer = match &r.signer {
            None => None,
            Some(s) => Some(self.actor(s, &at.p("signer"))?),
        };
        Ok(Action::DoubleSign {
            avs,
            operator: self.operator(at.req(&r.operator, "operator")?, &at.p("operator"))?,
            round: round as u64,
            pools,
            signer,
            by,
        })
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
        asset,
        bid,
        ask,
        lease,
        term,
        max_term,
        max_price,
        min_price,
        max_commission,
        commission,
        min_rating,
        pool_value,
        isolated,
        shared,
        reuse_ratio,
        guard_used,
        rating,
        risk_weight,
        bond_short,
        bond,
        backing,
        position,
        escrow,
        balance,
        sink,
        claimable,
        leases,
        credits,
        commission_owed,
        events,
        no_events,
    ]
}

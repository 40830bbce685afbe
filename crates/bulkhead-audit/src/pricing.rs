//! Risk-priced security (issue 17): for each AVS, the loss its backers carry if it fails, how likely that is in a
//! year, the premium that would cover it, and beside it what the security market pays; a live lease priced below its
//! AVS's break-even is flagged `underpriced`.
//!
//! The model, exact in rationals (the formula and its assumptions: `docs/market.md`, "Risk pricing in the audit"):
//! - the **loss** L of an AVS is the backing lost when it fails alone, as the chain books it
//!   ([`Bearers::backing_lost`]: its whole backing taken in every base pool, then in every tier, the guard aside);
//! - its **backing** B is what it can slash now, over every pool (the exposure's backing);
//! - its **annual fault probability** p is the prior f (`--fault-rate`, default 1/20) for an AVS without a rating,
//!   and f · (1 − r) for one the reputation layer rates r (the rating is the lower confidence bound of P(an epoch is
//!   clean): 1 − r is the matching upper bound of P(a fault), 1 for an AVS with no record, so f is what an AVS with
//!   no record is assumed to carry);
//! - the **expected annual loss** is E = p · L, and the **break-even premium** 10⁴ · E / B bps of the backing a year
//!   (10⁴ · p when the AVS has no backing yet: a slash can take all of it);
//! - the **market** pays, per live lease (not ended, its term not over), its `priceBps` on its backing; per AVS the
//!   backing-weighted mean price, the premiums, what was paid and refunded. A live lease is **underpriced** when
//!   `priceBps` < the break-even of its AVS.

use alloy::primitives::U256;
use bulkhead_contracts::{WAD, mode};
use bulkhead_protocol::{ProtocolError, Views};
use bulkhead_risk::{
    html::esc,
    number::{self, Exact, Q},
};
use num_bigint::BigInt;
use num_traits::{One, Signed, ToPrimitive, Zero};
use serde::Serialize;

use crate::{AuditError, Bearers, Result, Source, raw};

/// Basis points in one.
const BPS: u32 = 10_000;

/// The prior annual fault probability of an AVS without a rating: the chance, in a year, that its slashes take its
/// whole backing. A probability, from 0 to 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRate(Q);

impl FaultRate {
    /// The default prior, 5% a year: an assumption, not a measurement (see `docs/market.md`).
    pub const DEFAULT: &'static str = "1/20";

    /// Parses `"1/20"`, `"0.05"` or `"0"`; refuses anything outside [0, 1].
    pub fn parse(text: &str) -> Result<Self> {
        let fail = |message: String| AuditError::FaultRate {
            text: text.into(),
            message,
        };
        let q = number::parse(text).map_err(fail)?;
        if q.is_negative() || q > Q::one() {
            return Err(fail(
                "a probability a year is from 0 to 1 (e.g. 1/20 or 0.05)".into(),
            ));
        }
        Ok(Self(q))
    }

    /// The probability.
    pub fn value(&self) -> &Q {
        &self.0
    }
}

impl Default for FaultRate {
    fn default() -> Self {
        Self(Q::new(BigInt::one(), BigInt::from(20)))
    }
}

/// One lease as the market keeps it, amounts in raw units of its asset.
#[derive(Debug, Clone)]
pub(crate) struct Lease {
    id: u64,
    bid: u64,
    pool: U256,
    avs: u32,
    isolated: bool,
    backing: U256,
    price_bps: u32,
    premium: U256,
    paid: U256,
    refunded: U256,
    start: u64,
    end: u64,
    ended: bool,
    /// The commission its payments are charged (the pool's now, capped by the bid's limit); `None` without a rail.
    commission_bps: Option<u16>,
}

/// Every lease of the market `views` reads, with the commission its payments are charged now.
pub(crate) fn read_leases(views: &impl Views) -> Result<Vec<Lease>, ProtocolError> {
    let rail = !views.system_ref().rail.is_zero();
    views
        .all_leases()?
        .into_iter()
        .map(|l| {
            let commission_bps = if rail {
                let (bps, _, _) = views.commission_of(l.poolId)?;
                Some(bps.min(views.bid(l.bidId)?.maxCommissionBps))
            } else {
                None
            };
            Ok(Lease {
                id: l.leaseId.saturating_to(),
                bid: l.bidId.saturating_to(),
                pool: l.poolId,
                avs: l.avsId,
                isolated: l.mode == mode::ISOLATED,
                backing: l.backing,
                price_bps: l.priceBps.saturating_to(),
                premium: l.premium,
                paid: l.paid,
                refunded: l.refunded,
                start: l.start.to::<u64>(),
                end: l.end.to::<u64>(),
                ended: l.ended,
                commission_bps,
            })
        })
        .collect()
}

/// A failed market view as the audit's error.
pub(crate) fn market_error(cause: ProtocolError) -> AuditError {
    AuditError::Market {
        cause: Box::new(cause),
    }
}

/// Where an AVS's fault probability comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultBasis {
    /// The reputation layer's rating r: p = f · (1 − r).
    Rating,
    /// No rating (the layer is off): p = f.
    Prior,
}

/// Where a lease stands at the audited time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LeaseStatus {
    /// Filled; its allocation does not back the AVS yet (it starts after the allocation delay).
    Pending,
    /// Within its term.
    Running,
    /// Its term is over, but no stream has closed it yet.
    Over,
    /// Closed (at its end, by a full slash or by an ejection).
    Ended,
}

impl LeaseStatus {
    /// Pending or running: it is paid for risk still to come.
    pub fn live(self) -> bool {
        matches!(self, Self::Pending | Self::Running)
    }

    fn label(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Over => "over",
            Self::Ended => "ended",
        }
    }
}

/// One AVS: the risk its backers carry, the premium that covers it, and what the market pays.
#[derive(Debug, Clone, Serialize)]
pub struct ServicePricing {
    /// The AVS (scenario name, or `avs-<id>` on a chain).
    pub service: String,
    /// Its id in the manager.
    pub avs_id: u32,
    /// Its rating in WAD (an integer string, as the reputation object writes it); `null` without a rating.
    pub rating_wad: Option<String>,
    /// `rating` (p = f · (1 − r)) or `prior` (p = f).
    pub fault_basis: FaultBasis,
    /// p: the probability, in a year, that its slashes take what it backs.
    pub fault_probability: Exact,
    /// B: its slashable backing now, over every pool.
    pub backing: Exact,
    /// L: what its backers lose if it fails alone (the exposure's backing lost).
    pub loss: Exact,
    /// E = p · L, a year.
    pub expected_annual_loss: Exact,
    /// The break-even premium, 10⁴ · E / B bps of the backing a year (10⁴ · p without backing).
    pub required_bps: Exact,
    /// The lowest whole price (bps a year) that is not underpriced: ⌈required_bps⌉.
    pub required_bps_ceil: u32,
    /// Live leases (pending or running).
    pub live_leases: usize,
    /// Their backing.
    pub leased_backing: Exact,
    /// Their price, weighted by backing (bps a year); `null` without a live lease.
    pub market_bps: Option<Exact>,
    /// What they pay a year: Σ backing · price / 10⁴.
    pub annual_premium: Exact,
    /// Their premiums over their terms.
    pub premium: Exact,
    /// Paid to the pools so far (stakers and commission).
    pub paid: Exact,
    /// Refunded to the AVS so far (backing not provided).
    pub refunded: Exact,
    /// Live leases priced below `required_bps`.
    pub underpriced_leases: usize,
}

/// One lease: its price beside its AVS's break-even.
#[derive(Debug, Clone, Serialize)]
pub struct LeasePricing {
    /// The lease's id.
    pub lease_id: u64,
    /// The bid it filled.
    pub bid_id: u64,
    /// Its AVS.
    pub service: String,
    /// The AVS's id.
    pub avs_id: u32,
    /// Its pool.
    pub pool: String,
    /// The pool's vault id.
    pub pool_id: u64,
    /// `isolated` or `shared`.
    pub mode: &'static str,
    /// Leased backing, in the numeraire.
    pub backing: Exact,
    /// Leased backing, raw units of the pool's asset (an integer string).
    pub backing_raw: String,
    /// Its price, bps of the backing a year.
    pub price_bps: u32,
    /// Its AVS's break-even price.
    pub required_bps: Exact,
    /// price − break-even (negative: underpriced).
    pub margin_bps: Exact,
    /// The commission its payments are charged now (the pool's, capped by the bid's limit); `null` without a rail.
    pub commission_bps: Option<u16>,
    /// What the stakers keep of the price: price · (1 − commission).
    pub stakers_bps: Option<Exact>,
    /// Premium over its term, in the numeraire.
    pub premium: Exact,
    /// Paid so far.
    pub paid: Exact,
    /// Refunded so far.
    pub refunded: Exact,
    /// When its backing starts (seconds).
    pub start: u64,
    /// When its term ends.
    pub end: u64,
    /// Where it stands at the audited time.
    pub status: LeaseStatus,
    /// Pending or running.
    pub live: bool,
    /// Live and priced below its AVS's break-even.
    pub underpriced: bool,
}

/// Risk-priced security for every AVS of the source, and every lease of the market.
#[derive(Debug, Clone, Serialize)]
pub struct RiskPricing {
    /// The numeraire amounts are in (the terms' unit).
    pub unit: String,
    /// f: the prior annual fault probability.
    pub fault_rate: Exact,
    /// Whether the source has a security market (an older deployment file has none: no lease is read).
    pub market: bool,
    /// The chain's time the state was read at (seconds).
    pub now: u64,
    /// Per AVS, in the source's order (the scenario's, or by id on a chain).
    pub services: Vec<ServicePricing>,
    /// Per lease, in id order.
    pub leases: Vec<LeasePricing>,
    /// Live leases priced below their AVS's break-even.
    pub underpriced: usize,
}

/// p: the prior without a rating; f · (1 − r) with a rating r (WAD).
pub fn fault_probability(prior: &FaultRate, rating_wad: Option<&Q>) -> Q {
    match rating_wad {
        Some(r) => {
            let r = r / Q::from_integer(BigInt::from(WAD));
            prior.value() * (Q::one() - r.min(Q::one()).max(Q::zero()))
        }
        None => prior.value().clone(),
    }
}

impl Source {
    /// Prices each AVS's risk from `bearers` (this source's [`Source::bearers`]) and a prior annual fault probability,
    /// and sets every lease's price beside its AVS's break-even.
    pub fn risk_pricing(&self, bearers: &[Bearers], prior: &FaultRate) -> Result<RiskPricing> {
        let bps = Q::from_integer(BigInt::from(BPS));
        let mut services = Vec::new();
        for (name, id) in &self.avs_ids {
            let rating = match self.reputation.iter().find(|(n, _)| n == name) {
                Some((_, r)) => Some((r.rating_wad.clone(), crate::decimal(&r.rating_wad)?)),
                None => None,
            };
            let p = fault_probability(prior, rating.as_ref().map(|(_, q)| q));
            let backing = self.pools.iter().fold(Q::zero(), |acc, pool| {
                acc + pool.backing_of(name) * &pool.unit
            });
            let loss = bearers
                .iter()
                .find(|b| &b.service == name)
                .map_or_else(Q::zero, |b| b.backing_lost.0.clone());
            let expected = &p * &loss;
            let required = if backing.is_zero() {
                &p * &bps
            } else {
                &expected * &bps / &backing
            };
            services.push(ServicePricing {
                service: name.clone(),
                avs_id: *id,
                fault_basis: if rating.is_some() {
                    FaultBasis::Rating
                } else {
                    FaultBasis::Prior
                },
                rating_wad: rating.map(|(text, _)| text),
                fault_probability: Exact(p),
                backing: Exact(backing),
                loss: Exact(loss),
                expected_annual_loss: Exact(expected),
                required_bps_ceil: required.ceil().to_integer().to_u32().unwrap_or(u32::MAX),
                required_bps: Exact(required),
                live_leases: 0,
                leased_backing: Exact::default(),
                market_bps: None,
                annual_premium: Exact::default(),
                premium: Exact::default(),
                paid: Exact::default(),
                refunded: Exact::default(),
                underpriced_leases: 0,
            });
        }
        let mut leases = Vec::new();
        for l in self.leases.iter().flatten() {
            let outside = || AuditError::LeaseOutsideSource {
                lease: l.id,
                pool: l.pool.saturating_to(),
                avs: l.avs,
            };
            let pool = self
                .pools
                .iter()
                .find(|p| p.id == l.pool)
                .ok_or_else(outside)?;
            let s = services
                .iter_mut()
                .find(|s| s.avs_id == l.avs)
                .ok_or_else(outside)?;
            let value = |raw_amount: U256| raw(raw_amount) * &pool.unit;
            let status = if l.ended {
                LeaseStatus::Ended
            } else if self.now < l.start {
                LeaseStatus::Pending
            } else if self.now < l.end {
                LeaseStatus::Running
            } else {
                LeaseStatus::Over
            };
            let price = Q::from_integer(BigInt::from(l.price_bps));
            let backing = value(l.backing);
            let underpriced = status.live() && price < s.required_bps.0;
            let (premium, paid, refunded) = (value(l.premium), value(l.paid), value(l.refunded));
            if status.live() {
                s.live_leases += 1;
                s.leased_backing.0 += &backing;
                s.annual_premium.0 += &backing * &price / &bps;
                s.premium.0 += &premium;
                s.paid.0 += &paid;
                s.refunded.0 += &refunded;
                s.underpriced_leases += usize::from(underpriced);
            }
            leases.push(LeasePricing {
                lease_id: l.id,
                bid_id: l.bid,
                service: s.service.clone(),
                avs_id: l.avs,
                pool: pool.name.clone(),
                pool_id: l.pool.saturating_to(),
                mode: if l.isolated { "isolated" } else { "shared" },
                backing_raw: l.backing.to_string(),
                backing: Exact(backing),
                price_bps: l.price_bps,
                required_bps: s.required_bps.clone(),
                margin_bps: Exact(&price - &s.required_bps.0),
                commission_bps: l.commission_bps,
                stakers_bps: l
                    .commission_bps
                    .map(|c| Exact(&price * (&bps - Q::from_integer(BigInt::from(c))) / &bps)),
                premium: Exact(premium),
                paid: Exact(paid),
                refunded: Exact(refunded),
                start: l.start,
                end: l.end,
                status,
                live: status.live(),
                underpriced,
            });
        }
        for s in &mut services {
            if !s.leased_backing.0.is_zero() {
                s.market_bps = Some(Exact(&s.annual_premium.0 * &bps / &s.leased_backing.0));
            }
        }
        Ok(RiskPricing {
            unit: self.unit.clone(),
            fault_rate: Exact(prior.value().clone()),
            market: self.leases.is_some(),
            now: self.now,
            underpriced: leases.iter().filter(|l| l.underpriced).count(),
            services,
            leases,
        })
    }
}

/// A short rendering for people: the exact decimal when it has at most `digits` decimals, else `≈` and `digits`
/// decimals (`"500"`, `"1.5"`, `"≈433.33"`).
pub fn short(q: &Exact, digits: usize) -> String {
    match q.decimal() {
        Some(d) if d.split_once('.').is_none_or(|(_, f)| f.len() <= digits) => d,
        _ => format!("≈{:.digits$}", q.approx()),
    }
}

/// A probability as a percentage: `"5%"`, `"1.5%"`.
pub fn percent(q: &Exact) -> String {
    format!(
        "{}%",
        short(&Exact(&q.0 * Q::from_integer(BigInt::from(100))), 4)
    )
}

/// `p` with where it comes from: `"5% (prior)"`, `"1.5% (rating 70%)"`.
pub fn fault_label(s: &ServicePricing) -> String {
    let rating = s
        .rating_wad
        .as_deref()
        .and_then(|w| number::parse(w).ok())
        .map(|w| Exact(w / Q::from_integer(BigInt::from(WAD))));
    match rating {
        Some(r) => format!("{} (rating {})", percent(&s.fault_probability), percent(&r)),
        None => format!("{} (prior)", percent(&s.fault_probability)),
    }
}

/// One line per lease status, for a table: `"running"`, `"pending"`.
pub fn status_label(l: &LeasePricing) -> &'static str {
    l.status.label()
}

impl RiskPricing {
    /// The HTML report's section (for [`bulkhead_risk::html::render_with`]): the formula, a table per AVS
    /// (`data-testid="risk-pricing"`) and, when there are leases, one per lease (`data-testid="lease-pricing"`).
    pub fn html(&self) -> String {
        let unit = esc(&self.unit);
        let mut h = format!(
            "<h2>Risk pricing: what the backers carry, and what the market pays</h2><p class=\"caption\">For each \
             service: p, the probability in a year that its slashes take what it backs ({} for a service without a \
             rating; that prior × (1 − rating) with one); the loss if it fails alone; the expected loss a year, p × \
             loss; the break-even premium, expected loss / backing in bps of the backing a year. Beside it, what its \
             live leases pay (their price weighted by backing). A live lease priced below its service's break-even \
             is underpriced. The prior is an assumption, not a measurement.</p>\
             <table data-testid=\"risk-pricing\"><tr><th>service</th><th>fault probability a year</th>\
             <th>backing ({unit})</th><th>lost if it fails alone ({unit})</th><th>expected loss a year ({unit})</th>\
             <th>break-even (bps a year)</th><th>market pays (bps a year)</th><th>paid / premium ({unit})</th>\
             <th>underpriced leases</th></tr>",
            esc(&percent(&self.fault_rate)),
        );
        for s in &self.services {
            let market = s.market_bps.as_ref().map_or_else(
                || "-".to_string(),
                |m| format!("{} on {}", short(m, 2), short(&s.leased_backing, 4)),
            );
            h += &format!(
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\" data-testid=\"required-bps\">{}</td><td class=\"num\">{}</td><td class=\"num\">{} / {}</td>\
                 <td class=\"num{}\">{}</td></tr>",
                esc(&s.service),
                esc(&fault_label(s)),
                esc(&short(&s.backing, 4)),
                esc(&short(&s.loss, 4)),
                esc(&short(&s.expected_annual_loss, 4)),
                esc(&short(&s.required_bps, 2)),
                esc(&market),
                esc(&short(&s.paid, 4)),
                esc(&short(&s.premium, 4)),
                if s.underpriced_leases > 0 { " bad" } else { "" },
                s.underpriced_leases,
            );
        }
        h.push_str("</table>");
        if self.leases.is_empty() {
            let why = if self.market {
                "No lease in the security market yet: nothing is paid for this risk."
            } else {
                "This deployment has no security market (an older deployment file): nothing to compare."
            };
            h += &format!("<p class=\"muted\" data-testid=\"no-leases\">{why}</p>");
            return h;
        }
        h += &format!(
            "<table data-testid=\"lease-pricing\"><tr><th>lease</th><th>service</th><th>pool</th><th>mode</th>\
             <th>backing ({unit})</th><th>price (bps a year)</th><th>break-even (bps a year)</th>\
             <th>stakers keep (bps a year)</th><th>paid / premium ({unit})</th><th>status</th><th>verdict</th></tr>"
        );
        for l in &self.leases {
            let (class, verdict) = match (l.live, l.underpriced) {
                (true, true) => ("bad", "underpriced"),
                (true, false) => ("ok", "covers its risk"),
                (false, _) => ("muted", "no longer live"),
            };
            h += &format!(
                "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{} / {}</td>\
                 <td>{}</td><td class=\"{class}\" data-testid=\"lease-verdict\">{verdict}</td></tr>",
                l.lease_id,
                esc(&l.service),
                esc(&l.pool),
                l.mode,
                esc(&short(&l.backing, 4)),
                l.price_bps,
                esc(&short(&l.required_bps, 2)),
                esc(&l.stakers_bps.as_ref().map_or("-".into(), |b| short(b, 2))),
                esc(&short(&l.paid, 4)),
                esc(&short(&l.premium, 4)),
                status_label(l),
            );
        }
        h.push_str("</table>");
        h
    }
}

//! Ratings, standings and bonds for people (issue 16), read through the driver's views: what a scenario's report and
//! `bulkhead audit` (from a scenario or from a chain) show about each AVS and operator.

use alloy::primitives::{Address, U256};
use bulkhead_contracts::{WAD, mode};
use bulkhead_protocol::{ProtocolError, Views};

use crate::{
    report::{OperatorReputation, ReputationSummary, TokenAmount},
    units::{format_percent, format_units},
};

/// An asset whose bonds are listed: its symbol, token and decimals.
pub struct BondAsset {
    /// The symbol shown.
    pub symbol: String,
    /// The token.
    pub token: Address,
    /// Its decimals.
    pub decimals: u8,
}

/// An operator's rating and evidence, under `name`.
pub fn operator_reputation(
    views: &impl Views,
    name: String,
    operator: Address,
) -> Result<OperatorReputation, ProtocolError> {
    let record = views.operator_record(operator)?;
    Ok(OperatorReputation {
        name,
        rating: percent_2dp(record.ratingWad),
        rating_wad: record.ratingWad.to_string(),
        mean: percent_2dp(record.meanWad),
        mean_wad: record.meanWad.to_string(),
        lower_bound: percent_2dp(record.lowerBoundWad),
        lower_bound_wad: record.lowerBoundWad.to_string(),
        good: format_units(record.goodWad, 18),
        bad: format_units(record.badWad, 18),
    })
}

/// AVS `id`'s rating, standing and bond (in `assets`, those held), and which of `pools` (name, id) it would push
/// over their reuse cap if it fell to the floor's risk weight (each of its shared allocations re-priced at the floor,
/// the others as they are).
pub fn avs_reputation(
    views: &impl Views,
    id: u32,
    assets: &[BondAsset],
    pools: &[(String, U256)],
) -> Result<ReputationSummary, ProtocolError> {
    let record = views.avs_record(id)?;
    let standing = views.avs(id)?;
    let now = views.risk_weight_wad(id)?;
    let fraction = views.required_bond_fraction_wad(id)?;
    let floor = views.risk_weight_floor_wad()?;
    // The manager's tenths, rounded up as `Reputation.riskWeightTenths` rounds them.
    let floor_tenths = floor.div_ceil(U256::from(WAD / 10));
    let mut bonds = Vec::new();
    for asset in assets {
        let bond = U256::from(views.bond_of(id, asset.token)?.available);
        if !bond.is_zero() {
            bonds.push(TokenAmount {
                asset: asset.symbol.clone(),
                amount: format_units(bond, asset.decimals),
            });
        }
    }
    let mut over_cap_at_floor = Vec::new();
    for (name, pool_id) in pools {
        let a = views.allocation(*pool_id, id)?;
        if a.mode != mode::SHARED {
            continue;
        }
        let st = views.pool_state(*pool_id)?;
        let cap = views.reuse_cap_bps(*pool_id)?;
        let committed = U256::from(a.current.max(a.pending));
        let weighted = |tenths: U256| committed * tenths / U256::from(10);
        let at_floor = U256::from(st.sharedWeight) - weighted(U256::from(a.riskWeightTenths))
            + weighted(floor_tenths);
        let limit = U256::from(st.totalWeight - st.isolatedWeight) * cap / U256::from(10_000);
        if at_floor > limit {
            over_cap_at_floor.push(name.clone());
        }
    }
    let wad = |v: U256| format_units(v, 18);
    let now_tenths = u8::try_from(now.div_ceil(U256::from(WAD / 10))).unwrap_or(u8::MAX);
    Ok(ReputationSummary {
        rating: percent_2dp(record.ratingWad),
        rating_wad: record.ratingWad.to_string(),
        mean: percent_2dp(record.meanWad),
        mean_wad: record.meanWad.to_string(),
        lower_bound: percent_2dp(record.lowerBoundWad),
        lower_bound_wad: record.lowerBoundWad.to_string(),
        good: wad(record.goodWad),
        bad: wad(record.badWad),
        risk_weight: format!("{}x", tenths(standing.riskWeightTenths)),
        risk_weight_tenths: standing.riskWeightTenths,
        risk_weight_now: format!("{}x", tenths(now_tenths)),
        risk_weight_now_tenths: now_tenths,
        bond_short: standing.bondShort,
        required_bond_fraction: format_percent(fraction),
        required_bond_fraction_wad: fraction.to_string(),
        bonds,
        over_cap_at_floor,
    })
}

/// A WAD fraction as a percentage to 0.01%, rounded down (the exact value is beside it in WAD): "90.02%".
fn percent_2dp(wad: U256) -> String {
    format_percent(wad - wad % U256::from(WAD / 10_000))
}

/// A weight in tenths as a decimal: 26 -> "2.6".
pub(crate) fn tenths(t: u8) -> String {
    format!("{}.{}", t / 10, t % 10)
}

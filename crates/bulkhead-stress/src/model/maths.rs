//! Integer helpers, as the contracts compute (OpenZeppelin `Math`, Solidity 0.8 checked arithmetic): a fault is the
//! `Panic` revert the EVM raises.

use alloy::{
    primitives::{U256, U512},
    sol_types::Panic,
};
use bulkhead_contracts::WAD;
use bulkhead_evm::ErrorKind;

use super::Rev;

/// `Panic(uint256)`: checked arithmetic underflowed or overflowed, or a division by zero.
pub(super) const PANIC: Rev = ErrorKind::of::<Panic>();

/// Basis points in one (the reuse cap is in basis points).
pub(super) const BPS: u64 = 10_000;

/// A fresh pool's total weight, 1e27.
pub fn unit() -> U256 {
    U256::from(10u64).pow(U256::from(27u64))
}

/// `Math.mulDiv(a, b, d)`: ⌊a·b/d⌋ with a 512-bit product.
pub(super) fn mul_div(a: U256, b: U256, d: U256) -> Result<U256, Rev> {
    if d.is_zero() {
        return Err(PANIC);
    }
    let p: U512 = a.widening_mul(b);
    let q = p / U512::from(d);
    if q > U512::from(U256::MAX) {
        return Err(PANIC);
    }
    Ok(U256::from(q))
}

/// `Math.mulDiv(a, b, d, Rounding.Ceil)`: ⌈a·b/d⌉.
pub(super) fn mul_div_ceil(a: U256, b: U256, d: U256) -> Result<U256, Rev> {
    let q = mul_div(a, b, d)?;
    let p: U512 = a.widening_mul(b);
    Ok(if (p % U512::from(d)).is_zero() {
        q
    } else {
        q + U256::from(1u64)
    })
}

/// `Math.ceilDiv(a, b)`: ⌈a/b⌉.
pub(super) fn ceil_div(a: U256, b: U256) -> U256 {
    if a.is_zero() {
        U256::ZERO
    } else {
        (a - U256::from(1u64)) / b + U256::from(1u64)
    }
}

/// Checked `a - b`: a `Panic` below zero.
pub(super) fn sub(a: U256, b: U256) -> Result<U256, Rev> {
    a.checked_sub(b).ok_or(PANIC)
}

/// 1e18 as a `U256`.
pub(super) fn wad() -> U256 {
    U256::from(WAD)
}

/// `x` as a `U256`.
pub(super) fn u(x: u64) -> U256 {
    U256::from(x)
}

/// `type(uint128).max`: the vault's amounts are stored in 128 bits.
pub(super) fn u128_max() -> U256 {
    U256::from(u128::MAX)
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IStakeVault} from "../../contracts/interfaces/IStakeVault.sol";
import {MockERC20} from "../mocks/MockERC20.sol";
import {VaultFixture} from "../utils/VaultFixture.sol";

/// @notice Rounding of the vault's share accounting, fuzzed for 6-, 8- and 18-decimal assets with amounts in
/// [1, 1e30].
/// @dev Notation: a pool holds A slashable assets over S shares, price p = (A + 1) / (S + 1).
/// - A deposit of d mints s = floor(d / p) shares, so s * p <= d < (s + 1) * p.
/// - Shares worth a price p' pay floor(s * p').
/// - No operation raises p above one: a deposit rounds shares down, a claim rounds assets down, a slash lowers A.
///   Starting from A = S = 0 this keeps A <= S, so p <= 1 in every reachable pool (the invariant suite checks it).
/// - A deposit or a claim never lowers p (the rounding stays in the pool), so a later claim is priced >= p.
/// Hence a deposit of d followed by a claim of all its shares pays out > s * p - 1 > d - p - 1, i.e.
///   loss = d - out < 1 + p <= 2   =>   0 <= loss <= 1 wei,
/// and exactly 0 when A == S (p == 1: s == d and the claim pays s). Each test states the bound it proves.
contract VaultRoundingTest is VaultFixture {
    uint256 internal constant MAX_AMOUNT = 1e30;
    uint256 internal constant WAD = 1e18;

    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");

    /// @dev A pool before the tested deposit: its id (0 if it does not exist yet) and raw totals.
    struct PoolState {
        uint256 id;
        uint256 assets;
        uint256 shares;
    }

    /// @dev The pro-rata slash scenario: stakes, withdrawals, and the slashable total before and after the slash.
    struct SlashCase {
        uint256 a;
        uint256 b;
        uint256 c;
        uint256 poolId;
        uint256 aliceW;
        uint256 carolW;
        uint256 bobShares;
        uint256 total;
        uint256 left;
    }

    // ================================================================== 1. deposit rounding

    function testFuzz_depositRounding_usdc(uint256 existing, uint256 slashWad, uint256 amount) public {
        _depositRounding(usdc, existing, slashWad, amount);
    }

    function testFuzz_depositRounding_wbtc(uint256 existing, uint256 slashWad, uint256 amount) public {
        _depositRounding(wbtc, existing, slashWad, amount);
    }

    function testFuzz_depositRounding_weth(uint256 existing, uint256 slashWad, uint256 amount) public {
        _depositRounding(weth, existing, slashWad, amount);
    }

    /// @dev Proves: s == floor(d * (S + 1) / (A + 1)) exactly (s <= the exact ratio, and s + 1 > it), the preview
    /// `convertToShares` agrees, and the depositor's redeemable value right after is <= d.
    function _depositRounding(MockERC20 asset, uint256 existing, uint256 slashWad, uint256 amount) internal {
        PoolState memory st = _prepare(asset, existing, slashWad);
        amount = _boundDeposit(st, amount);
        uint256 preview = st.id == 0 ? amount : vault.convertToShares(st.id, amount);

        (uint256 poolId, uint256 shares) = _deposit(alice, opA, asset, amount);

        assertEq(shares, preview, "minted != convertToShares preview");
        assertGt(shares, 0, "no shares for a deposit at price <= 1");
        assertLe(shares * (st.assets + 1), amount * (st.shares + 1), "minted more than d * (S+1) / (A+1)");
        assertGt((shares + 1) * (st.assets + 1), amount * (st.shares + 1), "minted less than floor");
        assertLe(vault.convertToAssets(poolId, shares), amount, "new shares redeem for more than deposited");
        assertLe(_positionValue(alice, poolId), amount, "position worth more than deposited");
    }

    // ================================================================== 2. deposit then withdraw everything

    function testFuzz_roundTrip_usdc(uint256 existing, uint256 slashWad, uint256 amount) public {
        _roundTrip(usdc, existing, slashWad, amount);
    }

    function testFuzz_roundTrip_wbtc(uint256 existing, uint256 slashWad, uint256 amount) public {
        _roundTrip(wbtc, existing, slashWad, amount);
    }

    function testFuzz_roundTrip_weth(uint256 existing, uint256 slashWad, uint256 amount) public {
        _roundTrip(weth, existing, slashWad, amount);
    }

    /// @dev Proves, for a pool with existing stake at any price p = (A+1)/(S+1) <= 1 (fuzzed deposit, then a fuzzed
    /// partial slash): out <= d, and d - out < 1 + p, checked exactly as (d - out) * (S+1) < (A+1) + (S+1); with
    /// p <= 1 that is d - out <= 1 wei, and d - out == 0 when A == S.
    /// Why: s = floor(d/p) gives s*p > d - p; the claim is priced at p' >= p (the deposit's own rounding raised it)
    /// and rounds down by < 1, so out > s*p - 1 > d - p - 1. And out <= s*p' <= d because s*(A+1) <= d*(S+1).
    function _roundTrip(MockERC20 asset, uint256 existing, uint256 slashWad, uint256 amount) internal {
        PoolState memory st = _prepare(asset, existing, slashWad);
        amount = _boundDeposit(st, amount);

        (uint256 poolId, uint256 shares) = _deposit(alice, opA, asset, amount);
        uint256 id = _queue(alice, poolId, shares);
        vm.warp(block.timestamp + ESCROW);
        uint256 out = _claimChecked(alice, id);

        assertLe(out, amount, "round trip returned more than deposited");
        uint256 loss = amount - out;
        assertLt(loss * (st.shares + 1), (st.assets + 1) + (st.shares + 1), "loss >= 1 + p");
        assertLe(loss, 1, "round trip lost more than 1 wei");
        if (st.assets == st.shares) assertEq(out, amount, "lost value at price one");
        assertEq(asset.balanceOf(alice), out, "claim not paid to alice");
    }

    // ================================================================== 3. no extraction through round trips

    function testFuzz_noExtraction_usdc(uint256 first, uint256 depth, uint256[5] memory amounts) public {
        _noExtraction(usdc, first, depth, amounts);
    }

    function testFuzz_noExtraction_wbtc(uint256 first, uint256 depth, uint256[5] memory amounts) public {
        _noExtraction(wbtc, first, depth, amounts);
    }

    function testFuzz_noExtraction_weth(uint256 first, uint256 depth, uint256[5] memory amounts) public {
        _noExtraction(weth, first, depth, amounts);
    }

    /// @dev Alice stakes and may be slashed down to first / 2^depth (depth in [0, 100]: share prices of every
    /// magnitude, never a full slash); bob then does five deposit -> withdraw-all round trips of fuzzed sizes.
    /// Proves: every round trip pays bob <= what he put in (so in total too), alice's redeemable value never falls
    /// during bob's trips, and alice finally claims at least what her stake was worth before them (and never more
    /// than she deposited).
    /// FAILS on the current vault, with "matured withdrawal not claimable: Panic(0x11)": once a deep slash has made
    /// shares cheap, bob's trips claim so many shares early (before any settlement) that the pool's uint128
    /// `earlyClaimedShares` accumulator overflows, and every further claim of a matured, unsettled withdrawal in that
    /// pool reverts until the slasher settles it with another slash. With depth <= 20 (no overflow) the value
    /// properties above hold.
    function _noExtraction(MockERC20 asset, uint256 first, uint256 depth, uint256[5] memory amounts) internal {
        first = bound(first, 1, MAX_AMOUNT);
        (uint256 poolId, uint256 aliceShares) = _deposit(alice, opA, asset, first);
        uint256 keep = first >> bound(depth, 0, 19); // 2^-19 > 1e-6: the pool still takes deposits
        if (keep == 0) keep = 1;
        if (keep < first) vault.slash(poolId, first - keep, sink);

        uint256 aliceValue = vault.convertToAssets(poolId, aliceShares);
        uint256 aliceValueBefore = aliceValue;
        uint256 bobIn;
        uint256 bobOut;
        for (uint256 i; i < amounts.length; ++i) {
            (uint256 amount, uint256 out) = _roundTripOf(bob, asset, poolId, amounts[i]);
            assertLe(out, amount, "bob's round trip paid more than he put in");
            bobIn += amount;
            bobOut += out;
            uint256 now_ = vault.convertToAssets(poolId, aliceShares);
            assertGe(now_, aliceValue, "bob's round trip lowered alice's value");
            aliceValue = now_;
        }
        assertLe(bobOut, bobIn, "bob extracted value");

        uint256 id2 = _queue(alice, poolId, aliceShares);
        vm.warp(block.timestamp + ESCROW);
        uint256 aliceOut = _claimChecked(alice, id2);
        assertGe(aliceOut, aliceValueBefore, "alice lost value to bob's round trips");
        assertLe(aliceOut, first, "alice got more than she deposited");
    }

    // ================================================================== 4. partial withdrawals

    function testFuzz_partialWithdrawals_usdc(
        uint256 existing,
        uint256 slashWad,
        uint256 amount,
        uint256[4] memory parts
    ) public {
        _partialWithdrawals(usdc, existing, slashWad, amount, parts);
    }

    function testFuzz_partialWithdrawals_wbtc(
        uint256 existing,
        uint256 slashWad,
        uint256 amount,
        uint256[4] memory parts
    ) public {
        _partialWithdrawals(wbtc, existing, slashWad, amount, parts);
    }

    function testFuzz_partialWithdrawals_weth(
        uint256 existing,
        uint256 slashWad,
        uint256 amount,
        uint256[4] memory parts
    ) public {
        _partialWithdrawals(weth, existing, slashWad, amount, parts);
    }

    /// @dev A deposit split into k <= 5 withdrawals (fuzzed share counts, the last takes the rest), in a pool with
    /// existing stake at any price p <= 1. Proves: sum of claims <= d, and d - sum < p + k, checked exactly as
    /// (d - sum) * (S+1) < (A+1) + k * (S+1); so d - sum <= k wei, and 0 at price one. Why: the shares are worth
    /// > d - p after the deposit; each of the k claims is priced at >= that price (claims never lower it) and rounds
    /// down by < 1, so sum > d - p - k.
    function _partialWithdrawals(
        MockERC20 asset,
        uint256 existing,
        uint256 slashWad,
        uint256 amount,
        uint256[4] memory parts
    ) internal {
        PoolState memory st = _prepare(asset, existing, slashWad);
        amount = _boundDeposit(st, amount);
        (uint256 poolId, uint256 remaining) = _deposit(alice, opA, asset, amount);

        uint256[] memory ids = new uint256[](parts.length + 1);
        uint256 k;
        for (uint256 i; i < parts.length && remaining > 1; ++i) {
            uint256 shares = bound(parts[i], 1, remaining - 1);
            ids[k++] = _queue(alice, poolId, shares);
            remaining -= shares;
        }
        ids[k++] = _queue(alice, poolId, remaining);

        vm.warp(block.timestamp + ESCROW);
        uint256 sum;
        for (uint256 i; i < k; ++i) {
            sum += _claimChecked(alice, ids[i]);
        }
        assertLe(sum, amount, "partial withdrawals paid more than deposited");
        assertLt((amount - sum) * (st.shares + 1), (st.assets + 1) + k * (st.shares + 1), "loss >= p + k");
        assertLe(amount - sum, k, "partial withdrawals lost more than 1 wei each");
        if (st.assets == st.shares) assertEq(sum, amount, "lost value at price one");
    }

    // ================================================================== 5. slashes are pro rata

    function testFuzz_slashProRata_usdc(uint256 a, uint256 b, uint256 c, uint256 fractionWad) public {
        _slashProRata(usdc, a, b, c, fractionWad);
    }

    function testFuzz_slashProRata_wbtc(uint256 a, uint256 b, uint256 c, uint256 fractionWad) public {
        _slashProRata(wbtc, a, b, c, fractionWad);
    }

    function testFuzz_slashProRata_weth(uint256 a, uint256 b, uint256 c, uint256 fractionWad) public {
        _slashProRata(weth, a, b, c, fractionWad);
    }

    /// @dev Carol's withdrawal has matured, alice's (all her stake) is in escrow, bob's stake is active; then a slash
    /// of a fuzzed fraction f (WAD) of the slashable a + b. With S = a + b shares and A' = a + b - amount left, the
    /// exact pro-rata value of x shares is x * A' / S. Proves, for alice's escrow and bob's stake, both as shown right
    /// after the slash and as finally claimed: |value - x * A' / S| < 1 (checked as |value * S - x * A'| < S).
    /// Why: shown value floor(x (A'+1)/(S+1)) exceeds the exact value by x * amount / (S (S+1)) < 1 before the floor;
    /// alice claims first at that price; bob, last, receives exactly A' - alice's claim, which misses his exact value
    /// by alice's error. Carol is not slashed at all and everything the vault held is paid out or slashed.
    function _slashProRata(MockERC20 asset, uint256 a, uint256 b, uint256 c, uint256 fractionWad) internal {
        SlashCase memory k;
        k.a = bound(a, 1, MAX_AMOUNT);
        k.b = bound(b, 1, MAX_AMOUNT);
        k.c = bound(c, 1, MAX_AMOUNT);

        (k.poolId,) = _deposit(carol, opA, asset, k.c);
        k.carolW = _queue(carol, k.poolId, k.c);
        vm.warp(block.timestamp + ESCROW); // carol's withdrawal matures: no longer slashable
        _deposit(alice, opA, asset, k.a);
        k.aliceW = _queue(alice, k.poolId, k.a);
        (, k.bobShares) = _deposit(bob, opA, asset, k.b);
        assertEq(vault.slashableAssets(k.poolId), k.a + k.b, "matured escrow counted as slashable");

        k.total = k.a + k.b;
        uint256 asked = bound(k.total * bound(fractionWad, 1, WAD - 1) / WAD, 1, k.total - 1);
        uint256 amount = vault.slash(k.poolId, asked, sink);
        // The price floor cuts a partial slash only to leave ceil(S / 1e8) of the S = a + b shares' assets.
        assertLe(amount, asked, "slashed more than asked");
        if (amount < asked) assertEq(k.total - amount, (k.total + 1e8 - 1) / 1e8, "floor cut more than needed");
        k.left = k.total - amount;

        uint256 aliceShown = vault.getWithdrawal(k.aliceW).value;
        _assertProRata(aliceShown, k.a, k, "escrow shown");
        _assertProRata(vault.convertToAssets(k.poolId, k.bobShares), k.b, k, "active shown");
        assertEq(vault.getWithdrawal(k.carolW).value, k.c, "matured withdrawal was slashed");

        vm.warp(block.timestamp + ESCROW);
        uint256 aliceOut = _claimChecked(alice, k.aliceW);
        assertEq(aliceOut, aliceShown, "escrow claim != shown value");
        _assertProRata(aliceOut, k.a, k, "escrow claim");

        uint256 bobW = _queue(bob, k.poolId, k.bobShares);
        vm.warp(block.timestamp + ESCROW);
        uint256 bobOut = _claimChecked(bob, bobW);
        _assertProRata(bobOut, k.b, k, "active claim");

        assertEq(_claimChecked(carol, k.carolW), k.c, "matured withdrawal paid less than its value");
        assertEq(aliceOut + bobOut, k.left, "slashed stakers did not share exactly what was left");
        assertEq(asset.balanceOf(address(vault)), 0, "assets stuck in the vault");
    }

    // ================================================================== 6. full slash, then a fresh deposit

    function testFuzz_fullSlashThenDeposit_usdc(uint256 a, uint256 queueWad, uint256 d, uint256 d2) public {
        _fullSlashThenDeposit(usdc, a, queueWad, d, d2);
    }

    function testFuzz_fullSlashThenDeposit_wbtc(uint256 a, uint256 queueWad, uint256 d, uint256 d2) public {
        _fullSlashThenDeposit(wbtc, a, queueWad, d, d2);
    }

    function testFuzz_fullSlashThenDeposit_weth(uint256 a, uint256 queueWad, uint256 d, uint256 d2) public {
        _fullSlashThenDeposit(weth, a, queueWad, d, d2);
    }

    /// @dev Alice stakes, queues a fuzzed part, and the pool is slashed of everything: a new generation at price one.
    /// Proves: the old shares and escrow are worth 0; bob's fresh deposit d mints exactly d shares and he gets back
    /// d (within 1 wei; at price one it is exact); alice's new deposit d2 does not revive her old shares and pays back
    /// d2; nothing is left in the vault.
    function _fullSlashThenDeposit(MockERC20 asset, uint256 a, uint256 queueWad, uint256 d, uint256 d2) internal {
        (uint256 poolId, uint256 oldW) = _fullySlashedPool(asset, a, queueWad);
        d = bound(d, 1, MAX_AMOUNT);
        d2 = bound(d2, 1, MAX_AMOUNT);

        (, uint256 bobShares) = _deposit(bob, opA, asset, d);
        assertEq(bobShares, d, "new generation does not start at price one");
        (, uint256 aliceNew) = _deposit(alice, opA, asset, d2);
        assertEq(_sharesOf(alice, poolId), aliceNew, "old-generation shares revived");

        uint256 bobW = _queue(bob, poolId, bobShares);
        uint256 aliceW = _queue(alice, poolId, aliceNew);
        vm.warp(block.timestamp + ESCROW);
        assertEq(_claimChecked(alice, oldW), 0, "escrow of the ended generation paid out");
        uint256 bobOut = _claimChecked(bob, bobW);
        assertLe(bobOut, d, "new staker got more than deposited");
        assertApproxEqAbs(bobOut, d, 1, "new staker lost more than 1 wei");
        uint256 aliceOut = _claimChecked(alice, aliceW);
        assertLe(aliceOut, d2, "returning staker got more than deposited");
        assertApproxEqAbs(aliceOut, d2, 1, "returning staker lost more than 1 wei");
        assertEq(asset.balanceOf(address(vault)), 0, "assets stuck in the vault");
    }

    /// @dev Alice stakes `a` and queues a fuzzed part of it; then the slasher takes everything slashable.
    function _fullySlashedPool(MockERC20 asset, uint256 a, uint256 queueWad)
        internal
        returns (uint256 poolId, uint256 oldW)
    {
        a = bound(a, 1, MAX_AMOUNT);
        uint256 aliceShares;
        (poolId, aliceShares) = _deposit(alice, opA, asset, a);
        oldW = _queue(alice, poolId, bound(aliceShares * bound(queueWad, 0, WAD) / WAD, 1, aliceShares));

        vault.slash(poolId, vault.slashableAssets(poolId), sink);
        IStakeVault.PoolView memory p = vault.getPool(poolId);
        assertEq(p.generation, 1, "full slash did not start a new generation");
        assertEq(p.slashableAssets, 0, "assets left after a full slash");
        assertEq(p.totalShares, 0, "shares left after a full slash");
        assertEq(vault.getWithdrawal(oldW).value, 0, "escrow of the ended generation has value");
        assertEq(_positionValue(alice, poolId), 0, "position of the ended generation has value");
    }

    // ================================================================== helpers

    /// @dev Carol stakes `existing` (0 = no pool yet), then a slash of a fuzzed fraction < 100% of it: any reachable
    /// price (A+1)/(S+1) in (0, 1] without ending the generation.
    function _prepare(MockERC20 asset, uint256 existing, uint256 slashWad) internal returns (PoolState memory st) {
        existing = bound(existing, 0, MAX_AMOUNT);
        if (existing == 0) return st;
        (st.id,) = _deposit(carol, opA, asset, existing);
        // At most down to 1e-6 of the price: below it the pool takes no new stake (`PoolPriceTooLow`, tested apart).
        uint256 cut = existing * bound(slashWad, 0, WAD - 1e12) / WAD;
        if (cut != 0) vault.slash(st.id, cut, sink);
        st = _state(st.id);
    }

    /// @dev `staker` deposits a bounded `amount` into `poolId`, queues all the new shares and claims them.
    function _roundTripOf(address staker, MockERC20 asset, uint256 poolId, uint256 amount)
        internal
        returns (uint256 deposited, uint256 out)
    {
        deposited = _boundDeposit(_state(poolId), amount);
        (, uint256 shares) = _deposit(staker, opA, asset, deposited);
        uint256 id = _queue(staker, poolId, shares);
        vm.warp(block.timestamp + ESCROW);
        out = _claimChecked(staker, id);
    }

    function _state(uint256 poolId) internal view returns (PoolState memory st) {
        IStakeVault.PoolView memory p = vault.getPool(poolId);
        (st.id, st.assets, st.shares) = (poolId, p.slashableAssets, p.totalShares);
    }

    /// @dev Bounds a deposit to [1, 1e30] and to what the pool's 128-bit share total can still take. The second cap
    /// only bites after a slash has left a pool a tiny fraction of its assets (share inflation, reported separately
    /// and checked by `invariant_poolsKeepWorking`); it is not a rounding matter.
    function _boundDeposit(PoolState memory st, uint256 amount) internal pure returns (uint256) {
        uint256 room = (uint256(type(uint128).max) - st.shares) * (st.assets + 1) / (st.shares + 1);
        return bound(amount, 1, room < MAX_AMOUNT ? room : MAX_AMOUNT);
    }

    /// @dev |value - x * left / total| < 1, in integers.
    function _assertProRata(uint256 value, uint256 x, SlashCase memory k, string memory what) internal pure {
        assertLt(value * k.total, x * k.left + k.total, string.concat(what, ": more than pro rata + 1 wei"));
        assertGt(value * k.total + k.total, x * k.left, string.concat(what, ": less than pro rata - 1 wei"));
    }

    /// @dev Claims a matured withdrawal; a revert fails the test with the vault's error (a matured withdrawal must
    /// always be claimable).
    function _claimChecked(address staker, uint256 id) internal returns (uint256) {
        vm.prank(staker);
        try vault.completeWithdrawal(id, staker) returns (uint256 paid) {
            return paid;
        } catch (bytes memory err) {
            revert(string.concat("matured withdrawal not claimable: ", vm.toString(err)));
        }
    }

    function _positionValue(address staker, uint256 poolId) internal view returns (uint256) {
        IStakeVault.PositionView[] memory ps = vault.positionsOf(staker);
        for (uint256 i; i < ps.length; ++i) {
            if (ps[i].poolId == poolId) return ps[i].value;
        }
        return 0;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {IStakeVault} from "../../contracts/interfaces/IStakeVault.sol";
import {IsolationFixture} from "../utils/IsolationFixture.sol";

/// @notice Hierarchical isolation: base pool (operator A, WETH) -> tier pool (operator B over the base) -> AVS.
/// Expected numbers are derived by hand. Share price is (assets + 1) / (shares + 1); a tier's "assets" are base
/// shares. The recurring scenario: alice and bob each deposit 1000 WETH with A (base: 2000e18 assets, 2000e18 shares),
/// alice moves 400e18 base shares into B's tier; A allocates the base 50% isolated to `baseAvs`, B allocates the tier
/// 50% isolated to `tierAvs`. A 30% slash of the base AVS's 1000e18 backing takes 300e18: base 1700e18 / 2000e18.
/// After it, the base's weights are W = 8.5e26 with 3.5e26 isolated: isolated backing 700e18, shared stake 1000e18.
/// A tier is a pool whose collateral is base shares: its slashes are paid in base shares moved into the sink's base
/// position, so the base pool (totals, price, weights, guard, every staker's value) never moves on a tier slash.
/// Identity used throughout: if assets = r·shares (0 <= r <= 1) and r·x is an integer, ⌊x·(assets+1)/(shares+1)⌋ = r·x.
contract TiersTest is IsolationFixture {
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");
    address internal dave = makeAddr("dave");
    address internal opC = makeAddr("operatorC");
    address internal baseModule = makeAddr("baseModule");
    address internal tierModule = makeAddr("tierModule");
    address internal baseSink = makeAddr("baseSink");
    address internal tierSink = makeAddr("tierSink");

    uint256 internal base;
    uint256 internal tier;
    uint32 internal baseAvs;
    uint32 internal tierAvs;

    function setUp() public override {
        super.setUp();
        vm.prank(opC);
        registry.registerOperator("ipfs://operator-c", makeAddr("keyC"));
        (base,) = _deposit(alice, opA, weth, 1000 ether);
        _deposit(bob, opA, weth, 1000 ether);
        vault.setTierAllowed(base, true);
        _approveTierOperators(base);
        baseAvs = _instantAVS(baseModule, baseSink);
        tierAvs = _instantAVS(tierModule, tierSink);
    }

    // ================================================================== helpers

    function _toTier(address staker, address operator, uint256 baseShares)
        internal
        returns (uint256 tierPoolId, uint256 shares)
    {
        vm.prank(staker);
        (tierPoolId, shares) = vault.depositToTier(base, operator, baseShares);
    }

    /// @dev alice: 400e18 base shares into B's tier; base 50% isolated to baseAvs, tier 50% isolated to tierAvs.
    function _setupTier() internal {
        (tier,) = _toTier(alice, opB, 400e18);
        _allocate(opA, base, baseAvs, IAllocationManager.Mode.Isolated, 0.5e18);
        _allocate(opB, tier, tierAvs, IAllocationManager.Mode.Isolated, 0.5e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
    }

    /// @dev 30% of the base AVS's 1000e18 backing: 300e18 leaves the base pool, whose price becomes 0.85.
    function _baseSlash30() internal {
        assertEq(_slash(baseModule, baseAvs, base, 0.3e18), 300e18);
    }

    function _valueOf(address staker, uint256 poolId) internal view returns (uint256) {
        IStakeVault.PositionView[] memory ps = vault.positionsOf(staker);
        for (uint256 i; i < ps.length; ++i) {
            if (ps[i].poolId == poolId) return ps[i].value;
        }
        return 0;
    }

    function _baseTotals() internal view returns (uint256 assets, uint256 shares) {
        IStakeVault.PoolView memory v = vault.getPool(base);
        return (v.slashableAssets, v.totalShares);
    }

    // ================================================================== depositToTier

    function test_depositToTier_movesBaseShares() public {
        vm.expectEmit(true, true, true, true, address(vault));
        emit IStakeVault.TierDeposited(alice, base, 2, 400e18, 400e18);
        (uint256 t, uint256 shares) = _toTier(alice, opB, 400e18);

        assertEq(t, 2, "new tier pool");
        assertEq(shares, 400e18, "fresh tier mints one share per base share");
        // Base pool: totals and price unchanged, the shares only changed owner.
        IStakeVault.PoolView memory b = vault.getPool(base);
        assertEq(b.slashableAssets, 2000e18);
        assertEq(b.totalShares, 2000e18);
        assertEq(b.sharePrice, 1e18);
        assertEq(_sharesOf(alice, base), 600e18, "alice's base position fell by 400e18");
        assertEq(_sharesOf(bob, base), 1000e18);
        assertEq(_sharesOf(alice, t), 400e18, "tier position minted");
        // The tier pool.
        IStakeVault.PoolView memory tv = vault.getPool(t);
        assertEq(tv.operator, opB);
        assertEq(tv.asset, vault.tierAsset(base));
        assertEq(vault.tierAsset(base), address(uint160(base)));
        assertEq(vault.baseOf(t), base);
        assertEq(vault.baseOf(base), 0);
        assertEq(vault.poolOf(opB, vault.tierAsset(base)), t);
        (address op, uint32 generation, uint256 basePoolId) = vault.poolKey(t);
        assertEq(op, opB);
        assertEq(generation, 0);
        assertEq(basePoolId, base);
        assertEq(vault.slashableAssets(t), 400e18);
        // No token moved.
        assertEq(weth.balanceOf(address(vault)), 2000e18);
        assertEq(vault.getAsset(address(weth)).tracked, 2000e18);
        uint256[] memory bPools = vault.operatorPools(opB);
        assertEq(bPools.length, 1);
        assertEq(bPools[0], t);
    }

    function test_depositToTier_secondDepositJoinsTheSameTier() public {
        (uint256 t,) = _toTier(alice, opB, 400e18);
        (uint256 t2, uint256 shares) = _toTier(bob, opB, 250e18);
        assertEq(t2, t);
        assertEq(shares, 250e18);
        assertEq(vault.slashableAssets(t), 650e18);
        assertEq(_sharesOf(bob, base), 750e18);
        (uint256 assets, uint256 totalShares) = _baseTotals();
        assertEq(assets, 2000e18);
        assertEq(totalShares, 2000e18);
    }

    function test_depositToTier_notAllowedReverts() public {
        // A pool without tiers allowed.
        (uint256 usdcPool,) = _deposit(alice, opA, usdc, 1000e6);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.TierNotAllowed.selector, usdcPool));
        vault.depositToTier(usdcPool, opB, 1);

        // Forbidding tiers over the base stops new tier deposits.
        vault.setTierAllowed(base, false);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.TierNotAllowed.selector, base));
        vault.depositToTier(base, opB, 1);
        assertEq(_sharesOf(alice, base), 1000e18);
    }

    function test_depositToTier_tierOverATierReverts() public {
        (uint256 t,) = _toTier(alice, opB, 400e18);
        // A tier can never become a base: one level only.
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.TierNotAllowed.selector, t));
        vault.setTierAllowed(t, true);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.TierNotAllowed.selector, t));
        vault.depositToTier(t, opC, 100e18);
        assertEq(_sharesOf(alice, t), 400e18);
    }

    function test_depositToTier_insufficientSharesReverts() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.InsufficientShares.selector, 1000e18, 1000e18 + 1));
        vault.depositToTier(base, opB, 1000e18 + 1);
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.InsufficientShares.selector, 0, 1));
        vault.depositToTier(base, opB, 1);
        vm.prank(alice);
        vm.expectRevert(IStakeVault.ZeroAmount.selector);
        vault.depositToTier(base, opB, 0);
        // Shares already moved into the tier cannot be moved twice.
        _toTier(alice, opB, 1000e18);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.InsufficientShares.selector, 0, 1));
        vault.depositToTier(base, opC, 1);
    }

    function test_depositToTier_pausedReverts() public {
        vm.prank(guardian);
        vault.pause();
        vm.prank(alice);
        vm.expectRevert(IStakeVault.DepositsPaused.selector);
        vault.depositToTier(base, opB, 100e18);
        vault.unpause();
        (, uint256 shares) = _toTier(alice, opB, 100e18);
        assertEq(shares, 100e18);
    }

    // ================================================================== valuation and base slashes

    function test_tierBacking_valuedInBaseAssetAndLoweredByBaseSlash() public {
        _setupTier();
        assertEq(vault.slashableAssets(tier), 400e18);
        assertEq(manager.slashableBacking(tierAvs, tier), 200e18);
        assertEq(manager.slashableBacking(baseAvs, base), 1000e18);

        _baseSlash30();
        assertEq(weth.balanceOf(baseSink), 300e18);
        (uint256 a, uint256 s) = _baseTotals();
        assertEq(a, 1700e18);
        assertEq(s, 2000e18);
        // 400e18 base shares at (1700e18 + 1) / (2000e18 + 1): 340e18, the tier lost the same 15% as the base.
        assertEq(vault.slashableAssets(tier), 340e18);
        assertEq(vault.convertToAssets(base, 400e18), 340e18);
        assertEq(manager.slashableBacking(tierAvs, tier), 170e18, "0.5e27 * 340e18 / 1e27");
        IAllocationManager.PoolRisk memory risk = manager.poolRisk(tier);
        assertEq(risk.value, 340e18);
        assertEq(risk.totalIsolated, 170e18);
        // Tier shares still convert 1:1 into base shares: the tier itself was not slashed.
        assertEq(vault.convertToAssets(tier, 100e18), 100e18);
        // Alice's and bob's base positions lost 15%.
        assertEq(_valueOf(alice, base), 510e18);
        assertEq(_valueOf(bob, base), 850e18);
    }

    function test_tierDeposit_afterBaseSlashMintsAtTheTierPrice() public {
        _setupTier();
        _baseSlash30();
        // The tier counts base shares, so a later base-share deposit is neither diluted nor favoured.
        (, uint256 shares) = _toTier(bob, opB, 200e18);
        assertEq(shares, 200e18);
        assertEq(vault.slashableAssets(tier), 510e18, "600e18 base shares * 0.85");
    }

    // ================================================================== tier slashes

    /// @dev Everything a base staker or a base AVS can see of the base pool.
    struct BaseSnapshot {
        uint256 assets;
        uint256 shares;
        uint256 tokens;
        IAllocationManager.PoolState state;
        uint256 guardUsed;
        uint256 bob;
        uint256 alice;
        uint256 baseAvsBacking;
    }

    function _baseSnapshot() internal view returns (BaseSnapshot memory b) {
        (b.assets, b.shares) = _baseTotals();
        b.tokens = weth.balanceOf(address(vault));
        b.state = manager.getPoolState(base);
        b.guardUsed = manager.poolRisk(base).guardUsedWad;
        b.bob = _valueOf(bob, base);
        b.alice = _valueOf(alice, base);
        b.baseAvsBacking = manager.slashableBacking(baseAvs, base);
    }

    function _assertBaseUnchanged(BaseSnapshot memory before) internal view {
        BaseSnapshot memory b = _baseSnapshot();
        assertEq(b.assets, before.assets, "base assets");
        assertEq(b.shares, before.shares, "base shares");
        assertEq(b.tokens, before.tokens, "no token left the vault");
        assertEq(b.state.totalWeight, before.state.totalWeight, "base W");
        assertEq(b.state.isolatedWeight, before.state.isolatedWeight, "base isolated weight");
        assertEq(b.state.sharedWeight, before.state.sharedWeight, "base shared weight");
        assertEq(b.guardUsed, before.guardUsed, "base guard");
        assertEq(b.bob, before.bob, "bob's base value");
        assertEq(b.alice, before.alice, "alice's base value");
        assertEq(b.baseAvsBacking, before.baseAvsBacking, "base AVS backing");
    }

    function test_tierSlash_paysBaseSharesAndLeavesTheBaseUntouched() public {
        _setupTier();
        _baseSlash30();
        BaseSnapshot memory before = _baseSnapshot();
        assertEq(before.tokens, 1700e18);

        // Tier backing 170e18; 50% = 85e18 in the base asset, paid in base shares, rounded down against the AVS:
        // ⌊85e18 · (2000e18 + 1) / (1700e18 + 1)⌋ = 100e18 − 1 (the exact quotient is just below 100e18).
        vm.expectEmit(true, true, true, true, address(vault));
        emit IStakeVault.TierSlashPaid(tier, base, tierSink, 100e18 - 1);
        assertEq(_slash(tierModule, tierAvs, tier, 0.5e18), 85e18);
        assertEq(weth.balanceOf(tierSink), 0, "no token: base shares");
        assertEq(_sharesOf(tierSink, base), 100e18 - 1, "the sink's base position");
        assertEq(_valueOf(tierSink, base), 85e18 - 1);
        _assertBaseUnchanged(before);
        assertEq(vault.getPool(base).sharePrice, 0.85e18);

        assertEq(vault.getPool(tier).slashableAssets, 300e18 + 1, "tier holds 300e18 + 1 base shares");
        assertEq(vault.slashableAssets(tier), 255e18, "300e18 * 0.85: the tier lost exactly the 85e18");
        // The tier stakers took it: alice's 400e18 tier shares now redeem 300e18 + 1 base shares.
        assertEq(vault.convertToAssets(tier, 400e18), 300e18 + 1);
        // Tier allocation: weight cut ⌈1e27 · 85e18 / 340e18⌉ = 2.5e26 -> 2.5e26 of 7.5e26 over 255e18.
        assertEq(manager.slashableBacking(tierAvs, tier), 85e18);
        // The tier's own guard: 85e18 of 340e18.
        assertEq(manager.poolRisk(tier).guardUsedWad, 0.25e18);

        // The sink leaves through the base pool's escrow, at risk from the base's AVSs until then.
        uint256 id = _queue(tierSink, base, 100e18 - 1);
        vm.warp(block.timestamp + ESCROW);
        assertEq(_claim(tierSink, id), 85e18 - 1);
        assertEq(weth.balanceOf(tierSink), 85e18 - 1);
    }

    /// @dev Promise P1 with tiers, per staker: a tier slash never raises the fraction of a base staker's stake that a
    /// base isolated AVS can take (it used to be booked on the base's shared side only, so the remaining stakers
    /// carried the tier holders' part of the isolated compartment).
    function test_tierSlash_neverRaisesABaseStakersIsolatedExposure() public {
        manager.setGuard(1e18, 1 days);
        (tier,) = _toTier(alice, opB, 1000e18);
        _allocate(opA, base, baseAvs, IAllocationManager.Mode.Isolated, 0.5e18);
        _allocate(opB, tier, tierAvs, IAllocationManager.Mode.Shared, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        // The tier takes all of alice's stake, repeatedly after new deposits into the tier.
        assertEq(_slash(tierModule, tierAvs, tier, 1e18), 1000e18);
        assertEq(vault.slashableAssets(base), 2000e18, "the base keeps its value");
        assertEq(manager.slashableBacking(baseAvs, base), 1000e18, "still half of the base");

        // The base isolated AVS takes everything it can: bob loses exactly his allocated half, no more.
        uint256 bobBefore = _valueOf(bob, base);
        assertEq(_slash(baseModule, baseAvs, base, 1e18), 1000e18);
        assertEq(_valueOf(bob, base), bobBefore / 2, "bob lost his allocated 50%");
        assertEq(_valueOf(tierSink, base), 500e18, "the tier's sink, a base holder now, bears the same 50%");
    }

    /// @dev Promise P1 with tiers: a tier's backing is its own fraction of its base shares, not clipped by the base's
    /// shared stake (which a tier slash no longer draws on), and the base's isolated compartment is never touched.
    function test_tierSlash_takesItsFractionOfTheTierAlone() public {
        manager.setGuard(1e18, 1 days);
        (tier,) = _toTier(alice, opB, 400e18);
        _allocate(opA, base, baseAvs, IAllocationManager.Mode.Isolated, 0.9e18);
        _allocate(opB, tier, tierAvs, IAllocationManager.Mode.Isolated, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        assertEq(manager.slashableBacking(tierAvs, tier), 400e18);
        BaseSnapshot memory before = _baseSnapshot();

        assertEq(_slash(tierModule, tierAvs, tier, 1e18), 400e18);
        assertEq(_sharesOf(tierSink, base), 400e18);
        _assertBaseUnchanged(before);
        assertEq(manager.slashableBacking(baseAvs, base), 1800e18, "isolated compartment whole");
        assertEq(vault.slashableAssets(tier), 0, "the tier was emptied");
        assertEq(vault.getPool(tier).generation, 1);
    }

    /// @dev A known limit, pinned: a tier slash's proceeds are base shares, exposed to the base's AVSs exactly as a
    /// base staker's (pro rata, never more) until the sink leaves through the base escrow.
    function test_tierSlashProceeds_bearTheBaseLikeAnyBaseStaker() public {
        _setupTier();
        assertEq(_slash(tierModule, tierAvs, tier, 1e18), 200e18, "half of the tier's 400e18");
        assertEq(_sharesOf(tierSink, base), 200e18, "at price one, exactly 200e18 base shares");
        _baseSlash30();
        assertEq(_valueOf(tierSink, base), 170e18, "15%, like every base staker");
        assertEq(_valueOf(bob, base), 850e18);
    }

    function test_tierSlash_passesItsOwnGuardNotTheBases() public {
        (tier,) = _toTier(alice, opB, 400e18);
        _allocate(opA, base, baseAvs, IAllocationManager.Mode.Shared, 1e18);
        _allocate(opB, tier, tierAvs, IAllocationManager.Mode.Isolated, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        // A 100% base slash of 2000e18 is cut by the default guard (50% per day) to 1000e18.
        assertEq(_slash(baseModule, baseAvs, base, 1e18), 1000e18);
        assertEq(manager.poolRisk(base).guardUsedWad, 0.5e18);
        // Tier: 400e18 base shares at (1000e18 + 1) / (2000e18 + 1) = 200e18.
        assertEq(vault.slashableAssets(tier), 200e18);
        assertEq(manager.slashableBacking(tierAvs, tier), 200e18);

        // The base's guard is full, but a tier slash does not take from the base: the tier's own guard (50% of its
        // 200e18) cuts it to 100e18, which the sink receives as ⌊100e18 · (2000e18 + 1) / (1000e18 + 1)⌋ base shares.
        vm.expectEmit(address(manager));
        emit IAllocationManager.CascadeGuardTripped(tier, tierAvs, 200e18, 100e18);
        assertEq(_slash(tierModule, tierAvs, tier, 1e18), 100e18);
        assertEq(_sharesOf(tierSink, base), 200e18 - 1);
        assertEq(manager.poolRisk(base).guardUsedWad, 0.5e18, "base guard unchanged");
        assertEq(manager.poolRisk(tier).guardUsedWad, 0.5e18);
        (uint256 a,) = _baseTotals();
        assertEq(a, 1000e18);
    }

    function test_tierSlash_roundsBaseSharesPaidDown() public {
        _setupTier();
        _baseSlash30();
        BaseSnapshot memory before = _baseSnapshot();
        uint256 tierBefore = vault.slashableAssets(tier);
        // Fraction 2 wei of 170e18 = 340 wei. 340 · (2000e18 + 1) / (1700e18 + 1) = 399.99..: 399 shares paid.
        assertEq(_slash(tierModule, tierAvs, tier, 2), 340);
        assertEq(_sharesOf(tierSink, base), 399, "rounded down against the AVS, not up to 400");
        assertEq(vault.getPool(tier).slashableAssets, 400e18 - 399);
        // 400 shares would have taken 340.0000..03 wei of value: the tier's neighbours would have lost a wei.
        assertLe(tierBefore - vault.slashableAssets(tier), 340, "the tier lost at most the amount");
        _assertBaseUnchanged(before);
    }

    function testFuzz_tierSlash_neverChangesTheBase(uint64 fraction, uint96 extra) public {
        uint64 f = uint64(bound(fraction, 1, 1e18));
        // An extra base deposit makes the base price an arbitrary ratio.
        uint256 more = bound(extra, 1, 1000 ether);
        _deposit(carol, opA, weth, more);
        _setupTier();
        _baseSlash30Any();
        BaseSnapshot memory before = _baseSnapshot();
        uint256 heldBefore = vault.getPool(tier).slashableAssets;
        uint256 tierBefore = vault.slashableAssets(tier);

        uint256 amount = _slash(tierModule, tierAvs, tier, f);
        _assertBaseUnchanged(before);
        // Paid base shares are ⌊amount · (s0 + 1) / (a0 + 1)⌋ (all of them when the amount is the tier's whole value),
        // all of them out of the tier and into the sink: worth at most the amount, and less by under one share.
        uint256 paid = _sharesOf(tierSink, base);
        assertEq(heldBefore - vault.getPool(tier).slashableAssets, paid);
        assertLe(vault.convertToAssets(base, paid), amount);
        assertGe((paid + 1) * (before.assets + 1), amount * (before.shares + 1));
        // The tier never lost more than the amount, so no neighbour in the tier lost a wei.
        assertGe(vault.slashableAssets(tier) + amount, tierBefore);
    }

    /// @dev The base slash of the fuzz test: the base value is arbitrary there, so only its size is checked.
    function _baseSlash30Any() internal {
        uint256 backing = manager.slashableBacking(baseAvs, base);
        assertEq(_slash(baseModule, baseAvs, base, 0.3e18), backing * 0.3e18 / 1e18);
    }

    // ================================================================== tier withdrawals

    function test_tierWithdrawal_claimCreditsBaseSharesToReceiver() public {
        (tier,) = _toTier(alice, opB, 400e18);
        uint256 id = _queue(alice, tier, 100e18);
        assertEq(id, tier << 64);
        assertEq(_sharesOf(alice, tier), 300e18);
        // Escrowed tier shares stay in the tier's slashable set until maturity.
        assertEq(vault.slashableAssets(tier), 400e18);

        uint48 maturity = uint48(block.timestamp) + ESCROW;
        vm.warp(maturity - 1);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.NotMatured.selector, id, maturity));
        vault.completeWithdrawal(id, carol);

        vm.warp(maturity);
        assertEq(vault.slashableAssets(tier), 300e18, "matured escrow left the slashable set");
        vm.expectEmit(true, true, true, true, address(vault));
        emit IStakeVault.WithdrawalCompleted(id, alice, carol, 100e18);
        vm.prank(alice);
        assertEq(vault.completeWithdrawal(id, carol), 100e18, "paid in base shares");

        assertEq(_sharesOf(carol, base), 100e18, "receiver's base position credited");
        assertEq(_sharesOf(alice, base), 600e18, "claimer's base position unchanged");
        assertEq(_sharesOf(alice, tier), 300e18);
        assertEq(weth.balanceOf(carol), 0, "no token left the vault");
        assertEq(weth.balanceOf(address(vault)), 2000e18);
        (uint256 a, uint256 s) = _baseTotals();
        assertEq(a, 2000e18);
        assertEq(s, 2000e18);
        assertEq(vault.slashableAssets(tier), 300e18);

        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.AlreadyClaimed.selector, id));
        vault.completeWithdrawal(id, carol);

        // The credited base shares leave through the base pool's own escrow.
        uint256 baseId = _queue(carol, base, 100e18);
        vm.warp(block.timestamp + ESCROW);
        assertEq(_claim(carol, baseId), 100e18);
        assertEq(weth.balanceOf(carol), 100e18);
    }

    function test_tierWithdrawal_escrowIsSlashableByTheTierAVS() public {
        _setupTier();
        uint256 id = _queue(alice, tier, 100e18);
        _baseSlash30();
        assertEq(_slash(tierModule, tierAvs, tier, 0.5e18), 85e18);
        // Tier: 300e18 base shares over 400e18 tier shares; the queued 100e18 redeem ⌊100e18 · (300e18+1)/(400e18+1)⌋.
        vm.warp(block.timestamp + ESCROW);
        assertEq(_claim(alice, id), 75e18);
        assertEq(_sharesOf(alice, base), 675e18);
        // Valued at the base price (1615e18 + 1) / (1900e18 + 1): 675e18 * 0.85.
        assertEq(_valueOf(alice, base), 573.75e18);
    }

    function test_tierWithdrawal_maturedBeforeTierSlashIsNotHit() public {
        _setupTier();
        uint256 id = _queue(alice, tier, 100e18);
        _baseSlash30();
        vm.warp(block.timestamp + ESCROW);
        // Matured: the tier's slashable base shares are 300e18, worth 255e18; backing 127.5e18; 50% = 63.75e18,
        // paid with ⌊63.75e18 · (2000e18 + 1) / (1700e18 + 1)⌋ = 75e18 − 1 base shares.
        assertEq(vault.slashableAssets(tier), 255e18);
        assertEq(_slash(tierModule, tierAvs, tier, 0.5e18), 63.75e18);
        assertEq(vault.getPool(tier).slashableAssets, 225e18 + 1);
        assertEq(_sharesOf(tierSink, base), 75e18 - 1);
        (, uint256 s) = _baseTotals();
        assertEq(s, 2000e18, "the base's totals do not move");
        assertEq(_claim(alice, id), 100e18, "matured withdrawal keeps its base shares");
        assertEq(_sharesOf(alice, base), 700e18);
        // The 300e18 tier shares left hold the 225e18 + 1 base shares.
        assertEq(vault.convertToAssets(tier, 300e18), 225e18 + 1);
    }

    function test_tierWithdrawal_redelegateToAnotherOperatorsTier() public {
        (tier,) = _toTier(alice, opB, 400e18);
        uint256 id = _queue(alice, tier, 100e18);
        vm.warp(block.timestamp + ESCROW);

        vm.expectEmit(true, true, true, true, address(vault));
        emit IStakeVault.Redelegated(id, alice, 3, 100e18, 100e18);
        vm.prank(alice);
        (uint256 cTier, uint256 shares) = vault.completeRedelegation(id, opC);

        assertEq(cTier, 3, "C's tier over the same base");
        assertEq(shares, 100e18);
        assertEq(vault.baseOf(cTier), base);
        assertEq(vault.getPool(cTier).operator, opC);
        assertEq(_sharesOf(alice, cTier), 100e18);
        assertEq(_sharesOf(alice, tier), 300e18);
        assertEq(_sharesOf(alice, base), 600e18, "no detour through the base position");
        assertEq(vault.slashableAssets(tier), 300e18);
        assertEq(vault.slashableAssets(cTier), 100e18);
        (uint256 a, uint256 s) = _baseTotals();
        assertEq(a, 2000e18);
        assertEq(s, 2000e18);
        assertEq(weth.balanceOf(address(vault)), 2000e18);

        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.AlreadyClaimed.selector, id));
        vault.completeRedelegation(id, opC);
    }

    function test_tierWithdrawal_redelegateIntoASlashedTierAtItsPrice() public {
        _setupTier();
        _baseSlash30();
        assertEq(_slash(tierModule, tierAvs, tier, 0.5e18), 85e18);
        // B's tier: 300e18 + 1 base shares over 400e18 tier shares. Bob moves 30e18 base shares via C's tier into it.
        (uint256 cTier,) = _toTier(bob, opC, 30e18);
        uint256 id = _queue(bob, cTier, 30e18);
        vm.warp(block.timestamp + ESCROW);
        vm.prank(bob);
        (uint256 to, uint256 shares) = vault.completeRedelegation(id, opB);
        assertEq(to, tier);
        // ⌊30e18 · (400e18 + 1) / (300e18 + 2)⌋ = 40e18 − 1 (rounded in the pool's favour).
        assertEq(shares, 40e18 - 1);
        assertEq(vault.getPool(tier).slashableAssets, 330e18 + 1);
    }

    function test_tierWithdrawal_redelegateNotAllowedOrPausedReverts() public {
        (tier,) = _toTier(alice, opB, 400e18);
        uint256 id = _queue(alice, tier, 100e18);
        vm.warp(block.timestamp + ESCROW);
        vault.setTierAllowed(base, false);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.TierNotAllowed.selector, base));
        vault.completeRedelegation(id, opC);
        vault.setTierAllowed(base, true);
        _approveTierOperators(base);
        vm.prank(guardian);
        vault.pause();
        vm.prank(alice);
        vm.expectRevert(IStakeVault.DepositsPaused.selector);
        vault.completeRedelegation(id, opC);
        // A plain claim works while paused.
        assertEq(_claim(alice, id), 100e18);
        assertEq(_sharesOf(alice, base), 700e18);
    }

    // ================================================================== full base slash

    function test_fullBaseSlash_makesTheTierWorthless() public {
        manager.setGuard(1e18, 1 days);
        (tier,) = _toTier(alice, opB, 400e18);
        uint256 oldId = _queue(alice, tier, 100e18);
        _allocate(opA, base, baseAvs, IAllocationManager.Mode.Shared, 1e18);
        _allocate(opB, tier, tierAvs, IAllocationManager.Mode.Isolated, 0.5e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        assertEq(manager.slashableBacking(tierAvs, tier), 200e18);

        assertEq(_slash(baseModule, baseAvs, base, 1e18), 2000e18);
        assertEq(weth.balanceOf(baseSink), 2000e18);
        assertEq(vault.getPool(base).generation, 1);
        assertEq(vault.slashableAssets(base), 0);
        assertEq(vault.slashableAssets(tier), 0, "tier worthless");
        (, uint32 generation,) = vault.poolKey(tier);
        assertEq(generation, 1, "tier reports the generation it will reset to");
        // Before anything touches the tier, the staker views already say zero.
        assertEq(_valueOf(alice, tier), 0);
        assertEq(vault.getWithdrawal(oldId).value, 0);
        assertEq(manager.slashableBacking(tierAvs, tier), 0);
        vm.prank(tierModule);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotSlashable.selector, tierAvs, tier));
        manager.slash(tierAvs, tier, 0.5e18);

        // The tier withdrawal queued before the base's end pays nothing.
        vm.warp(block.timestamp + ESCROW);
        assertEq(_claim(alice, oldId), 0);
        assertEq(_valueOf(alice, base), 0);
        assertEq(_valueOf(alice, tier), 0);
        assertEq(vault.getPool(tier).generation, 1, "claim synced the tier");

        // New stake: base at price one, then the tier at price one.
        (, uint256 baseShares) = _deposit(dave, opA, weth, 100 ether);
        assertEq(baseShares, 100e18);
        (uint256 t, uint256 tierShares) = _toTier(dave, opB, 40e18);
        assertEq(t, tier, "same tier pool, new generation");
        assertEq(tierShares, 40e18);
        assertEq(vault.slashableAssets(tier), 40e18);
        assertEq(_valueOf(dave, tier), 40e18);
        // Alice's old tier shares do not dilute dave: queued, they add nothing and claim nothing.
        uint256 staleId = _queue(alice, tier, 300e18);
        assertEq(vault.slashableAssets(tier), 40e18);
        vm.warp(block.timestamp + ESCROW);
        assertEq(_claim(alice, staleId), 0);
        assertEq(vault.convertToAssets(tier, 40e18), 40e18);
        // Her old base shares cannot enter a tier either.
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.InsufficientShares.selector, 0, 1));
        vault.depositToTier(base, opB, 1);

        // Allocations of the old tier generation are gone; a new one backs the AVS again.
        assertEq(manager.getAllocation(tier, tierAvs).current, 0);
        _allocate(opB, tier, tierAvs, IAllocationManager.Mode.Isolated, 0.5e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        assertEq(manager.slashableBacking(tierAvs, tier), 20e18);
        assertEq(_slash(tierModule, tierAvs, tier, 0.5e18), 10e18);
        assertEq(_sharesOf(tierSink, base), 10e18, "paid in base shares of the new generation");
        assertEq(vault.slashableAssets(base), 100e18);
    }

    // ================================================================== path reuse

    function test_pathReuse_isTheProductOfCaps() public {
        (tier,) = _toTier(alice, opB, 400e18);
        assertEq(_pathReuseBps(base), 30_000, "a base pool's path is its own cap");
        assertEq(_pathReuseBps(tier), 90_000, "3x over 3x");
        assertEq(manager.poolRisk(tier).pathReuseWad, 9e18);

        manager.setReuseCap(base, 50_000);
        assertEq(_pathReuseBps(tier), 150_000);
        manager.setReuseCap(tier, 40_000);
        assertEq(_pathReuseBps(tier), 200_000, "exactly the maximum is allowed");
        assertEq(_pathReuseBps(base), 50_000);
        assertEq(manager.poolRisk(tier).reuseCapWad, 4e18);

        // 40,001 · 50,000 / 10,000 = 200,005 and 40,000 · 50,001 / 10,000 = 200,004.
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.PathReuseTooHigh.selector, 200_005, 200_000));
        manager.setReuseCap(tier, 40_001);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.ReuseCapTooHigh.selector, 100_001, 100_000));
        manager.setReuseCap(base, 100_001);
        assertEq(_pathReuseBps(tier), 200_000, "reverted changes left the caps");

        // A base's cap and the protocol limits change without walking the tiers over it (anyone can open one); a
        // tier whose path passed the maximum gets no increase: 40,000 · 50,001 / 10,000 = 200,004.
        manager.setReuseCap(base, 50_001);
        vm.prank(opB);
        manager.optIn(tierAvs);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.PathReuseTooHigh.selector, 200_004, 200_000));
        vm.prank(opB);
        manager.allocate(tier, tierAvs, IAllocationManager.Mode.Shared, 0.1e18);
        manager.setReuseCap(base, 50_000);
        manager.setProtocolLimits(30_000, 100_000, 199_999);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.PathReuseTooHigh.selector, 200_000, 199_999));
        vm.prank(opB);
        manager.allocate(tier, tierAvs, IAllocationManager.Mode.Shared, 0.1e18);
    }

    function test_pathReuse_enforcedByAllocate() public {
        // The base's cap is raised before any tier exists: 7x alone is fine.
        manager.setReuseCap(base, 70_000);
        (tier,) = _toTier(alice, opB, 400e18);
        assertEq(_pathReuseBps(tier), 210_000, "default 3x over 7x");

        vm.startPrank(opB);
        manager.optIn(tierAvs);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.PathReuseTooHigh.selector, 210_000, 200_000));
        manager.allocate(tier, tierAvs, IAllocationManager.Mode.Isolated, 0.5e18);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.PathReuseTooHigh.selector, 210_000, 200_000));
        manager.allocate(tier, tierAvs, IAllocationManager.Mode.Shared, 0.5e18);
        vm.stopPrank();
        // The base itself can still allocate.
        _allocate(opA, base, baseAvs, IAllocationManager.Mode.Shared, 1e18);

        manager.setReuseCap(tier, 20_000);
        assertEq(_pathReuseBps(tier), 140_000);
        vm.prank(opB);
        manager.allocate(tier, tierAvs, IAllocationManager.Mode.Isolated, 0.5e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        assertEq(manager.slashableBacking(tierAvs, tier), 200e18);
    }
}

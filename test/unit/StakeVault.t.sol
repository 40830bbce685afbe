// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Test.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

import {IOperatorRegistry} from "../../contracts/interfaces/IOperatorRegistry.sol";
import {IStakeVault} from "../../contracts/interfaces/IStakeVault.sol";
import {StakeVault} from "../../contracts/StakeVault.sol";
import {FeeOnTransferERC20, MockERC20, RebasingERC20} from "../mocks/MockERC20.sol";
import {VaultFixture} from "../utils/VaultFixture.sol";

/// @dev Answers `decimals()` with any uint256 (so > 36 and even > 255 can be tried) and can change it.
contract ConfigurableDecimalsToken {
    uint256 public decimals;

    constructor(uint256 decimals_) {
        decimals = decimals_;
    }

    function setDecimals(uint256 decimals_) external {
        decimals = decimals_;
    }

    function balanceOf(address) external pure returns (uint256) {
        return 0;
    }
}

/// @dev A contract without `decimals()` and without a fallback: not an ERC-20.
contract NoDecimalsContract {
    function ping() external pure returns (uint256) {
        return 1;
    }
}

/// @notice Unit tests for StakeVault. Share price is (assets + 1) / (shares + 1); all expected numbers below are
/// derived by hand from that formula. A recurring identity: if assets = r * shares with 0 <= r <= 1 and r * s is an
/// integer, then floor(s * (assets + 1) / (shares + 1)) = r * s, because the remainder s * (1 - r) / (shares + 1) < 1.
contract StakeVaultTest is VaultFixture {
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");
    address internal stranger = makeAddr("stranger");

    uint48 internal t0;

    function setUp() public override {
        super.setUp();
        t0 = uint48(block.timestamp);
    }

    // ================================================================== helpers

    function _wid(uint256 poolId, uint256 index) internal pure returns (uint256) {
        return poolId << 64 | index;
    }

    function _fund(address who, MockERC20 token, uint256 amount) internal {
        token.mint(who, amount);
        vm.prank(who);
        token.approve(address(vault), amount);
    }

    function _poolHash(uint256 poolId) internal view returns (bytes32) {
        return keccak256(abi.encode(vault.getPool(poolId)));
    }

    function _valueOf(address staker, uint256 poolId) internal view returns (uint256) {
        IStakeVault.PositionView[] memory ps = vault.positionsOf(staker);
        for (uint256 i; i < ps.length; ++i) {
            if (ps[i].poolId == poolId) return ps[i].value;
        }
        return 0;
    }

    function _countLogs(Vm.Log[] memory logs, address emitter, bytes32 topic0) internal pure returns (uint256 n) {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == emitter && logs[i].topics.length != 0 && logs[i].topics[0] == topic0) ++n;
        }
    }

    /// @dev alice and bob each deposit 100 WETH with opA: pool 1 holds 200e18 assets over 200e18 shares.
    function _twoStakers() internal returns (uint256 poolId) {
        (poolId,) = _deposit(alice, opA, weth, 100e18);
        _deposit(bob, opA, weth, 100e18);
    }

    // ================================================================== constructor

    function test_constructor_setsStateAndEmitsGuardianSet() public {
        vm.expectEmit();
        emit IStakeVault.GuardianSet(carol);
        StakeVault v = new StakeVault(registry, 3 days, bob, carol);
        assertEq(address(v.registry()), address(registry));
        assertEq(v.escrowDelay(), 3 days);
        assertEq(v.owner(), bob);
        assertEq(v.guardian(), carol);
        assertEq(v.slasher(), address(0));
        assertFalse(v.paused());
        assertEq(v.poolCount(), 0);
    }

    function test_constructor_acceptsMaxEscrowDelay() public {
        StakeVault v = new StakeVault(registry, 365 days, bob, carol);
        assertEq(v.escrowDelay(), 365 days);
        assertEq(v.MAX_ESCROW_DELAY(), 365 days);
    }

    function test_constructor_acceptsOneSecondEscrowDelay() public {
        StakeVault v = new StakeVault(registry, 1, bob, carol);
        assertEq(v.escrowDelay(), 1);
    }

    function test_RevertWhen_constructorEscrowDelayZero() public {
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.InvalidEscrowDelay.selector, 0));
        new StakeVault(registry, 0, bob, carol);
    }

    function test_RevertWhen_constructorEscrowDelayAboveMax() public {
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.InvalidEscrowDelay.selector, 365 days + 1));
        new StakeVault(registry, 365 days + 1, bob, carol);
    }

    function test_RevertWhen_constructorRegistryZero() public {
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.ZeroAddress.selector));
        new StakeVault(IOperatorRegistry(address(0)), 7 days, bob, carol);
    }

    function test_RevertWhen_constructorOwnerZero() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableInvalidOwner.selector, address(0)));
        new StakeVault(registry, 7 days, address(0), carol);
    }

    // ================================================================== simple getters

    function test_publicGetters_fixtureState() public view {
        assertEq(address(vault.registry()), address(registry));
        assertEq(vault.escrowDelay(), 7 days);
        assertEq(vault.guardian(), guardian);
        assertEq(vault.slasher(), address(this));
        assertEq(vault.owner(), address(this));
        assertEq(vault.pendingOwner(), address(0));
        assertFalse(vault.paused());
        assertEq(vault.MAX_ESCROW_DELAY(), 365 days);
    }

    // ================================================================== setAssetAllowed

    function test_setAssetAllowed_addsAssetWithItsDecimals() public {
        MockERC20 dai = new MockERC20("Dai", "DAI", 8);
        vm.expectEmit(address(vault));
        emit IStakeVault.AssetAllowlisted(address(dai), true, 8);
        vault.setAssetAllowed(address(dai), true);
        IStakeVault.AssetView memory a = vault.getAsset(address(dai));
        assertTrue(a.allowed);
        assertEq(a.decimals, 8);
        assertEq(a.tracked, 0);
        assertEq(a.balance, 0);
    }

    function test_setAssetAllowed_accepts18Decimals() public {
        MockERC20 t = new MockERC20("Wide", "W18", 18);
        vault.setAssetAllowed(address(t), true);
        assertEq(vault.getAsset(address(t)).decimals, 18);
        assertTrue(vault.getAsset(address(t)).allowed);
    }

    function test_setAssetAllowed_removalKeepsDecimalsAndEmits() public {
        vm.expectEmit(address(vault));
        emit IStakeVault.AssetAllowlisted(address(wbtc), false, 8);
        vault.setAssetAllowed(address(wbtc), false);
        IStakeVault.AssetView memory a = vault.getAsset(address(wbtc));
        assertFalse(a.allowed);
        assertEq(a.decimals, 8);
    }

    function test_setAssetAllowed_reallowRereadsDecimalsButAllowedAgainDoesNot() public {
        ConfigurableDecimalsToken t = new ConfigurableDecimalsToken(8);
        vault.setAssetAllowed(address(t), true);
        vault.setAssetAllowed(address(t), false);
        t.setDecimals(12);
        vm.expectEmit(address(vault));
        emit IStakeVault.AssetAllowlisted(address(t), true, 12);
        vault.setAssetAllowed(address(t), true);
        assertEq(vault.getAsset(address(t)).decimals, 12);

        // Allowing an already allowed asset does not read decimals again.
        t.setDecimals(20);
        vm.expectEmit(address(vault));
        emit IStakeVault.AssetAllowlisted(address(t), true, 12);
        vault.setAssetAllowed(address(t), true);
        assertEq(vault.getAsset(address(t)).decimals, 12);
    }

    function test_RevertWhen_setAssetAllowedEOA() public {
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.InvalidAsset.selector, stranger));
        vault.setAssetAllowed(stranger, true);
        IStakeVault.AssetView memory a = vault.getAsset(stranger);
        assertFalse(a.allowed);
        assertEq(a.decimals, 0);
    }

    function test_RevertWhen_setAssetAllowedDecimalsAbove18() public {
        ConfigurableDecimalsToken t = new ConfigurableDecimalsToken(19);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.InvalidAsset.selector, address(t)));
        vault.setAssetAllowed(address(t), true);
        assertFalse(vault.getAsset(address(t)).allowed);

        // 256 would wrap to 0 in a uint8: it must be refused too.
        t.setDecimals(256);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.InvalidAsset.selector, address(t)));
        vault.setAssetAllowed(address(t), true);
        assertFalse(vault.getAsset(address(t)).allowed);
    }

    function test_RevertWhen_setAssetAllowedNoDecimalsFunction() public {
        NoDecimalsContract c = new NoDecimalsContract();
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.InvalidAsset.selector, address(c)));
        vault.setAssetAllowed(address(c), true);
    }

    function test_RevertWhen_setAssetAllowedNotOwner() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vault.setAssetAllowed(address(weth), false);
        assertTrue(vault.getAsset(address(weth)).allowed);
    }

    function test_setAssetAllowed_disallowBlocksDepositsNotWithdrawals() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        vault.setAssetAllowed(address(weth), false);

        _fund(alice, weth, 1e18);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.AssetNotAllowed.selector, address(weth)));
        vault.deposit(opA, address(weth), 1e18);

        // Withdrawals keep working: queue everything, wait, claim 100e18 at price 1.
        uint256 id = _queue(alice, poolId, 100e18);
        vm.warp(t0 + ESCROW);
        assertEq(_claim(alice, id), 100e18);
        assertEq(weth.balanceOf(alice), 101e18); // 100 back + the 1 never deposited
        assertEq(weth.balanceOf(address(vault)), 0);
    }

    // ================================================================== setGuardian / setSlasher

    function test_setGuardian_setsAndEmits() public {
        vm.expectEmit(address(vault));
        emit IStakeVault.GuardianSet(carol);
        vault.setGuardian(carol);
        assertEq(vault.guardian(), carol);

        vm.prank(guardian);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.NotGuardian.selector, guardian));
        vault.pause();

        vm.prank(carol);
        vault.pause();
        assertTrue(vault.paused());
    }

    function test_RevertWhen_setGuardianNotOwner() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vault.setGuardian(stranger);
        assertEq(vault.guardian(), guardian);
    }

    /// @notice The slasher is wired once, never zero, never swapped (a swapped slasher could take every pool's
    /// stake at once); only the slasher slashes.
    function test_setSlasher_wiredOnce() public {
        uint256 poolId = _twoStakers();
        StakeVault fresh = new StakeVault(registry, ESCROW, address(this), guardian);
        vm.expectRevert(IStakeVault.ZeroAddress.selector);
        fresh.setSlasher(address(0));
        vm.expectEmit(address(fresh));
        emit IStakeVault.SlasherSet(carol);
        fresh.setSlasher(carol);
        assertEq(fresh.slasher(), carol);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.SlasherAlreadySet.selector, carol));
        fresh.setSlasher(stranger);
        assertEq(fresh.slasher(), carol);

        // This vault's slasher (this contract) cannot be swapped for carol, who cannot slash.
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.SlasherAlreadySet.selector, address(this)));
        vault.setSlasher(carol);
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.NotSlasher.selector, carol));
        vault.slash(poolId, 1e18, sink);
        assertEq(vault.slash(poolId, 1e18, sink), 1e18);
        assertEq(vault.getPool(poolId).slashableAssets, 199e18);
    }

    function test_RevertWhen_setSlasherNotOwner() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vault.setSlasher(stranger);
        assertEq(vault.slasher(), address(this));
    }

    // ================================================================== pause / unpause

    function test_pause_byGuardian() public {
        vm.expectEmit(address(vault));
        emit IStakeVault.PausedSet(true, guardian);
        vm.prank(guardian);
        vault.pause();
        assertTrue(vault.paused());
    }

    function test_pause_byOwner() public {
        vm.expectEmit(address(vault));
        emit IStakeVault.PausedSet(true, address(this));
        vault.pause();
        assertTrue(vault.paused());
    }

    function test_RevertWhen_pauseNotGuardian() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.NotGuardian.selector, stranger));
        vault.pause();
        assertFalse(vault.paused());
    }

    function test_unpause_byOwner() public {
        vm.prank(guardian);
        vault.pause();
        vm.expectEmit(address(vault));
        emit IStakeVault.PausedSet(false, address(this));
        vault.unpause();
        assertFalse(vault.paused());
        // Deposits work again.
        (, uint256 shares) = _deposit(alice, opA, weth, 1e18);
        assertEq(shares, 1e18);
    }

    function test_RevertWhen_unpauseByGuardian() public {
        vm.prank(guardian);
        vault.pause();
        vm.prank(guardian);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, guardian));
        vault.unpause();
        assertTrue(vault.paused());
    }

    function test_pause_blocksDepositAndRedelegationButNotWithdrawals() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        uint256 id1 = _queue(alice, poolId, 60e18);
        vm.prank(guardian);
        vault.pause();

        // Queueing still works while paused.
        uint256 id2 = _queue(alice, poolId, 40e18);
        assertEq(id2, _wid(poolId, 1));

        _fund(alice, weth, 1e18);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.DepositsPaused.selector));
        vault.deposit(opA, address(weth), 1e18);

        vm.warp(t0 + ESCROW);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.DepositsPaused.selector));
        vault.completeRedelegation(id1, opB);
        assertFalse(vault.getWithdrawal(id1).claimed);

        // Matured withdrawals are claimable while paused: 60e18 and 40e18 at price 1.
        assertEq(_claim(alice, id1), 60e18);
        assertEq(_claim(alice, id2), 40e18);
        assertEq(weth.balanceOf(alice), 101e18);
        assertTrue(vault.paused());
    }

    // ================================================================== skim

    function test_skim_sendsOnlySurplus() public {
        _deposit(alice, opA, weth, 100e18);
        weth.mint(address(vault), 7e18); // donation
        vm.expectEmit(address(vault));
        emit IStakeVault.Skimmed(address(weth), carol, 7e18);
        uint256 amount = vault.skim(address(weth), carol);
        assertEq(amount, 7e18);
        assertEq(weth.balanceOf(carol), 7e18);
        assertEq(weth.balanceOf(address(vault)), 100e18);
        assertEq(vault.getAsset(address(weth)).tracked, 100e18);
        // Stakers are untouched: alice still redeems 100e18.
        assertEq(_valueOf(alice, 1), 100e18);
    }

    function test_skim_positiveRebaseSurplus() public {
        RebasingERC20 reb = new RebasingERC20();
        vault.setAssetAllowed(address(reb), true);
        reb.mint(alice, 100e18);
        vm.startPrank(alice);
        reb.approve(address(vault), 100e18);
        vault.deposit(opA, address(reb), 100e18);
        vm.stopPrank();

        // Factor 1.25: the vault's 100e18 raw units read as 125e18, so 25e18 is surplus.
        reb.rebase(1.25e18);
        assertEq(vault.getAsset(address(reb)).balance, 125e18);
        // Sending 25e18 moves 25e18 * 1e18 / 1.25e18 = 20e18 raw units: the vault keeps 80e18 raw = 100e18.
        assertEq(vault.skim(address(reb), carol), 25e18);
        assertEq(reb.balanceOf(carol), 25e18);
        assertEq(reb.balanceOf(address(vault)), 100e18);
    }

    function test_RevertWhen_skimToZeroAddress() public {
        weth.mint(address(vault), 1e18);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.ZeroAddress.selector));
        vault.skim(address(weth), address(0));
        assertEq(weth.balanceOf(address(vault)), 1e18);
    }

    function test_RevertWhen_skimNothingToSkim() public {
        _deposit(alice, opA, weth, 100e18);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.ZeroAmount.selector));
        vault.skim(address(weth), carol);
        assertEq(weth.balanceOf(address(vault)), 100e18);
        assertEq(weth.balanceOf(carol), 0);
    }

    function test_RevertWhen_skimNotOwner() public {
        weth.mint(address(vault), 1e18);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vault.skim(address(weth), stranger);
        assertEq(weth.balanceOf(address(vault)), 1e18);
        assertEq(weth.balanceOf(stranger), 0);
    }

    // ================================================================== ownership (Ownable2Step)

    function test_transferOwnership_isTwoStep() public {
        vault.transferOwnership(carol);
        assertEq(vault.owner(), address(this));
        assertEq(vault.pendingOwner(), carol);
        vm.prank(carol);
        vault.acceptOwnership();
        assertEq(vault.owner(), carol);
        assertEq(vault.pendingOwner(), address(0));

        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, address(this)));
        vault.setGuardian(carol);
    }

    function test_RevertWhen_transferOwnershipNotOwner() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vault.transferOwnership(stranger);
        assertEq(vault.pendingOwner(), address(0));
    }

    function test_RevertWhen_acceptOwnershipNotPendingOwner() public {
        vault.transferOwnership(carol);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vault.acceptOwnership();
        assertEq(vault.owner(), address(this));
    }

    function test_renounceOwnership() public {
        vault.renounceOwnership();
        assertEq(vault.owner(), address(0));
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, address(this)));
        vault.unpause();
    }

    // ================================================================== deposit

    function test_deposit_usdc6Decimals() public {
        uint256 amount = 2500e6; // 2,500 USDC
        _fund(alice, usdc, amount);
        vm.expectEmit(address(vault));
        emit IStakeVault.PoolCreated(1, opA, address(usdc));
        vm.expectEmit(address(vault));
        emit IStakeVault.Deposited(alice, 1, 2500e6, 2500e6);
        vm.prank(alice);
        (uint256 poolId, uint256 shares) = vault.deposit(opA, address(usdc), amount);
        // Empty pool: shares = 2500e6 * (0 + 1) / (0 + 1) = 2500e6.
        assertEq(poolId, 1);
        assertEq(shares, 2500e6);
        assertEq(usdc.balanceOf(alice), 0);
        assertEq(usdc.balanceOf(address(vault)), 2500e6);
        IStakeVault.AssetView memory a = vault.getAsset(address(usdc));
        assertEq(a.tracked, 2500e6);
        assertEq(a.balance, 2500e6);
        assertEq(a.decimals, 6);
        IStakeVault.PoolView memory p = vault.getPool(1);
        assertEq(p.slashableAssets, 2500e6);
        assertEq(p.totalShares, 2500e6);
        assertEq(p.sharePrice, 1e18);
        assertEq(_sharesOf(alice, 1), 2500e6);
        assertEq(_valueOf(alice, 1), 2500e6);
    }

    function test_deposit_wbtc8Decimals() public {
        // 0.25 BTC = 25_000_000 sats, then bob adds 1 sat: price stays exactly 1, so 1 share.
        (uint256 poolId, uint256 shares) = _deposit(alice, opB, wbtc, 25_000_000);
        assertEq(poolId, 1);
        assertEq(shares, 25_000_000);
        (uint256 poolId2, uint256 shares2) = _deposit(bob, opB, wbtc, 1);
        assertEq(poolId2, 1);
        assertEq(shares2, 1); // 1 * (25_000_000 + 1) / (25_000_000 + 1)
        assertEq(wbtc.balanceOf(address(vault)), 25_000_001);
        assertEq(vault.getAsset(address(wbtc)).tracked, 25_000_001);
        assertEq(vault.getPool(1).totalShares, 25_000_001);
        assertEq(vault.getPool(1).asset, address(wbtc));
        assertEq(vault.getPool(1).operator, opB);
    }

    function test_deposit_weth18Decimals() public {
        _fund(alice, weth, 3.5e18);
        vm.expectEmit(address(vault));
        emit IStakeVault.Deposited(alice, 1, 3.5e18, 3.5e18);
        vm.prank(alice);
        (uint256 poolId, uint256 shares) = vault.deposit(opA, address(weth), 3.5e18);
        assertEq(poolId, 1);
        assertEq(shares, 3.5e18);
        assertEq(weth.balanceOf(address(vault)), 3.5e18);
        assertEq(vault.poolOf(opA, address(weth)), 1);
    }

    function test_deposit_secondDepositIntoExistingPool() public {
        _deposit(alice, opA, weth, 100e18);
        _fund(bob, weth, 50e18);
        vm.recordLogs();
        vm.prank(bob);
        (uint256 poolId, uint256 shares) = vault.deposit(opA, address(weth), 50e18);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(_countLogs(logs, address(vault), IStakeVault.PoolCreated.selector), 0);
        assertEq(_countLogs(logs, address(vault), IStakeVault.Deposited.selector), 1);
        // shares = 50e18 * (100e18 + 1) / (100e18 + 1) = 50e18
        assertEq(poolId, 1);
        assertEq(shares, 50e18);
        assertEq(vault.poolCount(), 1);
        assertEq(vault.getPool(1).slashableAssets, 150e18);
        assertEq(vault.getPool(1).totalShares, 150e18);

        // The same staker adding again accumulates in one position.
        _deposit(bob, opA, weth, 25e18);
        assertEq(_sharesOf(bob, 1), 75e18);
        assertEq(vault.positionsOf(bob).length, 1);
    }

    function test_deposit_afterSlashMintsAtLowerPrice() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        vault.slash(poolId, 20e18, sink); // assets 80e18, shares 100e18
        _fund(bob, weth, 40e18);
        // shares = floor(40e18 * (100e18 + 1) / (80e18 + 1)); numerator = 4000e36 + 40e18
        //        = 50e18 * (80e18 + 1) - 10e18, so the quotient is 50e18 - 10e18 / (80e18 + 1) -> 50e18 - 1.
        vm.expectEmit(address(vault));
        emit IStakeVault.Deposited(bob, poolId, 40e18, 50e18 - 1);
        vm.prank(bob);
        (, uint256 shares) = vault.deposit(opA, address(weth), 40e18);
        assertEq(shares, 50e18 - 1);
        // Pool: assets 120e18, shares 150e18 - 1. Bob's value = floor((50e18 - 1) * (120e18 + 1) / 150e18)
        //  = floor((6000e36 - 70e18 - 1) / 150e18) = 40e18 - 1 (rounding favours the pool by 1 wei).
        assertEq(_valueOf(bob, poolId), 40e18 - 1);
        // Alice: floor(100e18 * (120e18 + 1) / 150e18) = floor(80e18 + 100e18 / 150e18) = 80e18.
        assertEq(_valueOf(alice, poolId), 80e18);
    }

    function test_deposit_sameAssetDifferentOperatorsSeparatePools() public {
        (uint256 pA,) = _deposit(alice, opA, weth, 10e18);
        (uint256 pB,) = _deposit(alice, opB, weth, 20e18);
        (uint256 pC,) = _deposit(alice, opA, usdc, 30e6);
        assertEq(pA, 1);
        assertEq(pB, 2);
        assertEq(pC, 3);
        assertEq(vault.getPool(pB).slashableAssets, 20e18);
        assertEq(vault.getAsset(address(weth)).tracked, 30e18);
        assertEq(vault.getAsset(address(usdc)).tracked, 30e6);
    }

    function test_deposit_donationEmitsUnaccountedBalanceAndDoesNotMovePrice() public {
        _deposit(alice, opA, weth, 1);
        weth.mint(address(vault), 1000e18); // a classic inflation attempt
        _fund(bob, weth, 10e18);
        vm.expectEmit(address(vault));
        emit IStakeVault.Deposited(bob, 1, 10e18, 10e18);
        vm.expectEmit(address(vault));
        emit IStakeVault.UnaccountedBalance(address(weth), 1000e18);
        vm.prank(bob);
        (, uint256 shares) = vault.deposit(opA, address(weth), 10e18);
        // Assets are tracked internally: 10e18 * (1 + 1) / (1 + 1) = 10e18, the donation is ignored.
        assertEq(shares, 10e18);
        assertEq(vault.getPool(1).slashableAssets, 10e18 + 1);
        assertEq(vault.getAsset(address(weth)).tracked, 10e18 + 1);
        assertEq(vault.getAsset(address(weth)).balance, 1010e18 + 1);
    }

    function test_deposit_oneWeiDonationIsReportedAndNoEventWithoutSurplus() public {
        _fund(alice, weth, 10e18);
        vm.recordLogs();
        vm.prank(alice);
        vault.deposit(opA, address(weth), 4e18);
        assertEq(_countLogs(vm.getRecordedLogs(), address(vault), IStakeVault.UnaccountedBalance.selector), 0);

        weth.mint(address(vault), 1);
        vm.expectEmit(address(vault));
        emit IStakeVault.UnaccountedBalance(address(weth), 1);
        vm.prank(alice);
        vault.deposit(opA, address(weth), 6e18);
        // tracked follows deposits only: 4e18 + 6e18
        assertEq(vault.getAsset(address(weth)).tracked, 10e18);
        assertEq(vault.getAsset(address(weth)).balance, 10e18 + 1);
    }

    /// @dev A slash asking for all but a sliver is cut by the price floor, so the pool keeps taking deposits of any
    /// size (without the floor, the share supply would overflow: see the fuzz suite's history).
    function test_slash_priceFloorKeepsPoolUsable() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        // All but 1 wei asked: the floor keeps ceil(100e18 shares / 1e8) = 1e12, a share stays worth >= 1e-8 wei.
        assertEq(vault.previewSlash(poolId, 100e18 - 1), 100e18 - 1e12);
        assertEq(vault.slash(poolId, 100e18 - 1, sink), 100e18 - 1e12);
        assertEq(weth.balanceOf(sink), 100e18 - 1e12);
        // floor(100e18 * (1e12 + 1) / (100e18 + 1)) = floor(1e12 + 1 - 1e-8) = 1e12: alice owns all that is left.
        assertEq(_valueOf(alice, poolId), 1e12);

        // At the floor the pool takes no new stake (its partial slashes could no longer take it): named, nothing moves.
        weth.mint(bob, 1e30);
        vm.startPrank(bob);
        weth.approve(address(vault), 1e30);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.PoolPriceTooLow.selector, poolId));
        vault.deposit(opA, address(weth), 1e30);
        vm.stopPrank();
        assertEq(vault.slashableAssets(poolId), 1e12);
        // A slash of everything is not cut: it resets the pool.
        uint256 all = vault.slashableAssets(poolId);
        assertEq(vault.slash(poolId, all, sink), all);
        assertEq(vault.getPool(poolId).generation, 1);
        // The new generation starts at price one and takes deposits again.
        (, uint256 fresh) = _deposit(carol, opA, weth, 1e18);
        assertEq(fresh, 1e18);
    }

    /// @dev The limit is exact: a pool whose shares are 1e6 times its assets still takes stake; one share more, not.
    function test_deposit_refusedOnlyBelowAMillionthOfThePrice() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 1e18);
        vault.slash(poolId, 1e18 - 1e12, sink); // 1e12 assets over 1e18 shares: exactly 1e-6
        _deposit(bob, opA, weth, 1e18);
        (uint256 other,) = _deposit(alice, opB, weth, 1e18);
        vault.slash(other, 1e18 - 1e12 + 1, sink); // just below
        weth.mint(bob, 1e18);
        vm.startPrank(bob);
        weth.approve(address(vault), 1e18);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.PoolPriceTooLow.selector, other));
        vault.deposit(opB, address(weth), 1e18);
        vm.stopPrank();
    }

    function test_RevertWhen_depositZeroAmount() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.ZeroAmount.selector));
        vault.deposit(opA, address(weth), 0);
        assertEq(vault.poolCount(), 0);
        assertEq(vault.poolOf(opA, address(weth)), 0);
    }

    function test_RevertWhen_depositPaused() public {
        _fund(alice, weth, 1e18);
        vm.prank(guardian);
        vault.pause();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.DepositsPaused.selector));
        vault.deposit(opA, address(weth), 1e18);
        assertEq(weth.balanceOf(alice), 1e18);
        assertEq(vault.poolCount(), 0);
    }

    function test_RevertWhen_depositAssetNotAllowed() public {
        MockERC20 dai = new MockERC20("Dai", "DAI", 18);
        _fund(alice, dai, 1e18);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.AssetNotAllowed.selector, address(dai)));
        vault.deposit(opA, address(dai), 1e18);
        assertEq(dai.balanceOf(alice), 1e18);
        assertEq(vault.poolCount(), 0);
        assertEq(vault.getAsset(address(dai)).tracked, 0);
    }

    function test_RevertWhen_depositUnknownOperator() public {
        _fund(alice, weth, 1e18);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.UnknownOperator.selector, stranger));
        vault.deposit(stranger, address(weth), 1e18);
        assertEq(weth.balanceOf(alice), 1e18);
        assertEq(vault.poolCount(), 0);
        assertEq(vault.operatorPools(stranger).length, 0);
    }

    function test_RevertWhen_depositZeroOperator() public {
        _fund(alice, weth, 1e18);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.UnknownOperator.selector, address(0)));
        vault.deposit(address(0), address(weth), 1e18);
        assertEq(weth.balanceOf(alice), 1e18);
        assertEq(vault.poolCount(), 0);
    }

    function test_RevertWhen_depositFeeOnTransfer() public {
        FeeOnTransferERC20 fee = new FeeOnTransferERC20();
        vault.setAssetAllowed(address(fee), true);
        _fund(alice, fee, 100e18);
        // 1% fee: the vault receives 100e18 - 1e18 = 99e18.
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.FeeOnTransferDetected.selector, address(fee), 100e18, 99e18));
        vault.deposit(opA, address(fee), 100e18);
        assertEq(fee.balanceOf(alice), 100e18);
        assertEq(fee.balanceOf(address(vault)), 0);
        assertEq(vault.getAsset(address(fee)).tracked, 0);
        assertEq(vault.poolCount(), 0);
    }

    function test_RevertWhen_depositAfterNegativeRebase() public {
        RebasingERC20 reb = new RebasingERC20();
        vault.setAssetAllowed(address(reb), true);
        reb.mint(alice, 200e18);
        vm.startPrank(alice);
        reb.approve(address(vault), 200e18);
        vault.deposit(opA, address(reb), 100e18);
        vm.stopPrank();
        bytes32 poolBefore = _poolHash(1);

        reb.rebase(0.9e18); // vault balance 100e18 * 0.9 = 90e18 < tracked 100e18
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.RebasingDetected.selector, address(reb), 100e18, 90e18));
        vault.deposit(opA, address(reb), 10e18);
        assertEq(vault.getAsset(address(reb)).tracked, 100e18);
        assertEq(_poolHash(1), poolBefore);
        assertEq(_sharesOf(alice, 1), 100e18);
        assertEq(reb.balanceOf(alice), 90e18); // 100e18 raw * 0.9, nothing moved
    }

    function test_RevertWhen_depositPoolTotalAbove128Bits() public {
        uint256 amount = uint256(type(uint128).max) + 1;
        _fund(alice, weth, amount);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.AmountTooLarge.selector, amount));
        vault.deposit(opA, address(weth), amount);
        assertEq(weth.balanceOf(alice), amount);
        assertEq(vault.poolCount(), 0);
    }

    // DepositTooSmall: not tested. The check `shares == 0` needs assets * (S + 1) < A + 1, i.e. a price
    // (A + 1) / (S + 1) above `assets` >= 1. Every operation keeps A <= S (deposits mint >= assets shares while the
    // price is <= 1, withdrawals/settlements pay floor(s * price) <= s, slashes only lower A, a reset zeroes both),
    // so the price never exceeds 1 and the error cannot be reached without writing storage directly.

    // ================================================================== queueWithdrawal

    function test_queueWithdrawal_partialKeepsSharesSlashable() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        uint256 expectedId = _wid(poolId, 0);
        vm.expectEmit(address(vault));
        emit IStakeVault.WithdrawalQueued(expectedId, alice, poolId, 40e18, t0 + ESCROW);
        vm.prank(alice);
        uint256 id = vault.queueWithdrawal(poolId, 40e18);
        assertEq(id, expectedId);
        assertEq(id, uint256(1) << 64);
        assertEq(_sharesOf(alice, poolId), 60e18);
        IStakeVault.PoolView memory p = vault.getPool(poolId);
        assertEq(p.slashableAssets, 100e18); // escrow is still slashable
        assertEq(p.totalShares, 100e18);
        assertEq(p.escrowedShares, 40e18);
        assertEq(p.queueLength, 1);
        assertEq(p.settledCount, 0);
        assertEq(weth.balanceOf(address(vault)), 100e18);
    }

    function test_queueWithdrawal_idsIncrementPerPool() public {
        (uint256 p1,) = _deposit(alice, opA, weth, 100e18);
        (uint256 p2,) = _deposit(alice, opB, weth, 100e18);
        assertEq(_queue(alice, p1, 1e18), _wid(1, 0));
        assertEq(_queue(alice, p2, 1e18), _wid(2, 0));
        assertEq(_queue(alice, p1, 1e18), _wid(1, 1));
        vm.warp(t0 + 1 days);
        uint256 id = _queue(alice, p1, 1e18);
        assertEq(id, _wid(1, 2));
        assertEq(vault.getWithdrawal(id).maturity, t0 + 1 days + ESCROW);
        assertEq(vault.getPool(p1).queueLength, 3);
        assertEq(vault.getPool(p1).escrowedShares, 3e18);
    }

    function test_RevertWhen_queueWithdrawalZeroShares() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.ZeroAmount.selector));
        vault.queueWithdrawal(poolId, 0);
        assertEq(vault.getPool(poolId).queueLength, 0);
        assertEq(_sharesOf(alice, poolId), 100e18);
    }

    function test_RevertWhen_queueWithdrawalUnknownPool() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.UnknownPool.selector, 99));
        vault.queueWithdrawal(99, 1);
    }

    function test_RevertWhen_queueWithdrawalInsufficientShares() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        bytes32 before = _poolHash(poolId);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.InsufficientShares.selector, 100e18, 100e18 + 1));
        vault.queueWithdrawal(poolId, 100e18 + 1);
        assertEq(_sharesOf(alice, poolId), 100e18);
        assertEq(_poolHash(poolId), before);

        // Shares already queued are no longer held.
        _queue(alice, poolId, 70e18);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.InsufficientShares.selector, 30e18, 31e18));
        vault.queueWithdrawal(poolId, 31e18);
    }

    function test_RevertWhen_queueWithdrawalNoPosition() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.InsufficientShares.selector, 0, 1));
        vault.queueWithdrawal(poolId, 1);
        assertEq(vault.getPool(poolId).queueLength, 0);
    }

    // ================================================================== completeWithdrawal

    function test_completeWithdrawal_paysReceiverAtMaturity() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        uint256 id = _queue(alice, poolId, 40e18);
        vm.warp(t0 + ESCROW); // exactly at maturity
        vm.expectEmit(address(vault));
        emit IStakeVault.WithdrawalCompleted(id, alice, carol, 40e18);
        vm.prank(alice);
        uint256 assets = vault.completeWithdrawal(id, carol);
        // Price 1: 40e18 * (100e18 + 1) / (100e18 + 1) = 40e18.
        assertEq(assets, 40e18);
        assertEq(weth.balanceOf(carol), 40e18);
        assertEq(weth.balanceOf(alice), 0);
        assertEq(weth.balanceOf(address(vault)), 60e18);
        assertEq(vault.getAsset(address(weth)).tracked, 60e18);
        IStakeVault.PoolView memory p = vault.getPool(poolId);
        assertEq(p.slashableAssets, 60e18);
        assertEq(p.totalShares, 60e18);
        assertEq(p.reserve, 0);
        IStakeVault.WithdrawalView memory w = vault.getWithdrawal(id);
        assertTrue(w.claimed);
        assertEq(w.value, 0);
    }

    function test_completeWithdrawal_partialWithdrawalsWithSlashBetween() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        uint256 id0 = _queue(alice, poolId, 30e18); // matures t0 + 7d
        vm.warp(t0 + 2 days);
        uint256 id1 = _queue(alice, poolId, 20e18); // matures t0 + 9d
        assertEq(_sharesOf(alice, poolId), 50e18);

        vm.warp(t0 + ESCROW);
        assertEq(_claim(alice, id0), 30e18); // price 1; pool now 70e18 / 70e18
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.NotMatured.selector, id1, t0 + 9 days));
        vault.completeWithdrawal(id1, alice);

        // At t0 + 8d the second withdrawal is still in escrow: the slash hits it. Entry 0 (claimed early) settles
        // with nothing left: WithdrawalsSettled(pool, 1, 30e18 - 30e18 = 0, 0).
        vm.warp(t0 + 8 days);
        vm.expectEmit(address(vault));
        emit IStakeVault.WithdrawalsSettled(poolId, 1, 0, 0);
        vm.expectEmit(address(vault));
        emit IStakeVault.Slashed(poolId, 14e18, sink, 56e18);
        vault.slash(poolId, 14e18, sink); // 70e18 - 14e18 = 56e18 over 70e18 shares: r = 0.8
        // Escrow value: 20e18 * 0.8 = 16e18; active: 50e18 * 0.8 = 40e18.
        assertEq(vault.getWithdrawal(id1).value, 16e18);
        assertEq(_valueOf(alice, poolId), 40e18);

        vm.warp(t0 + 9 days);
        assertEq(_claim(alice, id1), 16e18);
        assertEq(weth.balanceOf(alice), 46e18); // 30 + 16
        assertEq(weth.balanceOf(address(vault)), 40e18); // 100 - 30 - 14 - 16
    }

    function test_completeWithdrawal_settledInOlderBatchPaysThatBatchPrice() public {
        uint256 poolId = _twoStakers(); // 200e18 / 200e18
        uint256 idA = _queue(alice, poolId, 50e18); // matures t0 + 7d
        vm.warp(t0 + 1 days);
        uint256 idB = _queue(bob, poolId, 50e18); // matures t0 + 8d

        vm.warp(t0 + ESCROW);
        // Batch 0 settles alice at price 1: 50e18. Pool 150e18 / 150e18, then slash 30e18 -> 120e18 (r = 0.8).
        vault.slash(poolId, 30e18, sink);
        vm.warp(t0 + 8 days);
        // Batch 1 settles bob at r = 0.8: 40e18. Pool 80e18 / 100e18, then slash 8e18 -> 72e18.
        vm.expectEmit(address(vault));
        emit IStakeVault.WithdrawalsSettled(poolId, 2, 50e18, 40e18);
        vault.slash(poolId, 8e18, sink);

        IStakeVault.PoolView memory p = vault.getPool(poolId);
        assertEq(p.reserve, 90e18);
        assertEq(p.slashableAssets, 72e18);
        assertEq(p.settledCount, 2);
        assertEq(vault.getWithdrawal(idA).value, 50e18);
        assertEq(vault.getWithdrawal(idB).value, 40e18);

        // Claim bob (newest batch) and alice (older batch, found by the search on batch ends).
        assertEq(_claim(bob, idB), 40e18);
        assertEq(_claim(alice, idA), 50e18);
        assertEq(vault.getPool(poolId).reserve, 0);
        // Remaining: alice 50e18 + bob 50e18 shares over 72e18 assets: 50e18 * 0.72 = 36e18 each.
        assertEq(_valueOf(alice, poolId), 36e18);
        assertEq(_valueOf(bob, poolId), 36e18);
        assertEq(weth.balanceOf(address(vault)), 72e18);
    }

    function test_RevertWhen_completeWithdrawalZeroReceiver() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        uint256 id = _queue(alice, poolId, 40e18);
        vm.warp(t0 + ESCROW);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.ZeroAddress.selector));
        vault.completeWithdrawal(id, address(0));
        assertFalse(vault.getWithdrawal(id).claimed);
        assertEq(weth.balanceOf(address(vault)), 100e18);
    }

    function test_RevertWhen_completeWithdrawalUnknownWithdrawal() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        _queue(alice, poolId, 40e18);
        vm.warp(t0 + ESCROW);
        uint256 bad = _wid(poolId, 1); // only index 0 exists
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.UnknownWithdrawal.selector, bad));
        vault.completeWithdrawal(bad, alice);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.UnknownWithdrawal.selector, 0));
        vault.completeWithdrawal(0, alice);
        assertEq(weth.balanceOf(address(vault)), 100e18);
    }

    function test_RevertWhen_completeWithdrawalNotOwner() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        uint256 id = _queue(alice, poolId, 40e18);
        vm.warp(t0 + ESCROW);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.NotWithdrawalOwner.selector, id, alice));
        vault.completeWithdrawal(id, bob);
        assertFalse(vault.getWithdrawal(id).claimed);
        assertEq(weth.balanceOf(bob), 0);
    }

    function test_RevertWhen_completeWithdrawalNotMatured() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        uint256 id = _queue(alice, poolId, 40e18);
        vm.warp(t0 + ESCROW - 1);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.NotMatured.selector, id, t0 + ESCROW));
        vault.completeWithdrawal(id, alice);
        assertFalse(vault.getWithdrawal(id).claimed);
        assertEq(weth.balanceOf(alice), 0);
        assertEq(weth.balanceOf(address(vault)), 100e18);
    }

    function test_RevertWhen_completeWithdrawalAlreadyClaimed() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        uint256 id = _queue(alice, poolId, 40e18);
        vm.warp(t0 + ESCROW);
        _claim(alice, id);
        bytes32 before = _poolHash(poolId);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.AlreadyClaimed.selector, id));
        vault.completeWithdrawal(id, alice);
        assertEq(weth.balanceOf(alice), 40e18);
        assertEq(_poolHash(poolId), before);
    }

    // ================================================================== completeRedelegation

    function test_completeRedelegation_createsPoolAndMovesValueWithoutTransfer() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        uint256 id = _queue(alice, poolId, 60e18);
        vm.warp(t0 + ESCROW);
        uint256 vaultBalance = weth.balanceOf(address(vault));

        vm.recordLogs();
        vm.expectEmit(address(vault));
        emit IStakeVault.PoolCreated(2, opB, address(weth));
        vm.expectEmit(address(vault));
        emit IStakeVault.Redelegated(id, alice, 2, 60e18, 60e18);
        vm.prank(alice);
        (uint256 toPool, uint256 shares) = vault.completeRedelegation(id, opB);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(_countLogs(logs, address(weth), keccak256("Transfer(address,address,uint256)")), 0);

        assertEq(toPool, 2);
        assertEq(shares, 60e18); // 60e18 into an empty pool at price 1
        assertEq(weth.balanceOf(address(vault)), vaultBalance);
        assertEq(vault.getAsset(address(weth)).tracked, 100e18);
        assertEq(vault.getPool(1).slashableAssets, 40e18);
        assertEq(vault.getPool(1).totalShares, 40e18);
        assertEq(vault.getPool(2).slashableAssets, 60e18);
        assertEq(vault.getPool(2).totalShares, 60e18);
        assertEq(vault.poolOf(opB, address(weth)), 2);
        assertTrue(vault.getWithdrawal(id).claimed);
        IStakeVault.PositionView[] memory ps = vault.positionsOf(alice);
        assertEq(ps.length, 2);
        assertEq(ps[0].poolId, 2);
        assertEq(ps[0].shares, 60e18);
        assertEq(ps[1].poolId, 1);
        assertEq(ps[1].shares, 40e18);
    }

    function test_completeRedelegation_intoExistingPoolAtLowerPrice() public {
        (uint256 poolB,) = _deposit(bob, opB, weth, 100e18); // pool 1
        (uint256 poolA,) = _deposit(alice, opA, weth, 100e18); // pool 2
        vault.slash(poolB, 20e18, sink); // pool 1: 80e18 / 100e18
        uint256 id = _queue(alice, poolA, 50e18);
        vm.warp(t0 + ESCROW);
        // shares = floor(50e18 * (100e18 + 1) / (80e18 + 1)): numerator 5000e36 + 50e18
        //        = 62.5e18 * (80e18 + 1) - 12.5e18 -> 62.5e18 - 1.
        vm.expectEmit(address(vault));
        emit IStakeVault.Redelegated(id, alice, poolB, 50e18, 62.5e18 - 1);
        vm.prank(alice);
        (uint256 toPool, uint256 shares) = vault.completeRedelegation(id, opB);
        assertEq(toPool, poolB);
        assertEq(shares, 62.5e18 - 1);
        assertEq(vault.poolCount(), 2);
        assertEq(vault.getPool(poolB).slashableAssets, 130e18);
        assertEq(vault.getPool(poolB).totalShares, 162.5e18 - 1);
        assertEq(vault.getPool(poolA).slashableAssets, 50e18);
        assertEq(weth.balanceOf(address(vault)), 180e18);
    }

    function test_completeRedelegation_backIntoSamePool() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        uint256 id = _queue(alice, poolId, 30e18);
        vm.warp(t0 + ESCROW);
        vm.prank(alice);
        (uint256 toPool, uint256 shares) = vault.completeRedelegation(id, opA);
        assertEq(toPool, poolId);
        assertEq(shares, 30e18); // out at price 1, back in at price 1
        assertEq(_sharesOf(alice, poolId), 100e18);
        assertEq(vault.getPool(poolId).slashableAssets, 100e18);
    }

    function test_RevertWhen_completeRedelegationPaused() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        uint256 id = _queue(alice, poolId, 60e18);
        vm.warp(t0 + ESCROW);
        vault.pause();
        bytes32 before = _poolHash(poolId);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.DepositsPaused.selector));
        vault.completeRedelegation(id, opB);
        assertEq(_poolHash(poolId), before);
        assertFalse(vault.getWithdrawal(id).claimed);
        assertEq(vault.poolCount(), 1);
    }

    function test_RevertWhen_completeRedelegationNothingToRedelegate() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        uint256 id = _queue(alice, poolId, 60e18);
        vault.slash(poolId, 100e18, sink); // full slash: the escrow is worth 0
        vm.warp(t0 + ESCROW);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.NothingToRedelegate.selector, id));
        vault.completeRedelegation(id, opB);
        assertFalse(vault.getWithdrawal(id).claimed);
        assertEq(vault.poolCount(), 1);
        // As the error says, completeWithdrawal still closes it (for 0).
        assertEq(_claim(alice, id), 0);
        assertTrue(vault.getWithdrawal(id).claimed);
    }

    function test_RevertWhen_completeRedelegationAssetNotAllowed() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        uint256 id = _queue(alice, poolId, 60e18);
        vm.warp(t0 + ESCROW);
        vault.setAssetAllowed(address(weth), false);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.AssetNotAllowed.selector, address(weth)));
        vault.completeRedelegation(id, opB);
        assertFalse(vault.getWithdrawal(id).claimed);
        assertEq(vault.poolCount(), 1);
        assertEq(_claim(alice, id), 60e18); // a plain withdrawal still works
    }

    function test_RevertWhen_completeRedelegationUnknownOperator() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        uint256 id = _queue(alice, poolId, 60e18);
        vm.warp(t0 + ESCROW);
        bytes32 before = _poolHash(poolId);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.UnknownOperator.selector, stranger));
        vault.completeRedelegation(id, stranger);
        assertEq(_poolHash(poolId), before);
        assertFalse(vault.getWithdrawal(id).claimed);
        assertEq(vault.poolCount(), 1);
    }

    function test_RevertWhen_completeRedelegationNotMatured() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        uint256 id = _queue(alice, poolId, 60e18);
        vm.warp(t0 + ESCROW - 1);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.NotMatured.selector, id, t0 + ESCROW));
        vault.completeRedelegation(id, opB);
        assertFalse(vault.getWithdrawal(id).claimed);
        assertEq(vault.poolCount(), 1);
    }

    function test_RevertWhen_completeRedelegationNotOwner() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        uint256 id = _queue(alice, poolId, 60e18);
        vm.warp(t0 + ESCROW);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.NotWithdrawalOwner.selector, id, alice));
        vault.completeRedelegation(id, opB);
        assertFalse(vault.getWithdrawal(id).claimed);
        assertEq(vault.positionsOf(bob).length, 0);
    }

    function test_RevertWhen_completeRedelegationAlreadyClaimed() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        uint256 id = _queue(alice, poolId, 60e18);
        vm.warp(t0 + ESCROW);
        vm.prank(alice);
        vault.completeRedelegation(id, opB);
        bytes32 before = _poolHash(2);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.AlreadyClaimed.selector, id));
        vault.completeRedelegation(id, opB);
        assertEq(_poolHash(2), before);
        assertEq(_sharesOf(alice, 2), 60e18);
    }

    function test_RevertWhen_completeRedelegationUnknownWithdrawal() public {
        uint256 bad = _wid(7, 0);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.UnknownWithdrawal.selector, bad));
        vault.completeRedelegation(bad, opB);
    }

    // ================================================================== slash

    function test_slash_takesFromPoolAndPaysRecipient() public {
        uint256 poolId = _twoStakers();
        vm.expectEmit(address(vault));
        emit IStakeVault.Slashed(poolId, 50e18, sink, 150e18);
        uint256 slashed = vault.slash(poolId, 50e18, sink);
        assertEq(slashed, 50e18);
        assertEq(weth.balanceOf(sink), 50e18);
        assertEq(weth.balanceOf(address(vault)), 150e18);
        assertEq(vault.getAsset(address(weth)).tracked, 150e18);
        // Each staker: 100e18 * (150e18 + 1) / (200e18 + 1) = 75e18 (r = 0.75).
        assertEq(_valueOf(alice, poolId), 75e18);
        assertEq(_valueOf(bob, poolId), 75e18);
        assertEq(vault.getPool(poolId).sharePrice, 0.75e18);
    }

    function test_slash_escrowStaysSlashableUntilMaturity() public {
        uint256 poolId = _twoStakers();
        uint256 id = _queue(alice, poolId, 50e18); // matures t0 + 7d
        vm.warp(t0 + ESCROW - 1); // one second before maturity: still slashable
        assertEq(vault.slashableAssets(poolId), 200e18);

        vm.recordLogs();
        vault.slash(poolId, 40e18, sink); // 160e18 / 200e18: r = 0.8
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(_countLogs(logs, address(vault), IStakeVault.WithdrawalsSettled.selector), 0);
        assertEq(_countLogs(logs, address(vault), IStakeVault.Slashed.selector), 1);

        // The claim lost the same 20% as everyone: 50e18 * 0.8 = 40e18.
        assertEq(vault.getWithdrawal(id).value, 40e18);
        vm.warp(t0 + ESCROW);
        assertEq(_claim(alice, id), 40e18);
        // Pool 120e18 / 150e18 (r = 0.8): bob 100e18 -> 80e18, alice's rest 50e18 -> 40e18.
        assertEq(_valueOf(bob, poolId), 80e18);
        assertEq(_valueOf(alice, poolId), 40e18);
        assertEq(weth.balanceOf(address(vault)), 120e18);
    }

    function test_slash_maturedWithdrawalSettledBySlashIsNotHit() public {
        uint256 poolId = _twoStakers();
        uint256 id = _queue(alice, poolId, 50e18);
        vm.warp(t0 + ESCROW); // exactly at maturity: no longer slashable
        assertEq(vault.slashableAssets(poolId), 150e18);

        vm.expectEmit(address(vault));
        emit IStakeVault.WithdrawalsSettled(poolId, 1, 50e18, 50e18);
        vm.expectEmit(address(vault));
        emit IStakeVault.Slashed(poolId, 30e18, sink, 120e18);
        vault.slash(poolId, 30e18, sink);

        IStakeVault.PoolView memory p = vault.getPool(poolId);
        assertEq(p.reserve, 50e18);
        assertEq(p.slashableAssets, 120e18);
        assertEq(p.totalShares, 150e18);
        assertEq(p.settledCount, 1);

        // A later slash cannot reach it either.
        vault.slash(poolId, 60e18, sink); // 60e18 / 150e18
        assertEq(vault.getWithdrawal(id).value, 50e18);
        assertEq(_claim(alice, id), 50e18);
        assertEq(vault.getPool(poolId).reserve, 0);
        // bob 100e18 * 0.4 = 40e18, alice's rest 50e18 * 0.4 = 20e18.
        assertEq(_valueOf(bob, poolId), 40e18);
        assertEq(_valueOf(alice, poolId), 20e18);
        assertEq(weth.balanceOf(address(vault)), 60e18);
    }

    function test_slash_withdrawalClaimedBeforeSlashIsNotHit() public {
        uint256 poolId = _twoStakers();
        uint256 id = _queue(alice, poolId, 50e18);
        vm.warp(t0 + ESCROW);
        assertEq(_claim(alice, id), 50e18); // price 1; pool 150e18 / 150e18

        // The claimed entry settles with nothing left in it.
        vm.expectEmit(address(vault));
        emit IStakeVault.WithdrawalsSettled(poolId, 1, 0, 0);
        vm.expectEmit(address(vault));
        emit IStakeVault.Slashed(poolId, 30e18, sink, 120e18);
        vault.slash(poolId, 30e18, sink);

        assertEq(weth.balanceOf(alice), 50e18);
        // Pool 120e18 / 150e18 (r = 0.8): bob 80e18, alice's rest 40e18.
        assertEq(_valueOf(bob, poolId), 80e18);
        assertEq(_valueOf(alice, poolId), 40e18);
        assertEq(vault.getPool(poolId).reserve, 0);
    }

    function test_slash_settlesOnlyMaturedPrefix() public {
        uint256 poolId = _twoStakers();
        uint256 idA = _queue(alice, poolId, 50e18); // matures t0 + 7d
        vm.warp(t0 + 3 days);
        uint256 idB = _queue(bob, poolId, 50e18); // matures t0 + 10d
        vm.warp(t0 + ESCROW);
        // Only alice's entry settles (50e18 at price 1); bob's stays in the pool: 150e18 / 150e18, slash 75e18.
        vm.expectEmit(address(vault));
        emit IStakeVault.WithdrawalsSettled(poolId, 1, 50e18, 50e18);
        vault.slash(poolId, 75e18, sink); // r = 0.5
        assertEq(vault.getWithdrawal(idA).value, 50e18);
        assertEq(vault.getWithdrawal(idB).value, 25e18);
        vm.warp(t0 + 10 days);
        assertEq(_claim(bob, idB), 25e18);
        assertEq(_claim(alice, idA), 50e18);
    }

    function test_slash_fullSlashQueuedWithdrawalClaimsZero() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        uint256 id = _queue(alice, poolId, 40e18);
        vm.expectEmit(address(vault));
        emit IStakeVault.PoolReset(poolId, 1);
        vm.expectEmit(address(vault));
        emit IStakeVault.Slashed(poolId, 100e18, sink, 0);
        assertEq(vault.slash(poolId, 100e18, sink), 100e18);

        IStakeVault.PoolView memory p = vault.getPool(poolId);
        assertEq(p.slashableAssets, 0);
        assertEq(p.totalShares, 0);
        assertEq(p.escrowedShares, 0);
        assertEq(p.generation, 1);
        assertEq(p.settledCount, 1);
        assertEq(p.sharePrice, 1e18);
        assertEq(vault.getWithdrawal(id).value, 0);

        vm.warp(t0 + ESCROW);
        vm.expectEmit(address(vault));
        emit IStakeVault.WithdrawalCompleted(id, alice, alice, 0);
        assertEq(_claim(alice, id), 0);
        assertTrue(vault.getWithdrawal(id).claimed);
        assertEq(weth.balanceOf(alice), 0);
        assertEq(weth.balanceOf(sink), 100e18);
        assertEq(weth.balanceOf(address(vault)), 0);
    }

    function test_slash_fullSlashActiveSharesQueueAndClaimZero() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        vault.slash(poolId, 100e18, sink);
        assertEq(_sharesOf(alice, poolId), 100e18); // still listed, but worthless
        assertEq(_valueOf(alice, poolId), 0);

        vm.expectEmit(address(vault));
        emit IStakeVault.WithdrawalQueued(_wid(poolId, 0), alice, poolId, 100e18, t0 + ESCROW);
        uint256 id = _queue(alice, poolId, 100e18);
        assertEq(_sharesOf(alice, poolId), 0);
        IStakeVault.WithdrawalView memory w = vault.getWithdrawal(id);
        assertEq(w.shares, 0); // dead shares add nothing to the escrow
        assertEq(w.value, 0);
        assertEq(vault.getPool(poolId).escrowedShares, 0);

        vm.warp(t0 + ESCROW);
        assertEq(_claim(alice, id), 0);
        assertTrue(vault.getWithdrawal(id).claimed);
    }

    function test_slash_fullSlashNewDepositsGetFairShares() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        vault.slash(poolId, 100e18, sink);
        // Pool reset to 0 / 0: bob gets 30e18 * (0 + 1) / (0 + 1) = 30e18 shares.
        (uint256 p2, uint256 shares) = _deposit(bob, opA, weth, 30e18);
        assertEq(p2, poolId);
        assertEq(shares, 30e18);
        assertEq(vault.getPool(poolId).totalShares, 30e18); // alice's dead shares do not dilute
        assertEq(vault.getPool(poolId).sharePrice, 1e18);
        assertEq(_valueOf(alice, poolId), 0);
        assertEq(_valueOf(bob, poolId), 30e18);

        // Alice's dead shares cannot take anything from bob.
        uint256 idA = _queue(alice, poolId, 100e18);
        uint256 idB = _queue(bob, poolId, 30e18);
        vm.warp(t0 + ESCROW);
        assertEq(_claim(alice, idA), 0);
        // 30e18 * (30e18 + 1) / (30e18 + 1) = 30e18: the full deposit back (within the 1 wei allowed).
        assertEq(_claim(bob, idB), 30e18);
        assertEq(weth.balanceOf(bob), 30e18);
        assertEq(weth.balanceOf(address(vault)), 0);

        // Alice re-entering starts a fresh position in the new generation.
        (, uint256 sharesA) = _deposit(alice, opA, weth, 5e18);
        assertEq(sharesA, 5e18);
        assertEq(_sharesOf(alice, poolId), 5e18);
        assertEq(_valueOf(alice, poolId), 5e18);
    }

    function test_slash_twoFullSlashesInARow() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        vault.slash(poolId, 100e18, sink);
        _deposit(bob, opA, weth, 50e18);
        vm.expectEmit(address(vault));
        emit IStakeVault.PoolReset(poolId, 2);
        vault.slash(poolId, 50e18, sink);
        assertEq(vault.getPool(poolId).generation, 2);
        assertEq(_valueOf(bob, poolId), 0);

        (, uint256 shares) = _deposit(carol, opA, weth, 10e18);
        assertEq(shares, 10e18);
        uint256 id = _queue(carol, poolId, 10e18);
        vm.warp(t0 + ESCROW);
        assertEq(_claim(carol, id), 10e18);
        assertEq(weth.balanceOf(sink), 150e18);
        assertEq(weth.balanceOf(address(vault)), 0);
        assertEq(vault.getAsset(address(weth)).tracked, 0);
    }

    function test_slash_fullSlashKeepsSettledWithdrawal() public {
        uint256 poolId = _twoStakers();
        uint256 id = _queue(alice, poolId, 50e18);
        vm.warp(t0 + ESCROW);
        vm.expectEmit(address(vault));
        emit IStakeVault.WithdrawalsSettled(poolId, 1, 50e18, 50e18);
        vm.expectEmit(address(vault));
        emit IStakeVault.PoolReset(poolId, 1);
        vm.expectEmit(address(vault));
        emit IStakeVault.Slashed(poolId, 150e18, sink, 0);
        vault.slash(poolId, 150e18, sink);
        assertEq(vault.getPool(poolId).reserve, 50e18);
        assertEq(_valueOf(bob, poolId), 0);
        assertEq(_claim(alice, id), 50e18);
        assertEq(weth.balanceOf(address(vault)), 0);
    }

    function test_RevertWhen_slashNotSlasher() public {
        uint256 poolId = _twoStakers();
        bytes32 before = _poolHash(poolId);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.NotSlasher.selector, stranger));
        vault.slash(poolId, 1e18, stranger);
        assertEq(_poolHash(poolId), before);
        assertEq(weth.balanceOf(stranger), 0);
    }

    function test_RevertWhen_slashZeroAmount() public {
        uint256 poolId = _twoStakers();
        bytes32 before = _poolHash(poolId);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.ZeroAmount.selector));
        vault.slash(poolId, 0, sink);
        assertEq(_poolHash(poolId), before);
    }

    function test_RevertWhen_slashZeroRecipient() public {
        uint256 poolId = _twoStakers();
        bytes32 before = _poolHash(poolId);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.ZeroAddress.selector));
        vault.slash(poolId, 1e18, address(0));
        assertEq(_poolHash(poolId), before);
        assertEq(weth.balanceOf(address(vault)), 200e18);
    }

    function test_RevertWhen_slashUnknownPool() public {
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.UnknownPool.selector, 1));
        vault.slash(1, 1e18, sink);
    }

    function test_RevertWhen_slashExceedsAssets() public {
        uint256 poolId = _twoStakers();
        _queue(alice, poolId, 50e18);
        vm.warp(t0 + ESCROW);
        // Matured escrow (50e18) is out of reach: 150e18 available.
        bytes32 before = _poolHash(poolId);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.SlashExceedsAssets.selector, poolId, 150e18 + 1, 150e18));
        vault.slash(poolId, 150e18 + 1, sink);
        assertEq(_poolHash(poolId), before);
        assertEq(weth.balanceOf(sink), 0);
        assertEq(weth.balanceOf(address(vault)), 200e18);
        assertEq(vault.getAsset(address(weth)).tracked, 200e18);
        // Exactly the available amount is fine (and returns what was taken).
        assertEq(vault.slash(poolId, 150e18, sink), 150e18);
    }

    // ================================================================== views

    function test_getPool_allFields() public {
        uint256 poolId = _twoStakers(); // 200e18 / 200e18
        _queue(alice, poolId, 50e18); // entry 0, matures t0 + 7d
        vm.warp(t0 + 1 days);
        _queue(bob, poolId, 20e18); // entry 1, matures t0 + 8d
        vault.slash(poolId, 40e18, sink); // 160e18 / 200e18: r = 0.8, both entries hit

        IStakeVault.PoolView memory p = vault.getPool(poolId);
        assertEq(p.poolId, poolId);
        assertEq(p.operator, opA);
        assertEq(p.asset, address(weth));
        assertEq(p.slashableAssets, 160e18);
        assertEq(p.totalShares, 200e18);
        assertEq(p.escrowedShares, 70e18);
        assertEq(p.reserve, 0);
        assertEq(p.sharePrice, 0.8e18); // 1e18 * (160e18 + 1) / (200e18 + 1) -> 0.8e18
        assertEq(p.generation, 0);
        assertEq(p.queueLength, 2);
        assertEq(p.settledCount, 0);

        // Entry 0 matures: the view already treats it as settled at r = 0.8 (50e18 shares -> 40e18).
        vm.warp(t0 + ESCROW);
        p = vault.getPool(poolId);
        assertEq(p.slashableAssets, 120e18);
        assertEq(p.totalShares, 150e18);
        assertEq(p.escrowedShares, 20e18);
        assertEq(p.reserve, 40e18);
        assertEq(p.sharePrice, 0.8e18);
        assertEq(p.settledCount, 1);

        // A slash makes the settlement real: 120e18 - 12e18 = 108e18 over 150e18 (r = 0.72).
        vault.slash(poolId, 12e18, sink);
        p = vault.getPool(poolId);
        assertEq(p.slashableAssets, 108e18);
        assertEq(p.totalShares, 150e18);
        assertEq(p.escrowedShares, 20e18);
        assertEq(p.reserve, 40e18);
        assertEq(p.sharePrice, 0.72e18);
        assertEq(p.settledCount, 1);

        // Entry 1 matures: 20e18 * 0.72 = 14.4e18 moves to the reserve in the view.
        vm.warp(t0 + 8 days);
        p = vault.getPool(poolId);
        assertEq(p.slashableAssets, 93.6e18);
        assertEq(p.totalShares, 130e18);
        assertEq(p.escrowedShares, 0);
        assertEq(p.reserve, 54.4e18);
        assertEq(p.sharePrice, 0.72e18); // 93.6 / 130 = 0.72
        assertEq(p.queueLength, 2);
        assertEq(p.settledCount, 2);
    }

    function test_RevertWhen_getPoolUnknownPool() public {
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.UnknownPool.selector, 0));
        vault.getPool(0);
        _deposit(alice, opA, weth, 1e18);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.UnknownPool.selector, 2));
        vault.getPool(2);
    }

    function test_slashableAssets_excludesMaturedUnsettledEscrow() public {
        uint256 poolId = _twoStakers();
        _queue(alice, poolId, 50e18);
        assertEq(vault.slashableAssets(poolId), 200e18);
        vm.warp(t0 + ESCROW - 1);
        assertEq(vault.slashableAssets(poolId), 200e18);
        vm.warp(t0 + ESCROW);
        assertEq(vault.slashableAssets(poolId), 150e18); // nothing settled in storage yet
        assertEq(vault.getPool(poolId).reserve, 50e18);
    }

    function test_RevertWhen_slashableAssetsUnknownPool() public {
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.UnknownPool.selector, 5));
        vault.slashableAssets(5);
    }

    function test_positionsOf_newestFirstMultiplePools() public {
        _deposit(alice, opA, weth, 10e18); // pool 1
        _deposit(alice, opB, usdc, 500e6); // pool 2
        _deposit(alice, opA, usdc, 200e6); // pool 3
        _deposit(alice, opA, weth, 5e18); // pool 1 again: order does not change

        IStakeVault.PositionView[] memory ps = vault.positionsOf(alice);
        assertEq(ps.length, 3);
        assertEq(ps[0].poolId, 3);
        assertEq(ps[0].operator, opA);
        assertEq(ps[0].asset, address(usdc));
        assertEq(ps[0].shares, 200e6);
        assertEq(ps[0].value, 200e6);
        assertEq(ps[1].poolId, 2);
        assertEq(ps[1].operator, opB);
        assertEq(ps[1].asset, address(usdc));
        assertEq(ps[1].shares, 500e6);
        assertEq(ps[1].value, 500e6);
        assertEq(ps[2].poolId, 1);
        assertEq(ps[2].operator, opA);
        assertEq(ps[2].asset, address(weth));
        assertEq(ps[2].shares, 15e18);
        assertEq(ps[2].value, 15e18);

        assertEq(vault.positionsOf(stranger).length, 0);
    }

    function test_positionsOf_zeroValueForGenerationEndedByFullSlash() public {
        _deposit(alice, opA, weth, 10e18); // pool 1
        (uint256 p2,) = _deposit(alice, opB, usdc, 500e6); // pool 2
        vault.slash(p2, 500e6, sink);
        IStakeVault.PositionView[] memory ps = vault.positionsOf(alice);
        assertEq(ps.length, 2);
        assertEq(ps[0].poolId, 2);
        assertEq(ps[0].shares, 500e6);
        assertEq(ps[0].value, 0);
        assertEq(ps[1].value, 10e18);

        // A new deposit restarts the position in the new generation.
        _deposit(alice, opB, usdc, 100e6);
        ps = vault.positionsOf(alice);
        assertEq(ps.length, 2);
        assertEq(ps[0].shares, 100e6);
        assertEq(ps[0].value, 100e6);
    }

    function test_withdrawalsOf_pagination() public {
        _deposit(alice, opA, weth, 100e18); // pool 1
        _deposit(alice, opB, weth, 100e18); // pool 2
        _deposit(bob, opA, weth, 50e18);
        uint256 a0 = _queue(alice, 1, 10e18); // (1, 0)
        vm.warp(t0 + 1 days);
        uint256 b0 = _queue(bob, 1, 5e18); // (1, 1)
        uint256 a1 = _queue(alice, 2, 20e18); // (2, 0)
        vm.warp(t0 + 2 days);
        uint256 a2 = _queue(alice, 1, 30e18); // (1, 2)
        assertEq(a0, _wid(1, 0));
        assertEq(b0, _wid(1, 1));
        assertEq(a1, _wid(2, 0));
        assertEq(a2, _wid(1, 2));

        (IStakeVault.WithdrawalView[] memory page, uint256 next) = vault.withdrawalsOf(alice, 0, 2);
        assertEq(page.length, 2);
        assertEq(page[0].id, a2);
        assertEq(page[0].shares, 30e18);
        assertEq(page[0].maturity, t0 + 2 days + ESCROW);
        assertEq(page[1].id, a1);
        assertEq(page[1].poolId, 2);
        assertEq(page[1].shares, 20e18);
        assertEq(next, a0);

        (page, next) = vault.withdrawalsOf(alice, next, 2);
        assertEq(page.length, 1);
        assertEq(page[0].id, a0);
        assertEq(page[0].staker, alice);
        assertEq(page[0].shares, 10e18);
        assertEq(next, 0);

        (page, next) = vault.withdrawalsOf(alice, 0, 10);
        assertEq(page.length, 3);
        assertEq(next, 0);

        (page, next) = vault.withdrawalsOf(bob, 0, 10);
        assertEq(page.length, 1);
        assertEq(page[0].id, b0);
        assertEq(page[0].staker, bob);
        assertEq(next, 0);

        // limit 0: nothing returned, the cursor points at the newest withdrawal.
        (page, next) = vault.withdrawalsOf(alice, 0, 0);
        assertEq(page.length, 0);
        assertEq(next, a2);
    }

    function test_withdrawalsOf_emptyForStaker() public view {
        (IStakeVault.WithdrawalView[] memory page, uint256 next) = vault.withdrawalsOf(stranger, 0, 5);
        assertEq(page.length, 0);
        assertEq(next, 0);
    }

    function test_getWithdrawal_valueMaturedClaimed() public {
        uint256 poolId = _twoStakers();
        uint256 id = _queue(alice, poolId, 50e18);
        IStakeVault.WithdrawalView memory w = vault.getWithdrawal(id);
        assertEq(w.id, id);
        assertEq(w.poolId, poolId);
        assertEq(w.staker, alice);
        assertEq(w.asset, address(weth));
        assertEq(w.shares, 50e18);
        assertEq(w.value, 50e18);
        assertEq(w.maturity, t0 + ESCROW);
        assertFalse(w.matured);
        assertFalse(w.claimed);

        vault.slash(poolId, 50e18, sink); // 150e18 / 200e18: r = 0.75 -> 37.5e18
        assertEq(vault.getWithdrawal(id).value, 37.5e18);

        vm.warp(t0 + ESCROW - 1);
        assertFalse(vault.getWithdrawal(id).matured);
        vm.warp(t0 + ESCROW);
        w = vault.getWithdrawal(id);
        assertTrue(w.matured);
        assertFalse(w.claimed);
        assertEq(w.value, 37.5e18);

        _claim(alice, id);
        w = vault.getWithdrawal(id);
        assertTrue(w.claimed);
        assertTrue(w.matured);
        assertEq(w.value, 0);
        assertEq(w.shares, 50e18);
    }

    function test_RevertWhen_getWithdrawalUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.UnknownWithdrawal.selector, _wid(1, 0)));
        vault.getWithdrawal(_wid(1, 0));
    }

    function test_operatorPools() public {
        _deposit(alice, opA, weth, 1e18); // 1
        _deposit(alice, opB, usdc, 1e6); // 2
        _deposit(alice, opA, usdc, 1e6); // 3
        uint256[] memory a = vault.operatorPools(opA);
        assertEq(a.length, 2);
        assertEq(a[0], 1);
        assertEq(a[1], 3);
        uint256[] memory b = vault.operatorPools(opB);
        assertEq(b.length, 1);
        assertEq(b[0], 2);
        assertEq(vault.operatorPools(stranger).length, 0);
    }

    function test_getAsset() public {
        IStakeVault.AssetView memory a = vault.getAsset(address(usdc));
        assertTrue(a.allowed);
        assertEq(a.decimals, 6);
        assertEq(a.tracked, 0);
        assertEq(a.balance, 0);

        _deposit(alice, opA, usdc, 100e6);
        usdc.mint(address(vault), 5e6);
        a = vault.getAsset(address(usdc));
        assertEq(a.tracked, 100e6);
        assertEq(a.balance, 105e6);

        MockERC20 dai = new MockERC20("Dai", "DAI", 18);
        dai.mint(address(vault), 3e18);
        a = vault.getAsset(address(dai));
        assertFalse(a.allowed);
        assertEq(a.decimals, 0);
        assertEq(a.tracked, 0);
        assertEq(a.balance, 3e18);

        a = vault.getAsset(stranger); // an EOA: no call, balance 0
        assertFalse(a.allowed);
        assertEq(a.balance, 0);
    }

    function test_convertToAssetsAndShares() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 100e18);
        assertEq(vault.convertToShares(poolId, 5e18), 5e18);
        assertEq(vault.convertToAssets(poolId, 5e18), 5e18);

        vault.slash(poolId, 20e18, sink); // 80e18 / 100e18
        // floor(10e18 * (80e18 + 1) / (100e18 + 1)) = 8e18 (r = 0.8)
        assertEq(vault.convertToAssets(poolId, 10e18), 8e18);
        assertEq(vault.convertToAssets(poolId, 100e18), 80e18);
        assertEq(vault.convertToAssets(poolId, 0), 0);
        // floor(8e18 * (100e18 + 1) / (80e18 + 1)): 800e36 + 8e18 = 10e18 * (80e18 + 1) - 2e18 -> 10e18 - 1
        assertEq(vault.convertToShares(poolId, 8e18), 10e18 - 1);
        assertEq(vault.convertToShares(poolId, 0), 0);

        // After a full slash the price is back to one.
        vault.slash(poolId, 80e18, sink);
        assertEq(vault.convertToShares(poolId, 7e18), 7e18);
        assertEq(vault.convertToAssets(poolId, 7e18), 7e18);
    }

    function test_RevertWhen_convertUnknownPool() public {
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.UnknownPool.selector, 3));
        vault.convertToAssets(3, 1);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.UnknownPool.selector, 3));
        vault.convertToShares(3, 1);
    }

    function test_poolOfAndPoolCount() public {
        assertEq(vault.poolCount(), 0);
        assertEq(vault.poolOf(opA, address(weth)), 0);
        _deposit(alice, opA, weth, 1e18);
        _deposit(alice, opB, weth, 1e18);
        _deposit(bob, opA, weth, 1e18);
        assertEq(vault.poolCount(), 2);
        assertEq(vault.poolOf(opA, address(weth)), 1);
        assertEq(vault.poolOf(opB, address(weth)), 2);
        assertEq(vault.poolOf(opA, address(usdc)), 0);
    }

    // ================================================================== tiers

    /// @dev alice and bob each hold 100e18 shares of base pool 1 (opA, WETH, price 1); tiers are allowed over it and
    /// alice moves 40e18 base shares into opB's tier: tier pool 2 holds 40e18 base shares over 40e18 tier shares.
    function _tierSetup() internal returns (uint256 basePool, uint256 tierPool) {
        basePool = _twoStakers();
        vault.setTierAllowed(basePool, true);
        _approveTierOperators(basePool);
        vm.prank(alice);
        (tierPool,) = vault.depositToTier(basePool, opB, 40e18);
    }

    function test_setTierAllowed_setsAndEmits() public {
        (uint256 basePool,) = _deposit(alice, opA, weth, 1e18);
        assertFalse(vault.tierAllowed(basePool));
        vm.expectEmit(address(vault));
        emit IStakeVault.TierAllowed(basePool, true);
        vault.setTierAllowed(basePool, true);
        _approveTierOperators(basePool);
        assertTrue(vault.tierAllowed(basePool));
        vm.expectEmit(address(vault));
        emit IStakeVault.TierAllowed(basePool, false);
        vault.setTierAllowed(basePool, false);
        assertFalse(vault.tierAllowed(basePool));
    }

    function test_RevertWhen_setTierAllowedNotOwner() public {
        (uint256 basePool,) = _deposit(alice, opA, weth, 1e18);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vault.setTierAllowed(basePool, true);
        assertFalse(vault.tierAllowed(basePool));
    }

    function test_RevertWhen_setTierAllowedUnknownPool() public {
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.UnknownPool.selector, 1));
        vault.setTierAllowed(1, true);
        assertFalse(vault.tierAllowed(1));
    }

    function test_RevertWhen_setTierAllowedOnTier() public {
        (, uint256 tierPool) = _tierSetup();
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.TierNotAllowed.selector, tierPool));
        vault.setTierAllowed(tierPool, true);
        assertFalse(vault.tierAllowed(tierPool));
        // ... so a tier over a tier cannot be opened either.
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.TierNotAllowed.selector, tierPool));
        vault.depositToTier(tierPool, opA, 1e18);
    }

    function test_RevertWhen_setAssetAllowedTierPseudoAsset() public {
        // Addresses up to 2^32 - 1 stand for tier collateral: refused even when only disallowing.
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.InvalidAsset.selector, address(1)));
        vault.setAssetAllowed(address(1), false);
        address top = address(uint160(type(uint32).max));
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.InvalidAsset.selector, top));
        vault.setAssetAllowed(top, true);
    }

    function test_RevertWhen_depositTierPseudoAsset() public {
        (uint256 basePool,) = _deposit(alice, opA, weth, 1e18);
        vault.setTierAllowed(basePool, true);
        _approveTierOperators(basePool);
        address pseudo = vault.tierAsset(basePool);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.AssetNotAllowed.selector, pseudo));
        vault.deposit(opB, pseudo, 1);
        assertEq(vault.poolCount(), 1);
    }

    function test_depositToTier_createsTierPoolAndMovesShares() public {
        uint256 basePool = _twoStakers();
        vault.setTierAllowed(basePool, true);
        _approveTierOperators(basePool);
        vm.recordLogs();
        vm.expectEmit(address(vault));
        emit IStakeVault.PoolCreated(2, opB, address(uint160(basePool)));
        vm.expectEmit(address(vault));
        emit IStakeVault.TierDeposited(alice, basePool, 2, 40e18, 40e18);
        vm.prank(alice);
        (uint256 tierPool, uint256 shares) = vault.depositToTier(basePool, opB, 40e18);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(_countLogs(logs, address(weth), keccak256("Transfer(address,address,uint256)")), 0);

        // Empty tier at price 1: 40e18 * (0 + 1) / (0 + 1) = 40e18 tier shares.
        assertEq(tierPool, 2);
        assertEq(shares, 40e18);
        assertEq(_sharesOf(alice, basePool), 60e18);
        assertEq(_sharesOf(alice, tierPool), 40e18);
        // The base pool's totals and price do not move.
        IStakeVault.PoolView memory b = vault.getPool(basePool);
        assertEq(b.slashableAssets, 200e18);
        assertEq(b.totalShares, 200e18);
        assertEq(b.sharePrice, 1e18);
        IStakeVault.PoolView memory t = vault.getPool(tierPool);
        assertEq(t.operator, opB);
        assertEq(t.asset, address(uint160(basePool)));
        assertEq(t.totalShares, 40e18);
        assertEq(vault.slashableAssets(tierPool), 40e18); // 40e18 base shares at price 1
        assertEq(vault.poolOf(opB, vault.tierAsset(basePool)), tierPool);
        assertEq(weth.balanceOf(address(vault)), 200e18);
        assertEq(vault.getAsset(address(weth)).tracked, 200e18);
    }

    function test_depositToTier_secondDepositAtTierPrice() public {
        (uint256 basePool, uint256 tierPool) = _tierSetup();
        // Tier slash of 10e18 at base price 1 burns ceil(10e18) = 10e18 base shares: tier 30e18 / 40e18.
        vault.slash(tierPool, 10e18, sink);
        // shares = floor(30e18 * (40e18 + 1) / (30e18 + 1)): 1200e36 + 30e18 = 40e18 * (30e18 + 1) - 10e18
        //        -> 40e18 - 1.
        vm.expectEmit(address(vault));
        emit IStakeVault.TierDeposited(bob, basePool, tierPool, 30e18, 40e18 - 1);
        vm.prank(bob);
        (uint256 p, uint256 shares) = vault.depositToTier(basePool, opB, 30e18);
        assertEq(p, tierPool);
        assertEq(shares, 40e18 - 1);
        assertEq(_sharesOf(bob, basePool), 70e18);
        assertEq(vault.getPool(tierPool).totalShares, 80e18 - 1);
        assertEq(vault.poolCount(), 2);
    }

    function test_RevertWhen_depositToTierZeroShares() public {
        uint256 basePool = _twoStakers();
        vault.setTierAllowed(basePool, true);
        _approveTierOperators(basePool);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.ZeroAmount.selector));
        vault.depositToTier(basePool, opB, 0);
        assertEq(vault.poolCount(), 1);
    }

    function test_RevertWhen_depositToTierPaused() public {
        uint256 basePool = _twoStakers();
        vault.setTierAllowed(basePool, true);
        _approveTierOperators(basePool);
        vault.pause();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.DepositsPaused.selector));
        vault.depositToTier(basePool, opB, 1e18);
        assertEq(_sharesOf(alice, basePool), 100e18);
        assertEq(vault.poolCount(), 1);
    }

    function test_RevertWhen_depositToTierNotAllowed() public {
        uint256 basePool = _twoStakers();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.TierNotAllowed.selector, basePool));
        vault.depositToTier(basePool, opB, 1e18);
        assertEq(_sharesOf(alice, basePool), 100e18);

        // Forbidding again after a tier exists stops new tier deposits.
        vault.setTierAllowed(basePool, true);
        _approveTierOperators(basePool);
        vm.prank(alice);
        (uint256 tierPool,) = vault.depositToTier(basePool, opB, 1e18);
        vault.setTierAllowed(basePool, false);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.TierNotAllowed.selector, basePool));
        vault.depositToTier(basePool, opB, 1e18);
        assertEq(_sharesOf(alice, basePool), 99e18);
        assertEq(_sharesOf(alice, tierPool), 1e18);
    }

    function test_RevertWhen_depositToTierInsufficientShares() public {
        uint256 basePool = _twoStakers();
        vault.setTierAllowed(basePool, true);
        _approveTierOperators(basePool);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.InsufficientShares.selector, 100e18, 100e18 + 1));
        vault.depositToTier(basePool, opB, 100e18 + 1);
        assertEq(_sharesOf(alice, basePool), 100e18);
        assertEq(vault.poolCount(), 1);

        // Shares of a generation ended by a full slash count as zero.
        vault.slash(basePool, 200e18, sink);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.InsufficientShares.selector, 0, 1));
        vault.depositToTier(basePool, opB, 1);
    }

    function test_RevertWhen_depositToTierUnknownOperator() public {
        uint256 basePool = _twoStakers();
        vault.setTierAllowed(basePool, true);
        _approveTierOperators(basePool);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.UnknownOperator.selector, stranger));
        vault.depositToTier(basePool, stranger, 1e18);
        assertEq(_sharesOf(alice, basePool), 100e18);
        assertEq(vault.poolCount(), 1);
    }

    function test_completeWithdrawal_tierPaysBaseSharesIntoReceiverPosition() public {
        (uint256 basePool, uint256 tierPool) = _tierSetup();
        uint256 id = _queue(alice, tierPool, 40e18);
        assertEq(id, _wid(tierPool, 0));
        vm.warp(t0 + ESCROW);
        vm.expectEmit(address(vault));
        emit IStakeVault.WithdrawalCompleted(id, alice, carol, 40e18);
        vm.prank(alice);
        uint256 paid = vault.completeWithdrawal(id, carol);
        // 40e18 tier shares * (40e18 + 1) / (40e18 + 1) = 40e18 base shares, not tokens.
        assertEq(paid, 40e18);
        assertEq(weth.balanceOf(carol), 0);
        assertEq(weth.balanceOf(address(vault)), 200e18);
        assertEq(vault.getAsset(address(weth)).tracked, 200e18);
        assertEq(_sharesOf(carol, basePool), 40e18);
        assertEq(vault.getPool(basePool).totalShares, 200e18);

        // The base shares leave the vault only through the base pool's own escrow.
        uint256 baseId = _queue(carol, basePool, 40e18);
        vm.warp(t0 + 2 * ESCROW);
        assertEq(_claim(carol, baseId), 40e18);
        assertEq(weth.balanceOf(carol), 40e18);
    }

    function test_slash_tierPaysBaseSharesAndLeavesTheBase() public {
        (uint256 basePool, uint256 tierPool) = _tierSetup();
        vault.slash(basePool, 50e18, sink); // base 150e18 / 200e18: r = 0.75
        // The tier's 40e18 base shares are worth 40e18 * 0.75 = 30e18.
        assertEq(vault.slashableAssets(tierPool), 30e18);
        bytes32 baseBefore = _poolHash(basePool);

        // Pay floor(15e18 * (200e18 + 1) / (150e18 + 1)): 3000e36 + 15e18 = 20e18 * (150e18 + 1) - 5e18 -> 20e18 - 1
        // (rounded down, against the AVS: the tier never loses more than the amount).
        vm.expectEmit(address(vault));
        emit IStakeVault.Slashed(tierPool, 15e18, sink, 15e18);
        vm.expectEmit(address(vault));
        emit IStakeVault.TierSlashPaid(tierPool, basePool, sink, 20e18 - 1);
        assertEq(vault.slash(tierPool, 15e18, sink), 15e18);

        // The base pool does not move: the shares changed owner inside it.
        assertEq(_poolHash(basePool), baseBefore);
        IStakeVault.PoolView memory b = vault.getPool(basePool);
        assertEq(b.slashableAssets, 150e18);
        assertEq(b.totalShares, 200e18);
        assertEq(b.sharePrice, 0.75e18);
        assertEq(_valueOf(bob, basePool), 75e18);
        assertEq(_valueOf(alice, basePool), 45e18);
        // The tier keeps 20e18 + 1 base shares worth 15e18; the sink holds the other 20e18 - 1, worth 15e18 - 1 wei.
        assertEq(vault.slashableAssets(tierPool), 15e18);
        assertEq(_sharesOf(sink, basePool), 20e18 - 1);
        assertEq(_valueOf(sink, basePool), 15e18 - 1);
        assertEq(weth.balanceOf(sink), 50e18, "only the base slash paid tokens");
        assertEq(weth.balanceOf(address(vault)), 150e18);
        assertEq(vault.getAsset(address(weth)).tracked, 150e18);
    }

    function test_slash_baseSlashLowersTierValue() public {
        (uint256 basePool, uint256 tierPool) = _tierSetup();
        vault.slash(basePool, 100e18, sink); // base 100e18 / 200e18: r = 0.5
        assertEq(vault.slashableAssets(tierPool), 20e18); // 40e18 base shares * 0.5
        uint256 id = _queue(alice, tierPool, 40e18);
        vm.warp(t0 + ESCROW);
        assertEq(_claim(alice, id), 40e18); // still 40e18 base shares ...
        assertEq(_valueOf(alice, basePool), 50e18); // ... and 100e18 base shares * 0.5 = 50e18
    }

    function test_slash_tierFullSlashResetsTierOnly() public {
        (uint256 basePool, uint256 tierPool) = _tierSetup();
        vm.expectEmit(address(vault));
        emit IStakeVault.PoolReset(tierPool, 1);
        vm.expectEmit(address(vault));
        emit IStakeVault.Slashed(tierPool, 40e18, sink, 0);
        assertEq(vault.slash(tierPool, 40e18, sink), 40e18);
        assertEq(vault.getPool(tierPool).generation, 1);
        assertEq(vault.getPool(basePool).generation, 0);
        assertEq(vault.getPool(basePool).slashableAssets, 200e18);
        assertEq(vault.getPool(basePool).totalShares, 200e18);
        assertEq(_sharesOf(sink, basePool), 40e18);
        assertEq(_valueOf(bob, basePool), 100e18);
        assertEq(_valueOf(alice, basePool), 60e18);
        assertEq(_valueOf(alice, tierPool), 0);
    }

    function test_RevertWhen_slashTierExceedsAssets() public {
        (uint256 basePool, uint256 tierPool) = _tierSetup();
        bytes32 baseBefore = _poolHash(basePool);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.SlashExceedsAssets.selector, tierPool, 40e18 + 1, 40e18));
        vault.slash(tierPool, 40e18 + 1, sink);
        assertEq(_poolHash(basePool), baseBefore);
        assertEq(weth.balanceOf(sink), 0);
    }

    function test_slash_baseFullSlashEndsTier() public {
        (uint256 basePool, uint256 tierPool) = _tierSetup();
        uint256 id = _queue(alice, tierPool, 10e18);
        vault.slash(basePool, 200e18, sink);

        (address op, uint32 gen, uint256 base) = vault.poolKey(tierPool);
        assertEq(op, opB);
        assertEq(gen, 1); // the generation the tier gets at its next touch
        assertEq(base, basePool);
        assertEq(vault.slashableAssets(tierPool), 0);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.SlashExceedsAssets.selector, tierPool, 1, 0));
        vault.slash(tierPool, 1, sink);

        // A new base generation and a new tier deposit: the tier resets first, then mints at price 1.
        _deposit(bob, opA, weth, 10e18); // base 10e18 / 10e18, bob's old shares replaced
        vm.expectEmit(address(vault));
        emit IStakeVault.PoolReset(tierPool, 1);
        vm.expectEmit(address(vault));
        emit IStakeVault.TierDeposited(bob, basePool, tierPool, 10e18, 10e18);
        vm.prank(bob);
        vault.depositToTier(basePool, opB, 10e18);
        assertEq(vault.getPool(tierPool).generation, 1);
        assertEq(vault.getPool(tierPool).totalShares, 10e18);
        assertEq(_valueOf(alice, tierPool), 0);

        // alice's old tier withdrawal is worth nothing; bob's tier stake is intact.
        vm.warp(t0 + ESCROW);
        assertEq(_claim(alice, id), 0);
        assertEq(_sharesOf(alice, basePool), 60e18); // dead shares, not credited with anything
        assertEq(vault.slashableAssets(tierPool), 10e18);
    }

    function test_slash_baseFullSlashVoidsSettledTierWithdrawal() public {
        (uint256 basePool, uint256 tierPool) = _tierSetup();
        uint256 id = _queue(alice, tierPool, 10e18);
        vm.warp(t0 + ESCROW);
        // A tier slash settles the matured entry into the tier's reserve first: 10e18 base shares at price 1.
        vm.expectEmit(address(vault));
        emit IStakeVault.WithdrawalsSettled(tierPool, 1, 10e18, 10e18);
        vault.slash(tierPool, 1e18, sink); // pays ceil(1e18) = 1e18 base shares to the sink: base 200e18 / 200e18
        assertEq(vault.getPool(tierPool).reserve, 10e18);

        // The reserve is base shares, still inside the base pool: a full base slash makes them worthless.
        vault.slash(basePool, 200e18, sink);
        _deposit(bob, opA, weth, 50e18); // new base generation: 50e18 / 50e18
        assertEq(_claim(alice, id), 0);
        assertEq(_sharesOf(alice, basePool), 60e18); // nothing credited (still the dead shares)
        assertEq(_valueOf(alice, basePool), 0);
        assertEq(_valueOf(bob, basePool), 50e18);
        assertEq(vault.getPool(basePool).totalShares, 50e18);
    }

    function test_slash_tierSlashOfEveryBaseShareLeavesTheBase() public {
        (uint256 basePool,) = _deposit(alice, opA, weth, 100e18);
        vault.setTierAllowed(basePool, true);
        _approveTierOperators(basePool);
        vm.prank(alice);
        (uint256 tierPool,) = vault.depositToTier(basePool, opB, 100e18); // the tier holds every base share
        vm.expectEmit(address(vault));
        emit IStakeVault.PoolReset(tierPool, 1);
        vm.expectEmit(address(vault));
        emit IStakeVault.Slashed(tierPool, 100e18, sink, 0);
        vm.expectEmit(address(vault));
        emit IStakeVault.TierSlashPaid(tierPool, basePool, sink, 100e18);
        vault.slash(tierPool, 100e18, sink);
        // The base keeps its generation, value and price; the sink now holds every base share.
        assertEq(vault.getPool(basePool).generation, 0);
        assertEq(vault.getPool(basePool).slashableAssets, 100e18);
        assertEq(vault.getPool(basePool).totalShares, 100e18);
        assertEq(_sharesOf(sink, basePool), 100e18);
        (, uint32 gen,) = vault.poolKey(tierPool);
        assertEq(gen, 1, "reset by its own slash");
        (, uint256 shares) = _deposit(bob, opA, weth, 10e18);
        assertEq(shares, 10e18);
        assertEq(weth.balanceOf(address(vault)), 110e18);
    }

    function test_completeRedelegation_tierToAnotherOperatorsTier() public {
        (uint256 basePool, uint256 tierPool) = _tierSetup();
        uint256 id = _queue(alice, tierPool, 40e18);
        vm.warp(t0 + ESCROW);
        address pseudo = vault.tierAsset(basePool);
        vm.expectEmit(address(vault));
        emit IStakeVault.PoolCreated(3, opA, pseudo);
        vm.expectEmit(address(vault));
        emit IStakeVault.Redelegated(id, alice, 3, 40e18, 40e18);
        vm.prank(alice);
        (uint256 toPool, uint256 shares) = vault.completeRedelegation(id, opA);
        assertEq(toPool, 3);
        assertEq(shares, 40e18);
        assertEq(vault.baseOf(3), basePool);
        assertEq(_sharesOf(alice, 3), 40e18);
        assertEq(_sharesOf(alice, basePool), 60e18); // no base shares credited
        assertEq(vault.getPool(basePool).totalShares, 200e18);
        assertEq(weth.balanceOf(address(vault)), 200e18);
    }

    function test_RevertWhen_completeRedelegationTierNotAllowed() public {
        (uint256 basePool, uint256 tierPool) = _tierSetup();
        uint256 id = _queue(alice, tierPool, 40e18);
        vm.warp(t0 + ESCROW);
        vault.setTierAllowed(basePool, false);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.TierNotAllowed.selector, basePool));
        vault.completeRedelegation(id, opA);
        assertFalse(vault.getWithdrawal(id).claimed);
        assertEq(vault.poolCount(), 2);
    }

    function test_tierViews_tierAssetBaseOfPoolKey() public {
        assertEq(vault.tierAsset(1), address(1));
        assertEq(vault.tierAsset(type(uint32).max), address(uint160(type(uint32).max)));
        (uint256 basePool, uint256 tierPool) = _tierSetup();
        assertEq(vault.baseOf(basePool), 0);
        assertEq(vault.baseOf(tierPool), basePool);
        (address op, uint32 gen, uint256 base) = vault.poolKey(basePool);
        assertEq(op, opA);
        assertEq(gen, 0);
        assertEq(base, 0);
        (op, gen, base) = vault.poolKey(tierPool);
        assertEq(op, opB);
        assertEq(gen, 0);
        assertEq(base, basePool);
        uint256[] memory pools = vault.operatorPools(opB);
        assertEq(pools.length, 1);
        assertEq(pools[0], tierPool);

        vault.slash(basePool, 200e18, sink);
        (op, gen, base) = vault.poolKey(basePool);
        assertEq(gen, 1);
        assertEq(base, 0);
    }

    function test_RevertWhen_tierViewsUnknownPool() public {
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.UnknownPool.selector, 4));
        vault.baseOf(4);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.UnknownPool.selector, 4));
        vault.poolKey(4);
    }

    // ------------------------------------------------------------------ regressions

    /// @dev Before the tier is touched again, its views must already show what a claim would pay after a full slash
    /// of its base pool: nothing.
    function test_tierViews_zeroAfterBaseFullSlash() public {
        (uint256 base,) = _deposit(alice, opA, weth, 100e18);
        vault.setTierAllowed(base, true);
        _approveTierOperators(base);
        vm.prank(alice);
        (uint256 tier,) = vault.depositToTier(base, opB, 40e18);
        uint256 id = _queue(alice, tier, 10e18);
        // Before: 10 tier shares = 10 base shares; alice holds 30 more tier shares.
        assertEq(vault.getWithdrawal(id).value, 10e18);
        vault.slash(base, 100e18, sink);

        assertEq(vault.getWithdrawal(id).value, 0, "queued tier withdrawal");
        IStakeVault.PositionView[] memory ps = vault.positionsOf(alice);
        for (uint256 i; i < ps.length; ++i) {
            assertEq(ps[i].value, 0, "every position of alice is worthless");
        }
        assertEq(vault.slashableAssets(tier), 0);
        assertEq(vault.convertToAssets(tier, 30e18), 0);
        IStakeVault.PoolView memory v = vault.getPool(tier);
        assertEq(v.slashableAssets, 0);
        assertEq(v.totalShares, 0);
        assertEq(v.escrowedShares, 0);
        assertEq(v.sharePrice, 1e18, "as the next touch will leave it: empty, price one");
        assertEq(v.generation, 1);
        assertEq(v.settledCount, 1);
        vm.warp(block.timestamp + ESCROW);
        assertEq(_claim(alice, id), 0, "the claim agrees with the view");
        assertEq(vault.getPool(tier).generation, 1, "the claim synced the tier to what the view showed");
    }

    /// @dev A caller asking for "everything" with limit = type(uint256).max gets every withdrawal, not a panic.
    function test_withdrawalsOf_hugeLimit() public {
        (uint256 poolId,) = _deposit(alice, opA, weth, 10e18);
        _queue(alice, poolId, 1e18);
        _queue(alice, poolId, 2e18);
        (IStakeVault.WithdrawalView[] memory page, uint256 next) = vault.withdrawalsOf(alice, 0, type(uint256).max);
        assertEq(page.length, 2);
        assertEq(page[0].shares, 2e18, "newest first");
        assertEq(page[1].shares, 1e18);
        assertEq(next, 0);
    }
}

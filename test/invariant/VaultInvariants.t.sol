// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {console} from "forge-std/console.sol";

import {IStakeVault} from "../../contracts/interfaces/IStakeVault.sol";
import {MockERC20} from "../mocks/MockERC20.sol";
import {VaultFixture} from "../utils/VaultFixture.sol";
import {VaultHandler} from "./handlers/VaultHandler.sol";

/// @notice Invariants of the vault's accounting under random sequences of deposits, withdrawals, claims,
/// redelegations, operator registrations and key rotations, slashes of up to 100% and time jumps of up to 10 days.
/// @dev Every check reads the vault only through its public views and compares it with the handler's independent
/// ghost ledger of tokens in and out. Forge runs one campaign per `invariant_*` function, so the properties are
/// grouped in three campaigns to keep the CI run short: `invariant_accounting` (every view-only property, from one
/// read of the state per call), `invariant_claimsAndRounding` (claims and deposits tried inside snapshots) and
/// `invariant_poolsKeepWorking`, kept apart because it currently fails (share inflation, see its NatSpec) and a failing
/// property ends its campaign. Each property is its own `_check*` function below.
contract VaultInvariantsTest is VaultFixture {
    VaultHandler internal handler;
    address internal slasher = makeAddr("slasher");

    MockERC20[] internal assetList;
    address[] internal stakerList;

    function _wireSlasher() internal override {
        vault.setSlasher(slasher);
    }

    function setUp() public override {
        super.setUp();

        assetList.push(usdc);
        assetList.push(wbtc);
        assetList.push(weth);
        stakerList.push(makeAddr("staker1"));
        stakerList.push(makeAddr("staker2"));
        stakerList.push(makeAddr("staker3"));
        stakerList.push(makeAddr("staker4"));
        address[] memory ops = new address[](2);
        ops[0] = opA;
        ops[1] = opB;
        address[] memory opKeys = new address[](2);
        opKeys[0] = keyA;
        opKeys[1] = keyB;

        handler = new VaultHandler(vault, registry, assetList, stakerList, ops, opKeys, slasher, sink);
        // Every run starts with stake from every staker in all six pools, so that queues, claims and slashes have
        // something to act on from the first call. Fuzzed deposits then add small and odd amounts.
        for (uint256 s; s < stakerList.length; ++s) {
            for (uint256 pool; pool < 6; ++pool) {
                handler.deposit(s, pool % 2, pool / 2, uint256(keccak256(abi.encode(s, pool))));
            }
        }

        bytes4[] memory selectors = new bytes4[](8);
        selectors[0] = VaultHandler.deposit.selector;
        selectors[1] = VaultHandler.queueWithdrawal.selector;
        selectors[2] = VaultHandler.completeWithdrawal.selector;
        selectors[3] = VaultHandler.completeRedelegation.selector;
        selectors[4] = VaultHandler.registerOperator.selector;
        selectors[5] = VaultHandler.rotateKey.selector;
        selectors[6] = VaultHandler.slash.selector;
        selectors[7] = VaultHandler.warp.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    // ================================================================== invariants (campaign entry points)

    /// @notice Conservation, share accounting, matured-escrow coverage, no profit, slash precision and key attribution.
    function invariant_accounting() public view {
        State memory st = _observe();
        _checkConservation(st);
        _checkShareAccounting(st);
        _checkNoStakerProfit();
        _checkSlashesArePrecise();
        _checkRegistryAttribution();
    }

    /// @notice Every matured withdrawal is claimable for its shown value, and rounding never favours a depositor.
    function invariant_claimsAndRounding() public {
        _checkMaturedWithdrawalsClaimable();
        _checkRoundingFavoursPool();
    }

    /// @notice Pools keep working: after any sequence, a fresh deposit of one whole token (1e6 USDC, 1e8 WBTC, 1e18
    /// WETH) into any pool succeeds and mints shares, and no ordinary deposit or redelegation (up to a million whole
    /// tokens) was refused with `AmountTooLarge`.
    /// @dev FAILS on the current vault: a slash that leaves a sliver of a pool's assets (anything but exactly zero)
    /// does not reset the pool, so its shares per asset grow by up to the slashed ratio and ordinary deposits overflow
    /// the 128-bit share total. Minimal reproduction: deposit 1000e18 WETH, slash 1000e18 - 1, deposit 1e18 ->
    /// `AmountTooLarge(5e38)`.
    function invariant_poolsKeepWorking() public {
        uint256 poolCount = vault.poolCount();
        for (uint256 id = 1; id <= poolCount; ++id) {
            IStakeVault.PoolView memory p = vault.getPool(id);
            uint256 amount = 10 ** MockERC20(p.asset).decimals();
            uint256 snapshot = vm.snapshotState();
            (bool ok, uint256 shares, bytes4 refusal) = _freshDeposit(p.operator, MockERC20(p.asset), amount);
            vm.revertToState(snapshot);
            // A pool slashed below 1e-6 of its price takes no new stake, by name (the price floor would keep it from
            // being slashed): refused only then. The vault tests its raw totals; the view settles matured escrow,
            // which never lowers the price, so the view's shares are at most the raw ones.
            if (refusal == IStakeVault.PoolPriceTooLow.selector) {
                assertGt(
                    p.totalShares + p.escrowedShares + 1,
                    p.slashableAssets * vault.MIN_DEPOSIT_PRICE_INVERSE() / 2,
                    "PoolPriceTooLow on a pool priced above the limit"
                );
                continue;
            }
            assertTrue(
                ok,
                string.concat(
                    "fresh deposit of one token refused by pool ",
                    vm.toString(id),
                    " holding ",
                    vm.toString(p.slashableAssets),
                    " assets over ",
                    vm.toString(p.totalShares),
                    " shares"
                )
            );
            assertGt(shares, 0, "fresh deposit minted no shares");
        }
        if (handler.ghostShareOverflows() != 0) {
            (uint256 poolId, uint256 amount, uint256 poolAssets, uint256 poolShares) = handler.shareOverflow();
            assertTrue(
                false,
                string.concat(
                    "AmountTooLarge on a deposit/redelegation of ",
                    vm.toString(amount),
                    " into pool ",
                    vm.toString(poolId),
                    " holding ",
                    vm.toString(poolAssets),
                    " assets over ",
                    vm.toString(poolShares),
                    " shares (share inflation: a slash left a sliver of the assets without resetting the pool)"
                )
            );
        }
    }

    /// @notice End of every run: everybody can still leave. Inside a snapshot every staker queues all their shares,
    /// time passes the escrow, and every unclaimed withdrawal is claimed; all of it must succeed for exactly the shown
    /// value, every pool must end empty, and what stays in a pool's reserve is only settlement dust (< 1 wei per
    /// queued withdrawal). Then the run's call counts are logged.
    function afterInvariant() public {
        _logRun();
        uint256 snapshot = vm.snapshotState();
        for (uint256 s; s < stakerList.length; ++s) {
            IStakeVault.PositionView[] memory ps = vault.positionsOf(stakerList[s]);
            for (uint256 i; i < ps.length; ++i) {
                if (ps[i].shares == 0) continue;
                vm.prank(stakerList[s]);
                vault.queueWithdrawal(ps[i].poolId, ps[i].shares);
            }
        }
        vm.warp(block.timestamp + ESCROW);
        uint256 poolCount = vault.poolCount();
        for (uint256 id = 1; id <= poolCount; ++id) {
            IStakeVault.PoolView memory p = vault.getPool(id);
            for (uint64 index; index < p.queueLength; ++index) {
                uint256 wid = id << 64 | index;
                IStakeVault.WithdrawalView memory w = vault.getWithdrawal(wid);
                if (w.claimed) continue;
                vm.prank(w.staker);
                assertEq(vault.completeWithdrawal(wid, w.staker), w.value, "exit claim != shown value");
            }
            p = vault.getPool(id);
            assertEq(p.slashableAssets, 0, "assets left in a pool nobody holds");
            assertEq(p.totalShares, 0, "shares left after everybody left");
            assertLe(p.reserve, p.queueLength, "more than rounding dust stuck in the reserve");
        }
        vm.revertToState(snapshot);
    }

    // ================================================================== properties

    /// @dev Conservation: for each asset the vault's balance is exactly in - slashed out - claimed out (ghost ledger),
    /// its own `tracked` agrees, the pools' slashable assets plus reserves add up to exactly that balance, and in
    /// every pool the slashable assets cover the value of all live positions plus unmatured escrow while the reserve
    /// covers all matured unclaimed withdrawals (so balance >= sum of pools >= every position and withdrawal value).
    function _checkConservation(State memory st) internal view {
        uint256[] memory poolTotal = new uint256[](assetList.length);
        for (uint256 id = 1; id < st.pools.length; ++id) {
            IStakeVault.PoolView memory p = st.pools[id];
            poolTotal[_assetIndex(p.asset)] += p.slashableAssets + p.reserve;
            assertLe(st.liveValue[id], p.slashableAssets, "positions + escrow worth more than the pool's assets");
            assertLe(st.maturedValue[id], p.reserve, "matured withdrawals worth more than the pool's reserve");
        }
        for (uint256 i; i < assetList.length; ++i) {
            address asset = address(assetList[i]);
            uint256 balance = assetList[i].balanceOf(address(vault));
            (uint256 tokensIn, uint256 slashedOut, uint256 claimedOut,) = handler.assetLedger(asset);
            assertEq(balance, tokensIn - slashedOut - claimedOut, "balance != in - slashed - claimed");
            assertEq(vault.getAsset(asset).tracked, balance, "tracked != balance");
            assertEq(poolTotal[i], balance, "sum over pools of slashable + reserve != holdings");
        }
    }

    /// @dev Share accounting: a pool's shares are exactly its live positions (current generation) plus its unmatured
    /// escrow, its `escrowedShares` is exactly that escrow, positions of an ended generation are worth zero, and the
    /// share price never exceeds one (slashable assets <= shares; so a pool without shares holds no assets).
    function _checkShareAccounting(State memory st) internal view {
        uint256 n = st.pools.length;
        uint256[] memory liveShares = new uint256[](n);
        uint256[] memory escrowShares = new uint256[](n);
        uint32[][] memory generations = handler.positionGenerations(n - 1);
        for (uint256 s; s < st.positions.length; ++s) {
            IStakeVault.PositionView[] memory ps = st.positions[s];
            for (uint256 i; i < ps.length; ++i) {
                uint256 id = ps[i].poolId;
                if (generations[s][id] == st.pools[id].generation) liveShares[id] += ps[i].shares;
                else assertEq(ps[i].value, 0, "position of an ended generation has value");
            }
        }
        for (uint256 i; i < st.withdrawals.length; ++i) {
            IStakeVault.WithdrawalView memory w = st.withdrawals[i];
            if (uint64(w.id) >= st.pools[w.poolId].settledCount) escrowShares[w.poolId] += w.shares;
        }
        for (uint256 id = 1; id < n; ++id) {
            IStakeVault.PoolView memory p = st.pools[id];
            assertEq(p.escrowedShares, escrowShares[id], "escrowed shares != unmatured queue");
            assertEq(p.totalShares, liveShares[id] + escrowShares[id], "pool shares != live positions + escrow");
            assertLe(p.slashableAssets, p.totalShares, "share price above one");
        }
    }

    /// @dev No rewards exist, so stakers together never claim more than they deposited, per asset. A single staker
    /// can end up with a little more: every deposit or claim of another staker leaves < 1 wei of rounding in the pool,
    /// which accrues to the remaining holders (e.g. ten 1-share claims at price 6/11 pay 0 each and hand 5 wei to the
    /// other holder). So per staker: claimed <= deposited + number of rounding operations of the others.
    function _checkNoStakerProfit() internal view {
        for (uint256 i; i < assetList.length; ++i) {
            address asset = address(assetList[i]);
            (,,, uint256 allOps) = handler.assetLedger(asset);
            (uint256[] memory deposited, uint256[] memory claimed, uint256[] memory ownOps) =
                handler.stakerLedger(asset);
            uint256 totalDeposited;
            uint256 totalClaimed;
            for (uint256 s; s < deposited.length; ++s) {
                assertLe(claimed[s], deposited[s] + (allOps - ownOps[s]), "staker claimed beyond others' dust");
                totalDeposited += deposited[s];
                totalClaimed += claimed[s];
            }
            assertLe(totalClaimed, totalDeposited, "stakers together claimed more than they deposited");
        }
    }

    /// @dev A slash takes exactly its amount from the slashable assets, never touches the reserve, resets the pool
    /// when it takes everything, and leaves matured withdrawals alone up to 1 wei (settling a batch at one price rounds
    /// each entry down a second time; see the report).
    function _checkSlashesArePrecise() internal view {
        assertEq(handler.ghostSlashAccountingError(), 0, "slash moved more or less than its amount");
        assertEq(handler.ghostBadResets(), 0, "full slash did not reset the pool");
        assertEq(handler.ghostMaturedValueDrop(), 0, "a slash reduced a matured withdrawal");
    }

    /// @dev Every signing key ever registered stays attributed to its operator; each operator's current key, and the
    /// key active now, is the newest it registered.
    function _checkRegistryAttribution() internal view {
        (address[] memory keys, address[] memory owners, address[] memory ops, address[] memory newest) =
            handler.keyLedger();
        for (uint256 i; i < keys.length; ++i) {
            assertEq(registry.operatorOfKey(keys[i]), owners[i], "key attribution lost");
        }
        for (uint256 i; i < ops.length; ++i) {
            assertEq(registry.getOperator(ops[i]).signingKey, newest[i], "current key is not the newest");
            assertEq(registry.signingKeyAt(ops[i], uint48(block.timestamp)), newest[i], "key active now");
        }
    }

    /// @dev Solvency: every matured, unclaimed withdrawal can be claimed now, for exactly the value the vault shows,
    /// with exactly that transfer. Checked by claiming all of them in turn inside a snapshot. Also: no claim or
    /// redelegation the handler tried ever reverted, and every claim paid its shown value.
    function _checkMaturedWithdrawalsClaimable() internal {
        assertEq(handler.ghostClaimFailures(), 0, "a claim or redelegation of a matured withdrawal reverted");
        assertEq(handler.ghostClaimValueMismatch(), 0, "a claim paid other than its shown value");
        uint256[] memory open = handler.openWithdrawals();
        uint256 snapshot = vm.snapshotState();
        for (uint256 i; i < open.length; ++i) {
            IStakeVault.WithdrawalView memory w = vault.getWithdrawal(open[i]);
            if (!w.matured) continue;
            assertFalse(w.claimed, "open withdrawal marked claimed");
            uint256 balanceBefore = MockERC20(w.asset).balanceOf(w.staker);
            vm.prank(w.staker);
            try vault.completeWithdrawal(w.id, w.staker) returns (uint256 paid) {
                assertEq(paid, w.value, "claim paid other than its shown value");
                assertEq(MockERC20(w.asset).balanceOf(w.staker) - balanceBefore, paid, "claim transfer mismatch");
            } catch (bytes memory err) {
                vm.revertToState(snapshot);
                assertTrue(false, string.concat("matured withdrawal not claimable: ", vm.toString(err)));
            }
        }
        vm.revertToState(snapshot);
    }

    /// @dev Rounding never favours the caller: no deposit the handler made was worth more right after it than was
    /// paid, and neither is a fresh deposit (with a ragged amount) into each pool the last call touched, which also
    /// mints exactly what `convertToShares` previewed. (Only touched pools can have changed since the last check.)
    function _checkRoundingFavoursPool() internal {
        assertEq(handler.ghostDepositValueExcess(), 0, "a deposit was worth more than paid");
        uint256[] memory touched = handler.touchedPools();
        for (uint256 i; i < touched.length; ++i) {
            IStakeVault.PoolView memory p = vault.getPool(touched[i]);
            uint256 amount = 10 ** MockERC20(p.asset).decimals() + 123_457;
            uint256 snapshot = vm.snapshotState();
            uint256 preview = vault.convertToShares(p.poolId, amount);
            (bool ok, uint256 shares,) = _freshDeposit(p.operator, MockERC20(p.asset), amount);
            // A refusal here is share inflation or a pool below its deposit price, which `invariant_poolsKeepWorking`
            // judges.
            if (ok) {
                assertEq(shares, preview, "minted != convertToShares");
                assertLe(vault.convertToAssets(p.poolId, shares), amount, "fresh deposit worth more than paid");
            }
            vm.revertToState(snapshot);
        }
    }

    // ================================================================== the handler itself

    /// @notice The handler's actions are reachable and do what they claim: a fixed script through every action
    /// (including a partial and a full slash, a claim and a redelegation to a new operator) executes each of them
    /// and leaves every invariant holding. Guards against a handler that silently skips everything.
    function test_handlerReachesEveryAction() public {
        uint256 deposits = handler.nDeposits();
        handler.registerOperator(1);
        handler.rotateKey(0);
        handler.rotateKey(2);
        handler.deposit(0, 0, 2, 5e18 + 3); // staker1 -> opA / weth
        handler.queueWithdrawal(0, 0, 0.4e18);
        handler.queueWithdrawal(1, 0, 1e18);
        handler.warp(8 days);
        handler.completeWithdrawal(0);
        handler.completeRedelegation(0, 2); // to the new operator
        handler.queueWithdrawal(2, 0, 0.5e18);
        handler.slash(0, 0.3e18 + 1); // pool 1, partial (a fraction that is a multiple of 10 means everything)
        handler.slash(1, 1e18); // pool 2, everything
        handler.warp(10 days);
        handler.completeWithdrawal(0);

        assertEq(handler.nDeposits(), deposits + 1, "deposit");
        assertEq(handler.nQueued(), 3, "queue");
        assertEq(handler.nClaims(), 2, "claims");
        assertEq(handler.nRedelegations(), 1, "redelegation");
        assertEq(handler.nSlashes(), 2, "slashes");
        assertEq(handler.nFullSlashes(), 1, "full slash");
        assertEq(handler.nOperatorsRegistered(), 1, "registration");
        assertEq(handler.nKeyRotations(), 2, "rotations");
        assertEq(handler.nSkips(), 0, "skipped");
        assertEq(vault.poolCount(), 7, "redelegation did not open the new operator's pool");

        invariant_accounting();
        invariant_claimsAndRounding();
        invariant_poolsKeepWorking();
        afterInvariant();
    }

    // ================================================================== helpers

    /// @dev Everything the view-only properties need, read once: pools (index = id), each staker's positions, the
    /// open withdrawals, and per pool the value owed from its slashable assets (live positions + unmatured escrow)
    /// and from its reserve (matured withdrawals).
    struct State {
        IStakeVault.PoolView[] pools;
        IStakeVault.PositionView[][] positions;
        IStakeVault.WithdrawalView[] withdrawals;
        uint256[] liveValue;
        uint256[] maturedValue;
    }

    function _observe() internal view returns (State memory st) {
        uint256 n = vault.poolCount() + 1;
        st.pools = new IStakeVault.PoolView[](n);
        st.liveValue = new uint256[](n);
        st.maturedValue = new uint256[](n);
        for (uint256 id = 1; id < n; ++id) {
            st.pools[id] = vault.getPool(id);
        }
        st.positions = new IStakeVault.PositionView[][](stakerList.length);
        for (uint256 s; s < stakerList.length; ++s) {
            st.positions[s] = vault.positionsOf(stakerList[s]);
            for (uint256 i; i < st.positions[s].length; ++i) {
                st.liveValue[st.positions[s][i].poolId] += st.positions[s][i].value;
            }
        }
        uint256[] memory open = handler.openWithdrawals();
        st.withdrawals = new IStakeVault.WithdrawalView[](open.length);
        for (uint256 i; i < open.length; ++i) {
            IStakeVault.WithdrawalView memory w = vault.getWithdrawal(open[i]);
            st.withdrawals[i] = w;
            if (w.matured) st.maturedValue[w.poolId] += w.value;
            else st.liveValue[w.poolId] += w.value;
        }
    }

    /// @dev Deposits `amount` from an address that never held anything; reports failure instead of reverting.
    function _freshDeposit(address operator, MockERC20 asset, uint256 amount)
        internal
        returns (bool ok, uint256 shares, bytes4 refusal)
    {
        address fresh = makeAddr("freshDepositor");
        asset.mint(fresh, amount);
        vm.startPrank(fresh);
        asset.approve(address(vault), amount);
        try vault.deposit(operator, address(asset), amount) returns (uint256, uint256 minted) {
            (ok, shares) = (true, minted);
        } catch (bytes memory err) {
            if (err.length >= 4) refusal = bytes4(err);
        }
        vm.stopPrank();
    }

    function _assetIndex(address asset) internal view returns (uint256) {
        for (uint256 i; i < assetList.length; ++i) {
            if (address(assetList[i]) == asset) return i;
        }
        revert("unknown asset");
    }

    function _logRun() internal view {
        console.log(
            "run summary: deposits %d, queued %d, claims %d", handler.nDeposits(), handler.nQueued(), handler.nClaims()
        );
        console.log(
            "  zero-value claims %d, redelegations %d, slashes %d",
            handler.nZeroClaims(),
            handler.nRedelegations(),
            handler.nSlashes()
        );
        console.log(
            "  full slashes %d, new operators %d, key rotations %d",
            handler.nFullSlashes(),
            handler.nOperatorsRegistered(),
            handler.nKeyRotations()
        );
        console.log("  warps %d, skipped %d, pools %d", handler.nWarps(), handler.nSkips(), vault.poolCount());
        uint256 excess;
        for (uint256 i; i < assetList.length; ++i) {
            (uint256[] memory deposited, uint256[] memory claimed,) = handler.stakerLedger(address(assetList[i]));
            for (uint256 s; s < deposited.length; ++s) {
                if (claimed[s] > deposited[s] && claimed[s] - deposited[s] > excess) {
                    excess = claimed[s] - deposited[s];
                }
            }
        }
        console.log(
            "  largest claimed-over-deposited (others' dust) %d wei, largest matured-value drop %d wei",
            excess,
            handler.ghostMaturedValueDrop()
        );
    }
}

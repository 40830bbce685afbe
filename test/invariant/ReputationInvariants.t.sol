// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {IReputation} from "../../contracts/interfaces/IReputation.sol";
import {MockERC20} from "../mocks/MockERC20.sol";
import {ReputationFixture} from "../utils/ReputationFixture.sol";
import {ReputationHandler} from "./handlers/ReputationHandler.sol";

/// @notice Invariants of the reputation layer under random sequences of deposits, withdrawals and claims (three
/// stakers, three pools: A×WETH, B×WETH, B×USDC), bond deposits, queued and completed bond withdrawals and holds, slash
/// requests, vetoes (with penalties), executions and instant slashes, checkpoints of AVSs and operators, standings pushed
/// to the manager, reports of executed slashes, new AVSs and fresh operator addresses, and time jumps of up to three days
/// (weekly epochs).
/// @dev The per-call properties (a checkpoint's step, a veto's penalty, a new identity's rating) are checked by the
/// handler at the moment of each call; the invariants here assert its violation counters and check conservation of
/// tokens through public views. The isolation invariants (`IsolationInvariants.t.sol`) run unchanged beside these.
contract ReputationInvariantsTest is ReputationFixture {
    ReputationHandler internal handler;
    MockERC20[2] internal tokens;

    function setUp() public override {
        super.setUp();
        tokens[0] = weth;
        tokens[1] = usdc;
        handler = new ReputationHandler(manager, vault, rep, weth, usdc, resolver, module, avsAdmin);
        address[3] memory stakers = [makeAddr("staker1"), makeAddr("staker2"), makeAddr("staker3")];
        uint256[3] memory pools;
        for (uint256 s; s < 3; ++s) {
            handler.addStaker(stakers[s]);
            (pools[0],) = _deposit(stakers[s], opA, weth, (s + 1) * 100 ether);
            (pools[1],) = _deposit(stakers[s], opB, weth, (s + 2) * 70 ether);
            (pools[2],) = _deposit(stakers[s], opB, usdc, (s + 1) * 250_000e6);
            handler.noteDeposit(address(weth), (s + 1) * 100 ether + (s + 2) * 70 ether);
            handler.noteDeposit(address(usdc), (s + 1) * 250_000e6);
        }
        handler.setPool(0, pools[0], 0, opA);
        handler.setPool(1, pools[1], 0, opB);
        handler.setPool(2, pools[2], 1, opB);

        uint32 veto1 = _ready(_vetoAVS(module, sink));
        uint32 veto2 = _ready(_vetoAVS(module, sink));
        uint32 instant = _ready(_instantAVS(module, sink));
        handler.addAvs(veto1);
        handler.addAvs(veto2);
        handler.addAvs(instant);
        IAllocationManager.Mode iso = IAllocationManager.Mode.Isolated;
        IAllocationManager.Mode shared = IAllocationManager.Mode.Shared;
        // New AVSs count 3× against the reuse cap (3× the shared stake): shared limits sized to fit.
        _allocate(opA, pools[0], veto1, iso, 0.3e18);
        _allocate(opA, pools[0], veto2, shared, 0.3e18);
        _allocate(opA, pools[0], instant, shared, 0.3e18);
        _allocate(opB, pools[1], veto1, shared, 0.4e18);
        _allocate(opB, pools[1], veto2, iso, 0.2e18);
        _allocate(opB, pools[1], instant, shared, 0.3e18);
        _allocate(opB, pools[2], veto1, shared, 0.4e18);
        _allocate(opB, pools[2], veto2, shared, 0.3e18);
        _allocate(opB, pools[2], instant, iso, 0.2e18);
        vm.warp(block.timestamp + ALLOC_DELAY);

        bytes4[] memory selectors = new bytes4[](21);
        selectors[0] = ReputationHandler.deposit.selector;
        selectors[1] = ReputationHandler.queueWithdrawal.selector;
        selectors[2] = ReputationHandler.claim.selector;
        selectors[3] = ReputationHandler.depositBond.selector;
        selectors[4] = ReputationHandler.queueBondWithdrawal.selector;
        selectors[5] = ReputationHandler.completeBondWithdrawal.selector;
        selectors[6] = ReputationHandler.requestSlash.selector;
        selectors[7] = ReputationHandler.vetoSlash.selector;
        selectors[8] = ReputationHandler.executeSlash.selector;
        selectors[9] = ReputationHandler.slash.selector;
        selectors[10] = ReputationHandler.reportExecutedSlash.selector;
        selectors[11] = ReputationHandler.checkpointAVS.selector;
        selectors[12] = ReputationHandler.checkpointOperator.selector;
        selectors[13] = ReputationHandler.registerAVS.selector;
        selectors[14] = ReputationHandler.freshOperator.selector;
        selectors[15] = ReputationHandler.warp.selector;
        // Checkpoints, requests, vetoes and bonds are the subject: twice as likely.
        selectors[16] = ReputationHandler.checkpointAVS.selector;
        selectors[17] = ReputationHandler.vetoSlash.selector;
        selectors[18] = ReputationHandler.requestSlash.selector;
        selectors[19] = ReputationHandler.depositBond.selector;
        selectors[20] = ReputationHandler.refreshStanding.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    /// @notice A checkpoint moves a rating by at most maxStep, and each subject is checkpointed at most once per epoch;
    /// a subject that keeps up always gets its own checkpoint, and a stranger gets one only when the record is tainted
    /// or lapsed (the handler predicts each call's outcome and counts every surprise).
    function invariant_ratingStepBoundedOncePerEpoch() public view {
        assertEq(handler.violationCount(handler.V_STEP()), 0, "a rating moved more than maxStep");
        assertEq(handler.violationCount(handler.V_ONCE()), 0, "checkpointed twice in an epoch, or refused");
    }

    /// @notice Ratings move only at checkpoints (faults change the evidence, not the rating), and stay in [0, 1].
    function invariant_ratingsMoveOnlyAtCheckpoints() public view {
        uint256 n = handler.avsCount();
        for (uint256 i; i < n; ++i) {
            uint32 avsId = handler.avsIds(i);
            assertEq(rep.avsRating(avsId), handler.lastAvsRating(avsId), "an AVS rating moved outside a checkpoint");
            assertLe(rep.avsRating(avsId), 1e18);
        }
        n = handler.operatorCount();
        for (uint256 i; i < n; ++i) {
            address operator = handler.operators(i);
            assertEq(rep.operatorRating(operator), handler.lastOperatorRating(operator), "an operator rating moved");
            assertLe(rep.operatorRating(operator), 1e18);
        }
    }

    /// @notice No identity starts above the floor: every new AVS and every fresh operator address rates 0, and so
    /// does every AVS never checkpointed.
    function invariant_noIdentityStartsAboveTheFloor() public view {
        assertEq(handler.violationCount(handler.V_FRESH()), 0, "a new identity started above the floor");
        uint256 n = handler.avsCount();
        for (uint256 i; i < n; ++i) {
            uint32 avsId = handler.avsIds(i);
            if (handler.lastAvsCheckpoint(avsId) == 0) assertEq(rep.avsRating(avsId), 0, "unrated above the floor");
        }
    }

    /// @notice Bonds conserve tokens to the wei: the contract's balance of each token equals its `totalBonded`,
    /// equals Σ available + queued over every AVS, equals bonded in − withdrawn − penalties paid.
    function invariant_bondsConserveTokens() public view {
        assertEq(handler.violationCount(handler.V_BOND()), 0, "a bond operation moved other than its amount");
        uint256 n = handler.avsCount();
        for (uint256 t; t < tokens.length; ++t) {
            address token = address(tokens[t]);
            uint256 sum;
            for (uint256 i; i < n; ++i) {
                IReputation.Bond memory b = rep.bondOf(handler.avsIds(i), token);
                sum += uint256(b.available) + b.queued;
                if (b.queued == 0) assertEq(b.maturity, 0, "a maturity without a queued withdrawal");
            }
            uint256 balance = tokens[t].balanceOf(address(rep));
            assertEq(balance, sum, "balance != sum of bonds");
            assertEq(rep.totalBonded(token), sum, "totalBonded != sum of bonds");
            assertEq(
                balance,
                handler.ghostBondIn(token) - handler.ghostBondOut(token) - handler.ghostPenalties(token),
                "balance != in - out - penalties"
            );
            assertEq(tokens[t].allowance(address(rep), address(vault)), 0, "an allowance left behind");
        }
    }

    /// @notice The vault's balance rises by exactly the penalties: balance = deposited − claimed − slashed +
    /// penalties, and its accounting agrees with its balance.
    function invariant_vaultBalanceRisesByThePenalties() public view {
        for (uint256 t; t < tokens.length; ++t) {
            address token = address(tokens[t]);
            uint256 balance = tokens[t].balanceOf(address(vault));
            assertEq(
                balance,
                handler.ghostDeposited(token) - handler.ghostClaimed(token) - handler.ghostSlashed(token)
                    + handler.ghostPenalties(token),
                "vault balance != deposited - claimed - slashed + penalties"
            );
            assertEq(vault.getAsset(token).tracked, balance, "vault accounting != balance");
        }
    }

    /// @notice Every standing pushed to the manager is the rating's risk weight (tenths, rounded up) and the bond check
    /// over the listed pools (a stranger only ever sets `bondShort`); new AVSs start with the manager's gate closed.
    function invariant_standingFollowsRatingAndBonds() public view {
        assertEq(handler.violationCount(handler.V_STANDING()), 0, "a standing other than rating and bond say");
    }

    /// @notice A vetoed request always pays its penalty, exactly, when the bond covers it and the pool may be paid
    /// (at least `MIN_COMPENSATION_SHARES`); never more than asked; the available bond first; and the vault receives
    /// exactly what the bond lost.
    function invariant_vetoPaysItsPenaltyWhenCovered() public view {
        assertEq(handler.violationCount(handler.V_PENALTY()), 0, "a covered veto did not pay its penalty exactly");
    }
}

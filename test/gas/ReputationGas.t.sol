// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {console} from "forge-std/console.sol";
import {Vm} from "forge-std/Vm.sol";

import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {ReputationFixture} from "../utils/ReputationFixture.sol";

/// @notice Gas benchmark of the reputation layer, run with `--isolate` like IsolationGasTest: one transaction per
/// operation, receipt gas (21,000 + calldata + execution − refund), cold storage. Prints `GAS <op> <gas>`.
/// The pool of IsolationGasTest (150 WETH with operator A, two shared instant AVSs, a 20% isolated vetoable one) with
/// the reputation layer attached (the shared allocations at 40% each: new AVSs count 3× against the reuse cap). Each operation is measured in its steady state (a record checkpointed before,
/// an AVS whose bond slot exists) and, where the first time costs more, once more as `…First`.
contract ReputationGasTest is ReputationFixture {
    uint256 internal pool;
    uint32 internal avsX;
    uint32 internal avsVeto;
    address internal moduleY = makeAddr("moduleY");

    function setUp() public override {
        super.setUp();
        (pool,) = _deposit(makeAddr("alice"), opA, weth, 100 ether);
        _deposit(makeAddr("bob"), opA, weth, 50 ether);
        weth.mint(sink, 1);
        avsX = _ready(_instantAVS(module, sink));
        _ready(_instantAVS(moduleY, sink));
        avsVeto = _ready(_vetoAVS(module, sink));
        // New AVSs count 3× against the reuse cap: 0.4 + 0.4 shared at 3× fill the 3 × 0.8 left beside the isolated 20%.
        _allocate(opA, pool, avsX, IAllocationManager.Mode.Shared, 0.4e18);
        _allocate(opA, pool, 2, IAllocationManager.Mode.Shared, 0.4e18);
        _allocate(opA, pool, avsVeto, IAllocationManager.Mode.Isolated, 0.2e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        manager.applyPending(pool, new uint32[](0));
        // Another AVS's bond: the contract already holds WETH (its balance slot exists), as it will in practice.
        _bond(avsX, weth, 1 ether);
        // The funder holds more WETH than it bonds and approves exactly what it uses.
        weth.mint(funder, 20 ether);
        vm.prank(funder);
        weth.approve(address(rep), 10 ether);
    }

    /// @dev The AVS's admin checkpoints one epoch after its previous checkpoint (its admin cached by its first
    /// `refreshStanding`): decay, credit, lower bound, step, one record write.
    function test_gas_checkpointAVS() public {
        rep.checkpointAVS(avsVeto, pool);
        _nextEpoch();
        vm.prank(avsAdmin);
        rep.checkpointAVS(avsVeto, pool);
        _nextEpoch();
        vm.prank(avsAdmin);
        rep.checkpointAVS(avsVeto, pool);
        _report("checkpointAVS");
    }

    /// @dev The AVS's first checkpoint (by anyone): its record slot goes from zero to non-zero.
    function test_gas_checkpointAVSFirst() public {
        rep.checkpointAVS(avsVeto, pool);
        _report("checkpointAVSFirst");
    }

    function test_gas_checkpointOperator() public {
        vm.prank(opA);
        rep.checkpointOperator(opA, pool);
        _nextEpoch();
        vm.prank(opA);
        rep.checkpointOperator(opA, pool);
        _report("checkpointOperator");
    }

    function test_gas_checkpointOperatorFirst() public {
        vm.prank(opA);
        rep.checkpointOperator(opA, pool);
        _report("checkpointOperatorFirst");
    }

    /// @dev A top-up of the AVS's bond (its bond slot exists).
    function test_gas_depositBond() public {
        vm.prank(funder);
        rep.depositBond(avsVeto, address(weth), 5 ether);
        vm.prank(funder);
        rep.depositBond(avsVeto, address(weth), 5 ether);
        _report("depositBond");
    }

    /// @dev The AVS's first bond in the asset (a new bond slot).
    function test_gas_depositBondFirst() public {
        vm.prank(funder);
        rep.depositBond(avsVeto, address(weth), 5 ether);
        _report("depositBondFirst");
    }

    function test_gas_queueBondWithdrawal() public {
        _bond(avsVeto, weth, 5 ether);
        vm.prank(avsAdmin);
        rep.queueBondWithdrawal(avsVeto, address(weth), 2 ether);
        _report("queueBondWithdrawal");
    }

    /// @dev To a receiver that already holds the token, as most do.
    function test_gas_completeBondWithdrawal() public {
        _bond(avsVeto, weth, 5 ether);
        weth.mint(avsAdmin, 1);
        vm.prank(avsAdmin);
        rep.queueBondWithdrawal(avsVeto, address(weth), 2 ether);
        vm.warp(block.timestamp + BOND_DELAY);
        vm.prank(avsAdmin);
        rep.completeBondWithdrawal(avsVeto, address(weth), avsAdmin);
        _report("completeBondWithdrawal");
    }

    /// @dev A veto whose hook records the fault, takes the penalty from the bond and pays it into the pool.
    function test_gas_vetoSlashWithPenalty() public {
        _bond(avsVeto, weth, 5 ether);
        vm.prank(module);
        uint64 id = manager.requestSlash(avsVeto, pool, 0.5e18);
        vm.prank(resolver);
        manager.vetoSlash(id);
        _report("vetoSlash (with penalty)");
    }

    /// @dev The same veto with no reputation layer attached, for comparison.
    function test_gas_vetoSlashWithoutReputation() public {
        _withoutReputation();
        vm.prank(module);
        uint64 id = manager.requestSlash(avsVeto, pool, 0.5e18);
        vm.prank(resolver);
        manager.vetoSlash(id);
        _report("vetoSlash (no reputation)");
    }

    /// @dev A refresh that measures a pool for the first time: its measure and the asset's sum are new slots, and the
    /// asset's verdict is judged (risk weight and bond check).
    function test_gas_refreshStandingNewPool() public {
        _bond(avsVeto, weth, 20 ether);
        uint256[] memory ids = new uint256[](1);
        ids[0] = pool;
        rep.refreshStanding(avsVeto, new uint256[](0));
        rep.refreshStanding(avsVeto, ids);
        _report("refreshStandingNewPool");
    }

    /// @dev A refresh that re-measures one pool (its backing unchanged): risk weight and bond check.
    function test_gas_refreshStanding() public {
        _bond(avsVeto, weth, 20 ether);
        uint256[] memory ids = new uint256[](1);
        ids[0] = pool;
        rep.refreshStanding(avsVeto, ids);
        rep.refreshStanding(avsVeto, ids);
        _report("refreshStanding");
    }

    /// @dev A new AVS's first refresh (mandatory: it is bond-short until then), no pools: its admin is read and cached.
    function test_gas_refreshStandingFirst() public {
        uint32 fresh = _vetoAVS(module, sink);
        rep.refreshStanding(fresh, new uint256[](0));
        _report("refreshStandingFirst");
    }

    function _report(string memory operation) internal view {
        Vm.Gas memory gas = vm.lastCallGas();
        console.log(string.concat("GAS ", operation, " ", vm.toString(gas.gasTotalUsed)));
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {console} from "forge-std/console.sol";
import {Vm} from "forge-std/Vm.sol";

import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {IsolationFixture} from "../utils/IsolationFixture.sol";

/// @notice Gas benchmark of the isolation layer, run with `--isolate` like VaultGasTest: one transaction per
/// operation, receipt gas (21,000 + calldata + execution - refund), cold storage. Prints `GAS <op> <gas>`.
/// The sink already holds the token (as a burn address or treasury does after its first slash).
contract IsolationGasTest is IsolationFixture {
    uint256 internal pool;
    uint32 internal avsX;
    uint32 internal avsY;
    uint32 internal avsVeto;
    address internal moduleY = makeAddr("moduleY");

    function setUp() public override {
        super.setUp();
        (pool,) = _deposit(makeAddr("alice"), opA, weth, 100 ether);
        _deposit(makeAddr("bob"), opA, weth, 50 ether);
        weth.mint(sink, 1);
        avsX = _instantAVS(module, sink);
        avsY = _instantAVS(moduleY, sink);
        avsVeto = _vetoAVS(module, sink);
        _allocate(opA, pool, avsX, IAllocationManager.Mode.Shared, 0.5e18);
        _allocate(opA, pool, avsY, IAllocationManager.Mode.Shared, 0.5e18);
        _allocate(opA, pool, avsVeto, IAllocationManager.Mode.Isolated, 0.2e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        // "All effective": the isolated increase takes effect at the pool's first touch after its delay, which some
        // transaction of the set-up pays, not the operation measured.
        manager.applyPending(pool, new uint32[](0));
    }

    /// @dev A new isolated allocation of an opted-in operator's pool to an AVS.
    function test_gas_allocate() public {
        uint32 avs = _instantAVS(module, sink);
        vm.prank(opA);
        manager.optIn(avs);
        vm.prank(opA);
        manager.allocate(pool, avs, IAllocationManager.Mode.Isolated, 0.3e18);
        _report("allocate");
    }

    /// @dev Instant slash by the AVS's module; the tokens reach the sink in the same transaction.
    function test_gas_slash() public {
        vm.prank(module);
        manager.slash(avsX, pool, 0.1e18);
        _report("slash");
    }

    /// @dev A second AVS slashes the same operator's pool after the first one did.
    function test_gas_slashChained() public {
        vm.prank(module);
        manager.slash(avsX, pool, 0.1e18);
        vm.prank(moduleY);
        manager.slash(avsY, pool, 0.1e18);
        _report("slashChained");
    }

    function test_gas_requestSlash() public {
        vm.prank(module);
        manager.requestSlash(avsVeto, pool, 0.5e18);
        _report("requestSlash");
    }

    function test_gas_executeSlash() public {
        vm.prank(module);
        uint64 id = manager.requestSlash(avsVeto, pool, 0.5e18);
        vm.warp(block.timestamp + VETO_WINDOW);
        vm.prank(module);
        manager.executeSlash(id);
        _report("executeSlash");
    }

    /// @dev `slash` with 1,000 stakers in the pool: O(1) in stakers, so it must match `slash`.
    function test_gas_slash1000() public {
        for (uint256 i; i < 998; ++i) {
            _deposit(address(uint160(0x10000 + i)), opA, weth, 1 ether);
        }
        vm.prank(module);
        manager.slash(avsX, pool, 0.1e18);
        _report("slash1000");
    }

    function _report(string memory operation) internal view {
        Vm.Gas memory gas = vm.lastCallGas();
        console.log(string.concat("GAS ", operation, " ", vm.toString(gas.gasTotalUsed)));
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {IsolationFixture} from "../utils/IsolationFixture.sol";

contract ChainedSlashProbe is IsolationFixture {
    function test_probe() public {
        manager.setGuard(1e18, 1 days);
        address alice = makeAddr("alice");
        (uint256 pool,) = _deposit(alice, opA, weth, 1000 ether);
        uint32 x = _instantAVS(module, sink);
        uint32 y = _instantAVS(module, sink);
        uint32 z = _instantAVS(module, sink);
        uint32 iso = _instantAVS(module, sink);
        _allocate(opA, pool, x, IAllocationManager.Mode.Shared, 0.6e18);
        _allocate(opA, pool, y, IAllocationManager.Mode.Shared, 0.6e18);
        _allocate(opA, pool, z, IAllocationManager.Mode.Shared, 0.3e18);
        _allocate(opA, pool, iso, IAllocationManager.Mode.Isolated, 0.2e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        emit log_named_uint("x backing", manager.slashableBacking(x, pool));
        emit log_named_uint("iso backing", manager.slashableBacking(iso, pool));
        emit log_named_uint("slash x 50%", _slash(module, x, pool, 0.5e18));
        emit log_named_uint("x backing", manager.slashableBacking(x, pool));
        emit log_named_uint("y backing", manager.slashableBacking(y, pool));
        emit log_named_uint("z backing", manager.slashableBacking(z, pool));
        emit log_named_uint("iso backing", manager.slashableBacking(iso, pool));
        emit log_named_uint("slash y 100%", _slash(module, y, pool, 1e18));
        emit log_named_uint("z backing", manager.slashableBacking(z, pool));
        emit log_named_uint("iso backing", manager.slashableBacking(iso, pool));
        emit log_named_uint("slash iso 100%", _slash(module, iso, pool, 1e18));
        emit log_named_uint("z backing", manager.slashableBacking(z, pool));
        emit log_named_uint("x backing", manager.slashableBacking(x, pool));
        emit log_named_uint("value", vault.slashableAssets(pool));
    }
}

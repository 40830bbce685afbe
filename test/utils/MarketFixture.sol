// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {IReputation} from "../../contracts/interfaces/IReputation.sol";
import {OperatorDesk} from "../../contracts/market/OperatorDesk.sol";
import {SecurityMarket} from "../../contracts/market/SecurityMarket.sol";
import {RailFixture} from "./RailFixture.sol";

/// @notice RailFixture plus the security market. `deskOwner` runs `desk`, a registered operator whose pool `pool`
/// holds alice's 100 and bob's 300 WETH (400 shares). AVS `avs` (admin `avsAdmin`, instant module `module`) buys.
abstract contract MarketFixture is RailFixture {
    SecurityMarket internal market;
    OperatorDesk internal desk;
    address internal deskOwner = makeAddr("deskOwner");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    uint256 internal pool;
    uint32 internal avs;

    IAllocationManager.Mode internal constant ISOLATED = IAllocationManager.Mode.Isolated;
    IAllocationManager.Mode internal constant SHARED = IAllocationManager.Mode.Shared;

    function setUp() public virtual override {
        super.setUp();
        market = new SecurityMarket(manager, vault, registry, rail, _reputation());
        rail.setMarket(address(market));
        vm.prank(deskOwner);
        desk = OperatorDesk(market.openDesk("ipfs://desk", makeAddr("deskKey")));
        (pool,) = _deposit(alice, address(desk), weth, 100 ether);
        _deposit(bob, address(desk), weth, 300 ether);
        vm.prank(deskOwner);
        desk.enableRewards(pool);
        avs = _instantAVS(module, sink);
        vm.prank(deskOwner);
        desk.optIn(avs);
        weth.mint(avsAdmin, 1000 ether);
        vm.prank(avsAdmin);
        weth.approve(address(market), type(uint256).max);
    }

    /// @dev The market's reputation layer (none unless a test suite wires one).
    function _reputation() internal virtual returns (IReputation) {
        return IReputation(address(0));
    }

    /// @dev `avsAdmin` bids for `backing` WETH at up to `maxPriceBps` a year over `term`, commission up to 10%.
    function _bid(uint88 backing, IAllocationManager.Mode mode, uint32 maxPriceBps, uint40 term)
        internal
        returns (uint256)
    {
        vm.prank(avsAdmin);
        return market.postBid(avs, address(weth), backing, mode, 0, term, maxPriceBps, 1000);
    }

    function _ask(uint128 capacity, IAllocationManager.Mode mode, uint32 minPriceBps) internal returns (uint256) {
        vm.prank(deskOwner);
        return market.postAsk(pool, capacity, mode, minPriceBps, 730 days);
    }

    function _fillAsDesk(uint256 bidId, uint256 askId, uint88 amount) internal returns (uint256) {
        vm.prank(deskOwner);
        return market.fill(bidId, askId, amount);
    }

    function _fillAsAVS(uint256 bidId, uint256 askId, uint88 amount) internal returns (uint256) {
        vm.prank(avsAdmin);
        return market.fill(bidId, askId, amount);
    }
}

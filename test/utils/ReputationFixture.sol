// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Reputation} from "../../contracts/Reputation.sol";
import {IReputation} from "../../contracts/interfaces/IReputation.sol";
import {MockERC20} from "../mocks/MockERC20.sol";
import {IsolationFixture} from "./IsolationFixture.sol";
import {StdStorage, stdStorage} from "forge-std/StdStorage.sol";

/// @notice IsolationFixture plus the reputation layer: the manager reports vetoes to it, takes AVS standings from it,
/// and the vault takes its compensations. Weekly epochs, a 4-day bond withdrawal delay (the manager's deallocation
/// delay is 3 days), and evidence units of 100 WETH, 100,000 USDC and 5 WBTC, applied after the parameter delay (so the
/// fixture starts in epoch 1). With reputation on, a new AVS is bond-short in the manager until its standing is
/// refreshed: `_ready` does that (no backing yet, so no bond needed; the floor's 3× risk weight).
abstract contract ReputationFixture is IsolationFixture {
    uint32 internal constant EPOCH = 7 days;
    uint48 internal constant BOND_DELAY = 4 days;
    uint256 internal constant WETH_UNIT = 100 ether;
    uint256 internal constant USDC_UNIT = 100_000e6;
    uint256 internal constant WBTC_UNIT = 5e8;

    using stdStorage for StdStorage;

    Reputation internal rep;
    address internal funder = makeAddr("funder");

    /// @dev Test scaffolding only: rewrites the vault's wired-once compensator to this contract, so that a test can
    /// call `compensate` directly (no entry point can do this on chain).
    function _compensatorIsThis() internal {
        stdstore.target(address(vault)).sig("compensator()").checked_write(address(this));
    }

    /// @dev Test scaffolding only: the manager as a deployment without a reputation layer would have it.
    function _withoutReputation() internal {
        stdstore.enable_packed_slots().target(address(manager)).sig("reputation()").checked_write(address(0));
    }

    function setUp() public virtual override {
        super.setUp();
        rep = new Reputation(manager, vault, address(this), EPOCH, BOND_DELAY);
        manager.setReputation(address(rep));
        vault.setCompensator(address(rep));
        _qUnit(address(weth), WETH_UNIT);
        _qUnit(address(usdc), USDC_UNIT);
        _qUnit(address(wbtc), WBTC_UNIT);
        vm.warp(block.timestamp + rep.PARAMETER_DELAY());
        rep.applyChange(uint8(IReputation.Parameter.EvidenceUnit), address(weth));
        rep.applyChange(uint8(IReputation.Parameter.EvidenceUnit), address(usdc));
        rep.applyChange(uint8(IReputation.Parameter.EvidenceUnit), address(wbtc));
    }

    // Parameter changes, packed as `IReputation.Parameter` says (each makes exactly one call, for expectRevert).

    function _qRating(uint64 forgetWad, uint64 zWad, uint64 maxStepWad) internal {
        uint256 v = uint256(forgetWad) | uint256(zWad) << 64 | uint256(maxStepWad) << 128;
        rep.queueChange(uint8(IReputation.Parameter.Rating), address(0), v);
    }

    function _qFault(uint64 vetoWad, uint64 doubleSignWad, uint64 executedWad) internal {
        uint256 v = uint256(vetoWad) | uint256(doubleSignWad) << 64 | uint256(executedWad) << 128;
        rep.queueChange(uint8(IReputation.Parameter.FaultWeights), address(0), v);
    }

    function _qRisk(uint64 atFloorWad, uint64 atTopWad) internal {
        rep.queueChange(
            uint8(IReputation.Parameter.RiskWeights), address(0), uint256(atFloorWad) | uint256(atTopWad) << 64
        );
    }

    function _qBond(uint64 atFloorWad, uint64 atTopWad) internal {
        rep.queueChange(
            uint8(IReputation.Parameter.BondFractions), address(0), uint256(atFloorWad) | uint256(atTopWad) << 64
        );
    }

    function _qPenalty(uint256 penaltyWad) internal {
        rep.queueChange(uint8(IReputation.Parameter.Penalty), address(0), penaltyWad);
    }

    function _qUnit(address asset, uint256 unit) internal {
        rep.queueChange(uint8(IReputation.Parameter.EvidenceUnit), asset, unit);
    }

    function _qModule(address module_, bool trusted) internal {
        rep.queueChange(uint8(IReputation.Parameter.TrustedModule), module_, trusted ? 1 : 0);
    }

    /// @dev `funder` mints `amount` of `token` and deposits it as the AVS's bond.
    function _bond(uint32 avsId, MockERC20 token, uint256 amount) internal {
        token.mint(funder, amount);
        vm.startPrank(funder);
        token.approve(address(rep), amount);
        rep.depositBond(avsId, address(token), amount);
        vm.stopPrank();
    }

    /// @dev A new AVS's first standing refresh, with no pools (no backing yet): not bond-short, at the risk weight
    /// of its rating.
    function _ready(uint32 avsId) internal returns (uint32) {
        rep.refreshStanding(avsId, new uint256[](0));
        return avsId;
    }

    /// @dev Moves to the start of the next epoch.
    function _nextEpoch() internal {
        uint256 next = rep.genesis() + uint256(rep.epoch() + 1) * EPOCH;
        vm.warp(next);
    }

    function _veto(uint64 requestId) internal {
        vm.prank(resolver);
        manager.vetoSlash(requestId);
    }
}

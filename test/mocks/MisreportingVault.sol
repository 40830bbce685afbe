// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IStakeVault} from "../../contracts/interfaces/IStakeVault.sol";

/// @notice A faulty vault in front of a real one: every call is forwarded, except that `slash` takes `shortfall` less
/// than it was asked (and `previewSlash` promised), and says so. The manager must refuse to book weights for an amount
/// the vault did not take (`SlashMismatch`). Wire it as the real vault's slasher and build the manager over it.
contract MisreportingVault {
    IStakeVault public immutable real;
    uint256 public shortfall;

    constructor(IStakeVault real_) {
        real = real_;
    }

    function setShortfall(uint256 shortfall_) external {
        shortfall = shortfall_;
    }

    function slash(uint256 poolId, uint256 amount, address recipient) external returns (uint256) {
        return real.slash(poolId, amount - shortfall, recipient);
    }

    /// @dev Everything else as the real vault answers it (views and all).
    fallback() external {
        address target = address(real);
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, 0, calldatasize())
            let ok := call(gas(), target, 0, ptr, calldatasize(), 0, 0)
            returndatacopy(ptr, 0, returndatasize())
            if iszero(ok) { revert(ptr, returndatasize()) }
            return(ptr, returndatasize())
        }
    }
}

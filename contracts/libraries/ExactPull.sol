// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title ExactPull
/// @notice Pulls exactly `amount` of a token from the caller and proves it arrived: a fee-on-transfer token would leave
/// the puller owing more than it holds. (The vault's own pull also checks its tracked balance for negative rebases.)
library ExactPull {
    using SafeERC20 for IERC20;

    /// @notice The contract received a different amount than was sent (fee-on-transfer token). Same selector as the
    /// interfaces' `FeeOnTransferDetected`.
    error FeeOnTransferDetected(address token, uint256 sent, uint256 received);

    function pullExact(IERC20 token, uint256 amount) internal {
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - before;
        if (received != amount) revert FeeOnTransferDetected(address(token), amount, received);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Plain ERC-20 with chosen decimals and open minting, for tests and local demos.
contract MockERC20 is ERC20 {
    uint8 internal immutable _decimals;

    constructor(string memory name, string memory symbol, uint8 decimals_) ERC20(name, symbol) {
        _decimals = decimals_;
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}

/// @notice Takes a 1% fee from every transfer: what the vault must refuse.
contract FeeOnTransferERC20 is MockERC20 {
    constructor() MockERC20("Fee Token", "FEE", 18) {}

    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0)) return super._update(from, to, value);
        uint256 fee = value / 100;
        super._update(from, address(0xFEE), fee);
        super._update(from, to, value - fee);
    }
}

/// @notice Balances scale with a global factor that can change without transfers (stETH-like rebasing).
contract RebasingERC20 is MockERC20 {
    uint256 public factorWad = 1e18;

    constructor() MockERC20("Rebasing Token", "REB", 18) {}

    function rebase(uint256 newFactorWad) external {
        factorWad = newFactorWad;
    }

    function balanceOf(address account) public view override returns (uint256) {
        return super.balanceOf(account) * factorWad / 1e18;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value * 1e18 / factorWad);
    }
}

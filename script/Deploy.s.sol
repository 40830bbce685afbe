// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Script, console} from "forge-std/Script.sol";

import {OperatorRegistry} from "../contracts/OperatorRegistry.sol";
import {StakeVault} from "../contracts/StakeVault.sol";
import {MockERC20} from "../test/mocks/MockERC20.sol";

/// @notice Deploys Bulkhead to a node and writes `deployments/<chainId>.json` for dApps and the Rust harness.
///   forge script script/Deploy.s.sol --rpc-url http://127.0.0.1:8545 --broadcast --private-key <key>
/// Environment (all optional): ESCROW_DELAY seconds (default 7 days), OWNER and GUARDIAN (default: the sender).
/// On a local chain (id 31337) with the sender as owner it also deploys and allowlists demo WETH, WBTC and USDC.
contract Deploy is Script {
    function run() external returns (OperatorRegistry registry, StakeVault vault) {
        uint48 escrowDelay = uint48(vm.envOr("ESCROW_DELAY", uint256(7 days)));
        vm.startBroadcast();
        (, address sender,) = vm.readCallers();
        address owner = vm.envOr("OWNER", sender);
        address guardian = vm.envOr("GUARDIAN", owner);
        uint256 deployBlock = block.number;

        registry = new OperatorRegistry();
        vault = new StakeVault(registry, escrowDelay, owner, guardian);

        string memory assets = vm.serializeJson("assets", "{}");
        if (block.chainid == 31_337 && owner == sender) {
            vm.serializeAddress("assets", "WETH", _demoAsset(vault, "Wrapped Ether", "WETH", 18));
            vm.serializeAddress("assets", "WBTC", _demoAsset(vault, "Wrapped BTC", "WBTC", 8));
            assets = vm.serializeAddress("assets", "USDC", _demoAsset(vault, "USD Coin", "USDC", 6));
        }
        vm.stopBroadcast();

        string memory contracts = "contracts";
        vm.serializeAddress(contracts, "OperatorRegistry", address(registry));
        contracts = vm.serializeAddress(contracts, "StakeVault", address(vault));
        string memory artifacts = "artifacts";
        vm.serializeString(artifacts, "OperatorRegistry", "out/OperatorRegistry.sol/OperatorRegistry.json");
        vm.serializeString(artifacts, "StakeVault", "out/StakeVault.sol/StakeVault.json");
        artifacts = vm.serializeString(artifacts, "MockERC20", "out/MockERC20.sol/MockERC20.json");

        string memory root = "deployment";
        vm.serializeUint(root, "chainId", block.chainid);
        vm.serializeUint(root, "block", deployBlock);
        vm.serializeUint(root, "escrowDelay", escrowDelay);
        vm.serializeAddress(root, "owner", owner);
        vm.serializeAddress(root, "guardian", guardian);
        vm.serializeString(root, "contracts", contracts);
        vm.serializeString(root, "assets", assets);
        string memory json = vm.serializeString(root, "artifacts", artifacts);
        string memory path = string.concat(vm.projectRoot(), "/deployments/", vm.toString(block.chainid), ".json");
        vm.writeJson(json, path);
        console.log("StakeVault %s, OperatorRegistry %s", address(vault), address(registry));
        console.log("wrote %s", path);
    }

    function _demoAsset(StakeVault vault, string memory name, string memory symbol, uint8 decimals)
        internal
        returns (address token)
    {
        token = address(new MockERC20(name, symbol, decimals));
        vault.setAssetAllowed(token, true);
    }
}

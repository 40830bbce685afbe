// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Script, console} from "forge-std/Script.sol";

import {AllocationManager} from "../contracts/AllocationManager.sol";
import {OperatorRegistry} from "../contracts/OperatorRegistry.sol";
import {RewardRail} from "../contracts/RewardRail.sol";
import {StakeVault} from "../contracts/StakeVault.sol";
import {SecurityMarket} from "../contracts/market/SecurityMarket.sol";
import {IReputation} from "../contracts/interfaces/IReputation.sol";
import {MockERC20} from "../test/mocks/MockERC20.sol";

/// @notice Deploys Bulkhead to a node and writes `deployments/<chainId>.json` for dApps and the Rust harness.
///   forge script script/Deploy.s.sol --rpc-url http://127.0.0.1:8545 --broadcast --private-key <key>
/// Environment (all optional, seconds): ESCROW_DELAY (7 days), ALLOCATION_DELAY (1 day), DEALLOCATION_DELAY
/// (3 days), EXECUTION_WINDOW (1 day); OWNER and GUARDIAN (default: the sender). With the sender as owner the
/// AllocationManager becomes the vault's slasher here; otherwise the owner must call `vault.setSlasher(manager)`.
/// On a local chain (id 31337) with the sender as owner it also deploys and allowlists demo WETH, WBTC and USDC.
contract Deploy is Script {
    struct Config {
        address sender;
        address owner;
        address guardian;
        uint48 escrowDelay;
        uint48 allocationDelay;
        uint48 deallocationDelay;
        uint48 executionWindow;
        uint256 deployBlock;
    }

    function run() external returns (OperatorRegistry registry, StakeVault vault, AllocationManager manager) {
        Config memory c = Config({
            sender: address(0),
            owner: address(0),
            guardian: address(0),
            escrowDelay: uint48(vm.envOr("ESCROW_DELAY", uint256(7 days))),
            allocationDelay: uint48(vm.envOr("ALLOCATION_DELAY", uint256(1 days))),
            deallocationDelay: uint48(vm.envOr("DEALLOCATION_DELAY", uint256(3 days))),
            executionWindow: uint48(vm.envOr("EXECUTION_WINDOW", uint256(1 days))),
            deployBlock: block.number
        });
        vm.startBroadcast();
        (, c.sender,) = vm.readCallers();
        c.owner = vm.envOr("OWNER", c.sender);
        c.guardian = vm.envOr("GUARDIAN", c.owner);

        registry = new OperatorRegistry();
        vault = new StakeVault(registry, c.escrowDelay, c.owner, c.guardian);
        manager =
            new AllocationManager(vault, registry, c.owner, c.allocationDelay, c.deallocationDelay, c.executionWindow);
        string memory assets = vm.serializeJson("assets", "{}");
        // The reward rail and the security market (no reputation layer here: bids cannot ask for a rating).
        RewardRail rail = new RewardRail(vault, c.owner);
        SecurityMarket market = new SecurityMarket(manager, vault, registry, rail, IReputation(address(0)));
        if (c.owner == c.sender) {
            vault.setSlasher(address(manager));
            vault.setRail(address(rail));
            rail.setMarket(address(market));
            if (block.chainid == 31_337) assets = _demoAssets(vault);
        }
        vm.stopBroadcast();

        string memory path = string.concat(vm.projectRoot(), "/deployments/", vm.toString(block.chainid), ".json");
        vm.serializeAddress("contracts", "RewardRail", address(rail));
        vm.serializeAddress("contracts", "SecurityMarket", address(market));
        vm.writeJson(_json(c, registry, vault, manager, assets), path);
        console.log("StakeVault %s, AllocationManager %s", address(vault), address(manager));
        console.log("OperatorRegistry %s; wrote %s", address(registry), path);
    }

    function _demoAssets(StakeVault vault) internal returns (string memory) {
        vm.serializeAddress("assets", "WETH", _demoAsset(vault, "Wrapped Ether", "WETH", 18));
        vm.serializeAddress("assets", "WBTC", _demoAsset(vault, "Wrapped BTC", "WBTC", 8));
        return vm.serializeAddress("assets", "USDC", _demoAsset(vault, "USD Coin", "USDC", 6));
    }

    function _demoAsset(StakeVault vault, string memory name, string memory symbol, uint8 decimals)
        internal
        returns (address token)
    {
        token = address(new MockERC20(name, symbol, decimals));
        vault.setAssetAllowed(token, true);
    }

    function _json(
        Config memory c,
        OperatorRegistry registry,
        StakeVault vault,
        AllocationManager manager,
        string memory assets
    ) internal returns (string memory) {
        vm.serializeAddress("contracts", "OperatorRegistry", address(registry));
        vm.serializeAddress("contracts", "AllocationManager", address(manager));
        string memory contracts = vm.serializeAddress("contracts", "StakeVault", address(vault));
        vm.serializeString("artifacts", "OperatorRegistry", "out/OperatorRegistry.sol/OperatorRegistry.json");
        vm.serializeString("artifacts", "StakeVault", "out/StakeVault.sol/StakeVault.json");
        vm.serializeString("artifacts", "AllocationManager", "out/AllocationManager.sol/AllocationManager.json");
        vm.serializeString("artifacts", "DoubleSignSlasher", "out/DoubleSignSlasher.sol/DoubleSignSlasher.json");
        vm.serializeString("artifacts", "CommitteeSlasher", "out/CommitteeSlasher.sol/CommitteeSlasher.json");
        vm.serializeString("artifacts", "RewardRail", "out/RewardRail.sol/RewardRail.json");
        vm.serializeString("artifacts", "SecurityMarket", "out/SecurityMarket.sol/SecurityMarket.json");
        vm.serializeString("artifacts", "OperatorDesk", "out/OperatorDesk.sol/OperatorDesk.json");
        string memory artifacts = vm.serializeString("artifacts", "MockERC20", "out/MockERC20.sol/MockERC20.json");

        vm.serializeUint("deployment", "chainId", block.chainid);
        vm.serializeUint("deployment", "block", c.deployBlock);
        vm.serializeUint("deployment", "escrowDelay", c.escrowDelay);
        vm.serializeUint("deployment", "allocationDelay", c.allocationDelay);
        vm.serializeUint("deployment", "deallocationDelay", c.deallocationDelay);
        vm.serializeUint("deployment", "executionWindow", c.executionWindow);
        vm.serializeAddress("deployment", "owner", c.owner);
        vm.serializeAddress("deployment", "guardian", c.guardian);
        vm.serializeString("deployment", "contracts", contracts);
        vm.serializeString("deployment", "assets", assets);
        return vm.serializeString("deployment", "artifacts", artifacts);
    }
}

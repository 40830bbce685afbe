// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Script, console} from "forge-std/Script.sol";

import {AllocationManager} from "../contracts/AllocationManager.sol";
import {OperatorRegistry} from "../contracts/OperatorRegistry.sol";
import {StakeVault} from "../contracts/StakeVault.sol";
import {IAllocationManager} from "../contracts/interfaces/IAllocationManager.sol";
import {IStakeVault} from "../contracts/interfaces/IStakeVault.sol";
import {CommitteeSlasher} from "../contracts/modules/CommitteeSlasher.sol";
import {DoubleSignSlasher} from "../contracts/modules/DoubleSignSlasher.sol";
import {MockERC20} from "../test/mocks/MockERC20.sol";

/// @notice Chained-slash demo on the real bytecode in forge's in-process EVM (no node):
///   forge script script/Demo.s.sol
/// Operator A's WETH pool backs an isolated AVS and three shared ones; operator B runs a restaked tier over it and
/// a pool of its own. One double-sign proof, one vetoed committee verdict and two more slashes hit A's pool in a
/// row. Watch the isolated AVS keep its backing, the shared ones shrink elastically, the cascade guard cut a slash,
/// a withdrawal in escrow pay its share, and operator B's own pool never move.
contract Demo is Script {
    using IsolationDemoFormat for uint256;

    address internal admin = makeAddr("admin"); // owner and guardian; a timelock on a real chain
    address internal burn = address(0xdEaD);

    OperatorRegistry internal registry;
    StakeVault internal vault;
    AllocationManager internal manager;
    MockERC20 internal weth;

    address internal opA;
    uint256 internal opAKey;
    address internal opB = makeAddr("operator-b");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");
    address internal dave = makeAddr("dave");

    uint256 internal P; // operator A, WETH
    uint256 internal T; // operator B's tier over P
    uint256 internal Q; // operator B, WETH
    DoubleSignSlasher internal oracle; // shared, instant, objective proof
    CommitteeSlasher internal bridge; // shared, committee vote + veto
    uint32 internal oracleId;
    uint32 internal bridgeId;
    uint32 internal da; // shared, instant (module: an EOA)
    uint32 internal custody; // isolated, instant
    uint32 internal tierAvs; // on the tier
    address internal daModule = makeAddr("da-module");
    address internal custodyModule = makeAddr("custody-module");
    address internal tierModule = makeAddr("tier-module");
    address internal resolver = makeAddr("bridge-resolver");
    address[] internal committee;

    function run() external {
        vm.warp(1_700_000_000);
        _deploy();
        _seed();
        _show("0. start: A's pool backs custody (isolated 20%) and oracle, bridge, da (shared)");

        vm.prank(alice);
        uint256 wAlice = vault.queueWithdrawal(P, 100 ether);
        console.log("alice queues 100 shares (100 WETH); they stay slashable for 7 days");

        // 1. An objective fault: operator A's key signed two different payloads for oracle round 7.
        bytes memory sigA = _sign(opAKey, oracle.voteDigest(7, keccak256("ETH/USD 3120")));
        bytes memory sigB = _sign(opAKey, oracle.voteDigest(7, keccak256("ETH/USD 2990")));
        uint256[] memory taken = oracle.slashDoubleSign(
            opA, 7, keccak256("ETH/USD 3120"), sigA, keccak256("ETH/USD 2990"), sigB, oracle.slashablePools(opA)
        );
        uint256 got = taken[0];
        _show(string.concat("1. oracle: double-sign proof, 25% of oracle's backing = ", got.weth()));

        // 2. A subjective verdict: the bridge committee votes a 100% slash; the resolver finds it wrongful.
        vm.prank(committee[0]);
        uint256 proposal = bridge.propose(P, 1e18, keccak256("alleged invalid bridge attestation"));
        vm.prank(committee[1]);
        bridge.vote(proposal);
        uint64 request = bridge.getProposal(proposal).requestId;
        vm.prank(resolver);
        manager.vetoSlash(request);
        vm.warp(block.timestamp + 1 days);
        _show("2. bridge: committee reached quorum, the resolver vetoed within the window: nothing moved");

        // 3. The tier's AVS slashes the tier: paid in A's pool shares into its sink's position; A's pool does not move.
        vm.prank(tierModule);
        got = manager.slash(tierAvs, T, 0.5e18);
        _show(string.concat("3. tier AVS: 50% of the tier's backing = ", got.weth(), " in A's shares (A unchanged)"));

        // 4. A heavy shared slash: da takes 90% of its backing. The shared stake shrinks; the guard caps the pool.
        vm.prank(daModule);
        got = manager.slash(da, P, 0.9e18);
        _show(string.concat("4. da: asked 90% of its backing, the cascade guard let ", got.weth(), " through"));

        vm.warp(block.timestamp + 6 days);
        vm.prank(alice);
        got = vault.completeWithdrawal(wAlice, alice);
        console.log("");
        console.log("alice claims %s WETH for the 100 she queued: escrow paid its share of every slash", got.weth());
        console.log("burned (sent to %s): %s WETH", burn, weth.balanceOf(burn).weth());
        console.log("the tier slash's A shares, held by %s: worth %s WETH", burn, _valueIn(burn, P).weth());
        console.log("vault holds %s WETH; deposits were 1,400", weth.balanceOf(address(vault)).weth());
    }

    function _deploy() internal {
        registry = new OperatorRegistry();
        vault = new StakeVault(registry, 7 days, admin, admin);
        manager = new AllocationManager(vault, registry, admin, 1 days, 3 days, 1 days);
        weth = new MockERC20("Wrapped Ether", "WETH", 18);
        vm.startPrank(admin);
        vault.setSlasher(address(manager));
        vault.setAssetAllowed(address(weth), true);
        vm.stopPrank();

        address keyA;
        (keyA, opAKey) = makeAddrAndKey("operator-a-key");
        opA = makeAddr("operator-a");
        vm.prank(opA);
        registry.registerOperator("https://example.org/operator-a", keyA);
        vm.prank(opB);
        registry.registerOperator("https://example.org/operator-b", makeAddr("operator-b-key"));

        oracle = new DoubleSignSlasher(manager, vault, registry, "oracle", burn, 0.25e18);
        oracleId = oracle.avsId();
        committee.push(makeAddr("member-1"));
        committee.push(makeAddr("member-2"));
        committee.push(makeAddr("member-3"));
        bridge = new CommitteeSlasher(manager, vault, "bridge", burn, resolver, 1 days, 12 hours, 1e18, committee, 2);
        bridgeId = bridge.avsId();
        da = manager.registerAVS("data availability", daModule, burn, address(0), 0, 1e18);
        custody = manager.registerAVS("custody", custodyModule, burn, address(0), 0, 1e18);
        tierAvs = manager.registerAVS("tier service", tierModule, burn, address(0), 0, 1e18);
    }

    function _seed() internal {
        P = _deposit(alice, opA, 500 ether);
        _deposit(bob, opA, 300 ether);
        _deposit(carol, opA, 200 ether);
        Q = _deposit(dave, opB, 400 ether);
        vm.prank(admin);
        vault.setTierAllowed(P, true);
        vm.prank(opA);
        vault.approveTierOperator(P, opB, true);
        vm.prank(carol);
        (T,) = vault.depositToTier(P, opB, 200 ether);

        _allocate(opA, P, custody, IAllocationManager.Mode.Isolated, 0.2e18);
        _allocate(opA, P, oracleId, IAllocationManager.Mode.Shared, 0.6e18);
        _allocate(opA, P, bridgeId, IAllocationManager.Mode.Shared, 0.5e18);
        _allocate(opA, P, da, IAllocationManager.Mode.Shared, 0.8e18);
        _allocate(opB, T, tierAvs, IAllocationManager.Mode.Isolated, 1e18);
        _allocate(opB, Q, oracleId, IAllocationManager.Mode.Isolated, 0.5e18);
        vm.warp(block.timestamp + 1 days); // allocation delay
    }

    function _deposit(address staker, address operator, uint256 amount) internal returns (uint256 poolId) {
        weth.mint(staker, amount);
        vm.startPrank(staker);
        weth.approve(address(vault), amount);
        (poolId,) = vault.deposit(operator, address(weth), amount);
        vm.stopPrank();
    }

    function _allocate(address operator, uint256 poolId, uint32 avsId, IAllocationManager.Mode mode, uint64 f)
        internal
    {
        vm.startPrank(operator);
        if (!manager.membership(avsId, operator).optedIn) manager.optIn(avsId);
        manager.allocate(poolId, avsId, mode, f);
        vm.stopPrank();
    }

    /// @dev What `holder`'s position in `poolId` redeems for now (zero without one).
    function _valueIn(address holder, uint256 poolId) internal view returns (uint256) {
        IStakeVault.PositionView[] memory positions = vault.positionsOf(holder);
        for (uint256 i; i < positions.length; ++i) {
            if (positions[i].poolId == poolId) return positions[i].value;
        }
        return 0;
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function _show(string memory step) internal view {
        console.log("");
        console.log("== %s", step);
        console.log("   AVS        pool  mode      backing (WETH)");
        _row("custody", custody, P, "isolated");
        _row("oracle", oracleId, P, "shared");
        _row("bridge", bridgeId, P, "shared");
        _row("da", da, P, "shared");
        _row("tier AVS", tierAvs, T, "isolated");
        _row("oracle", oracleId, Q, "isolated");
        IAllocationManager.PoolRisk memory r = manager.poolRisk(P);
        console.log(
            string.concat(
                "   A's pool: value ",
                r.value.weth(),
                ", isolated ",
                r.totalIsolated.weth(),
                ", shared stake ",
                r.sharedStake.weth(),
                ", reuse ",
                r.reuseRatioWad.weth(),
                "x, guard used ",
                (r.guardUsedWad * 100).weth(),
                "%"
            )
        );
        console.log(
            string.concat(
                "   share price A ",
                vault.getPool(P).sharePrice.weth(),
                " | tier value ",
                vault.slashableAssets(T).weth(),
                " | B's own pool ",
                vault.slashableAssets(Q).weth()
            )
        );
    }

    function _row(string memory name, uint32 avsId, uint256 poolId, string memory mode) internal view {
        string memory pool = poolId == P ? "A   " : poolId == T ? "tier" : "B   ";
        console.log(
            string.concat(
                "   ",
                _pad(name, 10),
                " ",
                pool,
                "  ",
                _pad(mode, 9),
                " ",
                manager.slashableBacking(avsId, poolId).weth()
            )
        );
    }

    function _pad(string memory s, uint256 width) internal pure returns (string memory) {
        bytes memory b = bytes(s);
        if (b.length >= width) return s;
        bytes memory out = new bytes(width);
        for (uint256 i; i < width; ++i) {
            out[i] = i < b.length ? b[i] : bytes1(" ");
        }
        return string(out);
    }
}

/// @dev 18-decimal amounts as text with two decimals, rounded down.
library IsolationDemoFormat {
    function weth(uint256 amount) internal pure returns (string memory) {
        uint256 cents = amount / 1e16;
        string memory frac = _digits(cents % 100);
        if (cents % 100 < 10) frac = string.concat("0", frac);
        return string.concat(_digits(cents / 100), ".", frac);
    }

    function _digits(uint256 x) private pure returns (string memory) {
        if (x == 0) return "0";
        bytes memory b;
        while (x != 0) {
            b = abi.encodePacked(bytes1(uint8(48 + x % 10)), b);
            x /= 10;
        }
        return string(b);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {IOperatorDesk} from "../../contracts/interfaces/IOperatorDesk.sol";
import {IReputation} from "../../contracts/interfaces/IReputation.sol";
import {ISecurityMarket} from "../../contracts/interfaces/ISecurityMarket.sol";
import {IStakeVault} from "../../contracts/interfaces/IStakeVault.sol";
import {OperatorDesk} from "../../contracts/market/OperatorDesk.sol";
import {SecurityMarket} from "../../contracts/market/SecurityMarket.sol";
import {MockERC20} from "../mocks/MockERC20.sol";
import {MarketFixture} from "../utils/MarketFixture.sol";

/// @notice A stand-in reputation layer: only `operatorRating` is read by the market.
contract MockOperatorRating {
    mapping(address => uint256) public rating;

    function set(address operator, uint256 ratingWad) external {
        rating[operator] = ratingWad;
    }

    function operatorRating(address operator) external view returns (uint256) {
        return rating[operator];
    }
}

/// @title Second adversarial review of the security market (one-slot bids, derived escrow, desk start from allocate)
/// @notice Written from the contracts and docs/market.md alone. Every test asserts a promise, so it fails if the
/// attack it plays works.
contract MarketReview2Test is MarketFixture {
    uint256 internal constant YEAR = 365 days;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant WAD = 1e18;
    uint256 internal constant BIDS_SLOT = 2; // `_bids` (forge inspect SecurityMarket storageLayout)
    bytes4 internal constant PANIC = 0x4e487b71;

    MockOperatorRating internal rating;

    // A second asset on the same desk, and a second desk with a pool in each asset.
    uint256 internal wbtcPool;
    OperatorDesk internal desk2;
    address internal deskOwner2 = makeAddr("deskOwner2");
    uint256 internal pool2;
    uint256 internal wbtcPool2;

    // A second instant AVS with its own admin.
    uint32 internal avs2;
    address internal admin2 = makeAddr("admin2");
    address internal module2 = makeAddr("module2");
    address internal sink2 = makeAddr("sink2");

    // A vetoable AVS (a rival of `avs` on the same pool) that decides slashes.
    uint32 internal avsY;
    address internal moduleY = makeAddr("moduleY");
    address internal sinkY = makeAddr("sinkY");

    address internal mallory = makeAddr("mallory");
    // Two more instant AVSs, one per admin (more (pool, AVS) pairs to lease).
    uint32 internal avs3;
    uint32 internal avs4;
    address internal module3 = makeAddr("module3");
    address internal module4 = makeAddr("module4");

    uint256 internal constant FUND_WETH = 1e30;
    uint256 internal constant FUND_WBTC = 1e20;

    function _reputation() internal override returns (IReputation) {
        rating = new MockOperatorRating();
        return IReputation(address(rating));
    }

    function setUp() public override {
        super.setUp();
        rating.set(address(desk), WAD);
        (wbtcPool,) = _deposit(alice, address(desk), wbtc, 20e8);
        vm.prank(deskOwner);
        desk.enableRewards(wbtcPool);

        vm.prank(deskOwner2);
        desk2 = OperatorDesk(market.openDesk("ipfs://desk2", makeAddr("desk2Key")));
        rating.set(address(desk2), WAD);
        (pool2,) = _deposit(bob, address(desk2), weth, 200 ether);
        (wbtcPool2,) = _deposit(bob, address(desk2), wbtc, 10e8);

        vm.prank(admin2);
        avs2 = manager.registerAVS("ipfs://avs2", module2, sink2, address(0), 0, 1e18);
        avsY = _vetoAVS(moduleY, sinkY);
        vm.prank(avsAdmin);
        avs3 = manager.registerAVS("ipfs://avs3", module3, sink, address(0), 0, 1e18);
        vm.prank(admin2);
        avs4 = manager.registerAVS("ipfs://avs4", module4, sink2, address(0), 0, 1e18);

        vm.startPrank(deskOwner);
        desk.optIn(avs2);
        desk.optIn(avsY);
        desk.optIn(avs3);
        desk.optIn(avs4);
        vm.stopPrank();
        vm.startPrank(deskOwner2);
        desk2.optIn(avs);
        desk2.optIn(avs2);
        desk2.optIn(avs3);
        desk2.optIn(avs4);
        vm.stopPrank();

        // The fixture minted 1000 WETH to avsAdmin; top every admin up to the same known funds.
        weth.mint(avsAdmin, FUND_WETH - weth.balanceOf(avsAdmin));
        weth.mint(admin2, FUND_WETH);
        wbtc.mint(avsAdmin, FUND_WBTC);
        wbtc.mint(admin2, FUND_WBTC);
        address[2] memory admins = [avsAdmin, admin2];
        for (uint256 i; i < 2; ++i) {
            vm.startPrank(admins[i]);
            weth.approve(address(market), type(uint256).max);
            wbtc.approve(address(market), type(uint256).max);
            vm.stopPrank();
        }
    }

    // ================================================================== helpers

    function _post(
        address admin,
        uint32 avsId,
        address asset,
        uint88 backing,
        IAllocationManager.Mode mode,
        uint40 term,
        uint32 maxPriceBps
    ) internal returns (uint256) {
        vm.prank(admin);
        return market.postBid(avsId, asset, backing, mode, 0, term, maxPriceBps, 1000);
    }

    function _askOn(address owner, uint256 poolId, uint128 capacity, IAllocationManager.Mode mode, uint32 minPriceBps)
        internal
        returns (uint256)
    {
        vm.prank(owner);
        return market.postAsk(poolId, capacity, mode, minPriceBps, 730 days);
    }

    function _escrow(uint256 backing, uint256 priceBps, uint256 term) internal pure returns (uint256) {
        return Math.mulDiv(backing * priceBps, term, BPS * YEAR, Math.Rounding.Ceil);
    }

    function _premiumOf(uint256 backing, uint256 priceBps, uint256 term) internal pure returns (uint256) {
        return Math.mulDiv(backing * priceBps, term, BPS * YEAR);
    }

    function _bidSlot(uint256 bidId) internal pure returns (bytes32) {
        return keccak256(abi.encode(bidId, BIDS_SLOT));
    }

    /// @dev The slot a bid must occupy, packed independently of the market's code (`StoredBid`, low bits first).
    function _expectedWord(
        uint16 index,
        uint32 avsId,
        uint16 price,
        uint16 commission,
        uint8 mode,
        uint88 backing,
        uint40 term,
        uint16 minRating
    ) internal pure returns (uint256 w) {
        w = uint256(index);
        w |= uint256(avsId) << 16;
        w |= uint256(price) << 48;
        w |= uint256(commission) << 64;
        w |= uint256(mode) << 80;
        w |= uint256(backing) << 88;
        w |= uint256(term) << 176;
        w |= uint256(minRating) << 216;
    }

    /// @dev Everything a refused call must leave as it was: counters, the asset index, every order and lease, the
    /// credits and the market's balances.
    function _fingerprint() internal view returns (bytes32 h) {
        h = keccak256(
            abi.encode(
                market.bidCount(),
                market.askCount(),
                market.leaseCount(),
                market.assetCount(),
                weth.balanceOf(address(market)),
                wbtc.balanceOf(address(market)),
                weth.balanceOf(avsAdmin),
                wbtc.balanceOf(avsAdmin)
            )
        );
        address[3] memory accounts = [avsAdmin, admin2, mallory];
        for (uint256 i; i < accounts.length; ++i) {
            h = keccak256(
                abi.encode(h, market.credits(accounts[i], address(weth)), market.credits(accounts[i], address(wbtc)))
            );
        }
        for (uint256 i = 1; i <= market.bidCount(); ++i) {
            h = keccak256(abi.encode(h, market.bids(i), vm.load(address(market), _bidSlot(i))));
        }
        for (uint256 i = 1; i <= market.askCount(); ++i) {
            h = keccak256(abi.encode(h, market.asks(i)));
        }
        for (uint256 i = 1; i <= market.leaseCount(); ++i) {
            h = keccak256(abi.encode(h, market.leases(i)));
        }
        for (uint16 i = 1; i <= market.assetCount(); ++i) {
            h = keccak256(abi.encode(h, market.assetAt(i)));
        }
        h = keccak256(
            abi.encode(
                h,
                manager.getAllocation(pool, avs),
                manager.getAllocation(pool, avs2),
                desk.heldUntil(avs),
                desk.sharedHeldUntil(pool)
            )
        );
    }

    /// @dev Market-wide solvency per token, to the wei, and each admin's outlay per token: what left its wallet is
    /// exactly its bids' derived escrow, its leases' premium not refunded (paid to the rail or still unstreamed) and
    /// its credits.
    function _assertConserved() internal view {
        MockERC20[2] memory tokens = [weth, wbtc];
        address[2] memory admins = [avsAdmin, admin2];
        uint256[2] memory funds = [FUND_WETH, FUND_WBTC];
        for (uint256 t; t < 2; ++t) {
            address token = address(tokens[t]);
            uint256 owed;
            uint256[2] memory outlay;
            for (uint256 i = 1; i <= market.bidCount(); ++i) {
                ISecurityMarket.Bid memory b = market.bids(i);
                if (b.asset != token) continue;
                // The view's escrow is the derived one; recompute it independently.
                assertEq(b.escrow, _escrow(b.backing, b.maxPriceBps, b.term), "bid escrow view");
                owed += b.escrow;
                outlay[market.avsAdmin(b.avsId) == avsAdmin ? 0 : 1] += b.escrow;
            }
            for (uint256 i = 1; i <= market.leaseCount(); ++i) {
                ISecurityMarket.LeaseView memory l = market.leases(i);
                if (l.asset != token) continue;
                assertLe(l.paid + l.refunded, l.premium, "lease streamed more than its premium");
                owed += l.premium - l.paid - l.refunded;
                outlay[market.avsAdmin(l.avsId) == avsAdmin ? 0 : 1] += l.premium - l.refunded;
            }
            for (uint256 a; a < 2; ++a) {
                uint256 c = market.credits(admins[a], token);
                owed += c;
                outlay[a] += c;
                assertEq(funds[t] - tokens[t].balanceOf(admins[a]), outlay[a], "an AVS lost escrow");
            }
            assertEq(tokens[t].balanceOf(address(market)), owed, "market not solvent to the wei");
        }
    }

    /// @dev A refused call must name its error: never a panic, never empty revert data.
    function _assertNamed(bytes memory reason) internal pure {
        assertGe(reason.length, 4, "refused without a named error");
        bytes4 selector = bytes4(reason);
        assertTrue(selector != PANIC, "refused with a panic");
    }

    // ================================================================== 1. the one-slot bid

    /// @notice Every field at its limit round-trips, the slot holds exactly the layout (nothing above bit 232), and the
    /// bids around it are untouched.
    function test_packedBidAtEveryLimitRoundTripsAndLeavesItsNeighboursAlone() public {
        uint256 before = _post(avsAdmin, avs, address(weth), 1 ether, SHARED, 1 days, 1);
        ISecurityMarket.Bid memory b0 = market.bids(before);
        bytes32 w0 = vm.load(address(market), _bidSlot(before));

        uint88 maxBacking = type(uint88).max;
        uint256 escrow = _escrow(maxBacking, 10_000, 730 days);
        weth.mint(admin2, escrow);
        vm.prank(admin2);
        uint256 id = market.postBid(avs2, address(weth), maxBacking, SHARED, 10_000, 730 days, 10_000, 5000);
        uint256 after_ = _post(avsAdmin, avs, address(wbtc), 1e8, ISOLATED, 2 days, 2);

        ISecurityMarket.Bid memory b = market.bids(id);
        assertEq(b.asset, address(weth));
        assertEq(b.avsId, avs2);
        assertEq(b.maxPriceBps, 10_000);
        assertEq(b.maxCommissionBps, 5000);
        assertEq(uint8(b.mode), uint8(SHARED));
        assertEq(b.backing, maxBacking);
        assertEq(b.escrow, escrow);
        assertEq(b.term, 730 days);
        assertEq(b.minRatingBps, 10_000);
        assertEq(
            uint256(vm.load(address(market), _bidSlot(id))),
            _expectedWord(1, avs2, 10_000, 5000, uint8(SHARED), maxBacking, 730 days, 10_000),
            "slot is not the layout"
        );
        assertEq(uint256(vm.load(address(market), _bidSlot(id))) >> 232, 0, "bits above the layout");

        // The neighbours.
        assertEq(vm.load(address(market), _bidSlot(before)), w0);
        assertEq(keccak256(abi.encode(market.bids(before))), keccak256(abi.encode(b0)));
        ISecurityMarket.Bid memory b2 = market.bids(after_);
        assertEq(b2.asset, address(wbtc));
        assertEq(b2.avsId, avs);
        assertEq(b2.backing, 1e8);
        assertEq(b2.term, 2 days);
        assertEq(b2.maxPriceBps, 2);
        assertEq(uint8(b2.mode), uint8(ISOLATED));
        // The escrow of the largest bid never overflows its uint96 view.
        assertLe(escrow, type(uint96).max);
    }

    /// @notice Any valid bid round-trips exactly, in either asset, and a later bid or a cancel never changes an earlier
    /// one's slot.
    struct Fields {
        uint88 backing;
        IAllocationManager.Mode mode;
        MockERC20 asset;
        uint16 minRating;
        uint40 term;
        uint32 price;
        uint16 commission;
        address admin;
        uint32 avsId;
        uint256 escrow;
        uint16 index;
    }

    function testFuzz_packedBidRoundTripsAndNeverTouchesAnother(
        uint88 backing,
        bool shared,
        bool inWbtc,
        uint16 minRating,
        uint40 term,
        uint32 price,
        uint16 commission,
        bool secondAvs
    ) public {
        Fields memory f;
        f.backing = uint88(bound(backing, 1, type(uint88).max / 4));
        f.minRating = uint16(bound(minRating, 0, 10_000));
        f.term = uint40(bound(term, 1 days, 730 days));
        f.price = uint32(bound(price, 1, 10_000));
        f.commission = uint16(bound(commission, 0, 5000));
        f.mode = shared ? SHARED : ISOLATED;
        f.asset = inWbtc ? wbtc : weth;
        (f.admin, f.avsId) = secondAvs ? (admin2, avs2) : (avsAdmin, avs);

        uint256 first = _post(avsAdmin, avs, address(weth), 3 ether, ISOLATED, 10 days, 77);
        bytes32 firstWord = vm.load(address(market), _bidSlot(first));

        f.escrow = _escrow(f.backing, f.price, f.term);
        f.asset.mint(f.admin, f.escrow);
        uint256 balanceBefore = f.asset.balanceOf(address(market));
        vm.prank(f.admin);
        uint256 id =
            market.postBid(f.avsId, address(f.asset), f.backing, f.mode, f.minRating, f.term, f.price, f.commission);
        assertEq(f.asset.balanceOf(address(market)) - balanceBefore, f.escrow, "escrow pulled");

        f.index = market.assetIndex(address(f.asset));
        assertEq(market.assetAt(f.index), address(f.asset));
        assertEq(uint256(vm.load(address(market), _bidSlot(id))), _wordOf(f, f.backing), "slot is not the layout");
        ISecurityMarket.Bid memory b = market.bids(id);
        assertEq(b.asset, address(f.asset));
        assertEq(b.avsId, f.avsId);
        assertEq(b.maxPriceBps, f.price);
        assertEq(b.maxCommissionBps, f.commission);
        assertEq(uint8(b.mode), uint8(f.mode));
        assertEq(b.backing, f.backing);
        assertEq(b.escrow, f.escrow);
        assertEq(b.term, f.term);
        assertEq(b.minRatingBps, f.minRating);
        assertEq(vm.load(address(market), _bidSlot(first)), firstWord, "an earlier bid changed");

        uint256 last = _post(avsAdmin, avs, address(wbtc), 1e8, SHARED, 3 days, 9);
        vm.prank(f.admin);
        market.cancelBid(id);
        assertEq(vm.load(address(market), _bidSlot(first)), firstWord, "an earlier bid changed");
        assertEq(uint256(vm.load(address(market), _bidSlot(id))), _wordOf(f, 0), "a cancel touched more than backing");
        assertEq(market.bids(id).escrow, 0, "a cancelled bid keeps escrow");
        assertEq(market.credits(f.admin, address(f.asset)), f.escrow, "cancel refunds all of it");
        assertEq(market.bids(last).backing, 1e8);
        assertEq(market.bids(last).asset, address(wbtc));
    }

    function _wordOf(Fields memory f, uint88 backing) internal pure returns (uint256) {
        return
            _expectedWord(f.index, f.avsId, uint16(f.price), f.commission, uint8(f.mode), backing, f.term, f.minRating);
    }

    /// @notice A price above 16 bits (which `_packBid` would spill into the commission, or truncate), a term above the
    /// maximum or above 40 bits, a rating, commission or mode out of range: each refused by name, nothing written.
    function test_outOfRangeFieldsAreRefusedByNameAndWriteNothing() public {
        _post(avsAdmin, avs, address(weth), 1 ether, ISOLATED, 1 days, 1);
        bytes32 fp = _fingerprint();
        uint32[5] memory prices = [uint32(0), 10_001, 65_535, 65_536 + 100, type(uint32).max];
        for (uint256 i; i < prices.length; ++i) {
            vm.prank(avsAdmin);
            vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.InvalidPrice.selector, prices[i]));
            market.postBid(avs, address(weth), 1 ether, ISOLATED, 0, 30 days, prices[i], 1000);
        }
        uint40[5] memory terms = [uint40(0), 1 days - 1, 730 days + 1, uint40(1) << 39, type(uint40).max];
        for (uint256 i; i < terms.length; ++i) {
            vm.prank(avsAdmin);
            vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.InvalidTerm.selector, terms[i], 1 days, 730 days));
            market.postBid(avs, address(weth), 1 ether, ISOLATED, 0, terms[i], 100, 1000);
        }
        vm.prank(avsAdmin);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.CommissionLimitTooHigh.selector, 5001, 5000));
        market.postBid(avs, address(weth), 1 ether, ISOLATED, 0, 30 days, 100, 5001);
        vm.prank(avsAdmin);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.CommissionLimitTooHigh.selector, 65_535, 5000));
        market.postBid(avs, address(weth), 1 ether, ISOLATED, 0, 30 days, 100, type(uint16).max);
        vm.prank(avsAdmin);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.InvalidRating.selector, 10_001));
        market.postBid(avs, address(weth), 1 ether, ISOLATED, 10_001, 30 days, 100, 1000);
        vm.prank(avsAdmin);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.InvalidRating.selector, 65_535));
        market.postBid(avs, address(weth), 1 ether, ISOLATED, type(uint16).max, 30 days, 100, 1000);
        vm.prank(avsAdmin);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.InvalidMode.selector, IAllocationManager.Mode.None));
        market.postBid(avs, address(weth), 1 ether, IAllocationManager.Mode.None, 0, 30 days, 100, 1000);
        vm.prank(avsAdmin);
        vm.expectRevert(ISecurityMarket.ZeroAmount.selector);
        market.postBid(avs, address(weth), 0, ISOLATED, 0, 30 days, 100, 1000);
        vm.prank(mallory);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.NotAVSAdmin.selector, avs, mallory));
        market.postBid(avs, address(weth), 1 ether, ISOLATED, 0, 30 days, 100, 1000);
        vm.prank(avsAdmin);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.NotAVSAdmin.selector, avs2, avsAdmin));
        market.postBid(avs2, address(weth), 1 ether, ISOLATED, 0, 30 days, 100, 1000);
        vm.prank(avsAdmin);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.UnknownAVS.selector, uint32(999)));
        market.postBid(999, address(weth), 1 ether, ISOLATED, 0, 30 days, 100, 1000);
        assertEq(_fingerprint(), fp, "a refused bid changed state");

        // Without a reputation layer no rating can be asked for.
        SecurityMarket bare = new SecurityMarket(manager, vault, registry, rail, IReputation(address(0)));
        vm.prank(avsAdmin);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.InvalidRating.selector, 1));
        bare.postBid(avs, address(weth), 1 ether, ISOLATED, 1, 30 days, 100, 1000);
        assertEq(bare.bidCount(), 0);
        assertEq(bare.assetCount(), 0);
    }

    /// @notice Calldata with dirty upper bits in any packed field (or an enum out of range) never reaches the packing:
    /// refused, nothing written, nothing pulled.
    function test_dirtyCalldataNeverReachesThePacking() public {
        bytes memory good = abi.encodeCall(
            SecurityMarket.postBid,
            (avs, address(weth), uint88(1 ether), ISOLATED, uint16(0), uint40(30 days), 100, 1000)
        );
        // (word index, the dirty value to OR in)
        uint256[10] memory dirty = [
            uint256(1) << 32, // avsId
            uint256(1) << 160, // asset
            uint256(1) << 88, // backing
            uint256(3), // mode out of range
            uint256(1) << 8, // mode's upper bits
            uint256(1) << 16, // minRatingBps
            uint256(1) << 40, // term
            uint256(1) << 32, // maxPriceBps
            uint256(1) << 16, // maxCommissionBps
            uint256(1) << 255 // backing's top bit
        ];
        uint256[10] memory word = [uint256(0), 1, 2, 3, 3, 4, 5, 6, 7, 2];
        bytes32 fp = _fingerprint();
        for (uint256 i; i < dirty.length; ++i) {
            bytes memory data = bytes.concat(good); // a copy
            uint256 offset = 4 + 32 * word[i];
            uint256 v;
            assembly {
                v := mload(add(add(data, 32), offset))
            }
            v = i == 3 ? (v & ~uint256(0xff)) | dirty[i] : v | dirty[i];
            assembly {
                mstore(add(add(data, 32), offset), v)
            }
            vm.prank(avsAdmin);
            (bool ok,) = address(market).call(data);
            assertFalse(ok, "dirty calldata accepted");
        }
        assertEq(_fingerprint(), fp, "dirty calldata changed state");
        // The clean call goes through (the test is not vacuous).
        vm.prank(avsAdmin);
        (bool okGood,) = address(market).call(good);
        assertTrue(okGood);
        assertEq(market.bids(market.bidCount()).backing, 1 ether);
    }

    // ================================================================== 2. the asset index

    /// @notice Only allowlisted assets are ever indexed; re-bidding, disallowing or re-allowing never adds an index; a
    /// tier's pseudo-asset, address(0) and a random token are refused; the set is bounded by the owner's allowlist.
    function test_assetIndexGrowsOnlyWithTheOwnersAllowlist() public {
        assertEq(market.assetCount(), 0);
        MockERC20 junk = new MockERC20("Junk", "JNK", 18);
        junk.mint(mallory, 1e30);
        address[4] memory refused = [address(junk), address(0), vault.tierAsset(pool), address(0xdead)];
        for (uint256 i; i < refused.length; ++i) {
            vm.prank(avsAdmin);
            vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.AssetNotAllowed.selector, refused[i]));
            market.postBid(avs, refused[i], 1 ether, ISOLATED, 0, 30 days, 100, 1000);
        }
        assertEq(market.assetCount(), 0);

        uint256 a = _post(avsAdmin, avs, address(weth), 1 ether, ISOLATED, 30 days, 100);
        _post(admin2, avs2, address(weth), 1 ether, SHARED, 30 days, 100);
        assertEq(market.assetCount(), 1);
        uint256 c = _post(admin2, avs2, address(wbtc), 1e8, SHARED, 30 days, 100);
        assertEq(market.assetCount(), 2);
        assertEq(market.assetIndex(address(weth)), 1);
        assertEq(market.assetIndex(address(wbtc)), 2);

        // Disallowed: refused, no index; the open bid still closes and refunds in its own asset.
        vault.setAssetAllowed(address(weth), false);
        vm.prank(avsAdmin);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.AssetNotAllowed.selector, address(weth)));
        market.postBid(avs, address(weth), 1 ether, ISOLATED, 0, 30 days, 100, 1000);
        vm.prank(avsAdmin);
        market.cancelBid(a);
        assertEq(market.credits(avsAdmin, address(weth)), _escrow(1 ether, 100, 30 days));
        assertEq(market.credits(avsAdmin, address(wbtc)), 0);
        // Re-allowed: the same index.
        vault.setAssetAllowed(address(weth), true);
        _post(avsAdmin, avs, address(weth), 1 ether, ISOLATED, 30 days, 100);
        assertEq(market.assetIndex(address(weth)), 1);
        assertEq(market.assetCount(), 2);
        // The tier pseudo-asset can never be allowlisted (so never indexed).
        address tierAsset = vault.tierAsset(pool);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.InvalidAsset.selector, tierAsset));
        vault.setAssetAllowed(tierAsset, true);
        // Only the owner grows the allowlist, and with it the index.
        vm.prank(mallory);
        vm.expectRevert();
        vault.setAssetAllowed(address(junk), true);
        vault.setAssetAllowed(address(junk), true);
        junk.mint(avsAdmin, 1e30);
        vm.prank(avsAdmin);
        junk.approve(address(market), type(uint256).max);
        _post(avsAdmin, avs, address(junk), 1 ether, ISOLATED, 30 days, 100);
        assertEq(market.assetCount(), 3);
        assertEq(market.assetAt(3), address(junk));
        assertEq(market.bids(c).asset, address(wbtc), "an index moved");
    }

    /// @notice The 16-bit index never wraps: with every index taken (only the vault owner could get there, by
    /// allowlisting 65,535 assets), one more asset is refused by name (`TooManyAssets`) and no bid ever reads another asset's index.
    function test_theAssetIndexNeverWrapsIntoAnotherAsset() public {
        uint256 id = _post(avsAdmin, avs, address(weth), 1 ether, ISOLATED, 30 days, 100);
        vm.store(address(market), bytes32(uint256(5)), bytes32(uint256(type(uint16).max))); // assetCount
        MockERC20 late = new MockERC20("Late", "LATE", 18);
        vault.setAssetAllowed(address(late), true);
        late.mint(avsAdmin, 1e30);
        vm.prank(avsAdmin);
        late.approve(address(market), type(uint256).max);
        vm.prank(avsAdmin);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.TooManyAssets.selector, type(uint16).max));
        market.postBid(avs, address(late), 1 ether, ISOLATED, 0, 30 days, 100, 1000);
        assertEq(market.assetIndex(address(late)), 0);
        assertEq(market.assetAt(0), address(0));
        assertEq(market.bids(id).asset, address(weth));
        assertEq(market.assetCount(), type(uint16).max);
    }

    /// @notice Unknown bid ids (0, the next, beyond 32 bits) are refused; the view of one reads no asset.
    function test_unknownBidIdsAreRefused() public {
        _post(avsAdmin, avs, address(weth), 1 ether, ISOLATED, 30 days, 100);
        uint256 askId = _ask(100 ether, ISOLATED, 50);
        bytes32 fp = _fingerprint();
        uint256[4] memory ids = [uint256(0), 2, uint256(1) << 32 | 1, type(uint256).max];
        for (uint256 i; i < ids.length; ++i) {
            vm.prank(avsAdmin);
            vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.UnknownBid.selector, ids[i]));
            market.cancelBid(ids[i]);
            vm.prank(deskOwner);
            vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.UnknownBid.selector, ids[i]));
            market.fill(ids[i], askId, 1 ether);
            assertEq(market.bids(ids[i]).asset, address(0));
        }
        assertEq(_fingerprint(), fp);
    }

    // ================================================================== 3. the derived escrow

    /// @notice An AVS's bid filled in parts at both prices (the ask's, lower, and its own) and then cancelled: it got
    /// back everything but the two premiums, to the wei; nothing stays escrowed; at the end of both leases the market
    /// holds only credits.
    // Numbers chosen so that every escrow and premium rounds.
    uint88 internal constant PB = 123_456_789_012_345_678_901;
    uint40 internal constant PT = 200 days + 7;
    uint88 internal constant A1 = 33_333_333_333_333_333_331;
    uint88 internal constant A2 = 44_444_444_444_444_444_447;

    function test_partFillsAtBothPricesThenCancelLoseTheAVSNothing() public {
        uint256 id = _post(avsAdmin, avs, address(weth), PB, SHARED, PT, 777);
        uint256 paidIn = FUND_WETH - weth.balanceOf(avsAdmin);
        assertEq(paidIn, _escrow(PB, 777, PT));

        uint256 cheap = _ask(1000 ether, SHARED, 333);
        uint256 dear = _askOn(deskOwner2, pool2, 1000 ether, SHARED, 500);
        uint256 l1 = _fillAsAVS(id, cheap, A1); // at the ask's 333
        vm.prank(deskOwner2);
        uint256 l2 = market.fill(id, dear, A2); // at the bid's 777
        uint256 premiums = _premiumOf(A1, 333, PT) + _premiumOf(A2, 777, PT);
        assertEq(market.leases(l1).premium, _premiumOf(A1, 333, PT));
        assertEq(market.leases(l2).premium, _premiumOf(A2, 777, PT));
        assertEq(market.bids(id).escrow, _escrow(PB - A1 - A2, 777, PT));
        assertEq(market.credits(avsAdmin, address(weth)), paidIn - premiums - _escrow(PB - A1 - A2, 777, PT));
        _assertConserved();

        vm.prank(avsAdmin);
        market.cancelBid(id);
        assertEq(market.bids(id).escrow, 0, "cancelling leaves escrow");
        assertEq(market.bids(id).backing, 0);
        assertEq(market.credits(avsAdmin, address(weth)), paidIn - premiums, "the AVS lost escrow");
        _assertConserved();

        // Stream both to their end with the backing whole, withdraw: the market holds nothing of WETH.
        vm.warp(block.timestamp + ALLOC_DELAY + PT);
        market.stream(l1);
        market.stream(l2);
        assertEq(
            market.leases(l1).paid + market.leases(l1).refunded + market.leases(l2).paid + market.leases(l2).refunded,
            premiums
        );
        vm.prank(avsAdmin);
        market.withdraw(address(weth), avsAdmin);
        assertEq(weth.balanceOf(address(market)), 0, "WETH left in the market");
        assertEq(
            FUND_WETH - weth.balanceOf(avsAdmin),
            market.leases(l1).paid + market.leases(l2).paid,
            "the AVS paid more than the stakers were paid"
        );
    }

    /// @notice The release never underflows and never takes more than it returns, for any bid, any amount, either
    /// price: ⌈x⌉ − ⌈x − d⌉ ≥ ⌊d·p'/p⌋, the surplus goes to the AVS, the bid keeps exactly ⌈left⌉.
    function testFuzz_releaseCoversEveryPremiumAtEitherPrice(
        uint88 backing,
        uint88 amount,
        uint40 term,
        uint32 maxPrice,
        uint32 askPrice,
        bool avsTakes
    ) public {
        backing = uint88(bound(backing, 1, 300 ether));
        amount = uint88(bound(amount, 1, backing));
        term = uint40(bound(term, 1 days, 730 days));
        maxPrice = uint32(bound(maxPrice, 1, 10_000));
        askPrice = uint32(bound(askPrice, 1, maxPrice));
        uint256 price = avsTakes ? askPrice : maxPrice;
        vm.assume(_premiumOf(amount, price, term) != 0);

        uint256 id = _post(avsAdmin, avs, address(weth), backing, SHARED, term, maxPrice);
        uint256 askId = _ask(400 ether, SHARED, askPrice);
        uint256 creditsBefore = market.credits(avsAdmin, address(weth));
        uint256 leaseId = avsTakes ? _fillAsAVS(id, askId, amount) : _fillAsDesk(id, askId, amount);
        _checkRelease(id, leaseId, backing, amount, term, maxPrice, price, creditsBefore);
    }

    function _checkRelease(
        uint256 id,
        uint256 leaseId,
        uint256 backing,
        uint256 amount,
        uint256 term,
        uint256 maxPrice,
        uint256 price,
        uint256 creditsBefore
    ) internal view {
        uint256 premium = _premiumOf(amount, price, term);
        assertEq(market.leases(leaseId).premium, premium);
        assertEq(market.leases(leaseId).priceBps, price);
        uint256 kept = _escrow(backing - amount, maxPrice, term);
        assertEq(market.bids(id).escrow, kept);
        assertEq(
            market.credits(avsAdmin, address(weth)) - creditsBefore,
            _escrow(backing, maxPrice, term) - kept - premium,
            "surplus"
        );
        _assertConserved();
    }

    // ================================================================== 4. conservation, two assets, any sequence

    struct Run {
        uint256 seed;
        uint256 step;
    }

    function _rand(Run memory r) internal pure returns (uint256 v) {
        v = uint256(keccak256(abi.encode(r.seed, r.step)));
        r.step++;
    }

    function _poolOf(uint256 k) internal view returns (uint256) {
        uint256[4] memory pools = [pool, wbtcPool, pool2, wbtcPool2];
        return pools[k % 4];
    }

    function _ownerOfPool(uint256 poolId) internal view returns (address) {
        (, address operator) = vault.poolAsset(poolId);
        return OperatorDesk(operator).owner();
    }

    /// @notice Bids in WETH and WBTC by two AVSs, asks on four pools (two desks), part fills by either side (both
    /// prices), cancels, time, streams, slashes and withdrawals in any order: after every step the market holds, per
    /// token, exactly the open bids' escrow + the unstreamed premium + the credits, and each AVS's outlay is exactly
    /// its escrow, its premiums not refunded and its credits. At the end, with everything streamed, cancelled and
    /// withdrawn, the market holds nothing.
    function testFuzz_tokensAreConservedAcrossTwoAssets(uint256 seed) public {
        Run memory r = Run(seed, 0);
        for (uint256 i; i < 48; ++i) {
            uint256 op = _rand(r) % 10;
            if (op <= 1) _opBid(r);
            else if (op == 2) _opAsk(r);
            else if (op <= 4) _opFill(r);
            else if (op == 5) _opCancel(r);
            else if (op == 6) _opStream(r);
            else if (op == 7) _opWithdraw(r);
            else if (op == 8) _opSlash(r);
            else vm.warp(block.timestamp + _rand(r) % 3 days);
            _assertConserved();
        }
        _windDown();
    }

    function _opBid(Run memory r) internal {
        address[4] memory admins = [avsAdmin, admin2, avsAdmin, admin2];
        uint32[4] memory avsIds = [avs, avs2, avs3, avs4];
        uint256 who = _rand(r) % 4;
        bool inWbtc = _rand(r) % 2 == 1;
        uint88 backing = inWbtc ? uint88(bound(_rand(r), 1e4, 15e8)) : uint88(bound(_rand(r), 1e12, 300 ether));
        uint40 term = uint40(bound(_rand(r), 1 days, 730 days));
        uint32 price = uint32(bound(_rand(r), 1, 10_000));
        IAllocationManager.Mode mode = _rand(r) % 2 == 0 ? ISOLATED : SHARED;
        _post(admins[who], avsIds[who], inWbtc ? address(wbtc) : address(weth), backing, mode, term, price);
    }

    function _opAsk(Run memory r) internal {
        uint256 poolId = _poolOf(_rand(r));
        uint32 minPrice = uint32(bound(_rand(r), 1, 10_000) / (1 + _rand(r) % 8) + 1);
        uint128 capacity = uint128(_rand(r) % 1e21) + 1;
        IAllocationManager.Mode mode = _rand(r) % 2 == 0 ? ISOLATED : SHARED;
        _askOn(_ownerOfPool(poolId), poolId, capacity, mode, minPrice);
    }

    /// @dev Mostly a fill that can match (an open bid, an ask on a pool of its asset and mode at or below its price,
    /// posted if none), sometimes any bid against any ask; either side takes.
    function _opFill(Run memory r) internal {
        uint256 n = market.bidCount();
        if (n == 0) return;
        uint256 bidId = 1 + _rand(r) % n;
        // Mostly an open bid (the next one from a random start); a closed one sometimes.
        if (_rand(r) % 8 != 0) {
            for (uint256 j; j < n && market.bids(bidId).backing == 0; ++j) {
                bidId = bidId % n + 1;
            }
        }
        ISecurityMarket.Bid memory b = market.bids(bidId);
        uint256 askId;
        if (_rand(r) % 4 == 0 && market.askCount() != 0) {
            askId = 1 + _rand(r) % market.askCount();
        } else {
            uint256 poolId = _poolOf((b.asset == address(weth) ? 0 : 1) + 2 * (_rand(r) % 2));
            uint32 minPrice = uint32(bound(_rand(r), 1, b.maxPriceBps));
            askId = _askOn(
                _ownerOfPool(poolId), poolId, uint128(bound(_rand(r), 1, 2 * uint256(b.backing) + 1)), b.mode, minPrice
            );
        }
        ISecurityMarket.Ask memory k = market.asks(askId);
        uint256 cap = Math.min(Math.min(b.backing, k.capacity), vault.slashableAssets(k.poolId));
        uint88 amount = uint88(cap == 0 ? 1 : bound(_rand(r), 1, cap));
        address taker = _rand(r) % 2 == 0 ? market.avsAdmin(b.avsId) : _ownerOfPool(k.poolId);
        vm.prank(taker);
        try market.fill(bidId, askId, amount) {}
        catch (bytes memory reason) {
            _assertNamed(reason);
        }
    }

    function _opCancel(Run memory r) internal {
        if (market.bidCount() == 0) return;
        uint256 bidId = 1 + _rand(r) % market.bidCount();
        vm.prank(market.avsAdmin(market.bids(bidId).avsId));
        try market.cancelBid(bidId) {
            assertEq(market.bids(bidId).escrow, 0, "cancelling leaves escrow");
        } catch (bytes memory reason) {
            _assertNamed(reason);
        }
    }

    function _opStream(Run memory r) internal {
        vm.warp(block.timestamp + _rand(r) % 40 days);
        if (market.leaseCount() == 0) return;
        try market.stream(1 + _rand(r) % market.leaseCount()) {}
        catch (bytes memory reason) {
            _assertNamed(reason);
        }
    }

    function _opWithdraw(Run memory r) internal {
        address admin = _rand(r) % 2 == 0 ? avsAdmin : admin2;
        address token = _rand(r) % 2 == 0 ? address(weth) : address(wbtc);
        if (market.credits(admin, token) == 0) return;
        vm.prank(admin);
        market.withdraw(token, admin);
    }

    /// @dev A leased AVS slashes the lease's pool (now and then all of its backing).
    function _opSlash(Run memory r) internal {
        if (market.leaseCount() == 0) return;
        ISecurityMarket.LeaseView memory l = market.leases(1 + _rand(r) % market.leaseCount());
        uint64 fraction = _rand(r) % 4 == 0 ? 1e18 : uint64(bound(_rand(r), 1, 0.6e18));
        vm.prank(manager.getAVS(l.avsId).slasher);
        try manager.slash(l.avsId, l.poolId, fraction) {} catch {}
    }

    /// @dev Every lease streamed to its end, every bid cancelled, every credit withdrawn: the market holds nothing.
    function _windDown() internal {
        vm.warp(block.timestamp + 800 days);
        for (uint256 i = 1; i <= market.leaseCount(); ++i) {
            if (!market.leases(i).ended) market.stream(i);
            ISecurityMarket.LeaseView memory l = market.leases(i);
            assertTrue(l.ended);
            assertEq(l.paid + l.refunded, l.premium, "premium lost");
        }
        for (uint256 i = 1; i <= market.bidCount(); ++i) {
            ISecurityMarket.Bid memory b = market.bids(i);
            if (b.backing == 0) continue;
            vm.prank(market.avsAdmin(b.avsId));
            market.cancelBid(i);
        }
        _assertConserved();
        address[2] memory admins = [avsAdmin, admin2];
        address[2] memory tokens = [address(weth), address(wbtc)];
        for (uint256 a; a < 2; ++a) {
            for (uint256 t; t < 2; ++t) {
                if (market.credits(admins[a], tokens[t]) == 0) continue;
                vm.prank(admins[a]);
                market.withdraw(tokens[t], admins[a]);
            }
        }
        assertEq(weth.balanceOf(address(market)), 0, "WETH stuck or missing");
        assertEq(wbtc.balanceOf(address(market)), 0, "WBTC stuck or missing");
    }

    /// @notice A bid in the second asset streams, refunds and credits only in that asset (its index resolves to its
    /// own token everywhere): the first asset's balances and credits do not move.
    function test_aBidInTheSecondAssetPaysAndRefundsOnlyInIt() public {
        uint256 wethBid = _post(avsAdmin, avs, address(weth), 10 ether, ISOLATED, 100 days, 500);
        uint256 id = _post(avsAdmin, avs, address(wbtc), 5e8, SHARED, 100 days, 800);
        uint256 askId = _askOn(deskOwner, wbtcPool, 10e8, SHARED, 400);
        uint256 wethBefore = weth.balanceOf(address(market));
        uint256 leaseId = _fillAsAVS(id, askId, 4e8);
        ISecurityMarket.LeaseView memory l = market.leases(leaseId);
        assertEq(l.asset, address(wbtc));
        assertEq(l.avsId, avs);
        assertEq(uint8(l.mode), uint8(SHARED));
        assertEq(l.poolId, wbtcPool);
        assertEq(market.credits(avsAdmin, address(weth)), 0);
        assertEq(
            market.credits(avsAdmin, address(wbtc)),
            _escrow(5e8, 800, 100 days) - _escrow(1e8, 800, 100 days) - _premiumOf(4e8, 400, 100 days)
        );
        vm.warp(block.timestamp + ALLOC_DELAY + 50 days);
        (uint256 paid,) = market.stream(leaseId);
        assertGt(paid, 0);
        assertEq(weth.balanceOf(address(market)), wethBefore, "WETH moved for a WBTC lease");
        assertEq(market.credits(avsAdmin, address(weth)), 0);
        assertEq(market.bids(wethBid).escrow, _escrow(10 ether, 500, 100 days));
        _assertConserved();
    }

    // ================================================================== 5. the lease's start and its hold

    /// @notice A shared lease starts exactly when its allocation becomes slashable (not a second sooner or later), and
    /// the desk holds the AVS and the pool until its end.
    function test_aSharedLeaseStartsExactlyWhenItsBackingTakesEffect() public {
        uint256 id = _bid(100 ether, SHARED, 1000, 60 days);
        uint256 askId = _ask(400 ether, SHARED, 500);
        uint256 t0 = block.timestamp;
        uint256 leaseId = _fillAsDesk(id, askId, 100 ether);
        ISecurityMarket.LeaseView memory l = market.leases(leaseId);
        assertEq(l.start, t0 + ALLOC_DELAY);
        assertEq(l.end, l.start + 60 days);
        assertEq(desk.heldUntil(avs), l.end);
        assertEq(desk.sharedHeldUntil(pool), l.end);
        vm.warp(l.start - 1);
        assertEq(manager.slashableBacking(avs, pool), 0, "backed before the start");
        vm.warp(l.start);
        assertGe(manager.slashableBacking(avs, pool), 100 ether, "not backed at the start");
    }

    /// @notice An isolated lease filled behind a slash already decided on its pool (another AVS's request) starts the
    /// second after the request's last executable second, when its increase settles.
    function test_anIsolatedLeaseBehindADecidedSlashStartsWhenItSettles() public {
        _rivalSharedOnPool();
        vm.prank(moduleY);
        manager.requestSlash(avsY, pool, 0.1e18);
        uint40 until = manager.getPoolState(pool).slashPendingUntil;
        assertGt(until, block.timestamp + ALLOC_DELAY);

        uint256 id = _bid(100 ether, ISOLATED, 1000, 60 days);
        uint256 askId = _ask(400 ether, ISOLATED, 500);
        uint256 leaseId = _fillAsDesk(id, askId, 100 ether);
        ISecurityMarket.LeaseView memory l = market.leases(leaseId);
        assertEq(l.start, uint256(until) + 1);
        assertEq(desk.heldUntil(avs), l.end);
        vm.warp(l.start - 1);
        assertEq(manager.slashableBacking(avs, pool), 0, "backed before the start");
        vm.warp(l.start);
        assertGt(manager.slashableBacking(avs, pool), 0, "not backed at the start");
    }

    /// @notice Was BROKEN (review 2): a slash decided on the pool after an isolated fill puts the lease's backing off
    /// past its start (the manager settles an isolated increase only after `slashPendingUntil`), and the first stream
    /// priced the gap as backed. Fixed in `SecurityMarket._span`: before the backing is there a stream does nothing
    /// (a sample of 0 would underpay the next span, so the AVS cannot use the gap against the stakers), and the first
    /// stream refunds the span before the last decided slash's end.
    function test_anIsolatedLeaseIsPaidOnlyFromWhenItsBackingTakesEffectBehindASlashDecidedAfterTheFill() public {
        _rivalSharedOnPool();
        uint256 id = _bid(100 ether, ISOLATED, 1000, 60 days);
        uint256 askId = _ask(400 ether, ISOLATED, 500);
        uint256 leaseId = _fillAsDesk(id, askId, 100 ether);
        ISecurityMarket.LeaseView memory l = market.leases(leaseId);
        assertEq(l.start, block.timestamp + ALLOC_DELAY);

        // An hour later the rival decides a slash on the pool (a request; `announceSlash` does the same).
        vm.warp(block.timestamp + 1 hours);
        vm.prank(moduleY);
        manager.requestSlash(avsY, pool, 0.1e18);
        uint256 backedFrom = uint256(manager.getPoolState(pool).slashPendingUntil) + 1;
        assertGt(backedFrom, l.start);

        // In the gap the backing is not there, and a stream (the AVS's, say) changes nothing.
        vm.warp(l.start + 12 hours);
        assertEq(manager.slashableBacking(avs, pool), 0, "the manager puts the increase off");
        (uint256 paid, uint256 refunded) = market.stream(leaseId);
        assertEq(paid + refunded, 0, "nothing streamed before the backing is there");
        assertEq(market.leases(leaseId).streamedTo, l.start, "the lease did not move");

        // Once it is there, the first stream pays from then on and refunds the gap.
        vm.warp(backedFrom + 5 days);
        assertGt(manager.slashableBacking(avs, pool), 0);
        (paid, refunded) = market.stream(leaseId);
        uint256 upToNow = l.premium * (block.timestamp - l.start) / (l.end - l.start);
        uint256 fromBacking = upToNow - l.premium * (backedFrom - l.start) / (l.end - l.start);
        assertEq(paid, fromBacking, "paid from when the backing took effect, at the full ratio");
        assertEq(paid + refunded, upToNow, "the gap refunded");
    }

    /// @notice BROKEN (the consequence of the above; here the rival only announces a slash, `announceSlash`). Nobody
    /// streams during the gap (the first stream samples the backing as whole at the lease's start): the stakers are
    /// paid the gap's premium for backing that was not slashable, at the AVS's expense.
    function test_nobodyIsPaidForTheGapBeforeAPostponedIsolatedLeaseTakesEffect() public {
        _rivalSharedOnPool();
        uint256 id = _bid(100 ether, ISOLATED, 1000, 60 days);
        uint256 askId = _ask(400 ether, ISOLATED, 500);
        uint256 leaseId = _fillAsDesk(id, askId, 100 ether);
        ISecurityMarket.LeaseView memory l = market.leases(leaseId);
        vm.warp(block.timestamp + 1 hours);
        vm.prank(moduleY);
        manager.announceSlash(avsY, pool); // no slash at all: an announcement is enough
        uint256 backedFrom = uint256(manager.getPoolState(pool).slashPendingUntil) + 1;

        vm.warp(l.start + 10 days);
        assertGt(manager.slashableBacking(avs, pool), 0);
        (uint256 paid,) = market.stream(leaseId);
        uint256 fair = l.premium * (block.timestamp - backedFrom) / (l.end - l.start);
        assertLe(paid, fair + 1, "paid for backing that was not slashable");
    }

    /// @dev avsY (vetoable) backs the desk's pool, shared 50%, in effect.
    function _rivalSharedOnPool() internal {
        vm.prank(deskOwner);
        desk.allocate(pool, avsY, SHARED, 0.5e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        assertGt(manager.slashableBacking(avsY, pool), 0);
    }

    /// @notice The desk's owner can neither lower the leased allocation nor opt out before the lease's end (the hold is
    /// the end the desk computed from `allocate`'s effectAt), and the backing is there until the last second.
    function test_theLeasedAllocationNeverDropsBeforeItsEnd() public {
        uint256 id = _bid(100 ether, ISOLATED, 1000, 30 days);
        uint256 askId = _ask(400 ether, ISOLATED, 500);
        uint256 leaseId = _fillAsAVS(id, askId, 100 ether);
        ISecurityMarket.LeaseView memory l = market.leases(leaseId);
        uint96 leased = manager.getAllocation(pool, avs).pending;
        for (uint256 k; k < 3; ++k) {
            uint256 at = k == 0 ? l.start : (k == 1 ? l.start + 15 days : l.end - 1);
            vm.warp(at);
            vm.startPrank(deskOwner);
            vm.expectRevert(abi.encodeWithSelector(IOperatorDesk.LeaseHoldsAVS.selector, avs, uint48(l.end)));
            desk.allocate(pool, avs, ISOLATED, 0);
            vm.expectRevert(abi.encodeWithSelector(IOperatorDesk.LeaseHoldsAVS.selector, avs, uint48(l.end)));
            desk.optOut(avs);
            vm.stopPrank();
            assertGe(manager.slashableBacking(avs, pool), 100 ether, "the backing dropped before the end");
        }
        assertEq(manager.getAllocation(pool, avs).current, leased);
        // Only the market can allocate for a lease.
        vm.prank(deskOwner);
        vm.expectRevert(abi.encodeWithSelector(IOperatorDesk.NotMarket.selector, deskOwner));
        desk.leaseAllocate(pool, avs, ISOLATED, 1e17, 1 days);
        vm.warp(l.end);
        vm.prank(deskOwner);
        desk.allocate(pool, avs, ISOLATED, 0); // the hold lapses at the end
    }

    /// @notice A pair the owner allocated itself, or one with a change pending, is refused at the fill, by name, and
    /// the refused fill changes nothing (the bid keeps its escrow, the ask its capacity).
    function test_aPairAllocatedOrPendingIsRefusedAndTheFillChangesNothing() public {
        uint256 id = _bid(100 ether, SHARED, 1000, 30 days);
        uint256 askId = _ask(400 ether, SHARED, 500);
        // Pending (the owner's own increase, not in effect yet).
        vm.prank(deskOwner);
        desk.allocate(pool, avs, SHARED, 0.1e18);
        uint32 at = manager.getAllocation(pool, avs).effectAt;
        bytes32 fp = _fingerprint();
        vm.prank(avsAdmin);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.PendingChange.selector, uint40(at)));
        market.fill(id, askId, 10 ether);
        assertEq(_fingerprint(), fp);
        // In effect: the owner's own.
        vm.warp(at);
        fp = _fingerprint();
        vm.prank(deskOwner);
        vm.expectRevert(abi.encodeWithSelector(IOperatorDesk.PairAllocated.selector, pool, avs));
        market.fill(id, askId, 10 ether);
        assertEq(_fingerprint(), fp);
    }

    /// @notice Was a documented gap (review 2): the owner's own isolated increases were held off a pool with a running
    /// shared lease, but a market fill of another AVS's isolated bid was not, and carved the shared lease's backing
    /// (200 -> 80 WETH). Now the desk refuses a leased isolated increase there too, until the shared lease ends.
    function test_aRunningSharedLeaseHoldsOffIsolatedFillsOnItsPool() public {
        uint256 id = _bid(200 ether, SHARED, 1000, 100 days);
        uint256 shAsk = _ask(400 ether, SHARED, 500);
        uint256 leaseId = _fillAsAVS(id, shAsk, 200 ether);
        ISecurityMarket.LeaseView memory l = market.leases(leaseId);
        vm.warp(l.start);
        uint256 other = _post(admin2, avs2, address(weth), 320 ether, ISOLATED, 100 days, 1000);
        uint256 isoAsk = _ask(400 ether, ISOLATED, 500);
        bytes32 fp = _fingerprint();
        vm.prank(deskOwner);
        vm.expectRevert(abi.encodeWithSelector(IOperatorDesk.SharedLeaseHoldsPool.selector, pool, uint48(l.end)));
        market.fill(other, isoAsk, 320 ether);
        assertEq(_fingerprint(), fp, "the refused fill changed nothing");
        vm.warp(block.timestamp + 10 days);
        assertEq(manager.slashableBacking(avs, pool), 200 ether, "the shared lease keeps its backing");
        (uint256 paid, uint256 refunded) = market.stream(leaseId);
        assertEq(refunded, 0);
        assertGt(paid, 0);
        // At the shared lease's end the pool is free for isolated leases again.
        vm.warp(l.end);
        market.stream(leaseId);
        _fillAsDesk(other, isoAsk, 320 ether);
        _assertConserved();
    }

    // ================================================================== 6. every entry point refuses by name

    function test_fillRefusesEveryBadInputByNameAndChangesNothing() public {
        uint256 id = _bid(100 ether, ISOLATED, 1000, 365 days);
        uint256 askId = _ask(400 ether, ISOLATED, 500);
        uint256 shAsk = _ask(400 ether, SHARED, 500);
        uint256 shortAsk;
        vm.prank(deskOwner);
        shortAsk = market.postAsk(pool, 400 ether, ISOLATED, 500, 30 days);
        uint256 dearAsk = _ask(400 ether, ISOLATED, 2000);
        uint256 btcAsk = _askOn(deskOwner, wbtcPool, 10e8, ISOLATED, 1);
        uint256 bigBid = _bid(1000 ether, ISOLATED, 100, 365 days);
        uint256 bigAsk = _ask(1000 ether, ISOLATED, 50);
        vm.prank(avsAdmin);
        uint256 rated = market.postBid(avs, address(weth), 100 ether, ISOLATED, 9000, 365 days, 1000, 1000);
        rating.set(address(desk), 0.5e18);
        uint256 closed = _bid(1 ether, ISOLATED, 1000, 365 days);
        vm.prank(avsAdmin);
        market.cancelBid(closed);
        uint256 closedAsk = _ask(1 ether, ISOLATED, 500);
        vm.prank(deskOwner);
        market.cancelAsk(closedAsk);

        bytes32 fp = _fingerprint();
        _refuseFill(deskOwner, id, askId, 0, abi.encodeWithSelector(ISecurityMarket.ZeroAmount.selector));
        _refuseFill(
            deskOwner,
            id,
            shAsk,
            1 ether,
            abi.encodeWithSelector(ISecurityMarket.ModeMismatch.selector, ISOLATED, SHARED)
        );
        _refuseFill(
            deskOwner,
            id,
            btcAsk,
            1 ether,
            abi.encodeWithSelector(ISecurityMarket.AssetMismatch.selector, address(weth), address(wbtc))
        );
        _refuseFill(
            deskOwner,
            id,
            shortAsk,
            1 ether,
            abi.encodeWithSelector(ISecurityMarket.TermTooLong.selector, 365 days, 30 days)
        );
        _refuseFill(
            avsAdmin, id, dearAsk, 1 ether, abi.encodeWithSelector(ISecurityMarket.PriceMismatch.selector, 2000, 1000)
        );
        _refuseFill(
            deskOwner, rated, askId, 1 ether, abi.encodeWithSelector(ISecurityMarket.RatingTooLow.selector, 5000, 9000)
        );
        _refuseFill(
            deskOwner,
            id,
            askId,
            100 ether + 1,
            abi.encodeWithSelector(ISecurityMarket.AmountAboveOrder.selector, 100 ether + 1, 100 ether)
        );
        _refuseFill(
            deskOwner,
            bigBid,
            bigAsk,
            400 ether + 1,
            abi.encodeWithSelector(ISecurityMarket.BackingAbovePool.selector, 400 ether + 1, 400 ether)
        );
        _refuseFill(deskOwner, id, askId, 1, abi.encodeWithSelector(ISecurityMarket.PremiumTooSmall.selector));
        _refuseFill(
            mallory, id, askId, 1 ether, abi.encodeWithSelector(ISecurityMarket.NotOrderOwner.selector, mallory)
        );
        _refuseFill(admin2, id, askId, 1 ether, abi.encodeWithSelector(ISecurityMarket.NotOrderOwner.selector, admin2));
        _refuseFill(deskOwner, closed, askId, 1 ether, abi.encodeWithSelector(ISecurityMarket.OrderClosed.selector));
        _refuseFill(deskOwner, id, closedAsk, 1 ether, abi.encodeWithSelector(ISecurityMarket.OrderClosed.selector));
        _refuseFill(deskOwner, id, 999, 1 ether, abi.encodeWithSelector(ISecurityMarket.UnknownAsk.selector, 999));
        // A desk owner of another desk is a stranger to this ask.
        _refuseFill(
            deskOwner2, id, askId, 1 ether, abi.encodeWithSelector(ISecurityMarket.NotOrderOwner.selector, deskOwner2)
        );
        assertEq(_fingerprint(), fp, "a refused fill changed state");
    }

    function _refuseFill(address caller, uint256 bidId, uint256 askId, uint88 amount, bytes memory err) internal {
        vm.prank(caller);
        vm.expectRevert(err);
        market.fill(bidId, askId, amount);
    }

    function test_otherEntryPointsRefuseEveryBadInputByNameAndChangeNothing() public {
        (uint256 strangerPool,) = _deposit(alice, opA, weth, 10 ether);
        uint256 id = _bid(100 ether, ISOLATED, 1000, 30 days);
        uint256 askId = _ask(400 ether, ISOLATED, 500);
        uint256 leaseId = _fillAsDesk(id, askId, 50 ether);
        vm.warp(block.timestamp + ALLOC_DELAY + 30 days);
        market.stream(leaseId);
        uint256 closed = _bid(1 ether, ISOLATED, 1000, 30 days);
        vm.prank(avsAdmin);
        market.cancelBid(closed);
        uint256 closedAsk = _ask(1 ether, ISOLATED, 500);
        vm.prank(deskOwner);
        market.cancelAsk(closedAsk);
        bytes32 fp = _fingerprint();

        // postAsk
        vm.prank(mallory);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.NotDeskOwner.selector, address(desk), mallory));
        market.postAsk(pool, 1 ether, ISOLATED, 100, 30 days);
        vm.prank(deskOwner2);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.NotDeskOwner.selector, address(desk), deskOwner2));
        market.postAsk(pool, 1 ether, ISOLATED, 100, 30 days);
        vm.prank(opA);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.NotADesk.selector, opA));
        market.postAsk(strangerPool, 1 ether, ISOLATED, 100, 30 days);
        vm.prank(deskOwner);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.UnknownPool.selector, 999));
        market.postAsk(999, 1 ether, ISOLATED, 100, 30 days);
        vm.prank(deskOwner);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.UnknownPool.selector, (uint256(1) << 32) | pool));
        market.postAsk((uint256(1) << 32) | pool, 1 ether, ISOLATED, 100, 30 days);
        vm.prank(deskOwner);
        vm.expectRevert(ISecurityMarket.ZeroAmount.selector);
        market.postAsk(pool, 0, ISOLATED, 100, 30 days);
        vm.prank(deskOwner);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.InvalidMode.selector, IAllocationManager.Mode.None));
        market.postAsk(pool, 1 ether, IAllocationManager.Mode.None, 100, 30 days);
        vm.prank(deskOwner);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.InvalidTerm.selector, 730 days + 1, 1 days, 730 days));
        market.postAsk(pool, 1 ether, ISOLATED, 100, 730 days + 1);
        vm.prank(deskOwner);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.InvalidPrice.selector, 0));
        market.postAsk(pool, 1 ether, ISOLATED, 0, 30 days);
        vm.prank(deskOwner);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.InvalidPrice.selector, 10_001));
        market.postAsk(pool, 1 ether, ISOLATED, 10_001, 30 days);
        // cancelAsk
        vm.prank(deskOwner);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.UnknownAsk.selector, 999));
        market.cancelAsk(999);
        vm.prank(mallory);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.NotDeskOwner.selector, address(desk), mallory));
        market.cancelAsk(askId);
        vm.prank(deskOwner);
        vm.expectRevert(ISecurityMarket.OrderClosed.selector);
        market.cancelAsk(closedAsk);
        // cancelBid
        vm.prank(mallory);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.NotAVSAdmin.selector, avs, mallory));
        market.cancelBid(id);
        vm.prank(deskOwner);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.NotAVSAdmin.selector, avs, deskOwner));
        market.cancelBid(id);
        vm.prank(avsAdmin);
        vm.expectRevert(ISecurityMarket.OrderClosed.selector);
        market.cancelBid(closed);
        // stream
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.UnknownLease.selector, 0));
        market.stream(0);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.UnknownLease.selector, 2));
        market.stream(2);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.LeaseEnded.selector, leaseId));
        market.stream(leaseId);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.UnknownLease.selector, 2));
        market.leases(2);
        // withdraw
        vm.prank(avsAdmin);
        vm.expectRevert(ISecurityMarket.ZeroAddress.selector);
        market.withdraw(address(weth), address(0));
        vm.prank(mallory);
        vm.expectRevert(ISecurityMarket.NothingToWithdraw.selector);
        market.withdraw(address(weth), mallory);
        vm.prank(avsAdmin);
        vm.expectRevert(ISecurityMarket.NothingToWithdraw.selector);
        market.withdraw(address(usdc), avsAdmin);
        assertEq(_fingerprint(), fp, "a refused call changed state");
    }
}

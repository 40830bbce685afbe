// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {ExactPull} from "../libraries/ExactPull.sol";
import {IAllocationManager} from "../interfaces/IAllocationManager.sol";
import {IOperatorDesk} from "../interfaces/IOperatorDesk.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {IReputation} from "../interfaces/IReputation.sol";
import {IRewardRail} from "../interfaces/IRewardRail.sol";
import {ISecurityMarket} from "../interfaces/ISecurityMarket.sol";
import {IStakeVault} from "../interfaces/IStakeVault.sol";
import {OperatorDesk} from "./OperatorDesk.sol";

/// @title SecurityMarket
/// @notice Bids, asks and leases of security; see ISecurityMarket for the rules and the accounting.
contract SecurityMarket is ISecurityMarket, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    uint256 public constant BPS = 10_000;
    uint256 public constant YEAR = 365 days;
    uint256 public constant WAD = 1e18;
    /// @notice The backing ratio's scale (a lease's `lastRatio`).
    uint256 public constant RATIO_ONE = 1e12;
    uint40 public constant MIN_TERM = 1 days;
    uint40 public constant MAX_TERM = 730 days;
    /// @notice Highest price an order may name: 100% of the backing per year.
    uint32 public constant MAX_PRICE_BPS = 10_000;
    /// @notice The rail's `MAX_COMMISSION_BPS` (checked at construction): the most a bid can accept.
    uint16 public constant MAX_COMMISSION_BPS = 5000;

    IAllocationManager public immutable manager;
    IStakeVault public immutable vault;
    IOperatorRegistry public immutable registry;
    IRewardRail public immutable rail;
    /// @notice Where operator ratings come from (zero: no reputation layer, and bids cannot ask for a rating).
    IReputation public immutable reputation;

    mapping(address desk => bool) public isDesk;
    /// @notice Each AVS's admin as the manager registered it (fixed for life), read once: refunds go there.
    mapping(uint32 avsId => address) public avsAdmin;

    /// @dev A bid as stored: one slot (the asset by its index). Its escrow is not stored: it is always the premium
    /// of the backing still wanted at the bid's highest price, rounded up (`_escrowOf`), because every fill releases
    /// exactly the difference and pays the surplus over its own premium back at once.
    struct StoredBid {
        uint16 assetIndex;
        uint32 avsId;
        uint16 maxPriceBps; // at most MAX_PRICE_BPS
        uint16 maxCommissionBps;
        IAllocationManager.Mode mode;
        uint88 backing; // still wanted (0: filled or cancelled)
        uint40 term;
        uint16 minRatingBps;
    }

    mapping(uint256 bidId => StoredBid) internal _bids;
    /// @notice Each asset a bid was posted in, by index (from 1); only allowlisted assets are ever indexed.
    mapping(uint16 index => address) public assetAt;
    mapping(address asset => uint16) public assetIndex;
    uint16 public assetCount;
    mapping(uint256 askId => Ask) internal _asks;
    mapping(uint256 leaseId => Lease) internal _leases;
    mapping(address account => mapping(address token => uint256)) public credits;
    // Ids fit the 32 bits a lease keeps of its bid's; the increments are checked.
    uint32 public bidCount;
    uint32 public askCount;
    uint32 public leaseCount;

    constructor(
        IAllocationManager manager_,
        IStakeVault vault_,
        IOperatorRegistry registry_,
        IRewardRail rail_,
        IReputation reputation_
    ) {
        if (
            address(manager_) == address(0) || address(vault_) == address(0) || address(registry_) == address(0)
                || address(rail_) == address(0)
        ) revert ZeroAddress();
        (manager, vault, registry, rail, reputation) = (manager_, vault_, registry_, rail_, reputation_);
        if (rail_.MAX_COMMISSION_BPS() != MAX_COMMISSION_BPS) revert CommissionLimitTooHigh(MAX_COMMISSION_BPS, 0);
    }

    // ------------------------------------------------------------------ desks and orders

    /// @inheritdoc ISecurityMarket
    function openDesk(string calldata metadataURI, address signingKey) external returns (address desk) {
        desk = address(new OperatorDesk(msg.sender, manager, vault, registry, rail, metadataURI, signingKey));
        isDesk[desk] = true;
        emit DeskOpened(desk, msg.sender);
    }

    /// @inheritdoc ISecurityMarket
    function postBid(
        uint32 avsId,
        address asset,
        uint88 backing,
        IAllocationManager.Mode mode,
        uint16 minRatingBps,
        uint40 term,
        uint32 maxPriceBps,
        uint16 maxCommissionBps
    ) external nonReentrant returns (uint256 bidId) {
        _onlyAVSAdmin(avsId);
        if (backing == 0) revert ZeroAmount();
        _checkTerms(mode, term, maxPriceBps);
        if (minRatingBps > BPS) revert InvalidRating(minRatingBps);
        // Without a reputation layer there is no rating to ask for: such a bid could never be filled.
        if (minRatingBps != 0 && address(reputation) == address(0)) revert InvalidRating(minRatingBps);
        if (maxCommissionBps > MAX_COMMISSION_BPS) {
            revert CommissionLimitTooHigh(maxCommissionBps, MAX_COMMISSION_BPS);
        }
        if (!vault.isAllowed(asset)) revert AssetNotAllowed(asset);
        bidId = ++bidCount;
        // One slot, written whole (the layout of `StoredBid`, low bits first): no read of the fresh slot.
        _storeBid(
            bidId,
            _packBid(_indexOf(asset), avsId, maxPriceBps, maxCommissionBps, mode)
                | _packTerms(backing, term, minRatingBps)
        );
        // The whole term at the highest price, rounded up: every fill's premium (rounded down) is covered.
        uint256 escrow = _escrowOf(backing, maxPriceBps, term);
        if (escrow > type(uint96).max) revert AmountTooLarge(escrow);
        emit BidPosted(bidId, avsId, asset, mode, backing, escrow);
        ExactPull.pullExact(IERC20(asset), escrow);
    }

    /// @inheritdoc ISecurityMarket
    function postAsk(uint256 poolId, uint128 capacity, IAllocationManager.Mode mode, uint32 minPriceBps, uint40 maxTerm)
        external
        returns (uint256 askId)
    {
        address desk = _onlyDeskOwnerOf(poolId);
        if (capacity == 0) revert ZeroAmount();
        _checkTerms(mode, maxTerm, minPriceBps);
        askId = ++askCount;
        // Pool ids are the vault's uint32 counter.
        _asks[askId] =
            Ask({poolId: uint32(poolId), capacity: capacity, minPriceBps: minPriceBps, maxTerm: maxTerm, mode: mode});
        emit AskPosted(askId, desk, poolId, mode, capacity, minPriceBps, maxTerm);
    }

    /// @inheritdoc ISecurityMarket
    function cancelBid(uint256 bidId) external {
        StoredBid storage b = _bid(bidId);
        _onlyAVSAdmin(b.avsId);
        uint88 wanted = b.backing;
        if (wanted == 0) revert OrderClosed();
        b.backing = 0;
        uint256 refund = _escrowOf(wanted, b.maxPriceBps, b.term);
        _refund(b, refund);
        emit BidClosed(bidId, refund);
    }

    /// @inheritdoc ISecurityMarket
    function cancelAsk(uint256 askId) external {
        Ask storage k = _ask(askId);
        _onlyDeskOwnerOf(k.poolId);
        if (k.capacity == 0) revert OrderClosed();
        k.capacity = 0;
        emit AskClosed(askId);
    }

    // ------------------------------------------------------------------ leases

    /// @inheritdoc ISecurityMarket
    function fill(uint256 bidId, uint256 askId, uint88 amount) external nonReentrant returns (uint256 leaseId) {
        StoredBid storage b = _bid(bidId);
        Ask storage k = _ask(askId);
        if (b.backing == 0 || k.capacity == 0) revert OrderClosed();
        (address poolAsset, address desk, uint32 generation, uint256 value) = vault.poolTerms(k.poolId);
        // The taker takes the resting order's price.
        bool avsTakes = msg.sender != OperatorDesk(desk).owner();
        if (avsTakes && msg.sender != _adminOf(b.avsId)) revert NotOrderOwner(msg.sender);
        _checkMatch(b, k, poolAsset, desk, amount);
        uint64 fractionWad = _fraction(value, amount);
        leaseId = _book(bidId, askId, b, k, amount, avsTakes ? k.minPriceBps : b.maxPriceBps);

        _allocate(leaseId, b, desk, fractionWad, generation);
    }

    /// @dev The lease's allocation, made by the pool's desk; the lease starts when it takes effect, in the pool's
    /// `generation` (a full slash ends it).
    function _allocate(uint256 leaseId, StoredBid storage b, address desk, uint64 fractionWad, uint32 generation)
        internal
    {
        Lease storage l = _leases[leaseId];
        uint256 poolId = l.poolId;
        // slither-disable-next-line reentrancy-no-eth (the rail and the market's desks never call back; nonReentrant)
        if (!vault.earns(poolId)) rail.enableRewards(poolId);
        // slither-disable-next-line reentrancy-no-eth (the lease's start is the allocation's, known only after it)
        (uint48 start,) = IOperatorDesk(desk).leaseAllocate(poolId, b.avsId, b.mode, fractionWad, b.term);
        (l.start, l.generation) = (uint40(start), generation);
    }

    /// @inheritdoc ISecurityMarket
    function stream(uint256 leaseId) external nonReentrant returns (uint256 paid, uint256 refunded) {
        Lease storage l = _lease(leaseId);
        if (l.ended) revert LeaseEnded(leaseId);
        StoredBid storage b = _bids[l.bidId];
        (uint256 due, uint256 backed, uint256 ratio, bool slashedOut) = _span(l, b);
        bool ended = l.ended;
        if (due == 0 && !ended) return (0, 0);
        (paid, refunded) = _payOut(l, b, backed * ratio / RATIO_ONE, due);
        emit LeaseStreamed(leaseId, l.streamedTo, paid, refunded, ratio);
        if (ended) emit LeaseClosed(leaseId, slashedOut);
    }

    /// @inheritdoc ISecurityMarket
    function withdraw(address token, address receiver) external nonReentrant returns (uint256 amount) {
        if (receiver == address(0)) revert ZeroAddress();
        amount = credits[msg.sender][token];
        if (amount == 0) revert NothingToWithdraw();
        credits[msg.sender][token] = 0;
        emit CreditWithdrawn(msg.sender, token, receiver, amount);
        IERC20(token).safeTransfer(receiver, amount);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ISecurityMarket
    function bids(uint256 bidId) external view returns (Bid memory v) {
        StoredBid memory b = _bids[bidId];
        v.asset = assetAt[b.assetIndex];
        v.avsId = b.avsId;
        v.maxPriceBps = b.maxPriceBps;
        v.maxCommissionBps = b.maxCommissionBps;
        v.mode = b.mode;
        v.backing = b.backing;
        v.escrow = uint96(_escrowOf(b.backing, b.maxPriceBps, b.term));
        v.term = b.term;
        v.minRatingBps = b.minRatingBps;
    }

    /// @inheritdoc ISecurityMarket
    function asks(uint256 askId) external view returns (Ask memory) {
        return _asks[askId];
    }

    /// @inheritdoc ISecurityMarket
    function leases(uint256 leaseId) external view returns (LeaseView memory v) {
        Lease storage l = _lease(leaseId);
        StoredBid storage b = _bids[l.bidId];
        uint40 term = b.term;
        (v.leaseId, v.bidId, v.poolId) = (leaseId, l.bidId, l.poolId);
        (v.avsId, v.asset, v.mode) = (b.avsId, assetAt[b.assetIndex], b.mode);
        (v.backing, v.priceBps) = (l.backing, l.priceBps);
        v.premium = _premium(l.backing, l.priceBps, term);
        (v.start, v.end) = (l.start, l.start + term);
        (v.streamedTo, v.lastRatio) = (_streamedTo(l), _lastRatio(l));
        (v.paid, v.refunded, v.ended) = (l.paid, l.refunded, l.ended);
    }

    // ------------------------------------------------------------------ internals

    function _checkTerms(IAllocationManager.Mode mode, uint40 term, uint32 priceBps) internal pure {
        if (mode == IAllocationManager.Mode.None) revert InvalidMode(mode);
        if (term < MIN_TERM || term > MAX_TERM) revert InvalidTerm(term, MIN_TERM, MAX_TERM);
        if (priceBps == 0 || priceBps > MAX_PRICE_BPS) revert InvalidPrice(priceBps);
    }

    /// @dev Every condition of a fill that reads the two orders and the chain.
    function _checkMatch(StoredBid storage b, Ask storage k, address poolAsset, address desk, uint88 amount)
        internal
        view
    {
        if (amount == 0) revert ZeroAmount();
        if (b.mode != k.mode) revert ModeMismatch(b.mode, k.mode);
        address asset = assetAt[b.assetIndex];
        if (poolAsset != asset) revert AssetMismatch(asset, poolAsset);
        if (b.term > k.maxTerm) revert TermTooLong(b.term, k.maxTerm);
        if (k.minPriceBps > b.maxPriceBps) revert PriceMismatch(k.minPriceBps, b.maxPriceBps);
        uint256 minRating = b.minRatingBps;
        if (minRating != 0) {
            uint256 rating = reputation.operatorRating(desk) * BPS / WAD;
            if (rating < minRating) revert RatingTooLow(rating, minRating);
        }
        uint256 available = Math.min(b.backing, k.capacity);
        if (amount > available) revert AmountAboveOrder(amount, available);
        // The desk refuses a pair the owner allocated (`PairAllocated`); the manager one with a change pending.
    }

    /// @dev The fill's effects on the two orders and the new lease (its start is set once the allocation is made).
    function _book(uint256 bidId, uint256 askId, StoredBid storage b, Ask storage k, uint88 amount, uint256 priceBps)
        internal
        returns (uint256 leaseId)
    {
        uint256 premium = _premium(amount, priceBps, b.term);
        if (premium == 0) revert PremiumTooSmall();
        uint88 left = b.backing - amount;
        _release(bidId, b, left, premium);
        uint128 capacity = k.capacity - amount;
        k.capacity = capacity;
        if (capacity == 0) emit AskClosed(askId);

        uint256 poolId = k.poolId;
        leaseId = ++leaseCount;
        _storeLease(leaseId, bidId, poolId, amount, priceBps);
        emit LeaseOpened(leaseId, bidId, askId, poolId, b.avsId, amount, premium);
    }

    /// @dev A new lease's slot 0, written whole (the layout of `Lease`, low bits first; `generation` and `start` follow
    /// the allocation); slot 1 is `stream`'s.
    function _storeLease(uint256 leaseId, uint256 bidId, uint256 poolId, uint88 amount, uint256 priceBps) internal {
        uint256 word0 = uint256(uint32(bidId)) | poolId << 32 | uint256(amount) << 136 | priceBps << 224;
        assembly ("memory-safe") {
            mstore(0, leaseId)
            mstore(32, _leases.slot)
            sstore(keccak256(0, 64), word0)
        }
    }

    /// @dev Moves the lease to now (or to its end): the premium due for the span, the part of it that backing could
    /// have earned, and the ratio that part is paid at. A full slash of the pool (its generation moved on) ends the
    /// lease at once, with nothing paid for the span.
    function _span(Lease storage l, StoredBid storage b)
        internal
        returns (uint256 due, uint256 backed, uint256 ratio, bool slashedOut)
    {
        uint256 poolId = l.poolId;
        uint40 end = l.start + b.term;
        uint40 from = _streamedTo(l);
        slashedOut = _slashedOut(l, b, poolId);
        uint40 to = slashedOut ? end : uint40(Math.min(block.timestamp, end));
        if (to <= from && !slashedOut) return (0, 0, 0, false);
        due = _premiumBetween(l, b, from, to);
        backed = due;
        if (!slashedOut) {
            uint256 ratioNow = _ratioNow(l, b, poolId);
            if (l.streamedTo == 0 && b.mode == IAllocationManager.Mode.Isolated) {
                // An isolated increase settles only after every slash decided on the pool (`slashPendingUntil`), and
                // one decided after the fill can put it off past `start`: until the backing is there nothing is
                // streamed (a sample of 0 would underpay the next span), and the span before it is refunded.
                if (ratioNow == 0 && to < end) return (0, 0, 0, false);
                backed = _premiumBetween(l, b, _backedFrom(l.start, poolId, to), to);
            }
            ratio = Math.min(ratioNow, _lastRatio(l));
            l.lastRatio = uint40(ratioNow);
        }
        l.streamedTo = to;
        if (slashedOut || to == end) l.ended = true;
    }

    /// @dev A full slash ended the pool's generation, or the AVS ejected the desk: the backing is gone for good, and
    /// so is the rest of the lease.
    function _slashedOut(Lease storage l, StoredBid storage b, uint256 poolId) internal view returns (bool) {
        (address desk, uint32 generation,) = vault.poolKey(poolId);
        return generation != l.generation || manager.membership(b.avsId, desk).ejected;
    }

    /// @dev The lease's premium earned between `from` and `to`.
    function _premiumBetween(Lease storage l, StoredBid storage b, uint40 from, uint40 to)
        internal
        view
        returns (uint256)
    {
        uint40 term = b.term;
        uint256 premium = _premium(l.backing, l.priceBps, term);
        return _cumulative(premium, l.start, term, to) - _cumulative(premium, l.start, term, from);
    }

    /// @dev From when an isolated lease's backing is known to be in effect, at the first stream (`to`, its backing
    /// there): its start, or the second after the last slash decided on the pool if that is later. A decision made
    /// after the backing took effect moves this later than the truth: the error is the stakers' (paid less), never the
    /// AVS's.
    function _backedFrom(uint40 start, uint256 poolId, uint40 to) internal view returns (uint40) {
        uint256 afterSlashes = uint256(manager.getPoolState(poolId).slashPendingUntil) + 1;
        return uint40(Math.max(start, Math.min(to, afterSlashes)));
    }

    /// @dev Pays `paid` of the span's `due` to the pool's stakers through the rail and credits the rest to the AVS.
    function _payOut(Lease storage l, StoredBid storage b, uint256 paid, uint256 due)
        internal
        returns (uint256, uint256 refunded)
    {
        address asset = assetAt[b.assetIndex];
        if (paid != 0) {
            IERC20(asset).forceApprove(address(rail), paid);
            // A payment too small to move the pool's reward per share goes back to the AVS instead.
            try rail.pay(l.poolId, paid, b.maxCommissionBps) {}
            catch {
                IERC20(asset).forceApprove(address(rail), 0);
                paid = 0;
            }
        }
        refunded = due - paid;
        l.paid += uint88(paid);
        l.refunded += uint88(refunded);
        if (refunded != 0) credits[_adminOf(b.avsId)][asset] += refunded;
        return (paid, refunded);
    }

    /// @dev The backing ratio to pay the span at (see ISecurityMarket), and the sample it leaves for the next span.
    /// @dev The backing ratio now: slashable backing over leased backing, capped at one. A span is paid at the lower
    /// of its two ends' samples (see ISecurityMarket): a fall of the backing is paid from the sample before it.
    function _ratioNow(Lease storage l, StoredBid storage b, uint256 poolId) internal view returns (uint256) {
        uint256 leased = l.backing;
        uint256 provided = Math.min(manager.slashableBacking(b.avsId, poolId), leased);
        return provided * RATIO_ONE / leased;
    }

    /// @dev The fraction of the pool (worth `value` now) that backs `amount`, rounded up (for the AVS: it gets at least
    /// `amount`).
    function _fraction(uint256 value, uint256 amount) internal pure returns (uint64) {
        if (amount > value) revert BackingAbovePool(amount, value);
        return uint64(Math.mulDiv(amount, WAD, value, Math.Rounding.Ceil));
    }

    /// @dev Premium earned from the lease's start to `t`, rounded down; all of it at the end.
    function _cumulative(uint256 premium, uint40 start, uint40 term, uint40 t) internal pure returns (uint256) {
        if (t <= start) return 0;
        return Math.mulDiv(premium, t - start, term);
    }

    /// @dev A lease's premium for the whole term, rounded down (against the stakers, who claim it).
    function _premium(uint256 backing, uint256 priceBps, uint256 term) internal pure returns (uint256) {
        return Math.mulDiv(backing * priceBps, term, BPS * YEAR);
    }

    function _streamedTo(Lease storage l) internal view returns (uint40) {
        uint40 to = l.streamedTo;
        return to == 0 ? l.start : to;
    }

    /// @dev Before the first stream the backing counts as whole.
    function _lastRatio(Lease storage l) internal view returns (uint256) {
        return l.streamedTo == 0 ? RATIO_ONE : l.lastRatio;
    }

    /// @dev The bid now wants `left`: the escrow the fill releases covers its premium (⌈x⌉ − ⌈x − d⌉ ≥ ⌊d⌋), and
    /// the surplus (a lower price, or the escrow's rounding) goes back to the AVS at once, so what stays escrowed is
    /// always `_escrowOf` what is still wanted.
    /// A bid that wants nothing more is closed.
    function _release(uint256 bidId, StoredBid storage b, uint88 left, uint256 premium) internal {
        (uint256 maxPrice, uint256 term) = (b.maxPriceBps, b.term);
        uint256 surplus = _escrowOf(b.backing, maxPrice, term) - _escrowOf(left, maxPrice, term) - premium;
        b.backing = left;
        _refund(b, surplus);
        if (left == 0) emit BidClosed(bidId, surplus);
    }

    /// @dev The low bits of a bid's slot: who bids in what, and its limits.
    function _packBid(
        uint16 index,
        uint32 avsId,
        uint32 maxPriceBps,
        uint16 maxCommissionBps,
        IAllocationManager.Mode mode
    ) internal pure returns (uint256) {
        return uint256(index) | uint256(avsId) << 16 | uint256(maxPriceBps) << 48 | uint256(maxCommissionBps) << 64
            | uint256(uint8(mode)) << 80;
    }

    /// @dev The high bits of a bid's slot: its terms.
    function _packTerms(uint88 backing, uint40 term, uint16 minRatingBps) internal pure returns (uint256) {
        return uint256(backing) << 88 | uint256(term) << 176 | uint256(minRatingBps) << 216;
    }

    /// @dev Writes a new bid's slot whole (`_packBid | _packTerms`): one fresh write, no read.
    function _storeBid(uint256 bidId, uint256 word) internal {
        assembly ("memory-safe") {
            mstore(0, bidId)
            mstore(32, _bids.slot)
            sstore(keccak256(0, 64), word)
        }
    }

    /// @dev The escrow for `backing` over `term` at `priceBps`: the premium rounded up.
    function _escrowOf(uint256 backing, uint256 priceBps, uint256 term) internal pure returns (uint256) {
        return Math.mulDiv(backing * priceBps, term, BPS * YEAR, Math.Rounding.Ceil);
    }

    /// @dev Escrow the bid no longer needs goes to its AVS admin's credits.
    function _refund(StoredBid storage b, uint256 amount) internal {
        if (amount != 0) credits[_adminOf(b.avsId)][assetAt[b.assetIndex]] += amount;
    }

    /// @dev The asset's index, given it the first time a bid names it (the asset is allowlisted: the set is the
    /// vault owner's, never anyone's to grow).
    function _indexOf(address asset) internal returns (uint16 index) {
        index = assetIndex[asset];
        if (index == 0) {
            if (assetCount == type(uint16).max) revert TooManyAssets(type(uint16).max);
            index = ++assetCount;
            assetIndex[asset] = index;
            assetAt[index] = asset;
        }
    }

    function _onlyAVSAdmin(uint32 avsId) internal {
        if (msg.sender != _adminOf(avsId)) revert NotAVSAdmin(avsId, msg.sender);
    }

    /// @dev The AVS's admin, read from the manager the first time (an AVS's admin never changes there).
    function _adminOf(uint32 avsId) internal returns (address admin) {
        admin = avsAdmin[avsId];
        if (admin == address(0)) {
            admin = manager.getAVS(avsId).admin; // reverts with UnknownAVS for an id that does not exist
            avsAdmin[avsId] = admin;
        }
    }

    /// @dev The pool's operator must be a desk of this market, owned by the caller.
    function _onlyDeskOwnerOf(uint256 poolId) internal view returns (address desk) {
        (, desk) = vault.poolAsset(poolId);
        if (!isDesk[desk]) revert NotADesk(desk);
        if (msg.sender != OperatorDesk(desk).owner()) revert NotDeskOwner(desk, msg.sender);
    }

    function _bid(uint256 bidId) internal view returns (StoredBid storage b) {
        b = _bids[bidId];
        if (b.assetIndex == 0) revert UnknownBid(bidId);
    }

    function _ask(uint256 askId) internal view returns (Ask storage k) {
        k = _asks[askId];
        if (k.poolId == 0) revert UnknownAsk(askId);
    }

    function _lease(uint256 leaseId) internal view returns (Lease storage l) {
        l = _leases[leaseId];
        if (l.poolId == 0) revert UnknownLease(leaseId);
    }
}

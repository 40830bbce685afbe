// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

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

    IAllocationManager public immutable manager;
    IStakeVault public immutable vault;
    IOperatorRegistry public immutable registry;
    IRewardRail public immutable rail;
    /// @notice Where operator ratings come from (zero: no reputation layer, and bids cannot ask for a rating).
    IReputation public immutable reputation;

    mapping(address desk => bool) public isDesk;
    mapping(uint256 bidId => Bid) internal _bids;
    mapping(uint256 askId => Ask) internal _asks;
    mapping(uint256 leaseId => Lease) internal _leases;
    mapping(address account => mapping(address token => uint256)) public credits;
    uint64 public bidCount;
    uint64 public askCount;
    uint64 public leaseCount;

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
        uint96 backing,
        IAllocationManager.Mode mode,
        uint16 minRatingBps,
        uint40 term,
        uint32 maxPriceBps,
        uint16 maxCommissionBps
    ) external nonReentrant returns (uint256 bidId) {
        _onlyAVSAdmin(avsId);
        if (backing == 0) revert ZeroAmount();
        _checkTerms(mode, term, maxPriceBps);
        if (minRatingBps > BPS) revert InvalidPrice(minRatingBps);
        uint256 maxCommission = rail.MAX_COMMISSION_BPS();
        if (maxCommissionBps > maxCommission) revert CommissionLimitTooHigh(maxCommissionBps, maxCommission);
        if (!vault.getAsset(asset).allowed) revert AssetNotAllowed(asset);
        // The whole term at the highest price, rounded up: every fill's premium (rounded down) is covered.
        uint256 escrow = Math.mulDiv(uint256(backing) * maxPriceBps, term, BPS * YEAR, Math.Rounding.Ceil);
        if (escrow > type(uint96).max) revert AmountTooLarge(escrow);
        unchecked {
            bidId = ++bidCount;
        }
        _bids[bidId] = Bid({
            asset: asset,
            avsId: avsId,
            maxPriceBps: maxPriceBps,
            maxCommissionBps: maxCommissionBps,
            mode: mode,
            open: true,
            backing: backing,
            escrow: uint96(escrow),
            term: term,
            minRatingBps: minRatingBps
        });
        emit BidPosted(bidId, avsId, asset, mode, backing, maxPriceBps, term, minRatingBps, maxCommissionBps, escrow);
        _pull(IERC20(asset), escrow);
    }

    /// @inheritdoc ISecurityMarket
    function postAsk(uint256 poolId, uint128 capacity, IAllocationManager.Mode mode, uint32 minPriceBps, uint40 maxTerm)
        external
        returns (uint256 askId)
    {
        address desk = _onlyDeskOwnerOf(poolId);
        if (capacity == 0) revert ZeroAmount();
        _checkTerms(mode, maxTerm, minPriceBps);
        unchecked {
            askId = ++askCount;
        }
        // Pool ids are the vault's uint32 counter.
        _asks[askId] = Ask({
            poolId: uint32(poolId),
            capacity: capacity,
            minPriceBps: minPriceBps,
            maxTerm: maxTerm,
            mode: mode,
            open: true
        });
        emit AskPosted(askId, desk, poolId, mode, capacity, minPriceBps, maxTerm);
    }

    /// @inheritdoc ISecurityMarket
    function cancelBid(uint256 bidId) external {
        Bid storage b = _bid(bidId);
        address admin = _onlyAVSAdmin(b.avsId);
        if (!b.open) revert OrderClosed();
        _closeBid(bidId, b, admin);
    }

    /// @inheritdoc ISecurityMarket
    function cancelAsk(uint256 askId) external {
        Ask storage k = _ask(askId);
        _onlyDeskOwnerOf(k.poolId);
        if (!k.open) revert OrderClosed();
        k.open = false;
        emit AskClosed(askId);
    }

    // ------------------------------------------------------------------ leases

    /// @inheritdoc ISecurityMarket
    function fill(uint256 bidId, uint256 askId, uint96 amount) external nonReentrant returns (uint256 leaseId) {
        Bid storage b = _bid(bidId);
        Ask storage k = _ask(askId);
        if (!b.open || !k.open) revert OrderClosed();
        uint256 poolId = k.poolId;
        (address poolAsset, address desk) = vault.poolAsset(poolId);
        address admin = manager.getAVS(b.avsId).admin;
        // The taker takes the resting order's price.
        bool avsTakes = msg.sender == admin;
        if (!avsTakes && msg.sender != OperatorDesk(desk).owner()) revert NotOrderOwner(msg.sender);
        _checkMatch(b, k, poolAsset, desk, amount);
        uint64 fractionWad = _fraction(poolId, amount);
        leaseId = _book(bidId, askId, b, k, amount, avsTakes ? k.minPriceBps : b.maxPriceBps, admin);

        _allocate(leaseId, b, desk, fractionWad);
    }

    /// @dev The lease's allocation, made by the pool's desk; the lease starts when it takes effect.
    function _allocate(uint256 leaseId, Bid storage b, address desk, uint64 fractionWad) internal {
        Lease storage l = _leases[leaseId];
        uint256 poolId = l.poolId;
        if (!vault.earns(poolId)) rail.enableRewards(poolId);
        (uint48 start,) = IOperatorDesk(desk).leaseAllocate(poolId, b.avsId, b.mode, fractionWad, b.term);
        (l.start, l.streamedTo) = (uint40(start), uint40(start));
    }

    /// @inheritdoc ISecurityMarket
    function stream(uint256 leaseId) external nonReentrant returns (uint256 paid, uint256 refunded) {
        Lease storage l = _lease(leaseId);
        if (l.ended) revert LeaseEnded(leaseId);
        Bid storage b = _bids[l.bidId];
        (uint256 due, uint256 ratio, uint40 end, bool slashedOut) = _span(l, b);
        bool ended = l.ended;
        if (due == 0 && !ended) return (0, 0);
        (paid, refunded) = _payOut(l, b, due * ratio / RATIO_ONE, due);
        emit LeaseStreamed(leaseId, l.streamedTo, paid, refunded, ratio);
        if (ended) {
            emit LeaseClosed(leaseId, slashedOut);
            uint256 poolId = l.poolId;
            (address desk,,) = vault.poolKey(poolId);
            // Anyone may have released the hold once it passed (and a later lease may hold the pair since).
            uint32 avsId = b.avsId;
            if (IOperatorDesk(desk).heldUntil(poolId, avsId) == end) IOperatorDesk(desk).release(poolId, avsId, end);
        }
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
    function bids(uint256 bidId) external view returns (Bid memory) {
        return _bids[bidId];
    }

    /// @inheritdoc ISecurityMarket
    function asks(uint256 askId) external view returns (Ask memory) {
        return _asks[askId];
    }

    /// @inheritdoc ISecurityMarket
    function leases(uint256 leaseId) external view returns (Lease memory) {
        return _leases[leaseId];
    }

    /// @inheritdoc ISecurityMarket
    function leaseEnd(uint256 leaseId) external view returns (uint48) {
        Lease storage l = _lease(leaseId);
        return l.start + _bids[l.bidId].term;
    }

    // ------------------------------------------------------------------ internals

    function _checkTerms(IAllocationManager.Mode mode, uint40 term, uint32 priceBps) internal pure {
        if (mode == IAllocationManager.Mode.None) revert InvalidMode(mode);
        if (term < MIN_TERM || term > MAX_TERM) revert InvalidTerm(term, MIN_TERM, MAX_TERM);
        if (priceBps == 0 || priceBps > MAX_PRICE_BPS) revert InvalidPrice(priceBps);
    }

    /// @dev Every condition of a fill that reads the two orders and the chain.
    function _checkMatch(Bid storage b, Ask storage k, address poolAsset, address desk, uint96 amount) internal view {
        if (amount == 0) revert ZeroAmount();
        if (b.mode != k.mode) revert ModeMismatch(b.mode, k.mode);
        if (poolAsset != b.asset) revert AssetMismatch(b.asset, poolAsset);
        if (b.term > k.maxTerm) revert TermTooLong(b.term, k.maxTerm);
        if (k.minPriceBps > b.maxPriceBps) revert PriceMismatch(k.minPriceBps, b.maxPriceBps);
        uint256 minRating = b.minRatingBps;
        if (minRating != 0) {
            uint256 rating = address(reputation) == address(0) ? 0 : reputation.operatorRating(desk) * BPS / WAD;
            if (rating < minRating) revert RatingTooLow(rating, minRating);
        }
        uint256 available = Math.min(b.backing, k.capacity);
        if (amount > available) revert AmountAboveOrder(amount, available);
        uint256 poolId = k.poolId;
        (uint16 bps, uint16 nextBps, uint48 nextAt) = rail.commissionOf(poolId);
        uint16 maxCommission = b.maxCommissionBps;
        if (bps > maxCommission) revert CommissionAboveBid(bps, maxCommission);
        if (nextAt != 0 && nextBps > maxCommission) revert CommissionAboveBid(nextBps, maxCommission);
        // One lease per pair at a time, on a pair the operator has not allocated itself: the lease's allocation is
        // exactly its own.
        uint32 avsId = b.avsId;
        if (manager.committedBacking(avsId, poolId) != 0 || IOperatorDesk(desk).heldUntil(poolId, avsId) != 0) {
            revert PairBusy(poolId, avsId);
        }
    }

    /// @dev The fill's effects on the two orders and the new lease (its start is set once the allocation is made).
    function _book(
        uint256 bidId,
        uint256 askId,
        Bid storage b,
        Ask storage k,
        uint96 amount,
        uint32 priceBps,
        address admin
    ) internal returns (uint256 leaseId) {
        uint256 premium = Math.mulDiv(uint256(amount) * priceBps, b.term, BPS * YEAR);
        if (premium == 0) revert PremiumTooSmall();
        b.backing -= amount;
        b.escrow -= uint96(premium);
        k.capacity -= amount;
        if (k.capacity == 0) {
            k.open = false;
            emit AskClosed(askId);
        }
        if (b.backing == 0) _closeBid(bidId, b, admin);
        uint256 poolId = k.poolId;
        unchecked {
            leaseId = ++leaseCount;
        }
        Lease storage l = _leases[leaseId];
        l.bidId = uint48(bidId);
        l.poolId = uint32(poolId);
        (, l.generation,) = vault.poolKey(poolId);
        l.lastRatio = uint48(RATIO_ONE);
        l.backing = amount;
        l.premium = uint96(premium);
        emit LeaseOpened(leaseId, bidId, askId, poolId, b.avsId, amount, premium);
    }

    /// @dev Moves the lease to now (or to its end): the premium due for the span and the ratio it is paid at. A full
    /// slash of the pool (its generation moved on) ends the lease at once, with nothing paid for the span.
    function _span(Lease storage l, Bid storage b)
        internal
        returns (uint256 due, uint256 ratio, uint40 end, bool slashedOut)
    {
        uint256 poolId = l.poolId;
        uint40 term = b.term;
        end = l.start + term;
        uint40 from = l.streamedTo;
        (, uint32 generation,) = vault.poolKey(poolId);
        slashedOut = generation != l.generation;
        uint40 to = slashedOut ? end : uint40(Math.min(block.timestamp, end));
        if (to <= from && !slashedOut) return (0, 0, end, false);
        due = _cumulative(l, term, to) - _cumulative(l, term, from);
        if (!slashedOut) ratio = _ratio(l, b, poolId);
        l.streamedTo = to;
        if (slashedOut || to == end) l.ended = true;
    }

    /// @dev Pays `paid` of the span's `due` to the pool's stakers through the rail and credits the rest to the AVS.
    function _payOut(Lease storage l, Bid storage b, uint256 paid, uint256 due)
        internal
        returns (uint256, uint256 refunded)
    {
        address asset = b.asset;
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
        l.paid += uint96(paid);
        l.refunded += uint96(refunded);
        if (refunded != 0) credits[manager.getAVS(b.avsId).admin][asset] += refunded;
        return (paid, refunded);
    }

    /// @dev The backing ratio to pay the span at (see ISecurityMarket), and the sample it leaves for the next span.
    function _ratio(Lease storage l, Bid storage b, uint256 poolId) internal returns (uint256 ratio) {
        uint256 leased = l.backing;
        uint256 provided = Math.min(manager.slashableBacking(b.avsId, poolId), leased);
        uint256 ratioNow = provided * RATIO_ONE / leased;
        // The lower of the span's two ends: a fall of the backing is paid from the sample before it.
        ratio = Math.min(ratioNow, l.lastRatio);
        l.lastRatio = uint48(ratioNow);
        (uint16 bps,,) = rail.commissionOf(poolId);
        if (bps > b.maxCommissionBps) ratio = 0; // the operator broke the bid's terms: no pay
    }

    /// @dev The fraction of the pool that backs `amount` now, rounded up (for the AVS: it gets at least `amount`).
    function _fraction(uint256 poolId, uint256 amount) internal view returns (uint64) {
        uint256 value = vault.slashableAssets(poolId);
        if (amount > value) revert BackingAbovePool(amount, value);
        return uint64(Math.mulDiv(amount, WAD, value, Math.Rounding.Ceil));
    }

    /// @dev Premium earned from the lease's start to `t`, rounded down; all of it at the end.
    function _cumulative(Lease storage l, uint40 term, uint40 t) internal view returns (uint256) {
        uint40 start = l.start;
        if (t <= start) return 0;
        return Math.mulDiv(l.premium, t - start, term);
    }

    function _closeBid(uint256 bidId, Bid storage b, address admin) internal {
        uint256 refund = b.escrow;
        b.escrow = 0;
        b.open = false;
        if (refund != 0) credits[admin][b.asset] += refund;
        emit BidClosed(bidId, refund);
    }

    function _onlyAVSAdmin(uint32 avsId) internal view returns (address admin) {
        admin = manager.getAVS(avsId).admin;
        if (msg.sender != admin) revert NotAVSAdmin(avsId, msg.sender);
    }

    /// @dev The pool's operator must be a desk of this market, owned by the caller.
    function _onlyDeskOwnerOf(uint256 poolId) internal view returns (address desk) {
        (, desk) = vault.poolAsset(poolId);
        if (!isDesk[desk]) revert NotADesk(desk);
        if (msg.sender != OperatorDesk(desk).owner()) revert NotDeskOwner(desk, msg.sender);
    }

    function _bid(uint256 bidId) internal view returns (Bid storage b) {
        b = _bids[bidId];
        if (b.asset == address(0)) revert UnknownBid(bidId);
    }

    function _ask(uint256 askId) internal view returns (Ask storage k) {
        k = _asks[askId];
        if (k.poolId == 0) revert UnknownAsk(askId);
    }

    function _lease(uint256 leaseId) internal view returns (Lease storage l) {
        l = _leases[leaseId];
        if (l.poolId == 0) revert UnknownLease(leaseId);
    }

    function _pull(IERC20 token, uint256 amount) internal {
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - before;
        if (received != amount) revert FeeOnTransferDetected(address(token), amount, received);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager} from "./IAllocationManager.sol";

/// @title Security market: AVSs buy backing on demand, operators sell it, stakers are paid for the risk
/// @notice An AVS posts a bid (backing wanted in an asset, isolated or shared, lowest operator rating, term, highest
/// price in bps of the backing per year) and escrows the premium for the whole term at that price. An operator, through
/// its `OperatorDesk`, posts an ask for one of its pools (capacity, mode, lowest price, longest term). Either side
/// fills the other, partly or wholly, at the resting order's price: the fill is a lease. The desk (opted in to the
/// AVS beforehand) allocates the backing to the AVS through the allocation manager (its delays, caps and risk weights
/// apply) and cannot change its allocations to the AVS until the lease ends. From the moment the allocation takes effect the premium streams linearly to the pool's
/// stakers through the reward rail, minus the operator's commission.
/// @dev Paying only for security provided, in one place (`stream`):
/// - each call prices the span since the last one; the span's premium is paid at the lower of the backing ratio
///   (slashable backing / leased backing, capped at one) sampled at its two ends, and the rest returns to the AVS;
/// - the rail charges the pool's commission capped at the bid's limit, so a raise never reaches the lease;
/// - a full slash of the pool, or the AVS ejecting the desk, ends the lease at once: the span is refunded and so is
///   every later second;
/// - at the end the unspent premium returns to the AVS and the pair is the operator's again.
/// Rounding never favours a claimer: the escrow rounds up, a lease's premium and every paid part round down.
/// Premium conservation, per lease: premium = paid + refunded + (premium − streamed), to the wei.
interface ISecurityMarket {
    /// @notice An AVS's bid; open while it still wants backing. Refunds go to the AVS's admin.
    struct Bid {
        // slot 0
        address asset;
        uint32 avsId;
        uint32 maxPriceBps; // per year, of the backing
        uint16 maxCommissionBps;
        IAllocationManager.Mode mode;
        // slot 1
        uint88 backing; // still wanted (0: filled or cancelled)
        uint96 escrow; // premium still escrowed for it: ⌈backing·maxPriceBps·term / (10⁴·year)⌉ (derived, not stored)
        uint40 term; // seconds
        uint16 minRatingBps; // lowest operator rating, in bps of one (0: any)
    }

    /// @notice An operator's ask on one of its desk's pools (the desk is the pool's operator); open while it still
    /// offers capacity.
    struct Ask {
        uint32 poolId;
        uint128 capacity; // still offered, in the pool's asset (0: filled or cancelled)
        uint32 minPriceBps;
        uint40 maxTerm;
        IAllocationManager.Mode mode;
    }

    /// @notice A lease as stored: `backing` of the pool allocated to the bid's AVS from `start` for the bid's term at
    /// `priceBps` a year. Slot 0 is written by the fill, slot 1 by `stream`.
    struct Lease {
        // slot 0
        uint32 bidId;
        uint32 poolId;
        uint32 generation; // the pool's at the fill: a full slash ends the lease
        uint40 start; // the allocation takes effect
        uint88 backing;
        uint16 priceBps;
        bool ended;
        // slot 1
        uint40 streamedTo; // 0: not streamed yet (from `start`)
        uint40 lastRatio; // the backing ratio at the last stream, scaled by RATIO_ONE (RATIO_ONE before any)
        uint88 paid; // to the rail (stakers and commission)
        uint88 refunded; // to the AVS
    }

    /// @notice A lease with what follows from it.
    struct LeaseView {
        uint256 leaseId;
        uint256 bidId;
        uint256 poolId;
        uint32 avsId;
        address asset;
        IAllocationManager.Mode mode;
        uint256 backing;
        uint256 priceBps;
        /// backing · priceBps · term / (10⁴ · year), rounded down.
        uint256 premium;
        uint48 start;
        uint48 end;
        uint48 streamedTo;
        uint256 lastRatio;
        uint256 paid;
        uint256 refunded;
        bool ended;
    }

    error ZeroAmount();
    error ZeroAddress();
    error NotAVSAdmin(uint32 avsId, address caller);
    error NotDeskOwner(address desk, address caller);
    error NotADesk(address operator);
    error InvalidMode(IAllocationManager.Mode mode);
    error InvalidTerm(uint256 term, uint256 minTerm, uint256 maxTerm);
    error InvalidPrice(uint256 priceBps);
    error CommissionLimitTooHigh(uint256 bps, uint256 maxBps);
    error AssetNotAllowed(address asset);
    error UnknownBid(uint256 bidId);
    error UnknownAsk(uint256 askId);
    error UnknownLease(uint256 leaseId);
    error OrderClosed();
    error NotOrderOwner(address caller);
    error ModeMismatch(IAllocationManager.Mode bid, IAllocationManager.Mode ask);
    error AssetMismatch(address bidAsset, address poolAsset);
    error TermTooLong(uint256 term, uint256 maxTerm);
    error PriceMismatch(uint256 askMinBps, uint256 bidMaxBps);
    error RatingTooLow(uint256 rating, uint256 minRating);
    error AmountAboveOrder(uint256 amount, uint256 available);
    error AmountTooLarge(uint256 amount);
    /// @notice A minimum rating above one (10,000 bps), or any without a reputation layer.
    error InvalidRating(uint256 minRatingBps);
    error BackingAbovePool(uint256 backing, uint256 poolValue);
    error PremiumTooSmall();
    error LeaseEnded(uint256 leaseId);
    error NothingToWithdraw();
    /// @notice Bids have named as many assets as an index holds (2^16 − 1).
    error TooManyAssets(uint256 max);
    error FeeOnTransferDetected(address token, uint256 sent, uint256 received);

    event DeskOpened(address indexed desk, address indexed owner);
    /// @notice A bid opened with `escrow` of premium escrowed; its terms are in `bids(bidId)`.
    event BidPosted(
        uint256 indexed bidId,
        uint32 indexed avsId,
        address indexed asset,
        IAllocationManager.Mode mode,
        uint256 backing,
        uint256 escrow
    );
    event AskPosted(
        uint256 indexed askId,
        address indexed desk,
        uint256 indexed poolId,
        IAllocationManager.Mode mode,
        uint256 capacity,
        uint256 minPriceBps,
        uint256 maxTerm
    );
    /// @notice The order closed; `refund` of escrow went back to its owner (bids).
    event BidClosed(uint256 indexed bidId, uint256 refund);
    event AskClosed(uint256 indexed askId);
    /// @notice A fill leased `backing` of the pool to the AVS for `premium`; the lease's start and end are the
    /// desk's `AVSHeld` (and `leases`).
    event LeaseOpened(
        uint256 indexed leaseId,
        uint256 indexed bidId,
        uint256 indexed askId,
        uint256 poolId,
        uint32 avsId,
        uint256 backing,
        uint256 premium
    );
    /// @notice A span of the lease was priced: `paid` to the rail, `refunded` to the AVS, at `ratio` of the backing
    /// (scaled by `RATIO_ONE`, 1e12).
    event LeaseStreamed(uint256 indexed leaseId, uint48 to, uint256 paid, uint256 refunded, uint256 ratio);
    /// @notice The lease ended (`early`: its pool was fully slashed or the AVS ejected the desk).
    event LeaseClosed(uint256 indexed leaseId, bool early);
    event CreditWithdrawn(address indexed account, address indexed token, address receiver, uint256 amount);

    /// @notice Creates an operator desk owned by the caller and registers it as an operator.
    function openDesk(string calldata metadataURI, address signingKey) external returns (address desk);

    /// @notice The AVS's admin: posts a bid and escrows `backing·maxPriceBps·term / (10⁴·year)`, rounded up.
    function postBid(
        uint32 avsId,
        address asset,
        uint88 backing,
        IAllocationManager.Mode mode,
        uint16 minRatingBps,
        uint40 term,
        uint32 maxPriceBps,
        uint16 maxCommissionBps
    ) external returns (uint256 bidId);

    /// @notice The owner of the pool's desk: offers `capacity` of the pool.
    function postAsk(uint256 poolId, uint128 capacity, IAllocationManager.Mode mode, uint32 minPriceBps, uint40 maxTerm)
        external
        returns (uint256 askId);

    /// @notice The AVS's admin: closes its bid; the escrow still held for it returns (to the credits, `withdraw`).
    function cancelBid(uint256 bidId) external;

    /// @notice The ask's desk owner: closes it.
    function cancelAsk(uint256 askId) external;

    /// @notice The bid's AVS admin (taking the ask's price) or the ask's desk owner (taking the bid's price): leases
    /// `amount` of backing. The escrow of that backing is released: the lease's premium stays for streaming and the
    /// surplus (a lower price, rounding) goes to the AVS admin's credits at once. Returns the lease.
    function fill(uint256 bidId, uint256 askId, uint88 amount) external returns (uint256 leaseId);

    /// @notice Anyone: streams the lease's premium up to now (see the pricing rules above).
    function stream(uint256 leaseId) external returns (uint256 paid, uint256 refunded);

    /// @notice Pays the caller's credits (refunds) in `token` to `receiver`.
    function withdraw(address token, address receiver) external returns (uint256 amount);

    function bids(uint256 bidId) external view returns (Bid memory);
    function asks(uint256 askId) external view returns (Ask memory);
    function leases(uint256 leaseId) external view returns (LeaseView memory);
    function credits(address account, address token) external view returns (uint256);
    function isDesk(address desk) external view returns (bool);

    function bidCount() external view returns (uint32);
    function askCount() external view returns (uint32);
    function leaseCount() external view returns (uint32);
}

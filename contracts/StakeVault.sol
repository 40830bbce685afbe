// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IOperatorRegistry} from "./interfaces/IOperatorRegistry.sol";
import {IRewardHooks} from "./interfaces/IRewardHooks.sol";
import {IStakeVault} from "./interfaces/IStakeVault.sol";

/// @title StakeVault
/// @notice Holds every staker's collateral, one pool per (operator, asset). The only place tokens enter or leave.
/// @dev See IStakeVault for the accounting. Storage is packed for the hot paths: a deposit touches one pool slot and
/// one position slot; a slash touches the pool and, at most, the settlement of the matured prefix of the queue.
contract StakeVault is IStakeVault, Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Longest escrow delay a deployment may choose.
    uint48 public constant MAX_ESCROW_DELAY = 365 days;
    /// @notice A partial slash never leaves a share worth less than 1 / PRICE_FLOOR of a collateral unit: it is cut
    /// to leave that much (a slash of everything resets the pool instead). Without a floor, a slash leaving a sliver
    /// would make shares so cheap that later deposits overflow the share supply.
    uint256 public constant PRICE_FLOOR = 1e8;
    /// @notice Most decimals an allowlisted asset may have: the price floor and the uint128 pool totals are sized for
    /// 18 (a 36-decimal token would fill a pool with 340 whole tokens).
    uint8 public constant MAX_DECIMALS = 18;
    /// @notice Fewest decimals an allowlisted asset may have: a penalty needs `MIN_COMPENSATION_SHARES` (1e6) in its
    /// pool, one whole token at 6 decimals (USDC); at 2 decimals a 5,000-token pool would be too small to compensate.
    uint8 public constant MIN_DECIMALS = 6;
    /// @notice Largest `assets` or `shares` a pool may hold: one below uint128's maximum, so the settlement price
    /// (assets + 1) / (shares + 1) always fits and a pool stays slashable up to this limit.
    uint256 public constant MAX_POOL_AMOUNT = type(uint128).max - 1;
    /// @notice Fewest shares a pool must hold to be paid a compensation. A payment raises the price of every share;
    /// into a pool of a few shares it would make each worth a lot, so that later deposits lose up to a share's worth
    /// to rounding (the share-price inflation attack). With at least 1e6 shares a share is at most a 1e-6 part of the
    /// pool, whatever is paid in: to take X from a later depositor an attacker would have to hold 1e6·X in the pool.
    /// Counted in shares, not whole tokens, so that real pools of low-decimal assets (1 WBTC is 1e8 shares at the first
    /// price, 1 USDC 1e6) are compensated: 1e9 refused every WBTC pool under 10 WBTC (finding F2).
    uint256 public constant MIN_COMPENSATION_SHARES = 1e6;
    /// @notice A pool takes no new shares (deposits, tier deposits, redelegations) once its shares outnumber its
    /// assets this many times over (price below 1e-6 of its start). Below that, the price floor would keep a partial
    /// slash from taking more than 99% of the pool, so stake added there would be backing that cannot be slashed.
    uint256 public constant MIN_DEPOSIT_PRICE_INVERSE = 1e6;

    struct Pool {
        // slot 0: every deposit, withdrawal and slash
        uint128 assets; // slashable: active stake + unsettled escrow
        uint128 shares; // over `assets`
        // slot 1
        address operator;
        uint32 generation; // bumped by a full slash
        uint56 queueLength;
        bool earns; // rewards on: every share change is reported to the rail (`IRewardHooks`)
        // slot 2
        address asset;
        uint64 settledCount; // queue entries [0, settledCount) have left the slashable set
        uint32 batchCount;
        // slot 3
        uint128 reserve; // assets of settled, unclaimed withdrawals
        // slot 4
        uint256 earlyClaimedShares; // matured shares claimed since the last settlement (grows without bound)
    }

    /// @dev A queued withdrawal. Its shares are `cumShares` minus the previous entry's: no separate slot needed.
    struct Entry {
        // slot 0
        uint48 maturity;
        bool claimed;
        uint200 cumShares; // live shares queued in this pool up to and including this entry
        // slot 1
        address staker;
        uint32 prevPool; // the staker's previous withdrawal (pool id, 0 = none) ...
        uint64 prevIndex; // ... and its queue index
    }

    /// @dev Matured withdrawals settled together, all at one price: `priceAssets / priceShares`, the pool's
    /// (assets + 1) / (shares + 1) at settlement, kept exact so each claim rounds once.
    struct Batch {
        uint128 priceAssets;
        uint128 priceShares;
        uint64 end; // queue entries below `end` (and at or above the previous batch's end)
    }

    struct Position {
        uint128 shares;
        uint32 generation;
        uint32 prevPool; // previous pool in the staker's list of positions
        bool listed;
    }

    struct Staker {
        uint32 lastPool; // newest position
        uint32 lastWithdrawalPool; // newest withdrawal (0 = none) ...
        uint64 lastWithdrawalIndex; // ... and its queue index
    }

    struct TierHeld {
        uint128 shares;
        uint32 generation;
    }

    struct Asset {
        bool allowed;
        uint8 decimals;
        uint128 tracked;
    }

    IOperatorRegistry public immutable registry;
    /// @inheritdoc IStakeVault
    uint48 public immutable escrowDelay;

    address public guardian;
    bool public paused;
    address public slasher;
    uint32 internal _poolCount;

    mapping(address asset => Asset) internal _assets;
    mapping(address operator => mapping(address asset => uint256)) public poolOf;
    mapping(address operator => uint256[]) internal _operatorPools;
    mapping(uint256 poolId => Pool) internal _pools;
    mapping(uint256 poolId => mapping(uint256 index => Entry)) internal _queue;
    mapping(uint256 poolId => mapping(uint256 batch => Batch)) internal _batches;
    mapping(uint256 poolId => mapping(address staker => Position)) internal _positions;
    mapping(address staker => Staker) internal _stakers;
    mapping(uint256 basePoolId => bool) public tierAllowed;
    /// @dev The base pool generation a tier's base shares belong to; a full slash of the base ends them.
    mapping(uint256 tierPoolId => uint32) internal _tierBaseGeneration;
    /// @dev Tier withdrawals queued below this index held base shares of an ended base generation: worth zero.
    mapping(uint256 tierPoolId => uint64) internal _tierDeadBelow;
    /// @dev Operators the base pool's operator approved to run a tier over it.
    mapping(uint256 basePoolId => mapping(address operator => bool)) internal _tierOperators;
    /// @dev Base shares held by the base's tier pools (their collateral, escrow and reserve), in the base generation
    /// they belong to: no base position holds them, so they do not earn the base's rewards (`earningShares`).
    mapping(uint256 basePoolId => TierHeld) internal _tierHeld;
    /// @notice The contract allowed to pay compensations into pools (`compensate`): the reputation layer.
    address public compensator;
    /// @notice The reward rail told of every share change in an earning pool (`earns`); wired once.
    IRewardHooks public rail;

    modifier onlySlasher() {
        if (msg.sender != slasher) revert NotSlasher(msg.sender);
        _;
    }

    constructor(IOperatorRegistry registry_, uint48 escrowDelay_, address owner_, address guardian_) Ownable(owner_) {
        if (escrowDelay_ == 0 || escrowDelay_ > MAX_ESCROW_DELAY) revert InvalidEscrowDelay(escrowDelay_);
        if (address(registry_) == address(0)) revert ZeroAddress();
        registry = registry_;
        escrowDelay = escrowDelay_;
        guardian = guardian_;
        emit GuardianSet(guardian_);
    }

    // ------------------------------------------------------------------ governance

    /// @inheritdoc IStakeVault
    function setAssetAllowed(address asset, bool allowed) external onlyOwner {
        Asset storage a = _assets[asset];
        if (uint160(asset) <= type(uint32).max) revert InvalidAsset(asset); // tier pseudo-assets live down there
        if (allowed && !a.allowed) a.decimals = _decimalsOf(asset);
        a.allowed = allowed;
        emit AssetAllowlisted(asset, allowed, a.decimals);
    }

    /// @inheritdoc IStakeVault
    function setGuardian(address guardian_) external onlyOwner {
        guardian = guardian_;
        emit GuardianSet(guardian_);
    }

    /// @inheritdoc IStakeVault
    function setSlasher(address slasher_) external onlyOwner {
        if (slasher_ == address(0)) revert ZeroAddress();
        // Wired once: a swapped slasher could take every pool's stake at once.
        if (slasher != address(0)) revert SlasherAlreadySet(slasher);
        slasher = slasher_;
        emit SlasherSet(slasher_);
    }

    /// @inheritdoc IStakeVault
    function setCompensator(address compensator_) external onlyOwner {
        if (compensator_ == address(0)) revert ZeroAddress();
        // Wired once: detaching it would skip the penalties of pending requests at once.
        if (compensator != address(0)) revert CompensatorAlreadySet(compensator);
        compensator = compensator_;
        emit CompensatorSet(compensator_);
    }

    /// @inheritdoc IStakeVault
    function setRail(address rail_) external onlyOwner {
        if (rail_ == address(0)) revert ZeroAddress();
        // Wired once: a swapped rail would lose every staker's accrued rewards.
        if (address(rail) != address(0)) revert RailAlreadySet(address(rail));
        rail = IRewardHooks(rail_);
        emit RailSet(rail_);
    }

    /// @inheritdoc IStakeVault
    function enableRewards(uint256 poolId) external returns (uint32 generation) {
        if (msg.sender != address(rail)) revert NotRail(msg.sender);
        Pool storage p = _pool(poolId);
        if (p.earns) revert RewardsAlreadyOn(poolId);
        p.earns = true;
        generation = p.generation;
        emit RewardsOn(poolId);
    }

    /// @inheritdoc IStakeVault
    function settle(uint256 poolId) external nonReentrant {
        Pool storage p = _pool(poolId);
        if (_isTier(p)) _syncTier(poolId, p);
        _settle(poolId, p);
    }

    /// @inheritdoc IStakeVault
    function setTierAllowed(uint256 basePoolId, bool allowed) external onlyOwner {
        if (_isTier(_pool(basePoolId))) revert TierNotAllowed(basePoolId);
        tierAllowed[basePoolId] = allowed;
        emit TierAllowed(basePoolId, allowed);
    }

    /// @inheritdoc IStakeVault
    function approveTierOperator(uint256 basePoolId, address operator, bool approved) external {
        Pool storage base = _pool(basePoolId);
        if (_isTier(base)) revert TierNotAllowed(basePoolId);
        if (msg.sender != base.operator) revert NotPoolOperator(basePoolId, msg.sender);
        _tierOperators[basePoolId][operator] = approved;
        emit TierOperatorApproved(basePoolId, operator, approved);
    }

    /// @inheritdoc IStakeVault
    function tierOperatorApproved(uint256 basePoolId, address operator) public view returns (bool) {
        return operator == _pools[basePoolId].operator || _tierOperators[basePoolId][operator];
    }

    /// @inheritdoc IStakeVault
    function pause() external {
        if (msg.sender != guardian && msg.sender != owner()) revert NotGuardian(msg.sender);
        paused = true;
        emit PausedSet(true, msg.sender);
    }

    /// @inheritdoc IStakeVault
    function unpause() external onlyOwner {
        paused = false;
        emit PausedSet(false, msg.sender);
    }

    /// @inheritdoc IStakeVault
    function skim(address asset, address to) external onlyOwner nonReentrant returns (uint256 amount) {
        if (to == address(0)) revert ZeroAddress();
        uint256 balance = IERC20(asset).balanceOf(address(this));
        uint256 tracked = _assets[asset].tracked;
        if (balance <= tracked) revert ZeroAmount();
        amount = balance - tracked;
        IERC20(asset).safeTransfer(to, amount);
        emit Skimmed(asset, to, amount);
    }

    // ------------------------------------------------------------------ stakers

    /// @inheritdoc IStakeVault
    function deposit(address operator, address asset, uint256 assets)
        external
        nonReentrant
        returns (uint256 poolId, uint256 shares)
    {
        if (assets == 0) revert ZeroAmount();
        if (paused) revert DepositsPaused();
        Asset storage a = _assets[asset];
        uint128 tracked = a.tracked;
        if (!a.allowed) revert AssetNotAllowed(asset);
        poolId = poolOf[operator][asset];
        if (poolId == 0) poolId = _createPool(operator, asset);

        shares = _mint(poolId, msg.sender, assets);
        a.tracked = _u128(tracked + assets);
        emit Deposited(msg.sender, poolId, assets, shares);

        _pull(IERC20(asset), tracked, assets);
    }

    /// @inheritdoc IStakeVault
    function queueWithdrawal(uint256 poolId, uint256 shares) external nonReentrant returns (uint256 withdrawalId) {
        if (shares == 0) revert ZeroAmount();
        Pool storage p = _pool(poolId);
        Position storage pos = _positions[poolId][msg.sender];
        uint256 held = pos.shares;
        if (held < shares) revert InsufficientShares(held, shares);
        // Shares of an ended generation are worthless: they leave the position but add nothing to the escrow.
        bool live = pos.generation == p.generation;
        uint56 index = p.queueLength;
        uint256 withdrawalIdOf = _withdrawalId(poolId, index);
        // slither-disable-next-line reentrancy-no-eth (the rail is wired once and its hooks never call back)
        if (p.earns) rail.onQueued(poolId, msg.sender, held, pos.generation, withdrawalIdOf);
        pos.shares = uint128(held - shares);

        uint256 cum = index == 0 ? 0 : _queue[poolId][index - 1].cumShares;
        if (live) cum += shares;
        uint48 maturity = uint48(block.timestamp) + escrowDelay;
        Staker storage s = _stakers[msg.sender];
        _queue[poolId][index] = Entry({
            maturity: maturity,
            claimed: false,
            cumShares: uint200(cum),
            staker: msg.sender,
            prevPool: s.lastWithdrawalPool,
            prevIndex: s.lastWithdrawalIndex
        });
        p.queueLength = index + 1;
        s.lastWithdrawalPool = uint32(poolId);
        s.lastWithdrawalIndex = index;

        withdrawalId = withdrawalIdOf;
        emit WithdrawalQueued(withdrawalId, msg.sender, poolId, shares, maturity);
    }

    /// @inheritdoc IStakeVault
    function depositToTier(uint256 basePoolId, address operator, uint256 baseShares)
        external
        nonReentrant
        returns (uint256 tierPoolId, uint256 shares)
    {
        if (baseShares == 0) revert ZeroAmount();
        if (paused) revert DepositsPaused();
        if (!tierAllowed[basePoolId]) revert TierNotAllowed(basePoolId);
        Pool storage base = _pools[basePoolId];
        Position storage pos = _positions[basePoolId][msg.sender];
        uint32 generation = pos.generation;
        uint256 held = generation == base.generation ? pos.shares : 0;
        if (held < baseShares) revert InsufficientShares(held, baseShares);
        // slither-disable-next-line reentrancy-no-eth (the rail is wired once and its hooks never call back)
        if (base.earns) rail.onPositionChange(basePoolId, msg.sender, held, generation);
        // The shares change owner inside the base pool: its totals and price do not move.
        pos.shares = uint128(held - baseShares);
        tierPoolId = _tierPool(operator, basePoolId);
        shares = _mint(tierPoolId, msg.sender, baseShares);
        _tierHeldChange(basePoolId, base, baseShares, true);
        emit TierDeposited(msg.sender, basePoolId, tierPoolId, baseShares, shares);
    }

    /// @inheritdoc IStakeVault
    function completeWithdrawal(uint256 withdrawalId, address receiver) external nonReentrant returns (uint256 assets) {
        if (receiver == address(0)) revert ZeroAddress();
        (Pool storage p, uint256 value) = _claim(withdrawalId);
        assets = value;
        emit WithdrawalCompleted(withdrawalId, msg.sender, receiver, assets);
        if (assets == 0) return 0;
        address asset = p.asset;
        if (_isTier(p)) {
            // A tier pays in base shares, back into the receiver's base position (they leave the base pool only
            // through its own escrow).
            uint256 basePoolId = uint160(asset);
            Pool storage base = _pools[basePoolId];
            _tierHeldChange(basePoolId, base, assets, false);
            _credit(basePoolId, base, receiver, assets);
        } else {
            _assets[asset].tracked -= uint128(assets);
            IERC20(asset).safeTransfer(receiver, assets);
        }
    }

    /// @inheritdoc IStakeVault
    function completeRedelegation(uint256 withdrawalId, address operator)
        external
        nonReentrant
        returns (uint256 poolId, uint256 shares)
    {
        if (paused) revert DepositsPaused();
        (Pool storage from, uint256 assets) = _claim(withdrawalId);
        if (assets == 0) revert NothingToRedelegate(withdrawalId);
        address asset = from.asset;
        if (_isTier(from)) {
            if (!tierAllowed[uint160(asset)]) revert TierNotAllowed(uint160(asset));
            poolId = _tierPool(operator, uint160(asset));
        } else {
            if (!_assets[asset].allowed) revert AssetNotAllowed(asset);
            poolId = poolOf[operator][asset];
            if (poolId == 0) poolId = _createPool(operator, asset);
        }
        // Nothing moves out: the value changes pools inside the vault, so `tracked` is unchanged.
        shares = _mint(poolId, msg.sender, assets);
        emit Redelegated(withdrawalId, msg.sender, poolId, assets, shares);
    }

    // ------------------------------------------------------------------ slasher

    /// @inheritdoc IStakeVault
    function slash(uint256 poolId, uint256 amount, address recipient)
        external
        onlySlasher
        nonReentrant
        returns (uint256 slashed)
    {
        if (amount == 0) revert ZeroAmount();
        if (recipient == address(0)) revert ZeroAddress();
        Pool storage p = _pool(poolId);
        if (_isTier(p)) return _slashTier(poolId, p, amount, recipient);
        _settle(poolId, p);
        uint256 available = p.assets;
        if (amount > available) revert SlashExceedsAssets(poolId, amount, available);
        slashed = _floorCut(amount, available, p.shares);
        if (slashed == 0) return 0;
        uint256 remaining = available - slashed;
        p.assets = uint128(remaining);
        if (remaining == 0) _reset(poolId, p);
        _payOut(p.asset, slashed, recipient);
        emit Slashed(poolId, slashed, recipient, remaining);
    }

    /// @inheritdoc IStakeVault
    function previewSlash(uint256 poolId, uint256 amount) external view returns (uint256) {
        Pool storage p = _pool(poolId);
        (, uint256 pendingShares, uint256 pendingAssets) = _pendingSettlement(poolId, p);
        uint256 assets = p.assets - pendingAssets;
        uint256 shares = p.shares - pendingShares;
        if (!_isTier(p)) return amount > assets ? 0 : _floorCut(amount, assets, shares);
        if (_tierEnded(poolId, p)) return 0;
        Pool storage base = _pools[uint160(p.asset)];
        if (amount > _toAssets(base, assets)) return 0;
        (uint256 slashed,) = _tierCut(base, assets, shares, amount);
        return slashed;
    }

    // ------------------------------------------------------------------ compensator

    /// @inheritdoc IStakeVault
    function compensate(uint256 poolId, uint256 amount) external nonReentrant returns (uint256 collateral) {
        if (msg.sender != compensator) revert NotCompensator(msg.sender);
        if (amount == 0) revert ZeroAmount();
        Pool storage p = _pool(poolId);
        bool tier = _isTier(p);
        if (tier) _syncTier(poolId, p);
        // Matured withdrawals leave the slashable set first: they no longer carried the risk.
        _settle(poolId, p);
        uint256 shares = p.shares;
        if (shares < MIN_COMPENSATION_SHARES) revert PoolTooSmallToCompensate(poolId, shares, MIN_COMPENSATION_SHARES);
        address asset = p.asset;
        collateral = amount;
        if (tier) {
            // Base shares minted at the base price, rounded down (the base's price never falls), into the tier.
            Pool storage base = _pools[uint160(asset)];
            collateral = _addAtPrice(base, amount);
            _tierHeldChange(uint160(asset), base, collateral, true);
            asset = base.asset;
        }
        uint256 assets = uint256(p.assets) + collateral;
        if (assets > MAX_POOL_AMOUNT) revert AmountTooLarge(assets);
        p.assets = uint128(assets);
        Asset storage a = _assets[asset];
        uint128 tracked = a.tracked;
        a.tracked = _u128(tracked + amount);
        emit Compensated(poolId, msg.sender, amount, collateral);
        _pull(IERC20(asset), tracked, amount);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IStakeVault
    function poolCount() external view returns (uint256) {
        return _poolCount;
    }

    /// @inheritdoc IStakeVault
    function getPool(uint256 poolId) public view returns (PoolView memory v) {
        Pool storage p = _pool(poolId);
        (uint256 settledTo, uint256 pendingShares, uint256 pendingAssets) = _pendingSettlement(poolId, p);
        uint256 assets = p.assets - pendingAssets;
        uint256 shares = p.shares - pendingShares;
        uint256 queued = p.queueLength == 0 ? 0 : _queue[poolId][p.queueLength - 1].cumShares;
        // Matured claims made since the last settlement lie inside the pending range, so they need no correction.
        uint256 settledCum = settledTo == 0 ? 0 : _queue[poolId][settledTo - 1].cumShares;
        v = PoolView({
            poolId: poolId,
            operator: p.operator,
            asset: p.asset,
            slashableAssets: assets,
            totalShares: shares,
            escrowedShares: queued - settledCum,
            reserve: p.reserve + pendingAssets,
            sharePrice: Math.mulDiv(1e18, assets + 1, shares + 1),
            generation: p.generation,
            queueLength: p.queueLength,
            settledCount: uint64(settledTo)
        });
        // A tier whose base was fully slashed: show it as its next touch will leave it (empty, next generation).
        if (_tierEnded(poolId, p)) _asReset(v);
    }

    /// @inheritdoc IStakeVault
    function slashableAssets(uint256 poolId) external view returns (uint256) {
        Pool storage p = _pool(poolId);
        (,, uint256 pendingAssets) = _pendingSettlement(poolId, p);
        uint256 assets = p.assets - pendingAssets;
        if (!_isTier(p)) return assets;
        return _tierEnded(poolId, p) ? 0 : _toAssets(_pools[uint160(p.asset)], assets);
    }

    /// @inheritdoc IStakeVault
    function isAllowed(address asset) external view returns (bool) {
        return _assets[asset].allowed;
    }

    /// @inheritdoc IStakeVault
    function earns(uint256 poolId) external view returns (bool) {
        return _pool(poolId).earns;
    }

    /// @inheritdoc IStakeVault
    function positionOf(uint256 poolId, address staker) external view returns (uint256 shares, uint32 generation) {
        Position storage pos = _positions[poolId][staker];
        return (pos.shares, pos.generation);
    }

    /// @inheritdoc IStakeVault
    function earningShares(uint256 poolId) external view returns (uint256) {
        Pool storage p = _pool(poolId);
        if (_tierEnded(poolId, p)) return 0;
        TierHeld storage held = _tierHeld[poolId];
        return held.generation == p.generation ? p.shares - held.shares : p.shares;
    }

    /// @inheritdoc IStakeVault
    function settlementOf(uint256 withdrawalId) external view returns (bool settled, uint256 batch) {
        (uint256 poolId, uint64 index, Pool storage p,) = _entry(withdrawalId);
        if (index >= p.settledCount) return (false, 0);
        return (true, _batchOf(poolId, p, index));
    }

    /// @inheritdoc IStakeVault
    function tierAsset(uint256 basePoolId) public pure returns (address) {
        return address(uint160(basePoolId));
    }

    /// @inheritdoc IStakeVault
    function baseOf(uint256 poolId) external view returns (uint256) {
        Pool storage p = _pool(poolId);
        return _isTier(p) ? uint160(p.asset) : 0;
    }

    /// @inheritdoc IStakeVault
    function poolKey(uint256 poolId) external view returns (address operator, uint32 generation, uint256 basePoolId) {
        Pool storage p = _pool(poolId);
        operator = p.operator;
        generation = p.generation;
        if (_isTier(p)) {
            basePoolId = uint160(p.asset);
            // A tier whose base generation ended is reset at its next touch: report the generation it will have.
            if (_tierEnded(poolId, p)) ++generation;
        }
    }

    /// @inheritdoc IStakeVault
    function poolAsset(uint256 poolId) external view returns (address asset, address operator) {
        Pool storage p = _pool(poolId);
        operator = p.operator;
        asset = p.asset;
        if (_isTier(p)) asset = _pools[uint160(asset)].asset;
    }

    /// @inheritdoc IStakeVault
    function poolTerms(uint256 poolId)
        external
        view
        returns (address asset, address operator, uint32 generation, uint256 slashable)
    {
        Pool storage p = _pool(poolId);
        (asset, operator, generation) = (p.asset, p.operator, p.generation);
        (,, uint256 pendingAssets) = _pendingSettlement(poolId, p);
        slashable = p.assets - pendingAssets;
        if (_isTier(p)) {
            Pool storage base = _pools[uint160(asset)];
            asset = base.asset;
            // A tier whose base generation ended is worth nothing and is reset at its next touch.
            if (_tierEnded(poolId, p)) (generation, slashable) = (generation + 1, 0);
            else slashable = _toAssets(base, slashable);
        }
    }

    /// @inheritdoc IStakeVault
    function convertToAssets(uint256 poolId, uint256 shares) external view returns (uint256) {
        Pool storage p = _pool(poolId);
        return _tierEnded(poolId, p) ? 0 : _toAssets(p, shares);
    }

    /// @inheritdoc IStakeVault
    function convertToShares(uint256 poolId, uint256 assets) external view returns (uint256) {
        Pool storage p = _pool(poolId);
        return Math.mulDiv(assets, uint256(p.shares) + 1, uint256(p.assets) + 1);
    }

    /// @inheritdoc IStakeVault
    function positionsOf(address staker) external view returns (PositionView[] memory views) {
        uint256 n;
        for (uint256 id = _stakers[staker].lastPool; id != 0; id = _positions[id][staker].prevPool) {
            ++n;
        }
        views = new PositionView[](n);
        uint256 i;
        for (uint256 id = _stakers[staker].lastPool; id != 0; id = _positions[id][staker].prevPool) {
            Pool storage p = _pools[id];
            Position storage pos = _positions[id][staker];
            views[i++] = PositionView({
                poolId: id,
                operator: p.operator,
                asset: p.asset,
                shares: pos.shares,
                value: pos.generation == p.generation && !_tierEnded(id, p) ? _toAssets(p, pos.shares) : 0
            });
        }
    }

    /// @inheritdoc IStakeVault
    function withdrawalsOf(address staker, uint256 cursor, uint256 limit)
        external
        view
        returns (WithdrawalView[] memory views, uint256 next)
    {
        if (cursor == 0) {
            Staker storage s = _stakers[staker];
            if (s.lastWithdrawalPool != 0) cursor = _withdrawalId(s.lastWithdrawalPool, s.lastWithdrawalIndex);
        }
        // Count first, so a huge `limit` costs nothing.
        uint256 n;
        for (uint256 id = cursor; id != 0 && n < limit; id = _prevWithdrawal(id)) {
            ++n;
        }
        views = new WithdrawalView[](n);
        for (uint256 i; i < n; ++i) {
            views[i] = getWithdrawal(cursor);
            cursor = _prevWithdrawal(cursor);
        }
        next = cursor;
    }

    /// @inheritdoc IStakeVault
    function getWithdrawal(uint256 withdrawalId) public view returns (WithdrawalView memory v) {
        (uint256 poolId, uint64 index, Pool storage p, Entry storage e) = _entry(withdrawalId);
        uint256 shares = _entryShares(poolId, index, e);
        bool matured = block.timestamp >= e.maturity;
        uint256 value;
        bool worthless = e.claimed || (_isTier(p) && (_tierEnded(poolId, p) || index < _tierDeadBelow[poolId]));
        if (!worthless) value = index < p.settledCount ? _batchValue(poolId, p, index, shares) : _toAssets(p, shares);
        v = WithdrawalView({
            id: withdrawalId,
            poolId: poolId,
            staker: e.staker,
            asset: p.asset,
            shares: shares,
            value: value,
            maturity: e.maturity,
            matured: matured,
            claimed: e.claimed
        });
    }

    /// @inheritdoc IStakeVault
    function operatorPools(address operator) external view returns (uint256[] memory) {
        return _operatorPools[operator];
    }

    /// @inheritdoc IStakeVault
    function getAsset(address asset) external view returns (AssetView memory) {
        Asset storage a = _assets[asset];
        uint256 balance = asset.code.length == 0 ? 0 : IERC20(asset).balanceOf(address(this));
        return AssetView({allowed: a.allowed, decimals: a.decimals, tracked: a.tracked, balance: balance});
    }

    // ------------------------------------------------------------------ internals

    function _createPool(address operator, address asset) internal returns (uint256 poolId) {
        if (!registry.isOperator(operator)) revert UnknownOperator(operator);
        poolId = ++_poolCount;
        Pool storage p = _pools[poolId];
        p.operator = operator;
        p.asset = asset;
        poolOf[operator][asset] = poolId;
        _operatorPools[operator].push(poolId);
        emit PoolCreated(poolId, operator, asset);
    }

    /// @dev The operator's tier pool over `basePoolId`, created if needed and brought up to the base's generation.
    function _tierPool(address operator, uint256 basePoolId) internal returns (uint256 poolId) {
        address asset = tierAsset(basePoolId);
        poolId = poolOf[operator][asset];
        if (poolId == 0) {
            poolId = _createPool(operator, asset);
            _tierBaseGeneration[poolId] = _pools[basePoolId].generation;
        } else {
            _syncTier(poolId, _pools[poolId]);
        }
        if (!tierOperatorApproved(basePoolId, operator)) revert TierOperatorNotApproved(basePoolId, operator);
    }

    /// @dev Base shares entering (`add`) or leaving the base's tiers. A count from an ended base generation is void.
    function _tierHeldChange(uint256 basePoolId, Pool storage base, uint256 shares, bool add) internal {
        TierHeld storage held = _tierHeld[basePoolId];
        uint32 generation = base.generation;
        uint256 count = held.generation == generation ? held.shares : 0;
        // A tier's shares of an ended base generation never reach here (a tier syncs before it pays out).
        held.shares = uint128(add ? count + shares : count - shares);
        held.generation = generation;
    }

    /// @dev A full slash of the base pool made the tier's base shares worthless: reset the tier to match.
    function _syncTier(uint256 poolId, Pool storage p) internal {
        uint32 baseGeneration = _pools[uint160(p.asset)].generation;
        if (_tierBaseGeneration[poolId] == baseGeneration) return;
        _tierBaseGeneration[poolId] = baseGeneration;
        _tierDeadBelow[poolId] = p.queueLength;
        p.assets = 0;
        p.reserve = 0;
        _reset(poolId, p);
    }

    /// @dev Adds shares to the staker's position in the pool's current generation, listing the pool for
    /// `positionsOf` the first time. A position from an ended generation holds worthless shares: it restarts at zero.
    function _credit(uint256 poolId, Pool storage p, address staker, uint256 shares) internal {
        Position storage pos = _positions[poolId][staker];
        Position memory m = pos;
        uint32 generation = p.generation;
        // slither-disable-next-line reentrancy-no-eth (the rail is wired once and its hooks never call back)
        if (p.earns) rail.onPositionChange(poolId, staker, m.shares, m.generation);
        uint256 held = m.generation == generation ? m.shares : 0;
        if (!m.listed) {
            Staker storage s = _stakers[staker];
            m.prevPool = s.lastPool;
            s.lastPool = uint32(poolId);
        }
        pos.shares = _u128(held + shares);
        pos.generation = generation;
        pos.prevPool = m.prevPool;
        pos.listed = true;
    }

    /// @dev A tier's slash in base-asset `amount`: the tier's base shares worth it (rounded down, see `_tierCut`)
    /// move into the recipient's base position. The base pool's totals and price do not move, so every base
    /// compartment keeps its value and each base staker its fractions; the recipient leaves through the base escrow.
    function _slashTier(uint256 poolId, Pool storage p, uint256 amount, address recipient)
        internal
        returns (uint256 slashed)
    {
        _syncTier(poolId, p);
        _settle(poolId, p);
        uint256 basePoolId = uint160(p.asset);
        Pool storage base = _pools[basePoolId];
        uint256 held = p.assets;
        uint256 available = _toAssets(base, held);
        if (amount > available) revert SlashExceedsAssets(poolId, amount, available);
        uint256 baseShares;
        (slashed, baseShares) = _tierCut(base, held, p.shares, amount);
        if (slashed == 0) return 0;
        p.assets = uint128(held - baseShares);
        if (p.assets == 0) _reset(poolId, p);
        _tierHeldChange(basePoolId, base, baseShares, false);
        _credit(basePoolId, base, recipient, baseShares);
        emit Slashed(poolId, slashed, recipient, available - slashed);
        emit TierSlashPaid(poolId, basePoolId, recipient, baseShares);
    }

    /// @dev The price floor: a partial slash leaves at least ⌈shares / PRICE_FLOOR⌉ of the collateral.
    function _floorCut(uint256 amount, uint256 available, uint256 shares) internal pure returns (uint256) {
        if (amount >= available) return amount;
        uint256 keep = Math.ceilDiv(shares, PRICE_FLOOR);
        if (available - amount >= keep) return amount;
        return available > keep ? available - keep : 0;
    }

    /// @dev A tier slash of `amount` (base asset): the base shares that pay it, rounded down (against the AVS), so the
    /// tier's value falls by at most `amount` and the slashed allocation, never a neighbour, absorbs the rounding;
    /// within the tier's price floor, where the cut payment is then valued rounded up (what the tier may lose).
    function _tierCut(Pool storage base, uint256 held, uint256 tierShares, uint256 amount)
        internal
        view
        returns (uint256 slashed, uint256 baseShares)
    {
        uint256 priceAssets = uint256(base.assets) + 1;
        uint256 priceShares = uint256(base.shares) + 1;
        // Everything the tier is worth takes everything it holds (and resets it).
        if (amount >= Math.mulDiv(held, priceAssets, priceShares)) return (amount, held);
        baseShares = Math.mulDiv(amount, priceShares, priceAssets);
        if (baseShares == 0) return (0, 0);
        slashed = amount;
        uint256 keep = Math.ceilDiv(tierShares, PRICE_FLOOR);
        if (baseShares < held && held - baseShares < keep) {
            baseShares = held > keep ? held - keep : 0;
            slashed = Math.mulDiv(baseShares, priceAssets, priceShares, Math.Rounding.Ceil);
        }
    }

    function _payOut(address asset, uint256 amount, address to) internal {
        _assets[asset].tracked -= uint128(amount);
        IERC20(asset).safeTransfer(to, amount);
    }

    function _asReset(PoolView memory v) internal pure {
        v.slashableAssets = 0;
        v.totalShares = 0;
        v.escrowedShares = 0;
        v.reserve = 0;
        v.sharePrice = 1e18;
        v.generation += 1;
        v.settledCount = v.queueLength;
    }

    /// @dev True for a tier whose base pool has been fully slashed since it last synced: its collateral is worthless.
    function _tierEnded(uint256 poolId, Pool storage p) internal view returns (bool) {
        return _isTier(p) && _tierBaseGeneration[poolId] != _pools[uint160(p.asset)].generation;
    }

    function _prevWithdrawal(uint256 withdrawalId) internal view returns (uint256) {
        Entry storage e = _queue[withdrawalId >> 64][uint64(withdrawalId)];
        return e.prevPool == 0 ? 0 : _withdrawalId(e.prevPool, e.prevIndex);
    }

    function _isTier(Pool storage p) internal view returns (bool) {
        return uint160(p.asset) <= type(uint32).max;
    }

    /// @dev Mints shares for `assets` already counted as received, rounding down, and credits the staker.
    function _mint(uint256 poolId, address staker, uint256 assets) internal returns (uint256 shares) {
        Pool storage p = _pools[poolId];
        if (p.shares > uint256(p.assets) * MIN_DEPOSIT_PRICE_INVERSE) revert PoolPriceTooLow(poolId);
        shares = _addAtPrice(p, assets);
        _credit(poolId, p, staker, shares);
    }

    /// @dev Adds `assets` to the pool and the shares they buy at its price, rounded down (the price never falls):
    /// a deposit's shares, or the base shares a compensation mints into a tier.
    function _addAtPrice(Pool storage p, uint256 assets) internal returns (uint256 shares) {
        uint256 poolAssets = p.assets;
        uint256 poolShares = p.shares;
        shares = Math.mulDiv(assets, poolShares + 1, poolAssets + 1);
        if (shares == 0) revert DepositTooSmall(assets);
        if (poolAssets + assets > MAX_POOL_AMOUNT) revert AmountTooLarge(poolAssets + assets);
        if (poolShares + shares > MAX_POOL_AMOUNT) revert AmountTooLarge(poolShares + shares);
        p.assets = uint128(poolAssets + assets);
        p.shares = uint128(poolShares + shares);
    }

    /// @dev Marks a matured withdrawal claimed and takes its value out of the pool (or its reserve).
    function _claim(uint256 withdrawalId) internal returns (Pool storage p, uint256 assets) {
        (uint256 poolId, uint64 index, Pool storage pool, Entry storage e) = _entry(withdrawalId);
        p = pool;
        if (e.staker != msg.sender) revert NotWithdrawalOwner(withdrawalId, e.staker);
        if (e.claimed) revert AlreadyClaimed(withdrawalId);
        if (block.timestamp < e.maturity) revert NotMatured(withdrawalId, e.maturity);
        e.claimed = true;

        uint256 shares = _entryShares(poolId, index, e);
        if (_isTier(p)) {
            _syncTier(poolId, p);
            if (index < _tierDeadBelow[poolId]) return (p, 0);
        }
        if (index < p.settledCount) {
            assets = _batchValue(poolId, p, index, shares);
            p.reserve -= uint128(assets);
        } else {
            // Matured but not yet settled: no slash has happened since it matured (a slash settles first), so the
            // current price is its price at maturity.
            assets = _toAssets(p, shares);
            p.assets -= uint128(assets);
            p.shares -= uint128(shares);
            p.earlyClaimedShares += shares;
            // slither-disable-next-line reentrancy-no-eth (the rail is wired once and its hooks never call back)
            if (p.earns) rail.onEscrowLeft(withdrawalId);
        }
    }

    /// @dev Moves the matured prefix of the queue out of the slashable set, at the current price, in one step.
    function _settle(uint256 poolId, Pool storage p) internal {
        (uint256 settledTo, uint256 shares, uint256 assets) = _pendingSettlement(poolId, p);
        if (settledTo == p.settledCount) return;
        _pushBatch(poolId, p, settledTo, uint256(p.assets) + 1, uint256(p.shares) + 1);
        p.assets -= uint128(assets);
        p.shares -= uint128(shares);
        p.reserve += uint128(assets);
        p.earlyClaimedShares = 0;
        emit WithdrawalsSettled(poolId, uint64(settledTo), shares, assets);
    }

    /// @dev A full slash: what is still in escrow is worth nothing, and so are the outstanding shares.
    function _reset(uint256 poolId, Pool storage p) internal {
        uint256 n = p.queueLength;
        if (n != p.settledCount) _pushBatch(poolId, p, n, 0, 1);
        p.shares = 0;
        p.earlyClaimedShares = 0;
        uint32 generation = p.generation;
        // slither-disable-next-line reentrancy-no-eth (the rail is wired once and its hooks never call back)
        if (p.earns) rail.onGenerationEnded(poolId, generation);
        ++generation;
        p.generation = generation;
        emit PoolReset(poolId, generation);
    }

    function _pushBatch(uint256 poolId, Pool storage p, uint256 end, uint256 priceAssets, uint256 priceShares)
        internal
    {
        uint32 b = p.batchCount;
        _batches[poolId][b] =
            Batch({priceAssets: _u128(priceAssets), priceShares: _u128(priceShares), end: uint64(end)});
        p.batchCount = b + 1;
        p.settledCount = uint64(end);
        // slither-disable-next-line reentrancy-no-eth (the rail is wired once and its hooks never call back)
        if (p.earns) rail.onSettled(poolId, b);
    }

    /// @dev Which queue entries have matured but not settled, and their shares and value at the current price.
    function _pendingSettlement(uint256 poolId, Pool storage p)
        internal
        view
        returns (uint256 settledTo, uint256 shares, uint256 assets)
    {
        uint256 from = p.settledCount;
        uint256 n = p.queueLength;
        if (from == n || _queue[poolId][from].maturity > block.timestamp) return (from, 0, 0);
        // Maturities are non-decreasing along the queue (fixed delay), so the matured entries are a prefix.
        uint256 lo = from + 1;
        uint256 hi = n;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (_queue[poolId][mid].maturity <= block.timestamp) lo = mid + 1;
            else hi = mid;
        }
        settledTo = lo;
        uint256 cumFrom = from == 0 ? 0 : _queue[poolId][from - 1].cumShares;
        shares = _queue[poolId][lo - 1].cumShares - cumFrom - p.earlyClaimedShares;
        assets = _toAssets(p, shares);
    }

    /// @dev Value of a settled entry: its shares at the price of the batch that settled it.
    function _batchValue(uint256 poolId, Pool storage p, uint256 index, uint256 shares)
        internal
        view
        returns (uint256)
    {
        if (shares == 0) return 0;
        Batch storage b = _batches[poolId][_batchOf(poolId, p, index)];
        return Math.mulDiv(shares, b.priceAssets, b.priceShares);
    }

    /// @dev The batch that settled queue entry `index` (below `settledCount`).
    function _batchOf(uint256 poolId, Pool storage p, uint256 index) internal view returns (uint256) {
        // The newest batch is the usual answer; otherwise binary search on batch ends.
        uint256 hi = p.batchCount - 1;
        if (hi == 0 || _batches[poolId][hi - 1].end <= index) return hi;
        uint256 lo;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (_batches[poolId][mid].end > index) hi = mid;
            else lo = mid + 1;
        }
        return lo;
    }

    function _entry(uint256 withdrawalId)
        internal
        view
        returns (uint256 poolId, uint64 index, Pool storage p, Entry storage e)
    {
        poolId = withdrawalId >> 64;
        index = uint64(withdrawalId);
        p = _pools[poolId];
        if (index >= p.queueLength) revert UnknownWithdrawal(withdrawalId);
        e = _queue[poolId][index];
    }

    function _entryShares(uint256 poolId, uint64 index, Entry storage e) internal view returns (uint256) {
        return e.cumShares - (index == 0 ? 0 : _queue[poolId][index - 1].cumShares);
    }

    function _pool(uint256 poolId) internal view returns (Pool storage p) {
        p = _pools[poolId];
        if (p.operator == address(0)) revert UnknownPool(poolId);
    }

    function _toAssets(Pool storage p, uint256 shares) internal view returns (uint256) {
        return Math.mulDiv(shares, uint256(p.assets) + 1, uint256(p.shares) + 1);
    }

    function _withdrawalId(uint256 poolId, uint64 index) internal pure returns (uint256) {
        return poolId << 64 | index;
    }

    /// @dev Pulls exactly `amount` and proves it arrived: the vault's balance must rise by `amount` (no transfer fee)
    /// and must not have been below what the accounting says before (no negative rebase).
    function _pull(IERC20 token, uint256 tracked, uint256 amount) internal {
        uint256 before = token.balanceOf(address(this));
        if (before < tracked) revert RebasingDetected(address(token), tracked, before);
        if (before > tracked) emit UnaccountedBalance(address(token), before - tracked);
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - before;
        if (received != amount) revert FeeOnTransferDetected(address(token), amount, received);
    }

    function _decimalsOf(address asset) internal view returns (uint8) {
        if (asset.code.length == 0) revert InvalidAsset(asset);
        (bool ok, bytes memory data) = asset.staticcall(abi.encodeCall(IERC20Metadata.decimals, ()));
        if (!ok || data.length < 32) revert InvalidAsset(asset);
        uint256 decimals = abi.decode(data, (uint256));
        if (decimals < MIN_DECIMALS || decimals > MAX_DECIMALS) revert InvalidAsset(asset);
        return uint8(decimals);
    }

    function _u128(uint256 x) internal pure returns (uint128) {
        if (x > type(uint128).max) revert AmountTooLarge(x);
        return uint128(x);
    }
}

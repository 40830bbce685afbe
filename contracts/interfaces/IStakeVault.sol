// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Stake vault: collateral pools, delegation and the withdrawal escrow
/// @notice Stakers deposit an allowlisted ERC-20 and delegate it to an operator in one call. Stake lives in one pool
/// per (operator, asset); a staker owns shares of the pool. A slash lowers the pool's assets, so every share (and every
/// queued withdrawal still in escrow) loses the same fraction at O(1) cost, however many stakers there are.
/// @dev Accounting, in one place:
/// - `assets`/`shares` of a pool cover active stake plus escrowed withdrawals that have not matured: all of it is
///   slashable. Share price = (assets + 1) / (shares + 1); the virtual unit keeps the price defined when a pool is
///   empty, and assets are tracked internally, so a donation cannot move the price (no first-depositor inflation).
/// - Withdrawals queue FIFO per pool with a fixed escrow delay, so they mature in queue order. A matured withdrawal
///   stops being slashable: before every slash, the matured prefix of the queue is settled in one step (binary
///   search, no loop over stakers) into `reserve` at the current price. A matured withdrawal claimed before that
///   settlement leaves the pool directly at the current price. Either way no slash after maturity can touch it.
/// - A slash that takes a pool's last asset resets the pool: escrowed withdrawals settle at zero, outstanding shares
///   become worthless and the pool starts a new generation at price one, so it keeps working (no share inflation).
/// - Rounding always favours the pool: deposits mint shares rounded down, withdrawals pay assets rounded down.
interface IStakeVault {
    /// @notice A pool as a dApp sees it. Amounts are in the pool's collateral: the asset, or for a tier pool shares
    /// of its base pool (`slashableAssets(poolId)` gives a tier's value in the base asset).
    struct PoolView {
        uint256 poolId;
        address operator;
        address asset;
        /// Slashable assets: active stake plus unmatured escrow (matured escrow already excluded).
        uint256 slashableAssets;
        /// Shares over `slashableAssets`.
        uint256 totalShares;
        /// Shares in escrow that are still slashable.
        uint256 escrowedShares;
        /// Assets of matured withdrawals waiting to be claimed; never slashable.
        uint256 reserve;
        /// Assets per 1e18 shares, rounded down.
        uint256 sharePrice;
        uint32 generation;
        uint64 queueLength;
        uint64 settledCount;
    }

    /// @notice A staker's position in one pool.
    struct PositionView {
        uint256 poolId;
        address operator;
        address asset;
        uint256 shares;
        /// What the shares redeem for now, rounded down, in the pool's collateral (base shares for a tier); zero for
        /// shares of a generation ended by a full slash (of the pool, or of a tier's base pool).
        uint256 value;
    }

    /// @notice A queued withdrawal.
    struct WithdrawalView {
        uint256 id;
        uint256 poolId;
        address staker;
        address asset;
        uint256 shares;
        /// What a claim would pay now, in the pool's collateral (base shares for a tier); it can still fall until
        /// `maturity` if the pool is slashed.
        uint256 value;
        uint48 maturity;
        bool matured;
        bool claimed;
    }

    /// @notice An allowlisted asset and the vault's holdings of it.
    struct AssetView {
        bool allowed;
        uint8 decimals;
        /// What the vault's accounting says it holds.
        uint256 tracked;
        /// What `balanceOf(vault)` says; above `tracked` means donations or a positive rebase (see `skim`).
        uint256 balance;
    }

    /// @notice Zero amount or zero shares where a positive number is needed.
    error ZeroAmount();
    /// @notice The zero address where an account is needed.
    error ZeroAddress();
    /// @notice The slasher is wired once (`setSlasher`).
    error SlasherAlreadySet(address slasher);
    /// @notice The compensator is wired once (`setCompensator`).
    error CompensatorAlreadySet(address compensator);
    /// @notice The escrow delay is zero or longer than `MAX_ESCROW_DELAY`.
    error InvalidEscrowDelay(uint256 delay);
    /// @notice The asset is not on the allowlist.
    error AssetNotAllowed(address asset);
    /// @notice The address does not answer like an ERC-20 with 6 to 18 decimals (`MIN_DECIMALS` .. `MAX_DECIMALS`), or
    /// is a tier pseudo-asset address (at most 32 bits).
    error InvalidAsset(address asset);
    /// @notice The vault received a different amount than was sent (fee-on-transfer token).
    error FeeOnTransferDetected(address asset, uint256 sent, uint256 received);
    /// @notice The vault holds less of the asset than its accounting says (the token rebased down).
    error RebasingDetected(address asset, uint256 tracked, uint256 balance);
    /// @notice The operator is not registered in the operator registry.
    error UnknownOperator(address operator);
    /// @notice No pool with this id.
    error UnknownPool(uint256 poolId);
    /// @notice No withdrawal with this id.
    error UnknownWithdrawal(uint256 withdrawalId);
    /// @notice The position holds fewer shares than asked for.
    error InsufficientShares(uint256 held, uint256 requested);
    /// @notice The deposit is too small to mint a share at the current price.
    error DepositTooSmall(uint256 assets);
    /// @notice The caller did not queue this withdrawal.
    error NotWithdrawalOwner(uint256 withdrawalId, address staker);
    /// @notice The withdrawal is still in escrow.
    error NotMatured(uint256 withdrawalId, uint48 maturity);
    /// @notice The withdrawal was claimed already.
    error AlreadyClaimed(uint256 withdrawalId);
    /// @notice A redelegation with nothing left to move; claim it with `completeWithdrawal` instead.
    error NothingToRedelegate(uint256 withdrawalId);
    /// @notice Deposits and redelegations are paused by the guardian.
    error DepositsPaused();
    /// @notice The caller is not the guardian (or the owner).
    error NotGuardian(address caller);
    /// @notice The caller is not the slasher.
    error NotSlasher(address caller);
    /// @notice The slash asks for more than the pool's slashable assets.
    error SlashExceedsAssets(uint256 poolId, uint256 amount, uint256 available);
    /// @notice A pool total would not fit the vault's 128-bit accounting.
    error AmountTooLarge(uint256 amount);
    /// @notice The owner has not allowed tiers over this pool (or it is a tier itself: one level only).
    error TierNotAllowed(uint256 basePoolId);
    /// @notice Only the base pool's operator, or an operator it approved, runs a tier over it.
    error TierOperatorNotApproved(uint256 basePoolId, address operator);
    error NotPoolOperator(uint256 poolId, address caller);
    /// @notice The caller is not the compensator.
    error NotCompensator(address caller);
    /// @notice The pool holds fewer than `MIN_COMPENSATION_SHARES` shares: a payment would inflate its share price.
    error PoolTooSmallToCompensate(uint256 poolId, uint256 shares, uint256 minShares);
    /// @notice The pool's share price fell below 1e-6 of its start (`MIN_DEPOSIT_PRICE_INVERSE`): it takes no new
    /// stake, which the price floor would keep from being slashed.
    error PoolPriceTooLow(uint256 poolId);
    /// @notice The reward rail is wired once (`setRail`).
    error RailAlreadySet(address rail);
    /// @notice The caller is not the reward rail.
    error NotRail(address caller);
    /// @notice The pool's rewards are on already.
    error RewardsAlreadyOn(uint256 poolId);

    event AssetAllowlisted(address indexed asset, bool allowed, uint8 decimals);
    event GuardianSet(address indexed guardian);
    event SlasherSet(address indexed slasher);
    event PausedSet(bool paused, address indexed by);
    event PoolCreated(uint256 indexed poolId, address indexed operator, address indexed asset);
    event Deposited(address indexed staker, uint256 indexed poolId, uint256 assets, uint256 shares);
    /// @notice `shares` left the staker's position; shares of an ended generation are queued but escrow nothing.
    event WithdrawalQueued(
        uint256 indexed withdrawalId, address indexed staker, uint256 indexed poolId, uint256 shares, uint48 maturity
    );
    event WithdrawalCompleted(uint256 indexed withdrawalId, address indexed staker, address receiver, uint256 assets);
    event Redelegated(
        uint256 indexed withdrawalId, address indexed staker, uint256 indexed toPoolId, uint256 assets, uint256 shares
    );
    /// @notice Matured withdrawals up to queue position `settledCount` left the slashable set at the current price.
    event WithdrawalsSettled(uint256 indexed poolId, uint64 settledCount, uint256 shares, uint256 assets);
    event Slashed(uint256 indexed poolId, uint256 amount, address indexed recipient, uint256 remainingAssets);
    /// @notice A tier slash paid `baseShares` of the base pool into `recipient`'s base position (see `slash`).
    event TierSlashPaid(
        uint256 indexed tierPoolId, uint256 indexed basePoolId, address indexed recipient, uint256 baseShares
    );
    /// @notice A full slash ended the pool's generation: old shares and escrow are worth zero from here on.
    event PoolReset(uint256 indexed poolId, uint32 generation);
    /// @notice The vault held more of an asset than its accounting at a deposit (a donation or a positive rebase).
    event UnaccountedBalance(address indexed asset, uint256 surplus);
    event Skimmed(address indexed asset, address indexed to, uint256 amount);
    event TierAllowed(uint256 indexed basePoolId, bool allowed);
    /// @notice The base pool's operator approved (or revoked) `operator` to run a tier over it.
    event TierOperatorApproved(uint256 indexed basePoolId, address indexed operator, bool approved);
    /// @notice A staker moved `baseShares` of the base pool into a tier pool and received `shares` of it.
    event CompensatorSet(address indexed compensator);
    event RailSet(address indexed rail);
    /// @notice The pool earns from here on: every change of its shares is reported to the rail.
    event RewardsOn(uint256 indexed poolId);
    /// @notice `amount` of the pool's asset (a tier's: its base asset) was paid into the pool's slashable set by the
    /// compensator; `collateral` is what the pool's assets grew by (`amount`, or for a tier the base shares minted).
    event Compensated(uint256 indexed poolId, address indexed from, uint256 amount, uint256 collateral);
    event TierDeposited(
        address indexed staker,
        uint256 indexed basePoolId,
        uint256 indexed tierPoolId,
        uint256 baseShares,
        uint256 shares
    );

    // ------------------------------------------------------------------ governance

    /// @notice Adds or removes an asset. Removal stops new deposits only: withdrawals always work.
    /// @dev Allowing an asset reads its `decimals()` once: it must be a contract that answers with 6 to 18 decimals
    /// (`MIN_DECIMALS` .. `MAX_DECIMALS`: the price floor and `MAX_POOL_AMOUNT` are sized for at most 18, a
    /// compensation's minimum pool for at least 6), else `InvalidAsset`.
    function setAssetAllowed(address asset, bool allowed) external;

    /// @notice Sets the guardian, who can pause deposits.
    function setGuardian(address guardian) external;

    /// @notice Sets the slasher, once (`SlasherAlreadySet` after; `ZeroAddress` for zero): the contract that decides
    /// slashes (the isolation layer). Only it can call `slash`. Never swapped: a new slasher could take every pool's
    /// stake at once.
    function setSlasher(address slasher) external;

    /// @notice Sets the compensator, once (`CompensatorAlreadySet` after; `ZeroAddress` for zero): the contract whose
    /// penalties are paid into pools (the reputation layer). Only it can call `compensate`; until it is set nothing
    /// can. Never detached nor swapped: either would skip the penalties of pending requests at once.
    function setCompensator(address compensator) external;

    /// @notice Pauses deposits and redelegations (guardian or owner). Withdrawals and claims keep working.
    function pause() external;

    /// @notice Lifts the pause (owner only).
    function unpause() external;

    /// @notice Sends `balanceOf(vault) - tracked` of `asset` (donations, positive rebases) to `to` (owner only).
    function skim(address asset, address to) external returns (uint256 amount);

    // ------------------------------------------------------------------ stakers

    /// @notice Deposits `assets` of `asset` and delegates them to `operator`, creating the pool if needed.
    /// @return poolId The (operator, asset) pool.
    /// @return shares Shares minted, rounded down.
    function deposit(address operator, address asset, uint256 assets) external returns (uint256 poolId, uint256 shares);

    /// @notice Starts a withdrawal of `shares` from the caller's position. The shares stay slashable until maturity.
    /// @return withdrawalId Identifies the withdrawal: `poolId << 64 | queue index`.
    function queueWithdrawal(uint256 poolId, uint256 shares) external returns (uint256 withdrawalId);

    /// @notice Pays a matured withdrawal's post-slash value to `receiver`. Works while paused and for zero value.
    function completeWithdrawal(uint256 withdrawalId, address receiver) external returns (uint256 assets);

    /// @notice Moves a matured withdrawal's value to `operator`'s pool of the same asset, without a token transfer.
    function completeRedelegation(uint256 withdrawalId, address operator)
        external
        returns (uint256 poolId, uint256 shares);

    // ------------------------------------------------------------------ slasher

    /// @notice Takes `amount` from the pool's slashable assets (active stake and unmatured escrow, pro rata) and
    /// sends it to `recipient` in the same transaction. For a tier pool `amount` is in the base asset and is paid in
    /// base shares: the tier's base shares worth it (rounded down, against the AVS, so the tier never loses more
    /// than `amount`) move into `recipient`'s base position, so the base
    /// pool's totals, price and compartments do not move; the recipient leaves through the base pool's escrow.
    /// A partial slash that would leave a share worth less than 1e-8 of a collateral unit is cut to leave that much;
    /// a slash of everything resets the pool. Returns what was taken (see `previewSlash`).
    function slash(uint256 poolId, uint256 amount, address recipient) external returns (uint256 slashed);

    /// @notice What `slash(poolId, amount, …)` would take now (0 if `amount` exceeds the slashable value).
    function previewSlash(uint256 poolId, uint256 amount) external view returns (uint256);

    // ------------------------------------------------------------------ compensator

    /// @notice Pays `amount` of the pool's asset (for a tier, its base asset) from the compensator into the pool's
    /// slashable set: the share price rises by `amount` over the slashable shares, for every holder in the slashable
    /// set, escrowed withdrawals included (they carried the risk); matured withdrawals are settled first and get
    /// nothing. A tier is paid in base shares minted at the base price (rounded down, so the base's price never
    /// falls) and added to the tier's collateral: its holders, who carried the risk, receive the whole payment, and
    /// the base's stakers are untouched. Refuses a pool with fewer than `MIN_COMPENSATION_SHARES` shares
    /// (`PoolTooSmallToCompensate`): a payment into a near-empty pool would inflate its share price. Exactly `amount`
    /// must arrive (`FeeOnTransferDetected`). Works while paused.
    /// @return collateral What the pool's collateral grew by: `amount`, or for a tier the base shares minted.
    function compensate(uint256 poolId, uint256 amount) external returns (uint256 collateral);

    // ------------------------------------------------------------------ rewards (the rail's view of the shares)

    /// @notice Owner: wires the reward rail, once.
    function setRail(address rail) external;

    /// @notice Rail: the pool earns from now on; every later change of its shares is reported to the rail
    /// (`IRewardHooks`). Pools that never earn pay nothing for it. Returns the pool's current generation.
    function enableRewards(uint256 poolId) external returns (uint32 generation);

    /// @notice Anyone: moves the pool's matured withdrawals out of the slashable set now (what every slash does
    /// first), and brings a tier whose base was fully slashed up to date. The rail calls it before each payment, so
    /// a withdrawal earns until it matures and no longer.
    function settle(uint256 poolId) external;

    /// @notice Whether the asset is on the allowlist (new deposits accepted).
    function isAllowed(address asset) external view returns (bool);

    /// @notice Whether the pool earns (see `enableRewards`).
    function earns(uint256 poolId) external view returns (bool);

    /// @notice A staker's raw position: its shares and the generation they belong to (worthless if it ended).
    function positionOf(uint256 poolId, address staker) external view returns (uint256 shares, uint32 generation);

    /// @notice The shares that carry the pool's risk and earn its rewards: positions of the current generation plus
    /// escrow not yet settled; zero for a tier whose base was fully slashed.
    function earningShares(uint256 poolId) external view returns (uint256);

    /// @notice Whether a withdrawal has left the slashable set in a settlement, and in which batch.
    function settlementOf(uint256 withdrawalId) external view returns (bool settled, uint256 batch);

    // ------------------------------------------------------------------ views

    /// @notice True while the guardian has paused deposits, redelegations and new allocations.
    function paused() external view returns (bool);

    /// @notice Escrow delay between queueing and claiming a withdrawal, fixed at deployment.
    function escrowDelay() external view returns (uint48);

    /// @notice The (operator, asset) pool id, or zero.
    function poolOf(address operator, address asset) external view returns (uint256);

    /// @notice Number of pools; ids run from 1 to this.
    function poolCount() external view returns (uint256);

    /// @notice Pool totals and share price.
    function getPool(uint256 poolId) external view returns (PoolView memory);

    /// @notice Slashable value of a pool now, in its base asset (matured escrow excluded even if not yet settled).
    function slashableAssets(uint256 poolId) external view returns (uint256);

    /// @notice What `shares` of the pool redeem for now, rounded down, in its collateral (base shares for a tier).
    function convertToAssets(uint256 poolId, uint256 shares) external view returns (uint256);

    /// @notice Shares that depositing `assets` into the pool mints now, rounded down.
    function convertToShares(uint256 poolId, uint256 assets) external view returns (uint256);

    /// @notice Every pool the staker ever held shares in, newest first, with current shares and value.
    function positionsOf(address staker) external view returns (PositionView[] memory);

    /// @notice The staker's withdrawals, newest first, starting at `cursor` (0 = newest), at most `limit`.
    /// @return views The withdrawals.
    /// @return next Cursor for the next page, 0 when there is none.
    function withdrawalsOf(address staker, uint256 cursor, uint256 limit)
        external
        view
        returns (WithdrawalView[] memory views, uint256 next);

    /// @notice One withdrawal.
    function getWithdrawal(uint256 withdrawalId) external view returns (WithdrawalView memory);

    /// @notice Ids of the operator's pools.
    function operatorPools(address operator) external view returns (uint256[] memory);

    /// @notice Allowlist state and holdings of an asset.
    function getAsset(address asset) external view returns (AssetView memory);

    // ------------------------------------------------------------------ tiers (hierarchical isolation)

    /// @notice Allows or forbids tier pools over `basePoolId` (owner only). Forbidding stops new tier deposits only.
    function setTierAllowed(uint256 basePoolId, bool allowed) external;

    /// @notice The base pool's operator approves (or revokes) `operator` to run a tier over it. Promise (no escape):
    /// without it a staker could open a tier of its own, allocate it to an AVS it controls and slash its own stake
    /// out of the base pool in one transaction, past the escrow and ahead of a slash already decided. A revoked
    /// operator's tier takes no new deposits; what it holds stays as it is.
    function approveTierOperator(uint256 basePoolId, address operator, bool approved) external;

    /// @notice Whether `operator` may run a tier over `basePoolId` (its own operator always may).
    function tierOperatorApproved(uint256 basePoolId, address operator) external view returns (bool);

    /// @notice Moves `baseShares` of the caller's position in `basePoolId` into `operator`'s tier pool over it.
    /// The stake stays in the base pool (slashable by its AVSs) and is also allocated by the tier's operator.
    /// A tier withdrawal returns base shares to the claimer's base position.
    function depositToTier(uint256 basePoolId, address operator, uint256 baseShares)
        external
        returns (uint256 tierPoolId, uint256 shares);

    /// @notice The pseudo-asset address standing for `basePoolId`'s shares as a tier's collateral.
    function tierAsset(uint256 basePoolId) external pure returns (address);

    /// @notice The base pool of a tier pool, zero for a pool of an ERC-20.
    function baseOf(uint256 poolId) external view returns (uint256);

    /// @notice Whether tiers over `basePoolId` are allowed.
    function tierAllowed(uint256 basePoolId) external view returns (bool);

    /// @notice Cheap identity of a pool for the isolation layer: operator, current generation and base pool.
    function poolKey(uint256 poolId) external view returns (address operator, uint32 generation, uint256 basePoolId);

    /// @notice The ERC-20 the pool's value is counted in (its asset, or for a tier its base pool's asset) and the
    /// pool's operator, in one call for the reputation layer.
    function poolAsset(uint256 poolId) external view returns (address asset, address operator);

    /// @notice What a lease needs of a pool, in one call for the security market: `poolAsset`'s asset and operator,
    /// `poolKey`'s generation and `slashableAssets`.
    function poolTerms(uint256 poolId)
        external
        view
        returns (address asset, address operator, uint32 generation, uint256 slashable);
}

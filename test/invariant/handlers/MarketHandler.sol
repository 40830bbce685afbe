// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";

import {AllocationManager} from "../../../contracts/AllocationManager.sol";
import {RewardRail} from "../../../contracts/RewardRail.sol";
import {StakeVault} from "../../../contracts/StakeVault.sol";
import {IAllocationManager} from "../../../contracts/interfaces/IAllocationManager.sol";
import {IOperatorDesk} from "../../../contracts/interfaces/IOperatorDesk.sol";
import {IRewardRail} from "../../../contracts/interfaces/IRewardRail.sol";
import {ISecurityMarket} from "../../../contracts/interfaces/ISecurityMarket.sol";
import {IStakeVault} from "../../../contracts/interfaces/IStakeVault.sol";
import {OperatorDesk} from "../../../contracts/market/OperatorDesk.sol";
import {SecurityMarket} from "../../../contracts/market/SecurityMarket.sol";
import {MockERC20} from "../../mocks/MockERC20.sol";

/// @notice Drives the security market, its rail and its desks' pools: AVS admins bid in WETH (18 decimals) and WBTC
/// (8) and cancel; desk owners ask on their four pools, cancel, set commissions and try to lower (or leave) leased
/// AVSs; either side fills, partly or wholly, so at the bid's or at the ask's price; anyone streams; the lessee AVSs
/// slash their leases' pools (a quarter of the time all of their backing) and a rival shared AVS with a veto flow
/// requests slashes (a quarter of the time all of its backing: a full slash of a pool without isolated stake), which
/// its resolver vetoes or its module executes; stakers deposit, queue, complete and claim; desks claim commissions,
/// admins withdraw credits; time moves by up to five days, or to just past a lease's end.
/// @dev Every call either succeeds or is refused with an error expected for that action (counted); any other refusal
/// is recorded as a violation (`V_REFUSAL`, with its selector), never reverted, so the run goes on. Per-call
/// properties (a fill's price and release, a stream's lower sample, isolation at every slash, the desk's hold) are
/// checked at the call and recorded as violations; the ghost ledgers the invariants compare with are kept here.
contract MarketHandler is CommonBase, StdCheats, StdUtils {
    uint256 internal constant YEAR = 365 days;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant WAD = 1e18;
    IAllocationManager.Mode internal constant NONE = IAllocationManager.Mode.None;
    IAllocationManager.Mode internal constant ISOLATED = IAllocationManager.Mode.Isolated;
    IAllocationManager.Mode internal constant SHARED = IAllocationManager.Mode.Shared;

    // Bounds that keep a run's invariant checks cheap (every list is walked after every call).
    uint256 public constant MAX_BIDS = 20;
    uint256 public constant MAX_ASKS = 24;
    uint256 public constant MAX_LEASES = 20;
    uint256 public constant MAX_WITHDRAWALS = 16;
    uint256 public constant MAX_REQUESTS = 12;
    /// @dev Longest jump to a lease's end: runs stay within the manager's 32-bit timestamps.
    uint256 internal constant MAX_JUMP = 60 days;

    // ------------------------------------------------------------------ actions and their outcomes

    uint256 public constant A_BID = 0;
    uint256 public constant A_ASK = 1;
    uint256 public constant A_FILL = 2;
    uint256 public constant A_CANCEL_BID = 3;
    uint256 public constant A_CANCEL_ASK = 4;
    uint256 public constant A_STREAM = 5;
    uint256 public constant A_WARP = 6;
    uint256 public constant A_WARP_END = 7;
    uint256 public constant A_SLASH = 8;
    uint256 public constant A_RIVAL_REQUEST = 9;
    uint256 public constant A_RIVAL_RESOLVE = 10;
    uint256 public constant A_DEPOSIT = 11;
    uint256 public constant A_QUEUE = 12;
    uint256 public constant A_COMPLETE = 13;
    uint256 public constant A_CLAIM = 14;
    uint256 public constant A_CLAIM_ESCROW = 15;
    uint256 public constant A_COMMISSION = 16;
    uint256 public constant A_WITHDRAW = 17;
    uint256 public constant A_LOWER = 18;
    uint256 public constant A_SET_COMMISSION = 19;
    uint256 public constant N_ACTIONS = 20;

    struct Outcome {
        uint256 ok;
        uint256 refused;
        uint256 skipped;
    }

    Outcome[N_ACTIONS] internal _outcomes;

    /// @dev Each (action, error) met in the run, and how often.
    struct Refusal {
        uint256 action;
        bytes4 selector;
    }

    Refusal[] internal _refusals;
    mapping(uint256 action => mapping(bytes4 selector => uint256)) internal _refusalCount;
    mapping(uint256 action => mapping(bytes4 selector => bool)) internal _expected;

    // ------------------------------------------------------------------ violations (asserted zero by the suite)

    uint256 public constant V_REFUSAL = 0; // a call refused with an error not expected for its action (or unnamed)
    uint256 public constant V_FILL = 1; // a fill's premium, price, escrow kept or surplus credited is not the docs'
    uint256 public constant V_STREAM = 2; // a stream paid above the lower sample of its span, or misreported
    uint256 public constant V_MONOTONE = 3; // a lease's paid or refunded fell, or an ended lease reopened
    uint256 public constant V_EARLY_LOWER = 4; // the owner lowered a held AVS's allocation or left it before the end
    uint256 public constant V_HOLD = 5; // LeaseHoldsAVS when nothing is held, or naming another end than the leases'
    uint256 public constant V_ISOLATION = 6; // another AVS's slash lowered an isolated allocation's backing
    uint256 public constant V_CLAIM = 7; // a claim, commission claim or credit withdrawal paid other than shown
    uint256 public constant V_CANCEL = 8; // a cancel credited other than the bid's whole escrow
    uint256 public constant N_VIOLATIONS = 9;

    uint256[N_VIOLATIONS] public violations;
    string[N_VIOLATIONS] internal _firstViolation;

    // ------------------------------------------------------------------ the system

    struct Config {
        SecurityMarket market;
        AllocationManager manager;
        StakeVault vault;
        RewardRail rail;
        MockERC20[2] tokens; // WETH, WBTC
        OperatorDesk[2] desks;
        address[2] owners;
        uint256[4] pools; // desk 0: WETH, WBTC; desk 1: WETH, WBTC
        uint32[4] avsIds; // the lessees; admin i % 2
        address[4] modules;
        address[2] admins;
        uint32 rival; // vetoable, shared on every pool
        address rivalModule;
        address resolver;
        address[3] stakers;
        address stranger;
    }

    SecurityMarket internal market;
    AllocationManager internal manager;
    StakeVault internal vault;
    RewardRail internal rail;
    Config internal _cfg;

    // ------------------------------------------------------------------ ghosts

    struct BidGhost {
        uint8 avsIndex;
        uint8 tokenIndex;
        uint256 escrow; // what the docs say stays escrowed: ⌈left·maxPrice·term / (10⁴·year)⌉, 0 once closed
    }

    struct AskGhost {
        uint8 poolIndex;
        IAllocationManager.Mode mode;
        uint32 minPriceBps;
        uint40 maxTerm;
    }

    struct LeaseGhost {
        uint8 poolIndex;
        uint8 avsIndex;
        uint8 tokenIndex;
        uint32 generation; // the pool's at the fill
        uint40 end;
        uint256 leased;
        uint256 premium;
        uint256 prevProvided; // min(slashable backing, leased) at the last stream that moved the lease (leased before)
        uint256 paidBound; // Σ over streams of ⌊due · min(provided at both ends) / leased⌋
        uint256 lastPaid; // the lease as the last stream left it
        uint256 lastRefunded;
        bool ended;
        bool fullySlashed; // the handler saw its pool's generation end (a full slash)
        uint256 paidAtFullSlash;
        uint96 weightFloor; // the allocation's committed weight: set at the fill, lowered only by slashes of the pool
    }

    BidGhost[] internal _bids; // bid id i + 1
    AskGhost[] internal _asks; // ask id i + 1
    LeaseGhost[] internal _leases; // lease id i + 1
    uint256[] internal _withdrawals;
    uint64[] internal _requests;

    mapping(address admin => mapping(address token => uint256)) public funded; // minted to it
    mapping(address admin => mapping(address token => uint256)) public sent; // escrow it paid the market
    mapping(address admin => mapping(address token => uint256)) public withdrawn; // credits it took back
    mapping(address admin => mapping(address token => uint256)) public ghostCredits;
    mapping(address token => uint256) public minted;
    mapping(address token => uint256) public railIn; // Σ paid by streams
    mapping(address token => uint256) public railOut; // Σ claimed: positions, escrow, commission
    mapping(address token => uint256) public payments; // streams that paid the rail something
    /// @dev The latest end of the desk's leases with each lessee AVS: the desk's owner is held until then.
    mapping(uint256 desk => mapping(uint256 avs => uint48)) public heldUntil;

    // Coverage, logged at the end of each run.
    uint256 public fullSlashes;
    uint256 public sharedSlashesNextToIsolated; // a shared allocation slashed while another AVS held isolated backing
    uint256 public postponedStarts; // a first isolated stream that found its backing later than the lease's start
    uint256 public holdRefusals; // LeaseHoldsAVS, as expected
    uint256 public partialFills;
    uint256 public wholeFills;
    uint256 public avsFills;
    uint256 public shortfallStreams; // a stream that refunded part of a span of a live lease

    constructor(Config memory cfg) {
        _cfg = cfg;
        (market, manager, vault, rail) = (cfg.market, cfg.manager, cfg.vault, cfg.rail);
        for (uint256 t; t < 2; ++t) {
            address token = address(cfg.tokens[t]);
            minted[token] = cfg.tokens[t].totalSupply();
            for (uint256 a; a < 2; ++a) {
                funded[cfg.admins[a]][token] = cfg.tokens[t].balanceOf(cfg.admins[a]);
            }
        }
        _expectations();
    }

    // ================================================================== orders

    /// @notice An AVS admin bids for one of its AVSs (1 in 16 with an invalid price or term, refused by name).
    function postBid(uint256 avsSeed, uint256 tokenSeed, uint256 backing, uint256 modeSeed, uint256 term, uint256 price)
        external
    {
        if (_bids.length >= MAX_BIDS) return _skip(A_BID);
        uint256 ai = avsSeed % 4;
        uint256 ti = tokenSeed % 2;
        BidTerms memory p;
        p.backing = uint88(ti == 0 ? _bound(backing, 1e15, 300 ether) : _bound(backing, 1e4, 15e8));
        p.term = uint40(term % 4 == 0 ? _bound(term, 1 days, 730 days) : _bound(term, 1 days, 45 days));
        p.price = uint32(_bound(price, 1, 10_000));
        p.commission = uint16(_bound(avsSeed >> 8, 0, 5000));
        p.mode = modeSeed % 2 == 0 ? ISOLATED : SHARED;
        if (modeSeed % 16 == 7) p.price = 0; // refused: InvalidPrice
        if (modeSeed % 16 == 9) p.term = 1 days - 1; // refused: InvalidTerm
        address admin = _cfg.admins[ai % 2];
        MockERC20 token = _cfg.tokens[ti];
        uint256 escrow = _escrowOf(p.backing, p.price, p.term);
        _mint(token, admin, escrow);
        funded[admin][address(token)] += escrow;
        vm.prank(admin);
        try market.postBid(
            _cfg.avsIds[ai], address(token), p.backing, p.mode, 0, p.term, p.price, p.commission
        ) returns (
            uint256 id
        ) {
            _bids.push(BidGhost({avsIndex: uint8(ai), tokenIndex: uint8(ti), escrow: escrow}));
            if (id != _bids.length) _flag(V_FILL, "bid id out of sequence");
            sent[admin][address(token)] += escrow;
            _ok(A_BID);
        } catch (bytes memory reason) {
            _refused(A_BID, reason);
        }
    }

    struct BidTerms {
        uint88 backing;
        uint40 term;
        uint32 price;
        uint16 commission;
        IAllocationManager.Mode mode;
    }

    /// @notice A desk's owner asks on one of its pools (1 in 16 with an invalid price, refused by name).
    function postAsk(uint256 poolSeed, uint256 capacity, uint256 modeSeed, uint256 price, uint256 term) external {
        uint256 pi = poolSeed % 4;
        uint32 minPrice = uint32(Math.max(1, _bound(price, 1, 10_000) / (1 + (price >> 128) % 8)));
        if (modeSeed % 16 == 5) minPrice = 0;
        uint40 maxTerm = uint40(term % 2 == 0 ? 730 days : _bound(term, 1 days, 730 days));
        _postAsk(pi, _capacity(pi, capacity), modeSeed % 2 == 0 ? ISOLATED : SHARED, minPrice, maxTerm);
    }

    function _postAsk(uint256 pi, uint128 capacity, IAllocationManager.Mode mode, uint32 minPrice, uint40 maxTerm)
        internal
        returns (uint256 askId)
    {
        if (_asks.length >= MAX_ASKS) {
            _skip(A_ASK);
            return 0;
        }
        vm.prank(_cfg.owners[pi / 2]);
        try market.postAsk(_cfg.pools[pi], capacity, mode, minPrice, maxTerm) returns (uint256 id) {
            _asks.push(AskGhost({poolIndex: uint8(pi), mode: mode, minPriceBps: minPrice, maxTerm: maxTerm}));
            askId = id;
            _ok(A_ASK);
        } catch (bytes memory reason) {
            _refused(A_ASK, reason);
        }
    }

    function cancelBid(uint256 seed) external {
        if (_bids.length == 0) return _skip(A_CANCEL_BID);
        uint256 i = seed % _bids.length;
        BidGhost storage g = _bids[i];
        address admin = _cfg.admins[g.avsIndex % 2];
        address token = address(_cfg.tokens[g.tokenIndex]);
        uint256 before = market.credits(admin, token);
        vm.prank((seed >> 8) % 8 == 0 ? _cfg.stranger : admin);
        try market.cancelBid(i + 1) {
            if (market.credits(admin, token) - before != g.escrow || market.bids(i + 1).escrow != 0) {
                _flag(V_CANCEL, string.concat("bid ", vm.toString(i + 1), " cancelled: credit != escrow"));
            }
            ghostCredits[admin][token] += g.escrow;
            g.escrow = 0;
            _ok(A_CANCEL_BID);
        } catch (bytes memory reason) {
            _refused(A_CANCEL_BID, reason);
        }
    }

    function cancelAsk(uint256 seed) external {
        if (_asks.length == 0) return _skip(A_CANCEL_ASK);
        uint256 i = seed % _asks.length;
        vm.prank((seed >> 8) % 8 == 0 ? _cfg.stranger : _cfg.owners[_asks[i].poolIndex / 2]);
        try market.cancelAsk(i + 1) {
            _ok(A_CANCEL_ASK);
        } catch (bytes memory reason) {
            _refused(A_CANCEL_ASK, reason);
        }
    }

    // ================================================================== fills

    struct Fill {
        uint256 bidId;
        uint256 askId;
        uint88 amount;
        bool avsTakes;
        bool whole;
        address admin;
        address token;
        uint256 price;
        uint256 creditsBefore;
        uint256 escrowBefore;
        ISecurityMarket.Bid b;
        ISecurityMarket.Ask k;
    }

    /// @notice Either side fills an open bid (now and then a closed one) against a matching ask (posted if none is
    /// open; now and then any ask), partly or wholly (up to what the pool is worth); 1 in 16 by a stranger.
    function fill(uint256 bidSeed, uint256 askSeed, uint256 amountSeed, uint256 flags) external {
        if (_bids.length == 0 || _leases.length >= MAX_LEASES) return _skip(A_FILL);
        Fill memory f;
        f.bidId = _pickBid(bidSeed, flags % 8 == 0);
        if (f.bidId == 0) return _skip(A_FILL);
        f.b = market.bids(f.bidId);
        f.askId = flags % 4 == 1 && _asks.length != 0 ? 1 + askSeed % _asks.length : _matchingAsk(f.b, askSeed);
        if (f.askId == 0) return _skip(A_FILL);
        f.k = market.asks(f.askId);
        uint256 avail = Math.min(Math.min(f.b.backing, f.k.capacity), vault.slashableAssets(f.k.poolId));
        f.whole = amountSeed % 3 == 0;
        f.amount = uint88(avail == 0 ? 1 : (f.whole ? avail : _part(avail, amountSeed)));
        f.avsTakes = (flags >> 8) % 2 == 0;
        f.admin = _cfg.admins[_bids[f.bidId - 1].avsIndex % 2];
        f.token = f.b.asset;
        f.price = f.avsTakes ? f.k.minPriceBps : f.b.maxPriceBps;
        f.creditsBefore = market.credits(f.admin, f.token);
        f.escrowBefore = _bids[f.bidId - 1].escrow;
        address taker = f.avsTakes ? f.admin : _cfg.owners[_asks[f.askId - 1].poolIndex / 2];
        if (flags % 16 == 15) taker = _cfg.stranger;
        vm.prank(taker);
        try market.fill(f.bidId, f.askId, f.amount) returns (uint256 leaseId) {
            _onFill(f, leaseId);
            _ok(A_FILL);
        } catch (bytes memory reason) {
            _refused(A_FILL, reason);
        }
    }

    /// @dev The fill against the docs: the premium at the taker's resting order's price, rounded down; what stays
    /// escrowed is the premium of the backing still wanted at the bid's price, rounded up; the surplus goes to the
    /// AVS's credits at once. Then the lease's ghost.
    function _onFill(Fill memory f, uint256 leaseId) internal {
        uint256 term = f.b.term;
        uint256 premium = Math.mulDiv(uint256(f.amount) * f.price, term, BPS * YEAR);
        uint256 kept = _escrowOf(f.b.backing - f.amount, f.b.maxPriceBps, term);
        ISecurityMarket.LeaseView memory l = market.leases(leaseId);
        uint256 surplus;
        if (f.escrowBefore < kept + premium) {
            _flag(V_FILL, string.concat("fill of bid ", vm.toString(f.bidId), ": release below the premium"));
        } else {
            surplus = f.escrowBefore - kept - premium;
        }
        if (
            leaseId != _leases.length + 1 || l.premium != premium || l.priceBps != f.price || l.backing != f.amount
                || l.bidId != f.bidId || l.poolId != f.k.poolId || market.bids(f.bidId).escrow != kept
                || market.credits(f.admin, f.token) - f.creditsBefore != surplus
        ) _flag(V_FILL, string.concat("fill of bid ", vm.toString(f.bidId), ": not the docs' terms"));
        _bids[f.bidId - 1].escrow = kept;
        ghostCredits[f.admin][f.token] += surplus;
        if (f.whole) ++wholeFills;
        else ++partialFills;
        if (f.avsTakes) ++avsFills;

        uint256 pi = _asks[f.askId - 1].poolIndex;
        uint256 ai = _bids[f.bidId - 1].avsIndex;
        (, uint32 generation,) = vault.poolKey(l.poolId);
        LeaseGhost storage g = _leases.push();
        (g.poolIndex, g.avsIndex, g.tokenIndex) = (uint8(pi), uint8(ai), uint8(pi % 2));
        (g.generation, g.end, g.leased, g.premium) = (generation, uint40(l.end), f.amount, premium);
        g.prevProvided = f.amount;
        g.weightFloor = manager.getAllocation(l.poolId, _cfg.avsIds[ai]).pending;
        if (l.end > heldUntil[pi / 2][ai]) heldUntil[pi / 2][ai] = uint48(l.end);
    }

    // ================================================================== streams and time

    /// @notice Anyone streams a lease. The span is paid at most at the lower of the backing sampled at its two ends
    /// (the handler's own samples, taken in the same block as the market's), the rest refunded to the AVS.
    function stream(uint256 leaseSeed, uint256 callerSeed) external {
        uint256 n = _leases.length;
        if (n == 0) return _skip(A_STREAM);
        // Mostly a lease still running (the next from a random start); any one otherwise (an ended one: LeaseEnded).
        uint256 i = leaseSeed % n;
        for (uint256 j; j < n && (callerSeed >> 8) % 4 != 0 && _leases[i].ended; ++j) {
            i = (i + 1) % n;
        }
        LeaseGhost storage g = _leases[i];
        ISecurityMarket.LeaseView memory before = market.leases(i + 1);
        uint256 provided =
            Math.min(manager.slashableBacking(_cfg.avsIds[g.avsIndex], _cfg.pools[g.poolIndex]), g.leased);
        address[4] memory callers = [_cfg.stranger, _cfg.admins[0], _cfg.owners[1], _cfg.stakers[0]];
        vm.prank(callers[callerSeed % 4]);
        try market.stream(i + 1) returns (uint256 paid, uint256 refunded) {
            ISecurityMarket.LeaseView memory l = market.leases(i + 1);
            _onStream(g, i + 1, before, l, paid, refunded, provided);
            _ok(A_STREAM);
        } catch (bytes memory reason) {
            _refused(A_STREAM, reason);
        }
    }

    function _onStream(
        LeaseGhost storage g,
        uint256 id,
        ISecurityMarket.LeaseView memory before,
        ISecurityMarket.LeaseView memory l,
        uint256 paid,
        uint256 refunded,
        uint256 provided
    ) internal {
        // Only streams move a lease (the suite checks the lease equals this ledger after every call), and never back.
        if (l.paid < g.lastPaid || l.refunded < g.lastRefunded || (g.ended && !l.ended)) {
            _flag(V_MONOTONE, string.concat("lease ", vm.toString(id), ": paid or refunded fell, or it reopened"));
            return;
        }
        (g.lastPaid, g.lastRefunded, g.ended) = (l.paid, l.refunded, l.ended);
        if (l.paid - before.paid != paid || l.refunded - before.refunded != refunded) {
            _flag(V_STREAM, string.concat("lease ", vm.toString(id), ": stream's returns != the lease's change"));
        }
        uint256 due = paid + refunded;
        uint256 low = Math.min(g.prevProvided, provided);
        if (paid * g.leased > due * low) {
            _flag(
                V_STREAM,
                string.concat(
                    "lease ",
                    vm.toString(id),
                    ": paid ",
                    vm.toString(paid),
                    " of ",
                    vm.toString(due),
                    " above the lower sample ",
                    vm.toString(low)
                )
            );
        }
        g.paidBound += due * low / g.leased;
        if (l.streamedTo != before.streamedTo) {
            if (before.streamedTo == l.start && l.mode == ISOLATED && paid != 0) {
                // A first isolated stream: did it find its backing later than the start (a slash decided after the fill)?
                uint256 after_ = uint256(manager.getPoolState(l.poolId).slashPendingUntil) + 1;
                if (after_ > l.start) ++postponedStarts;
            }
            g.prevProvided = provided;
        }
        if (refunded != 0 && paid != 0) ++shortfallStreams;
        address token = address(_cfg.tokens[g.tokenIndex]);
        railIn[token] += paid;
        if (paid != 0) ++payments[token];
        ghostCredits[_cfg.admins[g.avsIndex % 2]][token] += refunded;
    }

    function warp(uint256 secs) external {
        vm.warp(block.timestamp + _bound(secs, 1, 5 days));
        _ok(A_WARP);
    }

    /// @notice Time moves to just past a lease's end (if it ends within MAX_JUMP), or by up to a day.
    function warpPastLeaseEnd(uint256 leaseSeed, uint256 extra) external {
        uint256 to = block.timestamp + _bound(extra, 1, 1 days);
        if (_leases.length != 0) {
            uint256 end = _leases[leaseSeed % _leases.length].end;
            if (end >= block.timestamp && end <= block.timestamp + MAX_JUMP) to = end + extra % 2 days;
        }
        vm.warp(to);
        _ok(A_WARP_END);
    }

    // ================================================================== slashes

    /// @notice A lessee AVS's module slashes its lease's pool: a quarter of the time all of its backing.
    function slash(uint256 leaseSeed, uint256 fractionSeed) external {
        if (_leases.length == 0) return _skip(A_SLASH);
        LeaseGhost storage g = _leases[leaseSeed % _leases.length];
        uint64 fraction = fractionSeed % 4 == 0 ? uint64(WAD) : uint64(_bound(fractionSeed, 1, 0.6e18));
        _checkedSlash(A_SLASH, g.poolIndex, g.avsIndex, fraction, 0);
    }

    /// @notice The rival (vetoable, shared) requests a slash of a pool it backs, a quarter of the time of all of its
    /// backing. If a full slash reset its allocation, the desk first gives it the pool's whole shared stake again.
    function rivalRequest(uint256 poolSeed, uint256 fractionSeed) external {
        uint256 pi = poolSeed % 4;
        uint256 poolId = _cfg.pools[pi];
        IAllocationManager.Allocation memory al = manager.getAllocation(poolId, _cfg.rival);
        if (al.current == 0 && al.pending == 0) {
            vm.prank(_cfg.owners[pi / 2]);
            try _cfg.desks[pi / 2].allocate(poolId, _cfg.rival, SHARED, uint64(WAD)) {
                _ok(A_RIVAL_REQUEST);
            } catch (bytes memory reason) {
                _refused(A_RIVAL_REQUEST, reason);
            }
            return;
        }
        if (_requests.length >= MAX_REQUESTS) return _skip(A_RIVAL_REQUEST);
        uint64 fraction = fractionSeed % 4 == 0 ? uint64(WAD) : uint64(_bound(fractionSeed, 1, 0.6e18));
        vm.prank(_cfg.rivalModule);
        try manager.requestSlash(_cfg.rival, poolId, fraction) returns (uint64 id) {
            _requests.push(id);
            _ok(A_RIVAL_REQUEST);
        } catch (bytes memory reason) {
            _refused(A_RIVAL_REQUEST, reason);
        }
    }

    /// @notice The rival's resolver vetoes a request (a third of the time), or its module executes it (moving time to
    /// its veto window's end half of the time it is early).
    function rivalResolve(uint256 seed) external {
        uint256 n = _requests.length;
        if (n == 0) return _skip(A_RIVAL_RESOLVE);
        // Mostly a request still pending and not expired (the next from a random start); any one otherwise.
        uint256 i = seed % n;
        uint256 window = manager.executionWindow();
        for (uint256 j; j < n && (seed >> 24) % 4 != 0; ++j) {
            IAllocationManager.Request memory q = manager.getRequest(_requests[(i + j) % n]);
            if (q.status == IAllocationManager.RequestStatus.Pending && block.timestamp <= q.executableAt + window) {
                i = (i + j) % n;
                break;
            }
        }
        uint64 id = _requests[i];
        IAllocationManager.Request memory r = manager.getRequest(id);
        if ((seed >> 8) % 3 == 0) {
            vm.prank(_cfg.resolver);
            try manager.vetoSlash(id) {
                _ok(A_RIVAL_RESOLVE);
            } catch (bytes memory reason) {
                _refused(A_RIVAL_RESOLVE, reason);
            }
            return;
        }
        if (block.timestamp < r.executableAt && (seed >> 16) % 2 == 0) vm.warp(r.executableAt);
        _checkedSlash(A_RIVAL_RESOLVE, _poolIndex(r.poolId), 4, 0, id);
    }

    struct SlashSnap {
        uint256 poolId;
        uint32 generation;
        uint256[5] backing;
        bool[5] isolated;
        bool slasherShared;
    }

    /// @dev A slash (`requestId` 0: instant by lessee `ai`; else the rival's execution) with isolation checked: no
    /// other AVS's isolated backing on the pool falls. A full slash is recorded for the pool's leases; every live
    /// lease's allocation floor on the pool follows what the slash left.
    function _checkedSlash(uint256 action, uint256 pi, uint256 ai, uint64 fraction, uint64 requestId) internal {
        SlashSnap memory s = _slashSnap(pi, ai);
        bool done;
        bytes memory reason;
        if (requestId == 0) {
            vm.prank(_cfg.modules[ai]);
            try manager.slash(_cfg.avsIds[ai], s.poolId, fraction) {
                done = true;
            } catch (bytes memory err) {
                reason = err;
            }
        } else {
            vm.prank(_cfg.rivalModule);
            try manager.executeSlash(requestId) {
                done = true;
            } catch (bytes memory err) {
                reason = err;
            }
        }
        if (!done) return _refused(action, reason);
        _ok(action);
        _afterSlash(s, ai);
    }

    function _slashSnap(uint256 pi, uint256 ai) internal view returns (SlashSnap memory s) {
        s.poolId = _cfg.pools[pi];
        (, s.generation,) = vault.poolKey(s.poolId);
        for (uint256 a; a < 5; ++a) {
            uint32 avsId = a == 4 ? _cfg.rival : _cfg.avsIds[a];
            IAllocationManager.Allocation memory al = manager.getAllocation(s.poolId, avsId);
            if (a == ai) s.slasherShared = al.mode == SHARED;
            if (al.mode != ISOLATED) continue;
            s.isolated[a] = true;
            s.backing[a] = manager.slashableBacking(avsId, s.poolId);
        }
    }

    function _afterSlash(SlashSnap memory s, uint256 ai) internal {
        (, uint32 generation,) = vault.poolKey(s.poolId);
        bool neighbour;
        for (uint256 a; a < 5; ++a) {
            if (a == ai || !s.isolated[a]) continue;
            if (s.backing[a] != 0) neighbour = true;
            uint256 now_ = manager.slashableBacking(a == 4 ? _cfg.rival : _cfg.avsIds[a], s.poolId);
            if (now_ < s.backing[a]) {
                _flag(
                    V_ISOLATION,
                    string.concat(
                        "AVS #",
                        vm.toString(ai),
                        " slashed pool ",
                        vm.toString(s.poolId),
                        ": isolated AVS #",
                        vm.toString(a),
                        " backing ",
                        vm.toString(s.backing[a]),
                        " -> ",
                        vm.toString(now_)
                    )
                );
            }
        }
        if (neighbour && s.slasherShared) ++sharedSlashesNextToIsolated;
        if (generation != s.generation) ++fullSlashes;
        for (uint256 i; i < _leases.length; ++i) {
            LeaseGhost storage g = _leases[i];
            if (_cfg.pools[g.poolIndex] != s.poolId || g.fullySlashed) continue;
            if (generation != g.generation) {
                (g.fullySlashed, g.paidAtFullSlash) = (true, market.leases(i + 1).paid);
                continue;
            }
            if (block.timestamp < g.end) _lowerFloor(g);
        }
    }

    /// @dev What a slash of the pool may leave of a live lease's allocation: its own cut, and for an isolated increase
    /// not settled yet (still in the shared stake), the clip to the shared stake left when it settles.
    function _lowerFloor(LeaseGhost storage g) internal {
        uint256 poolId = _cfg.pools[g.poolIndex];
        uint32 avsId = _cfg.avsIds[g.avsIndex];
        IAllocationManager.Allocation memory al = manager.getAllocation(poolId, avsId);
        uint256 floor_ = al.pending;
        IAllocationManager.PoolState memory st = manager.getPoolState(poolId);
        if (al.mode == ISOLATED && st.pendingIsolated != 0 && st.pendingIsolatedAvs == avsId) {
            floor_ = Math.min(floor_, al.current + Math.min(st.pendingIsolated, st.totalWeight - st.isolatedWeight));
        }
        if (floor_ < g.weightFloor) g.weightFloor = uint96(floor_);
    }

    // ================================================================== the desk's owner against its holds

    /// @notice The owner of a lease's desk tries to lower the leased pair's allocation to zero, or (a quarter of the
    /// time) to opt out of the AVS. While any lease of the desk with the AVS runs (the ghost's latest end) it must be
    /// refused with `LeaseHoldsAVS` naming that end; afterwards it may go through (freeing the pair for a new lease).
    /// An owner that left the AVS opts back in.
    function deskLowers(uint256 leaseSeed, uint256 flags) external {
        if (_leases.length == 0) return _skip(A_LOWER);
        LeaseGhost storage g = _leases[leaseSeed % _leases.length];
        uint256 di = g.poolIndex / 2;
        OperatorDesk desk = _cfg.desks[di];
        uint32 avsId = _cfg.avsIds[g.avsIndex];
        uint48 held = heldUntil[di][g.avsIndex];
        bool isHeld = block.timestamp < held;
        vm.startPrank(_cfg.owners[di]);
        bool done;
        bytes memory reason;
        if (!manager.membership(avsId, address(desk)).optedIn) {
            try desk.optIn(avsId) {
                done = true;
            } catch (bytes memory err) {
                reason = err;
            }
            vm.stopPrank();
            if (done) return _ok(A_LOWER);
            return _refused(A_LOWER, reason);
        }
        if (flags % 4 == 0) {
            try desk.optOut(avsId) {
                done = true;
            } catch (bytes memory err) {
                reason = err;
            }
        } else {
            uint256 poolId = _cfg.pools[g.poolIndex];
            IAllocationManager.Mode mode = manager.getAllocation(poolId, avsId).mode;
            try desk.allocate(poolId, avsId, mode == NONE ? SHARED : mode, 0) {
                done = true;
            } catch (bytes memory err) {
                reason = err;
            }
        }
        vm.stopPrank();
        if (done) {
            if (isHeld) {
                _flag(
                    V_EARLY_LOWER,
                    string.concat("desk ", vm.toString(di), " lowered or left AVS #", vm.toString(g.avsIndex))
                );
            }
            return _ok(A_LOWER);
        }
        if (bytes4(reason) == IOperatorDesk.LeaseHoldsAVS.selector) {
            uint256 until = _word(reason, 1);
            if (!isHeld || until != held) {
                _flag(
                    V_HOLD,
                    string.concat("LeaseHoldsAVS until ", vm.toString(until), ", leases end ", vm.toString(held))
                );
            }
            ++holdRefusals;
            ++_outcomes[A_LOWER].refused;
            return;
        }
        if (isHeld) _flag(V_HOLD, string.concat("held, refused otherwise: ", vm.toString(reason)));
        _refused(A_LOWER, reason);
    }

    /// @notice A desk's owner queues a commission change on one of its pools (0 to 50%, after the rail's delay).
    function setCommission(uint256 poolSeed, uint256 bps) external {
        uint256 pi = poolSeed % 4;
        vm.prank(_cfg.owners[pi / 2]);
        try _cfg.desks[pi / 2].setCommission(_cfg.pools[pi], uint16(_bound(bps, 0, 5000))) {
            _ok(A_SET_COMMISSION);
        } catch (bytes memory reason) {
            _refused(A_SET_COMMISSION, reason);
        }
    }

    // ================================================================== stakers, claims, credits

    function deposit(uint256 stakerSeed, uint256 poolSeed, uint256 amount) external {
        address staker = _cfg.stakers[stakerSeed % 3];
        uint256 pi = poolSeed % 4;
        MockERC20 token = _cfg.tokens[pi % 2];
        amount = pi % 2 == 0 ? _bound(amount, 1e15, 200 ether) : _bound(amount, 1e5, 10e8);
        _mint(token, staker, amount);
        vm.startPrank(staker);
        token.approve(address(vault), amount);
        try vault.deposit(address(_cfg.desks[pi / 2]), address(token), amount) {
            _ok(A_DEPOSIT);
        } catch (bytes memory reason) {
            _refused(A_DEPOSIT, reason);
        }
        vm.stopPrank();
    }

    function queueWithdrawal(uint256 stakerSeed, uint256 poolSeed, uint256 sharesSeed) external {
        if (_withdrawals.length >= MAX_WITHDRAWALS) return _skip(A_QUEUE);
        address staker = _cfg.stakers[stakerSeed % 3];
        uint256 poolId = _cfg.pools[poolSeed % 4];
        (uint256 held,) = vault.positionOf(poolId, staker);
        if (held == 0) return _skip(A_QUEUE);
        uint256 shares = sharesSeed % 3 == 0 ? held : _bound(sharesSeed, 1, held);
        vm.prank(staker);
        try vault.queueWithdrawal(poolId, shares) returns (uint256 id) {
            _withdrawals.push(id);
            _ok(A_QUEUE);
        } catch (bytes memory reason) {
            _refused(A_QUEUE, reason);
        }
    }

    function completeWithdrawal(uint256 seed) external {
        uint256 n = _withdrawals.length;
        if (n == 0) return _skip(A_COMPLETE);
        // Mostly one that matured and is unclaimed; any one otherwise (NotMatured, AlreadyClaimed).
        uint256 i = seed % n;
        for (uint256 j; j < n && (seed >> 8) % 4 != 0; ++j) {
            IStakeVault.WithdrawalView memory w = vault.getWithdrawal(_withdrawals[i]);
            if (w.matured && !w.claimed) break;
            i = (i + 1) % n;
        }
        uint256 id = _withdrawals[i];
        address staker = vault.getWithdrawal(id).staker;
        vm.prank(staker);
        try vault.completeWithdrawal(id, staker) {
            _ok(A_COMPLETE);
        } catch (bytes memory reason) {
            _refused(A_COMPLETE, reason);
        }
    }

    function claimRewards(uint256 stakerSeed, uint256 poolSeed) external {
        address staker = _cfg.stakers[stakerSeed % 3];
        uint256 pi = poolSeed % 4;
        // Mostly a pool where the staker has something to claim; any one otherwise (NothingToClaim, RewardsOff).
        for (uint256 j; j < 4 && (poolSeed >> 8) % 4 != 0 && rail.claimable(_cfg.pools[pi], staker) == 0; ++j) {
            pi = (pi + 1) % 4;
        }
        uint256 shown = rail.claimable(_cfg.pools[pi], staker);
        vm.prank(staker);
        try rail.claim(_cfg.pools[pi], staker) returns (uint256 amount) {
            if (amount != shown) _flag(V_CLAIM, "a claim paid other than claimable");
            railOut[address(_cfg.tokens[pi % 2])] += amount;
            _ok(A_CLAIM);
        } catch (bytes memory reason) {
            _refused(A_CLAIM, reason);
        }
    }

    function claimEscrow(uint256 seed) external {
        uint256 n = _withdrawals.length;
        if (n == 0) return _skip(A_CLAIM_ESCROW);
        uint256 i = seed % n;
        for (uint256 j; j < n && (seed >> 8) % 4 != 0 && rail.claimableEscrow(_withdrawals[i]) == 0; ++j) {
            i = (i + 1) % n;
        }
        uint256 id = _withdrawals[i];
        IStakeVault.WithdrawalView memory w = vault.getWithdrawal(id);
        uint256 shown = rail.claimableEscrow(id);
        vm.prank(w.staker);
        try rail.claimEscrow(id, w.staker) returns (uint256 amount) {
            if (amount != shown) _flag(V_CLAIM, "an escrow claim paid other than claimableEscrow");
            railOut[w.asset] += amount;
            _ok(A_CLAIM_ESCROW);
        } catch (bytes memory reason) {
            _refused(A_CLAIM_ESCROW, reason);
        }
    }

    function claimCommission(uint256 deskSeed, uint256 tokenSeed) external {
        uint256 di = deskSeed % 2;
        address token = address(_cfg.tokens[tokenSeed % 2]);
        for (
            uint256 j;
            j < 4 && (deskSeed >> 8) % 4 != 0 && rail.commissionOwed(address(_cfg.desks[di]), token) == 0;
            ++j
        ) {
            (di, token) = (j % 2 == 0 ? 1 - di : di, j % 2 == 1 ? _other(token) : token);
        }
        uint256 shown = rail.commissionOwed(address(_cfg.desks[di]), token);
        vm.prank(_cfg.owners[di]);
        try _cfg.desks[di].claimCommission(token, _cfg.owners[di]) returns (uint256 amount) {
            if (amount != shown) _flag(V_CLAIM, "a commission claim paid other than owed");
            railOut[token] += amount;
            _ok(A_COMMISSION);
        } catch (bytes memory reason) {
            _refused(A_COMMISSION, reason);
        }
    }

    function withdrawCredits(uint256 adminSeed, uint256 tokenSeed) external {
        address admin = _cfg.admins[adminSeed % 2];
        address token = address(_cfg.tokens[tokenSeed % 2]);
        for (uint256 j; j < 4 && (adminSeed >> 8) % 4 != 0 && market.credits(admin, token) == 0; ++j) {
            (admin, token) = (j % 2 == 0 ? _otherAdmin(admin) : admin, j % 2 == 1 ? _other(token) : token);
        }
        vm.prank(admin);
        try market.withdraw(token, admin) returns (uint256 amount) {
            if (amount != ghostCredits[admin][token]) _flag(V_CLAIM, "a credit withdrawal paid other than credited");
            ghostCredits[admin][token] = 0;
            withdrawn[admin][token] += amount;
            _ok(A_WITHDRAW);
        } catch (bytes memory reason) {
            _refused(A_WITHDRAW, reason);
        }
    }

    // ================================================================== views for the suite

    /// @notice Every ghost ledger in one read (the suite checks after every call: one call, not dozens).
    struct Ledger {
        uint256[2][2] sent; // [admin][token]
        uint256[2][2] withdrawn;
        uint256[2][2] funded;
        uint256[2][2] credits;
        uint256[2] minted; // [token]
        uint256[2] railIn;
        uint256[2] railOut;
        uint256[2] payments;
        uint256[N_VIOLATIONS] violations;
        uint256[] withdrawals;
    }

    function ledger() external view returns (Ledger memory l) {
        for (uint256 t; t < 2; ++t) {
            address token = address(_cfg.tokens[t]);
            for (uint256 a; a < 2; ++a) {
                address admin = _cfg.admins[a];
                l.sent[a][t] = sent[admin][token];
                l.withdrawn[a][t] = withdrawn[admin][token];
                l.funded[a][t] = funded[admin][token];
                l.credits[a][t] = ghostCredits[admin][token];
            }
            (l.minted[t], l.railIn[t], l.railOut[t], l.payments[t]) =
            (minted[token], railIn[token], railOut[token], payments[token]);
        }
        l.violations = violations;
        l.withdrawals = _withdrawals;
    }

    function outcome(uint256 action) external view returns (Outcome memory) {
        return _outcomes[action];
    }

    function refusals() external view returns (Refusal[] memory list, uint256[] memory counts) {
        list = _refusals;
        counts = new uint256[](list.length);
        for (uint256 i; i < list.length; ++i) {
            counts[i] = _refusalCount[list[i].action][list[i].selector];
        }
    }

    function firstViolation(uint256 kind) external view returns (string memory) {
        return _firstViolation[kind];
    }

    function leaseCount() external view returns (uint256) {
        return _leases.length;
    }

    function bids() external view returns (BidGhost[] memory) {
        return _bids;
    }

    function leases() external view returns (LeaseGhost[] memory) {
        return _leases;
    }

    // ================================================================== internals

    /// @dev An open bid, the next from a random start (0 if none); any one when `any` (maybe a closed one).
    function _pickBid(uint256 seed, bool any) internal view returns (uint256) {
        uint256 n = _bids.length;
        uint256 i = seed % n;
        if (any) return i + 1;
        for (uint256 j; j < n; ++j) {
            if (_bids[(i + j) % n].escrow != 0) return (i + j) % n + 1;
        }
        return 0;
    }

    /// @dev An open ask that can match the bid (its pool's asset and mode, price, term), from a random start; one
    /// posted on a pool of the bid's asset if none is open.
    function _matchingAsk(ISecurityMarket.Bid memory b, uint256 seed) internal returns (uint256) {
        uint256 ti = b.asset == address(_cfg.tokens[0]) ? 0 : 1;
        uint256 n = _asks.length;
        for (uint256 j; j < n; ++j) {
            uint256 i = (seed % n + j) % n;
            AskGhost storage k = _asks[i];
            if (
                k.poolIndex % 2 == ti && k.mode == b.mode && k.minPriceBps <= b.maxPriceBps && k.maxTerm >= b.term
                    && market.asks(i + 1).capacity != 0
            ) return i + 1;
        }
        uint256 pi = ti + 2 * ((seed >> 64) % 2);
        uint32 minPrice = uint32(_bound(seed >> 96, 1, b.maxPriceBps));
        uint256 capacity = (seed >> 128) % 2 == 0 ? b.backing : _part(2 * uint256(b.backing) + 1, seed >> 129);
        return _postAsk(pi, uint128(Math.max(1, capacity)), b.mode, minPrice, 730 days);
    }

    /// @dev A part of `whole`: a random share of it in thousandths, and 1 in 16 a dust amount (at most 1,000 units).
    function _part(uint256 whole, uint256 seed) internal pure returns (uint256) {
        if (seed % 16 == 3) return _bound(seed >> 8, 1, Math.min(whole, 1000));
        return Math.max(1, whole * _bound(seed >> 8, 1, 1000) / 1000);
    }

    function _other(address token) internal view returns (address) {
        return token == address(_cfg.tokens[0]) ? address(_cfg.tokens[1]) : address(_cfg.tokens[0]);
    }

    function _otherAdmin(address admin) internal view returns (address) {
        return admin == _cfg.admins[0] ? _cfg.admins[1] : _cfg.admins[0];
    }

    function _capacity(uint256 pi, uint256 seed) internal pure returns (uint128) {
        return uint128(pi % 2 == 0 ? _bound(seed, 1e15, 500 ether) : _bound(seed, 1e4, 30e8));
    }

    function _poolIndex(uint256 poolId) internal view returns (uint256 pi) {
        for (; pi < 4; ++pi) {
            if (_cfg.pools[pi] == poolId) return pi;
        }
        revert("unknown pool");
    }

    function _escrowOf(uint256 backing, uint256 priceBps, uint256 term) internal pure returns (uint256) {
        return Math.mulDiv(backing * priceBps, term, BPS * YEAR, Math.Rounding.Ceil);
    }

    function _mint(MockERC20 token, address to, uint256 amount) internal {
        token.mint(to, amount);
        minted[address(token)] += amount;
    }

    /// @dev The `i`-th word of a custom error's arguments.
    function _word(bytes memory reason, uint256 i) internal pure returns (uint256 v) {
        if (reason.length < 4 + 32 * (i + 1)) return type(uint256).max;
        assembly ("memory-safe") {
            v := mload(add(add(reason, 36), mul(i, 32)))
        }
    }

    function _ok(uint256 action) internal {
        ++_outcomes[action].ok;
    }

    function _skip(uint256 action) internal {
        ++_outcomes[action].skipped;
    }

    function _refused(uint256 action, bytes memory reason) internal {
        bytes4 selector = bytes4(reason);
        if (_refusalCount[action][selector]++ == 0) _refusals.push(Refusal(action, selector));
        if (reason.length < 4 || !_expected[action][selector]) {
            _flag(
                V_REFUSAL, string.concat("action ", vm.toString(action), " refused unexpectedly: ", vm.toString(reason))
            );
        }
        ++_outcomes[action].refused;
    }

    function _flag(uint256 kind, string memory what) internal {
        if (violations[kind]++ == 0) _firstViolation[kind] = what;
    }

    /// @dev The refusals each action may meet, by name.
    function _expectations() internal {
        _allow(A_BID, ISecurityMarket.InvalidPrice.selector);
        _allow(A_BID, ISecurityMarket.InvalidTerm.selector);
        _allow(A_ASK, ISecurityMarket.InvalidPrice.selector);
        _allow(A_CANCEL_BID, ISecurityMarket.OrderClosed.selector);
        _allow(A_CANCEL_BID, ISecurityMarket.NotAVSAdmin.selector);
        _allow(A_CANCEL_ASK, ISecurityMarket.OrderClosed.selector);
        _allow(A_CANCEL_ASK, ISecurityMarket.NotDeskOwner.selector);
        bytes4[19] memory fills = [
            ISecurityMarket.OrderClosed.selector,
            ISecurityMarket.NotOrderOwner.selector,
            ISecurityMarket.ModeMismatch.selector, // the manager's has the same selector
            ISecurityMarket.AssetMismatch.selector,
            ISecurityMarket.TermTooLong.selector,
            ISecurityMarket.PriceMismatch.selector,
            ISecurityMarket.AmountAboveOrder.selector,
            ISecurityMarket.BackingAbovePool.selector,
            ISecurityMarket.PremiumTooSmall.selector,
            ISecurityMarket.ZeroAmount.selector,
            IOperatorDesk.PairAllocated.selector,
            IOperatorDesk.SharedLeaseHoldsPool.selector,
            IAllocationManager.PendingChange.selector,
            IAllocationManager.IsolatedIncreasePending.selector,
            IAllocationManager.IsolatedOverCommitted.selector,
            IAllocationManager.ReuseCapExceeded.selector,
            IAllocationManager.NotOptedIn.selector,
            IAllocationManager.NoChange.selector,
            IAllocationManager.InvalidFraction.selector
        ];
        for (uint256 i; i < fills.length; ++i) {
            _allow(A_FILL, fills[i]);
        }
        _allow(A_STREAM, ISecurityMarket.LeaseEnded.selector);
        _allow(A_SLASH, IAllocationManager.NotSlashable.selector);
        _allow(A_RIVAL_REQUEST, IAllocationManager.NotSlashable.selector);
        _allow(A_RIVAL_REQUEST, IAllocationManager.ReuseCapExceeded.selector);
        _allow(A_RIVAL_REQUEST, IAllocationManager.PendingChange.selector);
        _allow(A_RIVAL_REQUEST, IAllocationManager.NoChange.selector);
        _allow(A_RIVAL_REQUEST, IAllocationManager.NotOptedIn.selector);
        _allow(A_RIVAL_RESOLVE, IAllocationManager.VetoWindowClosed.selector);
        _allow(A_RIVAL_RESOLVE, IAllocationManager.VetoWindowOpen.selector);
        _allow(A_RIVAL_RESOLVE, IAllocationManager.RequestExpired.selector);
        _allow(A_RIVAL_RESOLVE, IAllocationManager.RequestNotPending.selector);
        _allow(A_RIVAL_RESOLVE, IAllocationManager.NotSlashable.selector);
        _allow(A_DEPOSIT, IStakeVault.PoolPriceTooLow.selector);
        _allow(A_DEPOSIT, IStakeVault.DepositTooSmall.selector);
        _allow(A_QUEUE, IStakeVault.ZeroAmount.selector);
        _allow(A_COMPLETE, IStakeVault.NotMatured.selector);
        _allow(A_COMPLETE, IStakeVault.AlreadyClaimed.selector);
        _allow(A_CLAIM, IRewardRail.NothingToClaim.selector);
        _allow(A_CLAIM, IRewardRail.RewardsOff.selector);
        _allow(A_CLAIM_ESCROW, IRewardRail.NothingToClaim.selector);
        _allow(A_CLAIM_ESCROW, IRewardRail.RewardsOff.selector);
        _allow(A_COMMISSION, IRewardRail.NothingToClaim.selector);
        _allow(A_WITHDRAW, ISecurityMarket.NothingToWithdraw.selector);
        _allow(A_LOWER, IAllocationManager.PendingChange.selector);
        _allow(A_LOWER, IAllocationManager.NoChange.selector);
        _allow(A_LOWER, IAllocationManager.NotOptedIn.selector);
        _allow(A_LOWER, IAllocationManager.ModeMismatch.selector);
        // The desk refuses any isolated change (a decrease too) on a pool with a running shared lease: see
        // MarketReview3 `test_anIsolatedDecreaseWaitsWhileASharedLeaseRunsOnThePool`.
        _allow(A_LOWER, IOperatorDesk.SharedLeaseHoldsPool.selector);
    }

    function _allow(uint256 action, bytes4 selector) internal {
        _expected[action][selector] = true;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {AllocationManager} from "../../../contracts/AllocationManager.sol";
import {IAllocationManager} from "../../../contracts/interfaces/IAllocationManager.sol";
import {IStakeVault} from "../../../contracts/interfaces/IStakeVault.sol";
import {StakeVault} from "../../../contracts/StakeVault.sol";
import {CommitteeSlasher} from "../../../contracts/modules/CommitteeSlasher.sol";
import {MockERC20} from "../../mocks/MockERC20.sol";

/// @notice Drives the isolation layer (AllocationManager over StakeVault) for IsolationInvariantsTest.
/// Actors: stakers (deposit, queue, claim), operators (allocate, deallocate, opt out / in), two instant AVS modules
/// (slash), two vetoable AVS modules (requestSlash, executeSlash), their resolvers (veto), governance (cascade guard)
/// and time (warp 0-2 days). Pool `TIER` is a tier over pool `TIER_BASE`: its deposits move base shares in, its claims
/// and slashes pay base shares out. AVS 3's module is a `CommitteeSlasher` (three members, quorum two): its members
/// propose and vote (announcing the slash before the quorum, filing the request at it) between everything else.
/// P2's race is played on purpose (`isolateThenRequest`), and every request's decided amount is recorded when it is
/// filed and checked at its first execution (`_recordDecision`, `_checkDecided`).
/// @dev Every action bounds its inputs and returns early on states where the call would legitimately revert, so the
/// campaign runs with fail_on_revert. Calls that MUST revert (executing a vetoed, expired or early request, a late or
/// foreign veto, an instant slash by a veto AVS) are attempted under try/catch and a success is recorded as a
/// violation. Every slash is checked at the moment it happens against a before/after snapshot of every (pool, AVS)
/// backing, every pool's value, the sink and the vault balance, and every escrowed withdrawal of the slashed pool.
/// The invariant contract asserts the violation counters are zero.
contract IsolationHandler is Test {
    /// @dev The pool's reuse cap in bps as enforced (`poolRisk` gives it in WAD: exact, 1 bps = 1e14).
    function _reuseCapBps(uint256 poolId) internal view returns (uint256) {
        return manager.poolRisk(poolId).reuseCapWad / 1e14;
    }

    uint256 internal constant NP = 4; // pools
    uint256 public constant TIER = 3; // a tier over pool TIER_BASE
    uint256 public constant TIER_BASE = 0;
    uint256 public constant COMMITTEE = 3; // AVS 3 slashes through a CommitteeSlasher
    uint256 internal constant NA = 4; // AVSs: 0-1 instant, 2-3 vetoable
    uint256 internal constant WAD = 1e18;

    // ------------------------------------------------------------------ violation kinds
    uint256 public constant V_ISOLATION = 0; // another AVS's isolated backing fell
    uint256 public constant V_ELASTIC = 1; // a shared backing fell below min(limit, shared stake after)
    uint256 public constant V_UNTOUCHED = 2; // a pool other than the slashed one changed
    uint256 public constant V_ABOVE_BACKING = 3; // amount > backing before x fraction
    uint256 public constant V_SLASH_ACCOUNTING = 4; // amount != sink receipt / vault outflow / value drop
    uint256 public constant V_REUSE = 5; // a successful allocation increase left the pool over its reuse cap
    uint256 public constant V_ESCROW = 6; // an escrowed withdrawal did not fall with the share price
    uint256 public constant V_VETOED_EXECUTED = 7;
    uint256 public constant V_EXPIRED_EXECUTED = 8;
    uint256 public constant V_EARLY_EXECUTED = 9;
    uint256 public constant V_DOUBLE_EXECUTED = 10;
    uint256 public constant V_UNSLASHABLE_EXECUTED = 11;
    uint256 public constant V_LATE_VETO = 12; // veto after the window (or of a non-pending request) went through
    uint256 public constant V_FOREIGN_VETO = 13; // someone other than the AVS's resolver vetoed
    uint256 public constant V_VETO_BYPASS = 14; // a vetoable AVS slashed instantly
    uint256 public constant V_CLAIM = 15; // a claim paid other than its shown value
    uint256 public constant V_OVERCOMMIT = 16; // Σ isolated + a shared backing of a pool exceed its value
    uint256 public constant V_DEPOSIT_REFUSED = 17; // an ordinary deposit into an existing pool was refused
    uint256 public constant V_GUARD_SPAN = 18; // a span of one guard window lost more than the guard's fraction
    uint256 public constant V_STRANGER = 19; // a stranger slashed, requested, announced or lowered a backing
    uint256 public constant V_EXPOSURE = 20; // an isolated AVS's claim per share rose through another AVS's slash
    uint256 public constant V_ANNOUNCE = 21; // a committee vote before the quorum did not delay isolated increases
    uint256 public constant V_ESCAPED = 22; // a request took less than was decided when it was filed
    uint256 public constant N_VIOLATIONS = 23;

    struct AvsConfig {
        uint32 id;
        address module;
        address sink;
        address resolver; // zero for instant AVSs
        uint64 maxSlashWad;
    }

    /// @dev Everything a slash may (or may not) touch, read through public views.
    struct Snap {
        uint256[NP] value;
        uint256[NP] collateral; // in the pool's collateral: base shares for the tier
        uint256[NP] shares;
        uint32[NP] generation;
        uint256[NA][NP] backing;
        uint256[NA][NP] limit; // the allocation's weight in assets, weight · V / W (not capped by the shared stake)
        bool[NA][NP] live; // the pool's operator is slashable by the AVS
        IAllocationManager.Mode[NA][NP] mode;
    }

    /// @dev Unmatured withdrawals of the slashed pool and their values before the slash.
    struct EscrowSnap {
        uint256[] ids;
        uint256[] values;
    }

    struct Counts {
        uint256 deposits;
        uint256 tierDeposits;
        uint256 tierSlashes;
        uint256 queued;
        uint256 claims;
        uint256 zeroClaims;
        uint256 allocIncreases;
        uint256 allocDecreases;
        uint256 allocRefused;
        uint256 optIns;
        uint256 optOuts;
        uint256 slashes; // instant + executed
        uint256 slashesNonZero;
        uint256 isolatedSlashes;
        uint256 sharedSlashes;
        uint256 guardCuts;
        uint256 fullSlashes;
        uint256 escrowChecked;
        uint256 requests;
        uint256 executed;
        uint256 vetoes;
        uint256 vetoedAttempts;
        uint256 expiredAttempts;
        uint256 earlyAttempts;
        uint256 doubleAttempts;
        uint256 lateVetoAttempts;
        uint256 foreignVetoAttempts;
        uint256 bypassAttempts;
        uint256 guardChanges;
        uint256 strangerActs;
        uint256 proposals;
        uint256 votes;
        uint256 quorums;
        uint256 decidedChecked; // first executions of requests with no other slash on their pool since they were filed
        uint256 warps;
        uint256 skips;
    }

    AllocationManager public immutable manager;
    StakeVault public immutable vault;
    address public immutable governance;
    uint48 internal immutable executionWindow;

    uint256[NP] public pools;
    address[NP] public poolOperator;
    MockERC20[NP] public poolAsset;
    AvsConfig[NA] internal _avs;
    address[] internal _stakers;
    address[] internal _operators;
    address[] public committeeMembers;

    // ------------------------------------------------------------------ ghost ledger
    mapping(address token => uint256) public ghostDeposited;
    mapping(address token => uint256) public ghostClaimed;
    mapping(address token => uint256) public ghostSlashed;

    uint256[] internal _open; // unclaimed withdrawal ids
    uint64[] internal _requests;
    uint64[] internal _executedIds;
    mapping(uint64 requestId => bool) public ghostVetoed;
    mapping(uint64 requestId => bool) public ghostExecuted;

    /// @dev P2: what a request may take at the least, as decided when it was filed (see `_recordDecision`).
    struct Decision {
        uint256 floor; // the backing at the request, less what was already leaving before its last executable second
        uint64 fractionWad;
        uint8 pi;
        bool done; // executed once (checked), or another slash hit the pool since: nothing more to check
    }

    mapping(uint64 requestId => Decision) internal _decided;

    uint256[N_VIOLATIONS] public violations;
    /// @dev The first violation of each kind, described.
    mapping(uint256 kind => string) public firstViolation;
    Counts internal _c;

    constructor(
        AllocationManager manager_,
        StakeVault vault_,
        address governance_,
        address[] memory stakers_,
        address[] memory operators_
    ) {
        manager = manager_;
        vault = vault_;
        governance = governance_;
        executionWindow = manager_.executionWindow();
        _stakers = stakers_;
        _operators = operators_;
    }

    // ================================================================== stakers

    /// @notice A staker deposits a log-uniform amount (1e-6 to 1e6 whole tokens) into a pool.
    function deposit(uint256 stakerSeed, uint256 poolSeed, uint256 amountSeed) external {
        uint256 pi = poolSeed % NP;
        uint256 unit = 10 ** poolAsset[pi].decimals();
        uint256 e = 10 ** (amountSeed % 12);
        uint256 amount = _bound(amountSeed >> 8, unit * e / 1e6, unit * e * 10 / 1e6);
        _deposit(_stakers[stakerSeed % _stakers.length], pi, amount);
    }

    /// @notice A staker moves some or all of its base shares into the tier.
    function depositToTier(uint256 stakerSeed, uint256 sharesSeed) external {
        _depositToTier(_stakers[stakerSeed % _stakers.length], sharesSeed);
    }

    /// @notice An instant AVS slashes the tier (so that tier slashes are as frequent as base slashes).
    function slashTier(uint256 avsSeed, uint256 fractionSeed) external {
        uint256 ai = avsSeed % 2;
        if (!_slashable(ai, TIER)) ai = 1 - ai;
        if (!_slashable(ai, TIER)) return _skip();
        _checkedSlash(ai, TIER, _fraction(ai, TIER, fractionSeed), 0);
    }

    /// @notice A staker queues some or all of its shares of a pool.
    function queueWithdrawal(uint256 stakerSeed, uint256 poolSeed, uint256 sharesSeed) external {
        _queue(_stakers[stakerSeed % _stakers.length], poolSeed % NP, sharesSeed);
    }

    /// @notice A staker claims a matured withdrawal (the first matured one from a random start).
    function claimWithdrawal(uint256 seed) external {
        uint256 n = _open.length;
        for (uint256 k; k < n; ++k) {
            uint256 slot = (seed % n + k) % n;
            IStakeVault.WithdrawalView memory w = vault.getWithdrawal(_open[slot]);
            if (!w.matured) continue;
            bool tier = w.poolId == pools[TIER];
            // A tier pays base shares into the claimer's base position (a stale one restarts at zero).
            uint256 before = tier ? _sharesOf(w.staker, pools[TIER_BASE]) : MockERC20(w.asset).balanceOf(w.staker);
            vm.prank(w.staker);
            uint256 paid = vault.completeWithdrawal(w.id, w.staker);
            uint256 after_ = tier ? _sharesOf(w.staker, pools[TIER_BASE]) : MockERC20(w.asset).balanceOf(w.staker);
            if (paid != w.value || (after_ != before + paid && !(tier && after_ == paid))) {
                _flag(V_CLAIM, string.concat("claim paid ", vm.toString(paid), " shown ", vm.toString(w.value)));
            }
            if (!tier) ghostClaimed[w.asset] += paid;
            ++_c.claims;
            if (paid == 0) ++_c.zeroClaims;
            _open[slot] = _open[n - 1];
            _open.pop();
            return;
        }
        ++_c.skips;
    }

    // ================================================================== operators

    /// @notice The pool's operator sets its allocation to an AVS (20% of calls: the whole pool).
    function allocate(uint256 poolSeed, uint256 avsSeed, bool isolated, uint256 fractionSeed) external {
        uint64 fraction = fractionSeed % 5 == 0 ? uint64(WAD) : uint64(_bound(fractionSeed, 1, WAD));
        _allocate(
            poolSeed % NP,
            avsSeed % NA,
            isolated ? IAllocationManager.Mode.Isolated : IAllocationManager.Mode.Shared,
            fraction
        );
    }

    /// @notice The pool's operator lowers an allocation (a third of the time to zero).
    function deallocate(uint256 poolSeed, uint256 avsSeed, uint256 keepSeed) external {
        uint256 pi = poolSeed % NP;
        uint256 ai = avsSeed % NA;
        IAllocationManager.Allocation memory al = manager.getAllocation(pools[pi], _avs[ai].id);
        if (al.effectAt != 0 || al.current == 0) return _skip();
        // A shared limit can exceed the pool's total weight once other AVSs' slashes shrank it.
        uint256 maxFraction = Math.min(uint256(al.current) * WAD / manager.getPoolState(pools[pi]).totalWeight, WAD);
        uint64 fraction = keepSeed % 3 == 0 || maxFraction == 0 ? 0 : uint64(_bound(keepSeed, 0, maxFraction - 1));
        _allocate(pi, ai, al.mode, fraction);
    }

    /// @notice An operator leaves an AVS it is in, or joins one it is not in.
    function toggleOptIn(uint256 operatorSeed, uint256 avsSeed) external {
        address op = _operators[operatorSeed % _operators.length];
        uint32 avsId = _avs[avsSeed % NA].id;
        bool optedIn = manager.membership(avsId, op).optedIn;
        vm.prank(op);
        if (optedIn) {
            manager.optOut(avsId);
            ++_c.optOuts;
        } else {
            manager.optIn(avsId);
            ++_c.optIns;
        }
    }

    // ================================================================== AVS modules and resolvers

    /// @notice An instant AVS slashes a pool it can slash (see `_fraction` for the fractions it asks for).
    function slash(uint256 avsSeed, uint256 poolSeed, uint256 fractionSeed) external {
        (bool found, uint256 ai, uint256 pi) = _findSlashable(0, avsSeed, poolSeed, false);
        if (!found) return _skip();
        _checkedSlash(ai, pi, _fraction(ai, pi, fractionSeed), 0);
    }

    /// @notice A vetoable AVS files a slash request against a pool it backs; sometimes it first tries to slash
    /// instantly, which must revert.
    function requestSlash(uint256 avsSeed, uint256 poolSeed, uint256 fractionSeed) external {
        (bool found, uint256 ai, uint256 pi) = _findSlashable(2, avsSeed, poolSeed, true);
        if (!found) return _skip();
        uint64 fraction = _fraction(ai, pi, fractionSeed);
        AvsConfig memory cfg = _avs[ai];
        if (fractionSeed % 8 == 2) {
            ++_c.bypassAttempts;
            vm.prank(cfg.module);
            try manager.slash(cfg.id, pools[pi], fraction) returns (uint256 amount) {
                _flag(V_VETO_BYPASS, string.concat("veto AVS slashed instantly: ", vm.toString(amount)));
            } catch {}
        }
        vm.prank(cfg.module);
        uint64 id = manager.requestSlash(cfg.id, pools[pi], fraction);
        _requests.push(id);
        _recordDecision(id, ai, pi);
        ++_c.requests;
    }

    /// @notice P2's race: the pool's operator commits an isolated increase (due after the allocation delay, inside the
    /// request's execution window), then a vetoable AVS files a request on the pool. The increase must not settle
    /// while the request can execute (`invariant_decidedSlashesAreNotEscaped`).
    function isolateThenRequest(uint256 avsSeed, uint256 poolSeed, uint256 fractionSeed) external {
        (bool found, uint256 ai, uint256 pi) = _findSlashable(2, avsSeed, poolSeed, true);
        if (!found) return _skip();
        uint256 isoAvs = (fractionSeed >> 128) % 2; // an instant AVS: it never requests
        IAllocationManager.Allocation memory al = manager.getAllocation(pools[pi], _avs[isoAvs].id);
        if (al.mode != IAllocationManager.Mode.Shared) {
            uint256 total = manager.getPoolState(pools[pi]).totalWeight;
            uint256 now_ = Math.min(uint256(al.current) * WAD / total, WAD);
            if (now_ < WAD) {
                _allocate(pi, isoAvs, IAllocationManager.Mode.Isolated, uint64(_bound(fractionSeed, now_ + 1, WAD)));
            }
        }
        if (manager.slashableBacking(_avs[ai].id, pools[pi]) == 0) return _skip();
        uint64 fraction = _fraction(ai, pi, fractionSeed);
        vm.prank(_avs[ai].module);
        uint64 id = manager.requestSlash(_avs[ai].id, pools[pi], fraction);
        _requests.push(id);
        _recordDecision(id, ai, pi);
        ++_c.requests;
    }

    /// @notice A committee member proposes a slash of a pool (an eighth of the time), or votes on the newest open
    /// proposal. A vote below the quorum on a pool the AVS backs must delay isolated increases there by a full veto
    /// flow from now; the quorum files a request like any other (executed and vetoed by the actions above).
    function committeeActs(uint256 seed, uint256 poolSeed, uint256 fractionSeed) external {
        CommitteeSlasher c = CommitteeSlasher(_avs[COMMITTEE].module);
        address member = committeeMembers[seed % committeeMembers.length];
        uint256 open = _openProposal(c, member);
        uint32 avsId = _avs[COMMITTEE].id;
        // A vote reaching the quorum files a request, which needs backing on the pool: without it, propose instead.
        bool propose = open == 0 || seed % 8 == 0 || manager.slashableBacking(avsId, c.getProposal(open).poolId) == 0;
        uint256 poolId = propose ? pools[poolSeed % NP] : c.getProposal(open).poolId;
        bool backed = manager.slashableBacking(avsId, poolId) != 0;
        vm.prank(member);
        if (propose) {
            c.propose(poolId, uint64(_bound(fractionSeed, 1, _avs[COMMITTEE].maxSlashWad)), keccak256(abi.encode(seed)));
            open = c.proposalCount();
            ++_c.proposals;
        } else {
            c.vote(open);
            ++_c.votes;
        }
        CommitteeSlasher.Proposal memory p = c.getProposal(open);
        if (p.requestId != 0) {
            _requests.push(p.requestId);
            _recordDecision(p.requestId, COMMITTEE, _poolIndex(poolId));
            ++_c.requests;
            ++_c.quorums;
        } else if (backed) {
            uint256 until = block.timestamp + manager.getAVS(avsId).vetoWindow + executionWindow;
            if (manager.getPoolState(poolId).slashPendingUntil < until) {
                _flag(V_ANNOUNCE, string.concat("a vote before the quorum left pool ", vm.toString(poolId), " open"));
            }
        }
    }

    /// @dev The newest proposal without a quorum, still in its voting period, that `member` has not voted on (0 if none
    /// among the last four).
    function _openProposal(CommitteeSlasher c, address member) internal view returns (uint256) {
        uint256 n = c.proposalCount();
        for (uint256 id = n; id > 0 && id + 4 > n; --id) {
            CommitteeSlasher.Proposal memory p = c.getProposal(id);
            if (block.timestamp > uint256(p.proposedAt) + c.votingPeriod()) continue;
            if (p.requestId == 0 && !c.hasVoted(id, member)) return id;
        }
        return 0;
    }

    /// @notice A vetoable AVS executes a request. Three times in four it picks a pending request whose execution
    /// window is open (checked like any slash); otherwise any request, and one that is vetoed, executed, early or
    /// expired must revert.
    function executeSlash(uint256 seed) external {
        uint256 n = _requests.length;
        if (n == 0) return _skip();
        uint64 id = _requests[seed % n];
        if (seed % 4 != 0) {
            for (uint256 k; k < n; ++k) {
                uint64 candidate = _requests[(seed % n + k) % n];
                if (_executable(manager.getRequest(candidate))) {
                    id = candidate;
                    break;
                }
            }
        }
        if (seed % 4 == 3 && !_executable(manager.getRequest(id))) {
            // The AVS waits for its window: time moves into it (forward only) and the request executes at once.
            for (uint256 k; k < n; ++k) {
                uint64 candidate = _requests[(seed % n + k) % n];
                IAllocationManager.Request memory c = manager.getRequest(candidate);
                if (c.status == IAllocationManager.RequestStatus.Pending && block.timestamp < c.executableAt) {
                    vm.warp(uint256(c.executableAt) + (seed >> 8) % (uint256(executionWindow) + 1));
                    ++_c.warps;
                    id = candidate;
                    break;
                }
            }
        }
        IAllocationManager.Request memory r = manager.getRequest(id);
        uint256 ai = _avsIndex(r.avsId);
        if (_executable(r)) {
            uint256 pi = _poolIndex(r.poolId);
            if (_slashable(ai, pi)) {
                _checkedSlash(ai, pi, r.fractionWad, id);
                // A request the guard cut stays pending for the rest (P3): executed only once it took everything.
                IAllocationManager.Request memory after_ = manager.getRequest(id);
                if (after_.status == IAllocationManager.RequestStatus.Executed) {
                    ghostExecuted[id] = true;
                    _executedIds.push(id);
                    ++_c.executed;
                } else if (after_.fractionWad > r.fractionWad) {
                    _flag(V_ABOVE_BACKING, string.concat("request ", vm.toString(id), " grew after a cut"));
                }
            } else {
                // The operator left the AVS long ago or the pool's stake ended: nothing to slash, it must revert.
                _mustNotExecute(id, ai, V_UNSLASHABLE_EXECUTED);
            }
            return;
        }
        uint256 kind;
        if (r.status == IAllocationManager.RequestStatus.Vetoed) {
            kind = V_VETOED_EXECUTED;
            ++_c.vetoedAttempts;
        } else if (r.status == IAllocationManager.RequestStatus.Executed) {
            kind = V_DOUBLE_EXECUTED;
            ++_c.doubleAttempts;
        } else if (block.timestamp < r.executableAt) {
            kind = V_EARLY_EXECUTED;
            ++_c.earlyAttempts;
        } else {
            kind = V_EXPIRED_EXECUTED;
            ++_c.expiredAttempts;
        }
        _mustNotExecute(id, ai, kind);
    }

    /// @notice A resolver vetoes a request. Three times in four it picks one still in its veto window (and
    /// sometimes a stranger tries first, which must revert); otherwise any request, where a veto of a request that
    /// is not pending or whose window closed must revert.
    function vetoSlash(uint256 seed) external {
        uint256 n = _requests.length;
        if (n == 0) return _skip();
        uint64 id = _requests[seed % n];
        if (seed % 4 != 0) {
            for (uint256 k; k < n; ++k) {
                uint64 candidate = _requests[(seed % n + k) % n];
                if (_vetoable(manager.getRequest(candidate))) {
                    id = candidate;
                    break;
                }
            }
        }
        IAllocationManager.Request memory r = manager.getRequest(id);
        uint256 ai = _avsIndex(r.avsId);
        if (!_vetoable(r)) {
            ++_c.lateVetoAttempts;
            vm.prank(_avs[ai].resolver);
            try manager.vetoSlash(id) {
                _flag(V_LATE_VETO, string.concat("late veto went through: ", vm.toString(id)));
            } catch {}
            return;
        }
        if (seed % 5 == 1) {
            // The other veto AVS's resolver and the AVS's own module are strangers to this request.
            ++_c.foreignVetoAttempts;
            address stranger = seed % 2 == 0 ? _avs[ai == 2 ? 3 : 2].resolver : _avs[ai].module;
            vm.prank(stranger);
            try manager.vetoSlash(id) {
                _flag(V_FOREIGN_VETO, string.concat("stranger vetoed ", vm.toString(id)));
            } catch {}
        }
        vm.prank(_avs[ai].resolver);
        manager.vetoSlash(id);
        ghostVetoed[id] = true;
        ++_c.vetoes;
    }

    // ================================================================== governance and time

    /// @notice Governance moves the cascade guard between 25%, 50% and 100% (off) of a pool per day.
    /// @notice A stranger (no module, operator, resolver or governance role) tries what it must not be able to do:
    /// slash, request or announce for an AVS, or move stake between compartments by applying pending changes (which
    /// anyone may call: it must never lower any AVS's backing, so nobody can time it against a slash).
    function strangerActs(uint256 seed, uint256 poolSeed, uint256 fractionSeed) external {
        address stranger = address(uint160(uint256(keccak256(abi.encode("stranger", seed % 3)))));
        uint256 pi = poolSeed % NP;
        uint32 id = _avs[seed % NA].id;
        uint64 fraction = uint64(_bound(fractionSeed, 1, WAD));
        uint256 kind = (seed / NA) % 4;
        ++_c.strangerActs;
        if (kind == 3) return _strangerApplies(stranger, pi);
        vm.prank(stranger);
        if (kind == 0) {
            try manager.slash(id, pools[pi], fraction) {
                _flag(V_STRANGER, "a stranger slashed");
            } catch {}
        } else if (kind == 1) {
            try manager.requestSlash(id, pools[pi], fraction) {
                _flag(V_STRANGER, "a stranger requested a slash");
            } catch {}
        } else {
            try manager.announceSlash(id, pools[pi]) {
                _flag(V_STRANGER, "a stranger announced a slash");
            } catch {}
        }
    }

    function _strangerApplies(address stranger, uint256 pi) internal {
        Snap memory before = _snap();
        uint32[] memory ids = new uint32[](NA);
        for (uint256 a; a < NA; ++a) {
            ids[a] = _avs[a].id;
        }
        vm.prank(stranger);
        manager.applyPending(pools[pi], ids);
        Snap memory afterApply = _snap();
        for (uint256 a; a < NA; ++a) {
            uint256 was = before.backing[pi][a];
            uint256 now_ = afterApply.backing[pi][a];
            if (now_ < was) _flag(V_STRANGER, _backingMessage("applyPending", a, a, pi, was, now_));
        }
    }

    function setGuard(uint256 seed) external {
        uint64 cap = [uint64(0.25e18), uint64(0.5e18), uint64(1e18)][seed % 3];
        vm.prank(governance);
        manager.setGuard(cap, 1 days);
        ++_c.guardChanges;
    }

    function warp(uint256 secondsSeed) external {
        vm.warp(block.timestamp + _bound(secondsSeed, 0, 2 days));
        ++_c.warps;
    }

    // ================================================================== set-up helpers (not fuzz targets)

    /// @notice Declares pool `pi` (the pool is created by its first deposit).
    function setPool(uint256 pi, address operator, MockERC20 asset) external {
        (poolOperator[pi], poolAsset[pi]) = (operator, asset);
    }

    /// @notice Declares AVS `ai`: 0-1 instant, 2-3 vetoable.
    function setAvs(uint256 ai, AvsConfig calldata cfg) external {
        _avs[ai] = cfg;
    }

    /// @notice Declares the members of AVS `COMMITTEE`'s committee.
    function setCommitteeMembers(address[] calldata members) external {
        committeeMembers = members;
    }

    /// @dev For the tier, `amount` is the exact number of base shares moved in.
    function seedDeposit(address staker, uint256 pi, uint256 amount) external {
        if (pi != TIER) return _deposit(staker, pi, amount);
        vm.prank(staker);
        (pools[TIER],) = vault.depositToTier(pools[TIER_BASE], poolOperator[TIER], amount);
        ++_c.tierDeposits;
    }

    function seedQueue(address staker, uint256 pi, uint256 shares) external {
        _queueShares(staker, pools[pi], shares);
    }

    function seedAllocate(uint256 pi, uint256 ai, IAllocationManager.Mode mode, uint64 fraction) external {
        _allocate(pi, ai, mode, fraction);
    }

    // ================================================================== views for the invariants

    function counts() external view returns (Counts memory) {
        return _c;
    }

    function avs(uint256 ai) external view returns (AvsConfig memory) {
        return _avs[ai];
    }

    function requestIds() external view returns (uint64[] memory) {
        return _requests;
    }

    function executedIds() external view returns (uint64[] memory) {
        return _executedIds;
    }

    function openWithdrawals() external view returns (uint256[] memory) {
        return _open;
    }

    // ================================================================== internals: actions

    function _deposit(address staker, uint256 pi, uint256 amount) internal {
        if (pi == TIER) return _depositToTier(staker, amount);
        MockERC20 token = poolAsset[pi];
        if (amount == 0 || (pools[pi] != 0 && vault.convertToShares(pools[pi], amount) == 0)) return _skip();
        token.mint(staker, amount);
        vm.startPrank(staker);
        token.approve(address(vault), amount);
        try vault.deposit(poolOperator[pi], address(token), amount) returns (uint256 poolId, uint256) {
            pools[pi] = poolId;
            ghostDeposited[address(token)] += amount;
            ++_c.deposits;
        } catch (bytes memory err) {
            // A pool must keep accepting ordinary deposits (invariant_poolsKeepWorking): record the refusal there
            // instead of aborting the campaign of every other invariant. Anything else is re-raised.
            // A pool slashed below 1e-6 of its price refuses new stake by name (the price floor would keep it from being
            // slashed): a skip, not a failure.
            if (bytes4(err) == IStakeVault.PoolPriceTooLow.selector) {
                vm.stopPrank();
                return _skip();
            }
            if (bytes4(err) != IStakeVault.AmountTooLarge.selector) _bubble(err);
            _flag(
                V_DEPOSIT_REFUSED,
                string.concat(
                    "deposit of ", vm.toString(amount), " into pool ", vm.toString(pi), " refused: ", vm.toString(err)
                )
            );
        }
        vm.stopPrank();
    }

    /// @dev Moves some of the staker's base shares (bounded by `seed`) into the tier.
    function _depositToTier(address staker, uint256 seed) internal {
        uint256 held = _sharesOf(staker, pools[TIER_BASE]);
        if (held == 0) return _skip();
        uint256 shares = seed % 4 == 0 ? held : _bound(seed, 1, held);
        vm.prank(staker);
        try vault.depositToTier(pools[TIER_BASE], poolOperator[TIER], shares) returns (uint256 poolId, uint256) {
            pools[TIER] = poolId;
            ++_c.tierDeposits;
        } catch (bytes memory err) {
            // Dust that mints no tier share, or shares of an ended base generation.
            bytes4 e = bytes4(err);
            if (
                e != IStakeVault.DepositTooSmall.selector && e != IStakeVault.InsufficientShares.selector
                    && e != IStakeVault.PoolPriceTooLow.selector
            ) _bubble(err);
            ++_c.skips;
        }
    }

    function _queue(address staker, uint256 pi, uint256 sharesSeed) internal {
        uint256 poolId = pools[pi];
        uint256 held = _sharesOf(staker, poolId);
        if (held == 0) return _skip();
        _queueShares(staker, poolId, sharesSeed % 4 == 0 ? held : _bound(sharesSeed, 1, held));
    }

    function _queueShares(address staker, uint256 poolId, uint256 shares) internal {
        vm.prank(staker);
        _open.push(vault.queueWithdrawal(poolId, shares));
        ++_c.queued;
    }

    /// @dev Calls `allocate` where it cannot legitimately revert, except for the two capacity refusals of an
    /// increase (isolated over-commitment, reuse cap), which are counted; any other revert is re-raised.
    function _allocate(uint256 pi, uint256 ai, IAllocationManager.Mode mode, uint64 fraction) internal {
        uint256 poolId = pools[pi];
        uint32 avsId = _avs[ai].id;
        address op = poolOperator[pi];
        IAllocationManager.Allocation memory al = manager.getAllocation(poolId, avsId);
        if (al.effectAt != 0) return _skip(); // one pending change at a time
        if (al.current != 0) mode = al.mode; // the mode is fixed while anything is allocated
        uint256 target = uint256(fraction) * manager.getPoolState(poolId).totalWeight / WAD;
        if (target == al.current) return _skip();
        bool increase = target > al.current;
        if (increase && !manager.membership(avsId, op).optedIn) return _skip();
        vm.prank(op);
        try manager.allocate(poolId, avsId, mode, fraction) {
            if (increase) {
                ++_c.allocIncreases;
                _checkReuseAfterIncrease(pi);
            } else {
                ++_c.allocDecreases;
            }
        } catch (bytes memory err) {
            if (!increase || !_isCapacityRefusal(bytes4(err), mode)) _bubble(err);
            ++_c.allocRefused;
        }
    }

    /// @dev The refusals an allocation increase may legitimately meet: isolated over-commitment, the reuse cap, and
    /// (for an isolated increase) another isolated increase pending on the pool.
    function _isCapacityRefusal(bytes4 selector, IAllocationManager.Mode mode) internal pure returns (bool) {
        return selector == IAllocationManager.IsolatedOverCommitted.selector
            || selector == IAllocationManager.ReuseCapExceeded.selector
            || (mode == IAllocationManager.Mode.Isolated
                && selector == IAllocationManager.IsolatedIncreasePending.selector);
    }

    /// @dev Bounded reuse: an allocation increase that went through leaves Σ shared ≤ cap × shared stake.
    function _checkReuseAfterIncrease(uint256 pi) internal {
        IAllocationManager.PoolRisk memory r = manager.poolRisk(pools[pi]);
        if (r.totalShared * WAD > r.reuseCapWad * r.sharedStake) {
            _flag(
                V_REUSE,
                string.concat(
                    "allocation left pool ",
                    vm.toString(pi),
                    " over cap: shared ",
                    vm.toString(r.totalShared),
                    " stake ",
                    vm.toString(r.sharedStake)
                )
            );
        }
    }

    function _mustNotExecute(uint64 id, uint256 ai, uint256 kind) internal {
        vm.prank(_avs[ai].module);
        try manager.executeSlash(id) returns (uint256 amount) {
            _flag(kind, string.concat("request ", vm.toString(id), " executed for ", vm.toString(amount)));
        } catch {}
    }

    // ================================================================== internals: the checked slash

    /// @dev One slash (instant, or the execution of `requestId`) with every check made around it.
    function _checkedSlash(uint256 ai, uint256 pi, uint64 fraction, uint64 requestId) internal {
        Snap memory before = _snap();
        EscrowSnap memory escrow = _escrowSnap(pools[pi]);
        uint256[3] memory held = _held(ai, pi);
        uint256 decided = _decidedNow(requestId);

        vm.prank(_avs[ai].module);
        uint256 amount =
            requestId == 0 ? manager.slash(_avs[ai].id, pools[pi], fraction) : manager.executeSlash(requestId);
        _checkDecided(requestId, pi, amount, decided);

        Snap memory afterSlash = _snap();
        _checkPayment(ai, pi, amount, before, afterSlash, held);

        _checkCommitment(before);
        _checkCommitment(afterSlash);
        _checkAmount(ai, pi, fraction, amount, before.backing[pi][ai]);
        _checkUntouched(pi, before, afterSlash);
        _checkSlashedPool(ai, pi, before, afterSlash);
        _checkExposure(ai, pi, before, afterSlash);
        _checkEscrow(escrow, before.collateral[pi], afterSlash.collateral[pi]);
        _checkGuardSpan(pi, amount, before.value[pi]);
        _countSlash(ai, pi, amount, before, afterSlash);
    }

    /// @dev P2, recorded when a request is filed: the request's backing then, less what was already on its way out
    /// before the request's last executable second (a decrease of its own allocation or an opt-out filed earlier,
    /// escrowed withdrawals maturing by then), times its fraction. Nothing done from the request on may lower it:
    /// deallocations, opt-outs and withdrawals filed with or after it take effect after that second, and isolated
    /// increases, whenever committed, settle only after it (`IAllocationManager.allocate`). Lowering the weight or the
    /// value by a factor lowers any backing by at most that factor (a shared backing is min(w, stake) · V / W, scaled).
    function _recordDecision(uint64 id, uint256 ai, uint256 pi) internal {
        uint256 poolId = pools[pi];
        uint32 avsId = _avs[ai].id;
        uint256 floor_;
        if (manager.membership(avsId, poolOperator[pi]).optedIn) {
            floor_ = manager.slashableBacking(avsId, poolId);
            IAllocationManager.Allocation memory al = manager.getAllocation(poolId, avsId);
            if (al.effectAt != 0 && al.pending < al.current) floor_ = Math.mulDiv(floor_, al.pending, al.current);
            IAllocationManager.Request memory r = manager.getRequest(id);
            uint256 last = uint256(r.executableAt) + executionWindow;
            // In the pool's collateral (a tier's withdrawals are in base shares): each leaves with its value, one
            // more unit for the rounding of the batch it settles in.
            uint256 collateral = vault.getPool(poolId).slashableAssets;
            uint256 leaving;
            for (uint256 i; i < _open.length; ++i) {
                if (_open[i] >> 64 != poolId) continue;
                IStakeVault.WithdrawalView memory w = vault.getWithdrawal(_open[i]);
                if (!w.matured && w.maturity <= last) leaving += w.value + 1;
            }
            floor_ = leaving >= collateral ? 0 : Math.mulDiv(floor_, collateral - leaving, collateral);
        }
        _decided[id] =
            Decision({floor: floor_, fractionWad: manager.getRequest(id).fractionWad, pi: uint8(pi), done: false});
    }

    /// @dev What the first execution of `requestId` must take at the least, read just before it: the decided amount,
    /// or what the cascade guard still lets through if that is less (as `_guardAllowance` computes it), through the
    /// vault's price floor. type(uint256).max when there is nothing to check.
    function _decidedNow(uint64 requestId) internal view returns (uint256) {
        Decision memory d = _decided[requestId];
        if (requestId == 0 || d.done) return type(uint256).max;
        uint256 poolId = pools[d.pi];
        uint256 decided = d.floor * d.fractionWad / WAD;
        uint256 value = vault.slashableAssets(poolId);
        uint256 used = manager.poolRisk(poolId).guardUsedWad;
        uint256 cap = manager.guardMaxFractionWad();
        uint256 room = used >= cap ? 0 : Math.mulDiv(cap - used, value, WAD - used);
        return vault.previewSlash(poolId, Math.min(decided, room));
    }

    /// @dev After a slash of pool `pi`: the request executed (first time) took at least what was decided (one wei of
    /// rounding); every other request on the pool (and, for the tier's base, on the tier: its price fell) is no longer
    /// checked, since a slash in between may lower its backing.
    function _checkDecided(uint64 requestId, uint256 pi, uint256 amount, uint256 expected) internal {
        if (expected != type(uint256).max) {
            _decided[requestId].done = true;
            ++_c.decidedChecked;
            if (amount + 1 < expected) {
                _flag(
                    V_ESCAPED,
                    string.concat(
                        "request ",
                        vm.toString(requestId),
                        " took ",
                        vm.toString(amount),
                        ", decided ",
                        vm.toString(expected)
                    )
                );
            }
        }
        if (amount == 0) return;
        for (uint256 i; i < _requests.length; ++i) {
            Decision storage d = _decided[_requests[i]];
            if (d.pi == pi || (pi == TIER_BASE && d.pi == TIER)) d.done = true;
        }
    }

    /// @dev Where the slash went: a pool's tokens to the sink, exactly the amount; a tier's base shares (no token).
    function _checkPayment(uint256 ai, uint256 pi, uint256 amount, Snap memory b, Snap memory s, uint256[3] memory pre)
        internal
    {
        uint256[3] memory post = _held(ai, pi);
        if (pi == TIER) {
            _checkTierPayment(ai, amount, b, s, pre[2]);
            if (post[0] != pre[0] || post[1] != pre[1]) _flag(V_SLASH_ACCOUNTING, "a tier slash moved tokens");
            return;
        }
        ghostSlashed[address(poolAsset[pi])] += amount;
        if (post[0] - pre[0] != amount || pre[1] - post[1] != amount || b.value[pi] - s.value[pi] != amount) {
            _flag(V_SLASH_ACCOUNTING, string.concat("slash moved other than its amount ", vm.toString(amount)));
        }
    }

    /// @dev A tier slash pays the sink in base shares, exactly the tier's collateral that left, worth the amount to
    /// within one wei of the base asset and one base share either way (the cut rounds down; the price-floor path
    /// reports the value rounded up; taking everything pays up to one wei more). The price is the views', which
    /// settle matured escrow first, while the vault prices at its stored totals: below one wei of value apart,
    /// which is many shares when a share is worth far less than a wei (found by CI, seed 0xf62ab5e4…). The base
    /// pool (totals, generation, every backing) is checked untouched by `_checkUntouched`.
    function _checkTierPayment(uint256 ai, uint256 amount, Snap memory b, Snap memory s, uint256 sinkBefore) internal {
        ++_c.tierSlashes;
        uint256 paid = b.collateral[TIER] - s.collateral[TIER];
        if (s.generation[TIER] != b.generation[TIER]) paid = b.collateral[TIER]; // emptied: the tier reset
        uint256 sinkAfter = _sharesOf(_avs[ai].sink, pools[TIER_BASE]);
        uint256 a1 = s.value[TIER_BASE] + 1;
        uint256 s1 = s.shares[TIER_BASE] + 1;
        // In units of 1 / s1 of a wei: the payment's value is paid·a1, the amount amount·s1, one wei s1, a share a1.
        bool ok = (sinkAfter == sinkBefore + paid || sinkAfter == paid) && paid * a1 + a1 + 2 * s1 >= amount * s1
            && paid * a1 <= amount * s1 + 2 * s1 + a1;
        if (!ok) {
            _flag(
                V_SLASH_ACCOUNTING,
                string.concat("tier slash of ", vm.toString(amount), " paid ", vm.toString(paid), " base shares")
            );
        }
    }

    /// @dev P1 per staker: what an isolated AVS can take from a staker is its backing times the staker's share of the
    /// pool. Another AVS's slash (a tier's included) must never raise that claim per share, so no staker's exposure
    /// to an isolated AVS ever passes the fraction allocated to it (a base slash lowers a tier's claims with its
    /// price; one wei of rounding per share allowed).
    function _checkExposure(uint256 ai, uint256 pi, Snap memory b, Snap memory s) internal {
        for (uint256 p; p < NP; ++p) {
            if (b.generation[p] != s.generation[p] || s.shares[p] == 0) continue;
            for (uint256 a; a < NA; ++a) {
                if ((p == pi && a == ai) || b.mode[p][a] != IAllocationManager.Mode.Isolated) continue;
                if (s.backing[p][a] * b.shares[p] > (b.backing[p][a] + 1) * s.shares[p]) {
                    _flag(
                        V_EXPOSURE,
                        _backingMessage("isolated claim per share", ai, a, p, b.backing[p][a], s.backing[p][a])
                    );
                }
            }
        }
    }

    /// @dev One slash's loss: when, the fraction of the value it kept (WAD, rounded up: lenient by 1e-18), the cap.
    struct Loss {
        uint64 at;
        uint64 cap;
        uint128 keptWad;
    }

    mapping(uint256 pi => Loss[]) internal _losses;

    /// @dev P4, the hard window: the slashes of the pool within one guard window up to this one compound to at most
    /// the largest cap in force during them (each loss a fraction of the value when it was taken).
    function _checkGuardSpan(uint256 pi, uint256 amount, uint256 valueBefore) internal {
        if (amount == 0) return;
        uint256 cap = manager.guardMaxFractionWad();
        _losses[pi].push(
            Loss({
                at: uint64(block.timestamp),
                cap: uint64(cap),
                keptWad: uint128(Math.mulDiv(valueBefore - amount, WAD, valueBefore, Math.Rounding.Ceil))
            })
        );
        uint256 window = manager.guardWindow();
        uint256 kept = WAD;
        Loss[] storage losses = _losses[pi];
        for (uint256 i = losses.length; i > 0; --i) {
            Loss storage l = losses[i - 1];
            if (l.at + window <= block.timestamp) break;
            kept = kept * l.keptWad / WAD;
            if (l.cap > cap) cap = l.cap;
        }
        if (WAD - kept > cap + 1e3) {
            _flag(
                V_GUARD_SPAN,
                string.concat(
                    "pool ", vm.toString(pi), " lost ", vm.toString(WAD - kept), " of its value in one window"
                )
            );
        }
    }

    /// @dev The AVS's sink's and the vault's balance of the pool's token, and the sink's shares of the tier's base.
    function _held(uint256 ai, uint256 pi) internal view returns (uint256[3] memory h) {
        h[0] = poolAsset[pi].balanceOf(_avs[ai].sink);
        h[1] = poolAsset[pi].balanceOf(address(vault));
        h[2] = _sharesOf(_avs[ai].sink, pools[TIER_BASE]);
    }

    function _countSlash(uint256 ai, uint256 pi, uint256 amount, Snap memory b, Snap memory s) internal {
        ++_c.slashes;
        if (amount != 0) {
            ++_c.slashesNonZero;
            if (b.mode[pi][ai] == IAllocationManager.Mode.Shared) {
                ++_c.sharedSlashes;
            } else {
                ++_c.isolatedSlashes;
            }
        }
        if (s.generation[pi] != b.generation[pi]) ++_c.fullSlashes;
    }

    /// @dev Exclusivity: in every pool, the isolated backings plus any one shared backing fit in the value.
    function _checkCommitment(Snap memory s) internal {
        for (uint256 p; p < NP; ++p) {
            uint256 isolated;
            uint256 maxShared;
            for (uint256 a; a < NA; ++a) {
                if (s.mode[p][a] == IAllocationManager.Mode.Isolated) isolated += s.backing[p][a];
                else if (s.backing[p][a] > maxShared) maxShared = s.backing[p][a];
            }
            if (isolated + maxShared > s.value[p]) {
                _flag(
                    V_OVERCOMMIT,
                    string.concat(
                        "pool ",
                        vm.toString(p),
                        ": isolated ",
                        vm.toString(isolated),
                        " + shared ",
                        vm.toString(maxShared),
                        " > value ",
                        vm.toString(s.value[p])
                    )
                );
            }
        }
    }

    /// @dev No slash above backing: amount ≤ backing before × fraction, exactly.
    function _checkAmount(uint256 ai, uint256 pi, uint64 fraction, uint256 amount, uint256 backingBefore) internal {
        uint256 cap = backingBefore * fraction / WAD;
        if (amount > cap) {
            _flag(
                V_ABOVE_BACKING,
                string.concat(
                    "avs ",
                    vm.toString(ai),
                    " pool ",
                    vm.toString(pi),
                    " slashed ",
                    vm.toString(amount),
                    " > backing x fraction ",
                    vm.toString(cap)
                )
            );
        } else if (amount < cap) {
            ++_c.guardCuts;
        }
    }

    /// @dev Pools other than the slashed one: value, generation and every AVS's backing unchanged. The tier over a
    /// slashed base keeps its collateral (base shares); its value and backings fall with the base price only.
    function _checkUntouched(uint256 pi, Snap memory b, Snap memory s) internal {
        for (uint256 q; q < NP; ++q) {
            if (q == pi) continue;
            if (q == TIER && pi == TIER_BASE) {
                if (s.generation[TIER_BASE] != b.generation[TIER_BASE]) continue; // a full base slash ends the tier
                bool kept = b.collateral[q] == s.collateral[q] && b.generation[q] == s.generation[q];
                for (uint256 a; a < NA; ++a) {
                    kept = kept && s.backing[q][a] <= b.backing[q][a];
                }
                if (!kept) _flag(V_UNTOUCHED, "a base slash changed the tier's collateral or raised a tier backing");
                continue;
            }
            bool same = b.value[q] == s.value[q] && b.generation[q] == s.generation[q];
            for (uint256 a; a < NA; ++a) {
                same = same && b.backing[q][a] == s.backing[q][a];
            }
            if (!same) {
                _flag(V_UNTOUCHED, string.concat("slash of pool ", vm.toString(pi), " changed pool ", vm.toString(q)));
            }
        }
    }

    /// @dev The slashed pool: other AVSs' isolated backings never fall. Another AVS's shared backing may fall only
    /// with the shared stake: never below min(its limit before, shared stake after), where the shared stake after is
    /// (W − I) · V / W read after the slash; and not at all when the slashed allocation was isolated.
    function _checkSlashedPool(uint256 ai, uint256 pi, Snap memory b, Snap memory s) internal {
        IAllocationManager.PoolState memory st = manager.getPoolState(pools[pi]);
        // [shared stake after, cap × shared weight, committed shared weight]: over its cap, a pool scales every
        // shared backing by limit / committed (weights, rounded down), so they never add up past the cap (P4).
        uint256[3] memory k = [
            Math.mulDiv(st.totalWeight - st.isolatedWeight, s.value[pi], st.totalWeight),
            uint256(st.totalWeight - st.isolatedWeight) * _reuseCapBps(pools[pi]) / 10_000,
            st.sharedWeight
        ];
        bool slasherIsolated = b.mode[pi][ai] == IAllocationManager.Mode.Isolated;
        for (uint256 a; a < NA; ++a) {
            if (a == ai) continue;
            uint256 was = b.backing[pi][a];
            uint256 now_ = s.backing[pi][a];
            if (b.mode[pi][a] == IAllocationManager.Mode.Isolated) {
                if (now_ < was) _flag(V_ISOLATION, _backingMessage("isolated", ai, a, pi, was, now_));
            } else if (b.mode[pi][a] == IAllocationManager.Mode.Shared) {
                uint256 floor_ = b.live[pi][a] ? Math.min(b.limit[pi][a], k[0]) : 0;
                if (slasherIsolated && was > floor_) floor_ = was;
                if (k[2] > k[1]) floor_ = Math.mulDiv(floor_, k[1], k[2]);
                // Scaling rounds in weights: one weight unit is V / W assets (large once slashes shrank W).
                if (now_ + floor_ / 1e15 + s.value[pi] / st.totalWeight + 2 < floor_) {
                    _flag(V_ELASTIC, _backingMessage("shared", ai, a, pi, was, now_));
                }
            }
        }
    }

    /// @dev Escrowed withdrawals stay slashable: each unmatured withdrawal's value v falls to v × (A'+1)/(A+1), the
    /// fall of the share price (A+1)/(S+1) with S unchanged, within one wei (one more if matured escrow was settled
    /// at the slash).
    function _checkEscrow(EscrowSnap memory e, uint256 assetsBefore, uint256 assetsAfter) internal {
        for (uint256 i; i < e.ids.length; ++i) {
            uint256 valueAfter = vault.getWithdrawal(e.ids[i]).value;
            uint256 lo = Math.mulDiv(e.values[i], assetsAfter + 1, assetsBefore + 1);
            uint256 hi = Math.mulDiv(e.values[i], assetsAfter + 1, assetsBefore + 1, Math.Rounding.Ceil) + 1;
            if (valueAfter < lo || valueAfter > hi) {
                _flag(
                    V_ESCROW,
                    string.concat(
                        "escrowed withdrawal ",
                        vm.toString(e.ids[i]),
                        " went ",
                        vm.toString(e.values[i]),
                        " -> ",
                        vm.toString(valueAfter),
                        " expected ",
                        vm.toString(lo)
                    )
                );
            }
            ++_c.escrowChecked;
        }
    }

    function _snap() internal view returns (Snap memory s) {
        for (uint256 p; p < NP; ++p) {
            uint256 poolId = pools[p];
            s.value[p] = vault.slashableAssets(poolId);
            IStakeVault.PoolView memory v = vault.getPool(poolId);
            (s.collateral[p], s.shares[p]) = (v.slashableAssets, v.totalShares);
            (, s.generation[p],) = vault.poolKey(poolId);
            uint256 total = manager.getPoolState(poolId).totalWeight;
            for (uint256 a; a < NA; ++a) {
                uint32 avsId = _avs[a].id;
                IAllocationManager.Allocation memory al = manager.getAllocation(poolId, avsId);
                s.backing[p][a] = manager.slashableBacking(avsId, poolId);
                s.limit[p][a] = Math.mulDiv(al.current, s.value[p], total);
                s.live[p][a] = manager.isSlashable(avsId, poolOperator[p]);
                s.mode[p][a] = al.mode;
            }
        }
    }

    function _escrowSnap(uint256 poolId) internal view returns (EscrowSnap memory e) {
        uint256 n = _open.length;
        uint256[] memory ids = new uint256[](n);
        uint256[] memory values = new uint256[](n);
        uint256 k;
        for (uint256 i; i < n; ++i) {
            if (_open[i] >> 64 != poolId) continue;
            IStakeVault.WithdrawalView memory w = vault.getWithdrawal(_open[i]);
            if (w.matured) continue;
            (ids[k], values[k]) = (w.id, w.value);
            ++k;
        }
        assembly ("memory-safe") {
            mstore(ids, k)
            mstore(values, k)
        }
        (e.ids, e.values) = (ids, values);
    }

    // ================================================================== internals: helpers

    /// @dev First (AVS, pool) pair from the seeds, among the two AVSs starting at `firstAvs`, that can be slashed
    /// without a revert (for a request: with non-zero backing).
    function _findSlashable(uint256 firstAvs, uint256 avsSeed, uint256 poolSeed, bool needBacking)
        internal
        view
        returns (bool found, uint256 ai, uint256 pi)
    {
        for (uint256 k; k < 2 * NP; ++k) {
            ai = firstAvs + (avsSeed % 2 + k) % 2;
            pi = (poolSeed % NP + k / 2) % NP;
            found = needBacking ? manager.slashableBacking(_avs[ai].id, pools[pi]) != 0 : _slashable(ai, pi);
            if (found) return (found, ai, pi);
        }
    }

    /// @dev What `_slash` requires: the operator slashable by the AVS and an allocation of the current epoch.
    function _slashable(uint256 ai, uint256 pi) internal view returns (bool) {
        uint32 avsId = _avs[ai].id;
        return manager.isSlashable(avsId, poolOperator[pi])
            && manager.getAllocation(pools[pi], avsId).mode != IAllocationManager.Mode.None;
    }

    function _executable(IAllocationManager.Request memory r) internal view returns (bool) {
        return r.status == IAllocationManager.RequestStatus.Pending && block.timestamp >= r.executableAt
            && block.timestamp <= uint256(r.executableAt) + executionWindow;
    }

    function _vetoable(IAllocationManager.Request memory r) internal view returns (bool) {
        return r.status == IAllocationManager.RequestStatus.Pending && block.timestamp < r.executableAt;
    }

    /// @dev A fraction in (0, maxSlashWad]: a quarter of the time exactly the maximum, a quarter of the time the
    /// boundary where the request asks for exactly what the cascade guard still lets through (what a module reading
    /// poolRisk().guardUsedWad would ask for), otherwise anything.
    function _fraction(uint256 ai, uint256 pi, uint256 seed) internal view returns (uint64) {
        uint64 max = _avs[ai].maxSlashWad;
        if (seed % 4 == 0) return max;
        if (seed % 4 == 1) {
            IAllocationManager.PoolRisk memory r = manager.poolRisk(pools[pi]);
            uint256 cap = manager.guardMaxFractionWad();
            uint256 backing = manager.slashableBacking(_avs[ai].id, pools[pi]);
            if (r.guardUsedWad < cap && backing != 0) {
                uint256 room = Math.mulDiv(cap - r.guardUsedWad, r.value, WAD - r.guardUsedWad);
                uint256 f = Math.mulDiv(room, WAD, backing);
                if (f != 0 && f <= max) return uint64(f);
            }
        }
        return uint64(_bound(seed, 1, max));
    }

    function _avsIndex(uint32 avsId) internal view returns (uint256) {
        for (uint256 a; a < NA; ++a) {
            if (_avs[a].id == avsId) return a;
        }
        revert("unknown AVS");
    }

    function _poolIndex(uint256 poolId) internal view returns (uint256) {
        for (uint256 p; p < NP; ++p) {
            if (pools[p] == poolId) return p;
        }
        revert("unknown pool");
    }

    function _sharesOf(address staker, uint256 poolId) internal view returns (uint256) {
        IStakeVault.PositionView[] memory ps = vault.positionsOf(staker);
        for (uint256 i; i < ps.length; ++i) {
            if (ps[i].poolId == poolId) return ps[i].shares;
        }
        return 0;
    }

    function _backingMessage(string memory kind, uint256 slasher, uint256 victim, uint256 pi, uint256 was, uint256 now_)
        internal
        pure
        returns (string memory)
    {
        return string.concat(
            "slash by avs ",
            vm.toString(slasher),
            " lowered ",
            kind,
            " backing of avs ",
            vm.toString(victim),
            " in pool ",
            vm.toString(pi),
            ": ",
            vm.toString(was),
            " -> ",
            vm.toString(now_)
        );
    }

    function _flag(uint256 kind, string memory why) internal {
        ++violations[kind];
        if (bytes(firstViolation[kind]).length == 0) firstViolation[kind] = why;
    }

    function _skip() internal {
        ++_c.skips;
    }

    function _bubble(bytes memory err) internal pure {
        assembly ("memory-safe") {
            revert(add(err, 32), mload(err))
        }
    }
}

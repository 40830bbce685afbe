// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {AllocationManager} from "../../../contracts/AllocationManager.sol";
import {Reputation} from "../../../contracts/Reputation.sol";
import {StakeVault} from "../../../contracts/StakeVault.sol";
import {IAllocationManager} from "../../../contracts/interfaces/IAllocationManager.sol";
import {IReputation} from "../../../contracts/interfaces/IReputation.sol";
import {IStakeVault} from "../../../contracts/interfaces/IStakeVault.sol";
import {MockERC20} from "../../mocks/MockERC20.sol";

/// @notice Drives the reputation layer over the isolation layer for ReputationInvariantsTest. Actors: stakers
/// (deposit, queue, claim), funders (bond deposits), AVS admins (queue and complete bond withdrawals), modules
/// (request, execute, instant slash), resolvers (veto), keepers (checkpoints, reports, holds, standings), new AVSs and
/// new operators (fresh identities) and time (warp 0-3 days, so epochs of 7 days pass every few calls).
/// @dev Every action bounds its inputs; calls that may legitimately revert run under try/catch, so the campaign runs
/// with fail_on_revert. The properties are checked at the moment of each call (a rating's step at each checkpoint,
/// a veto's penalty at each veto) and counted as violations; the invariant contract asserts the counters are zero
/// and checks conservation through public views.
contract ReputationHandler is Test {
    uint256 internal constant WAD = 1e18;
    uint256 public constant NP = 3; // pools: A×WETH, B×WETH, B×USDC
    uint256 public constant NT = 2; // tokens: WETH, USDC

    uint256 public constant V_STEP = 0; // a checkpoint moved a rating by more than maxStep
    uint256 public constant V_ONCE = 1; // two checkpoints of one subject in one epoch, or a legal one refused
    uint256 public constant V_FRESH = 2; // a new identity did not start at the floor
    uint256 public constant V_PENALTY = 3; // a veto whose bond covered the penalty did not pay it exactly
    uint256 public constant V_OUTSIDE = 4; // a rating moved outside a checkpoint
    uint256 public constant V_BOND = 5; // a bond operation moved other than its amount
    uint256 public constant V_STANDING = 6; // a standing pushed other than the rating's weight and the bond check
    uint256 public constant N_VIOLATIONS = 7;

    AllocationManager public immutable manager;
    StakeVault public immutable vault;
    Reputation public immutable rep;
    MockERC20[NT] public tokens;
    address public immutable resolver;
    address public immutable module;
    address public immutable avsAdmin;

    uint256[NP] public pools;
    uint256[NP] public poolToken; // index into tokens
    address[NP] public poolOperator;
    address[] public stakers;
    uint32[] public avsIds; // every AVS the handler knows (vetoable ones first)
    address[] public operators;
    uint64[] public requests;

    uint256[N_VIOLATIONS] public violations;
    // Ghost flows per token.
    mapping(address token => uint256) public ghostBondIn;
    mapping(address token => uint256) public ghostBondOut;
    mapping(address token => uint256) public ghostPenalties;
    mapping(address token => uint256) public ghostDeposited;
    mapping(address token => uint256) public ghostClaimed;
    mapping(address token => uint256) public ghostSlashed;
    // The rating each subject had after its last checkpoint (ratings move only there).
    mapping(uint32 avsId => uint256) public lastAvsRating;
    mapping(address operator => uint256) public lastOperatorRating;
    mapping(uint32 avsId => uint256) public lastAvsCheckpoint; // epoch + 1
    mapping(address operator => uint256) public lastOperatorCheckpoint; // epoch + 1
    uint256 public checkpoints;
    uint256 public vetoes;
    uint256 public penaltiesPaid;

    uint256[] internal _withdrawals;
    /// @dev Ghost of `refreshStanding`: the last measure of each pool and each token's last verdict.
    mapping(uint32 avsId => uint256[NP]) internal _measured;
    mapping(uint32 avsId => bool[NT]) internal _shortIn;

    constructor(
        AllocationManager manager_,
        StakeVault vault_,
        Reputation rep_,
        MockERC20 weth,
        MockERC20 usdc,
        address resolver_,
        address module_,
        address avsAdmin_
    ) {
        (manager, vault, rep) = (manager_, vault_, rep_);
        (tokens[0], tokens[1]) = (weth, usdc);
        (resolver, module, avsAdmin) = (resolver_, module_, avsAdmin_);
    }

    // ------------------------------------------------------------------ set-up (called by the test)

    function setPool(uint256 i, uint256 poolId, uint256 token, address operator) external {
        (pools[i], poolToken[i], poolOperator[i]) = (poolId, token, operator);
        operators.push(operator);
    }

    function addStaker(address staker) external {
        stakers.push(staker);
    }

    function addAvs(uint32 avsId) external {
        avsIds.push(avsId);
    }

    function noteDeposit(address token, uint256 amount) external {
        ghostDeposited[token] += amount;
    }

    function avsCount() external view returns (uint256) {
        return avsIds.length;
    }

    function operatorCount() external view returns (uint256) {
        return operators.length;
    }

    // ------------------------------------------------------------------ stakers

    function deposit(uint256 stakerSeed, uint256 poolSeed, uint256 amount) external {
        uint256 p = poolSeed % NP;
        MockERC20 token = tokens[poolToken[p]];
        amount = bound(amount, 10 ** token.decimals(), 500 * 10 ** token.decimals());
        address staker = stakers[stakerSeed % stakers.length];
        token.mint(staker, amount);
        vm.startPrank(staker);
        token.approve(address(vault), amount);
        try vault.deposit(poolOperator[p], address(token), amount) {
            ghostDeposited[address(token)] += amount;
        } catch (bytes memory err) {
            // A pool slashed below 1e-6 of its price takes no new stake, by name; anything else is a failure.
            if (err.length < 4 || bytes4(err) != IStakeVault.PoolPriceTooLow.selector) {
                assembly ("memory-safe") {
                    revert(add(err, 0x20), mload(err))
                }
            }
        }
        vm.stopPrank();
    }

    function queueWithdrawal(uint256 stakerSeed, uint256 poolSeed, uint256 fraction) external {
        uint256 p = poolSeed % NP;
        address staker = stakers[stakerSeed % stakers.length];
        uint256 held;
        IStakeVault.PositionView[] memory ps = vault.positionsOf(staker);
        for (uint256 i; i < ps.length; ++i) {
            if (ps[i].poolId == pools[p]) held = ps[i].shares;
        }
        uint256 shares = held * bound(fraction, 1, 50) / 100;
        if (shares == 0) return;
        vm.prank(staker);
        _withdrawals.push(vault.queueWithdrawal(pools[p], shares));
    }

    function claim(uint256 seed) external {
        if (_withdrawals.length == 0) return;
        uint256 id = _withdrawals[seed % _withdrawals.length];
        IStakeVault.WithdrawalView memory w = vault.getWithdrawal(id);
        if (!w.matured || w.claimed) return;
        vm.prank(w.staker);
        uint256 assets = vault.completeWithdrawal(id, w.staker);
        ghostClaimed[w.asset] += assets;
    }

    // ------------------------------------------------------------------ bonds

    function depositBond(uint256 avsSeed, uint256 tokenSeed, uint256 amount) external {
        // Mostly the two vetoable AVSs, whose bonds the penalties draw on.
        uint32 avsId = avsIds[avsSeed % 4 == 3 ? avsSeed % avsIds.length : avsSeed % 2];
        MockERC20 token = tokens[tokenSeed % NT];
        // Up to 50 WETH or 200,000 USDC: about what a penalty asks in each pool, so bonds both cover and fall short.
        amount = bound(amount, 1, tokenSeed % NT == 0 ? 50 ether : 200_000e6);
        address funder = address(uint160(0xF00D0000 + avsSeed % 7));
        token.mint(funder, amount);
        IReputation.Bond memory b0 = rep.bondOf(avsId, address(token));
        vm.startPrank(funder);
        token.approve(address(rep), amount);
        rep.depositBond(avsId, address(token), amount);
        vm.stopPrank();
        ghostBondIn[address(token)] += amount;
        IReputation.Bond memory b1 = rep.bondOf(avsId, address(token));
        if (b1.available != b0.available + amount || b1.queued != b0.queued) ++violations[V_BOND];
    }

    function queueBondWithdrawal(uint256 avsSeed, uint256 tokenSeed, uint256 fraction) external {
        uint32 avsId = avsIds[avsSeed % avsIds.length];
        address token = address(tokens[tokenSeed % NT]);
        IReputation.Bond memory b = rep.bondOf(avsId, token);
        uint256 amount = uint256(b.available) * bound(fraction, 1, 100) / 100;
        if (amount == 0 || b.queued != 0) return;
        vm.prank(avsAdmin);
        rep.queueBondWithdrawal(avsId, token, amount);
        IReputation.Bond memory b1 = rep.bondOf(avsId, token);
        if (b1.available + amount != b.available || b1.queued != amount) ++violations[V_BOND];
    }

    function completeBondWithdrawal(uint256 avsSeed, uint256 tokenSeed) external {
        uint32 avsId = avsIds[avsSeed % avsIds.length];
        MockERC20 token = tokens[tokenSeed % NT];
        IReputation.Bond memory b = rep.bondOf(avsId, address(token));
        if (b.queued == 0 || block.timestamp < b.maturity) return;
        // Held while any request of the AVS can still be vetoed, as the manager records at each request.
        uint40 vetoable = manager.getAVS(avsId).requestsVetoableUntil;
        if (block.timestamp < vetoable) {
            vm.expectRevert(abi.encodeWithSelector(IReputation.BondOnHold.selector, avsId, vetoable));
            vm.prank(avsAdmin);
            rep.completeBondWithdrawal(avsId, address(token), avsAdmin);
            return;
        }
        uint256 before = token.balanceOf(avsAdmin);
        vm.prank(avsAdmin);
        rep.completeBondWithdrawal(avsId, address(token), avsAdmin);
        ghostBondOut[address(token)] += b.queued;
        if (token.balanceOf(avsAdmin) != before + b.queued) ++violations[V_BOND];
    }

    // ------------------------------------------------------------------ slashing

    /// @dev A vetoable AVS (the first two) files a request on a pool it backs.
    function requestSlash(uint256 avsSeed, uint256 poolSeed, uint256 fraction) external {
        uint32 avsId = avsIds[avsSeed % 2];
        uint256 poolId = pools[poolSeed % NP];
        if (manager.slashableBacking(avsId, poolId) == 0) return;
        vm.prank(module);
        requests.push(manager.requestSlash(avsId, poolId, uint64(bound(fraction, 0.01e18, 1e18))));
    }

    /// @notice The resolver vetoes; checked: the fault is recorded and, when the bond covers the penalty and the pool
    /// may be paid, exactly the penalty leaves the bond (available first) and enters the vault.
    function vetoSlash(uint256 seed) external {
        // The newest vetoable request among the last few, starting at a random one of them.
        uint256 n = requests.length;
        uint64 id;
        IAllocationManager.Request memory r;
        for (uint256 k; k < 8 && k < n; ++k) {
            uint64 candidate = requests[n - 1 - (seed % 8 + k) % (n < 8 ? n : 8)];
            r = manager.getRequest(candidate);
            if (r.status == IAllocationManager.RequestStatus.Pending && block.timestamp < r.executableAt) {
                id = candidate;
                break;
            }
        }
        if (id == 0) return;
        (address asset,) = vault.poolAsset(r.poolId);
        uint256 asked = Math.mulDiv(
            manager.slashableBacking(r.avsId, r.poolId),
            uint256(rep.penaltyWad()) * r.fractionWad,
            1e36,
            Math.Rounding.Ceil
        );
        IReputation.Bond memory b0 = rep.bondOf(r.avsId, asset);
        uint256 vaultBefore = MockERC20(asset).balanceOf(address(vault));
        uint256 badBefore = rep.avsRecord(r.avsId).badWad;
        bool payable_ = vault.getPool(r.poolId).totalShares >= vault.MIN_COMPENSATION_SHARES();
        vm.prank(resolver);
        manager.vetoSlash(id);
        ++vetoes;
        IReputation.Bond memory b1 = rep.bondOf(r.avsId, asset);
        uint256 paid = uint256(b0.available) + b0.queued - b1.available - b1.queued;
        uint256 vaultAfter = MockERC20(asset).balanceOf(address(vault));
        ghostPenalties[asset] += paid;
        if (paid != 0) ++penaltiesPaid;
        if (vaultAfter != vaultBefore + paid) ++violations[V_PENALTY];
        if (payable_ && asked != 0 && uint256(b0.available) + b0.queued >= asked && paid != asked) {
            ++violations[V_PENALTY];
        }
        if (paid > asked) ++violations[V_PENALTY];
        // Available first: the queued part pays only what the available part could not.
        if (b0.queued - b1.queued > 0 && b1.available != 0) ++violations[V_PENALTY];
        if (rep.avsRecord(r.avsId).badWad < badBefore) ++violations[V_PENALTY];
    }

    function executeSlash(uint256 seed) external {
        if (requests.length == 0) return;
        uint64 id = requests[seed % requests.length];
        IAllocationManager.Request memory r = manager.getRequest(id);
        if (r.status != IAllocationManager.RequestStatus.Pending || block.timestamp < r.executableAt) return;
        if (block.timestamp > uint256(r.executableAt) + manager.executionWindow()) return;
        (address asset,) = vault.poolAsset(r.poolId);
        vm.prank(module);
        try manager.executeSlash(id) returns (uint256 amount) {
            ghostSlashed[asset] += amount;
        } catch {} // (a pool reset by a full slash voids the allocation: NotSlashable)
    }

    /// @dev The instant AVS (the third) slashes.
    function slash(uint256 poolSeed, uint256 fraction) external {
        uint32 avsId = avsIds[2];
        uint256 poolId = pools[poolSeed % NP];
        if (manager.slashableBacking(avsId, poolId) == 0) return;
        (address asset,) = vault.poolAsset(poolId);
        vm.prank(module);
        try manager.slash(avsId, poolId, uint64(bound(fraction, 0.01e18, 0.3e18))) returns (uint256 amount) {
            ghostSlashed[asset] += amount;
        } catch {}
    }

    function reportExecutedSlash(uint256 seed) external {
        if (requests.length == 0) return;
        try rep.reportExecutedSlash(requests[seed % requests.length]) {} catch {}
    }

    // ------------------------------------------------------------------ checkpoints

    /// @notice Checked: at most once per epoch; the subject (the AVS's admin) always gets its checkpoint, anyone else
    /// only when the record is tainted or lapsed; and the rating moves by at most maxStep.
    function checkpointAVS(uint256 avsSeed, uint256 poolSeed, bool bySubject) external {
        uint32 avsId = avsIds[avsSeed % avsIds.length];
        uint256 poolId = pools[poolSeed % NP];
        address caller = bySubject ? avsAdmin : address(0x5757);
        (uint256 current, uint256 before, bool expectOk) = _expect(rep.avsRecord(avsId), bySubject);
        vm.prank(caller);
        try rep.checkpointAVS(avsId, poolId) {
            if (!expectOk) ++violations[V_ONCE];
            _checkStep(before, rep.avsRating(avsId));
            lastAvsCheckpoint[avsId] = current + 1;
            lastAvsRating[avsId] = rep.avsRating(avsId);
            ++checkpoints;
        } catch {
            if (expectOk) ++violations[V_ONCE];
        }
    }

    function checkpointOperator(uint256 poolSeed, bool bySubject) external {
        uint256 p = poolSeed % NP;
        address operator = poolOperator[p];
        (uint256 current, uint256 before, bool expectOk) = _expect(rep.operatorRecord(operator), bySubject);
        vm.prank(bySubject ? operator : address(0x5757));
        try rep.checkpointOperator(operator, pools[p]) {
            if (!expectOk) ++violations[V_ONCE];
            _checkStep(before, rep.operatorRating(operator));
            lastOperatorCheckpoint[operator] = current + 1;
            lastOperatorRating[operator] = rep.operatorRating(operator);
            ++checkpoints;
        } catch {
            if (expectOk) ++violations[V_ONCE];
        }
    }

    /// @dev What a checkpoint of record `v` should do now: refused if it happened this epoch; for anyone but the
    /// subject, refused unless the record is tainted or its last checkpoint is older than the previous epoch.
    function _expect(IReputation.RecordView memory v, bool bySubject)
        internal
        view
        returns (uint256 current, uint256 before, bool ok)
    {
        current = rep.epoch();
        before = v.ratingWad;
        bool done = v.checkpointed && v.epoch == current;
        bool open = v.tainted || !v.checkpointed || uint256(v.epoch) + 1 < current;
        ok = !done && (bySubject || open);
    }

    // ------------------------------------------------------------------ standing

    /// @notice Checked against a ghost of the measures: the call measures a random subset of the pools (`mask`), each
    /// measure replacing the last; every token with a pool in the subset is re-judged (available bond below the
    /// required fraction of the token's measured backing, rounded up), the others keep their verdict; the manager
    /// receives the rating's risk weight in tenths (rounded up) and `bondShort` = some token is short.
    function refreshStanding(uint256 avsSeed, uint256 mask, bool byAdmin) external {
        uint32 avsId = avsIds[avsSeed % avsIds.length];
        uint256[] memory ids = new uint256[](NP);
        uint256 n;
        bool[NT] memory judged;
        for (uint256 p; p < NP; ++p) {
            if ((mask >> p) & 1 == 0) continue;
            ids[n++] = pools[p];
            _measured[avsId][p] = manager.committedBacking(avsId, pools[p]);
            judged[poolToken[p]] = true;
        }
        assembly ("memory-safe") {
            mstore(ids, n)
        }
        uint256 fraction = rep.requiredBondFractionWad(avsId);
        uint256 tenths = Math.ceilDiv(rep.riskWeightWad(avsId), 1e17);
        uint256[NT] memory backing;
        for (uint256 p; p < NP; ++p) {
            backing[poolToken[p]] += _measured[avsId][p];
        }
        for (uint256 t; t < NT; ++t) {
            if (!judged[t]) continue;
            uint256 required = Math.mulDiv(backing[t], fraction, WAD, Math.Rounding.Ceil);
            _shortIn[avsId][t] = rep.bondOf(avsId, address(tokens[t])).available < required;
        }
        vm.prank(byAdmin ? avsAdmin : address(0x5757));
        rep.refreshStanding(avsId, ids);
        bool short;
        for (uint256 t; t < NT; ++t) {
            IReputation.AssetStanding memory st = rep.assetStanding(avsId, address(tokens[t]));
            if (st.backing != backing[t] || st.short != _shortIn[avsId][t]) ++violations[V_STANDING];
            short = short || _shortIn[avsId][t];
        }
        IAllocationManager.AVS memory a = manager.getAVS(avsId);
        if (a.bondShort != short || a.riskWeightTenths != tenths) ++violations[V_STANDING];
    }

    // ------------------------------------------------------------------ fresh identities

    /// @notice A new AVS registers: it starts at the floor (rating 0, the harshest weight and bond).
    function registerAVS() external {
        if (avsIds.length >= 12) return;
        vm.prank(avsAdmin);
        uint32 avsId = manager.registerAVS("ipfs://new", module, address(0xBEEF), address(0), 0, 1e18);
        avsIds.push(avsId);
        if (
            rep.avsRating(avsId) != 0 || rep.riskWeightWad(avsId) != rep.riskWeightFloorWad()
                || rep.requiredBondFractionWad(avsId) != rep.bondFractionFloorWad() || !manager.getAVS(avsId).bondShort // the manager's gate is closed until a refresh
        ) ++violations[V_FRESH];
    }

    /// @notice A fresh operator address rates 0.
    function freshOperator(uint256 seed) external {
        address fresh = address(uint160(uint256(keccak256(abi.encode("fresh", seed)))));
        if (rep.operatorRating(fresh) != 0 || rep.operatorRecord(fresh).seen) ++violations[V_FRESH];
    }

    // ------------------------------------------------------------------ time

    function warp(uint256 dt) external {
        vm.warp(block.timestamp + bound(dt, 0, 3 days));
    }

    // ------------------------------------------------------------------ views for the invariants

    function violationCount(uint256 kind) external view returns (uint256) {
        return violations[kind];
    }

    function _checkStep(uint256 before, uint256 afterwards) internal {
        uint256 moved = before > afterwards ? before - afterwards : afterwards - before;
        if (moved > rep.ratingParams().maxStepWad) ++violations[V_STEP];
    }
}

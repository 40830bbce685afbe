// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {OperatorRegistry} from "../../contracts/OperatorRegistry.sol";
import {IOperatorRegistry} from "../../contracts/interfaces/IOperatorRegistry.sol";

contract OperatorRegistryTest is Test {
    OperatorRegistry internal registry;

    address internal opA = makeAddr("operatorA");
    address internal opB = makeAddr("operatorB");
    address internal stranger = makeAddr("stranger");
    address internal keyA = makeAddr("keyA");
    address internal keyB = makeAddr("keyB");

    uint48 internal constant T0 = 1_700_000_000;

    function setUp() public {
        vm.warp(T0);
        registry = new OperatorRegistry();
    }

    function _register(address op, string memory uri, address key) internal {
        vm.prank(op);
        registry.registerOperator(uri, key);
    }

    function _rotate(address op, address key) internal {
        vm.prank(op);
        registry.rotateSigningKey(key);
    }

    function _key(uint256 i) internal returns (address) {
        return makeAddr(string.concat("key-", vm.toString(i)));
    }

    // ================================================================== registerOperator

    function test_registerOperator_storesOperatorAndEmits() public {
        assertFalse(registry.isOperator(opA));
        vm.expectEmit(address(registry));
        emit IOperatorRegistry.OperatorRegistered(opA, keyA, "ipfs://a");
        _register(opA, "ipfs://a", keyA);

        assertTrue(registry.isOperator(opA));
        IOperatorRegistry.Operator memory o = registry.getOperator(opA);
        assertTrue(o.registered);
        assertEq(o.signingKey, keyA);
        assertEq(o.registeredAt, T0);
        assertEq(o.metadataURI, "ipfs://a");
        assertEq(registry.operatorOfKey(keyA), opA);

        IOperatorRegistry.KeyCheckpoint[] memory h = registry.keyHistory(opA);
        assertEq(h.length, 1);
        assertEq(h[0].since, T0);
        assertEq(h[0].key, keyA);
    }

    function test_registerOperator_independentOperators() public {
        _register(opA, "ipfs://a", keyA);
        vm.warp(T0 + 100);
        _register(opB, "", keyB); // an empty URI is accepted
        assertEq(registry.getOperator(opA).registeredAt, T0);
        assertEq(registry.getOperator(opB).registeredAt, T0 + 100);
        assertEq(registry.getOperator(opB).metadataURI, "");
        assertEq(registry.operatorOfKey(keyA), opA);
        assertEq(registry.operatorOfKey(keyB), opB);
        assertFalse(registry.isOperator(stranger));
    }

    function test_registerOperator_ownAddressAsKey() public {
        _register(opA, "ipfs://a", opA);
        assertEq(registry.operatorOfKey(opA), opA);
        assertEq(registry.getOperator(opA).signingKey, opA);
    }

    function test_RevertWhen_registerOperatorTwice() public {
        _register(opA, "ipfs://a", keyA);
        address other = _key(1);
        vm.prank(opA);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.AlreadyRegistered.selector, opA));
        registry.registerOperator("ipfs://again", other);
        assertEq(registry.getOperator(opA).metadataURI, "ipfs://a");
        assertEq(registry.getOperator(opA).signingKey, keyA);
        assertEq(registry.operatorOfKey(other), address(0));
        assertEq(registry.keyHistory(opA).length, 1);
    }

    function test_RevertWhen_registerOperatorZeroSigningKey() public {
        vm.prank(opA);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.ZeroSigningKey.selector));
        registry.registerOperator("ipfs://a", address(0));
        assertFalse(registry.isOperator(opA));
        assertEq(registry.keyHistory(opA).length, 0);
    }

    function test_RevertWhen_registerOperatorWithAnotherOperatorsKey() public {
        _register(opA, "ipfs://a", keyA);
        vm.prank(opB);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.SigningKeyAlreadyUsed.selector, keyA, opA));
        registry.registerOperator("ipfs://b", keyA);
        assertFalse(registry.isOperator(opB));
        assertEq(registry.operatorOfKey(keyA), opA);
    }

    function test_RevertWhen_registerOperatorWithAnotherOperatorsRetiredKey() public {
        _register(opA, "ipfs://a", keyA);
        _rotate(opA, _key(1));
        // keyA is no longer active but stays attributed to opA forever.
        vm.prank(opB);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.SigningKeyAlreadyUsed.selector, keyA, opA));
        registry.registerOperator("ipfs://b", keyA);
        assertFalse(registry.isOperator(opB));
    }

    // ================================================================== setMetadataURI

    function test_setMetadataURI_updatesAndEmits() public {
        _register(opA, "ipfs://a", keyA);
        vm.warp(T0 + 50);
        vm.expectEmit(address(registry));
        emit IOperatorRegistry.OperatorMetadataUpdated(opA, "https://a.example/v2");
        vm.prank(opA);
        registry.setMetadataURI("https://a.example/v2");
        IOperatorRegistry.Operator memory o = registry.getOperator(opA);
        assertEq(o.metadataURI, "https://a.example/v2");
        assertEq(o.signingKey, keyA);
        assertEq(o.registeredAt, T0);
        assertEq(registry.keyHistory(opA).length, 1);
    }

    function test_RevertWhen_setMetadataURINotRegistered() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.NotRegistered.selector, stranger));
        registry.setMetadataURI("ipfs://x");
        assertEq(registry.getOperator(stranger).metadataURI, "");
        assertFalse(registry.isOperator(stranger));
    }

    // ================================================================== rotateSigningKey

    function test_rotateSigningKey_updatesAndEmits() public {
        _register(opA, "ipfs://a", keyA);
        address k1 = _key(1);
        vm.warp(T0 + 10);
        vm.expectEmit(address(registry));
        emit IOperatorRegistry.SigningKeyRotated(opA, keyA, k1);
        _rotate(opA, k1);

        IOperatorRegistry.Operator memory o = registry.getOperator(opA);
        assertEq(o.signingKey, k1);
        assertEq(o.registeredAt, T0);
        assertEq(o.metadataURI, "ipfs://a");
        IOperatorRegistry.KeyCheckpoint[] memory h = registry.keyHistory(opA);
        assertEq(h.length, 2);
        assertEq(h[1].since, T0 + 10);
        assertEq(h[1].key, k1);
    }

    function test_RevertWhen_rotateSigningKeyNotRegistered() public {
        address k1 = _key(1);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.NotRegistered.selector, stranger));
        registry.rotateSigningKey(k1);
        assertEq(registry.operatorOfKey(k1), address(0));
        assertEq(registry.keyHistory(stranger).length, 0);
    }

    function test_RevertWhen_rotateSigningKeyZero() public {
        _register(opA, "ipfs://a", keyA);
        vm.prank(opA);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.ZeroSigningKey.selector));
        registry.rotateSigningKey(address(0));
        assertEq(registry.getOperator(opA).signingKey, keyA);
        assertEq(registry.keyHistory(opA).length, 1);
    }

    function test_RevertWhen_rotateSigningKeyToCurrentKey() public {
        _register(opA, "ipfs://a", keyA);
        vm.prank(opA);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.SigningKeyAlreadyUsed.selector, keyA, opA));
        registry.rotateSigningKey(keyA);
        assertEq(registry.keyHistory(opA).length, 1);
    }

    function test_RevertWhen_rotateSigningKeyToOwnOldKey() public {
        _register(opA, "ipfs://a", keyA);
        address k1 = _key(1);
        vm.warp(T0 + 10);
        _rotate(opA, k1);
        vm.warp(T0 + 20);
        vm.prank(opA);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.SigningKeyAlreadyUsed.selector, keyA, opA));
        registry.rotateSigningKey(keyA);
        assertEq(registry.getOperator(opA).signingKey, k1);
        assertEq(registry.keyHistory(opA).length, 2);
        assertEq(registry.signingKeyAt(opA, T0 + 20), k1);
    }

    function test_RevertWhen_rotateSigningKeyToAnotherOperatorsKey() public {
        _register(opA, "ipfs://a", keyA);
        _register(opB, "ipfs://b", keyB);
        vm.prank(opA);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.SigningKeyAlreadyUsed.selector, keyB, opB));
        registry.rotateSigningKey(keyB);
        assertEq(registry.getOperator(opA).signingKey, keyA);
        assertEq(registry.operatorOfKey(keyB), opB);
        assertEq(registry.keyHistory(opA).length, 1);
    }

    function test_rotateSigningKey_doesNotAffectOtherOperator() public {
        _register(opA, "ipfs://a", keyA);
        _register(opB, "ipfs://b", keyB);
        vm.warp(T0 + 10);
        _rotate(opA, _key(1));
        assertEq(registry.getOperator(opB).signingKey, keyB);
        assertEq(registry.keyHistory(opB).length, 1);
        assertEq(registry.signingKeyAt(opB, T0 + 10), keyB);
    }

    // ================================================================== operatorOfKey

    function test_operatorOfKey_keepsOldKeysAfterRotation() public {
        _register(opA, "ipfs://a", keyA);
        address k1 = _key(1);
        address k2 = _key(2);
        vm.warp(T0 + 10);
        _rotate(opA, k1);
        vm.warp(T0 + 20);
        _rotate(opA, k2);
        assertEq(registry.operatorOfKey(keyA), opA);
        assertEq(registry.operatorOfKey(k1), opA);
        assertEq(registry.operatorOfKey(k2), opA);
        assertEq(registry.getOperator(opA).signingKey, k2);
    }

    function test_operatorOfKey_unknownKeyIsZero() public {
        _register(opA, "ipfs://a", keyA);
        assertEq(registry.operatorOfKey(keyB), address(0));
        assertEq(registry.operatorOfKey(address(0)), address(0));
    }

    // ================================================================== signingKeyAt

    function test_signingKeyAt_unregisteredIsZero() public view {
        assertEq(registry.signingKeyAt(stranger, T0), address(0));
        assertEq(registry.signingKeyAt(stranger, type(uint48).max), address(0));
    }

    function test_signingKeyAt_beforeAndAtRegistration() public {
        _register(opA, "ipfs://a", keyA);
        assertEq(registry.signingKeyAt(opA, 0), address(0));
        assertEq(registry.signingKeyAt(opA, T0 - 1), address(0));
        assertEq(registry.signingKeyAt(opA, T0), keyA);
        assertEq(registry.signingKeyAt(opA, T0 + 1), keyA);
        assertEq(registry.signingKeyAt(opA, type(uint48).max), keyA);
    }

    /// @dev Register at T0 and rotate five times (six checkpoints, an even count) at uneven gaps: every boundary is
    /// checked one second before, at, and one second after.
    function test_signingKeyAt_severalRotationsEvenCount() public {
        uint48[6] memory at = [T0, T0 + 100, T0 + 101, T0 + 1000, T0 + 5000, T0 + 5001];
        address[6] memory keys;
        for (uint256 i; i < 6; ++i) {
            keys[i] = _key(i);
        }
        _register(opA, "ipfs://a", keys[0]);
        for (uint256 i = 1; i < 6; ++i) {
            vm.warp(at[i]);
            _rotate(opA, keys[i]);
        }

        assertEq(registry.signingKeyAt(opA, T0 - 1), address(0));
        for (uint256 i; i < 6; ++i) {
            // at the checkpoint and one second later (still before the next one unless they are adjacent)
            assertEq(registry.signingKeyAt(opA, at[i]), keys[i]);
            if (i + 1 < 6 && at[i + 1] > at[i] + 1) assertEq(registry.signingKeyAt(opA, at[i] + 1), keys[i]);
            // one second before the checkpoint: the previous key
            if (i > 0) assertEq(registry.signingKeyAt(opA, at[i] - 1), keys[i - 1]);
        }
        // Explicit expectations, independent of the loop above.
        assertEq(registry.signingKeyAt(opA, T0 + 99), keys[0]);
        assertEq(registry.signingKeyAt(opA, T0 + 100), keys[1]);
        assertEq(registry.signingKeyAt(opA, T0 + 101), keys[2]);
        assertEq(registry.signingKeyAt(opA, T0 + 500), keys[2]);
        assertEq(registry.signingKeyAt(opA, T0 + 4999), keys[3]);
        assertEq(registry.signingKeyAt(opA, T0 + 5000), keys[4]);
        assertEq(registry.signingKeyAt(opA, T0 + 5001), keys[5]);
        assertEq(registry.signingKeyAt(opA, type(uint48).max), keys[5]);
    }

    /// @dev Register and rotate three times more (five checkpoints, an odd count) to cover the other search shape.
    function test_signingKeyAt_severalRotationsOddCount() public {
        address k0 = _key(10);
        address k1 = _key(11);
        address k2 = _key(12);
        address k3 = _key(13);
        address k4 = _key(14);
        _register(opA, "ipfs://a", k0); // T0
        vm.warp(T0 + 10);
        _rotate(opA, k1);
        vm.warp(T0 + 20);
        _rotate(opA, k2);
        vm.warp(T0 + 30);
        _rotate(opA, k3);
        vm.warp(T0 + 40);
        _rotate(opA, k4);

        assertEq(registry.signingKeyAt(opA, T0 - 1), address(0));
        assertEq(registry.signingKeyAt(opA, T0), k0);
        assertEq(registry.signingKeyAt(opA, T0 + 9), k0);
        assertEq(registry.signingKeyAt(opA, T0 + 10), k1);
        assertEq(registry.signingKeyAt(opA, T0 + 19), k1);
        assertEq(registry.signingKeyAt(opA, T0 + 20), k2);
        assertEq(registry.signingKeyAt(opA, T0 + 29), k2);
        assertEq(registry.signingKeyAt(opA, T0 + 30), k3);
        assertEq(registry.signingKeyAt(opA, T0 + 39), k3);
        assertEq(registry.signingKeyAt(opA, T0 + 40), k4);
        assertEq(registry.signingKeyAt(opA, T0 + 41), k4);
    }

    function test_signingKeyAt_rotationsInSameSecondReturnLatest() public {
        address k1 = _key(1);
        address k2 = _key(2);
        _register(opA, "ipfs://a", keyA);
        _rotate(opA, k1); // same timestamp as the registration
        _rotate(opA, k2);
        assertEq(registry.signingKeyAt(opA, T0 - 1), address(0));
        assertEq(registry.signingKeyAt(opA, T0), k2);
        // The skipped keys are still attributed to opA.
        assertEq(registry.operatorOfKey(keyA), opA);
        assertEq(registry.operatorOfKey(k1), opA);
        assertEq(registry.keyHistory(opA).length, 3);
    }

    // ================================================================== keyHistory / getOperator

    function test_keyHistory_oldestFirst() public {
        address k1 = _key(1);
        address k2 = _key(2);
        _register(opA, "ipfs://a", keyA);
        vm.warp(T0 + 7);
        _rotate(opA, k1);
        vm.warp(T0 + 9);
        _rotate(opA, k2);
        IOperatorRegistry.KeyCheckpoint[] memory h = registry.keyHistory(opA);
        assertEq(h.length, 3);
        assertEq(h[0].key, keyA);
        assertEq(h[0].since, T0);
        assertEq(h[1].key, k1);
        assertEq(h[1].since, T0 + 7);
        assertEq(h[2].key, k2);
        assertEq(h[2].since, T0 + 9);
    }

    function test_keyHistory_emptyForUnregistered() public view {
        assertEq(registry.keyHistory(stranger).length, 0);
    }

    function test_getOperator_unregisteredIsEmpty() public view {
        IOperatorRegistry.Operator memory o = registry.getOperator(stranger);
        assertFalse(o.registered);
        assertEq(o.signingKey, address(0));
        assertEq(o.registeredAt, 0);
        assertEq(o.metadataURI, "");
    }
}

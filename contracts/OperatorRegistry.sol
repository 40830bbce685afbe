// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IOperatorRegistry} from "./interfaces/IOperatorRegistry.sol";

/// @title OperatorRegistry
/// @notice Who the operators are and which keys speak for them, now and in the past.
contract OperatorRegistry is IOperatorRegistry {
    mapping(address operator => Operator) internal _operators;
    mapping(address operator => KeyCheckpoint[]) internal _keyHistory;
    mapping(address key => address operator) public operatorOfKey;

    /// @inheritdoc IOperatorRegistry
    function registerOperator(string calldata metadataURI, address signingKey) external {
        if (_operators[msg.sender].registered) revert AlreadyRegistered(msg.sender);
        _claimKey(signingKey);
        _operators[msg.sender] = Operator({
            registered: true, signingKey: signingKey, registeredAt: uint48(block.timestamp), metadataURI: metadataURI
        });
        _keyHistory[msg.sender].push(KeyCheckpoint({since: uint48(block.timestamp), key: signingKey}));
        emit OperatorRegistered(msg.sender, signingKey, metadataURI);
    }

    /// @inheritdoc IOperatorRegistry
    function setMetadataURI(string calldata metadataURI) external {
        Operator storage op = _registered(msg.sender);
        op.metadataURI = metadataURI;
        emit OperatorMetadataUpdated(msg.sender, metadataURI);
    }

    /// @inheritdoc IOperatorRegistry
    function rotateSigningKey(address newKey) external {
        Operator storage op = _registered(msg.sender);
        _claimKey(newKey);
        address oldKey = op.signingKey;
        op.signingKey = newKey;
        _keyHistory[msg.sender].push(KeyCheckpoint({since: uint48(block.timestamp), key: newKey}));
        emit SigningKeyRotated(msg.sender, oldKey, newKey);
    }

    /// @inheritdoc IOperatorRegistry
    function isOperator(address operator) external view returns (bool) {
        return _operators[operator].registered;
    }

    /// @inheritdoc IOperatorRegistry
    function getOperator(address operator) external view returns (Operator memory) {
        return _operators[operator];
    }

    /// @inheritdoc IOperatorRegistry
    function signingKeyAt(address operator, uint48 timestamp) external view returns (address key) {
        KeyCheckpoint[] storage history = _keyHistory[operator];
        // Binary search for the last checkpoint with since <= timestamp: rotations are an operator's own choice,
        // but a lookup must stay cheap for slashing modules however many there were.
        uint256 lo;
        uint256 hi = history.length;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (history[mid].since <= timestamp) lo = mid + 1;
            else hi = mid;
        }
        return lo == 0 ? address(0) : history[lo - 1].key;
    }

    /// @inheritdoc IOperatorRegistry
    function keyHistory(address operator) external view returns (KeyCheckpoint[] memory) {
        return _keyHistory[operator];
    }

    function _registered(address operator) internal view returns (Operator storage op) {
        op = _operators[operator];
        if (!op.registered) revert NotRegistered(operator);
    }

    function _claimKey(address key) internal {
        if (key == address(0)) revert ZeroSigningKey();
        address owner = operatorOfKey[key];
        if (owner != address(0)) revert SigningKeyAlreadyUsed(key, owner);
        operatorOfKey[key] = msg.sender;
    }
}

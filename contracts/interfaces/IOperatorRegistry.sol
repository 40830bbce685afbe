// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Operator registry
/// @notice Operators run services for AVSs and receive delegated stake. Each operator has a metadata URI and a
/// signing key that slashing modules verify proofs against (for example a double-signing proof).
/// @dev Key rotation never erases history: every key an operator ever registered stays attributed to it forever
/// (`operatorOfKey`), and `signingKeyAt` answers which key was active at any past time. A proof about an old key
/// therefore still reaches the operator after a rotation. A key can belong to one operator only, ever, so nobody can
/// register someone else's key to frame them or to deflect a proof.
interface IOperatorRegistry {
    /// @notice The operator's current state.
    struct Operator {
        bool registered;
        address signingKey;
        uint48 registeredAt;
        string metadataURI;
    }

    /// @notice A signing key and the time it became active.
    struct KeyCheckpoint {
        uint48 since;
        address key;
    }

    /// @notice The caller is already a registered operator.
    error AlreadyRegistered(address operator);
    /// @notice The address is not a registered operator.
    error NotRegistered(address operator);
    /// @notice The signing key is the zero address.
    error ZeroSigningKey();
    /// @notice The signing key was registered before (by this or another operator).
    error SigningKeyAlreadyUsed(address key, address owner);

    /// @notice An operator registered.
    event OperatorRegistered(address indexed operator, address indexed signingKey, string metadataURI);
    /// @notice An operator changed its metadata URI.
    event OperatorMetadataUpdated(address indexed operator, string metadataURI);
    /// @notice An operator rotated its signing key; the old key stays attributed to it.
    event SigningKeyRotated(address indexed operator, address indexed oldKey, address indexed newKey);

    /// @notice Registers the caller as an operator.
    /// @param metadataURI Off-chain description (name, website, AVS endpoints).
    /// @param signingKey Address whose ECDSA signatures slashing modules attribute to the caller.
    function registerOperator(string calldata metadataURI, address signingKey) external;

    /// @notice Replaces the caller's metadata URI.
    function setMetadataURI(string calldata metadataURI) external;

    /// @notice Makes `newKey` the caller's active signing key from now on. The old key stays attributed.
    function rotateSigningKey(address newKey) external;

    /// @notice True if `operator` is registered.
    function isOperator(address operator) external view returns (bool);

    /// @notice The operator's current state.
    function getOperator(address operator) external view returns (Operator memory);

    /// @notice The operator that registered `key` at any time, or zero.
    function operatorOfKey(address key) external view returns (address);

    /// @notice The key that was active for `operator` at `timestamp` (zero before registration).
    function signingKeyAt(address operator, uint48 timestamp) external view returns (address);

    /// @notice Every key `operator` has used, oldest first.
    function keyHistory(address operator) external view returns (KeyCheckpoint[] memory);
}

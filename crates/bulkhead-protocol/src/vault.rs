//! Staker verbs on `StakeVault` (and the demo tokens they move): deposits, tiers, withdrawals, redelegation.

use alloy::primitives::{Address, U256};
use bulkhead_contracts::{MockERC20, OperatorRegistry, StakeVault};
use bulkhead_evm::deploy::initcode;

use crate::{Protocol, Result, Sent, Views};

impl Protocol<'_> {
    /// `OperatorRegistry.registerOperator` by `operator`, with signing key `key` (metadata `ipfs://<label>`).
    pub fn register_operator(&mut self, operator: Address, key: Address) -> Result<Sent<()>> {
        let uri = format!("ipfs://{}", self.engine.name_of(operator));
        let call = OperatorRegistry::registerOperatorCall {
            metadataURI: uri,
            signingKey: key,
        };
        self.tx(operator, self.sys.registry, call)
            .map(|r| r.map(|_| ()))
    }

    /// Mints `amount` of the demo token `token` to `to` (the mocks let anyone mint).
    pub fn mint(&mut self, token: Address, to: Address, amount: U256) -> Result<Sent<()>> {
        self.tx(to, token, MockERC20::mintCall { to, amount })
            .map(|r| r.map(|_| ()))
    }

    /// `staker` approves the vault to take `amount` of `token`.
    pub fn approve_vault(
        &mut self,
        staker: Address,
        token: Address,
        amount: U256,
    ) -> Result<Sent<bool>> {
        let spender = self.sys.vault;
        self.tx(
            staker,
            token,
            MockERC20::approveCall {
                spender,
                value: amount,
            },
        )
    }

    /// `StakeVault.deposit`: `staker` deposits `amount` of `asset` with `operator` (tokens approved beforehand).
    pub fn deposit(
        &mut self,
        staker: Address,
        operator: Address,
        asset: Address,
        amount: U256,
    ) -> Result<Sent<StakeVault::depositReturn>> {
        let call = StakeVault::depositCall {
            operator,
            asset,
            assets: amount,
        };
        self.tx(staker, self.sys.vault, call)
    }

    /// Mints, approves and deposits (`VaultFixture._deposit`): the deposit's (pool id, shares).
    pub fn mint_and_deposit(
        &mut self,
        staker: Address,
        operator: Address,
        asset: Address,
        amount: U256,
    ) -> Result<StakeVault::depositReturn> {
        self.mint(asset, staker, amount)?;
        self.approve_vault(staker, asset, amount)?;
        Ok(self.deposit(staker, operator, asset, amount)?.value)
    }

    /// Opens the base pool `base_pool` to a tier run by `tier_operator`, as far as it is not yet: the owner allows
    /// tiers over it and `base_operator` approves `tier_operator`. Sends nothing when both hold already.
    pub fn open_tier(
        &mut self,
        base_pool: U256,
        base_operator: Address,
        tier_operator: Address,
    ) -> Result<()> {
        let vault = self.sys.vault;
        if !self.tier_allowed(base_pool)? {
            let call = StakeVault::setTierAllowedCall {
                basePoolId: base_pool,
                allowed: true,
            };
            self.tx(self.sys.owner, vault, call)?;
        }
        if !self.tier_operator_approved(base_pool, tier_operator)? {
            let call = StakeVault::approveTierOperatorCall {
                basePoolId: base_pool,
                operator: tier_operator,
                approved: true,
            };
            self.tx(base_operator, vault, call)?;
        }
        Ok(())
    }

    /// `StakeVault.depositToTier`: `staker` moves `base_shares` of `base_pool` into the tier `operator` runs over it.
    pub fn deposit_to_tier(
        &mut self,
        staker: Address,
        base_pool: U256,
        operator: Address,
        base_shares: U256,
    ) -> Result<Sent<StakeVault::depositToTierReturn>> {
        let call = StakeVault::depositToTierCall {
            basePoolId: base_pool,
            operator,
            baseShares: base_shares,
        };
        self.tx(staker, self.sys.vault, call)
    }

    /// `StakeVault.queueWithdrawal`: the withdrawal's id.
    pub fn queue_withdrawal(
        &mut self,
        staker: Address,
        pool: U256,
        shares: U256,
    ) -> Result<Sent<U256>> {
        let call = StakeVault::queueWithdrawalCall {
            poolId: pool,
            shares,
        };
        self.tx(staker, self.sys.vault, call)
    }

    /// `StakeVault.completeWithdrawal`: the assets paid to `receiver`.
    pub fn complete_withdrawal(
        &mut self,
        staker: Address,
        withdrawal: U256,
        receiver: Address,
    ) -> Result<Sent<U256>> {
        let call = StakeVault::completeWithdrawalCall {
            withdrawalId: withdrawal,
            receiver,
        };
        self.tx(staker, self.sys.vault, call)
    }

    /// `StakeVault.completeRedelegation`: a matured withdrawal re-deposited with `operator`, as (pool id, shares).
    pub fn redelegate(
        &mut self,
        staker: Address,
        withdrawal: U256,
        operator: Address,
    ) -> Result<Sent<StakeVault::completeRedelegationReturn>> {
        let call = StakeVault::completeRedelegationCall {
            withdrawalId: withdrawal,
            operator,
        };
        self.tx(staker, self.sys.vault, call)
    }

    /// Deploys a `MockERC20` (`symbol`, `decimals`) from the owner and allowlists it in the vault.
    pub fn deploy_token(&mut self, symbol: &str, decimals: u8) -> Result<Address> {
        let args = MockERC20::constructorCall {
            name: symbol.to_string(),
            symbol: symbol.to_string(),
            decimals_: decimals,
        };
        let code = initcode(&MockERC20::BYTECODE, &args);
        let token = self.deploy(self.sys.owner, symbol, "MockERC20.constructor", code)?;
        self.set_asset_allowed(token, true)?;
        Ok(token)
    }

    /// `StakeVault.setAssetAllowed` by the owner.
    pub fn set_asset_allowed(&mut self, asset: Address, allowed: bool) -> Result<Sent<()>> {
        let call = StakeVault::setAssetAllowedCall { asset, allowed };
        self.tx(self.sys.owner, self.sys.vault, call)
            .map(|r| r.map(|_| ()))
    }
}

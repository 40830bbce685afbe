//! Reputation verbs on `Reputation` (issue 16): turning it on, AVS bonds, checkpoints, fault reports, standing, and
//! re-pricing shared allocations at their AVS's risk weight (`AllocationManager.applyPending`).

use alloy::primitives::{Address, U256};
use bulkhead_contracts::{AllocationManager, MockERC20, Reputation, StakeVault};

use crate::{Protocol, Result, Sent};

/// `IReputation.Parameter`: the kind of a queued parameter change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Parameter {
    /// λ, z and the step bound.
    Rating = 0,
    /// Bad evidence per fault kind.
    FaultWeights = 1,
    /// Risk weights at the floor and the top of the scale.
    RiskWeights = 2,
    /// Required bond fractions at the floor and the top.
    BondFractions = 3,
    /// The share of a vetoed request's ask its AVS pays.
    Penalty = 4,
    /// An asset's evidence unit (target: the asset).
    EvidenceUnit = 5,
    /// A trusted double-sign module (target: the module).
    TrustedModule = 6,
}

impl Protocol<'_> {
    /// The owner turns reputation on: the manager hears vetoes from it and takes standings from it
    /// (`setReputation`), the vault takes its penalties (`setCompensator`). AVSs registered afterwards start
    /// bond-short.
    pub fn enable_reputation(&mut self) -> Result<()> {
        let (owner, reputation) = (self.sys.owner, self.sys.reputation);
        let call = AllocationManager::setReputationCall {
            reputation_: reputation,
        };
        self.tx(owner, self.sys.manager, call)?;
        let call = StakeVault::setCompensatorCall {
            compensator_: reputation,
        };
        self.tx(owner, self.sys.vault, call)?;
        Ok(())
    }

    /// The owner queues a parameter change (`queueChange`); it applies after `PARAMETER_DELAY`
    /// ([`Protocol::apply_change`]). For `EvidenceUnit`, `target` is the asset and `value` the amount at stake for one
    /// epoch that earns a full unit of good evidence.
    pub fn queue_change(
        &mut self,
        kind: Parameter,
        target: Address,
        value: U256,
    ) -> Result<Sent<()>> {
        let call = Reputation::queueChangeCall {
            kindCode: kind as u8,
            target,
            value,
        };
        self.tx_unit(self.sys.owner, self.sys.reputation, call)
    }

    /// Applies a queued change whose delay is over (anyone may).
    pub fn apply_change(
        &mut self,
        from: Address,
        kind: Parameter,
        target: Address,
    ) -> Result<Sent<()>> {
        let call = Reputation::applyChangeCall {
            kindCode: kind as u8,
            target,
        };
        self.tx_unit(from, self.sys.reputation, call)
    }

    /// Mints `amount` of `asset` to `from`, approves the reputation contract and deposits it into `avs`'s bond.
    pub fn mint_and_bond(
        &mut self,
        from: Address,
        avs: u32,
        asset: Address,
        amount: U256,
    ) -> Result<Sent<()>> {
        self.mint(asset, from, amount)?;
        let approve = MockERC20::approveCall {
            spender: self.sys.reputation,
            value: amount,
        };
        self.tx(from, asset, approve)?;
        self.deposit_bond(from, avs, asset, amount)
    }

    /// `Reputation.depositBond`: adds `amount` (already approved) to `avs`'s bond in `asset`.
    pub fn deposit_bond(
        &mut self,
        from: Address,
        avs: u32,
        asset: Address,
        amount: U256,
    ) -> Result<Sent<()>> {
        let call = Reputation::depositBondCall {
            avsId: avs,
            asset,
            amount,
        };
        self.tx_unit(from, self.sys.reputation, call)
    }

    /// `Reputation.queueBondWithdrawal`, by the AVS's admin.
    pub fn queue_bond_withdrawal(
        &mut self,
        admin: Address,
        avs: u32,
        asset: Address,
        amount: U256,
    ) -> Result<Sent<()>> {
        let call = Reputation::queueBondWithdrawalCall {
            avsId: avs,
            asset,
            amount,
        };
        self.tx_unit(admin, self.sys.reputation, call)
    }

    /// `Reputation.completeBondWithdrawal`, by the AVS's admin, paid to `to`.
    pub fn complete_bond_withdrawal(
        &mut self,
        admin: Address,
        avs: u32,
        asset: Address,
        to: Address,
    ) -> Result<Sent<()>> {
        let call = Reputation::completeBondWithdrawalCall {
            avsId: avs,
            asset,
            to,
        };
        self.tx_unit(admin, self.sys.reputation, call)
    }

    /// `Reputation.checkpointAVS`: closes the epoch for `avs`, crediting its backing in `pool`.
    pub fn checkpoint_avs(&mut self, from: Address, avs: u32, pool: U256) -> Result<Sent<()>> {
        let call = Reputation::checkpointAVSCall {
            avsId: avs,
            poolId: pool,
        };
        self.tx_unit(from, self.sys.reputation, call)
    }

    /// `Reputation.checkpointOperator`: closes the epoch for `operator` from its pool `pool`.
    pub fn checkpoint_operator(
        &mut self,
        from: Address,
        operator: Address,
        pool: U256,
    ) -> Result<Sent<()>> {
        let call = Reputation::checkpointOperatorCall {
            operator,
            poolId: pool,
        };
        self.tx_unit(from, self.sys.reputation, call)
    }

    /// `Reputation.refreshStanding`: measures `avs`'s backing in `pools` (each measure replaces the pool's last) and
    /// pushes its risk weight and bond status to the manager.
    pub fn refresh_standing(
        &mut self,
        from: Address,
        avs: u32,
        pools: &[U256],
    ) -> Result<Sent<()>> {
        let call = Reputation::refreshStandingCall {
            avsId: avs,
            poolIds: pools.to_vec(),
        };
        self.tx_unit(from, self.sys.reputation, call)
    }

    /// `Reputation.reportExecutedSlash`: the executed request's fault on its pool's operator.
    pub fn report_executed_slash(&mut self, from: Address, request: u64) -> Result<Sent<()>> {
        let call = Reputation::reportExecutedSlashCall { requestId: request };
        self.tx_unit(from, self.sys.reputation, call)
    }

    /// `AllocationManager.applyPending`: matured changes of `pool`'s allocations to `avs_ids` take effect, and each
    /// shared one is re-priced at its AVS's current risk weight.
    pub fn apply_pending(
        &mut self,
        from: Address,
        pool: U256,
        avs_ids: &[u32],
    ) -> Result<Sent<()>> {
        let call = AllocationManager::applyPendingCall {
            poolId: pool,
            avsIds: avs_ids.to_vec(),
        };
        self.tx(from, self.sys.manager, call).map(|r| r.map(|_| ()))
    }
}

//! A step's events in words: the key result of each (what was taken, where the guard cut, when a change takes
//! effect); events that only accompany others say nothing.

use alloy::primitives::U256;
use bulkhead_contracts::{
    Mode,
    bindings::{
        AllocationManager::AllocationManagerEvents, CommitteeSlasher::CommitteeSlasherEvents,
        DoubleSignSlasher::DoubleSignSlasherEvents, StakeVault::StakeVaultEvents,
    },
};
use bulkhead_evm::{BulkheadEvent, DecodedEvent};

use super::Run;
use crate::units::{format_percent, format_units};

impl Run<'_> {
    /// The key result of an event, in words; `None` for events that only accompany others.
    pub(super) fn describe(&self, event: &DecodedEvent) -> Option<String> {
        match event.typed.as_ref()? {
            BulkheadEvent::Manager(e) => self.describe_manager(e),
            BulkheadEvent::Vault(e) => self.describe_vault(e),
            BulkheadEvent::DoubleSign(DoubleSignSlasherEvents::DoubleSignSlashed(e)) => {
                Some(format!(
                    "double sign proven: {} in round {}, {} slashed",
                    self.engine.name_of(e.operator),
                    e.round,
                    self.pool_name(e.poolId)
                ))
            }
            BulkheadEvent::Committee(CommitteeSlasherEvents::QuorumRequested(e)) => Some(format!(
                "proposal #{} reached its quorum: request #{}",
                e.proposalId, e.requestId
            )),
            BulkheadEvent::Committee(CommitteeSlasherEvents::SlashProposed(e)) => Some(format!(
                "proposal #{}: {} of the backing in {}",
                e.proposalId,
                format_percent(U256::from(e.fractionWad)),
                self.pool_name(e.poolId)
            )),
            _ => None,
        }
    }

    fn describe_manager(&self, event: &AllocationManagerEvents) -> Option<String> {
        Some(match event {
            AllocationManagerEvents::OperatorSlashed(e) => format!(
                "{} took {} from {}",
                self.avs_name(e.avsId),
                self.pool_amount(e.poolId, e.amount),
                self.pool_name(e.poolId)
            ),
            AllocationManagerEvents::CascadeGuardTripped(e) => format!(
                "guard tripped on {}: {} asked {}, allowed {}",
                self.pool_name(e.poolId),
                self.avs_name(e.avsId),
                self.pool_amount(e.poolId, e.requested),
                self.pool_amount(e.poolId, e.allowed)
            ),
            AllocationManagerEvents::SlashRequested(e) => format!(
                "request #{}: {} of {}'s backing in {}, executable at {}",
                e.requestId,
                format_percent(U256::from(e.fractionWad)),
                self.avs_name(e.avsId),
                self.pool_name(e.poolId),
                self.since_start(e.executableAt.to::<u64>())
            ),
            AllocationManagerEvents::SlashVetoed(e) => format!("request #{} vetoed", e.requestId),
            AllocationManagerEvents::AllocationModified(e) => format!(
                "{} in {}: {}, effective at {}",
                self.avs_name(e.avsId),
                self.pool_name(e.poolId),
                Mode::from_code(e.mode).map_or("none", Mode::name),
                self.since_start(e.effectAt.to::<u64>())
            ),
            AllocationManagerEvents::OperatorOptedOut(e) => format!(
                "{} left {}, slashable until {}",
                self.engine.name_of(e.operator),
                self.avs_name(e.avsId),
                self.since_start(e.slashableUntil.to::<u64>())
            ),
            _ => return None,
        })
    }

    fn describe_vault(&self, event: &StakeVaultEvents) -> Option<String> {
        Some(match event {
            StakeVaultEvents::Deposited(e) => format!(
                "{} shares of {}",
                format_units(e.shares, self.pool_unit(e.poolId).0),
                self.pool_name(e.poolId)
            ),
            StakeVaultEvents::TierDeposited(e) => format!(
                "{} shares of tier {}",
                format_units(e.shares, self.pool_unit(e.basePoolId).0),
                self.pool_name(e.tierPoolId)
            ),
            StakeVaultEvents::WithdrawalQueued(e) => format!(
                "withdrawal #{}: {} shares of {}, matures at {}",
                e.withdrawalId,
                format_units(e.shares, self.pool_unit(e.poolId).0),
                self.pool_name(e.poolId),
                self.since_start(e.maturity.to::<u64>())
            ),
            StakeVaultEvents::WithdrawalCompleted(e) => {
                format!(
                    "withdrawal #{} paid {} to {}",
                    e.withdrawalId,
                    self.withdrawal_paid(e.withdrawalId >> 64, e.assets),
                    self.engine.name_of(e.receiver)
                )
            }
            StakeVaultEvents::PoolReset(e) => format!(
                "{} fully slashed: generation {} starts",
                self.pool_name(e.poolId),
                e.generation
            ),
            _ => return None,
        })
    }

    /// What a completed withdrawal from `pool_id` paid: tokens, or a tier's base shares.
    fn withdrawal_paid(&self, pool_id: U256, paid: U256) -> String {
        let tier_of = self
            .pool_ids
            .iter()
            .position(|p| *p == Some(pool_id))
            .and_then(|i| self.sc.pools[i].tier_of);
        match tier_of {
            Some(base) => format!(
                "{} {} shares",
                format_units(paid, self.sc.assets[self.sc.pools[base].asset].decimals),
                self.sc.pools[base].name
            ),
            None => self.pool_amount(pool_id, paid),
        }
    }
}

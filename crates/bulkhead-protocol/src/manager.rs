//! Operator, AVS and governance verbs on `AllocationManager`: membership, allocations, slashes (instant, requested,
//! vetoed, executed), the cascade guard and the reuse cap.

use alloy::primitives::{Address, U256, aliases::U48};
use bulkhead_contracts::{AllocationManager, Mode};

use crate::{Protocol, Result, Sent, Views};

/// What `registerAVS` takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvsRegistration {
    /// `metadataURI`.
    pub metadata_uri: String,
    /// The AVS's slashing module: the only address that can slash or request for it.
    pub slasher: Address,
    /// Where its slashes go.
    pub sink: Address,
    /// Who can veto its requests (zero for an instant AVS).
    pub resolver: Address,
    /// Seconds a request waits for a veto (zero for an instant AVS).
    pub veto_window: u64,
    /// Largest fraction of a backing one slash takes (WAD).
    pub max_slash_wad: u64,
}

impl Protocol<'_> {
    /// `AllocationManager.registerAVS`, sent by `from`: the new AVS's id.
    pub fn register_avs(&mut self, from: Address, avs: &AvsRegistration) -> Result<Sent<u32>> {
        let call = AllocationManager::registerAVSCall {
            metadataURI: avs.metadata_uri.clone(),
            slasher: avs.slasher,
            sink: avs.sink,
            resolver: avs.resolver,
            vetoWindow: U48::from(avs.veto_window),
            maxSlashWad: avs.max_slash_wad,
        };
        self.tx(from, self.sys.manager, call)
    }

    /// `AllocationManager.optIn`: `operator` joins the AVS's operator set.
    pub fn opt_in(&mut self, operator: Address, avs: u32) -> Result<Sent<()>> {
        let call = AllocationManager::optInCall { avsId: avs };
        self.tx(operator, self.sys.manager, call)
            .map(|r| r.map(|_| ()))
    }

    /// Opts `operator` in unless it is already a member.
    pub fn ensure_opted_in(&mut self, operator: Address, avs: u32) -> Result<()> {
        if !self.membership(avs, operator)?.optedIn {
            self.opt_in(operator, avs)?;
        }
        Ok(())
    }

    /// `AllocationManager.optOut`: `operator` leaves (its allocations wind down over the deallocation delay).
    pub fn opt_out(&mut self, operator: Address, avs: u32) -> Result<Sent<()>> {
        let call = AllocationManager::optOutCall { avsId: avs };
        self.tx(operator, self.sys.manager, call)
            .map(|r| r.map(|_| ()))
    }

    /// `AllocationManager.allocate`, sent by `from` (the pool's operator, or anyone to see it refused): sets the
    /// AVS's allocation of `pool` to `fraction_wad` in `mode`. Increases wait out the allocation delay, decreases the
    /// deallocation delay.
    pub fn allocate(
        &mut self,
        from: Address,
        pool: U256,
        avs: u32,
        mode: Mode,
        fraction_wad: u64,
    ) -> Result<Sent<()>> {
        let call = AllocationManager::allocateCall {
            poolId: pool,
            avsId: avs,
            mode: mode.code(),
            fractionWad: fraction_wad,
        };
        self.tx(from, self.sys.manager, call).map(|r| r.map(|_| ()))
    }

    /// `AllocationManager.slash`, sent by `module` (the AVS's slashing module): the amount taken from `pool`.
    pub fn slash(
        &mut self,
        module: Address,
        avs: u32,
        pool: U256,
        fraction_wad: u64,
    ) -> Result<Sent<U256>> {
        let call = AllocationManager::slashCall {
            avsId: avs,
            poolId: pool,
            fractionWad: fraction_wad,
        };
        self.tx(module, self.sys.manager, call)
    }

    /// `AllocationManager.requestSlash`, sent by `module` (a vetoable AVS's module): the request's id.
    pub fn request_slash(
        &mut self,
        module: Address,
        avs: u32,
        pool: U256,
        fraction_wad: u64,
    ) -> Result<Sent<u64>> {
        let call = AllocationManager::requestSlashCall {
            avsId: avs,
            poolId: pool,
            fractionWad: fraction_wad,
        };
        self.tx(module, self.sys.manager, call)
    }

    /// `AllocationManager.vetoSlash`, sent by the AVS's resolver.
    pub fn veto(&mut self, resolver: Address, request: u64) -> Result<Sent<()>> {
        let call = AllocationManager::vetoSlashCall { requestId: request };
        self.tx(resolver, self.sys.manager, call)
            .map(|r| r.map(|_| ()))
    }

    /// `AllocationManager.executeSlash`, sent by the AVS's module after the veto window: the amount taken.
    pub fn execute_slash(&mut self, module: Address, request: u64) -> Result<Sent<U256>> {
        let call = AllocationManager::executeSlashCall { requestId: request };
        self.tx(module, self.sys.manager, call)
    }

    /// `AllocationManager.setGuard` by the owner: at most `max_fraction_wad` of a pool's value leaves in `window`
    /// seconds.
    pub fn set_guard(&mut self, max_fraction_wad: u64, window: u32) -> Result<Sent<()>> {
        let call = AllocationManager::setGuardCall {
            maxFractionWad: max_fraction_wad,
            window,
        };
        self.tx(self.sys.owner, self.sys.manager, call)
            .map(|r| r.map(|_| ()))
    }

    /// `AllocationManager.setReuseCap`, sent by `from` (the pool's operator): shared stake may reach `cap_bps` of
    /// the pool.
    pub fn set_reuse_cap(&mut self, from: Address, pool: U256, cap_bps: u32) -> Result<Sent<()>> {
        let call = AllocationManager::setReuseCapCall {
            poolId: pool,
            capBps: cap_bps,
        };
        self.tx(from, self.sys.manager, call).map(|r| r.map(|_| ()))
    }
}

//! The revm that runs an in-memory engine's transactions: one per thread, reused, with the engine's database lent
//! to it for each call.

use std::{
    cell::RefCell,
    sync::{Mutex, PoisonError},
};

use revm::{
    Context, MainBuilder, MainContext,
    database::CacheDB,
    handler::{MainnetContext, MainnetEvm},
    inspector::CountInspector,
};

use super::{EngineConfig, OpcodeCounts};
use crate::fork::Upstream;

pub(super) type MemoryEvm<I = ()> = MainnetEvm<MainnetContext<CacheDB<Upstream>>, I>;

thread_local! {
    /// The EVM that runs in-memory engines' transactions and views on this thread. Building one (journal, frame
    /// stack, interpreter buffers) costs about as much as a short call, and every scenario step is a call; an engine
    /// cannot own one because those buffers are not `Send`. Between calls its journal is empty, so the database an
    /// engine lends it is the whole state.
    static THREAD_EVM: RefCell<Option<Box<MemoryEvm>>> = const { RefCell::new(None) };
}

/// Runs `f` on this thread's EVM with `db` lent to it (swapped in and back: nothing is copied), at `config`'s chain
/// and `block`. An error or a panic may leave the journal mid-way, so the EVM is kept only after a success; otherwise
/// the next call builds another.
pub(super) fn in_thread_evm<T, E>(
    config: &EngineConfig,
    block: revm::context::BlockEnv,
    db: &mut CacheDB<Upstream>,
    f: impl FnOnce(&mut MemoryEvm) -> std::result::Result<T, E>,
) -> std::result::Result<T, E> {
    THREAD_EVM.with_borrow_mut(|slot| {
        let mut evm = slot.take().unwrap_or_else(|| {
            Box::new(
                Context::mainnet()
                    .with_db(CacheDB::new(Upstream::Empty))
                    .build_mainnet(),
            )
        });
        configure(&mut evm, config, block);
        let result = f(Lent::new(db, &mut evm).evm);
        if result.is_ok() {
            *slot = Some(evm);
        }
        result
    })
}

/// Like [`in_thread_evm`] on an EVM of its own under revm's [`CountInspector`], whose counts are added to `counts`.
pub(super) fn counted<T, E>(
    config: &EngineConfig,
    block: revm::context::BlockEnv,
    db: &mut CacheDB<Upstream>,
    counts: &Mutex<OpcodeCounts>,
    f: impl FnOnce(&mut MemoryEvm<CountInspector>) -> std::result::Result<T, E>,
) -> std::result::Result<T, E> {
    let mut evm = Context::mainnet()
        .with_db(CacheDB::new(Upstream::Empty))
        .build_mainnet_with_inspector(CountInspector::new());
    configure(&mut evm, config, block);
    let result = f(Lent::new(db, &mut evm).evm);
    counts
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .add(evm.inspector.opcode_counts());
    result
}

fn configure<I>(evm: &mut MemoryEvm<I>, config: &EngineConfig, block: revm::context::BlockEnv) {
    evm.ctx.modify_cfg(|cfg| {
        cfg.chain_id = config.chain_id;
        cfg.set_spec_and_mainnet_gas_params(config.spec);
    });
    evm.ctx.block = block;
}

/// An engine's database swapped into an EVM, and back when dropped (also when unwinding).
struct Lent<'a, I> {
    db: &'a mut CacheDB<Upstream>,
    evm: &'a mut MemoryEvm<I>,
}

impl<'a, I> Lent<'a, I> {
    fn new(db: &'a mut CacheDB<Upstream>, evm: &'a mut MemoryEvm<I>) -> Self {
        std::mem::swap(db, &mut evm.ctx.journaled_state.database);
        Self { db, evm }
    }
}

impl<I> Drop for Lent<'_, I> {
    fn drop(&mut self) {
        std::mem::swap(self.db, &mut self.evm.ctx.journaled_state.database);
    }
}

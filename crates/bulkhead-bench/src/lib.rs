//! The benchmark's chained-slash scenario, identical on every kind of [`Engine`]: a pool backing three shared AVSs
//! and an isolated one; each scenario starts from a snapshot of that world and fires three chained shared slashes.

use std::time::{Duration, Instant};

use alloy::primitives::{Address, U256, address};
use bulkhead_contracts::{Mode, WAD};
use bulkhead_evm::{Engine, EngineError, OpcodeCounts, Snapshot, System};
use bulkhead_protocol::{Protocol, ProtocolError, Views, manager::AvsRegistration};
use revm::{
    Context, ExecuteCommitEvm, MainBuilder, MainContext,
    bytecode::Bytecode,
    context::TxEnv,
    database::{CacheDB, EmptyDB},
    primitives::TxKind,
    state::AccountInfo,
};

/// Slashes in each scenario.
pub const SLASHES_PER_SCENARIO: usize = 3;

/// The world every scenario starts from.
#[derive(Debug, Clone)]
pub struct BenchWorld {
    /// The pool every AVS is backed by.
    pub pool: U256,
    /// The shared AVSs as (id, slashing module), slashed in this order.
    pub shared: Vec<(u32, Address)>,
    /// The isolated AVS, which never slashes: its backing must not move.
    pub isolated: u32,
    /// The state after setup.
    pub snapshot: Snapshot,
}

/// Why a benchmark stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// A verb or a view failed (the bench world's transactions never revert by design).
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The engine failed (a snapshot, a restore).
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A chained slash reached the isolated AVS: the isolation the benchmark runs under did not hold.
    #[error("scenario {seed}: the isolated AVS's backing moved to {backing}")]
    IsolationBroken {
        /// The scenario.
        seed: u64,
        /// The backing it was left with (200 WETH expected).
        backing: U256,
    },
    /// The interpreter baseline could not run.
    #[error("the interpreter baseline: {0}")]
    Baseline(String),
}

/// What the benchmark library returns.
pub type Result<T, E = BenchError> = std::result::Result<T, E>;

/// Registers an operator, deposits 1,000 WETH from four stakers, registers three shared AVSs (60%, 50%, 40%) and
/// an isolated one (20%), lets the allocations become slashable and snapshots the result. `sys` must have WETH.
pub fn setup(engine: &mut Engine, sys: &System) -> Result<BenchWorld> {
    let operator = engine.actor("bench-operator");
    let key = engine.actor("bench-operator-key");
    let stakers = [
        ("bench-alice", 400),
        ("bench-bob", 300),
        ("bench-carol", 200),
        ("bench-dave", 100),
    ]
    .map(|(name, amount)| (engine.actor(name), amount));
    let names = ["custody", "oracle", "bridge", "da"].map(|name| {
        (
            engine.actor(&format!("bench-module-{name}")),
            engine.actor(&format!("bench-sink-{name}")),
        )
    });
    let admin = engine.actor("bench-avs-admin");
    let mut protocol = Protocol::new(engine, *sys);
    protocol.register_operator(operator, key)?;
    let mut pool = U256::ZERO;
    for (staker, amount) in stakers {
        pool = protocol
            .mint_and_deposit(staker, operator, sys.weth.address, sys.weth.units(amount))?
            .poolId;
    }
    let mut register = |k: usize, name: &str, mode: Mode, percent: u64| -> Result<(u32, Address)> {
        let (module, sink) = names[k];
        let avs = AvsRegistration {
            metadata_uri: format!("ipfs://bench-{name}"),
            slasher: module,
            sink,
            resolver: Address::ZERO,
            veto_window: 0,
            max_slash_wad: WAD,
        };
        let id = protocol.register_avs(admin, &avs)?.value;
        protocol.opt_in(operator, id)?;
        protocol.allocate(operator, pool, id, mode, percent * (WAD / 100))?;
        Ok((id, module))
    };
    let (isolated, _) = register(0, "custody", Mode::Isolated, 20)?;
    let shared = vec![
        register(1, "oracle", Mode::Shared, 60)?,
        register(2, "bridge", Mode::Shared, 50)?,
        register(3, "da", Mode::Shared, 40)?,
    ];
    let delay = protocol.allocation_delay()?;
    protocol.warp(delay + 1);
    let snapshot = engine.snapshot()?;
    Ok(BenchWorld {
        pool,
        shared,
        isolated,
        snapshot,
    })
}

/// The fraction (in WAD) shared AVS `k` slashes in scenario `seed`: 10% to 49%, from a splitmix64 of both.
pub fn fraction(seed: u64, k: usize) -> u64 {
    let z = bulkhead_rng::mix(
        seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(k as u64 + 1),
    );
    (10 + z % 40) * (WAD / 100)
}

/// What a scenario did: the three slashed amounts and the isolated AVS's backing afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Amount each shared AVS slashed, in order.
    pub slashed: [U256; SLASHES_PER_SCENARIO],
    /// The isolated AVS's backing after the cascade.
    pub isolated_backing: U256,
}

/// Restores the world and fires scenario `seed`: three chained shared slashes, then reads the isolated backing.
pub fn scenario(
    engine: &mut Engine,
    sys: &System,
    world: &BenchWorld,
    seed: u64,
) -> Result<Outcome> {
    engine.restore(&world.snapshot)?;
    let mut protocol = Protocol::new(engine, *sys);
    let mut slashed = [U256::ZERO; SLASHES_PER_SCENARIO];
    for (k, (avs, module)) in world.shared.iter().enumerate() {
        slashed[k] = protocol
            .slash(*module, *avs, world.pool, fraction(seed, k))?
            .value;
    }
    let isolated_backing = protocol.slashable_backing(world.isolated, world.pool)?;
    if isolated_backing != sys.weth.units(200) {
        return Err(BenchError::IsolationBroken {
            seed,
            backing: isolated_backing,
        });
    }
    Ok(Outcome {
        slashed,
        isolated_backing,
    })
}

/// The EVM instructions scenarios `seeds` execute (each: restore, three slashes, the view), by opcode, summed. Run
/// under revm's counting inspector, so not timed; the engine is left as the last scenario leaves it.
pub fn opcodes(
    engine: &mut Engine,
    sys: &System,
    world: &BenchWorld,
    seeds: std::ops::Range<u64>,
) -> Result<OpcodeCounts> {
    let (_, counts) = engine.count_opcodes(|engine| {
        seeds
            .clone()
            .try_for_each(|seed| scenario(engine, sys, world, seed).map(drop))
    })?;
    Ok(counts)
}

/// Iterations of [`interpreter_baseline`]'s loop per run: 3.9 M instructions and 11.4 M gas, within a transaction's
/// gas cap.
const BASELINE_LOOPS: u32 = 100_000;

/// Runtime code of [`interpreter_baseline`]'s loop, run `loops` times (at least once): `PUSH4 loops`, then
/// `JUMPDEST, 8 x (PUSH1 1, PUSH1 2, ADD, POP), PUSH1 1, SWAP1, SUB, DUP1, PUSH1 5, JUMPI` per loop, then `STOP`.
/// It ignores its calldata and executes [`baseline_steps`]`(loops)` instructions.
pub fn baseline_code(loops: u32) -> Vec<u8> {
    let mut code = vec![0x63];
    code.extend_from_slice(&loops.max(1).to_be_bytes());
    code.push(0x5b);
    for _ in 0..8 {
        code.extend_from_slice(&[0x60, 0x01, 0x60, 0x02, 0x01, 0x50]);
    }
    code.extend_from_slice(&[0x60, 0x01, 0x90, 0x03, 0x80, 0x60, 0x05, 0x57, 0x00]);
    code
}

/// Instructions [`baseline_code`]`(loops)` executes: 39 per loop, plus the `PUSH4` and the `STOP`.
pub fn baseline_steps(loops: u32) -> u64 {
    u64::from(loops.max(1)) * (1 + 8 * 4 + 6) + 2
}

/// How fast revm runs the cheapest instructions on this CPU, in nanoseconds per instruction: a loop of
/// `PUSH1 PUSH1 ADD POP` blocks and a counter, the fastest of `runs` transactions. Its dispatch is perfectly
/// predictable and it touches no state, so this is a floor for the time of an instruction, not a typical one.
pub fn interpreter_baseline(runs: usize) -> Result<f64> {
    let target = address!("0x00000000000000000000000000000000000b0b0b");
    let mut db = CacheDB::new(EmptyDB::default());
    db.insert_account_info(
        target,
        AccountInfo {
            code: Some(Bytecode::new_raw(baseline_code(BASELINE_LOOPS).into())),
            ..Default::default()
        },
    );
    let mut evm = Context::mainnet().with_db(db).build_mainnet();
    let mut fastest = Duration::MAX;
    for nonce in 0..runs.max(1) as u64 {
        let tx = TxEnv::builder()
            .caller(Address::ZERO)
            .nonce(nonce)
            .kind(TxKind::Call(target))
            .gas_limit(12_000_000)
            .gas_price(0)
            .build()
            .map_err(|e| BenchError::Baseline(format!("building the transaction: {e:?}")))?;
        let started = Instant::now();
        let result = evm
            .transact_commit(tx)
            .map_err(|e| BenchError::Baseline(format!("running the loop: {e}")))?;
        fastest = fastest.min(started.elapsed());
        if !result.is_success() {
            return Err(BenchError::Baseline(format!(
                "the loop did not finish: {result:?}"
            )));
        }
    }
    Ok(fastest.as_secs_f64() * 1e9 / baseline_steps(BASELINE_LOOPS) as f64)
}

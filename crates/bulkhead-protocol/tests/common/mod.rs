//! The setup of `test/isolation/ChainedSlash.t.sol` (on `IsolationFixture.sol`), replayed through the protocol
//! driver.

#![allow(dead_code)]

use std::collections::BTreeMap;

use alloy::primitives::{Address, U256};
use bulkhead_contracts::Mode;
use bulkhead_evm::{DAY, DeployConfig, Engine, System, address_of};
use bulkhead_protocol::{Protocol, Reader, Views, manager::AvsRegistration, views::PoolRisk};
use eyre::Result;

/// Logs to the test output, filtered by `RUST_LOG` (e.g. `RUST_LOG=bulkhead_evm=trace` shows every decoded event).
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// A decimal in the Solidity tests' notation, exactly: `sci("0.8436e27")`, `sci("500e18")`, `sci("1000")`.
pub fn sci(literal: &str) -> U256 {
    let (mantissa, exponent) = literal.split_once('e').unwrap_or((literal, "0"));
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let exponent: usize = exponent.parse().expect("exponent");
    assert!(frac.len() <= exponent, "{literal} is not an integer");
    let digits = format!("{int}{frac}{}", "0".repeat(exponent - frac.len()));
    digits.parse().expect("digits")
}

/// `n` whole WETH.
pub fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}

/// A fraction in WAD as the contracts take it (`uint64`).
pub fn wad(literal: &str) -> u64 {
    sci(literal).to::<u64>()
}

/// One AVS of the scenario: its id, its slashing module (an EOA) and its sink.
#[derive(Debug, Clone, Copy)]
pub struct Avs {
    pub id: u32,
    pub module: Address,
    pub sink: Address,
}

/// `ChainedSlashTest` after `setUp()`.
#[derive(Debug, Clone)]
pub struct Chained {
    pub engine: Engine,
    pub sys: System,
    pub alice: Address,
    pub bob: Address,
    pub carol: Address,
    pub op_a: Address,
    pub op_b: Address,
    pub p: U256,
    pub t: U256,
    pub avs: BTreeMap<String, Avs>,
}

impl Chained {
    /// `VaultFixture.setUp` + `IsolationFixture.setUp` + `ChainedSlashTest.setUp`.
    pub fn setup() -> Result<Self> {
        init_tracing();
        let mut engine = Engine::default();
        let sys = System::deploy(&mut engine, &DeployConfig::default())?;
        let [op_a, key_a, op_b, key_b, alice, bob, carol] = [
            "operatorA",
            "keyA",
            "operatorB",
            "keyB",
            "alice",
            "bob",
            "carol",
        ]
        .map(|name| engine.actor(name));
        let mut protocol = Protocol::new(&mut engine, sys);
        protocol.register_operator(op_a, key_a)?;
        protocol.register_operator(op_b, key_b)?;
        protocol.set_guard(wad("0.73e18"), DAY as u32)?;
        let weth = sys.weth.address;
        let p = protocol
            .mint_and_deposit(alice, op_a, weth, ether(500))?
            .poolId;
        protocol.mint_and_deposit(bob, op_a, weth, ether(300))?;
        protocol.mint_and_deposit(carol, op_a, weth, ether(200))?;
        protocol.open_tier(p, op_a, op_b)?;
        let t = protocol
            .deposit_to_tier(carol, p, op_b, ether(200))?
            .value
            .tierPoolId;

        let mut this = Self {
            engine,
            sys,
            alice,
            bob,
            carol,
            op_a,
            op_b,
            p,
            t,
            avs: BTreeMap::new(),
        };
        for name in ["I", "S1", "S2", "S3", "TA"] {
            this.add_avs(name)?;
        }
        let (p, t) = (this.p, this.t);
        this.allocate(op_a, p, "I", Mode::Isolated, wad("0.2e18"))?;
        this.allocate(op_a, p, "S1", Mode::Shared, wad("0.5e18"))?;
        this.allocate(op_a, p, "S2", Mode::Shared, wad("0.5e18"))?;
        this.allocate(op_a, p, "S3", Mode::Shared, wad("0.4e18"))?;
        this.allocate(op_b, t, "TA", Mode::Isolated, wad("1e18"))?;
        this.engine.warp(DAY);
        Ok(this)
    }

    /// The driver on this world's engine.
    pub fn protocol(&mut self) -> Protocol<'_> {
        Protocol::new(&mut self.engine, self.sys)
    }

    /// The views of this world.
    pub fn reader(&self) -> Reader<'_> {
        Reader::new(&self.engine, self.sys)
    }

    /// `_avs(name)`: an instant-slashing AVS with module `module-<name>` and sink `sink-<name>`.
    pub fn add_avs(&mut self, name: &str) -> Result<Avs> {
        let module = address_of(&format!("module-{name}"));
        let sink = address_of(&format!("sink-{name}"));
        self.engine.label(module, format!("module-{name}"));
        self.engine.label(sink, format!("sink-{name}"));
        let admin = self.engine.actor("avsAdmin");
        let registration = AvsRegistration {
            metadata_uri: "ipfs://avs".into(),
            slasher: module,
            sink,
            resolver: Address::ZERO,
            veto_window: 0,
            max_slash_wad: wad("1e18"),
        };
        let id = self.protocol().register_avs(admin, &registration)?.value;
        let avs = Avs { id, module, sink };
        self.avs.insert(name.to_string(), avs);
        Ok(avs)
    }

    pub fn id(&self, name: &str) -> u32 {
        self.avs[name].id
    }

    /// `_allocate`: opt in if needed, then allocate.
    pub fn allocate(
        &mut self,
        operator: Address,
        pool: U256,
        avs: &str,
        mode: Mode,
        fraction: u64,
    ) -> Result<()> {
        let avs_id = self.id(avs);
        let mut protocol = self.protocol();
        protocol.ensure_opted_in(operator, avs_id)?;
        protocol.allocate(operator, pool, avs_id, mode, fraction)?;
        Ok(())
    }

    /// `_slashBy`: the AVS's module slashes `fraction` of the pool; returns the amount.
    pub fn slash_by(&mut self, avs: &str, pool: U256, fraction: u64) -> Result<U256> {
        let Avs { id, module, .. } = self.avs[avs];
        Ok(self.protocol().slash(module, id, pool, fraction)?.value)
    }

    pub fn backing(&self, avs: &str, pool: U256) -> Result<U256> {
        Ok(self.reader().slashable_backing(self.id(avs), pool)?)
    }

    pub fn weth_of(&self, holder: Address) -> Result<U256> {
        Ok(self.reader().balance_of(self.sys.weth.address, holder)?)
    }

    pub fn sink_of(&self, avs: &str) -> Result<U256> {
        self.weth_of(self.avs[avs].sink)
    }

    pub fn convert_to_assets(&self, pool: U256, shares: U256) -> Result<U256> {
        Ok(self.reader().convert_to_assets(pool, shares)?)
    }

    pub fn pool_risk(&self, pool: U256) -> Result<PoolRisk> {
        Ok(self.reader().pool_risk(pool)?)
    }

    pub fn shares_of(&self, staker: Address, pool: U256) -> Result<U256> {
        Ok(self.reader().shares_of(staker, pool)?)
    }

    /// `_expectBackings(i, s1, s2, s3, ta)`, including the logical-isolation checks.
    pub fn expect_backings(&self, i: U256, s1: U256, s2: U256, s3: U256, ta: U256) -> Result<()> {
        let (p, t) = (self.p, self.t);
        assert_eq!(self.backing("I", p)?, i, "I");
        assert_eq!(self.backing("S1", p)?, s1, "S1");
        assert_eq!(self.backing("S2", p)?, s2, "S2");
        assert_eq!(self.backing("S3", p)?, s3, "S3");
        assert_eq!(self.backing("TA", t)?, ta, "TA");
        assert_eq!(self.backing("TA", p)?, U256::ZERO, "TA on P");
        assert_eq!(self.backing("I", t)?, U256::ZERO, "I on T");
        Ok(())
    }

    /// `_expectValues(a, b, carolTier)`.
    pub fn expect_values(&self, a: U256, b: U256, carol_tier: U256) -> Result<()> {
        let (p, t) = (self.p, self.t);
        let alice_shares = self.shares_of(self.alice, p)?;
        let bob_shares = self.shares_of(self.bob, p)?;
        assert_eq!(self.convert_to_assets(p, alice_shares)?, a, "alice");
        assert_eq!(self.convert_to_assets(p, bob_shares)?, b, "bob");
        let carol_tier_shares = self.shares_of(self.carol, t)?;
        let base_shares = self.convert_to_assets(t, carol_tier_shares)?;
        assert_eq!(
            self.convert_to_assets(p, base_shares)?,
            carol_tier,
            "carol (tier)"
        );
        let tier_value = self.reader().slashable_assets(t)?;
        assert_eq!(tier_value, carol_tier, "tier value in WETH");
        Ok(())
    }

    /// `_expectSinks(s1, s2, i, ta)`; S3's sink stays empty.
    pub fn expect_sinks(&self, s1: U256, s2: U256, i: U256, ta: U256) -> Result<()> {
        assert_eq!(self.sink_of("S1")?, s1, "sink S1");
        assert_eq!(self.sink_of("S2")?, s2, "sink S2");
        assert_eq!(self.sink_of("I")?, i, "sink I");
        assert_eq!(self.sink_of("TA")?, ta, "sink TA");
        assert_eq!(self.sink_of("S3")?, U256::ZERO, "sink S3");
        Ok(())
    }

    pub fn sink_total(&self) -> Result<U256> {
        ["S1", "S2", "I", "TA", "S3"]
            .iter()
            .try_fold(U256::ZERO, |acc, avs| Ok(acc + self.sink_of(avs)?))
    }
}

//! The setup of `test/isolation/ChainedSlash.t.sol` (on `IsolationFixture.sol`), replayed through the engine.

#![allow(dead_code)]

use std::collections::BTreeMap;

use alloy::primitives::{Address, U256};
use bulkhead_contracts::{AllocationManager, StakeVault, mode};
use bulkhead_sim::{DAY, DeployConfig, Engine, System, address_of};
use eyre::Result;

/// Logs to the test output, filtered by `RUST_LOG` (e.g. `RUST_LOG=bulkhead_sim=trace` shows every decoded event).
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
        let op_a = sys.register_operator(&mut engine, "operatorA", "keyA")?;
        let op_b = sys.register_operator(&mut engine, "operatorB", "keyB")?;
        let (alice, bob, carol) = (
            engine.actor("alice"),
            engine.actor("bob"),
            engine.actor("carol"),
        );

        engine.send(
            sys.owner,
            sys.manager,
            AllocationManager::setGuardCall {
                maxFractionWad: wad("0.73e18"),
                window: DAY as u32,
            },
        )?;
        let weth = sys.weth.address;
        let (p, _) = sys.deposit(&mut engine, alice, op_a, weth, ether(500))?;
        sys.deposit(&mut engine, bob, op_a, weth, ether(300))?;
        sys.deposit(&mut engine, carol, op_a, weth, ether(200))?;
        engine.send(
            sys.owner,
            sys.vault,
            StakeVault::setTierAllowedCall {
                basePoolId: p,
                allowed: true,
            },
        )?;
        engine.send(
            op_a,
            sys.vault,
            StakeVault::approveTierOperatorCall {
                basePoolId: p,
                operator: op_b,
                approved: true,
            },
        )?;
        let t = engine
            .send(
                carol,
                sys.vault,
                StakeVault::depositToTierCall {
                    basePoolId: p,
                    operator: op_b,
                    baseShares: ether(200),
                },
            )?
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
        this.allocate(op_a, p, "I", mode::ISOLATED, wad("0.2e18"))?;
        this.allocate(op_a, p, "S1", mode::SHARED, wad("0.5e18"))?;
        this.allocate(op_a, p, "S2", mode::SHARED, wad("0.5e18"))?;
        this.allocate(op_a, p, "S3", mode::SHARED, wad("0.4e18"))?;
        this.allocate(op_b, t, "TA", mode::ISOLATED, wad("1e18"))?;
        this.engine.warp(DAY);
        Ok(this)
    }

    /// `_avs(name)`: an instant-slashing AVS with module `module-<name>` and sink `sink-<name>`.
    pub fn add_avs(&mut self, name: &str) -> Result<Avs> {
        let module = address_of(&format!("module-{name}"));
        let sink = address_of(&format!("sink-{name}"));
        self.engine.label(module, format!("module-{name}"));
        self.engine.label(sink, format!("sink-{name}"));
        let id = self.engine.send(
            "avsAdmin",
            self.sys.manager,
            AllocationManager::registerAVSCall {
                metadataURI: "ipfs://avs".into(),
                slasher: module,
                sink,
                resolver: Address::ZERO,
                vetoWindow: Default::default(),
                maxSlashWad: wad("1e18"),
            },
        )?;
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
        mode: u8,
        fraction: u64,
    ) -> Result<()> {
        let avs_id = self.id(avs);
        let manager = self.sys.manager;
        if !self
            .engine
            .view(
                manager,
                AllocationManager::membershipCall {
                    avsId: avs_id,
                    operator,
                },
            )?
            .optedIn
        {
            self.engine.send(
                operator,
                manager,
                AllocationManager::optInCall { avsId: avs_id },
            )?;
        }
        self.engine.send(
            operator,
            manager,
            AllocationManager::allocateCall {
                poolId: pool,
                avsId: avs_id,
                mode,
                fractionWad: fraction,
            },
        )?;
        Ok(())
    }

    /// `_slashBy`: the AVS's module slashes `fraction` of the pool; returns the amount.
    pub fn slash_by(&mut self, avs: &str, pool: U256, fraction: u64) -> Result<U256> {
        let Avs { id, module, .. } = self.avs[avs];
        self.engine.send(
            module,
            self.sys.manager,
            AllocationManager::slashCall {
                avsId: id,
                poolId: pool,
                fractionWad: fraction,
            },
        )
    }

    pub fn backing(&self, avs: &str, pool: U256) -> Result<U256> {
        self.engine.view(
            self.sys.manager,
            AllocationManager::slashableBackingCall {
                avsId: self.id(avs),
                poolId: pool,
            },
        )
    }

    pub fn weth_of(&self, holder: Address) -> Result<U256> {
        self.sys
            .balance_of(&self.engine, self.sys.weth.address, holder)
    }

    pub fn sink_of(&self, avs: &str) -> Result<U256> {
        self.weth_of(self.avs[avs].sink)
    }

    pub fn convert_to_assets(&self, pool: U256, shares: U256) -> Result<U256> {
        self.engine.view(
            self.sys.vault,
            StakeVault::convertToAssetsCall {
                poolId: pool,
                shares,
            },
        )
    }

    pub fn pool_risk(
        &self,
        pool: U256,
    ) -> Result<bulkhead_contracts::bindings::IAllocationManager::PoolRisk> {
        self.engine.view(
            self.sys.manager,
            AllocationManager::poolRiskCall { poolId: pool },
        )
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
        let alice_shares = self.sys.shares_of(&self.engine, self.alice, p)?;
        let bob_shares = self.sys.shares_of(&self.engine, self.bob, p)?;
        assert_eq!(self.convert_to_assets(p, alice_shares)?, a, "alice");
        assert_eq!(self.convert_to_assets(p, bob_shares)?, b, "bob");
        let carol_tier_shares = self.sys.shares_of(&self.engine, self.carol, t)?;
        let base_shares = self.convert_to_assets(t, carol_tier_shares)?;
        assert_eq!(
            self.convert_to_assets(p, base_shares)?,
            carol_tier,
            "carol (tier)"
        );
        let tier_value = self.engine.view(
            self.sys.vault,
            StakeVault::slashableAssetsCall { poolId: t },
        )?;
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

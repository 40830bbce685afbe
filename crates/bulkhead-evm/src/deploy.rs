//! Deploys the whole Bulkhead system from the real bytecode, wired the way `IsolationFixture.sol` wires it.

use alloy::{
    primitives::{Address, Bytes, U256, aliases::U48},
    sol_types::SolConstructor,
};
use bulkhead_contracts::{
    AllocationManager, MockERC20, OperatorRegistry, Reputation, RewardRail, SecurityMarket,
    StakeVault,
};

use crate::{
    deployment::{DeployConfig, Deployment},
    engine::Engine,
    error::{DeployError, EngineError},
};

/// An allowlisted demo token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// Its address.
    pub address: Address,
    /// Its symbol (also its label in the engine).
    pub symbol: &'static str,
    /// Its decimals.
    pub decimals: u8,
}

impl Token {
    /// `amount` whole tokens in base units.
    pub fn units(&self, amount: u64) -> U256 {
        U256::from(amount) * U256::from(10u64).pow(U256::from(self.decimals))
    }
}

/// Addresses of a deployed system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct System {
    /// Owner of the vault and the manager (the deployer).
    pub owner: Address,
    /// Guardian of the vault.
    pub guardian: Address,
    /// `OperatorRegistry`.
    pub registry: Address,
    /// `StakeVault`; its slasher is the manager.
    pub vault: Address,
    /// `AllocationManager`.
    pub manager: Address,
    /// `Reputation`: deployed, but off until the owner names it to the manager and the vault
    /// (`Protocol::enable_reputation`); the zero address where the deployment has none.
    pub reputation: Address,
    /// `RewardRail`: the vault's reward hooks, paying pools' stakers (wired to the vault and the market); the zero
    /// address where the deployment has none.
    pub rail: Address,
    /// `SecurityMarket`: bids, asks and leases, paying through the rail; the zero address where the deployment has
    /// none.
    pub market: Address,
    /// Wrapped Ether mock, 18 decimals.
    pub weth: Token,
    /// Wrapped BTC mock, 8 decimals.
    pub wbtc: Token,
    /// USD Coin mock, 6 decimals.
    pub usdc: Token,
}

/// Creation bytecode followed by the ABI-encoded constructor arguments.
pub fn initcode(bytecode: &Bytes, args: &impl SolConstructor) -> Bytes {
    [bytecode.as_ref(), &args.abi_encode()].concat().into()
}

fn u48(seconds: u64) -> U48 {
    U48::from(seconds)
}

type Result<T> = std::result::Result<T, DeployError>;

/// Names the step of a deployment an engine error happened in.
fn at(step: impl Into<String>) -> impl FnOnce(EngineError) -> DeployError {
    let step = step.into();
    move |e| DeployError::Engine {
        step,
        cause: Box::new(e),
    }
}

/// Deploys the reward rail and the security market and wires them: the rail becomes the vault's reward hooks
/// (`StakeVault.setRail`) and takes payments from the market (`RewardRail.setMarket`). Both wirings are one-time.
fn market(
    engine: &mut Engine,
    owner: Address,
    registry: Address,
    vault: Address,
    manager: Address,
    reputation: Address,
) -> Result<(Address, Address)> {
    let rail = engine
        .deploy(
            owner,
            "RewardRail",
            initcode(
                &RewardRail::BYTECODE,
                &RewardRail::constructorCall {
                    vault_: vault,
                    owner_: owner,
                },
            ),
        )
        .map_err(at("deploying RewardRail"))?;
    let market = engine
        .deploy(
            owner,
            "SecurityMarket",
            initcode(
                &SecurityMarket::BYTECODE,
                &SecurityMarket::constructorCall {
                    manager_: manager,
                    vault_: vault,
                    registry_: registry,
                    rail_: rail,
                    reputation_: reputation,
                },
            ),
        )
        .map_err(at("deploying SecurityMarket"))?;
    engine
        .send(owner, vault, StakeVault::setRailCall { rail_: rail })
        .map_err(at("making the rail the vault's reward hooks"))?;
    engine
        .send(owner, rail, RewardRail::setMarketCall { market_: market })
        .map_err(at("naming the market to the rail"))?;
    Ok((rail, market))
}

impl System {
    /// Deploys registry, vault (escrow), manager (the three delays), makes the manager the vault's slasher, and
    /// deploys and allowlists WETH (18), WBTC (8) and USDC (6). Everything is labelled in the engine.
    pub fn deploy(engine: &mut Engine, config: &DeployConfig) -> Result<Self> {
        let owner = engine.actor(&config.owner);
        let guardian = engine.actor(&config.guardian);

        let registry = engine
            .deploy(
                owner,
                "OperatorRegistry",
                OperatorRegistry::BYTECODE.clone(),
            )
            .map_err(at("deploying OperatorRegistry"))?;
        let vault = engine
            .deploy(
                owner,
                "StakeVault",
                initcode(
                    &StakeVault::BYTECODE,
                    &StakeVault::constructorCall {
                        registry_: registry,
                        escrowDelay_: u48(config.escrow_delay),
                        owner_: owner,
                        guardian_: guardian,
                    },
                ),
            )
            .map_err(at("deploying StakeVault"))?;
        let manager = engine
            .deploy(
                owner,
                "AllocationManager",
                initcode(
                    &AllocationManager::BYTECODE,
                    &AllocationManager::constructorCall {
                        vault_: vault,
                        registry_: registry,
                        owner_: owner,
                        allocationDelay_: u48(config.allocation_delay),
                        deallocationDelay_: u48(config.deallocation_delay),
                        executionWindow_: u48(config.execution_window),
                    },
                ),
            )
            .map_err(at("deploying AllocationManager"))?;
        engine
            .send(
                owner,
                vault,
                StakeVault::setSlasherCall { slasher_: manager },
            )
            .map_err(at("making the manager the vault's slasher"))?;

        let mut token = |name: &str, symbol: &'static str, decimals: u8| -> Result<Token> {
            let address = engine
                .deploy(
                    owner,
                    symbol,
                    initcode(
                        &MockERC20::BYTECODE,
                        &MockERC20::constructorCall {
                            name: name.into(),
                            symbol: symbol.into(),
                            decimals_: decimals,
                        },
                    ),
                )
                .map_err(at(format!("deploying {symbol}")))?;
            engine
                .send(
                    owner,
                    vault,
                    StakeVault::setAssetAllowedCall {
                        asset: address,
                        allowed: true,
                    },
                )
                .map_err(at(format!("allowlisting {symbol}")))?;
            Ok(Token {
                address,
                symbol,
                decimals,
            })
        };
        let [weth, wbtc, usdc] = bulkhead_contracts::DEMO_TOKENS;
        let weth = token(weth.0, weth.1, weth.2)?;
        let wbtc = token(wbtc.0, wbtc.1, wbtc.2)?;
        let usdc = token(usdc.0, usdc.1, usdc.2)?;
        // Last, so that every address above is what it was before reputation existed.
        let reputation = engine
            .deploy(
                owner,
                "Reputation",
                initcode(
                    &Reputation::BYTECODE,
                    &Reputation::constructorCall {
                        manager_: manager,
                        vault_: vault,
                        owner_: owner,
                        epochLength_: u32::try_from(config.epoch_length).unwrap_or(u32::MAX),
                        bondWithdrawalDelay_: u48(config.deallocation_delay),
                    },
                ),
            )
            .map_err(at("deploying Reputation"))?;
        // After reputation, for the same reason: the market reads ratings from it.
        let (rail, market) = market(engine, owner, registry, vault, manager, reputation)?;

        Ok(Self {
            owner,
            guardian,
            registry,
            vault,
            manager,
            reputation,
            rail,
            market,
            weth,
            wbtc,
            usdc,
        })
    }

    /// The system of `deployment` on an engine that holds it (a fork of, or a connection to, its chain). Core
    /// contracts and the deployment's owner are labelled; WETH, WBTC and USDC are the deployment's demo tokens, with
    /// the zero address for a token it does not have (only local chains do).
    pub fn attach(engine: &mut Engine, deployment: &Deployment) -> Result<Self> {
        let c = deployment.contracts;
        let slasher = engine
            .view(c.stake_vault, StakeVault::slasherCall {})
            .map_err(|e| DeployError::NoVault {
                vault: c.stake_vault,
                engine: engine.describe(),
                cause: Box::new(e),
            })?;
        if slasher != c.allocation_manager {
            return Err(DeployError::WrongSlasher {
                vault: c.stake_vault,
                slasher,
                manager: c.allocation_manager,
            });
        }
        for (address, label) in [
            (c.operator_registry, "OperatorRegistry"),
            (c.stake_vault, "StakeVault"),
            (c.allocation_manager, "AllocationManager"),
            (deployment.owner, "owner"),
        ] {
            engine.label(address, label);
        }
        let mut token = |symbol: &'static str| -> Result<Token> {
            let Some(&address) = deployment.assets.get(symbol) else {
                return Ok(Token {
                    address: Address::ZERO,
                    symbol,
                    decimals: 0,
                });
            };
            engine.label(address, symbol);
            let decimals = engine
                .view(address, MockERC20::decimalsCall {})
                .map_err(at(format!("reading the decimals of {symbol} at {address}")))?;
            Ok(Token {
                address,
                symbol,
                decimals,
            })
        };
        Ok(Self {
            owner: deployment.owner,
            guardian: deployment.guardian,
            registry: c.operator_registry,
            vault: c.stake_vault,
            manager: c.allocation_manager,
            reputation: c.reputation.unwrap_or(Address::ZERO),
            rail: c.reward_rail.unwrap_or(Address::ZERO),
            market: c.security_market.unwrap_or(Address::ZERO),
            weth: token("WETH")?,
            wbtc: token("WBTC")?,
            usdc: token("USDC")?,
        })
    }
}

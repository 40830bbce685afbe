//! `bulkhead deploy`: deploy the system to a node over HTTP and write `deployments/<chainId>.json`.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::ExitCode,
    time::{SystemTime, UNIX_EPOCH},
};

use bulkhead_contracts::{Contract, lens_of, mode, nothing_reason, request_status};
use bulkhead_evm::{CustomError, DeployConfig, DeployError, Deployment, deploy_rpc};
use comfy_table::Table;

use crate::ui;
use eyre::{Result, WrapErr};

/// Arguments of `bulkhead deploy`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// JSON-RPC endpoint (HTTP) of the node.
    #[arg(long, value_name = "URL")]
    rpc_url: String,

    /// Deployer key (hex); it becomes owner and guardian. Defaults to anvil's first dev key on chain 31337 only.
    #[arg(long, value_name = "HEX")]
    private_key: Option<String>,

    /// Folder for `<chainId>.json`.
    #[arg(long, value_name = "DIR", default_value = "deployments")]
    out: PathBuf,

    /// Print the deployment file's content instead of a table.
    #[arg(long)]
    json: bool,
}

/// Deploys, writes the file, prints it; exit status 2 on any error (as every command's).
pub fn run(args: &Args) -> ExitCode {
    match deploy(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// What [`write_deployment`] wrote.
pub(crate) struct Written {
    /// `<dir>/<chainId>.json`.
    pub path: PathBuf,
    /// The file's text, byte for byte.
    pub text: String,
    /// What happened, for people (names the earlier file kept, if any).
    pub message: String,
}

/// Writes `<dir>/<chainId>.json`, with what a dApp needs without forge: the manager's `AllocationLens` among the
/// contracts, the ABIs (as `<dir>/abi/<Name>.json`), the tokens' decimals, the enums' values and every custom
/// error's selector; forge artifact paths (relative to the current directory, as forge writes them) are listed only
/// where the file exists. A deployment already there for the chain is never overwritten silently: it is kept as
/// `<chainId>.<unix seconds>.json`, and the message says so.
pub(crate) fn write_deployment(dir: &Path, deployment: &Deployment) -> Result<Written> {
    std::fs::create_dir_all(dir.join("abi"))
        .wrap_err_with(|| format!("creating {}/abi", dir.display()))?;
    let mut deployment = deployment.clone();
    deployment.contracts.allocation_lens = Some(lens_of(deployment.contracts.allocation_manager));
    deployment
        .artifacts
        .retain(|_, path| Path::new(path).is_file());
    for contract in Contract::ALL {
        let file = format!("abi/{}.json", contract.name());
        std::fs::write(dir.join(&file), contract.abi_json())
            .wrap_err_with(|| format!("writing {}", dir.join(&file).display()))?;
        deployment.abis.insert(contract.name().to_string(), file);
    }
    deployment.enums = enums();
    deployment.errors = custom_errors();
    let deployment = &deployment;
    let path = dir.join(format!("{}.json", deployment.chain_id));
    let mut message = format!("wrote {}", path.display());
    if path.exists() {
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut kept = dir.join(format!("{}.{seconds}.json", deployment.chain_id));
        let mut n = 1;
        while kept.exists() {
            kept = dir.join(format!("{}.{seconds}-{n}.json", deployment.chain_id));
            n += 1;
        }
        std::fs::rename(&path, &kept).wrap_err_with(|| {
            format!(
                "keeping the previous {} as {}",
                path.display(),
                kept.display()
            )
        })?;
        message = format!(
            "wrote {} (it held an earlier deployment on chain {}: kept as {})",
            path.display(),
            deployment.chain_id,
            kept.display()
        );
    }
    let text = serde_json::to_string_pretty(deployment)? + "\n";
    std::fs::write(&path, &text).wrap_err_with(|| format!("writing {}", path.display()))?;
    Ok(Written {
        path,
        text,
        message,
    })
}

/// Deploys to the node at `url` with anvil's first dev key and writes the deployment file and ABIs into `dir`; the
/// file's path.
pub(crate) fn deploy_and_write(url: &str, dir: &Path) -> Result<PathBuf> {
    let deployment = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(deploy_rpc(url, None, &DeployConfig::default()))
        .wrap_err_with(|| format!("deploying to {url}"))?;
    let written = write_deployment(dir, &deployment)?;
    tracing::info!("{}", written.message);
    Ok(written.path)
}

fn deploy(args: &Args) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let deployment = runtime
        .block_on(deploy_rpc(
            &args.rpc_url,
            args.private_key.as_deref(),
            &DeployConfig::default(),
        ))
        .map_err(|err| match err {
            DeployError::KeyNeeded(_) => eyre::Report::new(err)
                .wrap_err("pass --private-key (the deployer's key) to deploy there"),
            err => err.into(),
        })?;
    let written = write_deployment(&args.out, &deployment)?;
    if args.json {
        // Exactly what the file holds (ABIs, enums, errors and the lens included).
        print!("{}", written.text);
        eprintln!("{}", written.message);
    } else if ui::quiet() {
        println!("{}", written.message);
    } else {
        println!("{}", table(&deployment));
        println!("{}", written.message);
    }
    Ok(())
}

/// The Solidity enums' values, as the contracts declare them (a dApp passes and reads them as `uint8`).
fn enums() -> BTreeMap<String, BTreeMap<String, u8>> {
    let table = |pairs: &[(&str, u8)]| pairs.iter().map(|(k, v)| ((*k).to_string(), *v)).collect();
    BTreeMap::from([
        (
            "Mode".to_string(),
            table(&[
                ("None", mode::NONE),
                ("Isolated", mode::ISOLATED),
                ("Shared", mode::SHARED),
            ]),
        ),
        (
            "RequestStatus".to_string(),
            table(&[
                ("None", request_status::NONE),
                ("Pending", request_status::PENDING),
                ("Vetoed", request_status::VETOED),
                ("Executed", request_status::EXECUTED),
            ]),
        ),
        (
            "NothingReason".to_string(),
            table(&[
                ("NotYetEffective", nothing_reason::NOT_YET_EFFECTIVE),
                ("NoBacking", nothing_reason::NO_BACKING),
                ("GuardFull", nothing_reason::GUARD_FULL),
                ("TooSmall", nothing_reason::TOO_SMALL),
            ]),
        ),
    ])
}

/// Every custom error of the contracts, once per signature.
fn custom_errors() -> Vec<CustomError> {
    let mut errors: Vec<CustomError> = Vec::new();
    for contract in Contract::ALL {
        for error in contract.abi().errors() {
            let signature = error.signature();
            match errors.iter_mut().find(|e| e.signature == signature) {
                Some(e) => e.contracts.push(contract.name().to_string()),
                None => errors.push(CustomError {
                    selector: format!("{}", error.selector()),
                    signature,
                    contracts: vec![contract.name().to_string()],
                }),
            }
        }
    }
    errors.sort_by(|a, b| a.signature.cmp(&b.signature));
    errors
}

fn table(d: &Deployment) -> Table {
    let mut table = ui::table(&["contract", "address"]);
    let c = &d.contracts;
    for (name, address) in [
        ("OperatorRegistry", c.operator_registry),
        ("StakeVault", c.stake_vault),
        ("AllocationManager", c.allocation_manager),
        ("AllocationLens", lens_of(c.allocation_manager)),
    ] {
        table.add_row(vec![name.to_string(), address.to_string()]);
    }
    for (symbol, address) in &d.assets {
        table.add_row(vec![symbol.clone(), address.to_string()]);
    }
    table
}

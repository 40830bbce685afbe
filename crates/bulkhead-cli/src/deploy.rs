//! `bulkhead deploy`: deploy the system to a node over HTTP and write `deployments/<chainId>.json`.

use std::{path::PathBuf, process::ExitCode};

use bulkhead_sim::{DeployConfig, Deployment, deploy_rpc};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
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

/// Deploys, writes the file, prints it; exit status 1 on any error.
pub fn run(args: &Args) -> ExitCode {
    match deploy(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn deploy(args: &Args) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let deployment = runtime.block_on(deploy_rpc(
        &args.rpc_url,
        args.private_key.as_deref(),
        &DeployConfig::default(),
    ))?;
    let json = serde_json::to_string_pretty(&deployment)? + "\n";
    let path = args.out.join(format!("{}.json", deployment.chain_id));
    std::fs::create_dir_all(&args.out)
        .and_then(|()| std::fs::write(&path, &json))
        .wrap_err_with(|| format!("writing {}", path.display()))?;
    if args.json {
        print!("{json}");
    } else {
        println!("{}", table(&deployment));
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn table(d: &Deployment) -> Table {
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_header(vec!["contract", "address"]);
    let c = &d.contracts;
    for (name, address) in [
        ("OperatorRegistry", c.operator_registry),
        ("StakeVault", c.stake_vault),
        ("AllocationManager", c.allocation_manager),
    ] {
        table.add_row(vec![name.to_string(), address.to_string()]);
    }
    for (symbol, address) in &d.assets {
        table.add_row(vec![symbol.clone(), address.to_string()]);
    }
    table
}

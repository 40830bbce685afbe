//! `bulkhead market`: the security market of a deployed chain (a node, or a fork of one): the book, the leases,
//! each traded pool's utilisation and each asset's prices, as tables or `--json`. It only reads: nothing is sent.

use std::{io::Write, path::PathBuf, process::ExitCode};

use alloy::primitives::{Address, U256};
use bulkhead_evm::{Deployment, Engine, System};
use bulkhead_protocol::{
    Reader,
    book::{Amount, Asset, LeaseStatus, MarketBook},
};
use bulkhead_scenario::{format_duration, format_units};
use eyre::{Result, WrapErr, bail};

use crate::ui;

/// Arguments of `bulkhead market`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Read the node at this JSON-RPC URL (nothing is sent to it).
    #[arg(long, value_name = "URL", required_unless_present = "fork_url")]
    rpc_url: Option<String>,

    /// Fork the chain at this JSON-RPC URL into the embedded EVM and read the fork.
    #[arg(long, value_name = "URL", conflicts_with = "rpc_url")]
    fork_url: Option<String>,

    /// Block to fork at (default: the latest).
    #[arg(long, value_name = "N", requires = "fork_url")]
    block: Option<u64>,

    /// Deployment file of the chain [default: deployments/<chainId>.json].
    #[arg(long, value_name = "FILE")]
    deployment: Option<PathBuf>,

    /// Keep filled and cancelled orders in the book.
    #[arg(long)]
    closed: bool,

    /// Print the book as one JSON object (amounts as decimal strings of base units, ids, bps and times as numbers).
    #[arg(long)]
    json: bool,
}

/// Runs `bulkhead market`.
pub fn run(args: &Args) -> ExitCode {
    match read(args).and_then(|book| print(&book, args.json)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn read(args: &Args) -> Result<MarketBook> {
    let mut engine = match (&args.fork_url, &args.rpc_url) {
        (Some(url), _) => Engine::fork(url, args.block)?,
        (None, Some(url)) => Engine::connect(url)?,
        (None, None) => bail!("pass --rpc-url <URL> (a node) or --fork-url <URL> (a fork of one)"),
    };
    let chain_id = engine.config().chain_id;
    let path = args
        .deployment
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("deployments/{chain_id}.json")));
    let deployment = Deployment::load(&path)?;
    eyre::ensure!(
        deployment.chain_id == chain_id,
        "{} is for chain {}, but the node is chain {chain_id}: pass --deployment for this chain",
        path.display(),
        deployment.chain_id,
    );
    if deployment.contracts.security_market.is_none() {
        bail!(
            "{} has no SecurityMarket (it predates the market): redeploy with `bulkhead deploy --rpc-url <URL>`",
            path.display()
        );
    }
    let system = System::attach(&mut engine, &deployment)?;
    MarketBook::read(&Reader::new(&engine, system), args.closed)
        .wrap_err_with(|| format!("reading the market at {}", system.market))
}

fn print(book: &MarketBook, json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let written = if json {
        writeln!(out, "{}", serde_json::to_string(book)?)
    } else {
        write!(out, "{}", render(book))
    };
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

fn amount(a: &Amount, asset: &Asset) -> String {
    format!("{} {}", format_units(a.0, asset.decimals), asset.symbol)
}

fn bps(bps: impl Into<u64>) -> String {
    format_units(U256::from(bps.into()), 2) + "%"
}

fn short(address: Address) -> String {
    let s = address.to_checksum(None);
    format!("{}…{}", &s[..6], &s[s.len() - 4..])
}

/// The book as tables.
pub fn render(book: &MarketBook) -> String {
    let mut out = ui::bold(&format!("Security market {} at t={}", book.market, book.at)) + "\n";
    out += "\nBids (AVSs buying backing)\n";
    if book.bids.is_empty() {
        out += "  none\n";
    } else {
        let mut t = ui::table(&[
            "bid",
            "AVS",
            "wants",
            "mode",
            "term",
            "max price/yr",
            "escrow",
            "min rating",
            "open",
        ]);
        for b in &book.bids {
            t.add_row(vec![
                ui::right(b.id),
                ui::right(b.avs),
                ui::right(amount(&b.backing, &b.asset)),
                b.mode.into(),
                ui::right(format_duration(b.term)),
                ui::right(bps(b.max_price_bps)),
                ui::right(amount(&b.escrow, &b.asset)),
                ui::right(bps(b.min_rating_bps)),
                (if b.open { "yes" } else { "no" }).into(),
            ]);
        }
        out += &format!("{t}\n");
    }
    out += "\nAsks (operators selling backing)\n";
    if book.asks.is_empty() {
        out += "  none\n";
    } else {
        let mut t = ui::table(&[
            "ask",
            "pool",
            "desk",
            "offers",
            "mode",
            "min price/yr",
            "max term",
            "open",
        ]);
        for a in &book.asks {
            t.add_row(vec![
                ui::right(a.id),
                ui::right(a.pool),
                short(a.desk).into(),
                ui::right(amount(&a.capacity, &a.asset)),
                a.mode.into(),
                ui::right(bps(a.min_price_bps)),
                ui::right(format_duration(a.max_term)),
                (if a.open { "yes" } else { "no" }).into(),
            ]);
        }
        out += &format!("{t}\n");
    }
    out += "\nLeases\n";
    if book.leases.is_empty() {
        out += "  none\n";
    } else {
        let mut t = ui::table(&[
            "lease", "AVS", "pool", "mode", "backing", "now", "price/yr", "premium", "paid",
            "refunded", "escrowed", "ends", "status",
        ]);
        for l in &book.leases {
            let short_of = l.backing_now.0 < l.backing.0 && l.status.in_force();
            t.add_row(vec![
                ui::right(l.id),
                ui::right(l.avs),
                ui::right(l.pool),
                l.mode.into(),
                ui::right(amount(&l.backing, &l.asset)),
                ui::verdict_cell(amount(&l.backing_now, &l.asset), !short_of),
                ui::right(bps(l.price_bps)),
                ui::right(amount(&l.premium, &l.asset)),
                ui::right(amount(&l.paid, &l.asset)),
                ui::right(amount(&l.refunded, &l.asset)),
                ui::right(amount(&l.escrowed, &l.asset)),
                ui::right(ends(l.end, book.at)),
                ui::verdict_cell(status(l.status), l.status != LeaseStatus::EndedEarly),
            ]);
        }
        out += &format!("{t}\n");
    }
    if !book.pools.is_empty() {
        out += "\nUtilisation (pools with an ask or a lease in force)\n";
        let mut t = ui::table(&[
            "pool",
            "operator",
            "value",
            "leased",
            "offered",
            "utilisation",
        ]);
        for p in &book.pools {
            t.add_row(vec![
                ui::right(p.pool),
                short(p.operator).into(),
                ui::right(amount(&p.value, &p.asset)),
                ui::right(amount(&p.leased, &p.asset)),
                ui::right(amount(&p.offered, &p.asset)),
                ui::right(bps(p.utilisation_bps)),
            ]);
        }
        out += &format!("{t}\n");
    }
    if !book.prices.is_empty() {
        out += "\nPrices (bps of the backing per year)\n";
        let mut t = ui::table(&["asset", "best bid", "best ask", "leased", "leased at"]);
        let or_dash = |v: Option<u64>| v.map_or_else(|| "-".to_string(), bps);
        for p in &book.prices {
            t.add_row(vec![
                p.asset.symbol.clone().into(),
                ui::right(or_dash(p.best_bid_bps.map(u64::from))),
                ui::right(or_dash(p.best_ask_bps.map(u64::from))),
                ui::right(amount(&p.leased, &p.asset)),
                ui::right(or_dash(p.leased_price_bps)),
            ]);
        }
        out += &format!("{t}\n");
    }
    out
}

fn status(s: LeaseStatus) -> &'static str {
    match s {
        LeaseStatus::Pending => "pending",
        LeaseStatus::Live => "live",
        LeaseStatus::Due => "due (stream it)",
        LeaseStatus::Ended => "ended",
        LeaseStatus::EndedEarly => "ended early",
    }
}

fn ends(end: u64, at: u64) -> String {
    if end > at {
        format!("in {}", format_duration(end - at))
    } else {
        format!("{} ago", format_duration(at - end))
    }
}

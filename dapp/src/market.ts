// The security market (issue 17, docs/market.md): the book (open bids and asks), the leases, the desks and their
// pools' reward books, and what the selected account is owed (rewards, refunds, commission). Read once a second with
// the rest of the snapshot; rendered as one panel.
import type { AbiEvent, Address } from "viem";

import type { Chain } from "./chain";
import { amount, duration, visible } from "./format";
import type { Actor, WorldAsset } from "./world";

/** An amount of one of the demo tokens. */
export interface Holding {
  asset: WorldAsset;
  amount: bigint;
}

/** An operator desk opened on the market (`DeskOpened`), numbered in the order they were opened. */
export interface Desk {
  index: number;
  address: Address;
  owner: Address;
  /** The owner's name in the demo world, else its address. */
  ownerName: string;
  /** The AVSs it opted in to (`AllocationManager.membership`). */
  optedIn: string[];
  /** Commission the rail owes it, per token (`RewardRail.commissionOwed`). */
  commissionOwed: Holding[];
}

/** A pool the market can sell (a desk's) or that earns on the rail, with its reward books. */
export interface MarketPool {
  id: bigint;
  /** The world's name for it (`P`), `desk 1 WETH` for a desk's, else `pool #7`. */
  label: string;
  desk: Desk | null;
  asset: WorldAsset | null;
  value: bigint;
  earns: boolean;
  /** `RewardRail.commissionOf`: in effect now, and a change pending from `nextAt` (0: none). */
  commissionBps: number;
  nextBps: number;
  nextAt: number;
  paidToStakers: bigint;
  commissionPaid: bigint;
  dust: bigint;
}

export interface OpenBid {
  id: number;
  avs: string;
  avsId: number;
  asset: WorldAsset | null;
  /** Still wanted. */
  backing: bigint;
  mode: number;
  minRatingBps: number;
  term: number;
  maxPriceBps: number;
  maxCommissionBps: number;
  /** Premium still escrowed for it. */
  escrow: bigint;
}

export interface OpenAsk {
  id: number;
  pool: MarketPool | null;
  poolId: bigint;
  /** Still offered. */
  capacity: bigint;
  mode: number;
  minPriceBps: number;
  maxTerm: number;
}

/** `SecurityMarket.leases` with the backing slashable for the AVS in the pool now. */
export interface LeaseRow {
  id: number;
  bidId: number;
  pool: MarketPool | null;
  poolId: bigint;
  avs: string;
  avsId: number;
  asset: WorldAsset | null;
  mode: number;
  backing: bigint;
  priceBps: number;
  premium: bigint;
  start: number;
  end: number;
  streamedTo: number;
  paid: bigint;
  refunded: bigint;
  ended: boolean;
  /** `AllocationManager.slashableBacking(avs, pool)` now (the live backing ratio's numerator). */
  slashable: bigint;
}

/** What the selected account can do and is owed on the market. */
export interface MarketMe {
  name: string;
  address: Address;
  /** The AVSs it administers: it posts and cancels their bids, and receives their refunds. */
  adminOf: string[];
  desks: Desk[];
  /** Per earning pool: `RewardRail.claimable`, and what it claimed so far (its `RewardClaimed` logs). */
  rewards: { pool: MarketPool; claimable: bigint; claimed: bigint }[];
  /** Refunds the market holds for it (`credits`), withdrawn with `withdraw`. */
  credits: Holding[];
  /** Its wallet's demo tokens. */
  wallet: Holding[];
}

export interface MarketState {
  market: Address;
  rail: Address;
  desks: Desk[];
  pools: MarketPool[];
  bids: OpenBid[];
  asks: OpenAsk[];
  leases: LeaseRow[];
  closedBids: number;
  closedAsks: number;
  /** Every bid's token, open or closed (the timeline names refunds with it). */
  bidAssets: Map<number, WorldAsset | null>;
  me: MarketMe | null;
}

interface BidView {
  asset: Address;
  avsId: number;
  maxPriceBps: number;
  maxCommissionBps: number;
  mode: number;
  backing: bigint;
  escrow: bigint;
  term: number;
  minRatingBps: number;
}
interface AskView {
  poolId: number;
  capacity: bigint;
  minPriceBps: number;
  maxTerm: number;
  mode: number;
}
interface LeaseView {
  leaseId: bigint;
  bidId: bigint;
  poolId: bigint;
  avsId: number;
  asset: Address;
  mode: number;
  backing: bigint;
  priceBps: bigint;
  premium: bigint;
  start: number;
  end: number;
  streamedTo: number;
  lastRatio: bigint;
  paid: bigint;
  refunded: bigint;
  ended: boolean;
}
interface PoolRewards {
  on: boolean;
  token: Address;
  generation: number;
  acc: bigint;
  paidToStakers: bigint;
  commissionPaid: bigint;
  dust: bigint;
}

/** Desks found so far per market, and the last block whose logs were read (`DeskOpened` is read incrementally). */
const deskLogs = new Map<Address, { to: bigint; desks: { address: Address; owner: Address }[] }>();

function event(chain: Chain, contract: string, name: string): AbiEvent {
  const item = chain.abi(contract).find((x) => x.type === "event" && x.name === name);
  if (!item) throw new Error(`the ${contract} ABI has no event ${name}`);
  return item as AbiEvent;
}

/** The market's state, or null when the deployment has none (made before issue 17). */
export async function readMarket(chain: Chain, selected: Actor | null, block: bigint): Promise<MarketState | null> {
  const contracts = chain.market;
  if (!contracts) return null;
  const { market, rail } = contracts;
  const { world, deployment } = chain.loaded;
  const nameOf = (a: Address) =>
    world.actors.find((x) => x.address.toLowerCase() === a.toLowerCase())?.name ?? a;
  const assetAt = (a: Address) => world.assets.find((x) => x.address.toLowerCase() === a.toLowerCase()) ?? null;
  const avsName = (id: number) => world.avs.find((a) => a.id === Number(id))?.name ?? `AVS #${id}`;

  // Desks: the market's `DeskOpened` logs, read from where the last refresh stopped.
  let logs = deskLogs.get(market);
  if (!logs) {
    logs = { to: BigInt(deployment.block) - 1n, desks: [] };
    deskLogs.set(market, logs);
  }
  if (block > logs.to) {
    const found = await chain.client.getLogs({
      address: market,
      event: event(chain, "SecurityMarket", "DeskOpened"),
      fromBlock: logs.to + 1n,
      toBlock: block,
    });
    for (const log of found) {
      const args = (log as unknown as { args: { desk: Address; owner: Address } }).args;
      logs.desks.push({ address: args.desk, owner: args.owner });
    }
    logs.to = block;
  }
  const desks = await Promise.all(
    logs.desks.map(async (d, i): Promise<Desk> => {
      const [memberships, owed] = await Promise.all([
        Promise.all(
          world.avs.map((a) =>
            chain.read<{ optedIn: boolean }>("AllocationManager", chain.manager, "membership", [a.id, d.address]),
          ),
        ),
        Promise.all(
          world.assets.map(async (t) => ({
            asset: t,
            amount: await chain.read<bigint>("RewardRail", rail, "commissionOwed", [d.address, t.address]),
          })),
        ),
      ]);
      return {
        index: i + 1,
        address: d.address,
        owner: d.owner,
        ownerName: nameOf(d.owner),
        optedIn: world.avs.filter((_, k) => memberships[k].optedIn).map((a) => a.name),
        commissionOwed: owed,
      };
    }),
  );

  // Pools: every desk's, and every pool that earns on the rail.
  const poolCount = Number(await chain.read<bigint>("StakeVault", chain.vault, "poolCount"));
  const ids = Array.from({ length: poolCount }, (_, i) => BigInt(i + 1));
  const pools = (
    await Promise.all(
      ids.map(async (id): Promise<MarketPool | null> => {
        const [[asset, operator], earns] = await Promise.all([
          chain.read<[Address, Address]>("StakeVault", chain.vault, "poolAsset", [id]),
          chain.read<boolean>("StakeVault", chain.vault, "earns", [id]),
        ]);
        const desk = desks.find((d) => d.address.toLowerCase() === operator.toLowerCase()) ?? null;
        if (!desk && !earns) return null;
        const [value, books, commission] = await Promise.all([
          chain.read<bigint>("StakeVault", chain.vault, "slashableAssets", [id]),
          chain.read<PoolRewards>("RewardRail", rail, "poolRewards", [id]),
          chain.read<[number, number, number]>("RewardRail", rail, "commissionOf", [id]),
        ]);
        const token = assetAt(books.on ? books.token : asset);
        const named = world.pools.find((p) => BigInt(p.id) === id)?.name;
        return {
          id,
          label: named ?? (desk ? `desk ${desk.index} ${token?.symbol ?? ""}`.trim() : `pool #${id}`),
          desk,
          asset: token,
          value,
          earns,
          commissionBps: Number(commission[0]),
          nextBps: Number(commission[1]),
          nextAt: Number(commission[2]),
          paidToStakers: books.paidToStakers,
          commissionPaid: books.commissionPaid,
          dust: books.dust,
        };
      }),
    )
  ).filter((p): p is MarketPool => p !== null);
  const poolOf = (id: bigint) => pools.find((p) => p.id === id) ?? null;

  // The book and the leases.
  const [bidCount, askCount, leaseCount] = await Promise.all(
    ["bidCount", "askCount", "leaseCount"].map((f) => chain.read<number>("SecurityMarket", market, f)),
  );
  const range = (n: number) => Array.from({ length: Number(n) }, (_, i) => i + 1);
  const [bidViews, askViews, leaseViews] = await Promise.all([
    Promise.all(range(bidCount).map((i) => chain.read<BidView>("SecurityMarket", market, "bids", [BigInt(i)]))),
    Promise.all(range(askCount).map((i) => chain.read<AskView>("SecurityMarket", market, "asks", [BigInt(i)]))),
    Promise.all(range(leaseCount).map((i) => chain.read<LeaseView>("SecurityMarket", market, "leases", [BigInt(i)]))),
  ]);
  const bids: OpenBid[] = bidViews.flatMap((b, i) =>
    b.backing > 0n
      ? [
          {
            id: i + 1,
            avs: avsName(b.avsId),
            avsId: Number(b.avsId),
            asset: assetAt(b.asset),
            backing: b.backing,
            mode: Number(b.mode),
            minRatingBps: Number(b.minRatingBps),
            term: Number(b.term),
            maxPriceBps: Number(b.maxPriceBps),
            maxCommissionBps: Number(b.maxCommissionBps),
            escrow: b.escrow,
          },
        ]
      : [],
  );
  const asks: OpenAsk[] = askViews.flatMap((k, i) =>
    k.capacity > 0n
      ? [
          {
            id: i + 1,
            pool: poolOf(BigInt(k.poolId)),
            poolId: BigInt(k.poolId),
            capacity: k.capacity,
            mode: Number(k.mode),
            minPriceBps: Number(k.minPriceBps),
            maxTerm: Number(k.maxTerm),
          },
        ]
      : [],
  );
  const leases = await Promise.all(
    leaseViews.map(
      async (l): Promise<LeaseRow> => ({
        id: Number(l.leaseId),
        bidId: Number(l.bidId),
        pool: poolOf(l.poolId),
        poolId: l.poolId,
        avs: avsName(l.avsId),
        avsId: Number(l.avsId),
        asset: assetAt(l.asset),
        mode: Number(l.mode),
        backing: l.backing,
        priceBps: Number(l.priceBps),
        premium: l.premium,
        start: Number(l.start),
        end: Number(l.end),
        streamedTo: Number(l.streamedTo),
        paid: l.paid,
        refunded: l.refunded,
        ended: l.ended,
        slashable: l.ended
          ? 0n
          : await chain.read<bigint>("AllocationManager", chain.manager, "slashableBacking", [l.avsId, l.poolId]),
      }),
    ),
  );

  let me: MarketMe | null = null;
  if (selected) {
    const address = selected.address;
    const earning = pools.filter((p) => p.earns);
    const [admins, claimable, claims, credits, wallet] = await Promise.all([
      Promise.all(world.avs.map((a) => chain.read<{ admin: Address }>("AllocationManager", chain.manager, "getAVS", [a.id]))),
      Promise.all(earning.map((p) => chain.read<bigint>("RewardRail", rail, "claimable", [p.id, address]))),
      chain.client.getLogs({
        address: rail,
        event: event(chain, "RewardRail", "RewardClaimed"),
        args: { staker: address },
        fromBlock: BigInt(deployment.block),
        toBlock: block,
      }),
      Promise.all(
        world.assets.map(async (t) => ({
          asset: t,
          amount: await chain.read<bigint>("SecurityMarket", market, "credits", [address, t.address]),
        })),
      ),
      Promise.all(
        world.assets.map(async (t) => ({
          asset: t,
          amount: await chain.read<bigint>("MockERC20", t.address, "balanceOf", [address]),
        })),
      ),
    ]);
    const claimed = new Map<bigint, bigint>();
    for (const log of claims) {
      const args = (log as unknown as { args: { poolId: bigint; amount: bigint } }).args;
      claimed.set(args.poolId, (claimed.get(args.poolId) ?? 0n) + args.amount);
    }
    me = {
      name: selected.name,
      address,
      adminOf: world.avs.filter((_, i) => admins[i].admin.toLowerCase() === address.toLowerCase()).map((a) => a.name),
      desks: desks.filter((d) => d.owner.toLowerCase() === address.toLowerCase()),
      rewards: earning.map((pool, i) => ({ pool, claimable: claimable[i], claimed: claimed.get(pool.id) ?? 0n })),
      credits,
      wallet,
    };
  }
  return {
    market,
    rail,
    desks,
    pools,
    bids,
    asks,
    leases,
    closedBids: bidViews.length - bids.length,
    closedAsks: askViews.length - asks.length,
    bidAssets: new Map(bidViews.map((b, i) => [i + 1, assetAt(b.asset)])),
    me,
  };
}

// ---------------------------------------------------------------------------------------------------- rendering

const MODE = ["none", "isolated", "shared"];

function esc(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

/**
 * An amount with its unit, its exact base units in `data-raw` (and on hover). Cut to 6 decimals as elsewhere on
 * the page, except that an amount above zero is never shown as 0: below 10⁻⁶ every decimal is shown.
 */
export function tokenAmount(testid: string, raw: bigint, asset: WorldAsset | null): string {
  if (!asset) return `<span data-testid="${esc(testid)}" data-raw="${raw}">${raw} (base units)</span>`;
  const text = visible(raw, asset.decimals);
  return `<span data-testid="${esc(testid)}" data-raw="${raw}" title="${raw} base units">${text} ${asset.symbol}</span>`;
}

/** A price in bps of the backing a year: `1,200 bps/yr (12%)`. */
export function price(bps: number): string {
  return `${bps.toLocaleString("en-US")} bps/yr <span class="dim">(${amount(BigInt(bps) * 10n ** 14n * 100n, 18, 2)}%)</span>`;
}

function when(t: number): string {
  return new Date(t * 1000).toISOString().slice(0, 16).replace("T", " ");
}

const short = (a: Address) => `${a.slice(0, 8)}…${a.slice(-4)}`;

function renderDesks(m: MarketState, now: number): string {
  if (m.desks.length === 0) {
    return `<p class="dim">No desk yet: an operator sells backing through a desk it opens (below), which stakers deposit with.</p>`;
  }
  const rows = m.desks.map((d) => {
    const pools = m.pools.filter((p) => p.desk === d);
    const owed = d.commissionOwed
      .filter((h) => h.amount > 0n)
      .map((h) => tokenAmount(`commission_owed.desk${d.index}.${h.asset.symbol}`, h.amount, h.asset));
    const poolCells = pools.length
      ? pools
          .map((p) => {
            const next =
              p.nextAt > now ? ` <span class="pending">→ ${p.nextBps / 100}% in ${duration(p.nextAt - now)}</span>` : "";
            return `<b>${esc(p.label)}</b> <span class="dim">#${p.id}</span> ${tokenAmount(`market_pool.${p.id}.value`, p.value, p.asset)}
              <span data-testid="market_pool.${p.id}.earns" data-value="${p.earns}" class="tag ${p.earns ? "covered" : ""}">${p.earns ? "earns" : "rewards off"}</span>
              commission <span data-testid="market_pool.${p.id}.commission">${p.commissionBps / 100}%</span>${next}<br>
              <span class="dim small">paid to stakers</span> ${tokenAmount(`market_pool.${p.id}.paid_to_stakers`, p.paidToStakers, p.asset)}
              <span class="dim small">commission</span> ${tokenAmount(`market_pool.${p.id}.commission_paid`, p.commissionPaid, p.asset)}`;
          })
          .join("<br>")
      : '<span class="dim">no pool yet: nobody deposited with it</span>';
    return `<tr data-testid="desk-${d.index}"><td><b>desk ${d.index}</b><br><span class="dim small" data-testid="desk.${d.index}.address" data-address="${d.address}">${short(d.address)}</span></td>
      <td data-testid="desk.${d.index}.owner">${esc(d.ownerName)}</td><td>${poolCells}</td>
      <td data-testid="desk.${d.index}.opted_in">${esc(d.optedIn.join(", ")) || '<span class="dim">none</span>'}</td>
      <td>${owed.join("<br>") || '<span class="dim">0</span>'}</td></tr>`;
  });
  return `<table data-testid="desks"><tr><th>desk</th><th>owner</th><th>pools: value, rewards, commission, paid so far</th><th>opted in to</th><th>commission owed</th></tr>${rows.join("")}</table>`;
}

function renderBook(m: MarketState, busy: boolean): string {
  const me = m.me;
  const off = busy ? " disabled" : "";
  const bids = m.bids.map((b) => {
    const mine = me?.adminOf.includes(b.avs);
    return `<tr data-testid="bid-${b.id}"><td>#${b.id}</td><td>${esc(b.avs)}</td><td>${esc(b.asset?.symbol ?? "?")}</td>
      <td class="num">${tokenAmount(`bid.${b.id}.backing`, b.backing, b.asset)}</td><td><span class="tag ${MODE[b.mode]}">${MODE[b.mode]}</span></td>
      <td data-testid="bid.${b.id}.term" data-seconds="${b.term}">${duration(b.term)}</td>
      <td class="num" data-testid="bid.${b.id}.price" data-bps="${b.maxPriceBps}">≤ ${price(b.maxPriceBps)}</td>
      <td class="num">≤ ${b.maxCommissionBps / 100}%</td><td class="num">${b.minRatingBps ? `${(b.minRatingBps / 10_000).toFixed(2)}` : "any"}</td>
      <td class="num">${tokenAmount(`bid.${b.id}.escrow`, b.escrow, b.asset)}</td>
      <td>${mine ? `<button data-market="cancel-bid" data-id="${b.id}" data-testid="cancel-bid-${b.id}"${off}>cancel</button>` : ""}</td></tr>`;
  });
  const asks = m.asks.map((k) => {
    const mine = me && k.pool?.desk && me.desks.includes(k.pool.desk);
    const asset = k.pool?.asset ?? null;
    return `<tr data-testid="ask-${k.id}"><td>#${k.id}</td><td>${esc(k.pool?.label ?? `pool #${k.poolId}`)}</td>
      <td>${k.pool?.desk ? `desk ${k.pool.desk.index} <span class="dim">(${esc(k.pool.desk.ownerName)})</span>` : "?"}</td>
      <td class="num">${tokenAmount(`ask.${k.id}.capacity`, k.capacity, asset)}</td><td><span class="tag ${MODE[k.mode]}">${MODE[k.mode]}</span></td>
      <td class="num" data-testid="ask.${k.id}.price" data-bps="${k.minPriceBps}">≥ ${price(k.minPriceBps)}</td>
      <td data-testid="ask.${k.id}.max_term" data-seconds="${k.maxTerm}">${duration(k.maxTerm)}</td>
      <td>${mine ? `<button data-market="cancel-ask" data-id="${k.id}" data-testid="cancel-ask-${k.id}"${off}>cancel</button>` : ""}</td></tr>`;
  });
  const closed = (n: number) => (n ? ` <span class="dim small">(${n} filled or cancelled)</span>` : "");
  return `<h3>Bids: AVSs buying backing${closed(m.closedBids)}</h3>
    <table data-testid="bids"><tr><th>bid</th><th>AVS</th><th>asset</th><th>backing wanted</th><th>mode</th><th>term</th><th>max price</th><th>max commission</th><th>min rating</th><th>escrow</th><th></th></tr>
    ${bids.join("") || '<tr><td class="dim" colspan="11">no open bid</td></tr>'}</table>
    <h3>Asks: desks selling backing${closed(m.closedAsks)}</h3>
    <table data-testid="asks"><tr><th>ask</th><th>pool</th><th>desk</th><th>capacity</th><th>mode</th><th>min price</th><th>max term</th><th></th></tr>
    ${asks.join("") || '<tr><td class="dim" colspan="8">no open ask</td></tr>'}</table>`;
}

function renderLeases(m: MarketState, now: number, busy: boolean): string {
  if (m.leases.length === 0) return `<h3>Leases</h3><p class="dim">No lease yet: a fill makes one.</p>`;
  const rows = m.leases.map((l) => {
    const id = l.id;
    let state: string;
    let ratio = '<span class="dim">-</span>';
    if (l.ended) state = "ended";
    else if (now < l.start) state = `starts in ${duration(l.start - now)}`;
    else if (now < l.end) state = `running, ${duration(l.end - now)} left`;
    else state = "term over: stream to close";
    if (!l.ended && now >= l.start && l.backing > 0n) {
      const provided = l.slashable < l.backing ? l.slashable : l.backing;
      const wad = (provided * 10n ** 18n) / l.backing;
      ratio = `<span data-testid="lease.${id}.backing_ratio" data-wad="${wad}" class="${wad < 10n ** 18n ? "pending" : ""}">${amount(wad * 100n, 18, 2)}%</span>`;
    }
    const unstreamed = l.premium - l.paid - l.refunded;
    return `<tr data-testid="lease-${id}"><td>#${id} <span class="dim small">bid #${l.bidId}</span></td><td>${esc(l.pool?.label ?? `pool #${l.poolId}`)} → ${esc(l.avs)}</td>
      <td><span class="tag ${MODE[l.mode]}">${MODE[l.mode]}</span></td>
      <td class="num">${tokenAmount(`lease.${id}.backing`, l.backing, l.asset)}</td>
      <td class="num" data-testid="lease.${id}.price" data-bps="${l.priceBps}">${price(l.priceBps)}</td>
      <td class="num">${tokenAmount(`lease.${id}.premium`, l.premium, l.asset)}</td>
      <td class="small"><span data-testid="lease.${id}.start" data-time="${l.start}">${when(l.start)}</span><br>
        <span data-testid="lease.${id}.end" data-time="${l.end}">${when(l.end)}</span></td>
      <td class="small" data-testid="lease.${id}.streamed_to" data-time="${l.streamedTo}">${when(l.streamedTo)}</td>
      <td class="num">${tokenAmount(`lease.${id}.paid`, l.paid, l.asset)}</td>
      <td class="num">${tokenAmount(`lease.${id}.refunded`, l.refunded, l.asset)}</td>
      <td class="num">${tokenAmount(`lease.${id}.unstreamed`, unstreamed, l.asset)}</td>
      <td class="num">${ratio}</td>
      <td data-testid="lease.${id}.state" data-ended="${l.ended}">${state}</td>
      <td>${l.ended ? "" : `<button data-market="stream" data-id="${id}" data-testid="stream-${id}"${busy ? " disabled" : ""}>stream</button>`}</td></tr>`;
  });
  return `<h3>Leases</h3><table data-testid="leases"><tr><th>lease</th><th>pool → AVS</th><th>mode</th><th>backing</th><th>price</th><th>premium</th>
    <th>start, end (UTC)</th><th>streamed to</th><th>paid</th><th>refunded</th><th>unstreamed</th><th>backing now</th><th>state</th><th></th></tr>${rows.join("")}</table>
    <p class="dim legend-text">A lease starts when its allocation takes effect and runs for the bid's term. <b>stream</b> (anyone) prices
    the span since the last call at the lower of the backing ratio at its two ends: that share is paid to the pool's stakers
    through the reward rail (minus the operator's commission, capped by the bid), the rest is refunded to the AVS.</p>`;
}

function renderMe(m: MarketState, busy: boolean): string {
  const me = m.me;
  if (!me) return `<h3>Selected account</h3><p class="dim">Signing with the injected wallet: pick a burner account to see what it is owed.</p>`;
  const off = busy ? " disabled" : "";
  const rewards = me.rewards.map(
    (r) => `<tr><td>${esc(r.pool.label)} <span class="dim">#${r.pool.id}</span></td>
      <td class="num">${tokenAmount(`rewards.${r.pool.id}.claimable`, r.claimable, r.pool.asset)}</td>
      <td class="num">${tokenAmount(`rewards.${r.pool.id}.claimed`, r.claimed, r.pool.asset)}</td>
      <td>${r.claimable > 0n ? `<button data-market="claim-rewards" data-id="${r.pool.id}" data-testid="claim-rewards-${r.pool.id}"${off}>claim</button>` : ""}</td></tr>`,
  );
  const credits = me.credits
    .filter((c) => c.amount > 0n)
    .map(
      (c) => `${tokenAmount(`credits.${c.asset.symbol}`, c.amount, c.asset)}
        <button data-market="withdraw" data-id="${c.asset.symbol}" data-testid="withdraw-credits-${c.asset.symbol}"${off}>withdraw</button>`,
    );
  const commission = me.desks.flatMap((d) =>
    d.commissionOwed
      .filter((h) => h.amount > 0n)
      .map(
        (h) => `desk ${d.index}: ${tokenAmount(`my_commission.desk${d.index}.${h.asset.symbol}`, h.amount, h.asset)}
          <button data-market="claim-commission" data-id="${d.index}:${h.asset.symbol}" data-testid="claim-commission-${d.index}-${h.asset.symbol}"${off}>claim</button>`,
      ),
  );
  const wallet = me.wallet.map((h) => tokenAmount(`wallet.${h.asset.symbol}`, h.amount, h.asset)).join(", ");
  return `<h3>Selected account: ${esc(me.name)}</h3>
    <p>${me.adminOf.length ? `Admin of <span data-testid="market-admin-of">${esc(me.adminOf.join(", "))}</span>: posts and cancels their bids. ` : ""}${
      me.desks.length ? `Owns ${me.desks.map((d) => `desk ${d.index}`).join(", ")}. ` : ""
    }Wallet: ${wallet}.</p>
    <table data-testid="my-rewards"><tr><th>rewards in</th><th>claimable</th><th>claimed so far</th><th></th></tr>
    ${rewards.join("") || '<tr><td class="dim" colspan="4">no pool earns yet</td></tr>'}</table>
    <p>Refunds held by the market: ${credits.join(" ") || '<span class="dim">none</span>'}</p>
    <p>Commission owed to its desks: ${commission.join(" ") || '<span class="dim">none</span>'}</p>`;
}

/** The market panel; `busy` disables its row buttons while one of its transactions is in flight. */
export function renderMarket(m: MarketState | null, now: number, busy: boolean): string {
  if (!m) {
    return `<p data-testid="market-absent">This deployment has no security market (its file names no
      <code>SecurityMarket</code> and <code>RewardRail</code> with their ABIs: it was made before issue 17). Run
      <code>make dapp</code> again to deploy one.</p>`;
  }
  return `${renderBook(m, busy)}${renderLeases(m, now, busy)}<h3>Desks</h3>${renderDesks(m, now)}${renderMe(m, busy)}`;
}

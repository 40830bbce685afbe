// What a person can do on the security market from the page, as the account picked in the header: open a desk,
// deposit with it, turn its pool's rewards on, opt it in to an AVS, post bids (as an AVS's admin) and asks (as a desk's
// owner), fill, cancel, stream a lease, claim rewards, withdraw refunds and claim commission. Every call goes through
// `chain.send`, so a refusal shows its custom error decoded.
import { isAddress, type Address } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import { renderForms, runner, type Form, type Option } from "./actions";
import type { Chain, Decoded } from "./chain";
import { amount, parseAmount, parseDuration } from "./format";
import type { Desk, MarketPool, MarketState } from "./market";
import type { Actor, WorldAsset } from "./world";

const YEAR = 365n * 86400n;

/** The escrow `postBid` pulls: ⌈backing·maxPrice·term / (10⁴·year)⌉ (`SecurityMarket.postBid`). */
export function bidEscrow(backing: bigint, maxPriceBps: bigint, term: bigint): bigint {
  const num = backing * maxPriceBps * term;
  const den = 10_000n * YEAR;
  return (num + den - 1n) / den;
}

/** A whole number of bps in `[0, max]`, typed; empty gives `fallback` when there is one. */
function parseBps(text: string, what: string, max: number, fallback?: number): number {
  const clean = text.trim().replace(/[,_\s]/g, "");
  if (clean === "" && fallback !== undefined) return fallback;
  if (!/^\d+$/.test(clean)) throw new Error(`"${text}" is not a ${what} in bps: write a whole number like 1200 (12%)`);
  const value = Number(clean);
  if (value > max) throw new Error(`${what}: ${value} bps is above ${max}`);
  return value;
}

export interface MarketPanel {
  /** The latest read of the market: the forms' choices and the row buttons follow it. */
  update(state: MarketState | null): void;
  /** True while one of the panel's transactions is in flight. */
  busy(): boolean;
}

export function marketPanel(
  chain: Chain,
  forms: HTMLElement,
  view: HTMLElement,
  status: HTMLElement,
  selected: () => Actor | null,
  refresh: () => Promise<void>,
): MarketPanel {
  const { world } = chain.loaded;
  const contracts = chain.market;
  let state: MarketState | null = null;
  let inFlight = false;
  const { show, run } = runner(status, refresh);
  const once = async (send: () => Promise<boolean>): Promise<boolean> => {
    inFlight = true;
    try {
      return await send();
    } finally {
      inFlight = false;
    }
  };
  if (!contracts) {
    forms.innerHTML = "";
    return { update: () => {}, busy: () => false };
  }
  const { market, rail } = contracts;

  const symbols = world.assets.map((a) => a.symbol);
  const assetOf = (symbol: string): WorldAsset => {
    const a = world.assets.find((x) => x.symbol === symbol);
    if (!a) throw new Error(`no demo token ${symbol}`);
    return a;
  };
  const avsOf = (name: string) => {
    const a = world.avs.find((x) => x.name === name);
    if (!a) throw new Error(`no AVS ${name}`);
    return a;
  };
  const modeOf = (text: string) => (text === "isolated" ? 1 : 2);
  const deskOptions = (): Option[] =>
    (state?.desks ?? []).map((d) => ({ value: String(d.index), label: `desk ${d.index} (${d.ownerName})` }));
  const deskPoolOptions = (): Option[] =>
    (state?.pools ?? []).filter((p) => p.desk).map((p) => ({ value: String(p.id), label: `${p.label} (#${p.id})` }));
  const desk = (index: string): Desk => {
    const d = state?.desks.find((x) => String(x.index) === index);
    if (!d) throw new Error("pick a desk (open one first)");
    return d;
  };
  const deskPool = (id: string): MarketPool => {
    const p = state?.pools.find((x) => String(x.id) === id && x.desk);
    if (!p) throw new Error("pick a desk's pool (deposit with a desk first)");
    return p;
  };
  const unit = (p: MarketPool) => {
    if (!p.asset) throw new Error(`${p.label}: not a demo token's pool`);
    return p.asset;
  };
  const me = () => chain.address(selected());
  const named = (events: Decoded[], name: string) => events.find((e) => e.name === name)?.args ?? {};

  const table: Form[] = [
    [
      "desk-open",
      "Open a desk (an operator the selected account owns)",
      [
        { name: "uri", label: "metadata URI", placeholder: "ipfs://my-desk" },
        { name: "key", label: "signing key", placeholder: "empty: a fresh key" },
      ],
      async (v) => {
        const key = v.key.trim() || privateKeyToAccount(generatePrivateKey()).address;
        if (!isAddress(key)) throw new Error(`"${v.key}" is not an address`);
        const uri = v.uri.trim() || `ipfs://desk-of-${selected()?.name ?? "wallet"}`;
        return once(() =>
          run(
            "open a desk",
            () => chain.send(selected(), "SecurityMarket", market, "openDesk", [uri, key as Address]),
            (events) => `desk at ${String(named(events, "DeskOpened").desk)}`,
          ),
        );
      },
    ],
    [
      "desk-deposit",
      "Deposit with a desk (mints the demo token first)",
      [
        { name: "desk", label: "desk", options: deskOptions },
        { name: "asset", label: "asset", options: symbols },
        { name: "amount", label: "amount", placeholder: "30" },
      ],
      async (v) => {
        const d = desk(v.desk);
        const token = assetOf(v.asset);
        const value = parseAmount(v.amount, token.decimals, token.symbol);
        return once(() =>
          run(`deposit ${v.amount} ${token.symbol} with desk ${d.index}`, async () => {
            const who = selected();
            const owner = await me();
            await chain.send(who, "MockERC20", token.address, "mint", [owner, value]);
            await chain.send(who, "MockERC20", token.address, "approve", [chain.vault, value]);
            return chain.send(who, "StakeVault", chain.vault, "deposit", [d.address, token.address, value]);
          }),
        );
      },
    ],
    [
      "desk-rewards",
      "Turn rewards on for a desk's pool (its owner)",
      [{ name: "pool", label: "pool", options: deskPoolOptions }],
      async (v) => {
        const p = deskPool(v.pool);
        return once(() =>
          run(`turn rewards on for ${p.label}`, () =>
            chain.send(selected(), "OperatorDesk", p.desk!.address, "enableRewards", [p.id]),
          ),
        );
      },
    ],
    [
      "desk-optin",
      "Opt a desk in to an AVS (its owner)",
      [
        { name: "desk", label: "desk", options: deskOptions },
        { name: "avs", label: "AVS", options: world.avs.map((a) => a.name) },
      ],
      async (v) => {
        const d = desk(v.desk);
        const a = avsOf(v.avs);
        return once(() =>
          run(`opt desk ${d.index} in to ${a.name}`, () =>
            chain.send(selected(), "OperatorDesk", d.address, "optIn", [a.id]),
          ),
        );
      },
    ],
    [
      "bid",
      "Post a bid (the AVS's admin; mints and escrows the premium at the max price)",
      [
        { name: "avs", label: "AVS", options: world.avs.map((a) => a.name) },
        { name: "asset", label: "asset", options: symbols },
        { name: "backing", label: "backing wanted", placeholder: "40" },
        { name: "mode", label: "mode", options: ["isolated", "shared"] },
        { name: "term", label: "term", placeholder: "30d" },
        { name: "price", label: "max price bps/yr", placeholder: "1200" },
        { name: "commission", label: "max commission bps", placeholder: "empty: 1000" },
        { name: "rating", label: "min rating bps", placeholder: "empty: 0 (any)" },
      ],
      async (v) => {
        const a = avsOf(v.avs);
        const token = assetOf(v.asset);
        const backing = parseAmount(v.backing, token.decimals, token.symbol);
        const term = parseDuration(v.term);
        const priceBps = parseBps(v.price, "max price", 10_000);
        const commission = parseBps(v.commission, "max commission", 5_000, 1_000);
        const rating = parseBps(v.rating, "min rating", 10_000, 0);
        const escrow = bidEscrow(backing, BigInt(priceBps), BigInt(term));
        return once(() =>
          run(
            `${a.name} bids for ${v.backing} ${token.symbol}`,
            async () => {
              const who = selected();
              const admin = await me();
              if (escrow > 0n) {
                await chain.send(who, "MockERC20", token.address, "mint", [admin, escrow]);
                await chain.send(who, "MockERC20", token.address, "approve", [market, escrow]);
              }
              return chain.send(who, "SecurityMarket", market, "postBid", [
                a.id,
                token.address,
                backing,
                modeOf(v.mode),
                rating,
                term,
                priceBps,
                commission,
              ]);
            },
            (events) => {
              const posted = named(events, "BidPosted");
              return `bid #${String(posted.bidId)}, ${amount((posted.escrow as bigint) ?? 0n, token.decimals, token.decimals)} ${token.symbol} escrowed`;
            },
          ),
        );
      },
    ],
    [
      "ask",
      "Post an ask (the desk's owner)",
      [
        { name: "pool", label: "pool", options: deskPoolOptions },
        { name: "capacity", label: "capacity", placeholder: "50" },
        { name: "mode", label: "mode", options: ["isolated", "shared"] },
        { name: "price", label: "min price bps/yr", placeholder: "500" },
        { name: "term", label: "max term", placeholder: "365d" },
      ],
      async (v) => {
        const p = deskPool(v.pool);
        const token = unit(p);
        const capacity = parseAmount(v.capacity, token.decimals, token.symbol);
        const priceBps = parseBps(v.price, "min price", 10_000);
        const term = parseDuration(v.term);
        return once(() =>
          run(`ask on ${p.label}`, () =>
            chain.send(selected(), "SecurityMarket", market, "postAsk", [p.id, capacity, modeOf(v.mode), priceBps, term]),
          ),
        );
      },
    ],
    [
      "fill",
      "Fill (the desk's owner takes the bid's price, the AVS's admin the ask's)",
      [
        {
          name: "bid",
          label: "bid",
          options: () =>
            (state?.bids ?? []).map((b) => ({
              value: String(b.id),
              label: `#${b.id} ${b.avs}: ${amount(b.backing, b.asset?.decimals ?? 18)} ${b.asset?.symbol ?? ""}`,
            })),
        },
        {
          name: "ask",
          label: "ask",
          options: () =>
            (state?.asks ?? []).map((k) => ({
              value: String(k.id),
              label: `#${k.id} ${k.pool?.label ?? `pool #${k.poolId}`}: ${amount(k.capacity, k.pool?.asset?.decimals ?? 18)}`,
            })),
        },
        { name: "amount", label: "amount", placeholder: "empty: as much as both allow" },
      ],
      async (v) => {
        const bid = state?.bids.find((b) => String(b.id) === v.bid);
        const ask = state?.asks.find((k) => String(k.id) === v.ask);
        if (!bid || !ask) throw new Error("pick an open bid and an open ask");
        const token = bid.asset ?? assetOf("WETH");
        const most = bid.backing < ask.capacity ? bid.backing : ask.capacity;
        const value = v.amount.trim() === "" ? most : parseAmount(v.amount, token.decimals, token.symbol);
        return once(() =>
          run(
            `fill bid #${bid.id} with ask #${ask.id}`,
            () => chain.send(selected(), "SecurityMarket", market, "fill", [BigInt(bid.id), BigInt(ask.id), value]),
            (events) => {
              const opened = named(events, "LeaseOpened");
              return `lease #${String(opened.leaseId)}, premium ${amount((opened.premium as bigint) ?? 0n, token.decimals, token.decimals)} ${token.symbol}`;
            },
          ),
        );
      },
    ],
  ];
  const sync = renderForms(forms, table, show);

  // The rows' buttons (rendered again every second): one listener on the panel.
  view.addEventListener("click", (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button[data-market]");
    if (!button || inFlight || !state) return;
    const id = button.dataset.id ?? "";
    button.disabled = true;
    const who = selected();
    const act = async (): Promise<boolean> => {
      switch (button.dataset.market) {
        case "stream":
          return run(
            `stream lease #${id}`,
            () => chain.send(who, "SecurityMarket", market, "stream", [BigInt(id)]),
            (events) => {
              const s = named(events, "LeaseStreamed");
              const lease = state?.leases.find((l) => String(l.id) === id);
              const d = lease?.asset?.decimals ?? 18;
              return `paid ${amount((s.paid as bigint) ?? 0n, d, d)}, refunded ${amount((s.refunded as bigint) ?? 0n, d, d)}`;
            },
          );
        case "cancel-bid":
          return run(`cancel bid #${id}`, () => chain.send(who, "SecurityMarket", market, "cancelBid", [BigInt(id)]));
        case "cancel-ask":
          return run(`cancel ask #${id}`, () => chain.send(who, "SecurityMarket", market, "cancelAsk", [BigInt(id)]));
        case "claim-rewards": {
          const pool = state?.pools.find((p) => String(p.id) === id);
          const d = pool?.asset?.decimals ?? 18;
          return run(
            `claim rewards in ${pool?.label ?? `pool #${id}`}`,
            async () => chain.send(who, "RewardRail", rail, "claim", [BigInt(id), await me()]),
            (events) => `claimed ${amount((named(events, "RewardClaimed").amount as bigint) ?? 0n, d, d)}`,
          );
        }
        case "withdraw": {
          const token = assetOf(id);
          return run(`withdraw refunds in ${id}`, async () =>
            chain.send(who, "SecurityMarket", market, "withdraw", [token.address, await me()]),
          );
        }
        case "claim-commission": {
          const [index, symbol] = id.split(":");
          const d = desk(index);
          const token = assetOf(symbol);
          return run(`claim desk ${index}'s ${symbol} commission`, async () =>
            chain.send(who, "OperatorDesk", d.address, "claimCommission", [token.address, await me()]),
          );
        }
        default:
          return false;
      }
    };
    void once(act);
  });

  return {
    update: (next) => {
      state = next;
      sync();
    },
    busy: () => inFlight,
  };
}

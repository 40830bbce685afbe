// The demo dApp: reads the anvil deployment directly through viem, shows pools, AVSs, operators, stakers and a live
// timeline, and acts as the demo world's accounts (burner keys) or an injected wallet.
import { Chain, NodeError, Reverted, type Decoded } from "./chain";
import { amount, duration, percent, rating, ratio, tenthsOf, visible, weight, withUnit } from "./format";
import { actionsPanel, type Act } from "./actions";
import { renderMarket, type MarketState } from "./market";
import { marketPanel } from "./marketActions";
import { readSnapshot, type AvsState, type RecordView, type Snapshot } from "./state";
import { loadWorld, SetupError, type Actor } from "./world";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function esc(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

/** Shows a problem on the page (and keeps it out of the console's error stream: it is handled). */
function banner(message: string | null): void {
  const el = $("banner");
  el.hidden = message === null;
  el.textContent = message ?? "";
}

const MODE = ["none", "isolated", "shared"];

function renderPools(s: Snapshot): string {
  const rows = s.pools.map((p) => {
    const n = p.pool.name;
    const total = p.value === 0n ? 1n : p.value;
    const iso = Number((p.isolated * 1000n) / total) / 10;
    const shared = Number((p.sharedStake * 1000n) / total) / 10;
    const guard = Number((p.guardUsed * 1000n) / 10n ** 18n) / 10;
    const tiers = s.pools.filter((t) => t.pool.tierOf === n).map((t) => t.pool.name);
    const unit = (x: bigint) => withUnit(x, p.decimals, p.symbol);
    return `<tr>
      <td><b>${esc(n)}</b> <span class="dim">#${p.pool.id} ${esc(p.pool.operator)}${p.pool.tierOf ? `, tier of ${esc(p.pool.tierOf)}` : ""}</span></td>
      <td class="num" data-testid="pool_value.${esc(n)}">${unit(p.value)}</td>
      <td class="num" data-testid="share_price.${esc(n)}">${amount(p.sharePrice, 18, 4)}</td>
      <td><div class="bar" title="isolated ${unit(p.isolated)} / shared ${unit(p.sharedStake)}">
        <div class="iso" style="width:${iso}%"></div><div class="shared" style="width:${shared}%"></div></div></td>
      <td class="num" data-testid="isolated.${esc(n)}">${unit(p.isolated)}</td>
      <td class="num" data-testid="shared.${esc(n)}">${unit(p.sharedStake)}</td>
      <td class="num"><span data-testid="reuse_ratio.${esc(n)}">${ratio(p.reuseRatio)}</span> <span class="dim">/ ${ratio(p.reuseCap)}</span></td>
      <td><span class="meter${guard >= 49.99 ? " full" : ""}"><div style="width:${Math.min(100, guard * 2)}%"></div></span>
        <span data-testid="guard_used.${esc(n)}">${percent(p.guardUsed)}</span></td>
      <td>${tiers.length ? esc(tiers.join(", ")) : "-"}</td></tr>`;
  });
  return `<table><tr><th>pool</th><th>value</th><th>share price</th><th>isolated | shared</th><th>isolated</th>
    <th>shared stake</th><th>reuse / cap</th><th>guard used (window)</th><th>tiers over it</th></tr>${rows.join("")}</table>
    <div class="legend"><span><i style="background:var(--iso)"></i>isolated (one AVS each)</span>
    <span><i style="background:var(--shared)"></i>shared (restaked, under the reuse cap)</span>
    <span class="dim">guard: at most 50% of a pool's value may leave per window</span></div>`;
}

/** A rating as a number in [0, 1] with a meter, its exact WAD in `data-wad`, and its evidence under it. */
function renderRating(testid: string, r: RecordView, epoch: number): string {
  const pct = Number((r.ratingWad * 1000n) / 10n ** 18n) / 10;
  const seen = r.seen
    ? `good ${amount(r.goodWad, 18, 2)} · bad ${amount(r.badWad, 18, 2)} · epoch ${r.epoch} of ${epoch}${r.tainted ? " · tainted" : ""}`
    : "new: no evidence yet";
  return `<span class="meter rating"><div style="width:${pct}%"></div></span><b data-testid="${esc(testid)}" data-wad="${r.ratingWad}">${rating(r.ratingWad)}</b>
    <br><span class="dim small" title="mean ${rating(r.meanWad)}, lower bound ${rating(r.lowerBoundWad)}">${seen}</span>`;
}

/** Rating, risk weight and bond columns of one AVS (reputation on). */
function avsReputationCells(a: AvsState, epoch: number): string {
  const r = a.reputation!;
  const n = esc(a.avs.name);
  const asks = tenthsOf(r.riskWeightWad);
  const weightCell = `<span data-testid="risk_weight.${n}">${weight(a.riskWeightTenths)}</span>${
    asks !== a.riskWeightTenths
      ? `<br><span class="pending" data-testid="risk_weight_now.${n}">rating asks ${weight(asks)}: refresh the standing</span>`
      : ""
  }`;
  const bonds = r.bonds.map((b) => {
    const queued = b.queued > 0n ? ` <span class="pending">+ ${withUnit(b.queued, b.decimals, b.symbol)} leaving</span>` : "";
    const needs =
      b.required > 0n
        ? ` <span class="dim">needs <span data-testid="bond_required.${n}.${b.symbol}">${withUnit(b.required, b.decimals, b.symbol)}</span></span>`
        : "";
    return `<span data-testid="bond.${n}.${b.symbol}">${withUnit(b.available, b.decimals, b.symbol)}</span>${queued}${needs}`;
  });
  const gate = a.bondShort
    ? `<span class="tag short" data-testid="bond_short.${n}" data-value="true">bond short: no new backing</span>`
    : `<span class="tag covered" data-testid="bond_short.${n}" data-value="false">covered</span>`;
  return `<td>${renderRating(`rating.${a.avs.name}`, r.record, epoch)}</td><td class="num">${weightCell}</td>
    <td><span data-testid="bond_fraction.${n}">${percent(r.bondFractionWad)}</span> <span class="dim">of its backing</span><br>
    ${bonds.join("<br>") || '<span class="dim">no bond</span>'}<br>${gate}</td>`;
}

function renderAvs(s: Snapshot): string {
  const epoch = s.reputation?.epoch ?? 0;
  const rows = s.avs.map((a) => {
    const backings = s.allocations
      .filter((x) => x.avs.name === a.avs.name)
      .map((x) => {
        const p = s.pools.find((p) => p.pool.name === x.pool.name)!;
        return `${esc(x.pool.name)} <span class="tag ${MODE[x.mode]}">${MODE[x.mode]}</span>
          <span data-testid="backing.${esc(a.avs.name)}.${esc(x.pool.name)}">${withUnit(x.backing, p.decimals, p.symbol)}</span>`;
      });
    const holds = a.sinkHolds
      .filter((h) => h.amount > 0n)
      .map((h) => `<span data-testid="sink.${esc(a.avs.name)}.${h.symbol}">${withUnit(h.amount, h.decimals, h.symbol)}</span>`);
    return `<tr><td><b>${esc(a.avs.name)}</b> <span class="dim">#${a.avs.id}</span></td><td>${esc(a.avs.kind)}</td>
      <td>${a.vetoWindow ? duration(a.vetoWindow) : "-"}</td><td>${backings.join("<br>") || "-"}</td>
      <td>${esc(a.avs.sinkName)}<br>${holds.join("<br>") || '<span class="dim">0</span>'}</td>${a.reputation ? avsReputationCells(a, epoch) : ""}</tr>`;
  });
  const reputation = s.reputation
    ? `<th>rating</th><th>risk weight</th><th>bond: required of backing, held</th>`
    : "";
  const legend = s.reputation
    ? `<p class="dim legend-text">Ratings rise at most 0.05 an epoch from 0, where every new AVS starts. A rating sets the
      weight an AVS's shared allocations count with against a pool's reuse cap (3× at 0 down to 1×) and the bond it must
      hold (50% of the backing it draws at 0 down to 5%); below it, it gets no new backing.</p>`
    : "";
  return `<table data-testid="avs-table"><tr><th>AVS</th><th>module</th><th>veto window</th><th>backing (slashable now)</th><th>sink holds</th>${reputation}</tr>
    ${rows.join("")}</table>${legend}`;
}

function renderOperators(s: Snapshot): string {
  const operators = [...new Set(s.pools.map((p) => p.pool.operator))];
  const rows = operators.flatMap((op) =>
    s.allocations
      .filter((x) => x.pool.operator === op)
      .map((x) => {
        const pending =
          x.effectAt > s.time
            ? `<span class="pending">→ ${percent(x.pending)} in ${duration(x.effectAt - s.time)}</span>`
            : "";
        return `<tr><td>${esc(op)}</td><td>${esc(x.pool.name)}</td><td>${esc(x.avs.name)}</td>
          <td><span class="tag ${MODE[x.mode]}">${MODE[x.mode]}</span></td><td class="num">${percent(x.fraction)}</td><td>${pending}</td></tr>`;
      }),
  );
  const ratings = s.reputation
    ? `<table data-testid="operator-ratings"><tr><th>operator</th><th>rating</th></tr>${s.reputation.operators
        .map((o) => `<tr><td>${esc(o.name)}</td><td>${renderRating(`operator_rating.${o.name}`, o.record, s.reputation!.epoch)}</td></tr>`)
        .join("")}</table>`
    : "";
  return `${ratings}<table><tr><th>operator</th><th>pool</th><th>AVS</th><th>mode</th><th>allocated</th><th>pending</th></tr>
    ${rows.join("")}</table>`;
}

function renderStakers(s: Snapshot, world: Chain["loaded"]["world"]): string {
  const pools = world.pools.map((p) => p.name);
  const unit = (pool: string) => s.pools.find((p) => p.pool.name === pool)!;
  const rows = [...s.positions.entries()]
    .filter(([, byPool]) => byPool.size > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, byPool]) => {
      const cells = pools.map((pool) => {
        const v = byPool.get(pool);
        const p = unit(pool);
        return `<td class="num">${v === undefined ? "" : `<span data-testid="position.${esc(name)}.${esc(pool)}">${withUnit(v, p.decimals, p.symbol)}</span>`}</td>`;
      });
      return `<tr><td>${esc(name)}</td>${cells.join("")}</tr>`;
    });
  const vault = s.vault
    .map((v) => `<span data-testid="balance.vault.${v.symbol}">${withUnit(v.amount, v.decimals, v.symbol)}</span>`)
    .join(", ");
  return `<table><tr><th>staker</th>${pools.map((p) => `<th>${esc(p)}</th>`).join("")}</tr>${rows.join("")}</table>
    <p class="dim">The vault holds ${vault}.</p>`;
}

function renderMe(s: Snapshot, me: Actor | null, act: Act): string {
  if (!me) return `<p class="dim">Signing with the injected wallet.</p>`;
  const byPool = s.positions.get(me.name);
  const positions = byPool
    ? [...byPool.entries()].map(([pool, v]) => {
        const p = s.pools.find((x) => x.pool.name === pool)!;
        return `<li>${esc(pool)}: ${withUnit(v, p.decimals, p.symbol)}</li>`;
      })
    : [];
  const withdrawals = s.withdrawals.map((w) => {
    const pool = s.pools.find((p) => BigInt(p.pool.id) === w.poolId);
    const value = pool ? withUnit(w.value, pool.decimals, pool.symbol) : String(w.value);
    const state = w.claimed
      ? "claimed"
      : w.matured || w.maturity <= s.time
        ? `<button data-claim="${w.id}" data-testid="claim-${w.id}">claim</button>`
        : `in escrow, claimable in <span data-testid="escrow-countdown">${duration(w.maturity - s.time)}</span>`;
    return `<tr><td>#${w.id & 0xffffffffffffffffn}</td><td>${esc(pool?.pool.name ?? "?")}</td><td class="num">${value}</td><td>${state}</td></tr>`;
  });
  queueMicrotask(() => {
    for (const button of document.querySelectorAll<HTMLButtonElement>("[data-claim]")) {
      button.onclick = () => act.claim(BigInt(button.dataset.claim!));
    }
  });
  return `<p><b>${esc(me.name)}</b> <span class="dim">${me.role} ${me.address}</span></p>
    <ul>${positions.join("") || '<li class="dim">no positions</li>'}</ul>
    <table><tr><th>withdrawal</th><th>pool</th><th>value</th><th>state</th></tr>${withdrawals.join("") || '<tr><td class="dim" colspan="4">none queued</td></tr>'}</table>`;
}

/** One line of the timeline, in words. */
function describe(e: Decoded, chain: Chain, market: MarketState | null): string {
  const { world } = chain.loaded;
  // Pools the world does not name (a desk's) as the market panel names them.
  const marketPool = (id: unknown) => market?.pools.find((p) => p.id === id);
  const pool = (id: unknown) =>
    world.pools.find((p) => BigInt(p.id) === id)?.name ?? marketPool(id)?.label ?? `#${String(id)}`;
  const avs = (id: unknown) => world.avs.find((a) => BigInt(a.id) === BigInt(id as number))?.name ?? `AVS #${String(id)}`;
  const who = (a: unknown) => {
    const lower = String(a).toLowerCase();
    const desk = market?.desks.find((d) => d.address.toLowerCase() === lower);
    return (
      world.actors.find((x) => x.address.toLowerCase() === lower)?.name ??
      (desk ? `desk ${desk.index}` : String(a).slice(0, 10))
    );
  };
  const unit = (id: unknown, raw: unknown) => {
    const p = world.pools.find((x) => BigInt(x.id) === id);
    const base = p?.tierOf ? world.pools.find((x) => x.name === p.tierOf) : p;
    const a = world.assets.find((x) => x.symbol === base?.asset) ?? marketPool(id)?.asset;
    return a ? `${visible(raw as bigint, a.decimals)} ${a.symbol}` : String(raw);
  };
  const leaseUnit = (id: unknown, raw: unknown) => {
    const lease = market?.leases.find((l) => BigInt(l.id) === id);
    return lease ? unit(lease.poolId, raw) : String(raw);
  };
  const token = (address: unknown, raw: unknown) => {
    const t = world.assets.find((x) => x.address.toLowerCase() === String(address).toLowerCase());
    return t ? `${visible(raw as bigint, t.decimals)} ${t.symbol}` : String(raw);
  };
  const a = e.args;
  switch (e.name) {
    case "Deposited":
      return `${who(a.staker)} deposited ${unit(a.poolId, a.assets)} into ${pool(a.poolId)}`;
    case "OperatorSlashed":
      return `${avs(a.avsId)} slashed ${unit(a.poolId, a.amount)} from ${pool(a.poolId)}`;
    case "CascadeGuardTripped":
      return `GUARD TRIPPED on ${pool(a.poolId)}: ${avs(a.avsId)} asked ${unit(a.poolId, a.requested)}, allowed ${unit(a.poolId, a.allowed)}`;
    case "SlashRequested":
      return `${avs(a.avsId)} requested ${percent(a.fractionWad as bigint)} of its backing in ${pool(a.poolId)} (request #${String(a.requestId)})`;
    case "SlashVetoed":
      return `request #${String(a.requestId)} vetoed`;
    case "AllocationModified":
      return `${pool(a.poolId)} → ${avs(a.avsId)}: ${MODE[Number(a.mode)]} allocation changed`;
    case "WithdrawalQueued":
      return `${who(a.staker)} queued withdrawal #${String((a.withdrawalId as bigint) & 0xffffffffffffffffn)} from ${pool(a.poolId)}`;
    case "WithdrawalCompleted":
      return `withdrawal #${String((a.withdrawalId as bigint) & 0xffffffffffffffffn)} paid to ${who(a.receiver)}`;
    case "AVSRatingUpdated":
      return `${avs(a.avsId)} closed epoch ${String(a.epoch)} on ${pool(a.poolId)}: rating ${rating(a.oldRatingWad as bigint)} → ${rating(a.newRatingWad as bigint)}`;
    case "OperatorRatingUpdated":
      return `${who(a.operator)} closed epoch ${String(a.epoch)} on ${pool(a.poolId)}: rating ${rating(a.oldRatingWad as bigint)} → ${rating(a.newRatingWad as bigint)}`;
    case "StandingSet":
      return `${avs(a.avsId)}'s standing: risk weight ${weight(Number(a.riskWeightTenths))}${a.bondShort ? ", bond short: no new backing" : ", bond covered"}`;
    case "BondDeposited":
      return `${avs(a.avsId)} bonded ${token(a.asset, a.amount)} (now ${token(a.asset, a.available)})`;
    case "PenaltyPaid":
      return `${avs(a.avsId)} paid a ${token(a.asset, a.amount)} penalty from its bond into ${pool(a.poolId)} (request #${String(a.requestId)} vetoed)`;
    case "OperatorOptedIn":
      return `${who(a.operator)} opted in to ${avs(a.avsId)}`;
    case "OperatorOptedOut":
      return `${who(a.operator)} opted out of ${avs(a.avsId)}`;
    case "DeskOpened":
      return `${who(a.owner)} opened ${who(a.desk)} (${String(a.desk).slice(0, 10)}), a desk on the security market`;
    case "BidPosted":
      return `${avs(a.avsId)} bid #${String(a.bidId)} for ${token(a.asset, a.backing)} ${MODE[Number(a.mode)]}, ${token(a.asset, a.escrow)} escrowed`;
    case "AskPosted":
      return `ask #${String(a.askId)} offers ${unit(a.poolId, a.capacity)} of ${pool(a.poolId)} ${MODE[Number(a.mode)]} from ${String(a.minPriceBps)} bps/yr`;
    case "BidClosed": {
      const t = market?.bidAssets.get(Number(a.bidId));
      const refund = t ? `${visible(a.refund as bigint, t.decimals)} ${t.symbol}` : `${String(a.refund)} base units`;
      return `bid #${String(a.bidId)} closed${(a.refund as bigint) > 0n ? `: ${refund} of escrow back to the AVS` : ""}`;
    }
    case "AskClosed":
      return `ask #${String(a.askId)} closed`;
    case "LeaseOpened":
      return `lease #${String(a.leaseId)}: ${unit(a.poolId, a.backing)} of ${pool(a.poolId)} to ${avs(a.avsId)} for ${unit(a.poolId, a.premium)}`;
    case "LeaseStreamed": {
      // The share of the span paid, from the amounts (the event's ratio is at the market's own scale).
      const [paid, refunded] = [a.paid as bigint, a.refunded as bigint];
      const share = paid + refunded > 0n ? `: ${percent((paid * 10n ** 18n) / (paid + refunded))} paid` : "";
      return `lease #${String(a.leaseId)} streamed: ${leaseUnit(a.leaseId, paid)} paid, ${leaseUnit(a.leaseId, refunded)} refunded${share}`;
    }
    case "LeaseClosed":
      return `lease #${String(a.leaseId)} closed${a.early ? " early (full slash or ejection): the rest back to the AVS" : ""}`;
    case "RewardsEnabled":
      return `${pool(a.poolId)} earns rewards from now on`;
    case "RewardPaid":
      return `${pool(a.poolId)} paid ${unit(a.poolId, a.amount)}: ${unit(a.poolId, a.commission)} commission, ${unit(a.poolId, a.toStakers)} to its stakers`;
    case "RewardClaimed":
      return `${who(a.staker)} claimed ${unit(a.poolId, a.amount)} of rewards in ${pool(a.poolId)}`;
    case "CommissionClaimed":
      return `${who(a.operator)} claimed ${token(a.token, a.amount)} of commission`;
    case "CreditWithdrawn":
      return `${who(a.account)} withdrew ${token(a.token, a.amount)} of refunds`;
    default:
      return `${e.contract}.${e.name}`;
  }
}

async function main(): Promise<void> {
  let chain: Chain;
  try {
    chain = new Chain(await loadWorld());
    await chain.check();
    await chain.detectReputation();
  } catch (e) {
    $("status").textContent = "not connected";
    banner(e instanceof SetupError || e instanceof NodeError ? e.message : `cannot start: ${String(e)}`);
    return;
  }
  const { world } = chain.loaded;
  const picker = $<HTMLSelectElement>("account");
  const signers = world.actors.filter((a) => a.role !== "sink");
  picker.innerHTML =
    signers.map((a) => `<option value="${esc(a.name)}">${esc(a.name)} (${a.role})</option>`).join("") +
    (window.ethereum ? `<option value="">injected wallet</option>` : "");
  const selected = (): Actor | null => world.actors.find((a) => a.name === picker.value) ?? null;
  $("status").textContent = `chain ${world.chainId} at ${world.rpcUrl}`;

  let snapshot: Snapshot | null = null;
  let lastBlock = BigInt(world.deployedAtBlock);
  let refreshing = false;
  const timeline = $("timeline");
  const refresh = async () => {
    if (refreshing) return;
    refreshing = true;
    try {
      const block = await chain.check();
      snapshot = await readSnapshot(chain, selected());
      $("pools").innerHTML = renderPools(snapshot);
      $("avs").innerHTML = renderAvs(snapshot);
      $("operators").innerHTML = renderOperators(snapshot);
      $("stakers").innerHTML = renderStakers(snapshot, world);
      $("me").innerHTML = renderMe(snapshot, selected(), act);
      $("market").innerHTML = renderMarket(snapshot.market, snapshot.time, market.busy());
      market.update(snapshot.market);
      $("clock").textContent = `block ${snapshot.block}, ${new Date(snapshot.time * 1000).toISOString().slice(0, 16).replace("T", " ")} UTC`;
      for (const e of await chain.events(lastBlock + 1n, block)) {
        const li = document.createElement("li");
        li.textContent = `[${e.block}] ${describe(e, chain, snapshot.market)}`;
        li.dataset.testid = `event-${e.name}`;
        if (e.name === "OperatorSlashed") li.className = "slash";
        if (e.name === "CascadeGuardTripped") li.className = "guard";
        timeline.prepend(li);
      }
      lastBlock = block;
      if (!$("banner").dataset.sticky) banner(null);
    } catch (e) {
      $("status").textContent = "node lost";
      banner(e instanceof NodeError ? e.message : `reading the chain failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      refreshing = false;
    }
  };
  const act = actionsPanel(chain, $("actions"), $("tx"), selected, refresh);
  const market = marketPanel(chain, $("market-forms"), $("market"), $("market-tx"), selected, refresh);
  picker.onchange = refresh;
  // The cascade: the demo scenario's slash steps, each sent by its AVS's module; "Next step" sends one, "Run the
  // cascade" the rest.
  const runAll = $<HTMLButtonElement>("run-cascade");
  const next = $<HTMLButtonElement>("cascade-next");
  const list = $("cascade-steps");
  const slashes = world.cascade.flatMap((s) => (s.kind === "slash" ? [s] : []));
  list.innerHTML = slashes.map((s) => `<li>${esc(s.note)}</li>`).join("");
  let done = 0;
  const step = async (): Promise<boolean> => {
    const s = slashes[done];
    const li = list.children[done] as HTMLElement;
    li.className = "active";
    $("cascade-status").textContent = `step ${done + 1} of ${slashes.length}: ${s.note}`;
    const ok = await act.slashAs(s.avs, s.pool, BigInt(s.fractionWad));
    li.className = ok ? "done" : "";
    if (!ok) {
      $("cascade-status").textContent = `step ${done + 1} reverted: see the message under "Act"`;
      return false;
    }
    done += 1;
    $("cascade-status").textContent =
      done === slashes.length ? `done: ${slashes.length} slashes` : `${done} of ${slashes.length} steps done`;
    return true;
  };
  const guarded = async (all: boolean) => {
    runAll.disabled = next.disabled = true;
    while (done < slashes.length && (await step()) && all);
    runAll.disabled = next.disabled = done === slashes.length;
  };
  runAll.onclick = () => guarded(true);
  next.onclick = () => guarded(false);
  runAll.disabled = next.disabled = slashes.length === 0;
  await refresh();
  setInterval(refresh, 1000);
}

window.addEventListener("unhandledrejection", (e) => {
  banner(`unexpected: ${e.reason instanceof Error ? e.reason.message : String(e.reason)}`);
  e.preventDefault();
});

void main();

export { Reverted };

// The demo dApp: reads the anvil deployment directly through viem, shows pools, AVSs, operators, stakers and a live
// timeline, and acts as the demo world's accounts (burner keys) or an injected wallet.
import { Chain, NodeError, Reverted, type Decoded } from "./chain";
import { amount, duration, percent, ratio, withUnit } from "./format";
import { actionsPanel, type Act } from "./actions";
import { readSnapshot, type Snapshot } from "./state";
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

function renderAvs(s: Snapshot): string {
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
      <td>${esc(a.avs.sinkName)}<br>${holds.join("<br>") || '<span class="dim">0</span>'}</td></tr>`;
  });
  return `<table><tr><th>AVS</th><th>module</th><th>veto window</th><th>backing (slashable now)</th><th>sink holds</th></tr>
    ${rows.join("")}</table>`;
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
  return `<table><tr><th>operator</th><th>pool</th><th>AVS</th><th>mode</th><th>allocated</th><th>pending</th></tr>
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
function describe(e: Decoded, chain: Chain): string {
  const { world } = chain.loaded;
  const pool = (id: unknown) => world.pools.find((p) => BigInt(p.id) === id)?.name ?? `#${String(id)}`;
  const avs = (id: unknown) => world.avs.find((a) => BigInt(a.id) === BigInt(id as number))?.name ?? `AVS #${String(id)}`;
  const who = (a: unknown) =>
    world.actors.find((x) => x.address.toLowerCase() === String(a).toLowerCase())?.name ?? String(a).slice(0, 10);
  const unit = (id: unknown, raw: unknown) => {
    const p = world.pools.find((x) => BigInt(x.id) === id);
    const base = p?.tierOf ? world.pools.find((x) => x.name === p.tierOf) : p;
    const a = world.assets.find((x) => x.symbol === base?.asset);
    return a ? withUnit(raw as bigint, a.decimals, a.symbol) : String(raw);
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
    default:
      return `${e.contract}.${e.name}`;
  }
}

async function main(): Promise<void> {
  let chain: Chain;
  try {
    chain = new Chain(await loadWorld());
    await chain.check();
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
      $("clock").textContent = `block ${snapshot.block}, ${new Date(snapshot.time * 1000).toISOString().slice(0, 16).replace("T", " ")} UTC`;
      for (const e of await chain.events(lastBlock + 1n, block)) {
        const li = document.createElement("li");
        li.textContent = `[${e.block}] ${describe(e, chain)}`;
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

// What a person can do from the page: each form sends one protocol action as the selected account, and shows what
// was mined or the decoded custom error the contracts refused it with.
import { Reverted, type Chain, type Decoded } from "./chain";
import { parseAmount, parseDuration, parseFraction } from "./format";
import type { Actor } from "./world";

export interface Act {
  /** Sends a slash from the AVS's module (the cascade); true when mined. */
  slashAs(avs: string, pool: string, fractionWad: bigint): Promise<boolean>;
  /** Claims a matured withdrawal of the selected account. */
  claim(id: bigint): Promise<boolean>;
}

/** One input of a form: a select when it has options (a list, or a function read again at every refresh). */
export interface Field {
  name: string;
  label: string;
  options?: Option[] | (() => Option[]);
  placeholder?: string;
}

/** A select's choice: its text, or a value shown under a label. */
export type Option = string | { value: string; label: string };

/** A form: its id (`form-<id>`, test ids `<id>-<field>` and `<id>-submit`), title, fields and what it sends. */
export type Form = [string, string, Field[], (v: Record<string, string>) => Promise<boolean>];

function esc(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

/** Where a form reports: a status line, and `run`, which sends and reports what was mined or the decoded revert. */
export interface Runner {
  show(text: string, good: boolean): void;
  run(what: string, send: () => Promise<Decoded[]>, detail?: (events: Decoded[]) => string): Promise<boolean>;
}

export function runner(status: HTMLElement, refresh: () => Promise<void>): Runner {
  const show = (text: string, good: boolean) => {
    status.textContent = text;
    status.className = `tx ${good ? "good" : "bad"}`;
  };

  /** Runs `send`, reporting success (with `detail` of its events) or the decoded revert; input errors the same way. */
  const run = async (
    what: string,
    send: () => Promise<Decoded[]>,
    detail?: (events: Decoded[]) => string,
  ): Promise<boolean> => {
    show(`${what}: sending…`, true);
    try {
      const events = await send();
      const more = detail ? detail(events) : "";
      show(`✓ ${what}: mined (${events.map((e) => e.name).join(", ") || "no events"})${more ? `: ${more}` : ""}`, true);
      delete status.dataset.error;
      await refresh();
      return true;
    } catch (e) {
      if (e instanceof Reverted) {
        show(`✗ ${what}: ${e.call} reverted with ${e.errorName}(${e.args.map(String).join(", ")})`, false);
        status.dataset.error = e.errorName;
      } else {
        show(`✗ ${what}: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`, false);
        delete status.dataset.error;
      }
      return false;
    }
  };
  return { show, run };
}

const optionsOf = (f: Field): Option[] => (typeof f.options === "function" ? f.options() : (f.options ?? []));
const optionHtml = (o: Option) =>
  typeof o === "string" ? `<option>${esc(o)}</option>` : `<option value="${esc(o.value)}">${esc(o.label)}</option>`;

/**
 * Renders `forms` into `root` and wires their submits; a value typed wrong is reported with `show` and nothing is
 * sent. Returns `sync`, which renders again the options of the selects whose options are a function (keeping the
 * choice while it is still offered).
 */
export function renderForms(root: HTMLElement, forms: Form[], show: Runner["show"]): () => void {
  root.innerHTML = forms
    .map(
      ([id, title, fields]) =>
        `<form data-testid="form-${id}" id="form-${id}"><h3>${esc(title)}</h3>${fields
          .map((f) =>
            f.options
              ? `<label>${esc(f.label)}</label><select name="${f.name}" data-testid="${id}-${f.name}">${optionsOf(f)
                  .map(optionHtml)
                  .join("")}</select>`
              : `<label>${esc(f.label)}</label><input name="${f.name}" data-testid="${id}-${f.name}" placeholder="${esc(f.placeholder ?? "")}">`,
          )
          .join("")}<button data-testid="${id}-submit">${esc(id)}</button></form>`,
    )
    .join("");
  for (const [id, , fields, submit] of forms) {
    const form = root.querySelector<HTMLFormElement>(`#form-${id}`)!;
    form.onsubmit = async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const values: Record<string, string> = {};
      for (const f of fields) values[f.name] = String(data.get(f.name) ?? "");
      const button = form.querySelector("button")!;
      button.disabled = true;
      try {
        await submit(values);
      } catch (e) {
        // A value typed wrong: nothing was sent.
        show(`✗ ${id}: ${e instanceof Error ? e.message : String(e)}`, false);
      } finally {
        button.disabled = false;
      }
    };
  }
  const rendered = new Map<HTMLSelectElement, string>();
  return () => {
    for (const [id, , fields] of forms) {
      for (const f of fields) {
        if (typeof f.options !== "function") continue;
        const select = root.querySelector<HTMLSelectElement>(`select[data-testid="${id}-${f.name}"]`)!;
        const html = optionsOf(f).map(optionHtml).join("");
        if (rendered.get(select) === html) continue;
        const keep = select.value;
        select.innerHTML = html;
        if ([...select.options].some((o) => o.value === keep)) select.value = keep;
        rendered.set(select, html);
      }
    }
  };
}

export function actionsPanel(
  chain: Chain,
  root: HTMLElement,
  status: HTMLElement,
  selected: () => Actor | null,
  refresh: () => Promise<void>,
): Act {
  const { world } = chain.loaded;
  const pools = world.pools.map((p) => p.name);
  const tokenPools = world.pools.filter((p) => !p.tierOf).map((p) => p.name);
  const avsNames = world.avs.map((a) => a.name);
  const pool = (name: string) => world.pools.find((p) => p.name === name)!;
  const avs = (name: string) => world.avs.find((a) => a.name === name)!;
  const unitOf = (name: string) => {
    const p = pool(name);
    const base = p.tierOf ? pool(p.tierOf) : p;
    return world.assets.find((a) => a.symbol === base.asset)!;
  };
  const actor = (name: string) => world.actors.find((a) => a.name === name)!;

  const { show, run } = runner(status, refresh);

  const forms: Form[] = [
    [
      "deposit",
      "Deposit (mints the demo token first)",
      [
        { name: "pool", label: "pool", options: tokenPools },
        { name: "amount", label: "amount", placeholder: "10" },
      ],
      async (v) => {
        const me = selected();
        const token = unitOf(v.pool);
        const value = parseAmount(v.amount, token.decimals, token.symbol);
        const operator = actor(pool(v.pool).operator).address;
        return run(`deposit ${v.amount} ${token.symbol} into ${v.pool}`, async () => {
          const owner = await chain.address(me);
          await chain.send(me, "MockERC20", token.address, "mint", [owner, value]);
          await chain.send(me, "MockERC20", token.address, "approve", [chain.vault, value]);
          return chain.send(me, "StakeVault", chain.vault, "deposit", [operator, token.address, value]);
        });
      },
    ],
    [
      "queue",
      "Queue a withdrawal (shares enter escrow)",
      [
        { name: "pool", label: "pool", options: pools },
        { name: "shares", label: "shares", placeholder: "5" },
      ],
      async (v) => {
        const token = unitOf(v.pool);
        const shares = parseAmount(v.shares, token.decimals, `${v.pool} shares`);
        return run(`queue ${v.shares} shares of ${v.pool}`, () =>
          chain.send(selected(), "StakeVault", chain.vault, "queueWithdrawal", [BigInt(pool(v.pool).id), shares]),
        );
      },
    ],
    [
      "allocate",
      "Allocate (as the pool's operator)",
      [
        { name: "pool", label: "pool", options: pools },
        { name: "avs", label: "AVS", options: avsNames },
        { name: "mode", label: "mode", options: ["shared", "isolated"] },
        { name: "fraction", label: "fraction", placeholder: "10%" },
      ],
      async (v) => {
        const fraction = parseFraction(v.fraction);
        const mode = v.mode === "isolated" ? 1 : 2;
        return run(`allocate ${v.fraction} of ${v.pool} to ${v.avs}`, () =>
          chain.send(selected(), "AllocationManager", chain.manager, "allocate", [
            BigInt(pool(v.pool).id),
            avs(v.avs).id,
            mode,
            fraction,
          ]),
        );
      },
    ],
    [
      "slash",
      "Slash (instant; sent by the selected account: only the AVS's module may)",
      [
        { name: "avs", label: "AVS", options: avsNames },
        { name: "pool", label: "pool", options: pools },
        { name: "fraction", label: "fraction", placeholder: "10%" },
      ],
      async (v) =>
        run(`slash ${v.fraction} of ${v.avs}'s backing in ${v.pool}`, () =>
          chain.send(selected(), "AllocationManager", chain.manager, "slash", [
            avs(v.avs).id,
            BigInt(pool(v.pool).id),
            parseFraction(v.fraction),
          ]),
        ),
    ],
    [
      "request",
      "Request a slash (veto flow)",
      [
        { name: "avs", label: "AVS", options: avsNames },
        { name: "pool", label: "pool", options: pools },
        { name: "fraction", label: "fraction", placeholder: "10%" },
      ],
      async (v) =>
        run(`request ${v.fraction} of ${v.avs}'s backing in ${v.pool}`, () =>
          chain.send(selected(), "AllocationManager", chain.manager, "requestSlash", [
            avs(v.avs).id,
            BigInt(pool(v.pool).id),
            parseFraction(v.fraction),
          ]),
        ),
    ],
    [
      "veto",
      "Veto or execute a request",
      [
        { name: "request", label: "request #", placeholder: "1" },
        { name: "how", label: "", options: ["veto", "execute"] },
      ],
      async (v) => {
        if (!/^\d+$/.test(v.request.trim())) throw new Error(`"${v.request}" is not a request number`);
        const fn = v.how === "veto" ? "vetoSlash" : "executeSlash";
        return run(`${v.how} request #${v.request}`, () =>
          chain.send(selected(), "AllocationManager", chain.manager, fn, [BigInt(v.request.trim())]),
        );
      },
    ],
    [
      "time",
      "Advance time (anvil's evm_increaseTime, then a block)",
      [{ name: "duration", label: "by", placeholder: "1d" }],
      async (v) => {
        const seconds = parseDuration(v.duration);
        return run(`advance ${v.duration}`, async () => {
          await chain.advance(seconds);
          return [];
        });
      },
    ],
  ];

  renderForms(root, forms, show);

  return {
    slashAs: (avsName, poolName, fractionWad) => {
      const a = avs(avsName);
      const module = world.actors.find((x) => x.role === "module" && x.address.toLowerCase() === a.module.toLowerCase());
      if (!module) {
        show(`✗ the world has no key for ${avsName}'s module`, false);
        return Promise.resolve(false);
      }
      return run(`${avsName} slashes ${poolName}`, () =>
        chain.send(module, "AllocationManager", chain.manager, "slash", [a.id, BigInt(pool(poolName).id), fractionWad]),
      );
    },
    claim: (id) =>
      run(`claim withdrawal #${id & 0xffffffffffffffffn}`, () => {
        const me = selected();
        return chain.address(me).then((to) => chain.send(me, "StakeVault", chain.vault, "completeWithdrawal", [id, to]));
      }),
  };
}

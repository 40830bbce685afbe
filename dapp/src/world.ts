// What the page knows before it reads the chain: `world.json`, written by `bulkhead dapp` next to the page, and the
// deployment file and ABIs it points to (written by `bulkhead deploy`). Nothing here is pasted by hand.
import type { Abi, Address, Hex } from "viem";

/** A named account of the demo world, with its dev key (a local anvil chain only). */
export interface Actor {
  name: string;
  /** `admin`: the demo AVSs' admin (posts their bids on the security market). */
  role: "owner" | "operator" | "staker" | "module" | "resolver" | "sink" | "admin";
  address: Address;
  privateKey: Hex;
}

export interface WorldAsset {
  symbol: string;
  address: Address;
  decimals: number;
}

export interface WorldPool {
  name: string;
  id: string;
  asset: string;
  operator: string;
  tierOf: string | null;
}

export interface WorldAvs {
  name: string;
  id: number;
  kind: string;
  module: Address;
  sink: Address;
  sinkName: string;
}

/** One expectation of the demo scenario: its key path in the file (`pool_value.P`) and the expected value. */
export interface Check {
  path: string;
  expected: string;
}

/** A step of the demo's cascade: a slash sent by the AVS's module, or the scenario's checks after it. */
export type CascadeStep =
  | { kind: "slash"; note: string; avs: string; pool: string; fractionWad: string }
  | { kind: "expect"; checks: Check[] };

export interface World {
  chainId: number;
  rpcUrl: string;
  deployment: string;
  scenario: string;
  deployedAtBlock: number;
  actors: Actor[];
  assets: WorldAsset[];
  pools: WorldPool[];
  avs: WorldAvs[];
  /** The reputation contract when the demo turned the layer on (ratings, risk weights, bonds); absent or null: off. */
  reputation?: Address | null;
  cascade: CascadeStep[];
}

export interface Deployment {
  chainId: number;
  block: number;
  escrowDelay: number;
  allocationDelay: number;
  deallocationDelay: number;
  executionWindow: number;
  owner: Address;
  /**
   * `Reputation` is absent from deployments made before issue 16, `RewardRail` and `SecurityMarket` from those before
   * issue 17.
   */
  contracts: {
    OperatorRegistry: Address;
    StakeVault: Address;
    AllocationManager: Address;
    Reputation?: Address;
    RewardRail?: Address;
    SecurityMarket?: Address;
  };
  assets: Record<string, Address>;
  decimals?: Record<string, number>;
  abis?: Record<string, string>;
  enums?: Record<string, Record<string, number>>;
}

export interface Loaded {
  world: World;
  deployment: Deployment;
  abis: Record<string, Abi>;
}

/** A setup problem the page shows instead of a blank screen. */
export class SetupError extends Error {}

async function json<T>(url: string, what: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, { cache: "no-store" });
  } catch (e) {
    throw new SetupError(`${what}: the page server at ${location.origin} does not answer (${String(e)})`);
  }
  if (!response.ok) {
    throw new SetupError(`${what}: ${url} answered ${response.status}; run \`make dapp\` (it writes it)`);
  }
  try {
    return (await response.json()) as T;
  } catch (e) {
    throw new SetupError(`${what}: ${url} is not valid JSON (${String(e)})`);
  }
}

/** Loads the world, the deployment file it names and every ABI the deployment lists. */
export async function loadWorld(): Promise<Loaded> {
  const world = await json<World>("world.json", "the demo world");
  const deployment = await json<Deployment>(world.deployment, "the deployment file");
  if (deployment.chainId !== world.chainId) {
    throw new SetupError(
      `the deployment file ${world.deployment} is for chain ${deployment.chainId}, the world for chain ${world.chainId}`,
    );
  }
  if (!deployment.abis || Object.keys(deployment.abis).length === 0) {
    throw new SetupError(
      `the deployment file ${world.deployment} lists no ABIs (written by an older bulkhead): redeploy with \`make dapp\``,
    );
  }
  const abis: Record<string, Abi> = {};
  for (const [name, path] of Object.entries(deployment.abis)) {
    const dir = world.deployment.slice(0, world.deployment.lastIndexOf("/") + 1);
    abis[name] = await json<Abi>(dir + path, `the ABI of ${name}`);
  }
  for (const needed of ["StakeVault", "AllocationManager", "MockERC20"]) {
    if (!abis[needed]) throw new SetupError(`the deployment file lists no ABI for ${needed}`);
  }
  return { world, deployment, abis };
}

// The page's connection to the node: reads through a public client, writes signed by a burner account (the demo
// world's dev keys) or an injected wallet, reverts decoded against every Bulkhead ABI.
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  custom,
  decodeErrorResult,
  decodeEventLog,
  defineChain,
  http,
  type Abi,
  type Address,
  type Chain as ViemChain,
  type EIP1193Provider,
  type Hex,
  type Log,
  type PublicClient,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";

import type { Actor, Loaded } from "./world";

/** A transaction the contracts refused, with its custom error decoded. */
export class Reverted extends Error {
  constructor(
    readonly errorName: string,
    readonly args: readonly unknown[],
    readonly call: string,
  ) {
    super(`${call} reverted: ${errorName}(${args.map(String).join(", ")})`);
  }
}

/** The node is not there, or is the wrong chain. */
export class NodeError extends Error {}

/** A decoded event with where it came from. */
export interface Decoded {
  block: bigint;
  contract: string;
  name: string;
  args: Record<string, unknown>;
}

declare global {
  interface Window {
    ethereum?: EIP1193Provider;
  }
}

export class Chain {
  readonly client: PublicClient;
  /** The reputation contract the manager is attached to, once [`detectReputation`] found it; null: none. */
  reputation: Address | null = null;
  readonly viemChain: ViemChain;
  /** Every ABI's errors and events, to decode whatever a call or a log carries. */
  readonly everything: Abi;

  constructor(readonly loaded: Loaded) {
    const { world } = loaded;
    this.viemChain = defineChain({
      id: world.chainId,
      name: `anvil ${world.chainId}`,
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [world.rpcUrl] } },
    });
    this.client = createPublicClient({ chain: this.viemChain, transport: http(world.rpcUrl, { retryCount: 0 }) });
    const seen = new Set<string>();
    const items: Abi[number][] = [];
    for (const abi of Object.values(loaded.abis)) {
      for (const item of abi) {
        if (item.type !== "error" && item.type !== "event") continue;
        const key = `${item.type}:${item.name}:${JSON.stringify(item.inputs)}`;
        if (!seen.has(key)) {
          seen.add(key);
          items.push(item);
        }
      }
    }
    this.everything = items as Abi;
  }

  get vault(): Address {
    return this.loaded.deployment.contracts.StakeVault;
  }

  get manager(): Address {
    return this.loaded.deployment.contracts.AllocationManager;
  }

  /**
   * The security market and its reward rail, with the ABIs the page needs for them (`SecurityMarket`,
   * `RewardRail`, `OperatorDesk`); null for a deployment made before issue 17.
   */
  get market(): { market: Address; rail: Address } | null {
    const { contracts } = this.loaded.deployment;
    const abis = this.loaded.abis;
    if (!contracts.SecurityMarket || !contracts.RewardRail) return null;
    if (!abis.SecurityMarket || !abis.RewardRail || !abis.OperatorDesk) return null;
    return { market: contracts.SecurityMarket, rail: contracts.RewardRail };
  }

  abi(name: string): Abi {
    const abi = this.loaded.abis[name];
    if (!abi) throw new Error(`no ABI for ${name}`);
    return abi;
  }

  /** Checks the node answers and is the deployment's chain; the latest block. */
  async check(): Promise<bigint> {
    let chainId: number;
    try {
      chainId = await this.client.getChainId();
    } catch {
      throw new NodeError(`the node at ${this.loaded.world.rpcUrl} does not answer: is \`make dapp\` still running?`);
    }
    if (chainId !== this.loaded.world.chainId) {
      throw new NodeError(
        `the node at ${this.loaded.world.rpcUrl} is chain ${chainId}, the deployment is for chain ${this.loaded.world.chainId}`,
      );
    }
    const code = await this.client.getCode({ address: this.manager });
    if (!code || code === "0x") {
      throw new NodeError(
        `no AllocationManager at ${this.manager} on this node: the deployment file is stale (the node was restarted); run \`make dapp\` again`,
      );
    }
    return this.client.getBlockNumber();
  }

  /**
   * Finds the reputation contract: the world's (or, from an older world file, the deployment's) when the manager is
   * attached to it. Without one (a deployment before issue 16, a world without reputation, the manager detached) the
   * page shows no ratings, risk weights or bonds.
   */
  async detectReputation(): Promise<Address | null> {
    const { world, deployment, abis } = this.loaded;
    const candidate = world.reputation === undefined ? deployment.contracts.Reputation : world.reputation;
    this.reputation = null;
    if (!candidate || !abis.Reputation) return null;
    const attached = await this.read<Address>("AllocationManager", this.manager, "reputation");
    if (attached.toLowerCase() === candidate.toLowerCase()) this.reputation = candidate;
    return this.reputation;
  }

  read<T>(contract: string, address: Address, functionName: string, args: readonly unknown[] = []): Promise<T> {
    return this.client.readContract({ address, abi: this.abi(contract), functionName, args }) as Promise<T>;
  }

  /** The wallet that signs as `actor`: its dev key, or the injected wallet when `actor` is absent. */
  private async wallet(actor: Actor | null): Promise<WalletClient> {
    if (actor) {
      return createWalletClient({
        account: privateKeyToAccount(actor.privateKey),
        chain: this.viemChain,
        transport: http(this.loaded.world.rpcUrl, { retryCount: 0 }),
      });
    }
    if (!window.ethereum) throw new Error("no injected wallet in this browser: pick a burner account");
    const [account] = await window.ethereum.request({ method: "eth_requestAccounts" });
    return createWalletClient({ account, chain: this.viemChain, transport: custom(window.ethereum) });
  }

  /** The address that signs as `actor` (the injected wallet's first account when `actor` is absent). */
  async address(actor: Actor | null): Promise<Address> {
    if (actor) return actor.address;
    const wallet = await this.wallet(null);
    return wallet.account!.address;
  }

  /**
   * Sends `functionName(args)` to `address` as `actor`: simulated first, so a revert is decoded (name and arguments)
   * before anything is signed; then mined. The receipt's events, decoded.
   */
  async send(
    actor: Actor | null,
    contract: string,
    address: Address,
    functionName: string,
    args: readonly unknown[],
  ): Promise<Decoded[]> {
    const wallet = await this.wallet(actor);
    const account = wallet.account!;
    const call = `${contract}.${functionName}`;
    try {
      const { request } = await this.client.simulateContract({
        account,
        address,
        abi: this.abi(contract),
        functionName,
        args,
      });
      const hash = await wallet.writeContract(request);
      const receipt = await this.client.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") throw new Reverted("Reverted", [], call);
      return receipt.logs.map((log) => this.decode(log)).filter((d): d is Decoded => d !== null);
    } catch (e) {
      throw this.reverted(e, call);
    }
  }

  /** A viem error as a [`Reverted`] with the custom error's name, when the contracts refused. */
  reverted(e: unknown, call: string): unknown {
    if (e instanceof BaseError) {
      const revert = e.walk((err) => err instanceof ContractFunctionRevertedError);
      if (revert instanceof ContractFunctionRevertedError) {
        if (revert.data?.errorName) return new Reverted(revert.data.errorName, revert.data.args ?? [], call);
        if (revert.raw) {
          // An error the called contract's ABI does not declare: one raised further down (an operator desk forwards
          // to the manager, the market calls the rail), decoded against every ABI of the deployment.
          try {
            const inner = decodeErrorResult({ abi: this.everything, data: revert.raw });
            return new Reverted(inner.errorName, inner.args ?? [], call);
          } catch {
            return new Reverted(`unknown error ${revert.raw.slice(0, 10)}`, [], call);
          }
        }
        return new Reverted(revert.reason ?? "EmptyRevert", [], call);
      }
    }
    return e;
  }

  /** Moves the node's clock forward by `seconds` and mines a block (anvil's `evm_increaseTime`). */
  async advance(seconds: number): Promise<void> {
    await this.client.request({ method: "evm_increaseTime" as never, params: [seconds] as never });
    await this.client.request({ method: "evm_mine" as never, params: [] as never });
  }

  /** Decodes a log against every Bulkhead event; `null` for logs of other contracts. */
  decode(log: Log): Decoded | null {
    try {
      const event = decodeEventLog({ abi: this.everything, data: log.data, topics: log.topics as [Hex, ...Hex[]] });
      return {
        block: log.blockNumber ?? 0n,
        contract: this.contractName(log.address),
        name: event.eventName ?? "?",
        args: (event.args ?? {}) as Record<string, unknown>,
      };
    } catch {
      return null;
    }
  }

  contractName(address: Address): string {
    const lower = address.toLowerCase();
    for (const [name, a] of Object.entries(this.loaded.deployment.contracts)) {
      if (a?.toLowerCase() === lower) return name;
    }
    for (const asset of this.loaded.world.assets) {
      if (asset.address.toLowerCase() === lower) return asset.symbol;
    }
    const avs = this.loaded.world.avs.find((a) => a.module.toLowerCase() === lower);
    return avs ? `${avs.name} module` : address;
  }

  /**
   * Logs of the vault, the manager, the reputation contract (when attached), the market and the rail (when
   * deployed) in `[from, to]`, decoded.
   */
  async events(from: bigint, to: bigint): Promise<Decoded[]> {
    if (to < from) return [];
    const address = [this.vault, this.manager];
    if (this.reputation) address.push(this.reputation);
    if (this.market) address.push(this.market.market, this.market.rail);
    const logs = await this.client.getLogs({ address, fromBlock: from, toBlock: to });
    return logs.map((log) => this.decode(log)).filter((d): d is Decoded => d !== null);
  }
}

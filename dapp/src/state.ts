// One read of everything the panels show, taken at one block.
import type { Address } from "viem";

import type { Chain } from "./chain";
import { readMarket, type MarketState } from "./market";
import type { Actor, WorldAvs, WorldPool } from "./world";

export interface PoolState {
  pool: WorldPool;
  symbol: string;
  decimals: number;
  value: bigint;
  totalShares: bigint;
  escrowedShares: bigint;
  sharePrice: bigint;
  isolated: bigint;
  sharedStake: bigint;
  totalShared: bigint;
  reuseRatio: bigint;
  reuseCap: bigint;
  guardUsed: bigint;
}

export interface AllocationState {
  avs: WorldAvs;
  pool: WorldPool;
  mode: number;
  fraction: bigint;
  pending: bigint;
  effectAt: number;
  backing: bigint;
}

export interface AvsState {
  avs: WorldAvs;
  vetoWindow: number;
  resolver: Address;
  sinkHolds: { symbol: string; decimals: number; amount: bigint }[];
  /** The standing the manager enforces (`getAVS`): the risk weight in tenths (10 = 1×) and the bond gate. */
  riskWeightTenths: number;
  bondShort: boolean;
  /** Its rating and bonds, when the manager has a reputation contract. */
  reputation: AvsReputation | null;
}

/** `Reputation.avsRecord` / `operatorRecord`: evidence (WAD units), the rating and its confidence. */
export interface RecordView {
  goodWad: bigint;
  badWad: bigint;
  ratingWad: bigint;
  meanWad: bigint;
  lowerBoundWad: bigint;
  epoch: number;
  checkpointed: boolean;
  tainted: boolean;
  seen: boolean;
}

/** An AVS's bond in one asset against what its backing in that asset requires now. */
export interface BondState {
  symbol: string;
  decimals: number;
  available: bigint;
  queued: bigint;
  maturity: number;
  /** Its backing (slashable now) in the pools of this asset, tiers in their base asset. */
  backing: bigint;
  /** `requiredBond(avs, backing)`: the bond its rating asks for that backing. */
  required: bigint;
}

export interface AvsReputation {
  record: RecordView;
  /** What its rating asks now (`riskWeightWad`); the manager counts `riskWeightTenths` until the next refresh. */
  riskWeightWad: bigint;
  bondFractionWad: bigint;
  bonds: BondState[];
}

export interface OperatorReputation {
  name: string;
  address: Address;
  record: RecordView;
}

export interface Withdrawal {
  id: bigint;
  poolId: bigint;
  shares: bigint;
  value: bigint;
  maturity: number;
  matured: boolean;
  claimed: boolean;
}

export interface Snapshot {
  block: bigint;
  time: number;
  pools: PoolState[];
  allocations: AllocationState[];
  avs: AvsState[];
  /** staker name → pool name → value of the position, in the pool's unit. */
  positions: Map<string, Map<string, bigint>>;
  vault: { symbol: string; decimals: number; amount: bigint }[];
  withdrawals: Withdrawal[];
  /** The reputation layer: the current epoch and every operator's rating; null when the manager has none. */
  reputation: { epoch: number; operators: OperatorReputation[] } | null;
  /** The security market: book, leases, desks, what the selected account is owed; null when not deployed. */
  market: MarketState | null;
}

interface PoolView {
  slashableAssets: bigint;
  totalShares: bigint;
  escrowedShares: bigint;
  sharePrice: bigint;
}
interface PoolRisk {
  value: bigint;
  totalIsolated: bigint;
  sharedStake: bigint;
  totalShared: bigint;
  reuseRatioWad: bigint;
  reuseCapWad: bigint;
  guardUsedWad: bigint;
}
interface AllocationView {
  mode: number;
  fractionWad: bigint;
  pendingFractionWad: bigint;
  effectAt: number;
  backing: bigint;
}
interface PositionView {
  poolId: bigint;
  shares: bigint;
  value: bigint;
}

/** Reads pools, allocations, AVSs, every staker's positions and `selected`'s withdrawals. */
export async function readSnapshot(chain: Chain, selected: Actor | null): Promise<Snapshot> {
  const { world } = chain.loaded;
  const block = await chain.client.getBlock();
  const asset = (pool: WorldPool) => {
    const base = pool.tierOf ? world.pools.find((p) => p.name === pool.tierOf)! : pool;
    return world.assets.find((a) => a.symbol === base.asset)!;
  };
  const pools = await Promise.all(
    world.pools.map(async (pool): Promise<PoolState> => {
      const [view, risk] = await Promise.all([
        chain.read<PoolView>("StakeVault", chain.vault, "getPool", [BigInt(pool.id)]),
        chain.read<PoolRisk>("AllocationManager", chain.manager, "poolRisk", [BigInt(pool.id)]),
      ]);
      const a = asset(pool);
      return {
        pool,
        symbol: a.symbol,
        decimals: a.decimals,
        value: risk.value,
        totalShares: view.totalShares,
        escrowedShares: view.escrowedShares,
        sharePrice: view.sharePrice,
        isolated: risk.totalIsolated,
        sharedStake: risk.sharedStake,
        totalShared: risk.totalShared,
        reuseRatio: risk.reuseRatioWad,
        reuseCap: risk.reuseCapWad,
        guardUsed: risk.guardUsedWad,
      };
    }),
  );
  const pairs = world.avs.flatMap((avs) => world.pools.map((pool) => ({ avs, pool })));
  // The manager's lens (it creates one) answers the views kept out of its bytecode.
  const lens = await chain.read<Address>("AllocationManager", chain.manager, "lens");
  const allocations = (
    await Promise.all(
      pairs.map(async ({ avs, pool }): Promise<AllocationState> => {
        const v = await chain.read<AllocationView>("AllocationLens", lens, "allocationOf", [
          BigInt(pool.id),
          avs.id,
        ]);
        return {
          avs,
          pool,
          mode: Number(v.mode),
          fraction: v.fractionWad,
          pending: v.pendingFractionWad,
          effectAt: Number(v.effectAt),
          backing: v.backing,
        };
      }),
    )
  ).filter((a) => a.mode !== 0 || a.backing > 0n);
  const rep = chain.reputation;
  const avs = await Promise.all(
    world.avs.map(async (a): Promise<AvsState> => {
      const info = await chain.read<{
        vetoWindow: number;
        resolver: Address;
        riskWeightTenths: number;
        bondShort: boolean;
      }>("AllocationManager", chain.manager, "getAVS", [a.id]);
      const sinkHolds = await Promise.all(
        world.assets.map(async (t) => ({
          symbol: t.symbol,
          decimals: t.decimals,
          amount: await chain.read<bigint>("MockERC20", t.address, "balanceOf", [a.sink]),
        })),
      );
      return {
        avs: a,
        vetoWindow: Number(info.vetoWindow),
        resolver: info.resolver,
        sinkHolds,
        riskWeightTenths: Number(info.riskWeightTenths),
        bondShort: info.bondShort,
        reputation: rep ? await avsReputation(chain, rep, a, allocations) : null,
      };
    }),
  );
  const stakers = world.actors.filter((a) => a.role === "staker");
  const positions = new Map<string, Map<string, bigint>>();
  await Promise.all(
    stakers.map(async (s) => {
      const list = await chain.read<PositionView[]>("StakeVault", chain.vault, "positionsOf", [s.address]);
      const byPool = new Map<string, bigint>();
      for (const p of list) {
        const pool = world.pools.find((x) => BigInt(x.id) === p.poolId);
        if (pool) byPool.set(pool.name, p.value);
      }
      positions.set(s.name, byPool);
    }),
  );
  // A tier's positions are worth base shares: their value in the base asset.
  for (const pool of world.pools.filter((p) => p.tierOf)) {
    const base = world.pools.find((p) => p.name === pool.tierOf)!;
    for (const byPool of positions.values()) {
      const shares = byPool.get(pool.name);
      if (shares !== undefined) {
        byPool.set(
          pool.name,
          await chain.read<bigint>("StakeVault", chain.vault, "convertToAssets", [BigInt(base.id), shares]),
        );
      }
    }
  }
  const vault = await Promise.all(
    world.assets.map(async (t) => ({
      symbol: t.symbol,
      decimals: t.decimals,
      amount: await chain.read<bigint>("MockERC20", t.address, "balanceOf", [chain.vault]),
    })),
  );
  let withdrawals: Withdrawal[] = [];
  if (selected) {
    const [views] = await chain.read<[Withdrawal[], bigint]>("StakeVault", chain.vault, "withdrawalsOf", [
      selected.address,
      0n,
      50n,
    ]);
    withdrawals = views.map((w) => ({ ...w, maturity: Number(w.maturity) }));
  }
  let reputation: Snapshot["reputation"] = null;
  if (rep) {
    const operators = world.actors.filter((a) => a.role === "operator");
    const [epoch, records] = await Promise.all([
      chain.read<number>("Reputation", rep, "epoch"),
      Promise.all(operators.map((o) => chain.read<RecordView>("Reputation", rep, "operatorRecord", [o.address]))),
    ]);
    reputation = {
      epoch: Number(epoch),
      operators: operators.map((o, i) => ({ name: o.name, address: o.address, record: records[i] })),
    };
  }
  const market = await readMarket(chain, selected, block.number);
  return {
    block: block.number,
    time: Number(block.timestamp),
    pools,
    allocations,
    avs,
    positions,
    vault,
    withdrawals,
    reputation,
    market,
  };
}

/**
 * An AVS's record, the risk weight and bond fraction its rating asks, and per asset its bond against what its
 * backing there (summed from `allocations`, a tier's in its base asset) requires now.
 */
async function avsReputation(
  chain: Chain,
  rep: Address,
  avs: WorldAvs,
  allocations: AllocationState[],
): Promise<AvsReputation> {
  const { world } = chain.loaded;
  const assetOf = (pool: WorldPool) => (pool.tierOf ? world.pools.find((p) => p.name === pool.tierOf)!.asset : pool.asset);
  const [record, riskWeightWad, bondFractionWad] = await Promise.all([
    chain.read<RecordView>("Reputation", rep, "avsRecord", [avs.id]),
    chain.read<bigint>("Reputation", rep, "riskWeightWad", [avs.id]),
    chain.read<bigint>("Reputation", rep, "requiredBondFractionWad", [avs.id]),
  ]);
  const bonds = await Promise.all(
    world.assets.map(async (t): Promise<BondState> => {
      const backing = allocations
        .filter((x) => x.avs.name === avs.name && assetOf(x.pool) === t.symbol)
        .reduce((sum, x) => sum + x.backing, 0n);
      const [bond, required] = await Promise.all([
        chain.read<{ available: bigint; queued: bigint; maturity: number }>("Reputation", rep, "bondOf", [
          avs.id,
          t.address,
        ]),
        backing > 0n ? chain.read<bigint>("Reputation", rep, "requiredBond", [avs.id, backing]) : Promise.resolve(0n),
      ]);
      return {
        symbol: t.symbol,
        decimals: t.decimals,
        available: bond.available,
        queued: bond.queued,
        maturity: Number(bond.maturity),
        backing,
        required,
      };
    }),
  );
  return {
    record: { ...record, epoch: Number(record.epoch) },
    riskWeightWad,
    bondFractionWad,
    bonds: bonds.filter((b) => b.available > 0n || b.queued > 0n || b.required > 0n),
  };
}

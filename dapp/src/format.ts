// Numbers as people read them: units, thousands separators, percentages, durations.
import { formatUnits, parseUnits } from "viem";

const WAD = 10n ** 18n;

/** `1234.5` → `1,234.5`, at most `digits` decimals (cut, not rounded), trailing zeros dropped. */
export function amount(raw: bigint, decimals: number, digits = 6): string {
  const text = formatUnits(raw, decimals);
  const [int, frac = ""] = text.split(".");
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const cut = frac.slice(0, digits).replace(/0+$/, "");
  return cut ? `${grouped}.${cut}` : grouped;
}

/** As [`amount`], except that an amount above zero never reads as 0: below 10⁻⁶ every decimal is shown. */
export function visible(raw: bigint, decimals: number): string {
  const text = amount(raw, decimals);
  return raw > 0n && text === "0" ? amount(raw, decimals, decimals) : text;
}

export function withUnit(raw: bigint, decimals: number, symbol: string): string {
  return `${amount(raw, decimals)} ${symbol}`;
}

/** A WAD fraction as a percentage, at most 4 decimals (cut): `0.44e18` → `44%`, `0.409375e18` → `40.9375%`. */
export function percent(wad: bigint): string {
  return `${amount(wad * 100n, 18, 4)}%`;
}

/** A WAD ratio: `1.875e18` → `1.875x`. */
export function ratio(wad: bigint): string {
  return `${amount(wad, 18, 3)}x`;
}

export function duration(seconds: number): string {
  if (seconds <= 0) return "now";
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const parts = [d ? `${d}d` : "", h ? `${h}h` : "", m && !d ? `${m}m` : ""].filter(Boolean);
  return parts.length ? parts.join(" ") : `${seconds}s`;
}

/** A typed amount (`12.5`, `1,000`) in base units; an error that says what is wrong. */
export function parseAmount(text: string, decimals: number, symbol: string): bigint {
  const clean = text.trim().replace(/[,_\s]/g, "");
  if (!/^\d+(\.\d+)?$/.test(clean)) {
    throw new Error(`"${text}" is not an amount of ${symbol}: write a number like 12.5`);
  }
  const frac = clean.split(".")[1] ?? "";
  if (frac.length > decimals) throw new Error(`${symbol} has ${decimals} decimals: "${text}" has ${frac.length}`);
  const value = parseUnits(clean, decimals);
  if (value === 0n) throw new Error("the amount must be above zero");
  return value;
}

/** A typed fraction (`25%`, `0.25`) as WAD. */
export function parseFraction(text: string): bigint {
  const clean = text.trim();
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(clean);
  if (!m) throw new Error(`"${text}" is not a fraction: write 25% or 0.25`);
  const value = m[2] ? parseUnits(m[1], 16) : parseUnits(m[1], 18);
  if (value > WAD) throw new Error(`"${text}" is above 100%`);
  return value;
}

/** A typed duration (`1d`, `12h`, `30m`, `90s`) in seconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+)\s*([dhms]?)\s*$/.exec(text);
  if (!m) throw new Error(`"${text}" is not a duration: write 1d, 12h, 30m or 90s`);
  const unit = { d: 86400, h: 3600, m: 60, s: 1, "": 1 }[m[2] as "d" | "h" | "m" | "s" | ""];
  return Number(m[1]) * unit;
}

/** A WAD rating in [0, 1] as a number: at least 2 decimals, at most 4 (cut, not rounded): `0.7e18` → `0.70`. */
export function rating(wad: bigint): string {
  const [int, frac = ""] = amount(wad, 18, 4).split(".");
  return `${int}.${frac.padEnd(2, "0")}`;
}

/** A risk weight in the manager's tenths as a multiple: `16` → `1.6×`. */
export function weight(tenths: number): string {
  return `${Math.floor(tenths / 10)}.${tenths % 10}×`;
}

/** A WAD risk weight in the manager's tenths, rounded up as `Reputation.riskWeightTenths` rounds it. */
export function tenthsOf(wad: bigint): number {
  const tenth = WAD / 10n;
  return Number((wad + tenth - 1n) / tenth);
}

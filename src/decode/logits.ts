import { dexp, dlog } from './dexp.ts';
import { sumDexp } from './lse-kernel.ts';

/** Per-step observations of one logits row: what detbench records besides the chosen token. */
export interface RowSummary {
  /** Top candidate ids, best first (ties: lower id first). */
  ids: number[];
  logits: number[];
  /** log-softmax of each candidate, computed in float64 over the whole row. */
  logprobs: number[];
  /** Best logit minus second-best logit (Infinity for a one-token vocabulary). */
  margin: number;
  /** 64-bit hash (16 hex digits) of the row's float32 bit patterns: equal hashes mean bitwise-equal rows. */
  hash: string;
}

/**
 * Summarises a row in two passes: one for the top-k list, the hash and the maximum, one for the
 * log-sum-exp (which needs the maximum first). The definition, as `scripts/sampler_reference.py`
 * repeats it: the top `k` by value descending, ties to the lower id, NaN ranking as -Infinity;
 * m = the largest finite logit; lse = m + dlog(sum of dexp(logit - m) over the finite logits: logit i
 * to lane i mod 4 in id order, then (lane0 + lane2) + (lane1 + lane3), as dexpSum); logprob = logit - lse (NaN when no logit is finite). `k` is
 * clamped to the row length.
 */
export function summarizeRow(row: Float32Array, k: number): RowSummary {
  const n = row.length;
  const kk = Math.max(2, Math.min(k, n));
  const topIds = new Int32Array(kk);
  const topVals = new Float64Array(kk).fill(-Infinity);
  const words = new Uint32Array(row.buffer, row.byteOffset, n);
  // Even words feed one 32-bit hash lane, odd words the other: one multiply per word.
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c ^ n;
  // The first kk values enter the list whatever they are (-Infinity and NaN included)...
  const head = Math.min(kk, n);
  for (let i = 0; i < head; i++) {
    if (i & 1) h2 = Math.imul(h2 ^ words[i]!, 0x5bd1e995);
    else h1 = Math.imul(h1 ^ words[i]!, 0x01000193);
    let pos = i;
    // NaN ranks as -Infinity (so `low` below is never NaN); its logit is still reported as NaN.
    const x = row[i]!;
    const v = Number.isNaN(x) ? -Infinity : x;
    while (pos > 0 && v > topVals[pos - 1]!) {
      topVals[pos] = topVals[pos - 1]!;
      topIds[pos] = topIds[pos - 1]!;
      pos--;
    }
    topVals[pos] = v;
    topIds[pos] = i;
  }
  // ...then only a value strictly above the last one (an equal value keeps the lower id ahead).
  let low = head < kk ? -Infinity : topVals[kk - 1]!;
  let i = head;
  if (i < n && i & 1) {
    h2 = Math.imul(h2 ^ words[i]!, 0x5bd1e995);
    const v = row[i]!;
    if (v > low) low = insert(topVals, topIds, v, i);
    i++;
  }
  // Two words per turn: no parity test in the loop.
  for (; i + 1 < n; i += 2) {
    h1 = Math.imul(h1 ^ words[i]!, 0x01000193);
    h2 = Math.imul(h2 ^ words[i + 1]!, 0x5bd1e995);
    const a = row[i]!;
    if (a > low) low = insert(topVals, topIds, a, i);
    const b = row[i + 1]!;
    if (b > low) low = insert(topVals, topIds, b, i + 1);
  }
  if (i < n) {
    h1 = Math.imul(h1 ^ words[i]!, 0x01000193);
    const v = row[i]!;
    if (v > low) low = insert(topVals, topIds, v, i);
  }

  const lse = logSumExp(row, topVals[0]!);
  const take = Math.min(k, head);
  const ids: number[] = [];
  const logits: number[] = [];
  const logprobs: number[] = [];
  for (let r = 0; r < take; r++) {
    const id = topIds[r]!;
    const v = row[id]!;
    ids.push(id);
    logits.push(v);
    logprobs.push(v - lse);
  }
  const margin = head > 1 ? topVals[0]! - topVals[1]! : Infinity;
  return { ids, logits, logprobs, margin, hash: finishHash(h1, h2) };
}

/** The largest value of a row, +Infinity included, NaN left out (-Infinity for none). */
function rowTop(row: Float32Array): number {
  let top = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i]! > top) top = row[i]!;
  return top;
}

/** Puts `v` (above the list's last value) in its place; returns the new last value. */
function insert(vals: Float64Array, ids: Int32Array, v: number, id: number): number {
  let pos = vals.length - 1;
  while (pos > 0 && v > vals[pos - 1]!) {
    vals[pos] = vals[pos - 1]!;
    ids[pos] = ids[pos - 1]!;
    pos--;
  }
  vals[pos] = v;
  ids[pos] = id;
  return vals[vals.length - 1]!;
}

/**
 * The log-sum-exp the summaries use: m + dlog(sum of dexp(x - m)) over the finite values, in id
 * order, m the largest finite value (NaN when none is finite). `top` is the row's largest value
 * (+Infinity and NaN included) when the caller knows it.
 */
export function logSumExp(row: Float32Array, top: number = rowTop(row)): number {
  const n = row.length;
  let m = top;
  if (m === Infinity) {
    // Rare: +Infinity is no finite maximum; find the real one (the sum below then skips x > 0).
    m = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = row[i]!;
      if (v > m && v < Infinity) m = v;
    }
  }
  if (!(m > -Infinity)) return NaN;
  let sum: number;
  if (top === Infinity) {
    // The same four lanes as dexpSum, leaving +Infinity out.
    const lanes = new Float64Array(4);
    for (let i = 0; i < n; i++) {
      const x = row[i]! - m;
      if (x <= 0) lanes[i & 3] = lanes[i & 3]! + dexp(x);
    }
    sum = lanes[0]! + lanes[2]! + (lanes[1]! + lanes[3]!);
  } else {
    // dexp is 0 for -Infinity and NaN: they add nothing, as the definition skips them.
    sum = sumDexp(row, m);
  }
  return m + dlog(sum);
}

/**
 * A 64-bit digest of the row's bit patterns: two 32-bit multiplicative lanes (FNV-1a style over
 * the even words, murmur's constant over the odd ones), each finished with murmur3's avalanche.
 * Not cryptographic: it shows equality, it does not resist attack.
 */
export function hashFloat32(row: Float32Array): string {
  const words = new Uint32Array(row.buffer, row.byteOffset, row.length);
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c ^ row.length;
  for (let i = 0; i < words.length; i++) {
    if (i & 1) h2 = Math.imul(h2 ^ words[i]!, 0x5bd1e995);
    else h1 = Math.imul(h1 ^ words[i]!, 0x01000193);
  }
  return finishHash(h1, h2);
}

/** Final avalanche of both lanes (murmur3's fmix32), so nearby inputs give unrelated digests. */
function finishHash(h1: number, h2: number): string {
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  h2 ^= h2 >>> 16;
  h2 = Math.imul(h2, 0x85ebca6b);
  h2 ^= h2 >>> 13;
  h2 = Math.imul(h2, 0xc2b2ae35);
  h2 ^= h2 >>> 16;
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

/** IEEE 754 half (as raw uint16 bits) to float32, for fp16 models' logits. */
export function halfToFloat32(src: Uint16Array, dst: Float32Array): Float32Array {
  for (let i = 0; i < src.length; i++) {
    const h = src[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const frac = h & 0x3ff;
    let v: number;
    if (exp === 0) v = frac * 2 ** -24;
    else if (exp === 31) v = frac ? NaN : Infinity;
    else v = (1 + frac / 1024) * 2 ** (exp - 15);
    dst[i] = sign * v;
  }
  return dst;
}

import { dexp, dexpSum, dlog } from './dexp.ts';
import type { RowSummary } from './logits.ts';
import { finishHash, HASH_MUL_EVEN, HASH_MUL_ODD, HASH_SEED_EVEN, HASH_SEED_ODD } from './row-hash.ts';

/**
 * The summary in plain TypeScript: the reference the kernel (kernels/step.ts) is tested against,
 * and what runs where WebAssembly SIMD does not. One pass for the top-k list, the hash and the
 * maximum, one for the log-sum-exp (which needs the maximum first). The definition, as
 * `scripts/sampler_reference.py` repeats it: the top `k` by value descending, ties to the lower
 * id, NaN ranking as -Infinity; m = the largest finite logit; lse = m + dlog(sum of dexp(logit - m)
 * over the finite logits: logit i to lane i mod 4 in id order, then (lane0 + lane2) + (lane1 +
 * lane3), as dexpSum); logprob = logit - lse (NaN when no logit is finite). `k` is clamped to the
 * row length.
 */
export function summarizeRowReference(row: Float32Array, k: number): RowSummary {
  const n = row.length;
  const kk = Math.max(2, Math.min(k, n));
  const topIds = new Int32Array(kk);
  const topVals = new Float64Array(kk).fill(-Infinity);
  const words = new Uint32Array(row.buffer, row.byteOffset, n);
  // Even words feed one 32-bit hash lane, odd words the other: one multiply per word.
  let h1 = HASH_SEED_EVEN;
  let h2 = HASH_SEED_ODD ^ n;
  // The first kk values enter the list whatever they are (-Infinity and NaN included)...
  const head = Math.min(kk, n);
  for (let i = 0; i < head; i++) {
    if (i & 1) h2 = Math.imul(h2 ^ words[i]!, HASH_MUL_ODD);
    else h1 = Math.imul(h1 ^ words[i]!, HASH_MUL_EVEN);
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
    h2 = Math.imul(h2 ^ words[i]!, HASH_MUL_ODD);
    const v = row[i]!;
    if (v > low) low = insert(topVals, topIds, v, i);
    i++;
  }
  // Two words per turn: no parity test in the loop.
  for (; i + 1 < n; i += 2) {
    h1 = Math.imul(h1 ^ words[i]!, HASH_MUL_EVEN);
    h2 = Math.imul(h2 ^ words[i + 1]!, HASH_MUL_ODD);
    const a = row[i]!;
    if (a > low) low = insert(topVals, topIds, a, i);
    const b = row[i + 1]!;
    if (b > low) low = insert(topVals, topIds, b, i + 1);
  }
  if (i < n) {
    h1 = Math.imul(h1 ^ words[i]!, HASH_MUL_EVEN);
    const v = row[i]!;
    if (v > low) low = insert(topVals, topIds, v, i);
  }
  return rowSummary(row, k, topVals, topIds, head, logSumExpReference(row, topVals[0]!), finishHash(h1, h2));
}

/**
 * The record of a summary from its top list (`vals`/`ids`, best first, `head` entries filled)
 * and log-sum-exp: the first min(k, head) candidates, their logits and logprobs, and the margin.
 */
export function rowSummary(row: Float32Array, k: number, vals: Float64Array, ids: Int32Array, head: number, lse: number, hash: string): RowSummary {
  const take = Math.min(k, head);
  const outIds: number[] = [];
  const logits: number[] = [];
  const logprobs: number[] = [];
  for (let r = 0; r < take; r++) {
    const id = ids[r]!;
    const v = row[id]!;
    outIds.push(id);
    logits.push(v);
    logprobs.push(v - lse);
  }
  const margin = head > 1 ? vals[0]! - vals[1]! : Infinity;
  return { ids: outIds, logits, logprobs, margin, hash };
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

/** The largest value of a row, +Infinity included, NaN left out (-Infinity for none). */
export function rowTop(row: Float32Array): number {
  let top = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i]! > top) top = row[i]!;
  return top;
}

/**
 * The log-sum-exp the summaries use, in TypeScript: m + dlog(sum of dexp(x - m)) over the finite
 * values (four lanes, as dexpSum), m the largest finite value (NaN when none is finite). `top` is
 * the row's largest value (+Infinity and NaN included) when the caller knows it.
 */
export function logSumExpReference(row: Float32Array, top: number = rowTop(row)): number {
  if (top === Infinity) return logSumExpPastInfinity(row);
  // dexp is 0 for -Infinity and NaN: they add nothing, as the definition skips them.
  return top > -Infinity ? top + dlog(dexpSum(row, top)) : NaN;
}

/** Rare: +Infinity is no finite maximum; find the real one, and sum the same four lanes leaving +Infinity out. */
export function logSumExpPastInfinity(row: Float32Array): number {
  const n = row.length;
  let m = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = row[i]!;
    if (v > m && v < Infinity) m = v;
  }
  if (!(m > -Infinity)) return NaN;
  const lanes = new Float64Array(4);
  for (let i = 0; i < n; i++) {
    const x = row[i]! - m;
    if (x <= 0) lanes[i & 3] = lanes[i & 3]! + dexp(x);
  }
  return m + dlog(lanes[0]! + lanes[2]! + (lanes[1]! + lanes[3]!));
}

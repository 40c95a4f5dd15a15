import { dlog } from './dexp.ts';
import { finishHash, hashFloat32Reference } from './row-hash.ts';
import { KERNEL_TOP_MAX, stepKernel } from './step-kernel.ts';
import { logSumExpPastInfinity, logSumExpReference, rowSummary, rowTop, summarizeRowReference } from './summary-reference.ts';

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
 * Summarises a row: the top `k` candidates (ties to the lower id, NaN ranking as -Infinity),
 * their logits and float64 log-softmax, the margin and the hash, as defined by
 * {@link summarizeRowReference} (the TypeScript that `scripts/sampler_reference.py` repeats).
 * On the WebAssembly SIMD kernel where there is one: the row copied into it once, then one pass
 * for the top list and the maximum and one for the log-sum-exp and the hash, with the same bits.
 */
export function summarizeRow(row: Float32Array, k: number): RowSummary {
  const n = row.length;
  const kk = Math.max(2, Math.min(k, n));
  const kernel = stepKernel();
  if (!kernel || kk > KERNEL_TOP_MAX) return summarizeRowReference(row, k);
  kernel.put(row);
  const sum = kernel.summarize(kk);
  const { vals, ids } = kernel.top();
  const top = vals[0]!;
  // A maximum that is not finite: no sum was taken (+Infinity then needs the finite maximum).
  const lse = top > -Infinity && top < Infinity ? top + dlog(sum) : top === Infinity ? logSumExpPastInfinity(row) : NaN;
  const lanes = kernel.hash();
  return rowSummary(row, k, vals, ids, Math.min(kk, n), lse, finishHash(lanes[0]!, lanes[1]!));
}

/**
 * The log-sum-exp the summaries use: m + dlog(sum of dexp(x - m)) over the finite values (four
 * lanes, as dexpSum), m the largest finite value (NaN when none is finite); on the kernel where
 * there is one. `top` is the row's largest value (+Infinity and NaN included) when the caller knows it.
 */
export function logSumExp(row: Float32Array, top: number = rowTop(row)): number {
  const kernel = stepKernel();
  if (!kernel || !(top > -Infinity && top < Infinity)) return logSumExpReference(row, top);
  kernel.put(row);
  return top + dlog(kernel.sumDexp(top));
}

/**
 * The row's 64-bit hash, as the summary records it (`hashFloat32Reference` in
 * src/decode/row-hash.ts defines it), on the kernel where there is one, for the callers that need
 * the hash alone (`npm run bench:step` times both).
 */
export function hashFloat32(row: Float32Array): string {
  const kernel = stepKernel();
  if (!kernel) return hashFloat32Reference(row);
  kernel.put(row);
  const lanes = kernel.hashLanes();
  return finishHash(lanes[0]!, lanes[1]!);
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

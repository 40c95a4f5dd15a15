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
 * Summarises a row in two passes (top-k with a small insertion list, then log-sum-exp in index order).
 * `k` is clamped to the row length.
 */
export function summarizeRow(row: Float32Array, k: number): RowSummary {
  const n = row.length;
  const kk = Math.max(2, Math.min(k, n));
  const topIds = new Int32Array(kk).fill(-1);
  const topVals = new Float64Array(kk).fill(-Infinity);
  const words = new Uint32Array(row.buffer, row.byteOffset, n);
  let filled = 0;
  // One pass for the top-k list and the hash; a second, unavoidable, for the log-sum-exp.
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c ^ n;
  for (let i = 0; i < n; i++) {
    // Even words feed one 32-bit lane, odd words the other: one multiply per word.
    if (i & 1) h2 = Math.imul(h2 ^ words[i]!, 0x5bd1e995);
    else h1 = Math.imul(h1 ^ words[i]!, 0x01000193);
    const v = row[i]!;
    // Strictly greater: an equal value keeps the earlier (lower) id ahead.
    if (filled < kk || v > topVals[kk - 1]!) {
      let pos = filled < kk ? filled++ : kk - 1;
      while (pos > 0 && v > topVals[pos - 1]!) {
        topVals[pos] = topVals[pos - 1]!;
        topIds[pos] = topIds[pos - 1]!;
        pos--;
      }
      topVals[pos] = v;
      topIds[pos] = i;
    }
  }
  const max = topVals[0]!;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(row[i]! - max);
  const lse = max + Math.log(sum);

  const take = Math.min(k, filled);
  const ids: number[] = [];
  const logits: number[] = [];
  const logprobs: number[] = [];
  for (let r = 0; r < take; r++) {
    ids.push(topIds[r]!);
    logits.push(topVals[r]!);
    logprobs.push(topVals[r]! - lse);
  }
  const margin = filled > 1 ? topVals[0]! - topVals[1]! : Infinity;
  return { ids, logits, logprobs, margin, hash: finishHash(h1, h2) };
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

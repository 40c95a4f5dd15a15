import { dexp } from './dexp.ts';

// Candidate order (logit descending, ties to the lower id) without a full sort: the leaders in
// one pass, and a long prefix through buckets and a radix sort. Used by src/decode/sampling.ts.

/** Leaders listed for top-p: its prefix is usually shorter (else WIDE, then the buckets). */
export const SHORT = 16;
export const WIDE = 64;
/** The longest top-k taken from the leaders; a longer one goes through the buckets. */
export const LONG = 256;
/** Candidates per unit of (logit / temperature) below the maximum, in each bucket. */
export const PER_UNIT = 8;
export const BUCKETS = 512;
/** A non-finite logit: in no bucket. */
const DROPPED = 0xffff;

/** Work arrays reused between steps. */
export interface Scratch {
  /** w[id], for the ids whose weights a step needed. */
  weights: Float64Array;
  bucket: Uint16Array;
  count: Int32Array;
  /** Order keys and ids of the prefix being sorted, and their radix-sort twins. */
  keys: Uint32Array;
  ids: Int32Array;
  keys2: Uint32Array;
  ids2: Int32Array;
  digits: Int32Array;
  leaderVals: Float64Array;
  leaderIds: Int32Array;
  /** Zero between calls: marks the members of a set being listed in id order. */
  mark: Uint8Array;
}
/** Reused between steps (one decode runs at a time per thread); grown to the largest row seen. */
let shared: Scratch | null = null;
export function scratch(n: number): Scratch {
  if (!shared || shared.weights.length < n) {
    shared = {
      weights: new Float64Array(n),
      bucket: new Uint16Array(n),
      count: new Int32Array(BUCKETS),
      keys: new Uint32Array(n),
      ids: new Int32Array(n),
      keys2: new Uint32Array(n),
      ids2: new Int32Array(n),
      digits: new Int32Array(256),
      leaderVals: new Float64Array(LONG),
      leaderIds: new Int32Array(LONG),
      mark: new Uint8Array(n),
    };
  }
  return shared;
}

/**
 * Counts the finite values of `row` and lists the first `k` of them in candidate order (logit
 * descending, ties to the lower id) in s.leaderIds, with one comparison per value for most. The
 * reference of the kernel's `leaders` (kernels/step.ts).
 */
export function leaders(row: Float32Array, k: number, s: Scratch): number {
  const vals = s.leaderVals;
  const ids = s.leaderIds;
  let filled = 0;
  let finite = 0;
  // Below the list's last value (or -Infinity while it fills), nothing enters.
  let low = -Infinity;
  for (let i = 0; i < row.length; i++) {
    const v = row[i]!;
    if (v > -Infinity && v < Infinity) {
      finite++;
      // Strictly above: an equal value keeps the lower id ahead.
      if (v > low || filled < k) {
        let pos = filled < k ? filled++ : k - 1;
        while (pos > 0 && v > vals[pos - 1]!) {
          vals[pos] = vals[pos - 1]!;
          ids[pos] = ids[pos - 1]!;
          pos--;
        }
        vals[pos] = v;
        ids[pos] = i;
        if (filled === k) low = vals[k - 1]!;
      }
    }
  }
  return finite;
}

/** The weights of `ids` into w, and their sum in the order given. */
export function weighIds(row: Float32Array, ids: Int32Array, scale: number, m: number, w: Float64Array): number {
  let total = 0;
  for (let r = 0; r < ids.length; r++) {
    const id = ids[r]!;
    const wi = dexp(row[id]! * scale - m);
    w[id] = wi;
    total += wi;
  }
  return total;
}

/** Each candidate's bucket (by its distance below the maximum, monotone in the logit) and the buckets' counts. */
export function bucketRow(row: Float32Array, scale: number, m: number, s: Scratch): void {
  const { count, bucket } = s;
  count.fill(0);
  for (let i = 0; i < row.length; i++) {
    const v = row[i]!;
    if (v > -Infinity && v < Infinity) {
      const t = (m - v * scale) * PER_UNIT;
      const b = t < BUCKETS - 1 ? t | 0 : BUCKETS - 1;
      bucket[i] = b;
      count[b]!++;
    } else bucket[i] = DROPPED;
  }
}

/**
 * The ids of every candidate in buckets 0..last, in candidate order (logit descending, ties to
 * the lower id): a prefix of the whole order, since buckets are monotone in the logit. Sorted by
 * a stable radix sort of the float bits (made monotone) from id order, so ties stay in id order:
 * linear in the prefix, however long it is.
 */
export function sortedPrefix(row: Float32Array, s: Scratch, last: number): Int32Array {
  const n = row.length;
  const { bucket } = s;
  let keys = s.keys;
  let ids = s.ids;
  const words = new Uint32Array(row.buffer, row.byteOffset, n);
  let len = 0;
  for (let i = 0; i < n; i++) {
    if (bucket[i]! > last) continue;
    // -0 ranks as +0 (they tie, as numbers do); the bits made monotone, then inverted: ascending keys, descending logits.
    const bits = row[i] === 0 ? 0 : words[i]!;
    keys[len] = bits >= 0x80000000 ? bits : ~(bits + 0x80000000);
    ids[len++] = i;
  }
  if (len <= 16) {
    // Insertion sort (stable) for the common few.
    for (let a = 1; a < len; a++) {
      const k = keys[a]!;
      const id = ids[a]!;
      let b = a;
      for (; b > 0 && keys[b - 1]! > k; b--) {
        keys[b] = keys[b - 1]!;
        ids[b] = ids[b - 1]!;
      }
      keys[b] = k;
      ids[b] = id;
    }
    return ids.slice(0, len);
  }
  let keys2 = s.keys2;
  let ids2 = s.ids2;
  const digits = s.digits;
  for (let shift = 0; shift < 32; shift += 8) {
    digits.fill(0);
    for (let i = 0; i < len; i++) digits[(keys[i]! >>> shift) & 255]!++;
    // A byte every key shares orders nothing: skip the pass.
    if (digits[(keys[0]! >>> shift) & 255] === len) continue;
    let sum = 0;
    for (let d = 0; d < 256; d++) {
      const c = digits[d]!;
      digits[d] = sum;
      sum += c;
    }
    for (let i = 0; i < len; i++) {
      const k = keys[i]!;
      const at = digits[(k >>> shift) & 255]!++;
      keys2[at] = k;
      ids2[at] = ids[i]!;
    }
    [keys, keys2] = [keys2, keys];
    [ids, ids2] = [ids2, ids];
  }
  return ids.slice(0, len);
}

/** The first `count` ids of `order`, in ascending id order: a small sort, or one marking pass over the row. */
export function ascending(order: Int32Array, count: number, s: Scratch): Int32Array {
  if (count <= 256) return order.slice(0, count).sort();
  const mark = s.mark;
  let hi = 0;
  for (let r = 0; r < count; r++) {
    const id = order[r]!;
    mark[id] = 1;
    if (id > hi) hi = id;
  }
  const out = new Int32Array(count);
  let at = 0;
  for (let id = 0; id <= hi; id++) {
    if (mark[id] === 1) {
      mark[id] = 0;
      out[at++] = id;
    }
  }
  return out;
}

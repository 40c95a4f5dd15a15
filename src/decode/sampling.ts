import { dexp } from './dexp.ts';
import { weighRow } from './lse-kernel.ts';
import type { Mt19937 } from './mt19937.ts';

/** How the next token is chosen. `greedy` never draws from the generator. */
export type Sampling =
  | { kind: 'greedy' }
  | {
      kind: 'sample';
      /** > 0. (A temperature of 0 is expressed as `greedy` by the suite expander.) */
      temperature: number;
      /** 0 disables top-k. */
      topK: number;
      /** 1 disables top-p (nucleus). */
      topP: number;
      seed: number;
    };

/**
 * Index of the largest value in `row`; ties go to the lowest index. NaN never wins.
 */
export function argmax(row: Float32Array): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < row.length; i++) {
    const v = row[i]!;
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/**
 * Draws one token from `row` (one position's logits) with temperature, top-k and top-p, consuming
 * exactly one `rng.random()` (see {@link sampleWithDraw} for the algorithm).
 */
export function sampleToken(row: Float32Array, sampling: SampleSettings, rng: Mt19937): number {
  return sampleWithDraw(row, sampling, rng.random());
}

/** The settings of a sampled step. */
export type SampleSettings = Extract<Sampling, { kind: 'sample' }>;

/**
 * The token that the uniform draw `u01` (in [0, 1)) picks from `row`: a pure function, so a
 * recorded draw replays the step. The algorithm (schemaVersion 2), which
 * `scripts/sampler_reference.py` implements independently:
 * 1. candidates are the finite logits, ordered by logit descending, ties to the lower id
 *    (none finite: the argmax, ties to the lowest id);
 * 2. top-k keeps the first k candidates (0, or k >= their number, keeps all);
 * 3. s = 1 / temperature and m = (largest logit) * s; w[i] = dexp(logit[i] * s - m), in float64;
 * 4. total = the kept candidates' weights summed in ascending id order;
 * 5. top-p (< 1) keeps the shortest prefix, in candidate order, whose running sum (in that
 *    order) / total >= top_p;
 * 6. the kept candidates in ascending id order: u = u01 * (their weights summed in that order),
 *    the token is the first whose running sum exceeds u (if rounding leaves none, the last with
 *    a positive weight).
 * Only the prefix that top-k or top-p keeps is ever sorted, so a step costs a few passes over
 * the row however large the vocabulary.
 */
export function sampleWithDraw(row: Float32Array, sampling: SampleSettings, u01: number): number {
  const n = row.length;
  const scale = 1 / sampling.temperature;
  const topP = sampling.topP;
  const s = scratch(n);
  // One pass: how many candidates, and the first few of them in order (the maximum; SHORT for
  // top-p; all that top-k keeps when that is at most LONG).
  const wantK = sampling.topK > 0 && sampling.topK <= LONG ? sampling.topK : 0;
  const listed = Math.max(topP < 1 ? SHORT : 1, wantK);
  const finite = leaders(row, listed, s);
  if (finite === 0) return argmax(row);
  const head = s.leaderIds.subarray(0, Math.min(listed, finite));
  const m = row[head[0]!]! * scale;
  const topK = sampling.topK > 0 && sampling.topK < finite ? sampling.topK : finite;
  let w = s.weights;

  let order: Int32Array;
  let kept: number;
  let total: number;
  if (topK < finite) {
    // Top-k: the first k candidates, from the leaders or (k > LONG) from the buckets.
    if (topK <= head.length) order = head.slice(0, topK);
    else {
      bucketRow(row, scale, m, s);
      const count = s.count;
      let last = 0;
      for (let c = count[0]!; c < topK; c += count[++last]!);
      order = sortedPrefix(row, s, last).subarray(0, topK);
    }
    kept = topK;
    total = weighIds(row, ascending(order, kept, s), scale, m, w);
    if (topP < 1) kept = nucleus(order, kept, w, total, topP);
  } else {
    // Every weight, on the WebAssembly SIMD kernel where there is one (the bits of dexpWeights).
    ({ w, total } = weighRow(row, scale, m, w));
    // Nothing filtered: walk every id in order.
    if (!(topP < 1)) return walk(w, null, n, u01 * total);
    // Top-p: usually within the leaders. If not, bucket the candidates: every weight in bucket b
    // is at most e^(-b / PER_UNIT), so once the buckets beyond `last` could hold at most half of
    // the (1 - top_p) share left out, the prefix ends within 0..last. That bound only chooses what
    // to sort: the exact running sum over the sorted prefix decides, and widens it if it must.
    order = head;
    kept = nucleus(order, order.length, w, total, topP);
    if (kept === order.length && order.length < finite) {
      bucketRow(row, scale, m, s);
      const count = s.count;
      const limit = 0.5 * (1 - topP) * total;
      let last = 0;
      let beyond = 0;
      for (let b = BUCKETS - 1; b > 0; b--) {
        beyond += count[b]! * Math.exp(-b / PER_UNIT);
        if (beyond >= limit) {
          last = b;
          break;
        }
      }
      for (;;) {
        order = sortedPrefix(row, s, last);
        kept = nucleus(order, order.length, w, total, topP);
        if (kept < order.length || order.length === finite) break;
        last = BUCKETS - 1;
      }
    }
  }
  const final = ascending(order, kept, s);
  let keptTotal = 0;
  for (let r = 0; r < kept; r++) keptTotal += w[final[r]!]!;
  return walk(w, final, kept, u01 * keptTotal);
}

/** Leaders listed whatever the settings: top-p's prefix is usually shorter. */
const SHORT = 64;
/** The longest top-k taken from the leaders; a longer one goes through the buckets. */
const LONG = 256;

/**
 * Counts the finite values of `row` and lists the first `k` of them in candidate order (logit
 * descending, ties to the lower id) in s.leaderIds, with one comparison per value for most.
 */
function leaders(row: Float32Array, k: number, s: Scratch): number {
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

/** The weights of `ids` (ascending) into w, and their sum in that order. */
function weighIds(row: Float32Array, ids: Int32Array, scale: number, m: number, w: Float64Array): number {
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
function bucketRow(row: Float32Array, scale: number, m: number, s: Scratch): void {
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

/** Candidates per unit of (logit / temperature) below the maximum, in each bucket. */
const PER_UNIT = 8;
const BUCKETS = 512;
/** A non-finite logit: in no bucket. */
const DROPPED = 0xffff;

interface Scratch {
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
function scratch(n: number): Scratch {
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
 * The ids of every candidate in buckets 0..last, in candidate order (logit descending, ties to
 * the lower id): a prefix of the whole order, since buckets are monotone in the logit. Sorted by
 * a stable radix sort of the float bits (made monotone) from id order, so ties stay in id order:
 * linear in the prefix, however long it is.
 */
function sortedPrefix(row: Float32Array, s: Scratch, last: number): Int32Array {
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
function ascending(order: Int32Array, count: number, s: Scratch): Int32Array {
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

/** Top-p: the length of the shortest prefix of `order` whose running sum / total >= topP (at most `upTo`). */
function nucleus(order: Int32Array, upTo: number, w: Float64Array, total: number, topP: number): number {
  let running = 0;
  for (let r = 0; r < upTo; r++) {
    running += w[order[r]!]!;
    if (running / total >= topP) return r + 1;
  }
  return upTo;
}

/** The first of `ids` (all ids 0..len-1 when null), in that order, whose running weight exceeds u. */
function walk(w: Float64Array, ids: Int32Array | null, len: number, u: number): number {
  let running = 0;
  let lastPositive = -1;
  for (let r = 0; r < len; r++) {
    const id = ids ? ids[r]! : r;
    const wi = w[id]!;
    if (wi > 0) {
      running += wi;
      if (u < running) return id;
      lastPositive = id;
    }
  }
  return lastPositive;
}

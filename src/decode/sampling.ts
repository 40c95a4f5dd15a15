import { dexp, dexpWeights } from './dexp.ts';
import type { Mt19937 } from './mt19937.ts';
import { ascending, BUCKETS, bucketRow, LONG, leaders, PER_UNIT, type Scratch, SHORT, scratch, sortedPrefix, WIDE, weighIds } from './sampling-order.ts';
import type { StepKernel } from './step-kernel.ts';
import { stepKernel } from './step-kernel.ts';

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
 * the row however large the vocabulary. The passes over the whole row run on the WebAssembly
 * SIMD kernel where there is one (the row copied into it once), else in TypeScript: the same bits.
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
  const kernel = stepKernel();
  kernel?.put(row);
  const finite = listLeaders(row, listed, s, kernel);
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
  } else if (!(topP < 1)) {
    // Nothing filtered: the first id whose running sum, in id order, exceeds u01 * total.
    if (kernel) {
      const sums = kernel.weightPrefix(scale, m);
      return firstAbove(sums.prefix, u01 * sums.total, row, scale, m);
    }
    return walk(w, null, n, u01 * dexpWeights(row, scale, m, w));
  } else {
    // Top-p: every weight counts in the total; the prefix is usually within the leaders.
    if (kernel) {
      total = kernel.weightTotal(scale, m);
      weighIds(row, head, scale, m, w);
    } else total = dexpWeights(row, scale, m, w);
    order = head;
    kept = nucleus(order, order.length, w, total, topP);
    if (kept === order.length && order.length < finite && order.length < WIDE) {
      // Not within the first SHORT: list WIDE (one more pass, no sorting).
      order = s.leaderIds.subarray(0, Math.min(WIDE, listLeaders(row, WIDE, s, kernel)));
      if (kernel) weighIds(row, order, scale, m, w);
      kept = nucleus(order, order.length, w, total, topP);
    }
    if (kept === order.length && order.length < finite) {
      // If not, bucket the candidates: every weight in bucket b is at most e^(-b / PER_UNIT), so
      // once the buckets beyond `last` could hold at most half of the (1 - top_p) share left out,
      // the prefix ends within 0..last. That bound only chooses what to sort: the exact running
      // sum over the sorted prefix decides, and widens it if it must.
      if (kernel) w = kernel.weights(scale, m).w;
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

/** The leaders (sampling-order.ts) of the row, on the kernel (which holds the row) where there is one; returns the number of candidates. */
function listLeaders(row: Float32Array, k: number, s: Scratch, kernel: StepKernel | null): number {
  if (!kernel) return leaders(row, k, s);
  const finite = kernel.leaders(k);
  s.leaderIds.set(kernel.top().ids.subarray(0, Math.min(k, finite)));
  return finite;
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

/**
 * What {@link walk} over every id picks, from the running sums in id order: the first id whose
 * running sum exceeds u (a zero weight leaves the sum as it was, so that id's weight is positive),
 * found by bisection; if none does, the last id with a positive weight.
 */
function firstAbove(prefix: Float64Array, u: number, row: Float32Array, scale: number, m: number): number {
  let hi = prefix.length - 1;
  if (!(u < prefix[hi]!)) {
    for (; hi >= 0; hi--) if (row[hi]! < Infinity && dexp(row[hi]! * scale - m) > 0) return hi;
    return -1;
  }
  let lo = 0;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (u < prefix[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

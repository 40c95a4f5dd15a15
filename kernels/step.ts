// AssemblyScript source of the per-step kernel (WebAssembly SIMD), built by `npm run build:kernels`
// into src/decode/step-wasm.ts. The caller copies a float32 row to ROW once; then, over that row:
// the summary's top list (summarize: top-k, maximum, hash and log-sum-exp) and the sampler's
// leaders, weight sums and running sums. Each computes exactly what its TypeScript reference
// computes (src/decode/logits.ts, src/decode/dexp.ts, src/decode/sampling-order.ts): the same IEEE
// double operations in the same order, and WebAssembly arithmetic is specified bit for bit and
// never fused.

import { dexp1, dexp2, K, K_INF, MIN, pair } from './dexp';

/** The longest top list the kernel keeps (longer ones stay in TypeScript). */
export const TOP_MAX: i32 = 1024;
/** The top list: values (f64) and ids (i32), best first. */
export const TOP_VALS: usize = 4096;
export const TOP_IDS: usize = TOP_VALS + 8 * 1024;
/** The hash's two 32-bit lanes after summarize. */
export const HASH: usize = TOP_IDS + 4 * 1024;
/** The row's least value after leaders (float32; meaningful when every value is finite). */
export const LEAST: usize = HASH + 8;
/** Where the caller puts the row (float32), at 64 KiB; running sums go after it. */
export const ROW: usize = 65536;

@inline function rowAt(i: i32): usize {
  return ROW + (<usize>i << 2);
}

/** Puts value `v` of id `id` (above the list's last value) in its place among `len`; returns the new last value. */
@inline function insert(v: f64, id: i32, len: i32): f64 {
  let pos = len - 1;
  while (pos > 0 && v > load<f64>(TOP_VALS + (<usize>(pos - 1) << 3))) {
    store<f64>(TOP_VALS + (<usize>pos << 3), load<f64>(TOP_VALS + (<usize>(pos - 1) << 3)));
    store<i32>(TOP_IDS + (<usize>pos << 2), load<i32>(TOP_IDS + (<usize>(pos - 1) << 2)));
    pos--;
  }
  store<f64>(TOP_VALS + (<usize>pos << 3), v);
  store<i32>(TOP_IDS + (<usize>pos << 2), id);
  return load<f64>(TOP_VALS + (<usize>(len - 1) << 3));
}

/**
 * The summary of the n floats at ROW (summarizeRow in src/decode/logits.ts): the top `kk` (2 <=
 * kk <= TOP_MAX) by value descending, ties to the lower id, NaN ranking as -Infinity, into
 * TOP_VALS/TOP_IDS (the first kk values enter whatever they are, then only a value strictly above
 * the last); the hash's lanes into HASH; returns the sum of dexp(logit - m) over the row in four
 * lanes (see sumHash), m = the largest value, or NaN where that is not finite (the caller then
 * finds the log-sum-exp another way).
 */
export function summarize(n: i32, kk: i32): f64 {
  // Entries a short row leaves empty read as -Infinity, as the reference's list starts.
  for (let r = 0; r < kk; r++) store<f64>(TOP_VALS + (<usize>r << 3), -Infinity);
  const head = min(kk, n);
  // The row's smallest value on the way (NaN if any is NaN: f32.min propagates it).
  let least: f32 = Infinity;
  for (let i = 0; i < head; i++) {
    const x = load<f32>(rowAt(i));
    least = min(least, x);
    insert(x == x ? <f64>x : -Infinity, i, i + 1);
  }
  let low: f64 = head < kk ? -Infinity : load<f64>(TOP_VALS + (<usize>(kk - 1) << 3));
  let lowv = f32x4.splat(<f32>low);
  // f32x4.pmin is one instruction (f32x4.min, which must propagate NaN, about eight): two of
  // them, so that neither chain of minima sets the pace, and NaN noted apart.
  let leastA = f32x4.splat(Infinity);
  let leastB = leastA;
  let nan = f32x4.splat(0);
  let i = head;
  // Eight at a time: only a block with a value above the list's last one is looked into.
  for (; i + 8 <= n; i += 8) {
    const v = v128.load(rowAt(i));
    const u = v128.load(rowAt(i), 16);
    leastA = f32x4.pmin(leastA, v);
    leastB = f32x4.pmin(leastB, u);
    nan = v128.or(nan, v128.or(f32x4.ne(v, v), f32x4.ne(u, u)));
    if (v128.any_true(v128.or(f32x4.gt(v, lowv), f32x4.gt(u, lowv)))) {
      for (let j = i; j < i + 8; j++) {
        const x = <f64>load<f32>(rowAt(j));
        if (x > low) low = insert(x, j, kk);
      }
      lowv = f32x4.splat(<f32>low);
    }
  }
  for (; i < n; i++) {
    const x = load<f32>(rowAt(i));
    least = min(least, x);
    if (<f64>x > low) low = insert(<f64>x, i, kk);
  }
  const lv = f32x4.pmin(leastA, leastB);
  least = min(min(least, f32x4.extract_lane(lv, 0)), min(f32x4.extract_lane(lv, 1), min(f32x4.extract_lane(lv, 2), f32x4.extract_lane(lv, 3))));
  if (v128.any_true(nan)) least = NaN;
  const m = load<f64>(TOP_VALS);
  if (!(m > -Infinity && m < Infinity)) {
    hashOnly(n);
    return NaN;
  }
  // Dense: no NaN or -Infinity and every value within dexp's range (x - m is monotone in x), so
  // no lane needs the test against MIN: the same sums, fewer operations.
  return <f64>least - m >= MIN ? sumHashDense(n, m) : sumHash(n, m);
}

/** sumHash for a dense row (no lane below MIN, no NaN): the range tests left out. */
function sumHashDense(n: i32, m: f64): f64 {
  return lseHash(n, m, false);
}

/**
 * The sum of dexp(row[i] - m) over the n floats at ROW, for a row without +Infinity (dexpSum):
 * value i goes to lane i mod 4 (in index order), and the result is (lane0 + lane2) + (lane1 +
 * lane3). On the way, the row's hash lanes into HASH (hashFloat32: the even words through one
 * multiplicative lane, the odd words through the other): that chain runs on the integer units
 * while the exponentials keep the vector units busy, so it costs next to nothing.
 */
export function sumHash(n: i32, m: f64): f64 {
  return lseHash(n, m, true);
}

/** sumHash's loop; `masked` false for a dense row (summarize). */
@inline function lseHash(n: i32, m: f64, masked: bool): f64 {
  let a = f64x2.splat(0);
  let b = f64x2.splat(0);
  const mv = f64x2.splat(m);
  let h1: u32 = 0x811c9dc5;
  let h2: u32 = 0x9747b28c ^ n;
  let i = 0;
  // Eight per turn (V8 then loads the constants once for both halves), then four.
  for (; i + 8 <= n; i += 8) {
    const at = rowAt(i);
    h1 = (h1 ^ load<u32>(at)) * 0x01000193;
    h2 = (h2 ^ load<u32>(at, 4)) * 0x5bd1e995;
    h1 = (h1 ^ load<u32>(at, 8)) * 0x01000193;
    h2 = (h2 ^ load<u32>(at, 12)) * 0x5bd1e995;
    h1 = (h1 ^ load<u32>(at, 16)) * 0x01000193;
    h2 = (h2 ^ load<u32>(at, 20)) * 0x5bd1e995;
    h1 = (h1 ^ load<u32>(at, 24)) * 0x01000193;
    h2 = (h2 ^ load<u32>(at, 28)) * 0x5bd1e995;
    a = f64x2.add(a, dexp2(f64x2.sub(pair(at, 0), mv), masked));
    b = f64x2.add(b, dexp2(f64x2.sub(pair(at, 8), mv), masked));
    a = f64x2.add(a, dexp2(f64x2.sub(pair(at, 16), mv), masked));
    b = f64x2.add(b, dexp2(f64x2.sub(pair(at, 24), mv), masked));
  }
  if (i + 4 <= n) {
    const at = rowAt(i);
    h1 = (h1 ^ load<u32>(at)) * 0x01000193;
    h2 = (h2 ^ load<u32>(at, 4)) * 0x5bd1e995;
    h1 = (h1 ^ load<u32>(at, 8)) * 0x01000193;
    h2 = (h2 ^ load<u32>(at, 12)) * 0x5bd1e995;
    a = f64x2.add(a, dexp2(f64x2.sub(pair(at, 0), mv), masked));
    b = f64x2.add(b, dexp2(f64x2.sub(pair(at, 8), mv), masked));
    i += 4;
  }
  let l0 = f64x2.extract_lane(a, 0);
  let l1 = f64x2.extract_lane(a, 1);
  let l2 = f64x2.extract_lane(b, 0);
  if (i < n) {
    h1 = (h1 ^ load<u32>(rowAt(i))) * 0x01000193;
    l0 += dexp1(<f64>load<f32>(rowAt(i)) - m);
  }
  if (i + 1 < n) {
    h2 = (h2 ^ load<u32>(rowAt(i + 1))) * 0x5bd1e995;
    l1 += dexp1(<f64>load<f32>(rowAt(i + 1)) - m);
  }
  if (i + 2 < n) {
    h1 = (h1 ^ load<u32>(rowAt(i + 2))) * 0x01000193;
    l2 += dexp1(<f64>load<f32>(rowAt(i + 2)) - m);
  }
  store<u32>(HASH, h1);
  store<u32>(HASH, h2, 4);
  return (l0 + l2) + (l1 + f64x2.extract_lane(b, 1));
}

/** The hash lanes alone into HASH (hashFloat32; and the summary of a row whose maximum is not finite). */
export function hashOnly(n: i32): void {
  let h1: u32 = 0x811c9dc5;
  let h2: u32 = 0x9747b28c ^ n;
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    h1 = (h1 ^ load<u32>(rowAt(i))) * 0x01000193;
    h2 = (h2 ^ load<u32>(rowAt(i), 4)) * 0x5bd1e995;
  }
  if (i < n) h1 = (h1 ^ load<u32>(rowAt(i))) * 0x01000193;
  store<u32>(HASH, h1);
  store<u32>(HASH, h2, 4);
}

/**
 * The sampler's leaders (src/decode/sampling-order.ts): counts the finite values of the n floats
 * at ROW and lists the first `k` (1 <= k <= TOP_MAX) of them in candidate order (value descending,
 * ties to the lower id) into TOP_VALS/TOP_IDS, and the row's least value into LEAST; returns the count.
 */
export function leaders(n: i32, k: i32): i32 {
  let filled = 0;
  let finite = 0;
  let least: f32 = Infinity;
  let i = 0;
  // Until the list is full every finite value enters.
  for (; i < n && filled < k; i++) {
    const x = load<f32>(rowAt(i));
    least = min(least, x);
    const v = <f64>x;
    if (v > -Infinity && v < Infinity) {
      finite++;
      insert(v, i, ++filled);
    }
  }
  let low: f64 = filled === k ? load<f64>(TOP_VALS + (<usize>(k - 1) << 3)) : Infinity;
  let lowv = f32x4.splat(<f32>low);
  const inf = f32x4.splat(Infinity);
  let count = i32x4.splat(0);
  // pmin (one instruction) drops NaN: a row with NaN is no dense row anyway (not all finite).
  let leastv = f32x4.splat(Infinity);
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(rowAt(i));
    leastv = f32x4.pmin(leastv, v);
    // A finite lane is -1: subtracting counts it.
    count = i32x4.sub(count, f32x4.lt(f32x4.abs(v), inf));
    if (v128.any_true(f32x4.gt(v, lowv))) {
      for (let j = i; j < i + 4; j++) {
        const x = <f64>load<f32>(rowAt(j));
        if (x > low && x < Infinity) low = insert(x, j, k);
      }
      lowv = f32x4.splat(<f32>low);
    }
  }
  finite += i32x4.extract_lane(count, 0) + i32x4.extract_lane(count, 1) + i32x4.extract_lane(count, 2) + i32x4.extract_lane(count, 3);
  for (; i < n; i++) {
    const y = load<f32>(rowAt(i));
    least = min(least, y);
    const x = <f64>y;
    if (x > -Infinity && x < Infinity) {
      finite++;
      if (x > low) low = insert(x, i, k);
    }
  }
  store<f32>(LEAST, min(min(least, f32x4.extract_lane(leastv, 0)), min(f32x4.extract_lane(leastv, 1), min(f32x4.extract_lane(leastv, 2), f32x4.extract_lane(leastv, 3)))));
  return finite;
}

/** The weights dexp(v * scale - m) of the two floats at `at`, 0 where not finite (unless `masked` is false: a dense row). */
@inline function weigh2(at: usize, offset: usize, sv: v128, mv: v128, masked: bool): v128 {
  const v = pair(at, offset);
  const w = dexp2(f64x2.sub(f64x2.mul(v, sv), mv), masked);
  // +Infinity * scale - m passes dexp's test: its weight is 0 all the same.
  return masked ? v128.and(w, f64x2.lt(v, v128.load(K, K_INF))) : w;
}

@inline function weigh1(i: i32, scale: f64, m: f64): f64 {
  const v = <f64>load<f32>(rowAt(i));
  return v < Infinity ? dexp1(v * scale - m) : 0;
}

/**
 * The sum, one accumulator in id order, of w[i] = dexp(row[i] * scale - m) over the n floats at
 * ROW, 0 where row[i] is not finite (dexpWeights' sum). `keep` 1 writes each weight to `out` (as
 * dexpWeights does), 2 the running sum after each id (prefix[i] = w[0] + ... + w[i], in that
 * order), 0 nothing. `dense` 1 promises that every value is finite and weighs at least dexp(MIN)
 * (the caller knows the row's least value from `leaders`): the same sums, fewer operations.
 */
export function weightSum(n: i32, scale: f64, m: f64, out: usize, keep: i32, dense: i32): f64 {
  if (dense) {
    if (keep === 0) return weighLoop(n, scale, m, out, 0, false);
    if (keep === 1) return weighLoop(n, scale, m, out, 1, false);
    return weighLoop(n, scale, m, out, 2, false);
  }
  if (keep === 0) return weighLoop(n, scale, m, out, 0, true);
  if (keep === 1) return weighLoop(n, scale, m, out, 1, true);
  return weighLoop(n, scale, m, out, 2, true);
}

@inline function weighLoop(n: i32, scale: f64, m: f64, out: usize, keep: i32, masked: bool): f64 {
  const sv = f64x2.splat(scale);
  const mv = f64x2.splat(m);
  let total: f64 = 0;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const at = rowAt(i);
    const a = weigh2(at, 0, sv, mv, masked);
    const b = weigh2(at, 8, sv, mv, masked);
    const c = weigh2(at, 16, sv, mv, masked);
    const d = weigh2(at, 24, sv, mv, masked);
    const o = out + (<usize>i << 3);
    if (keep === 1) {
      v128.store(o, a);
      v128.store(o, b, 16);
      v128.store(o, c, 32);
      v128.store(o, d, 48);
    }
    total += f64x2.extract_lane(a, 0);
    if (keep === 2) store<f64>(o, total);
    total += f64x2.extract_lane(a, 1);
    if (keep === 2) store<f64>(o, total, 8);
    total += f64x2.extract_lane(b, 0);
    if (keep === 2) store<f64>(o, total, 16);
    total += f64x2.extract_lane(b, 1);
    if (keep === 2) store<f64>(o, total, 24);
    total += f64x2.extract_lane(c, 0);
    if (keep === 2) store<f64>(o, total, 32);
    total += f64x2.extract_lane(c, 1);
    if (keep === 2) store<f64>(o, total, 40);
    total += f64x2.extract_lane(d, 0);
    if (keep === 2) store<f64>(o, total, 48);
    total += f64x2.extract_lane(d, 1);
    if (keep === 2) store<f64>(o, total, 56);
  }
  for (; i < n; i++) {
    const w = weigh1(i, scale, m);
    total += w;
    if (keep === 1) store<f64>(out + (<usize>i << 3), w);
    if (keep === 2) store<f64>(out + (<usize>i << 3), total);
  }
  return total;
}

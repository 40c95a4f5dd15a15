// AssemblyScript source of the summary's log-sum-exp and the sampler's weights (WebAssembly SIMD), built by
// `npm run build:kernels` into src/decode/lse-wasm.ts. It computes exactly what dexpSum and
// dexpWeights in src/decode/dexp.ts compute (the same IEEE double operations in the same order: WebAssembly
// arithmetic is specified bit for bit and never fused), two lanes per f64x2, four lanes in all.

const INV: f64 = 92.33248261689366;
const HI: f64 = 0.01083042469326756;
const LO: f64 = 2.9815858269852933e-12;
const C3: f64 = 0.16666666666666666;
const C4: f64 = 0.041666666666666664;
const C5: f64 = 0.008333333333333333;
const MIN: f64 = -707.0;

/** 2^(j/64), the same doubles as EXP2_64 in src/decode/dexp.ts. */
const TAB = memory.data<f64>([
  1.0, 1.0108892860517005, 1.0218971486541166, 1.0330248790212284,
  1.0442737824274138, 1.0556451783605572, 1.0671404006768237, 1.0787607977571199,
  1.0905077326652577, 1.102382583307841, 1.1143867425958924, 1.1265216186082418,
  1.1387886347566916, 1.1511892299529827, 1.1637248587775775, 1.1763969916502812,
  1.189207115002721, 1.202156731452703, 1.215247359980469, 1.22848053610687,
  1.241857812073484, 1.255380757024691, 1.2690509571917332, 1.2828700160787783,
  1.2968395546510096, 1.3109612115247644, 1.3252366431597413, 1.339667524053303,
  1.3542555469368927, 1.3690024229745905, 1.383909881963832, 1.3989796725383112,
  1.4142135623730951, 1.42961333839197, 1.4451808069770467, 1.460917794180647,
  1.4768261459394993, 1.4929077282912648, 1.5091644275934228, 1.5255981507445384,
  1.5422108254079407, 1.559004400237837, 1.5759808451078865, 1.593142151342267,
  1.6104903319492543, 1.6280274218573478, 1.645755478153965, 1.6636765803267364,
  1.681792830507429, 1.7001063537185235, 1.718619298122478, 1.7373338352737062,
  1.7562521603732995, 1.7753764925265212, 1.7947090750031072, 1.8142521755003989,
  1.8340080864093424, 1.8539791250833855, 1.8741676341103, 1.8945759815869656,
  1.9152065613971474, 1.9360617934922943, 1.9571441241754002, 1.978456026387951,
]);

/** Where the caller puts the row (float32): past the static data, at 64 KiB. */
export const ROW: usize = 65536;

/** dexp(x) for one value, as src/decode/dexp.ts defines it. */
@inline function dexp1(x: f64): f64 {
  if (!(x >= MIN)) return 0;
  const k = Math.floor(x * INV + 0.5);
  const r = x - k * HI - k * LO;
  const p = 1.0 + r * (1.0 + r * (0.5 + r * (C3 + r * (C4 + r * C5))));
  const ki = <i32>k;
  return p * load<f64>(TAB + (<usize>(ki & 63) << 3)) * reinterpret<f64>(<i64>((ki >> 6) + 1023) << 52);
}

/** dexp of two values at once; lanes below MIN (or NaN) give +0. */
@inline function dexp2(x: v128): v128 {
  const keep = f64x2.ge(x, f64x2.splat(MIN));
  const k = f64x2.floor(f64x2.add(f64x2.mul(x, f64x2.splat(INV)), f64x2.splat(0.5)));
  const r = f64x2.sub(f64x2.sub(x, f64x2.mul(k, f64x2.splat(HI))), f64x2.mul(k, f64x2.splat(LO)));
  let p = f64x2.add(f64x2.splat(C4), f64x2.mul(r, f64x2.splat(C5)));
  p = f64x2.add(f64x2.splat(C3), f64x2.mul(r, p));
  p = f64x2.add(f64x2.splat(0.5), f64x2.mul(r, p));
  p = f64x2.add(f64x2.splat(1.0), f64x2.mul(r, p));
  p = f64x2.add(f64x2.splat(1.0), f64x2.mul(r, p));
  const ki = i32x4.trunc_sat_f64x2_s_zero(k);
  let t = f64x2.splat(load<f64>(TAB + (<usize>(i32x4.extract_lane(ki, 0) & 63) << 3)));
  t = f64x2.replace_lane(t, 1, load<f64>(TAB + (<usize>(i32x4.extract_lane(ki, 1) & 63) << 3)));
  const scale = i64x2.shl(i64x2.add(i64x2.extend_low_i32x4_s(i32x4.shr_s(ki, 6)), i64x2.splat(1023)), 52);
  return v128.and(f64x2.mul(f64x2.mul(p, t), scale), keep);
}

/**
 * The sum of dexp(row[i] - m) over the n floats at ROW, for a row without +Infinity: value i goes
 * to lane i mod 4 (in index order), and the result is (lane0 + lane2) + (lane1 + lane3).
 */
export function dexpSum4(n: i32, m: f64): f64 {
  let a = f64x2.splat(0);
  let b = f64x2.splat(0);
  const mv = f64x2.splat(m);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(ROW + (<usize>i << 2));
    a = f64x2.add(a, dexp2(f64x2.sub(f64x2.promote_low_f32x4(v), mv)));
    b = f64x2.add(b, dexp2(f64x2.sub(f64x2.promote_low_f32x4(v128.shuffle<i32>(v, v, 2, 3, 0, 1)), mv)));
  }
  let l0 = f64x2.extract_lane(a, 0);
  let l1 = f64x2.extract_lane(a, 1);
  let l2 = f64x2.extract_lane(b, 0);
  if (i < n) l0 += dexp1(<f64>load<f32>(ROW + (<usize>i << 2)) - m);
  if (i + 1 < n) l1 += dexp1(<f64>load<f32>(ROW + (<usize>(i + 1) << 2)) - m);
  if (i + 2 < n) l2 += dexp1(<f64>load<f32>(ROW + (<usize>(i + 2) << 2)) - m);
  return (l0 + l2) + (l1 + f64x2.extract_lane(b, 1));
}

/**
 * w[i] = dexp(row[i] * scale - m) for the n floats at ROW, 0 where row[i] is not finite, written as
 * doubles at `out`; returns their sum in index order, one accumulator, as dexpWeights does.
 */
export function dexpWeights(n: i32, scale: f64, m: f64, out: usize): f64 {
  const sv = f64x2.splat(scale);
  const mv = f64x2.splat(m);
  const inf = f64x2.splat(Infinity);
  let total: f64 = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(ROW + (<usize>i << 2));
    const lo = f64x2.promote_low_f32x4(v);
    const hi = f64x2.promote_low_f32x4(v128.shuffle<i32>(v, v, 2, 3, 0, 1));
    const wl = v128.and(dexp2(f64x2.sub(f64x2.mul(lo, sv), mv)), f64x2.lt(lo, inf));
    const wh = v128.and(dexp2(f64x2.sub(f64x2.mul(hi, sv), mv)), f64x2.lt(hi, inf));
    v128.store(out + (<usize>i << 3), wl);
    v128.store(out + (<usize>(i + 2) << 3), wh);
    total += f64x2.extract_lane(wl, 0);
    total += f64x2.extract_lane(wl, 1);
    total += f64x2.extract_lane(wh, 0);
    total += f64x2.extract_lane(wh, 1);
  }
  for (; i < n; i++) {
    const v = <f64>load<f32>(ROW + (<usize>i << 2));
    const w = v < Infinity ? dexp1(v * scale - m) : 0;
    store<f64>(out + (<usize>i << 3), w);
    total += w;
  }
  return total;
}

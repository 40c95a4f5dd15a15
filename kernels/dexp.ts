// AssemblyScript: detbench's dexp (src/decode/dexp.ts) for the step kernel (kernels/step.ts),
// one value at a time and two at a time on f64x2, with the very IEEE double operations of the
// TypeScript, in the same order (WebAssembly arithmetic is specified bit for bit and never fused).

const INV: f64 = 92.33248261689366;
const HI: f64 = 0.01083042469326756;
const LO: f64 = 2.9815858269852933e-12;
const C3: f64 = 0.16666666666666666;
const C4: f64 = 0.041666666666666664;
const C5: f64 = 0.008333333333333333;
export const MIN: f64 = -707.0;
/** 2^52 + 2^51: floor(...) + SHIFT holds the integer k in its low bits (exact for |k| < 2^51). */
const SHIFT: f64 = 6755399441055744.0;

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

// The bits of 2^(j/64) less j << 46: added to (k + SHIFT) << 46 = (e << 52) + (j << 46) as
// integers, they give the bits of 2^(j/64) * 2^e with e = floor(k / 64) (exact while the result
// is normal, which x >= MIN guarantees). Then p * that equals (p * 2^(j/64)) * 2^e, the reference's
// order, bit for bit: a power-of-two scaling commutes with rounding in the normal range.
const TADJ = memory.data(512, 16);
for (let j = 0; j < 64; j++) store<i64>(TADJ + (<usize>j << 3), reinterpret<i64>(load<f64>(TAB + (<usize>j << 3))) - (<i64>j << 46));

// Vector constants read from memory in the loops: V8 rebuilds an immediate v128 constant with
// three instructions at every use, a load is one.
export const K = memory.data(192, 16);
const K_INV: usize = 0;
const K_HALF: usize = 16;
const K_SHIFT: usize = 32;
const K_HI: usize = 48;
const K_LO: usize = 64;
const K_C5: usize = 80;
const K_C4: usize = 96;
const K_C3: usize = 112;
const K_ONE: usize = 128;
const K_MIN: usize = 144;
const K_63: usize = 160;
export const K_INF: usize = 176;
v128.store(K + K_INV, f64x2.splat(INV));
v128.store(K + K_HALF, f64x2.splat(0.5));
v128.store(K + K_SHIFT, f64x2.splat(SHIFT));
v128.store(K + K_HI, f64x2.splat(HI));
v128.store(K + K_LO, f64x2.splat(LO));
v128.store(K + K_C5, f64x2.splat(C5));
v128.store(K + K_C4, f64x2.splat(C4));
v128.store(K + K_C3, f64x2.splat(C3));
v128.store(K + K_ONE, f64x2.splat(1.0));
v128.store(K + K_MIN, f64x2.splat(MIN));
v128.store(K + K_63, i32x4.splat(63));
v128.store(K + K_INF, f64x2.splat(Infinity));

/** dexp(x) for one value, as src/decode/dexp.ts defines it. */
@inline export function dexp1(x: f64): f64 {
  if (!(x >= MIN)) return 0;
  const k = Math.floor(x * INV + 0.5);
  const r = x - k * HI - k * LO;
  const p = 1.0 + r * (1.0 + r * (0.5 + r * (C3 + r * (C4 + r * C5))));
  const ki = <i32>k;
  return p * load<f64>(TAB + (<usize>(ki & 63) << 3)) * reinterpret<f64>(<i64>((ki >> 6) + 1023) << 52);
}

/** r = (x - k*HI) - k*LO and the polynomial p(r), Horner as written in dexp. */
@inline function poly(x: v128, k: v128): v128 {
  const r = f64x2.sub(f64x2.sub(x, f64x2.mul(k, v128.load(K, K_HI))), f64x2.mul(k, v128.load(K, K_LO)));
  let p = f64x2.add(v128.load(K, K_C4), f64x2.mul(r, v128.load(K, K_C5)));
  p = f64x2.add(v128.load(K, K_C3), f64x2.mul(r, p));
  p = f64x2.add(v128.load(K, K_HALF), f64x2.mul(r, p));
  p = f64x2.add(v128.load(K, K_ONE), f64x2.mul(r, p));
  return f64x2.add(v128.load(K, K_ONE), f64x2.mul(r, p));
}

/**
 * dexp of two values (dexp in src/decode/dexp.ts): k = floor(x * 64/ln2 + 0.5); k + SHIFT holds k
 * in its low bits, which give the table entry and the power of two. `masked`: +0 where below MIN
 * or NaN; without, the caller knows that no value is (a dense row: see summarize).
 */
@inline export function dexp2(x: v128, masked: bool): v128 {
  const k = f64x2.floor(f64x2.add(f64x2.mul(x, v128.load(K, K_INV)), v128.load(K, K_HALF)));
  const ks = f64x2.add(k, v128.load(K, K_SHIFT));
  const p = poly(x, k);
  const j = i32x4.shl(v128.and(ks, v128.load(K, K_63)), 3);
  let t = v128.load64_zero(<usize>i32x4.extract_lane(j, 0), TADJ);
  t = v128.load64_lane(<usize>i32x4.extract_lane(j, 2), t, 1, TADJ);
  const w = f64x2.mul(p, i64x2.add(i64x2.shl(ks, 46), t));
  return masked ? v128.and(w, f64x2.ge(x, v128.load(K, K_MIN))) : w;
}

/** Two floats at `at`, promoted to doubles. */
@inline export function pair(at: usize, offset: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(at + offset));
}

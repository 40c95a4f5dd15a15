/**
 * detbench's own exp and log, written with IEEE 754 double additions, multiplications, divisions
 * and exact scalings only (no Math.exp, Math.log or fused multiply-add, whose last bits ECMAScript
 * leaves to the engine). Every such operation is correctly rounded in every JavaScript engine and
 * in Python, so `scripts/sampler_reference.py` computes the very same bits: log-probabilities,
 * sampling weights and a Python replay agree by construction. Accurate to about one ulp.
 */

/** Below this, `dexp` is 0 (exp(-707) is still a normal double, so no step rounds subnormally). */
export const DEXP_MIN = -707;

/** 64 / ln 2. */
export const INV_LN2_64 = 92.33248261689366;
/** ln 2 / 64 in two parts (fdlibm's split of ln 2, divided by 64): k * HI is exact for |k| < 2^21. */
export const LN2_64_HI = 0.01083042469326756;
export const LN2_64_LO = 2.9815858269852933e-12;
/** fdlibm's ln 2 split, for dlog. */
const LN2_HI = 0.6931471803691238; // fdlibm's 6.93147180369123816490e-01, the same double
const LN2_LO = 1.9082149292705877e-10;

/** 2^(j/64) for j = 0..63, each the correctly rounded double (written by exact decimal arithmetic). */
export const EXP2_64 = new Float64Array([
  1.0,
  1.0108892860517005,
  1.0218971486541166,
  1.0330248790212284,
  1.0442737824274138,
  1.0556451783605572,
  1.0671404006768237,
  1.0787607977571199,
  1.0905077326652577,
  1.102382583307841,
  1.1143867425958924,
  1.1265216186082418,
  1.1387886347566916,
  1.1511892299529827,
  1.1637248587775775,
  1.1763969916502812,
  1.189207115002721,
  1.202156731452703,
  1.215247359980469,
  1.22848053610687,
  1.241857812073484,
  1.255380757024691,
  1.2690509571917332,
  1.2828700160787783,
  1.2968395546510096,
  1.3109612115247644,
  1.3252366431597413,
  1.339667524053303,
  1.3542555469368927,
  1.3690024229745905,
  1.383909881963832,
  1.3989796725383112,
  Math.SQRT2,
  1.42961333839197,
  1.4451808069770467,
  1.460917794180647,
  1.4768261459394993,
  1.4929077282912648,
  1.5091644275934228,
  1.5255981507445384,
  1.5422108254079407,
  1.559004400237837,
  1.5759808451078865,
  1.593142151342267,
  1.6104903319492543,
  1.6280274218573478,
  1.645755478153965,
  1.6636765803267364,
  1.681792830507429,
  1.7001063537185235,
  1.718619298122478,
  1.7373338352737062,
  1.7562521603732995,
  1.7753764925265212,
  1.7947090750031072,
  1.8142521755003989,
  1.8340080864093424,
  1.8539791250833855,
  1.8741676341103,
  1.8945759815869656,
  1.9152065613971474,
  1.9360617934922943,
  1.9571441241754002,
  1.978456026387951,
]);

/** 2^e for e = -1022..0, exact (halving is exact down to the smallest normal). */
export const POW2 = new Float64Array(1023);
POW2[1022] = 1;
for (let e = 1021; e >= 0; e--) POW2[e] = POW2[e + 1]! / 2;

/**
 * e^x for x <= 0 (what softmax needs: x = value - max). 0 below {@link DEXP_MIN}, for -Infinity
 * and for NaN (so a NaN logit weighs nothing). The algorithm, step by step as the Python reference
 * repeats it: k = floor(x * 64/ln2 + 0.5); r = (x - k * HI) - k * LO;
 * p = 1 + r(1 + r(1/2 + r(1/6 + r(1/24 + r/120)))) (Horner, as written);
 * result = (p * 2^((k mod 64)/64)) * 2^floor(k/64).
 */
export function dexp(x: number): number {
  if (!(x >= DEXP_MIN)) return 0;
  const k = Math.floor(x * INV_LN2_64 + 0.5);
  const r = x - k * LN2_64_HI - k * LN2_64_LO;
  const p = 1 + r * (1 + r * (0.5 + r * (EXP_C3 + r * (EXP_C4 + r * EXP_C5))));
  return p * EXP2_64[k & 63]! * POW2[(k >> 6) + 1022]!;
}

/** The polynomial's 1/6, 1/24 and 1/120 (the doubles that those divisions give). */
export const EXP_C3 = 0.16666666666666666;
export const EXP_C4 = 0.041666666666666664;
export const EXP_C5 = 0.008333333333333333;

// The loops below repeat dexp's body in line: V8 does not always inline a call in a hot loop,
// and a call that returns a double boxes it (several times the arithmetic). Tests hold them to dexp.

/**
 * The sum of dexp(row[i] - m) over every i, for a row without +Infinity (-Infinity and NaN add 0),
 * in four lanes: value i goes to lane i mod 4, each lane summed in index order, and the result is
 * (lane0 + lane2) + (lane1 + lane3). That is the order the WebAssembly SIMD kernel
 * (kernels/step.ts, two f64x2 accumulators) sums in, so both give the same bits; this is the
 * reference it is tested against, and what runs where WebAssembly SIMD does not.
 */
export function dexpSum(row: Float32Array, m: number): number {
  const lanes = new Float64Array(4);
  for (let i = 0; i < row.length; i++) {
    const x = row[i]! - m;
    if (x >= DEXP_MIN) {
      const k = Math.floor(x * INV_LN2_64 + 0.5);
      const r = x - k * LN2_64_HI - k * LN2_64_LO;
      const p = 1 + r * (1 + r * (0.5 + r * (EXP_C3 + r * (EXP_C4 + r * EXP_C5))));
      const j = i & 3;
      lanes[j] = lanes[j]! + p * EXP2_64[k & 63]! * POW2[(k >> 6) + 1022]!;
    }
  }
  return lanes[0]! + lanes[2]! + (lanes[1]! + lanes[3]!);
}

/**
 * w[i] = dexp(row[i] * scale - m) for every i, 0 where row[i] is not finite (also +Infinity);
 * returns their sum in index order.
 */
export function dexpWeights(row: Float32Array, scale: number, m: number, w: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < row.length; i++) {
    const v = row[i]!;
    const x = v * scale - m;
    let wi = 0;
    if (x >= DEXP_MIN && v < Infinity) {
      const k = Math.floor(x * INV_LN2_64 + 0.5);
      const r = x - k * LN2_64_HI - k * LN2_64_LO;
      const p = 1 + r * (1 + r * (0.5 + r * (EXP_C3 + r * (EXP_C4 + r * EXP_C5))));
      wi = p * EXP2_64[k & 63]! * POW2[(k >> 6) + 1022]!;
    }
    w[i] = wi;
    sum += wi;
  }
  return sum;
}

const bits = new DataView(new ArrayBuffer(8));

/**
 * The natural log of a positive, finite, normal double (detbench takes it of a softmax sum, >= 1).
 * s = f * 2^e with f in [0.5, 1) (the exponent read from the bits); if f < sqrt(1/2): f = 2f, e = e - 1;
 * z = (f - 1) / (f + 1), q = z * z; t = q(1/3 + q(1/5 + ... + q(1/19))) (Horner, each 1/n a double
 * division); log = e * HI + (e * LO + (2z + 2z * t)). Anything else (0, negative, subnormal,
 * Infinity, NaN) gives NaN.
 */
export function dlog(s: number): number {
  if (!(s >= 2.2250738585072014e-308 && s < Infinity)) return NaN;
  bits.setFloat64(0, s);
  let e = ((bits.getUint32(0) >>> 20) & 0x7ff) - 1022;
  // s * 2^-e is exact: only the exponent changes (in two steps where 2^-e is below the normal range).
  let f = e > 1000 ? s * POW2[22]! * POW2[2022 - e]! : e > 0 ? s * POW2[1022 - e]! : s / POW2[1022 + e]!;
  if (f < Math.SQRT1_2) {
    f *= 2;
    e -= 1;
  }
  const z = (f - 1) / (f + 1);
  const q = z * z;
  const t = q * (1 / 3 + q * (1 / 5 + q * (1 / 7 + q * (1 / 9 + q * (1 / 11 + q * (1 / 13 + q * (1 / 15 + q * (1 / 17 + q * (1 / 19)))))))));
  const z2 = 2 * z;
  return e * LN2_HI + (e * LN2_LO + (z2 + z2 * t));
}

// AssemblyScript source of the greedy step's argmax (WebAssembly SIMD), built by
// `npm run build:kernels` into src/decode/argmax-wasm.ts. It returns what `argmax` in
// src/decode/sampling.ts returns: the first index of the largest value, NaN never chosen, 0 when
// no value is above -Infinity. (The first index whose value equals the maximum is exactly the one
// a strict `>` scan keeps, -0 and +0 being equal.) V8 does not vectorise that scan; here four
// lanes compare at a time, 8 times fewer instructions.

/** Where the caller puts the row (float32), as in kernels/lse.ts. */
export const ROW: usize = 65536;

/** The first index of the largest of the n floats at ROW (NaN left out; 0 when none is above -Infinity). */
export function argmax(n: i32): i32 {
  // pmax(acc, x) is `acc < x ? x : acc`: a NaN x never replaces the accumulator.
  let a = f32x4.splat(-Infinity);
  let b = f32x4.splat(-Infinity);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const p = ROW + (<usize>i << 2);
    a = f32x4.pmax(a, v128.load(p));
    b = f32x4.pmax(b, v128.load(p, 16));
  }
  a = f32x4.pmax(a, b);
  let top: f32 = -Infinity;
  for (let l = 0; l < 4; l++) {
    const v = f32x4.extract_lane(a, 0);
    if (v > top) top = v;
    a = v128.shuffle<i32>(a, a, 1, 2, 3, 0);
  }
  for (; i < n; i++) {
    const v = load<f32>(ROW + (<usize>i << 2));
    if (v > top) top = v;
  }
  if (top == -Infinity) return 0;
  // Then the first block of four that holds it, and the first index in it.
  const t = f32x4.splat(top);
  let j = 0;
  for (; j + 4 <= n; j += 4) if (v128.any_true(f32x4.eq(v128.load(ROW + (<usize>j << 2)), t))) break;
  for (; j < n; j++) if (load<f32>(ROW + (<usize>j << 2)) == top) return j;
  return 0;
}

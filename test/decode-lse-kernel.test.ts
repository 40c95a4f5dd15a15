import { describe, expect, it } from 'vitest';
import { dexpSum, dexpWeights, Mt19937 } from '../src/decode/index.ts';
import { lseKernel, sumDexp, weighRow } from '../src/decode/lse-kernel.ts';
import { LSE_WASM } from '../src/decode/lse-wasm.ts';
import { compileKernel } from '../scripts/build-kernels.ts';

describe('the WebAssembly SIMD log-sum-exp kernel', () => {
  it('runs here (Node 20 has WebAssembly SIMD)', () => {
    expect(lseKernel()).toBe('wasm-simd');
  });

  it('gives the bits of the TypeScript reference on rows of every length, with -Infinity, NaN and values far below the maximum', () => {
    const rng = new Mt19937(17);
    for (let t = 0; t < 300; t++) {
      const n = 1 + Math.floor(rng.random() * (t < 200 ? 40 : 70_000));
      const row = Float32Array.from({ length: n }, () => {
        const u = rng.random();
        return u < 0.02 ? -Infinity : u < 0.03 ? Number.NaN : u < 0.05 ? -1e30 : (rng.random() - 0.8) * 80;
      });
      let m = -Infinity;
      for (const v of row) if (v > m && v < Infinity) m = v;
      if (m === -Infinity) m = 0;
      expect(sumDexp(row, m), `n=${n}`).toBe(dexpSum(row, m));
    }
  });

  it('is what kernels/lse.ts compiles to (run npm run build:kernels after changing it)', () => {
    expect(Array.from(compileKernel())).toEqual(Array.from(LSE_WASM));
  }, 60_000);
});

describe("the kernel's sampling weights", () => {
  it('are the bits of dexpWeights, weight by weight and summed in id order, with every kind of non-finite logit', () => {
    const rng = new Mt19937(23);
    for (let t = 0; t < 200; t++) {
      const n = 1 + Math.floor(rng.random() * (t < 150 ? 40 : 50_000));
      const row = Float32Array.from({ length: n }, () => {
        const u = rng.random();
        return u < 0.02 ? -Infinity : u < 0.03 ? Number.NaN : u < 0.04 ? Infinity : (rng.random() - 0.8) * 80;
      });
      const scale = 1 / [0.3, 0.7, 1, 2.5][t % 4]!;
      // m is the largest finite logit, scaled (dexp is defined for x <= 0).
      let top = -Infinity;
      for (const v of row) if (v > top && v < Infinity) top = v;
      const m = (top === -Infinity ? 0 : top) * scale;
      const want = new Float64Array(n);
      const total = dexpWeights(row, scale, m, want);
      const got = weighRow(row, scale, m, new Float64Array(n));
      expect(got.total, `n=${n}`).toBe(total);
      expect(Array.from(got.w)).toEqual(Array.from(want));
    }
  });
});

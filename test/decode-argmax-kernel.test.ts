import { describe, expect, it } from 'vitest';
import { compileKernel } from '../scripts/build-kernels.ts';
import { argmaxKernel, greedyToken } from '../src/decode/argmax-kernel.ts';
import { ARGMAX_WASM } from '../src/decode/argmax-wasm.ts';
import { argmax, Mt19937 } from '../src/decode/index.ts';

describe('the WebAssembly SIMD argmax kernel', () => {
  it('runs here (Node 20 has WebAssembly SIMD)', () => {
    expect(argmaxKernel()).toBe('wasm-simd');
  });

  it('picks the index the TypeScript argmax picks: ties to the lowest id, NaN never, -0 and +0 alike, any length', () => {
    const rng = new Mt19937(29);
    for (let t = 0; t < 400; t++) {
      const n = t < 40 ? t : 1 + Math.floor(rng.random() * (t < 300 ? 64 : 70_000));
      // Few distinct values, so the maximum is often tied; a share of NaN, infinities and zeros.
      const row = Float32Array.from({ length: n }, () => {
        const u = rng.random();
        if (t % 50 === 0) return u < 0.5 ? Number.NaN : -Infinity;
        return u < 0.05 ? Number.NaN : u < 0.08 ? -Infinity : u < 0.09 ? (t % 7 === 0 ? Infinity : 0) : u < 0.1 ? -0 : Math.floor(rng.random() * 6) - 3;
      });
      expect(greedyToken(row), `n=${n} t=${t}`).toBe(argmax(row));
    }
  });

  it('finds the maximum in each position of a SIMD block and in the tail', () => {
    for (const n of [1, 3, 4, 7, 8, 9, 15, 16, 17, 33]) {
      for (let at = 0; at < n; at++) {
        const row = new Float32Array(n).fill(-1);
        row[at] = 2;
        expect(greedyToken(row)).toBe(at);
      }
    }
  });

  it('is what kernels/argmax.ts compiles to (run npm run build:kernels after changing it)', () => {
    expect(Array.from(compileKernel('kernels/argmax.ts'))).toEqual(Array.from(ARGMAX_WASM));
  }, 60_000);
});

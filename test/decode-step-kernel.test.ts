import { afterEach, describe, expect, it } from 'vitest';
import { compileKernel } from '../scripts/build-kernels.ts';
import { dexpSum, dexpWeights, Mt19937, type SampleSettings, sampleWithDraw, summarizeRow } from '../src/decode/index.ts';
import { hashFloat32, logSumExp } from '../src/decode/logits.ts';
import { hashFloat32Reference } from '../src/decode/row-hash.ts';
import { leaders, scratch } from '../src/decode/sampling-order.ts';
import { KERNEL_TOP_MAX, stepKernel, stepKernelKind, useTypeScriptReference } from '../src/decode/step-kernel.ts';
import { STEP_WASM } from '../src/decode/step-wasm.ts';
import { logSumExpReference, summarizeRowReference } from '../src/decode/summary-reference.ts';

/**
 * Rows with every kind of value the kernel must treat as the TypeScript does; one in three of
 * them dense (finite, within 80 of each other: the kernel's faster path) and one in three finite
 * but with values far below the rest.
 */
function oddRow(rng: Mt19937, n: number, withPlusInf: boolean): Float32Array {
  const shape = Math.floor(rng.random() * 3);
  if (shape === 0) return Float32Array.from({ length: n }, () => (rng.random() - 0.8) * 80);
  if (shape === 1) return Float32Array.from({ length: n }, () => (rng.random() < 0.01 ? -800 - rng.random() * 1e6 : (rng.random() - 0.8) * 80));
  return Float32Array.from({ length: n }, () => {
    const u = rng.random();
    if (u < 0.02) return -Infinity;
    if (u < 0.03) return Number.NaN;
    if (u < 0.035 && withPlusInf) return Infinity;
    if (u < 0.05) return -1e30;
    if (u < 0.06) return -0;
    // Coarse values tie often.
    if (u < 0.2) return Math.round((rng.random() - 0.5) * 8);
    return (rng.random() - 0.8) * 80;
  });
}

const kernel = stepKernel()!;
afterEach(() => useTypeScriptReference(false));

describe('the WebAssembly SIMD step kernel', () => {
  it('runs here (Node 20 has WebAssembly SIMD)', () => {
    expect(stepKernelKind()).toBe('wasm-simd');
  });

  it("gives the TypeScript reference's summary bit for bit, on rows of every length, with ties, ±0, NaN and ±Infinity, for every k", () => {
    const rng = new Mt19937(17);
    for (let t = 0; t < 400; t++) {
      const n = t < 10 ? t : 1 + Math.floor(rng.random() * (t < 300 ? 60 : 70_000));
      const row = oddRow(rng, n, t % 3 === 0);
      if (t % 7 === 0) row.fill(-Infinity, 0, Math.min(n, 9));
      const k = [1, 2, 3, 5, 10, 40, KERNEL_TOP_MAX, KERNEL_TOP_MAX + 1][t % 8]!;
      expect(summarizeRow(row, k), `n=${n} k=${k}`).toEqual(summarizeRowReference(row, k));
    }
  });

  it('summarises a row of nothing but -Infinity, NaN or +Infinity as the reference does', () => {
    for (const fill of [-Infinity, Number.NaN, Infinity]) {
      for (const n of [1, 2, 7, 64]) {
        const row = new Float32Array(n).fill(fill);
        expect(summarizeRow(row, 5), `${fill} n=${n}`).toEqual(summarizeRowReference(row, 5));
      }
    }
  });

  it("gives dexpSum's bits and the reference log-sum-exp, on rows of every length", () => {
    const rng = new Mt19937(19);
    for (let t = 0; t < 300; t++) {
      const n = 1 + Math.floor(rng.random() * (t < 200 ? 40 : 70_000));
      const row = oddRow(rng, n, false);
      let m = -Infinity;
      for (const v of row) if (v > m && v < Infinity) m = v;
      if (m === -Infinity) m = 0;
      kernel.put(row);
      expect(kernel.sumDexp(m), `n=${n}`).toBe(dexpSum(row, m));
      expect(logSumExp(row), `n=${n}`).toBe(logSumExpReference(row));
    }
  });

  it('hashes a row alone as the TypeScript reference does, and as the summary records it', () => {
    const rng = new Mt19937(37);
    for (let t = 0; t < 200; t++) {
      const n = t < 20 ? t : 1 + Math.floor(rng.random() * (t < 150 ? 100 : 70_000));
      const row = oddRow(rng, n, true);
      const h = hashFloat32(row);
      expect(h, `n=${n}`).toBe(hashFloat32Reference(row));
      expect(summarizeRow(row, 3).hash, `n=${n}`).toBe(h);
    }
  });

  it("lists the sampler's leaders and counts the candidates as the TypeScript does", () => {
    const rng = new Mt19937(29);
    const s = scratch(70_000);
    for (let t = 0; t < 300; t++) {
      const n = 1 + Math.floor(rng.random() * (t < 200 ? 80 : 70_000));
      const row = oddRow(rng, n, true);
      const k = [1, 2, 10, 64, 256][t % 5]!;
      const finite = leaders(row, k, s);
      kernel.put(row);
      expect(kernel.leaders(k), `n=${n} k=${k}`).toBe(finite);
      const listed = Math.min(k, finite);
      expect(Array.from(kernel.top().ids.subarray(0, listed)), `n=${n} k=${k}`).toEqual(Array.from(s.leaderIds.subarray(0, listed)));
    }
  });
});

describe("the kernel's sampling weights", () => {
  it('are the bits of dexpWeights, weight by weight, summed in id order, and as running sums, with every kind of non-finite logit', () => {
    const rng = new Mt19937(23);
    for (let t = 0; t < 200; t++) {
      const n = 1 + Math.floor(rng.random() * (t < 150 ? 40 : 50_000));
      const row = oddRow(rng, n, true);
      const scale = 1 / [0.3, 0.7, 1, 2.5][t % 4]!;
      // m is the largest finite logit, scaled (dexp is defined for x <= 0).
      let top = -Infinity;
      for (const v of row) if (v > top && v < Infinity) top = v;
      const m = (top === -Infinity ? 0 : top) * scale;
      const want = new Float64Array(n);
      const total = dexpWeights(row, scale, m, want);
      kernel.put(row);
      // As the sampler does: leaders first (they tell the kernel whether the row is dense).
      kernel.leaders(1);
      expect(kernel.weightTotal(scale, m), `n=${n}`).toBe(total);
      const got = kernel.weights(scale, m);
      expect(got.total, `n=${n}`).toBe(total);
      expect(Array.from(got.w)).toEqual(Array.from(want));
      const { prefix } = kernel.weightPrefix(scale, m);
      let running = 0;
      const sums = Array.from(want, (w) => (running += w));
      expect(Array.from(prefix)).toEqual(sums);
    }
  });

  it('make the sampler pick what it picks in TypeScript alone', () => {
    const rng = new Mt19937(31);
    for (let t = 0; t < 150; t++) {
      const n = 1 + Math.floor(rng.random() * (t < 100 ? 300 : 40_000));
      const row = oddRow(rng, n, t % 4 === 0);
      const s: SampleSettings = { kind: 'sample', temperature: [0.5, 1, 2][t % 3]!, topK: [0, 0, 3, 300][t % 4]!, topP: [1, 0.9, 0.5][t % 3]!, seed: 0 };
      const draws = [rng.random(), rng.random(), 0, 1 - 2 ** -53];
      const onKernel = draws.map((u) => sampleWithDraw(row, s, u));
      useTypeScriptReference(true);
      const inTs = draws.map((u) => sampleWithDraw(row, s, u));
      useTypeScriptReference(false);
      expect(onKernel, `n=${n} ${JSON.stringify(s)}`).toEqual(inTs);
    }
  });
});

describe('the committed kernel', () => {
  it('is what kernels/step.ts compiles to (run npm run build:kernels after changing it)', () => {
    expect(Array.from(compileKernel())).toEqual(Array.from(STEP_WASM));
  }, 60_000);
});

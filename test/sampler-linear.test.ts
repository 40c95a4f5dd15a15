import { describe, expect, it } from 'vitest';
import { argmax, dexp, Mt19937, type SampleSettings, sampleWithDraw } from '../src/decode/index.ts';
import { useTypeScriptReference } from '../src/decode/step-kernel.ts';

/** The documented algorithm written out plainly (full sort), as scripts/sampler_reference.py has it. */
function plainSample(row: Float32Array, s: SampleSettings, u01: number): number {
  const cand = [...row.keys()].filter((i) => Number.isFinite(row[i]!));
  if (cand.length === 0) return argmax(row);
  let order = cand.sort((a, b) => row[b]! - row[a]! || a - b);
  if (s.topK > 0 && s.topK < order.length) order = order.slice(0, s.topK);
  const scale = 1 / s.temperature;
  const m = row[order[0]!]! * scale;
  const w = new Map(order.map((i) => [i, dexp(row[i]! * scale - m)]));
  let total = 0;
  for (const i of [...order].sort((a, b) => a - b)) total += w.get(i)!;
  let count = order.length;
  if (s.topP < 1) {
    let running = 0;
    for (let r = 0; r < order.length; r++) {
      running += w.get(order[r]!)!;
      if (running / total >= s.topP) {
        count = r + 1;
        break;
      }
    }
  }
  const kept = order.slice(0, count).sort((a, b) => a - b);
  let keptTotal = 0;
  for (const i of kept) keptTotal += w.get(i)!;
  const u = u01 * keptTotal;
  let running = 0;
  let last = -1;
  for (const i of kept) {
    if (w.get(i)! > 0) {
      running += w.get(i)!;
      if (u < running) return i;
      last = i;
    }
  }
  return last;
}

describe('linear-time sampler', () => {
  it('picks what the plainly written algorithm picks, on rows of every shape', () => {
    const rng = new Mt19937(2026);
    const shapes = ['normal', 'flat', 'ties', 'spread', 'few-finite'] as const;
    let checked = 0;
    for (let t = 0; t < 400; t++) {
      const shape = shapes[t % shapes.length]!;
      const n = 1 + Math.floor(rng.random() * 3000);
      const row = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const u = rng.random();
        row[i] =
          shape === 'flat'
            ? 1.5
            : shape === 'ties'
              ? Math.floor(u * 6)
              : shape === 'spread'
                ? (u - 0.5) * 4000
                : shape === 'few-finite'
                  ? u < 0.97
                    ? -Infinity
                    : u * 10
                  : (u - 0.5) * 20;
      }
      if (t % 9 === 0) row[Math.floor(rng.random() * n)] = Number.NaN;
      if (t % 13 === 0) row[0] = -0;
      const settings: SampleSettings = {
        kind: 'sample',
        temperature: [0.05, 0.7, 1, 3, 1e6][t % 5]!,
        topK: [0, 1, 5, 40, 2999][Math.floor(rng.random() * 5)]!,
        topP: [1, 0.999, 0.9, 0.5, 0.01][Math.floor(rng.random() * 5)]!,
        seed: 0,
      };
      for (const u of [rng.random(), rng.random(), 0, 1 - 2 ** -53]) {
        expect(sampleWithDraw(row, settings, u), `${shape} n=${n} ${JSON.stringify(settings)} u=${u}`).toBe(plainSample(row, settings, u));
        checked++;
      }
    }
    expect(checked).toBe(1600);
  });

  it("picks the same tokens when top-p's prefix is longer than the first leaders listed (16), than the wider list (64), or neither", () => {
    const rng = new Mt19937(77);
    for (const head of [8, 20, 40, 63, 64, 65, 120]) {
      for (const reference of [false, true]) {
        useTypeScriptReference(reference);
        const row = Float32Array.from({ length: 5000 }, () => -20 + rng.random());
        for (let h = 0; h < head; h++) row[Math.floor(rng.random() * 5000)] = 5 + rng.random() * 0.1;
        for (const topP of [0.5, 0.9, 0.99]) {
          const s: SampleSettings = { kind: 'sample', temperature: 1, topK: 0, topP, seed: 0 };
          for (const u of [rng.random(), rng.random(), 0, 1 - 2 ** -53])
            expect(sampleWithDraw(row, s, u), `head=${head} p=${topP} u=${u} reference=${reference}`).toBe(plainSample(row, s, u));
        }
      }
    }
    useTypeScriptReference(false);
  });

  it('picks the same tokens from a row of more than 2^21 logits', () => {
    const n = 2 ** 21 + 3;
    const row = new Float32Array(n).fill(-5);
    row[n - 1] = 4;
    row[7] = 4;
    row[2 ** 21 + 1] = 3.5;
    const s: SampleSettings = { kind: 'sample', temperature: 1, topK: 3, topP: 1, seed: 0 };
    for (const u of [0, 0.3, 0.6, 0.99]) expect(sampleWithDraw(row, s, u)).toBe(plainSample(row, s, u));
    expect(sampleWithDraw(row, { ...s, topK: 1 }, 0.99)).toBe(7);
  });
});

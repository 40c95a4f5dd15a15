import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { argmax, Mt19937, type RowSummary, type Sampling, sampleToken, summarizeRow } from '../src/decode/index.ts';
import { useTypeScriptReference } from '../src/decode/step-kernel.ts';

interface Golden {
  schemaVersion: number;
  rows: (number | null)[][];
  summaries: RowSummary[];
  cases: (Sampling & { expected: number[] })[];
}

/** Fixture written by scripts/sampler_reference.py, an independent Python implementation. */
const golden: Golden = JSON.parse(readFileSync(new URL('./fixtures/sampler-golden.json', import.meta.url), 'utf8'));
const goldenRows = golden.rows.map((r) => Float32Array.from(r, (v) => (v === null ? -Infinity : v)));

describe.each([
  ['on the WebAssembly SIMD kernel', false],
  ['in the TypeScript reference alone', true],
] as const)('sampler golden fixtures (Python reference), %s', (_where, reference) => {
  beforeEach(() => useTypeScriptReference(reference));
  afterEach(() => useTypeScriptReference(false));

  it('were written for the current algorithm (schemaVersion 2)', () => {
    expect(golden.schemaVersion).toBe(2);
  });

  for (const c of golden.cases) {
    const label = c.kind === 'greedy' ? 'greedy' : `T=${c.temperature} k=${c.topK} p=${c.topP} seed=${c.seed}`;
    it(`picks the Python reference's tokens: ${label}`, () => {
      const rng = c.kind === 'sample' ? new Mt19937(c.seed) : null;
      const picked = goldenRows.map((row) => (c.kind === 'greedy' ? argmax(row) : sampleToken(row, c, rng!)));
      expect(picked).toEqual(c.expected);
    });
  }

  it('records the Python reference summaries bit for bit (top-5, dexp/dlog logprobs, margin, hash)', () => {
    expect(goldenRows.map((row) => summarizeRow(row, 5))).toEqual(golden.summaries);
  });

  it('breaks exact ties toward the lowest id', () => {
    const row = new Float32Array([1, 5, 3, 5, 5]);
    expect(argmax(row)).toBe(1);
    // top-k 1 keeps only the lowest-id maximum, whatever the draw.
    const rng = new Mt19937(7);
    for (let i = 0; i < 20; i++) expect(sampleToken(row, { kind: 'sample', temperature: 1, topK: 1, topP: 1, seed: 7 }, rng)).toBe(1);
  });
});

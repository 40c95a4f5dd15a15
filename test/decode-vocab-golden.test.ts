import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { realisticRow } from '../scripts/realistic-logits.ts';
import { Mt19937, sampleWithDraw, summarizeRow } from '../src/decode/index.ts';
import { useTypeScriptReference } from '../src/decode/step-kernel.ts';
import { vocabGolden } from './helpers/vocab-golden.ts';

describe.each([
  ['on the WebAssembly SIMD kernel', false],
  ['in the TypeScript reference alone', true],
] as const)('records and samples at real vocabulary sizes match the Python reference, %s', (_where, reference) => {
  beforeEach(() => useTypeScriptReference(reference));
  afterEach(() => useTypeScriptReference(false));

  for (const g of vocabGolden.rows) {
    const row = realisticRow(g.vocab, g.seed);

    it(`summarises a ${g.vocab}-logit row bit for bit (top-10, logprobs, margin, hash)`, () => {
      expect(summarizeRow(row, 10)).toEqual(g.summary);
    });

    it(`picks the reference's tokens from a ${g.vocab}-logit row for every setting and draw`, () => {
      // The draws are Python's random.Random(seed + 1).random() sequence (then the edges 0 and 1 - 2^-53).
      for (const c of g.cases) {
        const rng = new Mt19937(g.seed + 1);
        expect(c.draws.slice(0, 6)).toEqual(Array.from({ length: 6 }, () => rng.random()));
        const picked = c.draws.map((u) => sampleWithDraw(row, { kind: 'sample', temperature: c.temperature, topK: c.topK, topP: c.topP, seed: 0 }, u));
        expect({ setting: [c.temperature, c.topK, c.topP], picked }).toEqual({ setting: [c.temperature, c.topK, c.topP], picked: c.expected });
      }
    });
  }
});

import { readFileSync } from 'node:fs';
import type { RowSummary } from '../../src/decode/index.ts';

/** One committed large row: rebuilt from its seed in the tests and in scripts/sampler_reference.py. */
export interface VocabGoldenRow {
  vocab: number;
  seed: number;
  summary: RowSummary;
  cases: { temperature: number; topK: number; topP: number; draws: number[]; expected: number[] }[];
}

/** Written by `python3 scripts/sampler_reference.py vocab`; checked in Node and in the browser page. */
export const vocabGolden: { schemaVersion: number; rows: VocabGoldenRow[] } = JSON.parse(
  readFileSync(new URL('../fixtures/vocab-golden.json', import.meta.url), 'utf8'),
);

// The markov control: a table it can read back exactly, logits from counts that a hand
// computation reproduces, the same tokens and bitwise-equal logits alone, batched and repeated,
// and a damaged table refused with the file named.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runSuite } from '../api/index.ts';
import { manifestOf } from '../runners/index.ts';
import { markovRunner } from '../runners/markov/runner.ts';
import { BACKOFF, ngramLogits } from '../runners/markov/score.ts';
import { decodeTable, encodeTable, type NgramCounts } from '../runners/markov/table.ts';
import { readResults } from '../src/results/read.ts';
import type { CompletedRecord } from '../src/results/record.ts';
import { detbenchRejection } from './helpers/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'detbench-markov-'));
/** Vocabulary 4: unigrams 0×3, 1×2, 2×1; bigrams 0→1 ×2, 1→0 ×1; trigram (0,1)→2 ×1. */
const SMALL: NgramCounts = {
  vocab: 4,
  order: 3,
  entries: [
    [
      [0, 3],
      [1, 2],
      [2, 1],
    ],
    [
      [0, 1, 2],
      [1, 0, 1],
    ],
    [[0, 1, 2, 1]],
  ],
};

describe('markov n-gram table', () => {
  it('reads back what it wrote', () => {
    const t = decodeTable(encodeTable(SMALL));
    expect(t.vocab).toBe(4);
    expect([...t.unigram]).toEqual([3, 2, 1, 0]);
    expect(t.unigramTotal).toBe(6);
    expect(t.levels[1]!.entries).toBe(2);
    expect(t.levels[2]!.entries).toBe(1);
  });

  it('logits are logs of stupid-backoff scores over counts', () => {
    const t = decodeTable(encodeTable(SMALL));
    const out = new Float32Array(4);
    ngramLogits(t, [0, 1], 3, out);
    // After (0, 1): token 2 was seen once out of once; others back off to the bigram after 1 (1→0 once of once), then the unigram.
    const uni = (c: number) => (c + 1) / (6 + 4);
    const expected = [BACKOFF * 1, BACKOFF * (BACKOFF * uni(2)), 1, BACKOFF * (BACKOFF * uni(0))].map((x) => Math.fround(Math.log(x)));
    expect([...out]).toEqual(expected);
    ngramLogits(t, [0, 1], 1, out);
    expect([...out]).toEqual([3, 2, 1, 0].map((c) => Math.fround(Math.log(uni(c)))));
  });

  it('refuses a damaged table, naming the file', async () => {
    const bad = join(dir, 'bad.bin.gz');
    writeFileSync(bad, gzipSync(encodeTable(SMALL).subarray(0, 30)));
    const err = await detbenchRejection(markovRunner.open(undefined, manifestOf('markov').options.parse({ table: bad })));
    expect(err.code).toBe('MODEL_INVALID');
    expect(err.message).toContain(bad);
    expect(err.message).toContain('truncated');
    const probe = await markovRunner.probe(manifestOf('markov').options.parse({ table: join(dir, 'missing.bin.gz') }));
    expect(probe).toMatchObject({ available: false });
  });

  it('the shipped table: identical tokens and bitwise-equal logits alone, batched and repeated', async () => {
    const suite = join(dir, 'mk.yaml');
    writeFileSync(
      suite,
      [
        'id: mk',
        `model: ${join(process.cwd(), 'models/detbench-tiny')}`,
        'prompts:',
        '  - { id: a, text: "A list in Python is" }',
        '  - { id: b, text: "When an exception is raised," }',
        '  - { id: c, text: "The" }',
        'decoding: { greedy: true, temperature: [0.8], top_k: [10], seed: [7] }',
        'max_new_tokens: 12',
        'repetitions: 2',
        'batch_sizes: [1, 3]',
        'runners:',
        '  - { id: markov, type: markov }',
      ].join('\n'),
    );
    const out = join(dir, 'mk.jsonl');
    await runSuite({ suiteFile: suite, outFile: out });
    const recs = readResults(out) as CompletedRecord[];
    expect(recs).toHaveLength(24);
    expect(recs.every((r) => r.status === 'completed' && r.model?.name === 'markov-3gram' && r.tokens.length === 12)).toBe(true);
    const key = (r: CompletedRecord) => `${r.prompt.id}/${r.setting.id}`;
    const first = new Map<string, CompletedRecord>();
    for (const r of recs) {
      const f = first.get(key(r));
      if (!f) first.set(key(r), r);
      else {
        expect(r.tokens).toEqual(f.tokens);
        expect(r.steps.hash).toEqual(f.steps.hash);
      }
    }
    expect(first.size).toBe(6);
  });
});

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.ts';

/**
 * A sampled run on a real 32,000-token model, replayed token for token by the independent Python
 * reference (`scripts/sampler_reference.py replay`) from the captured logits and the recorded
 * draws, summaries included (the README's "Replaying a record in Python").
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MODEL = path.join(ROOT, '..', 'shared', 'real-models', 'hf-layout-tiny-llama-q4');
const python = spawnSync('python3', ['--version']).status === 0;
const skip = !existsSync(MODEL)
  ? `${MODEL} does not exist (real ONNX decoders from other tools; see the README, "Bringing your own model")`
  : !python
    ? 'python3 is not on PATH'
    : '';
if (skip) console.warn(`Python replay of a real model's sampled run skipped: ${skip}`);

describe.skipIf(skip !== '')('a sampled run on hf-layout-tiny-llama-q4 (vocabulary 32,000) replayed in Python', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'detbench-replay-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the recorded token at every step and the recorded summary (top ids, logits, logprobs, margin, hash) bit for bit', async () => {
    const suite = path.join(dir, 'suite.yaml');
    writeFileSync(
      suite,
      [
        'id: replay',
        `model: ${JSON.stringify(MODEL)}`,
        'prompts:',
        '  - { id: p, text: "The quick brown fox" }',
        'decoding:',
        '  greedy: true',
        '  temperature: [0.8, 1.5]',
        '  top_k: [0, 40]',
        '  top_p: [1.0, 0.9]',
        '  seed: [3]',
        'max_new_tokens: 10',
        'repetitions: 1',
        'top_logprobs: 5',
        'teacher_forcing: false',
        'runners:',
        '  - { id: cpu, type: node-cpu, options: { intra_op_threads: 1, precision: q4 } }',
        '',
      ].join('\n'),
    );
    const out = path.join(dir, 'out');
    const run = await cli('run', suite, '-o', out, '--capture', 'f32');
    expect(run.code, run.err).toBe(0);
    const results = path.join(out, 'results.jsonl');
    const records = readFileSync(results, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { status: string; tokens: number[]; steps: { draw: (number | null)[] } });
    // Greedy plus 2 × 2 × 2 sampled settings, every one completed.
    expect(records.map((r) => r.status)).toEqual(Array(9).fill('completed'));
    const replay = spawnSync('python3', [path.join(ROOT, 'scripts/sampler_reference.py'), 'replay', results], { encoding: 'utf8', timeout: 240_000 });
    expect(replay.status, replay.stderr).toBe(0);
    const report = JSON.parse(replay.stdout) as { records: number; sampledSteps: number; greedySteps: number; summaries: number; mismatches: unknown[] };
    expect(report).toEqual({ records: 9, sampledSteps: 80, greedySteps: 10, summaries: 90, mismatches: [] });
  }, 300_000);
});

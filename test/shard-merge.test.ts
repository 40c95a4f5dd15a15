import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { CaptureReader, captureFileFor } from '../src/results/capture.ts';
import { readResults } from '../src/results/read.ts';
import type { CompletedRecord, ResultRecord } from '../src/results/record.ts';
import { cli } from './helpers/cli.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../bin/detbench.mjs', import.meta.url));

let dir: string;
let suite: string;

function suiteYaml(id: string, model: string): string {
  return [
    `id: ${id}`,
    `model: ${model}`,
    'prompts:',
    '  - text: hello',
    '  - text: world peace',
    '  - text: the quick brown fox',
    'decoding: { greedy: true, temperature: [0.9], seed: [3] }',
    'max_new_tokens: 4',
    'repetitions: 2',
    'runners:',
    '  - { id: ref, type: node-cpu }',
    '  - { id: two, type: node-cpu, options: { intra_op_threads: 2 } }',
  ].join('\n');
}

/** What must be equal between a sharded and an unsharded run: ids, tokens and logits hashes. */
function essence(records: ResultRecord[]): [string, string, number[], string[]][] {
  return records
    .map((r): [string, string, number[], string[]] => [
      r.id,
      r.status,
      r.status === 'completed' ? r.tokens : [],
      r.status === 'completed' ? (r as CompletedRecord).steps.hash : [],
    ])
    .sort((a, b) => a[0].localeCompare(b[0]));
}

const shardFile = (i: number) => join(dir, `shard-${i}`, 'results.jsonl');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'detbench-shards-'));
  suite = join(dir, 'suite.yaml');
  writeFileSync(suite, suiteYaml('sh', await tinyModelDir()));
  // Four shard processes, as four machines would run them, and one unsharded run.
  await Promise.all([
    ...[1, 2, 3, 4].map((i) => run(process.execPath, [BIN, 'run', suite, '--shard', `${i}/4`, '--capture', 'f32', '-o', join(dir, `shard-${i}`)])),
    run(process.execPath, [BIN, 'run', suite, '-o', join(dir, 'whole')]),
  ]);
}, 120_000);

describe('sharded runs', () => {
  it('split the cells: every shard has its planned records and carries its shard', () => {
    const sizes = [1, 2, 3, 4].map((i) => {
      const rs = readResults(shardFile(i));
      for (const r of rs) expect(r.shard).toEqual({ index: i, count: 4, planned: rs.length });
      return rs.length;
    });
    // 3 prompts × 2 settings = 6 units, round-robin: 2, 2, 1, 1; a unit is 2 runners × 2 reps + 2 teacher-forced.
    expect(sizes).toEqual([12, 12, 6, 6]);
  });

  it('merge into exactly the unsharded run: same ids, same tokens, same hashes', async () => {
    const merged = join(dir, 'merged.jsonl');
    const r = await cli('merge', ...[4, 2, 1, 3].map(shardFile), '-o', merged);
    expect(r.code).toBe(0);
    expect(r.err).toContain('merged 4 shards, 36 records');
    expect(essence(readResults(merged))).toEqual(essence(readResults(join(dir, 'whole', 'results.jsonl'))));
    // In shard order, each shard's lines as written.
    expect(readFileSync(merged, 'utf8')).toBe([1, 2, 3, 4].map((i) => readFileSync(shardFile(i), 'utf8')).join(''));
    // The shards' capture sidecars merge alongside: every record's rows, checked against its hashes.
    const side = new CaptureReader(captureFileFor(merged));
    for (const rec of readResults(merged)) if (rec.status === 'completed') expect(side.rows(rec)!.steps).toBe(rec.tokens.length);
    // The merged file holds every shard: complete by itself, and not to be given beside a shard.
    expect((await cli('report', merged, '-o', join(dir, 'merged-report'))).code).toBe(0);
    const again = await cli('gate', merged, shardFile(2));
    expect(again.code).toBe(2);
    expect(again.err).toContain(`shard 2/4 given twice: ${merged}, ${shardFile(2)}`);
  });

  it('report and gate read the shards directly', async () => {
    const files = [1, 2, 3, 4].map(shardFile);
    expect((await cli('report', ...files, '-o', join(dir, 'report'))).code).toBe(0);
    expect((await cli('gate', ...files, '--allow-hard-divergence', '--min-repeat-exact', '0')).code).toBe(0);
  });

  it('refuse a missing shard, a doubled one and an unfinished one, naming them, with exit 2 and no output', async () => {
    const out = join(dir, 'bad.jsonl');
    const missing = await cli('merge', shardFile(1), shardFile(2), shardFile(4), '-o', out);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('missing shard 3 of 4');

    // A copy of shard 2 under another name is shard 2 twice.
    const copy = join(dir, 'copy-of-2.jsonl');
    writeFileSync(copy, readFileSync(shardFile(2)));
    const twice = await cli('merge', shardFile(1), shardFile(2), shardFile(3), shardFile(4), copy, '-o', out);
    expect(twice.code).toBe(2);
    expect(twice.err).toContain(`shard 2/4 given twice: ${shardFile(2)}, ${copy}`);

    // A shard whose run stopped early.
    const cut = join(dir, 'cut-3.jsonl');
    writeFileSync(cut, `${readFileSync(shardFile(3), 'utf8').split('\n').slice(0, 4).join('\n')}\n`);
    const unfinished = await cli('merge', shardFile(1), shardFile(2), cut, shardFile(4), '-o', out);
    expect(unfinished.code).toBe(2);
    expect(unfinished.err).toContain(`${cut}: shard 3/4 has 4 of its 6 records`);
    expect((await cli('report', shardFile(1), shardFile(2), cut, shardFile(4), '-o', join(dir, 'bad-report'))).code).toBe(2);
    expect((await cli('gate', shardFile(1), shardFile(2), cut, shardFile(4))).code).toBe(2);

    // Unsharded results are not shards.
    expect((await cli('merge', join(dir, 'whole', 'results.jsonl'), '-o', out)).err).toContain('no record carries a shard');
    expect(existsSync(out)).toBe(false);
  });

  it('refuse shards of another suite', async () => {
    const other = join(dir, 'other.yaml');
    writeFileSync(other, suiteYaml('sh2', await tinyModelDir()));
    expect((await cli('run', other, '--shard', '3/4', '-o', join(dir, 'other-3'))).code).toBe(0);
    const r = await cli('merge', shardFile(1), shardFile(2), join(dir, 'other-3', 'results.jsonl'), shardFile(4), '-o', join(dir, 'mixed.jsonl'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/suite sh2 \(hash .*\) is not the suite of .*shard-1\/results\.jsonl \(sh/);
  });

  it('refuse a shard of the same suite id whose content changed (another suite hash)', async () => {
    const changed = join(dir, 'changed.yaml');
    writeFileSync(changed, suiteYaml('sh', await tinyModelDir()).replace('max_new_tokens: 4', 'max_new_tokens: 3'));
    expect((await cli('run', changed, '--shard', '3/4', '-o', join(dir, 'changed-3'))).code).toBe(0);
    const r = await cli('merge', shardFile(1), shardFile(2), join(dir, 'changed-3', 'results.jsonl'), shardFile(4), '-o', join(dir, 'changed.jsonl'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/suite sh \(hash [0-9a-f]{64}\) is not the suite of .*shard-1\/results\.jsonl \(sh, hash [0-9a-f]{64}\)/);
    expect(existsSync(join(dir, 'changed.jsonl'))).toBe(false);
  });

  it('refuse an index outside 1..n and more shards than prompt × setting units', async () => {
    expect((await cli('run', suite, '--shard', '5/4', '-o', join(dir, 'x'))).err).toContain('--shard: shard 5 is outside 1..4');
    const r = await cli('run', suite, '--shard', '1/7', '-o', join(dir, 'y'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('has 6 prompt × setting unit(s), so at most 6 shard(s)');
  });
});

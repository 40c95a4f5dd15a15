import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runSuite } from '../api/index.ts';
import { readResults } from '../src/results/read.ts';
import type { CompletedRecord } from '../src/results/record.ts';
import { detbenchRejection } from './helpers/errors.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

let dir: string;
let modelDir: string;

function writeSuite(name: string, extra: string[] = [], runners?: string[]): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `id: ${name}`,
      `model: ${modelDir}`,
      'prompts:',
      '  - { id: a, text: "hello world" }',
      '  - { id: b, text: "the quick brown fox jumps" }',
      '  - { id: c, text: "x" }',
      'decoding: { greedy: true, temperature: [0.9], top_k: [8], seed: [3] }',
      'max_new_tokens: 6',
      'repetitions: 2',
      'top_logprobs: 4',
      ...extra,
      'runners:',
      ...(runners ?? [
        '  - { id: ref, type: node-cpu, options: { intra_op_threads: 1 } }',
        '  - { id: two, type: node-cpu, options: { intra_op_threads: 2 } }',
      ]),
    ].join('\n'),
  );
  return file;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'detbench-run-'));
  modelDir = await tinyModelDir();
});

describe('runSuite on node-cpu', () => {
  it('writes one record per cell plus teacher-forced records, each with the per-step data', async () => {
    const out = join(dir, 'basic', 'results.jsonl');
    const summary = await runSuite({ suiteFile: writeSuite('basic'), outFile: out });
    const records = readResults(out);
    // 3 prompts x 2 settings x 2 repetitions x 2 runners free, + the same for the non-reference runner forced.
    expect(records).toHaveLength(3 * 2 * 2 * 2 + 3 * 2 * 2);
    expect(summary).toMatchObject({ completed: records.length, errored: 0, skipped: 0 });
    const r = records[0] as CompletedRecord;
    expect(r.status).toBe('completed');
    expect(r.schemaVersion).toBe(3);
    expect(r.suite.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(r.runner.id).toBe('ref');
    expect(r.provider).toEqual({ requested: 'cpu', effective: 'cpu' });
    expect(r.model?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r.tokens.length).toBeGreaterThan(0);
    expect(r.steps.topIds[0]).toHaveLength(4);
    expect(r.steps.hash[0]).toMatch(/^[0-9a-f]{16}$/);
    expect(r.tokenTexts).toHaveLength(r.tokens.length);
    expect(r.timings.stepMs).toHaveLength(r.tokens.length);
    expect(r.profile.fingerprint.cpuCores).toBeGreaterThan(0);

    const forced = records.filter((x) => x.mode === 'teacher-forced') as CompletedRecord[];
    expect(forced).toHaveLength(12);
    for (const f of forced) {
      const ref = records.find((x) => x.id === f.referenceId) as CompletedRecord;
      expect(ref.runner.id).toBe('ref');
      expect(f.steps.forced).toEqual(ref.tokens);
    }
  });

  it('gives the same tokens for the same seed across repetitions and runners (same CPU, same kernels)', async () => {
    const records = readResults(join(dir, 'basic', 'results.jsonl')).filter((r) => r.mode === 'free') as CompletedRecord[];
    const byCell = new Map<string, string[]>();
    for (const r of records) {
      const key = `${r.prompt.id}/${r.setting.id}`;
      byCell.set(key, [...(byCell.get(key) ?? []), JSON.stringify(r.tokens)]);
    }
    for (const [key, runs] of byCell) expect(new Set(runs).size, key).toBe(1);
  });

  it('keeps results independent of batch composition (batch of 3 vs alone)', async () => {
    const out = join(dir, 'batched', 'results.jsonl');
    await runSuite({ suiteFile: writeSuite('batched', ['batch_sizes: [1, 3]', 'teacher_forcing: false'], ['  - { id: ref, type: node-cpu }']), outFile: out });
    const records = readResults(out) as CompletedRecord[];
    for (const r of records.filter((x) => x.batchSize === 3)) {
      const alone = records.find((x) => x.batchSize === 1 && x.prompt.id === r.prompt.id && x.setting.id === r.setting.id && x.repetition === r.repetition)!;
      expect(r.batch.size).toBe(3);
      // Same tokens; logits may differ in the last bits with padding, which the hashes would show.
      expect(r.tokens).toEqual(alone.tokens);
    }
  });

  it('refuses to overwrite results, and --resume runs only what is missing', async () => {
    const file = writeSuite('resume', ['teacher_forcing: false'], ['  - { id: ref, type: node-cpu }']);
    const out = join(dir, 'resume', 'results.jsonl');
    await runSuite({ suiteFile: file, outFile: out });
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect((await detbenchRejection(runSuite({ suiteFile: file, outFile: out }))).code).toBe('OUTPUT_EXISTS');

    // An interrupted run: the last two records are lost, the last line is cut mid-write.
    writeFileSync(out, `${lines.slice(0, -2).join('\n')}\n${lines.at(-2)!.slice(0, 40)}`);
    const summary = await runSuite({ suiteFile: file, outFile: out, resume: true });
    expect(summary.kept).toBe(lines.length - 2);
    expect(summary.completed).toBe(2);
    const ids = readResults(out).map((r) => r.id);
    expect(new Set(ids).size).toBe(lines.length);
  });

  it('rejects bad input before writing anything', async () => {
    const long = join(dir, 'long.yaml');
    writeFileSync(long, readFileSync(writeSuite('long'), 'utf8').replace('max_new_tokens: 6', 'max_new_tokens: 4000'));
    expect((await detbenchRejection(runSuite({ suiteFile: long, outFile: join(dir, 'long', 'r.jsonl') }))).code).toBe('PROMPT_TOO_LONG');

    const noModel = join(dir, 'nomodel.yaml');
    writeFileSync(noModel, readFileSync(writeSuite('nomodel'), 'utf8').replace(modelDir, join(dir, 'missing-model')));
    const err = await detbenchRejection(runSuite({ suiteFile: noModel, outFile: join(dir, 'nomodel', 'r.jsonl') }));
    expect(err.message).toContain('missing-model');

    const blocker = join(dir, 'blocker');
    writeFileSync(blocker, 'a file where a folder should be');
    expect((await detbenchRejection(runSuite({ suiteFile: writeSuite('unwritable'), outFile: join(blocker, 'sub', 'r.jsonl') }))).code).toBe(
      'OUTPUT_UNWRITABLE',
    );
  });

  it('probe: true checks each runner first and records the checks and what the graph holds', async () => {
    const out = join(dir, 'probed', 'results.jsonl');
    const summary = await runSuite({
      suiteFile: writeSuite('probed', ['teacher_forcing: false', 'probe: true', 'batch_sizes: [2]'], ['  - { id: ref, type: node-cpu }']),
      outFile: out,
    });
    expect(summary.errored).toBe(0);
    const r = readResults(out)[0] as CompletedRecord;
    const probe = r.environment.probe as { id: string; pass: boolean; tokensEqual: boolean }[];
    expect(probe.map((c) => [c.id, c.pass, c.tokensEqual])).toEqual([
      ['kv-cache-vs-recompute', true, true],
      ['padded-vs-alone', true, true],
    ]);
    expect(r.model).toMatchObject({ layout: 'hf', dtype: 'fp32', padding: 'left', precision: { summary: 'fp32', compute: 'float32', quantized: [] } });
  });

  it('refuses a runner whose model file is missing before any record is written', async () => {
    mkdirSync(join(dir, 'errs'), { recursive: true });
    const out = join(dir, 'errs', 'results.jsonl');
    const run = runSuite({
      suiteFile: writeSuite(
        'errs',
        ['teacher_forcing: false'],
        ['  - { id: ref, type: node-cpu }', '  - { id: half, type: node-cpu, options: { precision: fp16 } }'],
      ),
      outFile: out,
    });
    const err = await detbenchRejection(run);
    expect(err.code).toBe('MODEL_FILE_MISSING');
    expect(err.message).toContain(join(modelDir, 'onnx/model_fp16.onnx'));
    expect(err.message).toContain('precision fp16 loads onnx/model_fp16.onnx');
    expect(existsSync(out)).toBe(false);
  });
});

describe('output folders', () => {
  it('fails at once, not forever, under a file system that refuses every mkdir', async () => {
    const { makeDirs } = await import('../src/fs-dirs.ts');
    expect(() => makeDirs('/proc/detbench-no/such/dir')).toThrow(/ENOENT|EACCES|EPERM/);
    const d = join(mkdtempSync(join(tmpdir(), 'detbench-dirs-')), 'a', 'b', 'c');
    makeDirs(d);
    makeDirs(d);
    expect(existsSync(d)).toBe(true);
  });
});

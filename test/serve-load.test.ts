import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSuite, runSuite } from '../api/index.ts';
import { RUNNERS } from '../runners/index.ts';
import { headline, uniqueSamples } from '../src/metrics/unique-samples.ts';
import { readResults } from '../src/results/read.ts';
import type { CompletedRecord, ResultRecord } from '../src/results/record.ts';
import { LoadGenerator } from '../src/serve/load.ts';
import { type ServeHandle, startServe } from '../src/serve/server.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

let dir: string;
let modelDir: string;
let server: ServeHandle;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'detbench-load-'));
  modelDir = await tinyModelDir();
  server = await startServe({ runners: RUNNERS, modelDir, runner: 'node-cpu', batching: { mode: 'continuous', maxBatch: 16, windowMs: 0 } });
});
afterAll(async () => server?.close());

const health = async () => (await (await fetch(server.url.replace(/\/v1$/, '/health'))).json()) as { running: number; waiting: number };

describe('background load', () => {
  it('LoadGenerator keeps closed-loop clients busy until stopped, and counts what they got', async () => {
    const load = new LoadGenerator({
      baseUrl: server.url,
      model: 'tiny-model',
      clients: 3,
      prompts: ['one', 'two words', 'three words here'],
      maxTokens: [2, 4],
      seed: 1,
    });
    load.start();
    await new Promise((r) => setTimeout(r, 400));
    const stats = await load.stop();
    expect(stats.failed).toBe(0);
    expect(stats.requests).toBeGreaterThanOrEqual(3);
    expect(stats.tokens).toBeGreaterThanOrEqual(stats.requests);
    expect(stats.tokens).toBeLessThanOrEqual(4 * stats.requests);
    expect(Object.values(stats.batchSizes).reduce((a, b) => a + b, 0)).toBe(stats.tokens);
    // The cut requests leave the server's queue and batch at its next step boundary.
    for (let i = 0; i < 100 && JSON.stringify(await health()).match(/"(running|waiting)":[1-9]/); i++) await new Promise((r) => setTimeout(r, 20));
    expect(await health()).toMatchObject({ running: 0, waiting: 0 });
  });

  it('refuses a load it cannot send', () => {
    const base = { baseUrl: server.url, model: 'tiny-model', clients: 1, prompts: ['x'], maxTokens: [1, 2] as [number, number], seed: 0 };
    expect(() => new LoadGenerator({ ...base, clients: 0 })).toThrow(/clients/);
    expect(() => new LoadGenerator({ ...base, prompts: [] })).toThrow(/prompt/);
    expect(() => new LoadGenerator({ ...base, maxTokens: [5, 2] })).toThrow(/min <= max/);
  });

  it("a remote-api runner's background_load shares the server's batches with its requests, and stops with the runner", async () => {
    const suiteFile = join(dir, 'loaded.yaml');
    const runner = (id: string, load: boolean) =>
      `  - { id: ${id}, type: remote-api, options: ${JSON.stringify({
        base_url: server.url,
        model: 'tiny-model',
        endpoint: 'completions',
        concurrency: 1,
        return_token_ids: true,
        ...(load ? { background_load: { clients: 4, prompts: ['hello there', 'the quick brown fox', 'x y z'], max_tokens: [8, 24] } } : {}),
      })} }`;
    writeFileSync(
      suiteFile,
      [
        `id: loaded`,
        `model: ${modelDir}`,
        'prompts:',
        '  - { id: t, text: "Once upon a time" }',
        'decoding: { greedy: true }',
        'max_new_tokens: 12',
        'repetitions: 6',
        'top_logprobs: 2',
        'teacher_forcing: false',
        'reference: alone',
        'runners:',
        runner('alone', false),
        runner('loaded', true),
      ].join('\n'),
    );
    const out = join(dir, 'loaded', 'results.jsonl');
    await runSuite({ suiteFile, outFile: out });
    const records: ResultRecord[] = readResults(out);
    expect(records.every((r) => r.status === 'completed')).toBe(true);
    const served = (id: string) => (records as CompletedRecord[]).filter((r) => r.runner.id === id).map((r) => r.extra?.servedBatchSize as number);
    expect(served('alone')).toEqual([1, 1, 1, 1, 1, 1]);
    expect(Math.max(...served('loaded'))).toBeGreaterThan(1);
    expect((records as CompletedRecord[]).find((r) => r.runner.id === 'loaded')!.environment.backgroundLoad).toEqual({ clients: 4, maxTokens: [8, 24] });
    // fp32 on the tiny model: batching moves no greedy token.
    const rows = uniqueSamples(records, 'alone');
    expect(rows.map((u) => [u.runner, u.completions, u.unique, u.splits.length])).toEqual([
      ['alone', 6, 1, 0],
      ['loaded', 6, 1, 0],
    ]);
    expect(headline(rows[1]!)).toBe("6 completions, 1 unique, none parts from alone's completion");
    for (let i = 0; i < 100 && JSON.stringify(await health()).match(/"(running|waiting)":[1-9]/); i++) await new Promise((r) => setTimeout(r, 20));
    expect(await health()).toMatchObject({ running: 0, waiting: 0 });
  });
});

describe('detbench load and detbench unique on the command line', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/detbench.mjs', ...args], { encoding: 'utf8' });

  it('bad input exits 2 with one line naming the problem', () => {
    const missing = cli('load', '--url', 'http://127.0.0.1:9/v1', '--model', 'm', '--prompts', join(dir, 'nope.txt'), '--seconds', '1');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/nope\.txt: cannot read the prompts file/);
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '# only a comment\n\n');
    const none = cli('load', '--url', 'http://127.0.0.1:9/v1', '--model', 'm', '--prompts', empty, '--seconds', '1');
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/no prompts/);
    const range = cli('load', '--url', 'http://127.0.0.1:9/v1', '--model', 'm', '--prompts', empty, '--max-tokens', '9-3');
    expect(range.status).toBe(2);
    expect(range.stderr).toMatch(/--max-tokens must be N or MIN-MAX/);
    const results = cli('unique', join(dir, 'no-results.jsonl'));
    expect(results.status).toBe(2);
    expect(results.stderr).toMatch(/no such results file/);
    for (const r of [missing, none, range, results]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('detbench unique prints one headline per runner and prompt', () => {
    const r = cli('unique', join(dir, 'loaded', 'results.jsonl'), '--reference', 'alone');
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      'alone / t: 6 completions, 1 unique, none parts from the most common completion',
      "loaded / t: 6 completions, 1 unique, none parts from alone's completion",
    ]);
  });
});

describe('uniqueSamples', () => {
  const rec = (runner: string, rep: number, tokens: number[], margin: number[], served?: number) =>
    ({
      status: 'completed',
      mode: 'free',
      id: `${runner}/${rep}`,
      runner: { id: runner, type: 'remote-api', options: {} },
      prompt: { id: 'p', text: 'p' },
      repetition: rep,
      tokens,
      tokenTexts: tokens.map(String),
      steps: { token: tokens, topIds: [], topLogits: [], topLogprobs: [], margin, hash: [] },
      ...(served ? { extra: { servedBatchSize: served } } : {}),
    }) as unknown as CompletedRecord;

  it('counts unique completions and where each differing one parts from the reference, with the smaller margin', () => {
    const rows = uniqueSamples(
      [
        rec('alone', 0, [1, 2, 3, 4], [1, 1, 0.5, 0]),
        rec('alone', 1, [1, 2, 3, 4], [1, 1, 0.5, 0]),
        rec('loaded', 0, [1, 2, 3, 4], [1, 1, 0.5, 0], 5),
        rec('loaded', 1, [1, 2, 9, 9], [1, 1, 0.25, 2], 7),
        rec('loaded', 2, [1, 2, 3, 7], [1, 1, 0.5, 0], 7),
      ],
      'alone',
    );
    const loaded = rows.find((u) => u.runner === 'loaded')!;
    expect(loaded).toMatchObject({
      completions: 3,
      unique: 3,
      against: 'alone',
      splits: [
        { step: 2, margin: 0.25 },
        { step: 3, margin: 0 },
      ],
      servedBatchSizes: { 5: 1, 7: 2 },
    });
    expect(headline(loaded)).toBe("3 completions, 3 unique, first split at token 2, margin 0.25 (2 split from alone's: at 2 ×1, 3 ×1)");
    // Without a reference each runner is measured against its own most common completion.
    expect(uniqueSamples([rec('x', 0, [1, 2], [1, 1]), rec('x', 1, [1, 2], [1, 1]), rec('x', 2, [1, 3], [1, 0.1])])[0]).toMatchObject({
      unique: 2,
      against: 'x',
      splits: [{ step: 1, margin: 0.1 }],
    });
  });
});

describe('the batch-invariance and SGLang suites', () => {
  it('load, with the load generator and the batch sizes they promise', () => {
    const load = (name: string) => loadSuite(new URL(`../suites/${name}.yaml`, import.meta.url).pathname);
    const bi = load('batch-invariance');
    expect(bi.runners.map((r) => r.id)).toEqual(['alone', 'loaded']);
    expect((bi.runners[1]!.options as { background_load?: { clients: number } }).background_load?.clients).toBe(8);
    expect((bi.runners[0]!.options as { background_load?: unknown }).background_load).toBeUndefined();
    for (const mode of ['single', 'mixed', 'prefix']) {
      const s = load(`sglang-${mode}`);
      expect(s.id).toBe(`sglang-${mode}`);
      expect(Math.max(...s.batch_sizes)).toBe(16);
    }
    expect(load('sglang-single').resolvedPrompts).toHaveLength(1);
    expect(load('sglang-mixed').resolvedPrompts).toHaveLength(3);
    const prefixes = load('sglang-prefix').resolvedPrompts.map((p) => p.text);
    expect(prefixes.map((p) => p.length)).toEqual([1, 120, 240, 555]);
    for (const p of prefixes) expect(prefixes.at(-1)!.startsWith(p)).toBe(true);
  });
});

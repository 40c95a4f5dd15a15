import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSuite } from '../api/index.ts';
import { RUNNERS } from '../runners/index.ts';
import { readResults } from '../src/results/read.ts';
import type { CompletedRecord, ResultRecord } from '../src/results/record.ts';
import { type ServeHandle, startServe } from '../src/serve/server.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

let dir: string;
let modelDir: string;
let alone: ServeHandle;
let batched: ServeHandle;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'detbench-remote-serve-'));
  modelDir = await tinyModelDir();
  [alone, batched] = await Promise.all([
    startServe({ runners: RUNNERS, modelDir, runner: 'node-cpu', batching: null }),
    startServe({ runners: RUNNERS, modelDir, runner: 'node-cpu', batching: { maxBatch: 8, windowMs: 200 } }),
  ]);
});
afterAll(async () => {
  await Promise.all([alone?.close(), batched?.close()]);
});

function writeSuite(name: string, runners: string[], extra: string[] = []): string {
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
      '  - { id: d, text: "Once upon a time" }',
      'decoding: { greedy: true, temperature: [0.9], top_k: [8], seed: [3] }',
      'max_new_tokens: 6',
      'repetitions: 1',
      'top_logprobs: 3',
      'teacher_forcing: false',
      ...extra,
      'runners:',
      ...runners,
    ].join('\n'),
  );
  return file;
}

const api = (id: string, h: ServeHandle, options: Record<string, unknown> = {}) =>
  `  - { id: ${id}, type: remote-api, options: ${JSON.stringify({ base_url: h.url, model: 'tiny-model', endpoint: 'completions', ...options })} }`;

async function run(name: string, suiteFile: string): Promise<CompletedRecord[]> {
  const out = join(dir, name, 'results.jsonl');
  await runSuite({ suiteFile, outFile: out });
  const records: ResultRecord[] = readResults(out);
  for (const r of records) expect(r.status, JSON.stringify(r)).toBe('completed');
  return records as CompletedRecord[];
}

describe('remote-api runner against detbench serve, through the executor', () => {
  it('reproduces the node-cpu runner token for token with batching off (greedy and seeded sampling)', async () => {
    const records = await run(
      'same',
      writeSuite('same', [
        '  - { id: cpu, type: node-cpu, options: { intra_op_threads: 1 } }',
        api('ids', alone, { return_token_ids: true }),
        api('texts', alone, { stream: false }),
      ]),
    );
    const cpu = records.filter((r) => r.runner.id === 'cpu');
    expect(cpu).toHaveLength(8);
    for (const ref of cpu) {
      const ids = records.find((r) => r.runner.id === 'ids' && r.prompt.id === ref.prompt.id && r.setting.id === ref.setting.id)!;
      const texts = records.find((r) => r.runner.id === 'texts' && r.prompt.id === ref.prompt.id && r.setting.id === ref.setting.id)!;
      expect(ids.tokens).toEqual(ref.tokens);
      expect(ids.tokenTexts).toEqual(ref.tokenTexts);
      expect(texts.tokens).toEqual([]); // no ids asked for: texts only, as from a hosted API
      expect(texts.tokenTexts).toEqual(ref.tokenTexts);
      for (const r of [ids, texts]) {
        expect(r.text.length).toBeGreaterThan(0);
        expect(r.steps.topTokens).toHaveLength(ref.tokens.length);
        expect(r.steps.topLogprobs).toHaveLength(ref.tokens.length);
        expect(r.steps.topTokens![0]!.length).toBeGreaterThan(0);
        expect(r.steps.topTokens![0]!.length).toBeLessThanOrEqual(3);
        // The same numbers, through JSON. Completions logprobs are keyed by token text, so candidates
        // whose texts coincide (byte tokens that all print as U+FFFD) merge: compare the unique ones.
        const tok = alone.engine.model.tokenizer;
        ref.steps.topIds.forEach((ids, i) => {
          const refTexts = ids.map((id) => tok.tokenText(id));
          refTexts.forEach((t, j) => {
            if (refTexts.indexOf(t) !== refTexts.lastIndexOf(t)) return;
            const k = r.steps.topTokens![i]!.indexOf(t);
            expect(k, `step ${i} candidate ${JSON.stringify(t)}`).toBeGreaterThanOrEqual(0);
            expect(r.steps.topLogprobs[i]![k]).toBeCloseTo(ref.steps.topLogprobs[i]![j]!, 12);
          });
          if (new Set(refTexts).size === refTexts.length) expect(r.steps.margin[i]).toBeCloseTo(ref.steps.margin[i]!, 9);
        });
        expect(r.extra).toMatchObject({ systemFingerprint: alone.engine.systemFingerprint, model: 'tiny-model', servedBatchSize: 1, attempts: 1 });
        expect((r.extra!.usage as { completion_tokens: number }).completion_tokens).toBe(ref.tokens.length);
      }
      expect((ids.extra!.latency as { ttftMs: number }).ttftMs).toBeGreaterThan(0);
      // detbench serve sends each step's logits-row hash: computed alone, bitwise the node-cpu rows.
      expect(ids.steps.hash).toEqual(ref.steps.hash);
      expect(texts.steps.hash).toEqual(ref.steps.hash);
    }
  });

  it('the chat endpoint works too, and a batch sent concurrently is computed in one server batch', async () => {
    const records = await run('batched', writeSuite('batched', [api('chat', batched, { endpoint: 'chat', concurrency: 4 })], ['batch_sizes: 4']));
    expect(records).toHaveLength(8);
    for (const r of records) {
      expect(r.text.length).toBeGreaterThan(0);
      expect(r.tokenTexts.length).toBeGreaterThan(0);
      expect(r.extra!.servedBatchSize).toBe(4);
      expect(r.steps.hash).toHaveLength(r.tokenTexts.length);
      expect(r.extra!.systemFingerprint).toBe(batched.engine.systemFingerprint);
    }
  });
});

describe('detbench serve as a command', () => {
  it('starts on a free loopback port, serves, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['bin/detbench.mjs', 'serve', '--model', modelDir, '--port', '0', '--batching', 'off', '--quiet'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL in time: ${stderr}`)), 30_000);
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /on (http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.on('exit', () => reject(new Error(`exited early: ${stderr}`)));
    });
    expect(stderr).toContain('batching off');
    const res = await fetch(`${url}/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'tiny-model', prompt: 'hi', max_tokens: 2, temperature: 0 }),
    });
    expect(res.status).toBe(200);
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runSuite } from '../api/index.ts';
import { findChrome, INSTALL_HINT } from '../runners/browser/runner.ts';
import { readResults } from '../src/results/read.ts';
import type { CompletedRecord } from '../src/results/record.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

const chrome = findChrome(undefined);
const chromium = 'path' in chrome ? chrome.path : null;
if (!chromium) console.warn(`browser suite run skipped: ${'reason' in chrome ? chrome.reason : ''}`);

let dir: string;
let modelDir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'detbench-browser-run-'));
  modelDir = await tinyModelDir();
});

function suite(name: string, runners: string[], model = modelDir): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `id: ${name}`,
      `model: ${model}`,
      'prompts:',
      '  - { id: a, text: "hello world" }',
      '  - { id: b, text: "the quick brown fox" }',
      'decoding: { greedy: true }',
      'max_new_tokens: 3',
      'repetitions: 1',
      'top_logprobs: 2',
      'runners:',
      '  - { id: cpu, type: node-cpu }',
      ...runners,
    ].join('\n'),
  );
  return file;
}

describe('a suite with browser runners', () => {
  it('a runner whose browser is missing is skipped with the install hint; the others run', async () => {
    const out = join(dir, 'missing', 'results.jsonl');
    const summary = await runSuite({
      suiteFile: suite('missing', ['  - { id: gone, type: browser-wasm, options: { chrome_path: /nonexistent/chromium } }']),
      outFile: out,
    });
    const records = readResults(out);
    const gone = records.filter((r) => r.runner.id === 'gone');
    expect(gone.length).toBeGreaterThan(0);
    for (const r of gone) {
      expect(r.status).toBe('skipped');
      if (r.status === 'skipped') expect(r.reason).toContain(INSTALL_HINT);
    }
    expect(records.filter((r) => r.runner.id === 'cpu').every((r) => r.status === 'completed')).toBe(true);
    expect(summary.skipped).toBe(gone.length);
  });

  it.skipIf(!chromium)('browser-wasm records carry the provider, the browser environment and the session time', async () => {
    const out = join(dir, 'wasm', 'results.jsonl');
    await runSuite({ suiteFile: suite('wasm', ['  - { id: wasm, type: browser-wasm }']), outFile: out });
    const records = readResults(out);
    const wasm = records.filter((r) => r.runner.id === 'wasm') as CompletedRecord[];
    // 2 prompts free + 2 teacher-forced against the cpu reference.
    expect(wasm).toHaveLength(4);
    for (const r of wasm) {
      expect(r.status).toBe('completed');
      expect(r.provider).toEqual({ requested: 'wasm', effective: 'wasm' });
      expect(r.environment).toMatchObject({ crossOriginIsolated: true, ortWeb: '1.29.0', ortEnv: { numThreads: 1, proxy: false } });
      expect(String(r.environment.browser)).toMatch(/Chrom/);
      expect(r.timings.sessionMs).toBeGreaterThan(0);
      expect(r.tool.onnxruntime).toBe('1.29.0');
    }
    const cpu = records.filter((r) => r.runner.id === 'cpu' && r.mode === 'free') as CompletedRecord[];
    for (const r of wasm.filter((x) => x.mode === 'free')) expect(r.tokens).toEqual(cpu.find((c) => c.prompt.id === r.prompt.id)!.tokens);
  });

  it.skipIf(!chromium)('browser-wasm loads a model whose weights live in an external-data file', async () => {
    const out = join(dir, 'external', 'results.jsonl');
    await runSuite({ suiteFile: suite('external', ['  - { id: wasm, type: browser-wasm }'], await tinyModelDir('external-data')), outFile: out });
    const records = readResults(out);
    expect(records.every((r) => r.status === 'completed')).toBe(true);
    const free = (id: string) => records.filter((r) => r.runner.id === id && r.mode === 'free') as CompletedRecord[];
    expect(free('wasm')).toHaveLength(2);
    for (const r of free('wasm')) expect(r.tokens).toEqual(free('cpu').find((c) => c.prompt.id === r.prompt.id)!.tokens);
  });
});

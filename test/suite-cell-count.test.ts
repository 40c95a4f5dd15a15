import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { loadSuite, runSuite } from '../api/index.ts';
import { main } from '../cli/main.ts';
import { readResults } from '../src/results/read.ts';
import { countCells } from '../src/suite/count.ts';
import { expandCells, expandRunners, expandSettings } from '../src/suite/expand.ts';
import { detbenchRejection } from './helpers/errors.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

/** The oracle's own list of the runner types that get a teacher-forced pass. */
const LOCAL: ReadonlySet<string> = new Set(['node-cpu', 'node-cuda', 'node-webgpu', 'browser-wasm', 'browser-webgpu']);
const dir = mkdtempSync(join(tmpdir(), 'detbench-count-'));
let model: string;

function suiteFile(name: string, lines: string[]): string {
  const file = join(dir, name);
  writeFileSync(file, [...lines, ''].join('\n'));
  return file;
}

beforeAll(async () => {
  model = await tinyModelDir();
});

describe('countCells', () => {
  it('equals the number of cells the executor builds, teacher-forced passes included', () => {
    const file = suiteFile('grid.yaml', [
      'id: grid',
      'prompts: [{ text: a }, { text: b }, { text: c }]',
      'decoding: { greedy: true, temperature: [0, 0.5, 1], top_k: [0, 5], top_p: [1, 0.9], seed: [1, 2, 3] }',
      'repetitions: 2',
      'batch_sizes: [1, 4]',
      'reference: cpu',
      'runners:',
      '  - { id: cpu, type: node-cpu, matrix: { intra_op_threads: [1, 2], precision: [fp32, fp16] } }',
      '  - { id: wasm, type: browser-wasm, repetitions: 1 }',
      '  - { id: api, type: remote-api, options: { base_url: "http://127.0.0.1:9/v1", model: m } }',
    ]);
    const suite = loadSuite(file);
    const runners = expandRunners(suite);
    const free = expandCells(suite, runners, expandSettings(suite)).length;
    // Teacher forcing: every local runner but the reference (the first combination of `cpu`).
    const forced = expandCells(
      suite,
      runners.filter((r) => LOCAL.has(r.type) && r.id !== runners[0]!.id),
      expandSettings(suite),
    ).length;
    const count = countCells(suite);
    // 1 greedy + 2 temperatures × 2 top_k × 2 top_p × 3 seeds
    expect(count.settings).toBe(25);
    expect(count.runnerConfigs).toBe(6);
    // 4 cpu combinations × 2 + wasm 1 + api 2
    expect(count.freePasses).toBe(11);
    // 3 cpu combinations × 2 + wasm 1
    expect(count.forcedPasses).toBe(7);
    expect(count.cells).toBe(free + forced);
    expect(count.cells).toBe(3 * 25 * 2 * 18);
  });

  it('counts only the runners --runner selects: an entry id selects all its combinations, id[k=v] one', () => {
    const file = suiteFile('select.yaml', [
      'id: select',
      'prompts: [{ text: a }]',
      'repetitions: 3',
      'runners:',
      '  - { id: cpu, type: node-cpu, matrix: { intra_op_threads: [1, 2, 4] } }',
      '  - { id: other, type: node-cpu }',
    ]);
    const suite = loadSuite(file);
    // The reference is cpu[intra_op_threads=1]: it runs free only.
    expect(countCells(suite).cells).toBe(4 * 3 + 3 * 3);
    expect(countCells(suite, ['other']).cells).toBe(3 + 3);
    expect(countCells(suite, ['cpu']).cells).toBe(3 * 3 + 2 * 3);
    expect(countCells(suite, ['cpu[intra_op_threads=1]']).cells).toBe(3);
    expect(countCells(suite, ['cpu[intra_op_threads=4]', 'other']).cells).toBe(2 * 3 + 2 * 3);
  });

  it('counts a grid of 50 × 50 × 50 × 1,000 without building it', () => {
    const list = (n: number, f: (i: number) => number) => `[${Array.from({ length: n }, (_, i) => f(i)).join(', ')}]`;
    const file = suiteFile('huge.yaml', [
      'id: huge',
      'prompts: [{ text: a }]',
      `decoding: { greedy: false, temperature: ${list(50, (i) => (i + 1) / 50)}, top_k: ${list(50, (i) => i)}, seed: ${list(50, (i) => i)} }`,
      'repetitions: 1000',
      'runners: [{ id: a, type: node-cpu }]',
    ]);
    expect(countCells(loadSuite(file)).cells).toBe(125_000_000);
  });
});

describe('the cell limit', () => {
  const lines = (m: string) => [
    'id: limit',
    `model: ${m}`,
    'prompts: [{ text: a }, { text: b }]',
    'decoding: { temperature: [0, 0.5, 1.0] }',
    'batch_sizes: [1, 2]',
    'max_new_tokens: 2',
    'repetitions: 1',
    'runners: [{ id: a, type: node-cpu }]',
  ];

  it('refuses a suite over the limit with SUITE_TOO_LARGE before it writes anything', async () => {
    const file = suiteFile('limit.yaml', lines(model));
    const out = join(dir, 'limit-out', 'results.jsonl');
    const err = await detbenchRejection(runSuite({ suiteFile: file, outFile: out, maxCells: 11 }));
    expect(err.code).toBe('SUITE_TOO_LARGE');
    expect(err.message).toContain('plans 12 cells (2 prompts × 3 settings × 2 batch sizes × 1 runner repetition), more than the limit of 11');
    expect(existsSync(out)).toBe(false);
  });

  it('runs the same suite once --max-cells allows it', async () => {
    const file = suiteFile('limit-ok.yaml', lines(model));
    const out = join(dir, 'limit-ok');
    let err = '';
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      err += String(s);
      return true;
    });
    try {
      expect(await main(['node', 'detbench', 'run', file, '-o', out, '--max-cells', '12'])).toBe(0);
    } finally {
      e.mockRestore();
      process.exitCode = undefined;
    }
    expect(err).toContain('12 completed, 0 errored, 0 skipped');
    expect(readResults(join(out, 'results.jsonl'))).toHaveLength(12);
  });

  it('documents --max-cells in `detbench run --help`', async () => {
    let out = '';
    const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      out += String(s);
      return true;
    });
    try {
      expect(await main(['node', 'detbench', 'run', '--help'])).toBe(0);
    } finally {
      o.mockRestore();
    }
    expect(out).toMatch(/--max-cells <n>\s+refuse a suite that plans more cells than this/);
    expect(out).toContain('default 100000');
  });
});

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { runSuite } from '../api/index.ts';
import { main } from '../cli/main.ts';
import type { CompletedRecord } from '../src/results/record.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

let dir: string;
let results: string;

async function gate(...args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return { code: await main(['node', 'detbench', 'gate', ...args]), out };
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.exitCode = undefined;
  }
}

/** Rewrites one record of runner `two` so it splits from the reference at `step` with the given margins. */
function withSplit(margin: number, name: string): string {
  const lines = readFileSync(results, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as CompletedRecord);
  const ref = lines.find((r) => r.runner.id === 'ref' && r.mode === 'free' && r.repetition === 0)!;
  for (const r of lines.filter((x) => x.mode === 'free' && x.prompt.id === ref.prompt.id && x.setting.id === ref.setting.id)) {
    r.steps.margin[1] = margin;
    if (r.runner.id === 'two') {
      const other = r.steps.topIds[1]![1]!;
      r.tokens[1] = other;
      r.steps.token[1] = other;
    }
  }
  const file = join(dir, name);
  writeFileSync(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  return file;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'detbench-gate-'));
  const suite = join(dir, 'suite.yaml');
  writeFileSync(
    suite,
    `id: g\nmodel: ${await tinyModelDir()}\nprompts:\n  - text: hello\n  - text: world peace\nmax_new_tokens: 4\nrepetitions: 2\nrunners:\n  - { id: ref, type: node-cpu }\n  - { id: two, type: node-cpu, options: { intra_op_threads: 2 } }\n`,
  );
  results = join(dir, 'results.jsonl');
  await runSuite({ suiteFile: suite, outFile: results });
});

describe('detbench gate', () => {
  it('passes identical runners and lists every check', async () => {
    const r = await gate(results, '--min-cross-exact', '1', '--min-top1', '1', '--json', join(dir, 'v.json'));
    expect(r.code).toBe(0);
    expect(r.out).toContain('PASS  ref vs two: cross-runner exact match ≥ 1');
    expect(r.out).toMatch(/detbench gate: PASS/);
    expect(JSON.parse(readFileSync(join(dir, 'v.json'), 'utf8')).pass).toBe(true);
  });

  it('fails a split at a clear margin, and forgives one at a near tie', async () => {
    const hard = await gate(withSplit(2.5, 'hard.jsonl'));
    expect(hard.code).toBe(1);
    expect(hard.out).toMatch(/FAIL {2}ref vs two: no greedy divergence above a 0\.05 logit margin — 2 hard split\(s\); first: .* at token 1, margin 2\.500/);

    const soft = await gate(withSplit(0.001, 'soft.jsonl'));
    expect(soft.code).toBe(0);
    expect(soft.out).toContain('all near-ties');
    // Still visible when exact agreement is required.
    expect((await gate(withSplit(0.001, 'soft2.jsonl'), '--min-cross-exact', '1')).code).toBe(1);
  });

  it('judges a rate by a bound of its 95% Wilson interval when asked', async () => {
    // Each runner: 2 prompts × 2 repetitions, all identical: 4/4, Wilson interval [0.5101, 1].
    const point = await gate(results, '--min-repeat-exact', '0.9');
    expect(point.code).toBe(0);
    expect(point.out).toContain('PASS  ref: run-to-run exact match ≥ 0.9 — 1 [0.5101–1] (4/4)');
    const lower = await gate(results, '--min-repeat-exact', '0.9', '--rate-bound', 'lower', '--json', join(dir, 'lower.json'));
    expect(lower.code).toBe(1);
    expect(lower.out).toContain('FAIL  ref: run-to-run exact match ≥ 0.9 (judged by the lower bound of its 95% interval) — 1 [0.5101–1] (4/4)');
    const verdict = JSON.parse(readFileSync(join(dir, 'lower.json'), 'utf8')) as {
      checks: { subject: string; value: number; interval: { lo: number; hi: number } }[];
    };
    const ref = verdict.checks.find((c) => c.subject === 'ref' && c.interval)!;
    expect(ref.value).toBeCloseTo(0.510109, 6);
    expect(ref.interval.hi).toBe(1);
    expect((await gate(results, '--min-repeat-exact', '0.9', '--rate-bound', 'upper')).code).toBe(0);
    expect((await gate(results, '--rate-bound', 'middle')).code).toBe(2);
  });

  it('exits 2 on an unreadable results file', async () => {
    expect((await gate(join(dir, 'none.jsonl'))).code).toBe(2);
  });
});

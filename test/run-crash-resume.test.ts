import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readResults } from '../src/results/read.ts';
import type { ResultRecord } from '../src/results/record.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

const BIN = new URL('../bin/detbench.mjs', import.meta.url).pathname;
// 3 prompts x 3 settings x 4 repetitions x 2 runners, plus the second runner teacher-forced.
const TOTAL = 3 * 3 * 4 * 2 + 3 * 3 * 4;

let dir: string;
let suite: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'detbench-crash-'));
  suite = join(dir, 'crash.yaml');
  writeFileSync(
    suite,
    `${[
      'id: crash',
      `model: ${await tinyModelDir()}`,
      'prompts:',
      '  - { id: a, text: "hello world" }',
      '  - { id: b, text: "the quick brown fox jumps" }',
      '  - { id: c, text: "x" }',
      'decoding: { greedy: true, temperature: [0.9], top_k: [8], seed: [3, 4] }',
      'max_new_tokens: 24',
      'repetitions: 4',
      'top_logprobs: 4',
      'runners:',
      '  - { id: ref, type: node-cpu, options: { intra_op_threads: 1 } }',
      '  - { id: two, type: node-cpu, options: { intra_op_threads: 2 } }',
    ].join('\n')}\n`,
  );
});

const lines = (file: string): number => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').length - 1 : 0);

/** Runs `detbench run` in a child process; with `killAt`, sends it SIGKILL once the file has that many lines. */
async function run(out: string, args: string[], killAt?: number): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, 'run', suite, '-o', out, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CI: '1' } });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  if (killAt !== undefined) {
    const file = join(out, 'results.jsonl');
    const timer = setInterval(() => {
      if (lines(file) >= killAt) child.kill('SIGKILL');
    }, 1);
    await exited.finally(() => clearInterval(timer));
  }
  const [code, signal] = await exited;
  return { code, signal, stderr };
}

const byId = (rs: ResultRecord[]): Map<string, ResultRecord> => new Map(rs.map((r) => [r.id, r]));
const tokensOf = (r: ResultRecord | undefined): number[] | string => (r?.status === 'completed' ? r.tokens : (r?.status ?? 'missing'));

describe('kill -9 at several points, then --resume: the same records as a clean run', () => {
  it('after 1 record, mid-run, with a whole last line lacking its newline, and with a cut-off last line', async () => {
    const clean = join(dir, 'clean');
    expect((await run(clean, [])).code).toBe(0);
    const want = readResults(join(clean, 'results.jsonl'));
    expect(want).toHaveLength(TOTAL);
    expect(want.every((r) => r.status === 'completed')).toBe(true);

    const out = join(dir, 'killed');
    const file = join(out, 'results.jsonl');
    const kills: number[] = [];
    const kill = async (at: number, resume: boolean) => {
      const r = await run(out, resume ? ['--resume'] : [], at);
      expect(r.signal).toBe('SIGKILL');
      kills.push(lines(file));
    };

    await kill(1, false);
    await kill(Math.floor(TOTAL / 3), true);
    // The newline of the last whole record lost: the record counts and its cell is not run again.
    writeFileSync(file, readFileSync(file, 'utf8').slice(0, -1));
    const keptWhole = readResults(file).length;
    await kill(Math.floor((2 * TOTAL) / 3), true);
    // A write cut short: the last line is half a record; it is removed and its cell runs again.
    const text = readFileSync(file, 'utf8');
    const lastStart = text.lastIndexOf('\n', text.length - 2) + 1;
    writeFileSync(file, text.slice(0, lastStart + Math.floor((text.length - lastStart) / 2)));
    const beforeLast = readResults(file).length;

    const done = await run(out, ['--resume']);
    expect(done.code).toBe(0);
    // Every kill landed mid-run (else no point was tested), each after the one before.
    expect(kills.every((k, i) => k < TOTAL && (i === 0 || k > kills[i - 1]!))).toBe(true);
    expect(keptWhole).toBeGreaterThan(0);
    // Each killed run left its lock; the next run on this machine took it over.
    expect(done.stderr).toContain('taking over the lock of a run that is gone');
    expect(done.stderr).toContain('removed a truncated last line');
    expect(done.stderr).toContain(`${beforeLast} kept from before`);

    const got = readResults(file);
    const text2 = readFileSync(file, 'utf8');
    expect(text2.endsWith('\n')).toBe(true);
    expect(got).toHaveLength(TOTAL);
    expect([...byId(got).keys()].sort()).toEqual([...byId(want).keys()].sort());
    const w = byId(want);
    const diff = got.filter((r) => JSON.stringify(tokensOf(r)) !== JSON.stringify(tokensOf(w.get(r.id))));
    expect(diff.map((r) => r.id)).toEqual([]);
    expect(existsSync(`${file}.lock`)).toBe(false);
  }, 120_000);
});

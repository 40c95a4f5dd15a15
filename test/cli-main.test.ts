import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readResults } from '../src/results/read.ts';
import { cli } from './helpers/cli.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

let dir: string;
let suite: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'detbench-cli-'));
  const model = await tinyModelDir();
  suite = join(dir, 'suite.yaml');
  writeFileSync(suite, `id: cli\nmodel: ${model}\nprompts:\n  - text: hello\nmax_new_tokens: 3\nrepetitions: 1\nrunners:\n  - { id: a, type: node-cpu }\n`);
});

afterEach(() => {
  process.exitCode = undefined;
});

describe('detbench CLI', () => {
  it('prints help for the program and for each command', async () => {
    const top = await cli('--help');
    expect(top.code).toBe(0);
    expect(top.out).toContain('run');
    expect(top.out).toContain('report');
    for (const cmd of ['run', 'report']) {
      const r = await cli(cmd, '--help');
      expect(r.code).toBe(0);
      expect(r.out).toContain(`Usage: detbench ${cmd}`);
    }
  });

  it('runs a suite and exits 0, writing results.jsonl under -o', async () => {
    const out = join(dir, 'run1');
    const r = await cli('run', suite, '-o', out);
    expect(r.code).toBe(0);
    expect(r.err).toContain('1 completed, 0 errored, 0 skipped');
    expect(readResults(join(out, 'results.jsonl'))).toHaveLength(1);
  });

  it('exits 2 with one clear message on bad input, writing nothing', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'id: bad\nprompts: []\nrunners: []\n');
    const r = await cli('run', bad, '-o', join(dir, 'bad-out'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^detbench: .*bad\.yaml:2: prompts: /);
    expect(existsSync(join(dir, 'bad-out', 'results.jsonl'))).toBe(false);

    expect((await cli('run', join(dir, 'missing.yaml'))).code).toBe(2);
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('run', suite, '--runner', 'nope', '-o', join(dir, 'x'))).err).toContain('--runner nope: no such runner');
  });

  it('exits 2 when the output would overwrite an earlier run', async () => {
    const out = join(dir, 'run2');
    expect((await cli('run', suite, '-o', out)).code).toBe(0);
    const again = await cli('run', suite, '-o', out);
    expect(again.code).toBe(2);
    expect(again.err).toContain('--resume');
    expect((await cli('run', suite, '-o', out, '--resume')).code).toBe(0);
    const fresh = await cli('run', suite, '-o', out, '--fresh');
    expect(fresh.code).toBe(0);
    expect(fresh.err).toMatch(/moved the earlier results to .*results\.[0-9T-]+Z\.jsonl/);
  });
});

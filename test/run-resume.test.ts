import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { runSuite } from '../api/index.ts';
import { main } from '../cli/main.ts';
import { computeMetrics } from '../src/metrics/index.ts';
import { lockResults } from '../src/results/lock.ts';
import { readResults } from '../src/results/read.ts';
import { ResultsWriter } from '../src/results/write.ts';
import { detbenchError, detbenchRejection } from './helpers/errors.ts';
import { startFaultServer } from './helpers/fault-server.ts';
import { KEY, KEY_ENV, writeRemoteSuite } from './helpers/remote-suite.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

let dir: string;
let modelDir: string;

function suite(name: string, lines: string[]): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const base = (id: string, o: { model?: string; runner?: string } = {}): string[] => [
  `id: ${id}`,
  `model: ${o.model ?? modelDir}`,
  'prompts:',
  '  - { id: a, text: "hello world" }',
  '  - { id: b, text: "the quick brown fox" }',
  'max_new_tokens: 3',
  'repetitions: 2',
  'teacher_forcing: false',
  'runners:',
  o.runner ?? '  - { id: ref, type: node-cpu }',
];

async function cli(...args: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s);
    return true;
  });
  const o = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    return { code: await main(['node', 'detbench', ...args]), err };
  } finally {
    e.mockRestore();
    o.mockRestore();
    process.exitCode = undefined;
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'detbench-resume-'));
  modelDir = await tinyModelDir();
});

describe('a resumed retry supersedes the errored record', () => {
  it('everywhere: --resume, metrics, gate and report count the latest record of an id', async () => {
    // The API fails every request at first (every cell errors), then answers: the suite is unchanged.
    let down = true;
    const server = await startFaultServer(() => (down ? { kind: 'status', status: 503 } : { kind: 'ok' }));
    process.env[KEY_ENV] = KEY;
    try {
      const file = writeRemoteSuite(dir, server.url, 'late', ['p1', 'p2', 'p3', 'p4'], { max_retries: 0 });
      const out = join(dir, 'late', 'results.jsonl');
      const first = await runSuite({ suiteFile: file, outFile: out });
      expect(first).toMatchObject({ completed: 0, errored: 4 });
      expect((await cli('gate', out)).code).toBe(1);

      down = false;
      const second = await runSuite({ suiteFile: file, outFile: out, resume: true });
      expect(second).toMatchObject({ completed: 4, errored: 0, kept: 0 });
      const all = readResults(out);
      expect(all.map((r) => r.status)).toEqual(['errored', 'errored', 'errored', 'errored', 'completed', 'completed', 'completed', 'completed']);

      const m = computeMetrics(all);
      expect(m.counts).toMatchObject({ records: 4, completed: 4, errored: 0, superseded: 4 });
      expect(m.warnings).toContain(
        '4 record(s) superseded by a later record of the same profile and id (a resumed retry, or a file read twice): the latest counts',
      );
      const gate = await cli('gate', out);
      expect(gate.code).toBe(0);
      expect(gate.err).toContain('4 record(s) superseded');

      const report = await cli('report', out, '-o', join(dir, 'late', 'report'));
      expect(report.code).toBe(0);
      const html = readFileSync(join(dir, 'late', 'report', 'index.html'), 'utf8');
      expect(html).toContain('4 record(s) superseded');
      expect(html).toContain('"counts":{"records":4,"completed":4,"errored":0,"skipped":0,"teacherForced":0,"superseded":4}');

      // A third --resume keeps the four completed records and runs nothing.
      expect(await runSuite({ suiteFile: file, outFile: out, resume: true })).toMatchObject({ kept: 4, completed: 0, errored: 0 });
    } finally {
      await server.close();
    }
  });

  it('the same file read twice counts once (equal finish times: the one read last)', async () => {
    const out = join(dir, 'twice', 'results.jsonl');
    await runSuite({ suiteFile: suite('twice', base('twice')), outFile: out });
    const once = computeMetrics(readResults(out));
    const twice = computeMetrics([...readResults(out), ...readResults(out)]);
    expect(twice.counts).toEqual({ ...once.counts, superseded: 4 });
    expect(twice.runners).toEqual(once.runners);
  });
});

describe('the last line of a results file', () => {
  it('a whole record without its newline counts, and a writer adds the newline before appending', async () => {
    const out = join(dir, 'nonl', 'results.jsonl');
    await runSuite({ suiteFile: suite('nonl', base('nonl')), outFile: out });
    const text = readFileSync(out, 'utf8');
    writeFileSync(out, text.slice(0, -1));
    expect(readResults(out)).toHaveLength(4);
    const [r] = readResults(out);
    new ResultsWriter(out).append(r!);
    expect(readFileSync(out, 'utf8')).toBe(`${text}${JSON.stringify(r)}\n`);
  });

  it('--resume keeps it and does not run its cell again', async () => {
    const file = suite('nonl2', base('nonl2'));
    const out = join(dir, 'nonl2', 'results.jsonl');
    await runSuite({ suiteFile: file, outFile: out });
    const text = readFileSync(out, 'utf8');
    writeFileSync(out, text.slice(0, -1));
    expect(await runSuite({ suiteFile: file, outFile: out, resume: true })).toMatchObject({ kept: 4, completed: 0 });
    expect(readFileSync(out, 'utf8')).toBe(text);
  });

  it('a cut-off line is dropped by readers and removed by --resume, which runs its cell again', async () => {
    const file = suite('cut', base('cut'));
    const out = join(dir, 'cut', 'results.jsonl');
    await runSuite({ suiteFile: file, outFile: out });
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    writeFileSync(out, `${lines.slice(0, 3).join('\n')}\n${lines[3]!.slice(0, 50)}`);
    const warnings: string[] = [];
    expect(readResults(out, { warn: (w) => warnings.push(w) })).toHaveLength(3);
    expect(warnings).toEqual([`${out}:4: ignoring a truncated last line (an interrupted run?)`]);
    const summary = await runSuite({ suiteFile: file, outFile: out, resume: true, warn: (w) => warnings.push(w) });
    expect(summary).toMatchObject({ kept: 3, completed: 1 });
    expect(warnings).toContain(`${out}:4: removed a truncated last line (an interrupted run?)`);
    expect(
      readResults(out)
        .map((r) => r.id)
        .sort(),
    ).toEqual(lines.map((l) => (JSON.parse(l) as { id: string }).id).sort());
  });
});

describe('one run per results file', () => {
  it('a second run on the same output is refused, naming the holder, and writes nothing', async () => {
    const file = suite('locked', base('locked'));
    const out = join(dir, 'locked', 'results.jsonl');
    mkdirSync(join(dir, 'locked'));
    const lock = await lockResults(out, () => {});
    try {
      const err = await detbenchRejection(runSuite({ suiteFile: file, outFile: out }));
      expect(err.code).toBe('RESULTS_LOCKED');
      expect(err.message).toContain(`another detbench run is writing this results file (pid ${process.pid} on ${hostname()}, since `);
      expect((await cli('run', file, '-o', join(dir, 'locked'))).code).toBe(2);
      expect(existsSync(out)).toBe(false);
    } finally {
      await lock.release();
    }
    expect(existsSync(`${out}.lock`)).toBe(false);
    await runSuite({ suiteFile: file, outFile: out });
    expect(readResults(out)).toHaveLength(4);
  });

  it('two runs started together: one writes every cell once, the other is refused', async () => {
    const file = suite('race', base('race'));
    const out = join(dir, 'race', 'results.jsonl');
    const results = await Promise.allSettled([runSuite({ suiteFile: file, outFile: out }), runSuite({ suiteFile: file, outFile: out, resume: true })]);
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused).toHaveLength(1);
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'RESULTS_LOCKED' });
    expect(readResults(out)).toHaveLength(4);
  });

  it('stays held across refreshes (a run longer than the refresh interval keeps its lock)', async () => {
    const out = join(dir, 'long', 'results.jsonl');
    mkdirSync(join(dir, 'long'));
    const warnings: string[] = [];
    // The shortest proper-lockfile allows: stale after 2 s, refreshed every second.
    const lock = await lockResults(out, (w) => warnings.push(w), { staleMs: 2000 });
    await new Promise((r) => setTimeout(r, 3500));
    expect(warnings).toEqual([]);
    expect((await detbenchRejection(lockResults(out, () => {}, { staleMs: 2000 }))).code).toBe('RESULTS_LOCKED');
    await lock.release();
    expect(existsSync(`${out}.lock`)).toBe(false);
  });

  it('the lock of a killed run on this machine is taken over at once', async () => {
    const file = suite('stale', base('stale'));
    const out = join(dir, 'stale', 'results.jsonl');
    mkdirSync(`${out}.lock`, { recursive: true });
    // A pid that is certainly gone: a child that has exited.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(join(`${out}.lock`, 'holder.json'), JSON.stringify({ pid: Number(dead), host: hostname(), since: '2026-01-01T00:00:00.000Z' }));
    const warnings: string[] = [];
    expect(await runSuite({ suiteFile: file, outFile: out, warn: (w) => warnings.push(w) })).toMatchObject({ completed: 4 });
    expect(warnings).toEqual([`${out}: taking over the lock of a run that is gone (${out}.lock)`]);
  });
});

describe('--resume only completes a file of the same suite', () => {
  let out: string;
  let file: string;
  beforeAll(async () => {
    file = suite('same', base('same'));
    out = join(dir, 'same', 'results.jsonl');
    await runSuite({ suiteFile: file, outFile: out });
  });

  it('refuses another suite id', async () => {
    const err = await detbenchRejection(runSuite({ suiteFile: suite('other', base('other')), outFile: out, resume: true }));
    expect(err.code).toBe('RESUME_MISMATCH');
    expect(err.message).toBe(
      `${out}:1: record same/a/greedy/ref/b1/r0 belongs to suite "same", not "other"; --resume only completes a file of the same suite (use --fresh to move it aside, or another -o)`,
    );
    expect((await cli('run', join(dir, 'other.yaml'), '-o', join(dir, 'same'), '--resume')).code).toBe(2);
  });

  it('refuses another suite file, even with the same content', async () => {
    mkdirSync(join(dir, 'copy'), { recursive: true });
    const copy = join(dir, 'copy', 'same.yaml');
    cpSync(file, copy);
    const err = await detbenchRejection(runSuite({ suiteFile: copy, outFile: out, resume: true }));
    expect(err.message).toContain(':1: record same/a/greedy/ref/b1/r0 was written by suite file ');
  });

  it.each([
    ['a prompt text', (l: string[]) => l.map((x) => x.replace('hello world', 'hello there'))],
    ['max_new_tokens', (l: string[]) => l.map((x) => x.replace('max_new_tokens: 3', 'max_new_tokens: 4'))],
    ['a runner option', (l: string[]) => l.map((x) => x.replace('type: node-cpu }', 'type: node-cpu, options: { intra_op_threads: 2 } }'))],
    ['the decoding grid', (l: string[]) => [...l.slice(0, -2), 'decoding: { temperature: [0.5] }', ...l.slice(-2)]],
  ])('refuses a suite whose %s changed', async (_what, change) => {
    writeFileSync(file, `${change(base('same')).join('\n')}\n`);
    try {
      const err = await detbenchRejection(runSuite({ suiteFile: file, outFile: out, resume: true }));
      expect(err.code).toBe('RESUME_MISMATCH');
      expect(err.message).toMatch(/:1: suite same changed since record same\/a\/greedy\/ref\/b1\/r0 was written \(suite hash [0-9a-f]{12}, now [0-9a-f]{12}: /);
    } finally {
      writeFileSync(file, `${base('same').join('\n')}\n`);
    }
  });

  it('accepts a changed description and YAML layout (they do not change what a cell means)', async () => {
    writeFileSync(file, `${['description: now with words', '# a comment', ...base('same')].join('\n')}\n`);
    expect(await runSuite({ suiteFile: file, outFile: out, resume: true })).toMatchObject({ kept: 4, completed: 0 });
  });

  it('refuses records written before schemaVersion 3, which carry no suite hash', async () => {
    const v1 = join(dir, 'v1', 'results.jsonl');
    mkdirSync(join(dir, 'v1'));
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => {
        const r = JSON.parse(l) as { schemaVersion: number; suite: { hash?: string } };
        r.schemaVersion = 2;
        delete r.suite.hash;
        return JSON.stringify(r);
      });
    writeFileSync(v1, `${lines.join('\n')}\n`);
    expect(readResults(v1)).toHaveLength(4);
    const err = await detbenchRejection(runSuite({ suiteFile: file, outFile: v1, resume: true }));
    expect(err.message).toContain(':1: record same/a/greedy/ref/b1/r0 has no suite hash (schemaVersion 2), so it cannot be checked against this suite');
  });

  it('--fresh moves a mismatching file aside instead', async () => {
    const other = suite('fresh2', base('fresh2'));
    const copyDir = join(dir, 'fresh');
    mkdirSync(copyDir);
    cpSync(out, join(copyDir, 'results.jsonl'));
    const r = await cli('run', other, '-o', copyDir, '--fresh');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/moved the earlier results to .*results\.\d{4}-.*\.jsonl/);
    expect(readResults(join(copyDir, 'results.jsonl')).every((x) => x.suite.id === 'fresh2')).toBe(true);
  });
});

describe('errors name the file', () => {
  it('a results file that is a folder', () => {
    const d = join(dir, 'folder.jsonl');
    mkdirSync(d);
    const err = detbenchError(() => readResults(d));
    expect(err.code).toBe('RESULTS_UNREADABLE');
    expect(err.message).toBe(`${d}: cannot read results file (not a file)`);
  });
});

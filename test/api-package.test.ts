import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// Inside the repo, so the package's own dependencies resolve from the repo's node_modules as they
// would from the consumer's after `npm install`.
const CONSUMER = join(ROOT, 'test', '.cache', 'api-consumer');

/** The README's library example, verbatim: the fenced js block under "## Library API". */
function readmeScript(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Library API'));
  const m = /```js\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('README: no js block under "## Library API"');
  return m[1]!;
}

beforeAll(() => {
  rmSync(CONSUMER, { recursive: true, force: true });
  const pkgDir = join(CONSUMER, 'node_modules', 'detbench');
  mkdirSync(pkgDir, { recursive: true });
  const packs = mkdtempSync(join(tmpdir(), 'detbench-pack-'));
  // `npm pack` runs `prepack` (the build), as `npm publish` would.
  const out = execFileSync('npm', ['pack', '--pack-destination', packs, '--silent'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const tarball = join(packs, out.trim().split('\n').pop()!);
  execFileSync('tar', ['xzf', tarball, '-C', pkgDir, '--strip-components=1']);
  writeFileSync(join(CONSUMER, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
}, 300_000);

describe("the package as another project imports it ('detbench')", () => {
  it('runs the README script with plain node: a suite, its exact-match rates, a report', () => {
    writeFileSync(join(CONSUMER, 'run-smoke.mjs'), readmeScript());
    const stdout = execFileSync(process.execPath, ['run-smoke.mjs'], { cwd: CONSUMER, encoding: 'utf8', env: { ...process.env, CI: '1' } });
    // The smoke suite's repetitions are greedy or seeded on one backend: each runner repeats itself exactly.
    expect(stdout.trim().split('\n')).toEqual(['cpu-1t: exact-match 1, TARr@N 1', 'cpu-2t: exact-match 1, TARr@N 1']);
    expect(existsSync(join(CONSUMER, 'out', 'lib', 'report', 'index.html'))).toBe(true);
  }, 120_000);

  it('type-checks a TypeScript consumer against the published declarations', () => {
    writeFileSync(
      join(CONSUMER, 'check.ts'),
      [
        "import { computeMetrics, DetbenchError, runSuite, type MetricsSummary, type ResultRecord, type RunOptions } from 'detbench';",
        'const records: ResultRecord[] = [];',
        'const m: MetricsSummary = computeMetrics(records);',
        'export const rate: number | null = m.runners[0]?.exactMatchRate ?? null;',
        "export const opts: RunOptions = { suiteFile: 's.yaml', outFile: 'r.jsonl' };",
        'export const run: typeof runSuite = runSuite;',
        "export const e = new DetbenchError('X', 'y');",
        '// @ts-expect-error a suite file is required',
        'export const bad: RunOptions = { outFile: 1 };',
      ].join('\n'),
    );
    writeFileSync(
      join(CONSUMER, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
        },
        files: ['check.ts'],
      }),
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = (() => {
      try {
        return execFileSync(process.execPath, [tsc, '-p', CONSUMER], { cwd: CONSUMER, encoding: 'utf8' });
      } catch (err) {
        return String((err as { stdout?: string }).stdout ?? err);
      }
    })();
    expect(r).toBe('');
  }, 120_000);
});

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { runSuite } from '../api/index.ts';
import { main } from '../cli/main.ts';
import { RUNNERS } from '../runners/index.ts';
import { writeSyntheticResults } from '../scripts/make-synthetic-results.ts';
import { computeMetrics } from '../src/metrics/index.ts';
import { resultsJsonSchema } from '../src/results/json-schema.ts';
import { readResults } from '../src/results/read.ts';
import type { ResultRecord } from '../src/results/record.ts';
import { RECORD_RUNNER_TYPES, resultRecordSchema } from '../src/results/schema.ts';
import { detbenchError } from './helpers/errors.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const published = JSON.parse(readFileSync(join(ROOT, 'results.schema.json'), 'utf8')) as Record<string, unknown>;
// Formats (date-time) are checked by the zod schema; the JSON Schema's structure is what is tested here.
const validate = new Ajv2020({ strict: true, validateFormats: false, allErrors: true }).compile(published);
const examples = readdirSync(join(ROOT, 'reports/examples'))
  .map((d) => join(ROOT, 'reports/examples', d, 'results.jsonl.xz'))
  .filter((f) => existsSync(f));
const hasXz = spawnSync('xz', ['--version']).status === 0;
if (!hasXz) console.warn('results-schema: `xz` not found (apt-get install xz-utils): the committed example results are not checked');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'detbench-schema-'));
});

/** Every record that the published JSON Schema rejects, with ajv's reasons. */
function rejected(records: readonly unknown[]): string[] {
  return records.flatMap((r, i) => (validate(r) ? [] : [`record ${i}: ${JSON.stringify(validate.errors?.slice(0, 3))}`]));
}

describe('the record contract', () => {
  it('results.schema.json is current (regenerate with `npm run schema`)', () => {
    expect(published).toEqual(JSON.parse(JSON.stringify(resultsJsonSchema())));
  });

  it('names every runner type the registry has', () => {
    expect([...RECORD_RUNNER_TYPES].sort()).toEqual(RUNNERS.manifests.map((m) => m.type).sort());
  });

  it('validates every record a real run writes, and the reader reads them back', async () => {
    const suite = join(dir, 'run.yaml');
    writeFileSync(
      suite,
      `id: s\nmodel: ${await tinyModelDir()}\nprompts:\n  - text: hello\nmax_new_tokens: 3\nrepetitions: 1\nrunners:\n  - { id: ref, type: node-cpu }\n  - { id: off, type: remote-api, options: { base_url: "http://127.0.0.1:9/v1", model: m, max_retries: 0, timeout_ms: 2000 } }\n`,
    );
    const out = join(dir, 'run', 'results.jsonl');
    await runSuite({ suiteFile: suite, outFile: out });
    const records = readResults(out);
    expect(new Set(records.map((r) => r.status))).toEqual(new Set(['completed', 'errored']));
    expect(records.every((r) => r.schemaVersion === 3 && /^[0-9a-f]{64}$/.test(r.suite.hash ?? ''))).toBe(true);
    const raw = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    expect(rejected(raw)).toEqual([]);
  });

  it('validates the synthetic results (the same builder as the executor)', () => {
    const { files } = writeSyntheticResults(join(dir, 'synthetic'), { prompts: 2, repetitions: 2, stepsPerRecord: 8 });
    const raw = files.flatMap((f) =>
      readFileSync(f, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    );
    expect(raw.length).toBeGreaterThan(0);
    expect(rejected(raw)).toEqual([]);
    expect(files.flatMap((f) => readResults(f))).toHaveLength(raw.length);
  });

  describe.skipIf(!hasXz)('the committed example results, version-1 files among them (needs xz)', () => {
    const versions = new Set<number>();
    it.each(examples)('%s reads and validates', (xz) => {
      const file = join(dir, `${xz.split('/').at(-2)}.jsonl`);
      writeFileSync(file, execFileSync('xz', ['-dc', xz], { maxBuffer: 1 << 30 }));
      const records = readResults(file);
      expect(records.length).toBe(readFileSync(file, 'utf8').trim().split('\n').length);
      for (const r of records) versions.add(r.schemaVersion);
      expect(records.filter((r) => r.schemaVersion < 3).every((r) => r.suite.hash === undefined)).toBe(true);
      expect(
        rejected(
          readFileSync(file, 'utf8')
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as unknown),
        ),
      ).toEqual([]);
    });
    it('those include version-1 files', () => {
      expect(examples.length).toBeGreaterThanOrEqual(2);
      expect(versions.has(1)).toBe(true);
    });
  });
});
describe('a bad line names the file, the line and the field', () => {
  let good: ResultRecord;
  beforeAll(() => {
    const { files } = writeSyntheticResults(join(dir, 'base'), { prompts: 1, repetitions: 1, stepsPerRecord: 4 });
    good = readResults(files[0]!)[0]!;
  });

  function fileWith(name: string, bad: unknown): string {
    const file = join(dir, `${name}.jsonl`);
    writeFileSync(file, `${JSON.stringify(good)}\n${JSON.stringify(bad)}\n`);
    return file;
  }

  it.each([
    ['a string for a number', () => ({ ...good, repetition: 'first' }), 'repetition: Invalid input: expected number, received string'],
    ['a missing required field', () => ({ ...good, id: undefined }), 'id: Invalid input: expected string, received undefined'],
    ['an unknown status', () => ({ ...good, status: 'done' }), "status: Invalid discriminator value. Expected 'completed' | 'errored' | 'skipped'"],
    [
      'a nested per-step value',
      () => (good.status === 'completed' ? { ...good, steps: { ...good.steps, topIds: [[1, 'x']] } } : good),
      'steps.topIds[0][1]: Invalid input: expected number, received string',
    ],
    ['an undeclared field', () => ({ ...good, extraField: 1 }), '(record): Unrecognized key: "extraField"'],
    ['a version-3 record without its suite hash', () => ({ ...good, suite: { id: 'synthetic', file: 'x.yaml' } }), 'suite.hash: required from schemaVersion 3'],
  ])('%s', (name, make, message) => {
    const file = fileWith(name.replace(/\W+/g, '-'), make());
    const err = detbenchError(() => readResults(file));
    expect(err.code).toBe('RESULTS_INVALID');
    expect(err.message).toContain(`${file}:2: ${message}`);
    expect(err.line).toBe(2);
  });

  it('the fast check of per-step arrays says what the schema says, for every array and kind of bad value', () => {
    if (good.status !== 'completed') throw new Error('fixture');
    const steps = {
      ...good.steps,
      forced: good.steps.token,
      draw: good.steps.token.map(() => 0.5),
      topTokens: good.steps.topIds.map((row) => row.map(String)),
    };
    const cases: [string, unknown][] = [];
    for (const key of Object.keys(steps) as (keyof typeof steps)[]) {
      for (const bad of ['x', 1.5, null, [1], {}]) {
        const copy = structuredClone(steps) as Record<string, unknown[]>;
        const arr = copy[key]!;
        if (Array.isArray(arr[0])) (arr[0] as unknown[])[0] = bad;
        else arr[0] = bad;
        cases.push([key, { ...good, steps: copy }]);
      }
    }
    let rejectedCount = 0;
    for (const [key, rec] of cases) {
      const zod = resultRecordSchema.safeParse(rec);
      const file = fileWith(`fast-${key}`, rec);
      if (zod.success) {
        expect(readResults(file)).toHaveLength(2);
        continue;
      }
      rejectedCount++;
      const issue = zod.error.issues[0]!;
      const field = issue.path
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
        .join('')
        .slice(1);
      expect(detbenchError(() => readResults(file)).message).toBe(`${file}:2: ${field}: ${issue.message}`);
    }
    // Accepted: null and 1.5 in the four number arrays (topLogits, topLogprobs, margin, draw), 'x' in the two string arrays.
    expect(rejectedCount).toBe(cases.length - 10);
  });

  it('metrics warn when version-1 records (another sampler) meet later ones', () => {
    const later = { ...good, id: `${good.id}-b` };
    expect(computeMetrics([{ ...good, schemaVersion: 1 }, later]).warnings).toContain(
      'records of schemaVersion 1 are compared with later ones: version 1 sampled with another algorithm (README, "Sampling"), so sampled tokens can differ for that alone',
    );
    expect(computeMetrics([good, later]).warnings).toEqual([]);
  });

  it('a version this detbench does not read', () => {
    const err = detbenchError(() => readResults(fileWith('v4', { ...good, schemaVersion: 4 })));
    expect(err.code).toBe('RESULTS_VERSION');
    expect(err.message).toMatch(/:2: schemaVersion: 4 is not supported \(this detbench reads 1, 2 and 3; a newer detbench wrote it\)$/);
  });

  it('detbench gate and detbench report exit 2 with that message, and no stack', async () => {
    const file = fileWith('cli', { ...good, batchSize: 0 });
    for (const cmd of [
      ['gate', file],
      ['report', file, '-o', join(dir, 'rep')],
    ]) {
      let err = '';
      const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
        err += String(s);
        return true;
      });
      const o = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      try {
        expect(await main(['node', 'detbench', ...cmd])).toBe(2);
      } finally {
        e.mockRestore();
        o.mockRestore();
        process.exitCode = undefined;
      }
      expect(err).toContain(`${file}:2: batchSize: Too small: expected number to be >=1`);
      expect(err).not.toContain('    at ');
    }
  });
});

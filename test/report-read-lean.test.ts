import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSyntheticResults } from '../scripts/make-synthetic-results.ts';
import { computeMetrics } from '../src/metrics/index.ts';
import { type RecordLocation, readRecordAt, readResults, restoreLean, streamResults } from '../src/results/read.ts';
import type { CompletedRecord, ResultRecord } from '../src/results/record.ts';

const dir = mkdtempSync(join(tmpdir(), 'detbench-lean-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const { files } = writeSyntheticResults(join(dir, 'r'), { prompts: 2, repetitions: 2, stepsPerRecord: 16 });

async function read(file: string, lean: boolean) {
  const records: ResultRecord[] = [];
  const where: RecordLocation[] = [];
  streamResults(
    file,
    (r, loc) => {
      records.push(r);
      where.push(loc);
    },
    { lean },
  );
  return { records, where };
}

describe('streamResults (the one reader), lean as the report reads', () => {
  it('streams exactly what readResults collects, non-ASCII text included', async () => {
    for (const f of files) expect((await read(f, false)).records).toEqual(readResults(f));
  });

  it('reads UTF-8 text, escapes and a truncated last line like readResults', async () => {
    const [first] = readResults(files[0]!);
    const odd = { ...first!, prompt: { id: 'p', text: 'é 👍 \u2028 "\\u00e9" \t' }, environment: { clé: 'café', esc: '\u00e9\u0301' } };
    const file = join(dir, 'odd.jsonl');
    writeFileSync(file, `${JSON.stringify(odd)}\n${JSON.stringify(odd).replace('é 👍', '\\u00e9 \\ud83d\\udc4d')}\n{"truncated`);
    const warnings: string[] = [];
    const got: ResultRecord[] = [];
    streamResults(file, (r) => got.push(r), { lean: true, warn: (w) => warnings.push(w) });
    expect(got.map((r) => r.prompt.text)).toEqual([odd.prompt.text, odd.prompt.text]);
    expect((got[0] as typeof odd).environment).toEqual(odd.environment);
    expect(warnings).toEqual([`${file}:3: ignoring a truncated last line (an interrupted run?)`]);
  });

  it('lean: keeps topLogprobs of a record that also has topTokens (text-matched candidates compare on them)', async () => {
    const first = readResults(files[0]!).find((r) => r.status === 'completed' && r.tokens.length > 0)!;
    if (first.status !== 'completed') throw new Error('fixture');
    const withTexts = { ...first, steps: { ...first.steps, topTokens: first.steps.topIds.map((row) => row.map((id) => `t${id}`)) } };
    const file = join(dir, 'texts.jsonl');
    writeFileSync(file, `${JSON.stringify(withTexts)}\n`);
    const got: ResultRecord[] = [];
    streamResults(file, (r) => got.push(r), { lean: true });
    expect((got[0] as typeof withTexts).steps).toEqual(withTexts.steps);
  });

  it('lean: drops only topLogprobs (where logits exist) and stepMs; metrics are unchanged; readRecordAt and restoreLean give the record back', async () => {
    const all = { full: [] as ResultRecord[], lean: [] as ResultRecord[], where: new Map<ResultRecord, RecordLocation>() };
    for (const f of files) {
      const full = readResults(f);
      const { records, where } = await read(f, true);
      records.forEach((r, i) => {
        const want = full[i]!;
        if (r.status === 'completed' && want.status === 'completed') {
          const hasLogits = want.steps.topLogits.some((row) => row.length > 0) && !want.steps.topTokens;
          expect(r.steps.topLogprobs).toEqual(hasLogits ? [] : want.steps.topLogprobs);
          expect(r.timings.stepMs).toEqual([]);
          expect({ ...r, steps: { ...r.steps, topLogprobs: [] }, timings: { ...r.timings, stepMs: [] } }).toEqual({
            ...want,
            steps: { ...want.steps, topLogprobs: [] },
            timings: { ...want.timings, stepMs: [] },
          });
        } else expect(r).toEqual(want);
        expect(readRecordAt(where[i]!)).toEqual(want);
        expect(restoreLean(r, where[i]!)).toEqual(want);
      });
      all.full.push(...full);
      all.lean.push(...records);
      for (const [i, r] of records.entries()) all.where.set(r, where[i]!);
    }
    const strip = (m: ReturnType<typeof computeMetrics>) => JSON.parse(JSON.stringify(m, (k, v: unknown) => (k === 'logprob' ? null : v))) as unknown;
    // Teacher-forced divergence needs the log-probabilities: the report restores them per record, as here.
    const restore = (r: CompletedRecord) => restoreLean(r, all.where.get(r)!) as CompletedRecord;
    expect(strip(computeMetrics(all.lean, { restore }))).toEqual(strip(computeMetrics(all.full)));
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ReportData } from '../reports/data.ts';
import { EXPLORER_STEPS } from '../reports/explorer-data.ts';
import { generateReport } from '../reports/generate.ts';
import { writeSyntheticResults } from '../scripts/make-synthetic-results.ts';
import { MetricsAccumulator } from '../src/metrics/accumulate.ts';
import { computeMetrics } from '../src/metrics/compute.ts';
import { planMetrics } from '../src/metrics/plan.ts';
import { headOf, streamHeads } from '../src/results/heads.ts';
import { type RecordLocation, restoreLean, streamResults } from '../src/results/read.ts';
import type { CompletedRecord, ResultRecord } from '../src/results/record.ts';
import { streamMetrics } from '../src/results/stream-metrics.ts';
import { detbenchError } from './helpers/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'detbench-stream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The metrics as the report computed them before streaming: every record in memory, read lean, restored for teacher forcing. */
function inMemory(files: readonly string[]) {
  const all: ResultRecord[] = [];
  const where = new Map<ResultRecord, RecordLocation>();
  for (const f of files) {
    streamResults(
      f,
      (r, at) => {
        all.push(r);
        where.set(r, at);
      },
      { lean: true },
    );
  }
  return { all, metrics: computeMetrics(all, { restore: (r) => restoreLean(r, where.get(r)!) as CompletedRecord }) };
}

/** Plain JSON, as the page and `gate --json` see a summary. */
const json = (x: unknown): unknown => JSON.parse(JSON.stringify(x));

// One file per machine: a prompt's records lie in both, so a unit spans files.
const { files } = writeSyntheticResults(join(dir, 'results'), { prompts: 3, repetitions: 3, stepsPerRecord: 60 });

describe('streaming metrics', () => {
  it('equal the metrics over every record in memory, whatever the order of the files', () => {
    for (const order of [files, [...files].reverse()]) {
      const streamed = streamMetrics(order);
      streamed.store.close();
      const expected = inMemory(order).metrics;
      expect(json(streamed.metrics)).toEqual(json(expected));
      // The fixture has every kind of comparison, so the equality covers them.
      expect(expected.teacherForced.records.length).toBeGreaterThan(0);
      expect(new Set(expected.groups.flatMap((g) => g.pairs.map((p) => p.relation)))).toEqual(new Set(['repetition', 'cross-runner']));
      expect(expected.counts.errored + expected.counts.skipped).toBeGreaterThan(0);
    }
  });

  it('count the latest of a record read twice, as in memory', () => {
    // A resumed retry: the same profile and id, finished later, in a file of its own.
    const line = readFileSync(files[0]!, 'utf8').split('\n')[0]!;
    const r = JSON.parse(line) as CompletedRecord;
    const retry = { ...r, finishedAt: '2026-11-22T12:00:09.000Z', tokens: r.tokens.map((t) => t + 1) };
    const extra = join(dir, 'retry.jsonl');
    writeFileSync(extra, `${JSON.stringify(retry)}\n`);
    const all = [...files, extra];
    const streamed = streamMetrics(all);
    streamed.store.close();
    expect(streamed.metrics.counts.superseded).toBe(1);
    expect(json(streamed.metrics)).toEqual(json(inMemory(all).metrics));
  });

  it('give the same summary whatever order the units come in', () => {
    const { all, metrics } = inMemory(files);
    const plan = planMetrics(all);
    const acc = new MetricsAccumulator(plan);
    const heads = plan.heads as readonly ResultRecord[];
    for (const unit of [...plan.units].reverse())
      acc.addUnit(
        unit.map((i) => heads[i]!),
        unit,
      );
    // Without restore the teacher-forced divergence is the top-k bound from lean records: compare the rest.
    const got = acc.summary();
    expect(plan.units.length).toBe(3);
    expect(json({ ...got, teacherForced: null })).toEqual(json({ ...metrics, teacherForced: null }));
  });

  it('plan every teacher-forced pass into the unit of its reference', () => {
    const { all } = inMemory(files);
    const plan = planMetrics(all);
    expect(plan.unmatched).toBe(0);
    const unitOf = new Map<number, number>();
    for (const [k, u] of plan.units.entries()) for (const i of u) unitOf.set(i, k);
    expect(plan.tfReference.size).toBe(all.filter((r) => r.mode === 'teacher-forced' && r.status === 'completed').length);
    for (const [tf, ref] of plan.tfReference) expect(unitOf.get(tf)).toBe(unitOf.get(ref));
  });
});

describe('record heads', () => {
  it('hold every field before the per-step data, parsed from the line prefix', () => {
    const line = Buffer.from(readFileSync(files[0]!, 'utf8').split('\n')[0]!);
    const r = JSON.parse(line.toString()) as CompletedRecord;
    const { promptTokens: _p, tokens: _t, tokenTexts: _x, text: _y, steps: _s, finishReason: _f, timings: _m, batch: _b, ...head } = r;
    expect(headOf(line, 'f', 1)).toEqual(head);
  });

  it('drop a truncated last line with a warning, as the record reader does', () => {
    const f = join(dir, 'cut.jsonl');
    const text = readFileSync(files[0]!, 'utf8').split('\n').slice(0, 3).join('\n');
    // The third record cut in its steps: its head alone would parse.
    writeFileSync(f, text.slice(0, text.length - 500));
    const warnings: string[] = [];
    const heads: string[] = [];
    const summary = streamHeads(f, ({ head }) => heads.push(head.id), { warn: (m) => warnings.push(m) });
    expect(heads).toHaveLength(2);
    const twoLines = text.split('\n').slice(0, 2).join('\n');
    expect(summary.tail).toEqual({ kind: 'truncated', keep: Buffer.byteLength(twoLines) + 1, line: 3 });
    expect(summary.tail).toEqual(streamResults(f, () => {}).tail);
    expect(warnings).toEqual([`${f}:3: ignoring a truncated last line (an interrupted run?)`]);
  });

  it('leave a damaged record (valid head, broken steps) to the full read, which names file and line', () => {
    const f = join(dir, 'damaged.jsonl');
    const lines = readFileSync(files[0]!, 'utf8').split('\n').slice(0, 3);
    lines[1] = lines[1]!.replace('"topLogits":[[', '"topLogits":[[[');
    writeFileSync(f, `${lines.join('\n')}\n`);
    const err = detbenchError(() => streamMetrics([f]));
    expect(err.code).toBe('RESULTS_INVALID');
    expect(err.message).toMatch(new RegExp(`^${f}:2: `));
  });

  it('refuse a common field written after the per-step data, which the first pass would not see', () => {
    const f = join(dir, 'late.jsonl');
    const r = JSON.parse(readFileSync(files[0]!, 'utf8').split('\n')[0]!) as CompletedRecord;
    writeFileSync(f, `${JSON.stringify({ ...r, shard: { index: 1, count: 1, planned: 1 } })}\n`);
    const err = detbenchError(() => streamMetrics([f]));
    expect(err.code).toBe('RESULTS_INVALID');
    expect(err.message).toBe(
      `${f}:1: shard: written after the per-step data; a record's common fields come first (as detbench writes them), so that a large study can be read in two passes`,
    );
  });
});

describe('the report over streamed metrics', () => {
  it('carries each explorer completion capped at its first steps, saying how many there were', async () => {
    const long = writeSyntheticResults(join(dir, 'long'), { prompts: 1, repetitions: 2, stepsPerRecord: 120 }).files;
    const { htmlPath } = await generateReport(long, join(dir, 'report'));
    const m = /<script type="application\/json" id="detbench-data">([^<]*)<\/script>/.exec(readFileSync(htmlPath, 'utf8'))!;
    const data = JSON.parse(m[1]!) as ReportData;
    expect(data.constants.limits.explorerSteps).toBe(EXPLORER_STEPS);
    expect(data.explorer.maxSteps).toBe(EXPLORER_STEPS);
    expect(data.explorer.records.length).toBeGreaterThan(0);
    for (const r of data.explorer.records) {
      expect(r.steps).toHaveLength(EXPLORER_STEPS);
      expect(r.tokenTexts).toHaveLength(EXPLORER_STEPS);
      expect(r.stepsTotal).toBeGreaterThan(EXPLORER_STEPS);
    }
    // The page data's metrics are the in-memory ones.
    const { metrics } = inMemory(long);
    expect(data.runners).toEqual(json(metrics.runners));
    expect(data.pairs).toEqual(json(metrics.pairs));
    expect(data.teacher.byPair).toEqual(json(metrics.teacherForced.byPair));
  });
});

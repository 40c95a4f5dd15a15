import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { beforeAll, describe, expect, it } from 'vitest';
import { runSuite } from '../api/index.ts';
import { EXPORT_COLUMNS } from '../src/export/rows.ts';
import { computeMetrics } from '../src/metrics/index.ts';
import { CaptureSet } from '../src/results/capture.ts';
import { readResults } from '../src/results/read.ts';
import type { CompletedRecord } from '../src/results/record.ts';
import { cli } from './helpers/cli.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

let dir: string;
let results: string;
let records: CompletedRecord[];

type Row = Record<string, unknown>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'detbench-export-'));
  const suite = join(dir, 'suite.yaml');
  writeFileSync(
    suite,
    `id: e\nmodel: ${await tinyModelDir()}\nprompts:\n  - text: hello\n  - text: "a, \\"quoted\\"\\nline"\nmax_new_tokens: 6\nrepetitions: 2\nrunners:\n  - { id: ref, type: node-cpu }\n  - { id: two, type: node-cpu, options: { intra_op_threads: 2 } }\n`,
  );
  results = join(dir, 'out', 'results.jsonl');
  await runSuite({ suiteFile: suite, outFile: results, capture: 'f32' });
  records = readResults(results).filter((r): r is CompletedRecord => r.status === 'completed');
});

describe('detbench export', () => {
  it('writes Parquet that reads back row for row: ids, tokens, logits, hashes, and exact KL on teacher-forced rows', async () => {
    const file = join(dir, 'steps.parquet');
    expect((await cli('export', results, '-o', file)).code).toBe(0);
    const buf = await asyncBufferFromFile(file);
    const meta = await parquetMetadataAsync(buf);
    expect(meta.schema.slice(1).map((s) => s.name)).toEqual(EXPORT_COLUMNS.map(([n]) => n));
    const rows = (await parquetReadObjects({ file: buf })) as Row[];
    const steps = records.reduce((a, r) => a + r.tokens.length, 0);
    expect(rows.length).toBe(steps);

    // Every row is its record's step, in order.
    let at = 0;
    for (const r of records) {
      for (let i = 0; i < r.tokens.length; i++, at++) {
        const row = rows[at]!;
        expect([row.record_id, row.runner, row.mode, row.step, row.token, row.hash]).toEqual([r.id, r.runner.id, r.mode, i, r.steps.token[i], r.steps.hash[i]]);
        expect([row.top1_id, row.top2_id, row.top1_logit, row.top2_logit, row.margin]).toEqual([
          r.steps.topIds[i]![0],
          r.steps.topIds[i]![1],
          r.steps.topLogits[i]![0],
          r.steps.topLogits[i]![1],
          r.steps.margin[i],
        ]);
        expect(row.token_text).toBe(r.tokenTexts[i]);
        if (r.mode === 'teacher-forced') expect(row.forced).toBe(r.steps.forced![i]);
        else expect([row.forced, row.kl, row.kl_basis]).toEqual([null, null, null]);
      }
    }

    // Teacher-forced rows carry the same per-step KL the metrics compute (with the capture: exact).
    const capture = new CaptureSet();
    capture.addResults(results);
    for (const r of records) capture.note(r, results);
    const m = computeMetrics(records, { capture });
    for (const t of m.teacherForced.records) {
      const mine = rows.filter((x) => x.record_id === t.recordId);
      expect(mine.map((x) => x.kl)).toEqual(t.divergence.kl);
      expect(mine.map((x) => x.same_top)).toEqual(t.divergence.sameTop);
      expect(new Set(mine.map((x) => x.kl_basis))).toEqual(new Set(['full']));
    }
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('writes CSV with quoted commas, quotes and line breaks', async () => {
    const file = join(dir, 'steps.csv');
    expect((await cli('export', results, '-o', file)).code).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n', 1)[0]).toBe(EXPORT_COLUMNS.map(([n]) => n).join(','));
    const first = records[0]!;
    // A data line starts with the record id and its suite, prompt and setting ids.
    expect(text).toContain(`\n${first.id},e,${first.prompt.id},greedy,ref,node-cpu,`);
    // One header line and one record per step (token texts with line breaks stay inside quotes).
    const lines = text.match(/^e\/[^,]+,e,/gm) ?? [];
    expect(lines.length).toBe(records.reduce((a, r) => a + r.tokens.length, 0));
  });

  it('quotes a token text with a comma, quotes and a line break (RFC 4180)', async () => {
    const r = structuredClone(records[0]!);
    r.tokenTexts[0] = 'a,"b"\nc';
    const file = join(dir, 'odd.jsonl');
    writeFileSync(file, `${JSON.stringify(r)}\n`);
    expect((await cli('export', file, '-o', join(dir, 'odd.csv'))).code).toBe(0);
    expect(readFileSync(join(dir, 'odd.csv'), 'utf8')).toContain(`,"a,""b""\nc",`);
  });

  it('refuses an unknown format and an unwritable path with exit 2, writing nothing', async () => {
    expect((await cli('export', results, '-o', join(dir, 'x.parquet'), '--format', 'xlsx')).code).toBe(2);
    writeFileSync(join(dir, 'blocker'), 'a file');
    const r = await cli('export', results, '-o', join(dir, 'blocker', 'x.parquet'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('cannot write the export');
    expect((await cli('export', join(dir, 'missing.jsonl'), '-o', join(dir, 'y.parquet'))).code).toBe(2);
    expect(existsSync(join(dir, 'y.parquet'))).toBe(false);
  });
});

import { closeSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { makeDirs } from '../src/fs-dirs.ts';
import { basename, dirname, join, resolve } from 'node:path';
import { DetbenchError } from '../src/errors.ts';
import { computeMetrics } from '../src/metrics/index.ts';
import type { CompletedRecord, ResultRecord } from '../src/results/record.ts';
import { CaptureSet } from '../src/results/capture.ts';
import { ShardCheck } from '../src/results/shards.ts';
import { latestRecords, restoreLean, streamResults, type RecordLocation } from '../src/results/read.ts';
import { DETBENCH_VERSION } from '../src/version.ts';
import { pageBundle } from './bundle.ts';
import { renderHtml } from './html.ts';
import type { ReportLang } from './data.ts';
import { buildReportData } from './view-model.ts';

/** Options of {@link generateReport}. */
export interface ReportOptions {
  /** Runner the others are compared with (key or id); default: each suite's first runner. */
  reference?: string;
  title?: string;
  /** Progress and warnings, one line each. */
  log?: (m: string) => void;
  /** Margin at or below which a split counts as a near tie (default 0.05). */
  nearTie?: number;
  /** The language the page opens in (default English; the page has a switch). */
  lang?: ReportLang;
}

/** What {@link generateReport} wrote. */
export interface ReportResult {
  htmlPath: string;
  bytes: number;
}

/** Creates the temporary file next to the target now, so an unwritable path fails before any work. */
function openTemp(htmlPath: string): { fd: number; tmp: string } {
  const tmp = join(dirname(htmlPath), `.${basename(htmlPath)}.${process.pid}.${Date.now()}.tmp`);
  try {
    makeDirs(dirname(htmlPath));
    return { fd: openSync(tmp, 'wx'), tmp };
  } catch (cause) {
    throw new DetbenchError('OUTPUT_UNWRITABLE', `${htmlPath}: cannot write the report (${(cause as Error).message})`, { cause, file: htmlPath });
  }
}

/**
 * Reads results files (from one machine or many), computes the metrics and writes
 * `outDir/index.html`: one static page with data, charts and libraries inline, which opens from
 * file:// with no network. The page is written to a temporary file and renamed into place, so a
 * failed run leaves no partial report.
 */
export async function generateReport(files: string[], outDir: string, opts: ReportOptions = {}): Promise<ReportResult> {
  const log = opts.log ?? (() => {});
  const htmlPath = resolve(outDir, 'index.html');
  const { fd, tmp } = openTemp(htmlPath);
  let closed = false;
  try {
    const t0 = performance.now();
    const all: ResultRecord[] = [];
    const where = new Map<ResultRecord, RecordLocation>();
    const capture = new CaptureSet();
    const shards = new ShardCheck();
    for (const f of files) {
      if (capture.addResults(f)) log(`report: ${f}: reading its capture sidecar (exact KL divergence)`);
      streamResults(
        f,
        (r, loc) => {
          all.push(r);
          where.set(r, loc);
          capture.note(r, f);
          shards.add(r, loc);
        },
        { lean: true, warn: log },
      );
    }
    // Shards of one run are judged as merge judges them: a report over an incomplete set would mislead.
    if (shards.isSharded) shards.verify();
    // The latest record of each profile and id counts, here as in the metrics (which count the superseded).
    const records = latestRecords(all).records;
    const t1 = performance.now();
    log(`report: read ${all.length} records from ${files.length} file(s) in ${((t1 - t0) / 1000).toFixed(1)} s`);

    const restore = (r: CompletedRecord): CompletedRecord => {
      const loc = where.get(r);
      return loc ? (restoreLean(r, loc) as CompletedRecord) : r;
    };
    const metrics = computeMetrics(all, { capture, restore, ...(opts.reference !== undefined ? { reference: opts.reference } : {}), ...(opts.nearTie !== undefined ? { nearTie: opts.nearTie } : {}) });
    for (const w of metrics.warnings) log(`report: ${w}`);
    const t2 = performance.now();
    log(`report: metrics in ${((t2 - t1) / 1000).toFixed(1)} s`);
    const reloaded = new Map<CompletedRecord, CompletedRecord>();
    const reload = (r: CompletedRecord): CompletedRecord => {
      const loc = where.get(r);
      let full = reloaded.get(r);
      if (!full) {
        full = loc ? (restoreLean(r, loc) as CompletedRecord) : r;
        reloaded.set(r, full);
      }
      return full;
    };
    const data = buildReportData(records, metrics, { title: opts.title ?? 'detbench report', files, detbench: DETBENCH_VERSION, reload, ...(opts.lang ? { lang: opts.lang } : {}) });
    all.length = 0;
    records.length = 0;
    where.clear();
    log(`report: page data (${data.diffs.length} diffs) in ${((performance.now() - t2) / 1000).toFixed(1)} s`);

    const html = renderHtml(data, await pageBundle(log));
    let bytes: number;
    try {
      const buf = Buffer.from(html, 'utf8');
      for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
      bytes = buf.length;
      closeSync(fd);
      closed = true;
      renameSync(tmp, htmlPath);
    } catch (cause) {
      throw new DetbenchError('OUTPUT_UNWRITABLE', `${htmlPath}: cannot write the report (${(cause as Error).message})`, { cause, file: htmlPath });
    }
    return { htmlPath, bytes };
  } catch (err) {
    if (!closed) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      // renamed or never written
    }
    throw err;
  }
}

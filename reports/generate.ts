import { closeSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { DetbenchError } from '../src/errors.ts';
import { makeDirs } from '../src/fs-dirs.ts';
import { streamMetrics } from '../src/results/stream-metrics.ts';
import { DETBENCH_VERSION } from '../src/version.ts';
import { pageBundle } from './bundle.ts';
import type { ReportLang } from './data.ts';
import { renderHtml } from './html.ts';
import { ViewCollector } from './view-collect.ts';
import { buildReportData, LIMITS } from './view-model.ts';

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
    let collector: ViewCollector | undefined;
    const { metrics, plan, store, read } = streamMetrics(files, {
      log: (m) => log(`report: ${m}`),
      ...(opts.reference !== undefined ? { reference: opts.reference } : {}),
      ...(opts.nearTie !== undefined ? { nearTie: opts.nearTie } : {}),
      // What the page takes from every record is gathered as the metrics read it: one pass.
      observe: (p) => (collector = new ViewCollector(p.heads, p.keyOf, LIMITS.latencyPoints)),
    });
    let data: ReturnType<typeof buildReportData>;
    try {
      for (const w of metrics.warnings) log(`report: ${w}`);
      const t1 = performance.now();
      const collected = collector!.result();
      data = buildReportData(
        { heads: plan.heads, keyOf: plan.keyOf, metrics, source: store, collected },
        { title: opts.title ?? 'detbench report', files, detbench: DETBENCH_VERSION, ...(opts.lang ? { lang: opts.lang } : {}) },
      );
      log(
        `report: ${read} records in ${((t1 - t0) / 1000).toFixed(1)} s; page data (${data.diffs.length} diffs) in ${((performance.now() - t1) / 1000).toFixed(1)} s`,
      );
    } finally {
      store.close();
    }

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

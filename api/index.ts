/**
 * detbench's library API: what a script or notebook imports with `import … from 'detbench'`.
 * Like the CLI, this module is a composition root: it wires the core (`src/`) to the shipped
 * runners (`runners/index.ts`) and the report generator (`reports/`); the core itself imports neither.
 */
import { RUNNERS } from '../runners/index.ts';
import { type RunOptions as CoreRunOptions, type RunSummary, runSuite as runWith } from '../src/run/execute.ts';
import type { RunnerList } from '../src/runner-contract/manifest.ts';
import { type LoadedSuite, loadSuite as loadWith } from '../src/suite/load.ts';

/** Options of {@link runSuite}: the core's, with the runner list defaulting to the shipped runners. */
export type RunOptions = Omit<CoreRunOptions, 'runners'> & { runners?: RunnerList };

/** Reads and validates a suite file (runner types: the shipped runners, unless `runners` says otherwise). */
export function loadSuite(file: string, runners: RunnerList = RUNNERS): LoadedSuite {
  return loadWith(file, runners);
}

/** Runs a suite into a results file, one record per cell (see the core's `runSuite`). */
export function runSuite(opts: RunOptions): Promise<RunSummary> {
  return runWith({ ...opts, runners: opts.runners ?? RUNNERS });
}

export { generateReport as renderReport, type ReportOptions, type ReportResult } from '../reports/generate.ts';
export { RUNNERS } from '../runners/index.ts';
export { DetbenchError } from '../src/errors.ts';
export { computeMetrics, type MetricsOptions } from '../src/metrics/index.ts';
export type { MetricsSummary } from '../src/metrics/types.ts';
export { type ReadOptions, readResults, streamResults } from '../src/results/read.ts';
export type { CompletedRecord, ErroredRecord, ResultRecord, SkippedRecord } from '../src/results/record.ts';
export type { RunEvent } from '../src/run/execute.ts';
export type { LoadedSuite, RunnerList, RunSummary };

/**
 * detbench's library API: what a script or notebook imports with `import … from 'detbench'`.
 * Like the CLI, this module is a composition root: it wires the core (`src/`) to the report
 * generator (`reports/`); the core itself imports neither.
 */
export { loadSuite, type LoadedSuite } from '../src/suite/load.ts';
export { runSuite, type RunEvent, type RunOptions, type RunSummary } from '../src/run/execute.ts';
export { readResults, streamResults, type ReadOptions } from '../src/results/read.ts';
export type { CompletedRecord, ErroredRecord, ResultRecord, SkippedRecord } from '../src/results/record.ts';
export { computeMetrics, type MetricsOptions } from '../src/metrics/index.ts';
export type { MetricsSummary } from '../src/metrics/types.ts';
export { generateReport as renderReport, type ReportOptions, type ReportResult } from '../reports/generate.ts';
export { DetbenchError } from '../src/errors.ts';

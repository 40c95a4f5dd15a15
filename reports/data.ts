/**
 * The data a report page embeds: what the generator (Node) hands the renderer (browser). Aggregates
 * plus per-step detail for a capped number of divergent pairs, so the page stays small whatever
 * the size of the results.
 */
import type { Fingerprint } from '../src/env/fingerprint.ts';
import type {
  BitwiseShare,
  LogitDrift,
  MetricsSummary,
  PairAggregate,
  PairComparison,
  RecordRef,
  RunnerMetrics,
  SequenceBasis,
  StepView,
  Tarr,
  TeacherAggregate,
} from '../src/metrics/types.ts';
import type { StatisticsData } from './statistics-data.ts';

/** Bumped when the page can no longer read data of an older generator. */
export const REPORT_DATA_VERSION = 1;

/** One divergent pair with the tokens around the split, for the token-level diff. */
export interface DiffCase {
  group: string;
  promptId: string;
  settingId: string;
  batchSize: number;
  promptText: string;
  relation: PairComparison['relation'];
  a: RecordRef;
  b: RecordRef;
  basis: SequenceBasis;
  /** First divergent position. */
  step: number;
  /** Position of `tokensA[0]` / `tokensB[0]` (earlier tokens are cut). */
  offset: number;
  tokensA: string[];
  tokensB: string[];
  /** Tokens cut after the window. */
  moreA: number;
  moreB: number;
  atA: StepView;
  atB: StepView;
  minMargin: number | null;
  nearTie: boolean;
  /** Largest |Δ| of shared top values at the split step. */
  splitMaxDiff: number | null;
  /** Before the split. */
  drift: LogitDrift;
  bitwise: BitwiseShare;
}

/** How a runner pair is labelled everywhere on the page (generator and renderer alike). */
export function pairLabel(p: { a: string; b: string; relation: PairComparison['relation'] }): string {
  return p.relation === 'repetition' ? `${p.b} (rep k vs rep 0)` : `${p.a} → ${p.b}`;
}

/** One first-divergence observation, for the divergence chart. */
export interface DivergencePoint {
  /** {@link pairLabel} of the pair. */
  pair: string;
  relation: PairComparison['relation'];
  step: number;
  nearTie: boolean;
}

/** Teacher-forced drift along the sequence for one (reference, runner) pair, pooled per position. */
export interface TeacherSeries {
  reference: string;
  runner: string;
  /** Per position: the largest step max-difference over the pair's records. */
  maxDiff: (number | null)[];
  /** Per position: share of records whose own choice equals the reference token. */
  agreement: (number | null)[];
}

/** Records that did not complete, listed with their reasons. */
export interface ProblemRow {
  recordId: string;
  runner: string;
  profileId: string;
  status: 'errored' | 'skipped';
  code: string | null;
  message: string;
}

/** One hardware profile and what ran on it. */
export interface ProfileRow {
  id: string;
  fingerprint: Fingerprint;
  runners: string[];
  records: number;
  tools: string[];
  /** A few distinct runner-reported environments, by runner. */
  environments: { runner: string; provider: string; environment: Record<string, unknown> }[];
}

/** Everything the page shows. */
export interface ReportData {
  version: typeof REPORT_DATA_VERSION;
  title: string;
  generatedAt: string;
  detbench: string;
  files: string[];
  references: Record<string, string>;
  counts: MetricsSummary['counts'];
  acrossRunners: Tarr;
  runners: RunnerMetrics[];
  pairs: PairAggregate[];
  divergences: DivergencePoint[];
  /** Per free-running record (sampled when many). */
  latency: { runner: string; ttftMs: number | null; tokensPerSecond: number | null }[];
  diffs: DiffCase[];
  /** Divergent pairs in total, of which `diffs` shows a capped selection. */
  diffsTotal: number;
  teacher: { byPair: TeacherAggregate[]; series: TeacherSeries[]; unmatched: number };
  problems: ProblemRow[];
  problemsTotal: number;
  profiles: ProfileRow[];
  warnings: string[];
  /** Rates with their intervals and the repetition study (see statistics-data.ts). */
  statistics: StatisticsData;
}

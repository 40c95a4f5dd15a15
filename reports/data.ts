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
export const REPORT_DATA_VERSION = 3;

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
  if (p.relation === 'repetition') return `${p.b} (rep k vs rep 0)`;
  if (p.relation === 'batch') return `${p.b} (batched vs alone)`;
  if (p.relation === 'seed') return `${p.b} (seed vs first seed)`;
  return `${p.a} → ${p.b}`;
}

/** One first-divergence observation, for the divergence chart. */
export interface DivergencePoint {
  /** {@link pairLabel} of the pair. */
  pair: string;
  /** Runner keys of the pair's two sides. */
  a: string;
  b: string;
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
  /** Per position: share of records whose own best candidate (argmax) equals the reference token. */
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

/** What a finding is about: the cause it isolates (see reports/findings.ts). */
export type FindingKind =
  | 'repeat'
  | 'threads'
  | 'wasm'
  | 'webgpu'
  | 'cuda'
  | 'remote'
  | 'backend'
  | 'options'
  | 'precision'
  | 'batch'
  | 'seed'
  | 'control'
  | 'teacher';

/** One finding: counts from the metrics that the page words in the reader's language. */
export interface Finding {
  kind: FindingKind;
  /** The runner keys whose records it covers (the changed side). */
  runners: string[];
  /** The runner compared against, for cross-runner causes; null for within-runner ones. */
  reference: string | null;
  /** What changed, as identifiers (`precision fp32 → fp16`), or null. */
  change: string | null;
  /** Pairs compared (teacher: records). */
  pairs: number;
  identical: number;
  /** Pairs whose completions differ. */
  changed: number;
  /** Median first divergent token over the changed pairs. */
  medianFirst: number | null;
  /** Changed pairs that split at a near tie. */
  nearTies: number;
  /** Steps with bitwise-identical logits rows (before the split), pooled. */
  bitwise: BitwiseShare;
  maxDiff: number | null;
  /** 95% Wilson interval of changed / pairs: how sure the share is. */
  interval: [number, number] | null;
  /** Teacher forcing only: argmax and sampled-choice agreement with the reference token. */
  teacher: { steps: number; argmax: number | null; sampled: number | null } | null;
  /** Where the evidence is: a section, and the index of a diff case in `diffs` when one shows it. */
  link: { section: string; diff: number | null };
}

/** The page's languages. */
export type ReportLang = 'en' | 'de';

/** One recorded step for the sampling explorer. */
export interface ExplorerStep {
  /** The token chosen (teacher-forced: chose), as id and text. */
  token: number;
  ids: number[];
  logits: number[];
  /** log-sum-exp of the whole row (logprob = logit − lse): gives the mass of the unrecorded tail. */
  lse: number;
  /** The uniform draw in [0, 1) the sampler consumed (`steps.draw`), null where nothing was drawn. */
  draw: number | null;
}

/** One completion the sampling explorer can step through. */
export interface ExplorerRecord {
  recordId: string;
  runner: string;
  promptId: string;
  promptText: string;
  settingId: string;
  sampling: { kind: 'greedy' } | { kind: 'sample'; temperature: number; topK: number; topP: number; seed: number };
  /** Texts of the steps carried. */
  tokenTexts: string[];
  /** The completion's first steps, at most `explorer.maxSteps`. */
  steps: ExplorerStep[];
  /** Steps the completion has in all. */
  stepsTotal: number;
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
  latency: { runner: string; ttftMs: number | null; tokensPerSecond: number | null; parallelJobs: number }[];
  diffs: DiffCase[];
  /** Divergent pairs in total, of which `diffs` shows a capped selection. */
  diffsTotal: number;
  teacher: { byPair: TeacherAggregate[]; series: TeacherSeries[]; unmatched: number };
  problems: ProblemRow[];
  problemsTotal: number;
  profiles: ProfileRow[];
  /** Constants the page shows or judges with, as the generator used them (the page hard-codes none). */
  constants: {
    /** Margin at or below which a split is a near tie (`--near-tie`). */
    nearTie: number;
    /** Caps of what the page lists (diffs, problems, points, tokens around a split). */
    limits: Record<string, number>;
  };
  warnings: string[];
  /** Rates with their intervals and the repetition study (see statistics-data.ts). */
  statistics: StatisticsData;
  /** Plain-language findings, first on the page. */
  findings: Finding[];
  /** The language the page opens in (a switch in the page changes it). */
  lang: ReportLang;
  /** Completions for the sampling explorer, and the text of each candidate id they show. */
  explorer: { records: ExplorerRecord[]; total: number; vocab: Record<string, string>; maxSteps: number };
}

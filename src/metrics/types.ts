import type { DivergenceSummary } from './divergence-stats.ts';
import type { Interval, Rate } from './interval.ts';

/**
 * The metrics summary: plain JSON (no Infinity, NaN or Map), so it can be written to disk or
 * inlined into a report page as is. Non-finite numbers from records become `null`.
 */

/** Which sequence two records are compared on: token ids, or token texts (remote runners report no ids). */
export type SequenceBasis = 'ids' | 'texts';

/** One top candidate at one step, as recorded. Fields a runner did not record are `null`. */
export interface Candidate {
  id: number | null;
  text: string | null;
  logit: number | null;
  logprob: number | null;
}

/** A record named in a comparison. `runner` is the runner key (see {@link RunnerMetrics.runner}). */
export interface RecordRef {
  recordId: string;
  runner: string;
  repetition: number;
  profileId: string;
}

/** Differences of the recorded top values of two records over the steps both saw with identical inputs. */
export interface LogitDrift {
  /** `logits` when both records carry top logits, `logprobs` when one only has log-probabilities; null when no candidate could be matched. */
  values: 'logits' | 'logprobs' | null;
  max: number | null;
  mean: number | null;
  /** Steps that had at least one candidate in common. */
  steps: number;
  /** Candidate pairs compared (matched by token id, or by token text on the `texts` basis). */
  candidates: number;
}

/** Steps whose logits row hash is equal in both records, out of the steps compared. */
export interface BitwiseShare {
  equal: number;
  compared: number;
  share: number | null;
}

/** What each record shows at one step: its chosen token, margin and top candidates. */
export interface StepView {
  /** null when the record had already ended before this step. */
  token: { id: number | null; text: string | null } | null;
  /** Best minus second-best logit; null when not recorded (or infinite). */
  margin: number | null;
  top: Candidate[];
}

/** Where two free-running records first chose different tokens (or one stopped early). */
export interface DivergenceStep {
  step: number;
  a: StepView;
  b: StepView;
  /** The smaller of the two margins at the step, null if neither recorded one. */
  minMargin: number | null;
  /** `minMargin` at or below the near-tie threshold: the split is a coin flip of rounding. */
  nearTie: boolean;
  /** Largest |difference| of the top values both list at the split step (same inputs on both sides). */
  maxDiff: number | null;
  /** The split step's logits rows are bitwise equal (then the token differs for another reason); null without hashes. */
  bitwiseEqual: boolean | null;
}

interface PairBase {
  group: string;
  /**
   * `cross-runner`: a runner against the reference; `repetition`: repetition k against the first of
   * the same runner; `batch`: a record run inside a batch against the same runner's record run alone
   * (batch size 1, same prompt, setting and repetition); `seed`: a sampled record against the same
   * runner's record drawn with its first seed (see metrics/contrasts.ts).
   */
  relation: 'cross-runner' | 'repetition' | 'batch' | 'seed';
  a: RecordRef;
  b: RecordRef;
  basis: SequenceBasis;
  lengthA: number;
  lengthB: number;
  /** Over the steps before the split (0..d-1, d = first divergence), or all steps when identical. */
  logits: LogitDrift;
  bitwise: BitwiseShare;
}

/** The comparison of two free-running records: identical, or where and how they diverged. */
export type PairComparison = (PairBase & { outcome: 'identical' }) | (PairBase & { outcome: 'diverged'; firstDivergence: number; divergence: DivergenceStep });

/** Metrics of one runner within one comparison group. */
export interface RunnerGroupMetrics {
  runner: string;
  completed: number;
  errored: number;
  skipped: number;
  uniqueCompletions: number;
  /** Repetitions equal to the most common completion. */
  modalCount: number;
  /** modalCount / completed; null without completed records. */
  exactMatchRate: number | null;
  /** All completed repetitions identical; null with fewer than two. */
  allIdentical: boolean | null;
}

/** Records sharing suite, prompt, setting and batch size: the ones that should agree. */
export interface GroupMetrics {
  key: string;
  suiteId: string;
  promptId: string;
  settingId: string;
  batchSize: number;
  reference: string | null;
  runners: RunnerGroupMetrics[];
  /** Unique completions over all runners of the group. */
  uniqueCompletions: number;
  /** Every completed record of every runner identical; null with fewer than two runners completed. */
  allRunnersIdentical: boolean | null;
  pairs: PairComparison[];
}

/** TARr@N (Atil et al. 2024): share of groups whose N completed runs are all identical. */
export interface Tarr {
  rate: number | null;
  /** Groups counted (those with at least two completed runs). */
  groups: number;
  /** Fewest completed runs in a counted group (the N of TARr@N); null when none counted. */
  n: number | null;
  /** Counted groups whose runs are all identical. */
  agreeing: number;
  /** 95% Wilson interval of `rate` (agreeing of `groups`). */
  ci: Interval | null;
}

/** A distribution of first-divergence indices. */
export interface DivergenceStats {
  count: number;
  min: number | null;
  median: number | null;
  max: number | null;
}

/** Comparisons of one runner pair pooled over all groups. */
export interface PairAggregate {
  a: string;
  b: string;
  relation: PairComparison['relation'];
  pairs: number;
  identical: number;
  /** identical / pairs. */
  exactMatchRate: number | null;
  /** The same as a counted rate with its 95% Wilson interval. */
  exactMatch: Rate;
  firstDivergence: DivergenceStats;
  /** Divergences at a near-tie margin. */
  nearTies: number;
  logitMaxDiff: number | null;
  logitMeanDiff: number | null;
  bitwise: BitwiseShare;
}

/** Why records did not complete, counted. */
export interface ProblemCount {
  status: 'errored' | 'skipped';
  /** The error code, or the skip reason. */
  reason: string;
  count: number;
}

/** Per-runner summary over all groups. */
export interface RunnerMetrics {
  /**
   * The runner key: the runner id, or `id@profile` when the same runner id ran on several
   * hardware profiles (machines are then compared as different runners).
   */
  runner: string;
  runnerId: string;
  runnerType: string;
  profileIds: string[];
  providers: string[];
  records: { completed: number; errored: number; skipped: number; teacherForced: number };
  problems: ProblemCount[];
  /** Pooled: repetitions equal to their group's most common completion / completed repetitions. */
  exactMatchRate: number | null;
  /** The same as a counted rate (modal repetitions of completed ones) with its 95% Wilson interval. */
  exactMatch: Rate;
  tarr: Tarr;
  uniqueCompletions: { mean: number | null; max: number };
  /** Unique completions per completed repetition, pooled over groups (80 unique of 1,000 is 0.08), with its interval. */
  uniqueShare: Rate;
  timings: { medianTtftMs: number | null; medianTokensPerSecond: number | null; medianSessionMs: number | null };
}

/** A teacher-forced record against the reference record whose tokens it was fed. */
export interface TeacherForcedComparison {
  recordId: string;
  referenceId: string;
  group: string;
  runner: string;
  reference: string;
  steps: number;
  /** Steps where the model's own (sampled or greedy) choice equals the reference token at that step. */
  agreeSteps: number;
  /** Sampled-choice agreement: agreeSteps / steps. On sampled settings it mixes sampling luck into kernel agreement. */
  top1Agreement: number | null;
  /** Steps where the model's own choice differs from the reference token. */
  disagreements: number[];
  /**
   * Steps where the runner's own best candidate (`steps.topIds[i][0]`) equals the reference's best
   * candidate at that step (the reference token, on greedy settings).
   */
  argmaxAgreeSteps: number;
  /** Argmax agreement: argmaxAgreeSteps / steps, for greedy and sampled settings alike. */
  argmaxAgreement: number | null;
  /** Steps where the runner's best candidate differs from the reference token. */
  argmaxDisagreements: number[];
  /** Per step: max absolute difference over top candidates both recorded; null where none shared. */
  stepMaxDiff: (number | null)[];
  values: LogitDrift['values'];
  maxDiff: number | null;
  meanDiff: number | null;
  bitwise: BitwiseShare;
  divergence: TeacherDivergence;
}

/** Per-step divergence of one teacher-forced record from its reference (see `divergence.ts`). */
export interface TeacherDivergence {
  /** `full`: from captured full distributions; `top-k`: from the recorded top candidates (KL a lower bound). */
  basis: 'full' | 'top-k';
  /** Per step: KL(P_reference ‖ Q). */
  kl: (number | null)[];
  /** Per step: q(t) − p(t) for the reference token t. */
  dp: (number | null)[];
  /** Per step: both rank the same token first. */
  sameTop: (boolean | null)[];
}

/** Teacher-forced comparisons pooled per (reference, runner). */
export interface TeacherAggregate {
  reference: string;
  runner: string;
  records: number;
  steps: number;
  /** Sampled-choice agreement (see {@link TeacherForcedComparison.top1Agreement}). */
  top1Agreement: number | null;
  /** The same as a counted rate with its 95% Wilson interval. */
  top1: Rate;
  /** Argmax agreement with the reference token (see {@link TeacherForcedComparison.argmaxAgreement}). */
  argmaxAgreement: number | null;
  /** Argmax agreement as a counted rate with its 95% Wilson interval. */
  argmax: Rate;
  maxDiff: number | null;
  meanDiff: number | null;
  bitwise: BitwiseShare;
  /** KL divergence, Δp and same-top-1 over every step of the pair's records, llama.cpp's statistics. */
  divergence: DivergenceSummary;
}

/** What `computeMetrics` returns. */
export interface MetricsSummary {
  /** The reference runner key per suite id. */
  references: Record<string, string>;
  counts: { records: number; completed: number; errored: number; skipped: number; teacherForced: number; superseded: number };
  runners: RunnerMetrics[];
  groups: GroupMetrics[];
  pairs: PairAggregate[];
  /** Across runners: share of groups in which all records of all runners are identical. */
  acrossRunners: Tarr;
  teacherForced: { records: TeacherForcedComparison[]; byPair: TeacherAggregate[]; unmatched: number };
  /** The near-tie margin the divergences were judged with. */
  nearTie: number;
  warnings: string[];
}

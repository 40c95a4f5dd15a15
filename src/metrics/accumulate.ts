import type { CompletedRecord, ResultRecord } from '../results/record.ts';
import { aggregatePairs } from './aggregate.ts';
import { type CompletionCounts, tarr } from './agreement.ts';
import { contrastPairs } from './contrasts.ts';
import { GroupPass } from './group-pass.ts';
import { DEFAULT_NEAR_TIE } from './pairs.ts';
import type { MetricsPlan } from './plan.ts';
import { RecordCounts } from './record-counts.ts';
import { RunnerTally } from './runner-tally.ts';
import type { CaptureSource } from './teacher.ts';
import { TeacherPass } from './teacher-pass.ts';
import type { GroupMetrics, MetricsSummary } from './types.ts';

/** Options of {@link MetricsAccumulator}. */
export interface AccumulateOptions {
  /** Margin at or below which a divergence counts as a near tie (default 0.05). */
  nearTie?: number;
  /** Captured full distributions (see `src/results/capture.ts`): teacher-forced KL becomes exact, not a top-k bound. */
  capture?: CaptureSource;
  /**
   * Gives a record back in full when it was read lean (without `steps.topLogprobs`): teacher-forced
   * divergence needs the log-probabilities of both records. Called once per record compared; not kept.
   */
  restore?: (r: CompletedRecord) => CompletedRecord;
}

const byPosition = <T>(xs: [number, T][]): T[] => xs.sort((a, b) => a[0] - b[0]).map(([, x]) => x);

/**
 * The metrics of a study, one unit of records at a time (see {@link MetricsPlan.units}): what a
 * unit's records give is kept as counts and comparisons, the records themselves are not. Units may
 * come in any order; the summary lists everything in read order, so it is the same summary
 * whatever the order and equal to {@link computeMetrics} over the records in memory.
 *
 * Each concept is a pass of its own: {@link RunnerTally} (per-runner counts, problems, timings,
 * agreement), {@link RecordCounts}, a {@link GroupPass} per unit (comparison groups and their
 * pairs), the batch and seed contrasts, and {@link TeacherPass} (teacher-forced comparisons).
 */
export class MetricsAccumulator {
  readonly #tally: RunnerTally;
  readonly #counts: RecordCounts;
  readonly #teacher: TeacherPass;
  readonly #groups: [number, GroupMetrics][] = [];
  readonly #across: [number, CompletionCounts][] = [];

  constructor(
    private readonly plan: MetricsPlan,
    private readonly opts: AccumulateOptions = {},
  ) {
    // Counts and problems need the heads only; runners are listed in order of appearance.
    this.#tally = new RunnerTally(plan.keyOf);
    this.#counts = new RecordCounts(plan.superseded);
    for (const h of plan.heads) {
      this.#tally.add(h);
      this.#counts.add(h);
    }
    this.#teacher = new TeacherPass({ keyOf: plan.keyOf, tfReference: plan.tfReference, capture: opts.capture, restore: opts.restore ?? ((r) => r) });
  }

  /** Adds one unit: `records[i]` is the record at head position `positions[i]` (lean reads are fine). */
  addUnit(records: readonly ResultRecord[], positions: readonly number[]): void {
    const { keyOf, references, groupOrder } = this.plan;
    const order = (group: string) => groupOrder.get(group)!;
    const groupPass = new GroupPass(keyOf);
    for (const r of records) {
      this.#tally.addTimings(r);
      groupPass.add(r);
    }
    const { groups, across } = groupPass.finish({ references, order, tally: this.#tally, nearTie: this.opts.nearTie });
    const mine = new Map(groups.map((g) => [g.key, g]));
    const free = records.filter((r) => r.mode !== 'teacher-forced');
    for (const p of contrastPairs(free, keyOf, this.opts.nearTie)) mine.get(p.group)?.pairs.push(p);
    for (const g of groups) this.#groups.push([order(g.key), g]);
    for (const [key, c] of across) this.#across.push([order(key), c]);
    this.#teacher.addUnit(records, positions);
  }

  /** The summary of every unit added. */
  summary(): MetricsSummary {
    const { plan } = this;
    const warnings = [...plan.warnings];
    if (plan.unmatched) warnings.push(`${plan.unmatched} teacher-forced record(s) whose reference record is not among the results`);
    const groups = byPosition(this.#groups);
    return {
      references: plan.references,
      counts: this.#counts.finish(),
      runners: this.#tally.finish(),
      groups,
      pairs: aggregatePairs(groups.flatMap((g) => g.pairs)),
      acrossRunners: tarr(byPosition(this.#across)),
      teacherForced: this.#teacher.finish(plan.unmatched),
      nearTie: this.opts.nearTie ?? DEFAULT_NEAR_TIE,
      warnings,
    };
  }
}

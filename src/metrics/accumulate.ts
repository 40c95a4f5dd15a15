import type { CompletedRecord, ResultRecord } from '../results/record.ts';
import { countCompletions, exactMatchRate, tarr, type CompletionCounts } from './agreement.ts';
import { aggregatePairs, aggregateTeacher } from './aggregate.ts';
import { contrastPairs } from './contrasts.ts';
import { groupKey } from './groups.ts';
import { rateOf } from './interval.ts';
import { comparePair, DEFAULT_NEAR_TIE } from './pairs.ts';
import type { MetricsPlan } from './plan.ts';
import { completionKey, sequenceBasis } from './sequence.ts';
import { mean, median, ratio } from './stats.ts';
import { compareTeacherForced, type CaptureSource } from './teacher.ts';
import type { GroupMetrics, MetricsSummary, PairComparison, ProblemCount, RunnerGroupMetrics, RunnerMetrics, TeacherForcedComparison } from './types.ts';

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

interface RunnerAcc {
  m: RunnerMetrics;
  problems: Map<string, ProblemCount>;
  ttft: number[];
  tps: (number | null)[];
  session: number[];
  modal: number;
  completedFree: number;
  /** Each group's completion counts, with the group's position (summaries list groups in read order). */
  groupCounts: [number, CompletionCounts][];
  providers: Set<string>;
  profiles: Set<string>;
}

const byPosition = <T>(xs: [number, T][]): T[] => xs.sort((a, b) => a[0] - b[0]).map(([, x]) => x);

/**
 * The metrics of a study, one unit of records at a time (see {@link MetricsPlan.units}): what a
 * unit's records give is kept as counts and comparisons, the records themselves are not. Units may
 * come in any order; the summary lists everything in read order, so it is the same summary
 * whatever the order and equal to {@link computeMetrics} over the records in memory.
 */
export class MetricsAccumulator {
  private readonly runners = new Map<string, RunnerAcc>();
  private readonly groups: [number, GroupMetrics][] = [];
  private readonly across: [number, CompletionCounts][] = [];
  private readonly teacher: [number, TeacherForcedComparison][] = [];

  constructor(
    private readonly plan: MetricsPlan,
    private readonly opts: AccumulateOptions = {},
  ) {
    // Counts and problems need the heads only; runners are listed in order of appearance.
    for (const r of plan.heads) {
      const a = this.accFor(r);
      a.profiles.add(r.profile.id);
      if (r.status === 'completed') {
        a.m.records.completed++;
        a.providers.add(r.provider.effective);
        if (r.mode === 'teacher-forced') a.m.records.teacherForced++;
      } else {
        const reason = r.status === 'errored' ? r.error.code : r.reason;
        if (r.status === 'errored') a.m.records.errored++;
        else a.m.records.skipped++;
        const k = `${r.status}\u0000${reason}`;
        const p = a.problems.get(k) ?? { status: r.status, reason, count: 0 };
        p.count++;
        a.problems.set(k, p);
      }
    }
  }

  private accFor(r: ResultRecord | MetricsPlan['heads'][number]): RunnerAcc {
    const key = this.plan.keyOf(r);
    let a = this.runners.get(key);
    if (!a) {
      a = {
        m: {
          runner: key,
          runnerId: r.runner.id,
          runnerType: r.runner.type,
          profileIds: [],
          providers: [],
          records: { completed: 0, errored: 0, skipped: 0, teacherForced: 0 },
          problems: [],
          exactMatchRate: null,
          exactMatch: rateOf(0, 0),
          tarr: { rate: null, groups: 0, n: null, agreeing: 0, ci: null },
          uniqueCompletions: { mean: null, max: 0 },
          uniqueShare: rateOf(0, 0),
          timings: { medianTtftMs: null, medianTokensPerSecond: null, medianSessionMs: null },
        },
        problems: new Map(),
        ttft: [],
        tps: [],
        session: [],
        modal: 0,
        completedFree: 0,
        groupCounts: [],
        providers: new Set(),
        profiles: new Set(),
      };
      this.runners.set(key, a);
    }
    return a;
  }

  /** Adds one unit: `records[i]` is the record at head position `positions[i]` (lean reads are fine). */
  addUnit(records: readonly ResultRecord[], positions: readonly number[]): void {
    const { keyOf, references, groupOrder, tfReference } = this.plan;
    const nearTie = this.opts.nearTie;
    const tie = nearTie !== undefined ? { nearTie } : {};
    for (const r of records) {
      if (r.status !== 'completed') continue;
      const a = this.accFor(r);
      if (r.mode !== 'teacher-forced') {
        a.ttft.push(r.timings.ttftMs);
        a.tps.push(r.timings.tokensPerSecond);
      }
      a.session.push(r.timings.sessionMs);
    }

    // Comparison groups of free-running records, runners in order of appearance.
    const free = records.filter((r) => r.mode !== 'teacher-forced');
    const groupMap = new Map<string, { sample: ResultRecord; byRunner: Map<string, ResultRecord[]> }>();
    for (const r of free) {
      const k = groupKey(r);
      let g = groupMap.get(k);
      if (!g) {
        g = { sample: r, byRunner: new Map() };
        groupMap.set(k, g);
      }
      const rk = keyOf(r);
      const list = g.byRunner.get(rk);
      if (list) list.push(r);
      else g.byRunner.set(rk, [r]);
    }
    const keyCache = new Map<CompletedRecord, string>();
    const keysOn = (rs: readonly CompletedRecord[], basis: 'ids' | 'texts'): string[] =>
      rs.map((r) => {
        if (basis === 'texts') return completionKey(r, basis);
        let k = keyCache.get(r);
        if (k === undefined) {
          k = completionKey(r, basis);
          keyCache.set(r, k);
        }
        return k;
      });

    const mine = new Map<string, GroupMetrics>();
    for (const [key, g] of groupMap) {
      const order = groupOrder.get(key)!;
      const reference = references[g.sample.suite.id] ?? null;
      const runnerMetrics: RunnerGroupMetrics[] = [];
      const completedBy = new Map<string, CompletedRecord[]>();
      for (const [rk, list] of g.byRunner) {
        const done = list.filter((r): r is CompletedRecord => r.status === 'completed').sort((x, y) => x.repetition - y.repetition);
        completedBy.set(rk, done);
        const counts = countCompletions(keysOn(done, sequenceBasis(done)));
        const acc = this.runners.get(rk)!;
        acc.groupCounts.push([order, counts]);
        acc.modal += counts.modalCount;
        acc.completedFree += counts.total;
        runnerMetrics.push({
          runner: rk,
          completed: done.length,
          errored: list.filter((r) => r.status === 'errored').length,
          skipped: list.filter((r) => r.status === 'skipped').length,
          uniqueCompletions: counts.unique,
          modalCount: counts.modalCount,
          exactMatchRate: exactMatchRate(counts),
          allIdentical: counts.total >= 2 ? counts.unique === 1 : null,
        });
      }
      const all = [...completedBy.values()].flat();
      const groupCounts = countCompletions(keysOn(all, sequenceBasis(all)));
      const runnersDone = [...completedBy.values()].filter((l) => l.length > 0).length;
      if (runnersDone >= 2) this.across.push([order, groupCounts]);

      const pairs: PairComparison[] = [];
      const refDone = reference ? (completedBy.get(reference) ?? []) : [];
      for (const [rk, done] of completedBy) {
        const first = done[0];
        if (!first) continue;
        // Repetition k against the runner's first completed repetition (normally repetition 0).
        for (const r of done.slice(1)) {
          pairs.push(comparePair(first, r, { group: key, relation: 'repetition', basis: sequenceBasis([first, r]), runners: [rk, rk], ...tie }));
        }
        if (rk === reference || refDone.length === 0) continue;
        // Against the reference's record of the same repetition, else its first completed one.
        for (const r of done) {
          const ref = refDone.find((x) => x.repetition === r.repetition) ?? refDone[0]!;
          pairs.push(comparePair(ref, r, { group: key, relation: 'cross-runner', basis: sequenceBasis([ref, r]), runners: [reference!, rk], ...tie }));
        }
      }
      const gm: GroupMetrics = {
        key,
        suiteId: g.sample.suite.id,
        promptId: g.sample.prompt.id,
        settingId: g.sample.setting.id,
        batchSize: g.sample.batchSize,
        reference,
        runners: runnerMetrics,
        uniqueCompletions: groupCounts.unique,
        allRunnersIdentical: runnersDone >= 2 ? groupCounts.unique === 1 : null,
        pairs,
      };
      mine.set(key, gm);
      this.groups.push([order, gm]);
    }
    for (const p of contrastPairs(free, keyOf, nearTie)) mine.get(p.group)?.pairs.push(p);

    const at = new Map<number, ResultRecord>();
    for (const [i, p] of positions.entries()) at.set(p, records[i]!);
    const restore = this.opts.restore ?? ((r: CompletedRecord) => r);
    positions.forEach((p, i) => {
      const r = records[i]!;
      const ref = tfReference.get(p);
      if (r.status !== 'completed' || r.mode !== 'teacher-forced' || ref === undefined) return;
      const refRecord = at.get(ref);
      if (refRecord?.status !== 'completed') throw new Error(`metrics: the reference of ${r.id} is not in its unit`);
      const t = compareTeacherForced(restore(r), restore(refRecord), { group: groupKey(r), runner: keyOf(r), reference: keyOf(refRecord) }, this.opts.capture);
      this.teacher.push([p, t]);
    });
  }

  /** The summary of every unit added. */
  summary(): MetricsSummary {
    const { plan } = this;
    const warnings = [...plan.warnings];
    if (plan.unmatched) warnings.push(`${plan.unmatched} teacher-forced record(s) whose reference record is not among the results`);
    const groups = byPosition(this.groups);
    const tfRecords = byPosition(this.teacher);
    const runnerList: RunnerMetrics[] = [...this.runners.values()].map((a) => {
      const groupCounts = byPosition(a.groupCounts);
      const counted = groupCounts.filter((c) => c.total > 0);
      const uniques = counted.map((c) => c.unique);
      return {
        ...a.m,
        profileIds: [...a.profiles].sort(),
        providers: [...a.providers].sort(),
        problems: [...a.problems.values()].sort((x, y) => y.count - x.count),
        exactMatchRate: ratio(a.modal, a.completedFree),
        exactMatch: rateOf(a.modal, a.completedFree),
        tarr: tarr(groupCounts),
        uniqueCompletions: { mean: mean(uniques), max: uniques.length ? Math.max(...uniques) : 0 },
        uniqueShare: rateOf(
          uniques.reduce((x, y) => x + y, 0),
          counted.reduce((x, c) => x + c.total, 0),
        ),
        timings: { medianTtftMs: median(a.ttft), medianTokensPerSecond: median(a.tps), medianSessionMs: median(a.session) },
      };
    });
    const heads = plan.heads;
    const counts = {
      records: heads.length,
      completed: heads.filter((r) => r.status === 'completed').length,
      errored: heads.filter((r) => r.status === 'errored').length,
      skipped: heads.filter((r) => r.status === 'skipped').length,
      teacherForced: heads.filter((r) => r.mode === 'teacher-forced').length,
      superseded: plan.superseded,
    };
    return {
      references: plan.references,
      counts,
      runners: runnerList,
      groups,
      pairs: aggregatePairs(groups.flatMap((g) => g.pairs)),
      acrossRunners: tarr(byPosition(this.across)),
      teacherForced: { records: tfRecords, byPair: aggregateTeacher(tfRecords), unmatched: plan.unmatched },
      nearTie: this.opts.nearTie ?? DEFAULT_NEAR_TIE,
      warnings,
    };
  }
}

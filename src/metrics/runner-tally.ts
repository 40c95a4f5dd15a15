import type { RecordHead } from '../results/heads.ts';
import type { ResultRecord } from '../results/record.ts';
import { type CompletionCounts, tarr } from './agreement.ts';
import { rateOf } from './interval.ts';
import { mean, median, ratio } from './stats.ts';
import type { ProblemCount, RunnerMetrics } from './types.ts';

interface RunnerAcc {
  m: RunnerMetrics;
  problems: Map<string, ProblemCount>;
  ttft: number[];
  tps: (number | null)[];
  session: number[];
  modal: number;
  completedFree: number;
  /** Each group's completion counts with the group's position: a runner's groups are pooled in read order, whatever order they came in. */
  groupCounts: [number, CompletionCounts][];
  providers: Set<string>;
  profiles: Set<string>;
}

function emptyAcc(key: string, r: RecordHead): RunnerAcc {
  return {
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
}

/**
 * The per-runner pass: record counts, problems (errored codes, skip reasons), providers and profiles
 * from each record's head ({@link add}), timings from completed records ({@link addTimings}),
 * agreement from each comparison group's completion counts ({@link addGroup}). Runners are listed
 * in the order of their first head.
 */
export class RunnerTally {
  readonly #runners = new Map<string, RunnerAcc>();

  constructor(private readonly keyOf: (r: RecordHead) => string) {}

  #acc(r: RecordHead): RunnerAcc {
    const key = this.keyOf(r);
    let a = this.#runners.get(key);
    if (!a) {
      a = emptyAcc(key, r);
      this.#runners.set(key, a);
    }
    return a;
  }

  /** Counts one record by its head (latest of its key), free-running or teacher-forced. */
  add(r: RecordHead): void {
    const a = this.#acc(r);
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

  /** The timings of one record (whole, or read lean); only completed ones have any. */
  addTimings(r: ResultRecord): void {
    if (r.status !== 'completed') return;
    const a = this.#acc(r);
    if (r.mode !== 'teacher-forced') {
      a.ttft.push(r.timings.ttftMs);
      a.tps.push(r.timings.tokensPerSecond);
    }
    a.session.push(r.timings.sessionMs);
  }

  /**
   * The completion counts of `runner`'s completed records in one comparison group, at the group's
   * position `order` in the study (read order); the runner must have been added.
   */
  addGroup(runner: string, counts: CompletionCounts, order: number): void {
    const a = this.#runners.get(runner);
    if (!a) throw new Error(`metrics: group counts for runner ${runner}, which has no records`);
    a.groupCounts.push([order, counts]);
    a.modal += counts.modalCount;
    a.completedFree += counts.total;
  }

  finish(): RunnerMetrics[] {
    return [...this.#runners.values()].map((a) => {
      const groupCounts = [...a.groupCounts].sort((x, y) => x[0] - y[0]).map(([, c]) => c);
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
  }
}

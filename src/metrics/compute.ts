import { latestRecords } from '../results/read.ts';
import { recordKey, type CompletedRecord, type ResultRecord } from '../results/record.ts';
import { countCompletions, exactMatchRate, tarr, type CompletionCounts } from './agreement.ts';
import { groupKey, pickReferences, runnerKeys } from './groups.ts';
import { comparePair, DEFAULT_NEAR_TIE } from './pairs.ts';
import { completionKey, sequenceBasis } from './sequence.ts';
import { DivergenceAccumulator } from './divergence-stats.ts';
import { rateOf } from './interval.ts';
import { contrastPairs } from './contrasts.ts';
import { mean, median, ratio } from './stats.ts';
import { compareTeacherForced, type CaptureSource } from './teacher.ts';
import type {
  GroupMetrics,
  MetricsSummary,
  PairAggregate,
  PairComparison,
  ProblemCount,
  RunnerGroupMetrics,
  RunnerMetrics,
  TeacherAggregate,
  TeacherForcedComparison,
} from './types.ts';

/** Options of {@link computeMetrics}. */
export interface MetricsOptions {
  /** Reference runner (key or id); default: each suite's first runner seen. */
  reference?: string;
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
  groupCounts: CompletionCounts[];
  providers: Set<string>;
  profiles: Set<string>;
}

/**
 * Computes every reproducibility metric from result records alone (any number of files and
 * machines): per-group agreement, TARr@N, divergence against the reference runner and between
 * repetitions, logit drift, bitwise identity and teacher-forced agreement.
 */
export function computeMetrics(records: readonly ResultRecord[], opts: MetricsOptions = {}): MetricsSummary {
  const warnings: string[] = [];
  const { records: unique, superseded } = latestRecords(records);
  const versions = new Set(unique.map((r) => r.schemaVersion));
  if (versions.has(1) && versions.size > 1) {
    warnings.push('records of schemaVersion 1 are compared with later ones: version 1 sampled with another algorithm (README, "Sampling"), so sampled tokens can differ for that alone');
  }
  if (superseded) {
    warnings.push(`${superseded} record(s) superseded by a later record of the same profile and id (a resumed retry, or a file read twice): the latest counts`);
  }

  const keyOf = runnerKeys(unique);
  const free = unique.filter((r) => r.mode !== 'teacher-forced');
  const references = pickReferences(free.length ? free : unique, keyOf, opts.reference, (m) => warnings.push(m));

  const runners = new Map<string, RunnerAcc>();
  const accFor = (r: ResultRecord): RunnerAcc => {
    const key = keyOf(r);
    let a = runners.get(key);
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
      runners.set(key, a);
    }
    return a;
  };

  // Counts, problems and timings per runner.
  for (const r of unique) {
    const a = accFor(r);
    a.profiles.add(r.profile.id);
    if (r.status === 'completed') {
      a.m.records.completed++;
      a.providers.add(r.provider.effective);
      if (r.mode === 'teacher-forced') a.m.records.teacherForced++;
      else {
        a.ttft.push(r.timings.ttftMs);
        a.tps.push(r.timings.tokensPerSecond);
      }
      a.session.push(r.timings.sessionMs);
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

  // Comparison groups of free-running records, runners in order of appearance.
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

  const groups: GroupMetrics[] = [];
  const acrossCounts: CompletionCounts[] = [];
  for (const [key, g] of groupMap) {
    const reference = references[g.sample.suite.id] ?? null;
    const runnerMetrics: RunnerGroupMetrics[] = [];
    const completedBy = new Map<string, CompletedRecord[]>();
    for (const [rk, list] of g.byRunner) {
      const done = list.filter((r): r is CompletedRecord => r.status === 'completed').sort((x, y) => x.repetition - y.repetition);
      completedBy.set(rk, done);
      const counts = countCompletions(keysOn(done, sequenceBasis(done)));
      const acc = runners.get(rk)!;
      acc.groupCounts.push(counts);
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
    if (runnersDone >= 2) acrossCounts.push(groupCounts);

    const pairs: PairComparison[] = [];
    const nearTie = opts.nearTie;
    const refDone = reference ? completedBy.get(reference) ?? [] : [];
    for (const [rk, done] of completedBy) {
      const first = done[0];
      if (!first) continue;
      // Repetition k against the runner's first completed repetition (normally repetition 0).
      for (const r of done.slice(1)) {
        pairs.push(comparePair(first, r, { group: key, relation: 'repetition', basis: sequenceBasis([first, r]), runners: [rk, rk], ...(nearTie !== undefined ? { nearTie } : {}) }));
      }
      if (rk === reference || refDone.length === 0) continue;
      // Against the reference's record of the same repetition, else its first completed one.
      for (const r of done) {
        const ref = refDone.find((x) => x.repetition === r.repetition) ?? refDone[0]!;
        pairs.push(comparePair(ref, r, { group: key, relation: 'cross-runner', basis: sequenceBasis([ref, r]), runners: [reference!, rk], ...(nearTie !== undefined ? { nearTie } : {}) }));
      }
    }
    groups.push({
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
    });
  }

  const byKey = new Map(groups.map((g) => [g.key, g]));
  for (const p of contrastPairs(free, keyOf, opts.nearTie)) byKey.get(p.group)?.pairs.push(p);

  const tf = teacherForced(unique, keyOf, opts.capture, opts.restore ?? ((r) => r));
  if (tf.unmatched) warnings.push(`${tf.unmatched} teacher-forced record(s) whose reference record is not among the results`);

  const runnerList: RunnerMetrics[] = [...runners.values()].map((a) => {
    const counted = a.groupCounts.filter((c) => c.total > 0);
    const uniques = counted.map((c) => c.unique);
    return {
      ...a.m,
      profileIds: [...a.profiles].sort(),
      providers: [...a.providers].sort(),
      problems: [...a.problems.values()].sort((x, y) => y.count - x.count),
      exactMatchRate: ratio(a.modal, a.completedFree),
      exactMatch: rateOf(a.modal, a.completedFree),
      tarr: tarr(a.groupCounts),
      uniqueCompletions: { mean: mean(uniques), max: uniques.length ? Math.max(...uniques) : 0 },
      uniqueShare: rateOf(
        uniques.reduce((x, y) => x + y, 0),
        counted.reduce((x, c) => x + c.total, 0),
      ),
      timings: { medianTtftMs: median(a.ttft), medianTokensPerSecond: median(a.tps), medianSessionMs: median(a.session) },
    };
  });

  const counts = {
    records: unique.length,
    completed: unique.filter((r) => r.status === 'completed').length,
    errored: unique.filter((r) => r.status === 'errored').length,
    skipped: unique.filter((r) => r.status === 'skipped').length,
    teacherForced: unique.filter((r) => r.mode === 'teacher-forced').length,
    superseded,
  };

  return {
    references,
    counts,
    runners: runnerList,
    groups,
    pairs: aggregatePairs(groups.flatMap((g) => g.pairs)),
    acrossRunners: tarr(acrossCounts),
    teacherForced: tf,
    nearTie: opts.nearTie ?? DEFAULT_NEAR_TIE,
    warnings,
  };
}

/** Pools pair comparisons per (a, b, relation). */
export function aggregatePairs(pairs: readonly PairComparison[]): PairAggregate[] {
  const by = new Map<string, { agg: PairAggregate; divs: number[]; maxes: number[]; means: number[] }>();
  for (const p of pairs) {
    const k = `${p.relation}\u0000${p.a.runner}\u0000${p.b.runner}`;
    let e = by.get(k);
    if (!e) {
      e = {
        agg: {
          a: p.a.runner,
          b: p.b.runner,
          relation: p.relation,
          pairs: 0,
          identical: 0,
          exactMatchRate: null,
          exactMatch: rateOf(0, 0),
          firstDivergence: { count: 0, min: null, median: null, max: null },
          nearTies: 0,
          logitMaxDiff: null,
          logitMeanDiff: null,
          bitwise: { equal: 0, compared: 0, share: null },
        },
        divs: [],
        maxes: [],
        means: [],
      };
      by.set(k, e);
    }
    const a = e.agg;
    a.pairs++;
    if (p.outcome === 'identical') a.identical++;
    else {
      e.divs.push(p.firstDivergence);
      if (p.divergence.nearTie) a.nearTies++;
    }
    if (p.logits.max !== null) e.maxes.push(p.logits.max);
    if (p.logits.mean !== null) e.means.push(p.logits.mean);
    a.bitwise.equal += p.bitwise.equal;
    a.bitwise.compared += p.bitwise.compared;
  }
  return [...by.values()].map(({ agg, divs, maxes, means }) => ({
    ...agg,
    exactMatchRate: ratio(agg.identical, agg.pairs),
    exactMatch: rateOf(agg.identical, agg.pairs),
    firstDivergence: {
      count: divs.length,
      min: divs.length ? Math.min(...divs) : null,
      median: median(divs),
      max: divs.length ? Math.max(...divs) : null,
    },
    logitMaxDiff: maxes.length ? Math.max(...maxes) : null,
    logitMeanDiff: mean(means),
    bitwise: { ...agg.bitwise, share: ratio(agg.bitwise.equal, agg.bitwise.compared) },
  }));
}

function teacherForced(
  records: readonly ResultRecord[],
  keyOf: (r: ResultRecord) => string,
  capture: CaptureSource | undefined,
  restore: (r: CompletedRecord) => CompletedRecord,
): MetricsSummary['teacherForced'] {
  const byId = new Map<string, CompletedRecord>();
  const byProfileId = new Map<string, CompletedRecord>();
  for (const r of records) {
    if (r.status !== 'completed' || r.mode === 'teacher-forced') continue;
    if (!byId.has(r.id)) byId.set(r.id, r);
    byProfileId.set(recordKey(r), r);
  }
  const out: TeacherForcedComparison[] = [];
  let unmatched = 0;
  for (const r of records) {
    if (r.status !== 'completed' || r.mode !== 'teacher-forced') continue;
    const ref = r.referenceId ? (byProfileId.get(recordKey({ id: r.referenceId, profile: r.profile })) ?? byId.get(r.referenceId)) : undefined;
    if (!ref) {
      unmatched++;
      continue;
    }
    out.push(compareTeacherForced(restore(r), restore(ref), { group: groupKey(r), runner: keyOf(r), reference: keyOf(ref) }, capture));
  }
  return { records: out, byPair: aggregateTeacher(out), unmatched };
}

/** Pools teacher-forced comparisons per (reference, runner). */
export function aggregateTeacher(list: readonly TeacherForcedComparison[]): TeacherAggregate[] {
  const by = new Map<string, { agg: TeacherAggregate; agree: number; argmaxAgree: number; maxes: number[]; means: number[]; div: DivergenceAccumulator }>();
  for (const t of list) {
    const k = `${t.reference}\u0000${t.runner}`;
    let e = by.get(k);
    if (!e) {
      e = {
        agg: {
          reference: t.reference,
          runner: t.runner,
          records: 0,
          steps: 0,
          top1Agreement: null,
          top1: rateOf(0, 0),
          argmaxAgreement: null,
          argmax: rateOf(0, 0),
          maxDiff: null,
          meanDiff: null,
          bitwise: { equal: 0, compared: 0, share: null },
          divergence: new DivergenceAccumulator().summary(),
        },
        agree: 0,
        argmaxAgree: 0,
        maxes: [],
        means: [],
        div: new DivergenceAccumulator(),
      };
      by.set(k, e);
    }
    e.agg.records++;
    e.agg.steps += t.steps;
    e.agree += t.agreeSteps;
    e.argmaxAgree += t.argmaxAgreeSteps;
    if (t.maxDiff !== null) e.maxes.push(t.maxDiff);
    if (t.meanDiff !== null) e.means.push(t.meanDiff);
    e.agg.bitwise.equal += t.bitwise.equal;
    e.agg.bitwise.compared += t.bitwise.compared;
    const d = t.divergence;
    for (let i = 0; i < d.kl.length; i++) e.div.add({ kl: d.kl[i] ?? null, dp: d.dp[i] ?? null, sameTop: d.sameTop[i] ?? null }, d.basis);
  }
  return [...by.values()].map(({ agg, agree, argmaxAgree, maxes, means, div }) => ({
    ...agg,
    top1Agreement: ratio(agree, agg.steps),
    top1: rateOf(agree, agg.steps),
    argmaxAgreement: ratio(argmaxAgree, agg.steps),
    argmax: rateOf(argmaxAgree, agg.steps),
    divergence: div.summary(),
    maxDiff: maxes.length ? Math.max(...maxes) : null,
    meanDiff: mean(means),
    bitwise: { ...agg.bitwise, share: ratio(agg.bitwise.equal, agg.bitwise.compared) },
  }));
}

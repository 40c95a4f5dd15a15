import { stepView } from '../src/metrics/steps.ts';
import type { MetricsSummary, PairComparison, StepView, TeacherForcedComparison } from '../src/metrics/types.ts';
import type { RecordHead } from '../src/results/heads.ts';
import type { CompletedRecord } from '../src/results/record.ts';
import {
  type DiffCase,
  type DivergencePoint,
  type ProblemRow,
  type ProfileRow,
  pairLabel,
  REPORT_DATA_VERSION,
  type ReportData,
  type ReportLang,
  type TeacherSeries,
} from './data.ts';
import { EXPLORER_STEPS, explorerData } from './explorer-data.ts';
import { buildFindings } from './findings.ts';
import { buildStatistics } from './statistics-data.ts';
import type { ViewCollected } from './view-collect.ts';

/** Caps that keep the page small whatever the size of the results. */
export const LIMITS = {
  /** Divergent pairs shown in the token diff (one per group and runner pair, earliest split first). */
  diffs: 240,
  /** Tokens shown before and after the first divergent token. */
  before: 48,
  after: 64,
  divergencePoints: 4000,
  latencyPoints: 4000,
  problems: 500,
  promptChars: 2000,
  /** Positions of the teacher-forced drift series. */
  teacherSteps: 2048,
} as const;

/**
 * Where the view model gets the few records it shows whole (the two sides of each diff, the
 * explorer's completions): fetched by id and profile, in full, when it needs them. The report reads
 * them from disk (`src/results/record-store.ts`); nothing else of a record reaches the page except
 * through the metrics, the heads and {@link ViewCollected}.
 */
export interface RecordSource {
  /** A completed record with every per-step field; undefined when the results hold no such completed record. */
  full(ref: { recordId: string; profileId: string }): CompletedRecord | undefined;
}

/** What {@link buildReportData} builds from. */
export interface ViewInput {
  /** The records that count (the latest of each profile and id), heads only, in read order. */
  heads: readonly RecordHead[];
  keyOf: (r: RecordHead) => string;
  metrics: MetricsSummary;
  source: RecordSource;
  /** Gathered from every record as the metrics read them (`view-collect.ts`). */
  collected: ViewCollected;
}

/** Inputs of {@link buildReportData} besides the records and their metrics. */
export interface ViewOptions {
  title: string;
  files: string[];
  detbench: string;
  generatedAt?: string;
  /** The language the page opens in (default English). */
  lang?: ReportLang;
}

/** Every k-th element so that at most `max` remain (deterministic, keeps the spread). */
function thin<T>(xs: T[], max: number): T[] {
  if (xs.length <= max) return xs;
  const step = xs.length / max;
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(xs[Math.floor(i * step)]!);
  return out;
}

/**
 * Turns the metrics, the records' heads and the few records shown whole into what the page
 * embeds: aggregates in full, per-record detail sampled, and per-token detail only for a capped
 * set of divergent pairs and explorer steps; every cap travels in `constants.limits`.
 */
export function buildReportData(input: ViewInput, o: ViewOptions): ReportData {
  const { heads: records, keyOf, metrics: m, source, collected } = input;

  const allPairs = m.groups.flatMap((g) => g.pairs);
  const divergent = allPairs.filter((p): p is Extract<PairComparison, { outcome: 'diverged' }> => p.outcome === 'diverged');

  const divergences: DivergencePoint[] = thin(
    divergent.map((p) => ({
      pair: pairLabel({ a: p.a.runner, b: p.b.runner, relation: p.relation }),
      a: p.a.runner,
      b: p.b.runner,
      relation: p.relation,
      step: p.firstDivergence,
      nearTie: p.divergence.nearTie,
    })),
    LIMITS.divergencePoints,
  );

  const diffs = pickDiffs(divergent, m, source);
  fillCandidateTexts(diffs, collected.tokenText);

  const problems: ProblemRow[] = [];
  let problemsTotal = 0;
  for (const r of records) {
    if (r.status === 'completed') continue;
    problemsTotal++;
    if (problems.length >= LIMITS.problems) continue;
    problems.push({
      recordId: r.id,
      runner: keyOf(r),
      profileId: r.profile.id,
      status: r.status,
      code: r.status === 'errored' ? r.error.code : null,
      message: r.status === 'errored' ? r.error.message : r.reason,
    });
  }

  return {
    version: REPORT_DATA_VERSION,
    title: o.title,
    generatedAt: o.generatedAt ?? new Date().toISOString(),
    detbench: o.detbench,
    files: o.files,
    references: m.references,
    counts: m.counts,
    acrossRunners: m.acrossRunners,
    runners: m.runners,
    pairs: m.pairs,
    divergences,
    latency: collected.latency,
    diffs,
    diffsTotal: divergent.length,
    teacher: { byPair: m.teacherForced.byPair, series: teacherSeries(m.teacherForced.records), unmatched: m.teacherForced.unmatched },
    problems,
    problemsTotal,
    profiles: profiles(records, keyOf),
    constants: { nearTie: m.nearTie, limits: { ...LIMITS, explorerSteps: EXPLORER_STEPS } },
    warnings: m.warnings,
    statistics: buildStatistics(m),
    findings: buildFindings(records, m, keyOf, diffs),
    lang: o.lang ?? 'en',
    explorer: explorerData(records, collected.explorable, keyOf, source, collected.tokenText),
  };
}

/** One case per (group, relation, runner pair): its earliest divergence; cross-runner pairs first, then id-based, then near ties. */
function pickDiffs(divergent: Extract<PairComparison, { outcome: 'diverged' }>[], m: MetricsSummary, source: RecordSource): DiffCase[] {
  const best = new Map<string, Extract<PairComparison, { outcome: 'diverged' }>>();
  for (const p of divergent) {
    const k = `${p.group}\u0000${p.relation}\u0000${p.a.runner}\u0000${p.b.runner}`;
    const cur = best.get(k);
    if (!cur || p.firstDivergence < cur.firstDivergence) best.set(k, p);
  }
  const ranked = [...best.values()].sort(
    (x, y) =>
      Number(x.relation !== 'cross-runner') - Number(y.relation !== 'cross-runner') ||
      // Pairs with token ids and logits on both sides show the most at the split.
      Number(x.basis !== 'ids') - Number(y.basis !== 'ids') ||
      Number(y.divergence.nearTie) - Number(x.divergence.nearTie) ||
      x.firstDivergence - y.firstDivergence,
  );
  // Round-robin over runner pairs so that a cap never hides a pair entirely.
  const byPair = new Map<string, typeof ranked>();
  for (const p of ranked) {
    const k = `${p.relation}\u0000${p.a.runner}\u0000${p.b.runner}`;
    const list = byPair.get(k);
    if (list) list.push(p);
    else byPair.set(k, [p]);
  }
  const chosen: typeof ranked = [];
  const queues = [...byPair.values()];
  for (let i = 0; chosen.length < LIMITS.diffs && queues.some((q) => q.length > i); i++) {
    for (const q of queues) if (q[i] && chosen.length < LIMITS.diffs) chosen.push(q[i]!);
  }
  const groups = new Map(m.groups.map((g) => [g.key, g]));
  const out: DiffCase[] = [];
  for (const p of chosen) {
    // The split step is shown with every recorded field, so read these two records in full.
    const ra = source.full(p.a);
    const rb = source.full(p.b);
    const g = groups.get(p.group);
    if (!ra || !rb || !g) continue;
    const offset = Math.max(0, p.firstDivergence - LIMITS.before);
    const end = p.firstDivergence + LIMITS.after;
    const ta = textsOf(ra);
    const tb = textsOf(rb);
    out.push({
      group: p.group,
      promptId: g.promptId,
      settingId: g.settingId,
      batchSize: g.batchSize,
      promptText: ra.prompt.text.slice(0, LIMITS.promptChars),
      relation: p.relation,
      a: p.a,
      b: p.b,
      basis: p.basis,
      step: p.firstDivergence,
      offset,
      tokensA: ta.slice(offset, end),
      tokensB: tb.slice(offset, end),
      moreA: Math.max(0, ta.length - end),
      moreB: Math.max(0, tb.length - end),
      atA: stepView(ra, p.firstDivergence),
      atB: stepView(rb, p.firstDivergence),
      minMargin: p.divergence.minMargin,
      nearTie: p.divergence.nearTie,
      splitMaxDiff: p.divergence.maxDiff,
      drift: p.logits,
      bitwise: p.bitwise,
    });
  }
  return out;
}

function textsOf(r: CompletedRecord): string[] {
  if (r.tokenTexts.length > 0) return r.tokenTexts;
  return r.tokens.map((id) => `#${id}`);
}

/** Local runners record candidate ids only: name them with the texts the outputs used for those ids. */
function fillCandidateTexts(diffs: DiffCase[], tokenText: (id: number) => string | undefined): void {
  const wanted = new Set<number>();
  const views: StepView[] = diffs.flatMap((d) => [d.atA, d.atB]);
  for (const v of views) for (const c of v.top) if (c.text === null && c.id !== null) wanted.add(c.id);
  for (const v of views) if (v.token && v.token.text === null && v.token.id !== null) wanted.add(v.token.id);
  if (wanted.size === 0) return;
  const names = new Map<number, string>();
  for (const id of wanted) {
    const text = tokenText(id);
    if (text !== undefined) names.set(id, text);
  }
  for (const v of views) {
    for (const c of v.top) if (c.text === null && c.id !== null) c.text = names.get(c.id) ?? null;
    if (v.token && v.token.text === null && v.token.id !== null) v.token.text = names.get(v.token.id) ?? null;
  }
}

function teacherSeries(list: readonly TeacherForcedComparison[]): TeacherSeries[] {
  const by = new Map<string, { s: TeacherSeries; agreeN: number[]; agreeD: number[] }>();
  for (const t of list) {
    const k = `${t.reference}\u0000${t.runner}`;
    let e = by.get(k);
    if (!e) {
      e = { s: { reference: t.reference, runner: t.runner, maxDiff: [], agreement: [] }, agreeN: [], agreeD: [] };
      by.set(k, e);
    }
    const n = Math.min(t.stepMaxDiff.length, LIMITS.teacherSteps);
    for (let i = 0; i < n; i++) {
      const d = t.stepMaxDiff[i] ?? null;
      const cur = e.s.maxDiff[i] ?? null;
      e.s.maxDiff[i] = d === null ? cur : cur === null ? d : Math.max(cur, d);
    }
    for (let i = 0; i < Math.min(t.steps, LIMITS.teacherSteps); i++) {
      e.agreeN[i] = (e.agreeN[i] ?? 0) + 1;
      e.agreeD[i] = (e.agreeD[i] ?? 0) + 1;
    }
    for (const i of t.argmaxDisagreements) if (i < LIMITS.teacherSteps) e.agreeN[i]! -= 1;
  }
  return [...by.values()].map(({ s, agreeN, agreeD }) => ({
    ...s,
    maxDiff: Array.from(s.maxDiff, (x) => x ?? null),
    agreement: agreeD.map((d, i) => (d ? agreeN[i]! / d : null)),
  }));
}

function profiles(records: readonly RecordHead[], keyOf: (r: RecordHead) => string): ProfileRow[] {
  const by = new Map<string, ProfileRow & { envKeys: Set<string>; runnerSet: Set<string>; toolSet: Set<string> }>();
  for (const r of records) {
    const id = r.profile.id;
    let p = by.get(id);
    if (!p) {
      p = {
        id,
        fingerprint: r.profile.fingerprint,
        runners: [],
        records: 0,
        tools: [],
        environments: [],
        envKeys: new Set(),
        runnerSet: new Set(),
        toolSet: new Set(),
      };
      by.set(id, p);
    }
    p.records++;
    p.runnerSet.add(keyOf(r));
    p.toolSet.add(`detbench ${r.tool.detbench} · onnxruntime ${r.tool.onnxruntime ?? '—'} · node ${r.tool.node}`);
    if (r.status === 'completed') {
      const env = JSON.stringify(r.environment);
      const k = `${keyOf(r)}\u0000${r.provider.effective}\u0000${env}`;
      if (!p.envKeys.has(k) && p.environments.length < 20) {
        p.envKeys.add(k);
        p.environments.push({ runner: keyOf(r), provider: `${r.provider.requested} → ${r.provider.effective}`, environment: r.environment });
      }
    }
  }
  return [...by.values()].map(({ envKeys: _e, runnerSet, toolSet, ...p }) => ({ ...p, runners: [...runnerSet], tools: [...toolSet] }));
}

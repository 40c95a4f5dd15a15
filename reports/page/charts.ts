import type { TopLevelSpec } from 'vega-lite';
import type { ReportData } from '../data.ts';
import { t } from './i18n.ts';
import { pairText } from './sections.ts';

/** Shared look: the page's font and muted axes. */
export const config = {
  font: 'system-ui, -apple-system, "Segoe UI", sans-serif',
  axis: { labelColor: '#475569', titleColor: '#334155', gridColor: '#e2e8f0', domainColor: '#cbd5e1', labelLimit: 260 },
  legend: { labelColor: '#334155', titleColor: '#334155' },
  view: { stroke: null },
} as const;

const relationColor = () => ({
  domain: (['cross-runner', 'repetition', 'batch', 'seed'] as const).map((r) => t(`relation.${r}`)),
  range: ['#4f46e5', '#94a3b8', '#0d9488', '#d97706'],
});

/** Exact-match rate per runner pair (share of compared record pairs fully identical). */
export function exactMatchSpec(d: ReportData): TopLevelSpec {
  return {
    config,
    width: 'container',
    height: { step: 22 },
    title: t('chart.exact'),
    data: {
      values: d.pairs.map((p) => ({ pair: pairText(p), relation: t(`relation.${p.relation}`), rate: p.exactMatchRate, pairs: p.pairs, nearTies: p.nearTies })),
    },
    mark: { type: 'bar', cornerRadiusEnd: 3 },
    encoding: {
      y: { field: 'pair', type: 'nominal', sort: null, title: null },
      x: { field: 'rate', type: 'quantitative', title: t('chart.identicalPairs'), axis: { format: '.0%' }, scale: { domain: [0, 1] } },
      color: { field: 'relation', type: 'nominal', scale: relationColor(), title: null },
      tooltip: [
        { field: 'pair', type: 'nominal' },
        { field: 'rate', type: 'quantitative', format: '.1%', title: t('chart.exactMatch') },
        { field: 'pairs', type: 'quantitative', title: t('chart.pairsCompared') },
        { field: 'nearTies', type: 'quantitative', title: t('col.nearTies') },
      ],
    },
  };
}

/** Where outputs part ways: first-divergence index of each divergent pair, near ties marked. */
export function divergenceSpec(d: ReportData): TopLevelSpec {
  const [tie, clear] = [t('chart.nearTie'), t('chart.clear')];
  const values = d.divergences.map((p) => ({
    pair: pairText({ a: p.a, b: p.b, relation: p.relation }),
    relation: p.relation,
    step: p.step,
    split: p.nearTie ? tie : clear,
  }));
  return {
    config,
    width: 'container',
    height: { step: 26 },
    title: t('chart.firstDiv'),
    data: { values },
    layer: [
      {
        mark: { type: 'tick', thickness: 2, opacity: 0.55 },
        encoding: {
          y: { field: 'pair', type: 'nominal', title: null, sort: null },
          x: { field: 'step', type: 'quantitative', title: t('chart.firstDivAxis') },
          color: { field: 'split', type: 'nominal', scale: { domain: [tie, clear], range: ['#f59e0b', '#4f46e5'] }, title: t('chart.marginAt') },
          tooltip: [
            { field: 'pair', type: 'nominal' },
            { field: 'step', type: 'quantitative', title: t('chart.firstDivAxis') },
            { field: 'split', type: 'nominal' },
          ],
        },
      },
      {
        mark: { type: 'point', shape: 'diamond', filled: true, size: 70, color: '#0f172a' },
        encoding: {
          y: { field: 'pair', type: 'nominal', sort: null },
          x: { aggregate: 'median', field: 'step', type: 'quantitative' },
          tooltip: [{ aggregate: 'median', field: 'step', type: 'quantitative', title: t('chart.medianFirst') }],
        },
      },
    ],
  };
}

/** Time to first token and decode throughput per runner (one dot per record, box per runner). */
export function latencySpec(d: ReportData): TopLevelSpec {
  const panel = (field: 'ttftMs' | 'tokensPerSecond', title: string) => ({
    width: 320,
    height: { step: 24 },
    title,
    mark: { type: 'boxplot' as const, extent: 'min-max' as const, size: 14, median: { color: '#0f172a' } },
    encoding: {
      y: { field: 'runner', type: 'nominal' as const, title: null },
      x: { field, type: 'quantitative' as const, title: field === 'ttftMs' ? 'ms' : 'tokens/s', scale: { zero: true } },
      color: { field: 'runner', type: 'nominal' as const, legend: null },
    },
  });
  return {
    config,
    data: { values: d.latency },
    hconcat: [panel('ttftMs', t('chart.ttft')), panel('tokensPerSecond', t('chart.tps'))],
  };
}

/** Session creation (model load) per runner, kept apart from generation time. */
export function sessionSpec(d: ReportData): TopLevelSpec {
  return {
    config,
    width: 320,
    height: { step: 22 },
    title: t('chart.session'),
    data: { values: d.runners.filter((r) => r.timings.medianSessionMs !== null).map((r) => ({ runner: r.runner, ms: r.timings.medianSessionMs })) },
    mark: { type: 'bar', cornerRadiusEnd: 3, color: '#64748b' },
    encoding: {
      y: { field: 'runner', type: 'nominal', title: null },
      x: { field: 'ms', type: 'quantitative', title: 'ms' },
      tooltip: [
        { field: 'runner', type: 'nominal' },
        { field: 'ms', type: 'quantitative', format: '.0f' },
      ],
    },
  };
}

/** Teacher-forced drift along the sequence: per position, the largest logit difference over records. */
export function teacherSpec(d: ReportData): TopLevelSpec {
  const values = d.teacher.series.flatMap((s) =>
    s.maxDiff.map((v, i) => ({ pair: `${s.reference} → ${s.runner}`, step: i, diff: v, agreement: s.agreement[i] ?? null })),
  );
  return {
    config,
    width: 'container',
    height: 220,
    title: t('chart.teacher'),
    data: { values },
    mark: { type: 'line', strokeWidth: 1.4, interpolate: 'step-after' },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: t('chart.position'), axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'diff', type: 'quantitative', title: t('col.maxDiff'), scale: { type: 'symlog', constant: 1e-4 } },
      color: { field: 'pair', type: 'nominal', title: null },
      tooltip: [
        { field: 'pair', type: 'nominal' },
        { field: 'step', type: 'quantitative' },
        { field: 'diff', type: 'quantitative', format: '.3g', title: t('col.maxDiff') },
        { field: 'agreement', type: 'quantitative', format: '.1%', title: t('chart.agreement') },
      ],
    },
  };
}

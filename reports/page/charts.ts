import type { TopLevelSpec } from 'vega-lite';
import { pairLabel, type ReportData } from '../data.ts';

/** Shared look: the page's font and muted axes. */
export const config = {
  font: 'system-ui, -apple-system, "Segoe UI", sans-serif',
  axis: { labelColor: '#475569', titleColor: '#334155', gridColor: '#e2e8f0', domainColor: '#cbd5e1', labelLimit: 260 },
  legend: { labelColor: '#334155', titleColor: '#334155' },
  view: { stroke: null },
} as const;

const relationColor = { domain: ['cross-runner', 'repetition'], range: ['#4f46e5', '#94a3b8'] };

/** Exact-match rate per runner pair (share of compared record pairs fully identical). */
export function exactMatchSpec(d: ReportData): TopLevelSpec {
  return {
    config,
    width: 'container',
    height: { step: 22 },
    title: 'Exact-match rate per runner pair',
    data: { values: d.pairs.map((p) => ({ pair: pairLabel(p), relation: p.relation, rate: p.exactMatchRate, pairs: p.pairs, nearTies: p.nearTies })) },
    mark: { type: 'bar', cornerRadiusEnd: 3 },
    encoding: {
      y: { field: 'pair', type: 'nominal', sort: null, title: null },
      x: { field: 'rate', type: 'quantitative', title: 'identical pairs', axis: { format: '.0%' }, scale: { domain: [0, 1] } },
      color: { field: 'relation', type: 'nominal', scale: relationColor, title: null },
      tooltip: [
        { field: 'pair', type: 'nominal' },
        { field: 'rate', type: 'quantitative', format: '.1%', title: 'exact match' },
        { field: 'pairs', type: 'quantitative', title: 'pairs compared' },
        { field: 'nearTies', type: 'quantitative', title: 'near-tie splits' },
      ],
    },
  };
}

/** Where outputs part ways: first-divergence index of each divergent pair, near ties marked. */
export function divergenceSpec(d: ReportData): TopLevelSpec {
  const values = d.divergences.map((p) => ({ pair: p.pair, relation: p.relation, step: p.step, split: p.nearTie ? 'near tie' : 'clear margin' }));
  return {
    config,
    width: 'container',
    height: { step: 26 },
    title: 'First divergent token per pair',
    data: { values },
    layer: [
      {
        mark: { type: 'tick', thickness: 2, opacity: 0.55 },
        encoding: {
          y: { field: 'pair', type: 'nominal', title: null, sort: null },
          x: { field: 'step', type: 'quantitative', title: 'token index of the first divergence' },
          color: { field: 'split', type: 'nominal', scale: { domain: ['near tie', 'clear margin'], range: ['#f59e0b', '#4f46e5'] }, title: 'margin at the split' },
          tooltip: [
            { field: 'pair', type: 'nominal' },
            { field: 'step', type: 'quantitative', title: 'first divergence' },
            { field: 'split', type: 'nominal' },
          ],
        },
      },
      {
        mark: { type: 'point', shape: 'diamond', filled: true, size: 70, color: '#0f172a' },
        encoding: {
          y: { field: 'pair', type: 'nominal', sort: null },
          x: { aggregate: 'median', field: 'step', type: 'quantitative' },
          tooltip: [{ aggregate: 'median', field: 'step', type: 'quantitative', title: 'median first divergence' }],
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
    hconcat: [panel('ttftMs', 'Time to first token'), panel('tokensPerSecond', 'Decode throughput (excl. prefill)')],
  };
}

/** Session creation (model load) per runner, kept apart from generation time. */
export function sessionSpec(d: ReportData): TopLevelSpec {
  return {
    config,
    width: 320,
    height: { step: 22 },
    title: 'Session creation (median, per runner)',
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
    title: 'Teacher-forced: largest logit difference per position (same inputs on both sides)',
    data: { values },
    mark: { type: 'line', strokeWidth: 1.4, interpolate: 'step-after' },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'position', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'diff', type: 'quantitative', title: 'max |Δ logit|', scale: { type: 'symlog', constant: 1e-4 } },
      color: { field: 'pair', type: 'nominal', title: null },
      tooltip: [
        { field: 'pair', type: 'nominal' },
        { field: 'step', type: 'quantitative' },
        { field: 'diff', type: 'quantitative', format: '.3g', title: 'max |Δ logit|' },
        { field: 'agreement', type: 'quantitative', format: '.1%', title: 'top-1 agreement' },
      ],
    },
  };
}

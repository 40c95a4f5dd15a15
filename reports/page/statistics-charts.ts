/** Charts of the statistics section: rates with their 95% intervals, and where repetitions split. */
import type { TopLevelSpec } from 'vega-lite';
import type { ReportData } from '../data.ts';
import { config } from './charts.ts';
import { t } from './i18n.ts';
import { rateKind, rateSubject } from './rate-words.ts';

/** Every rate as a point with its 95% Wilson interval as a bar. */
export function ratesSpec(d: ReportData): TopLevelSpec {
  const values = d.statistics.rates.map((r) => ({
    label: `${rateSubject(r)} · ${rateKind(r)}`,
    kind: rateKind(r),
    rate: r.rate.rate,
    lo: r.rate.ci?.lo ?? null,
    hi: r.rate.ci?.hi ?? null,
    count: `${r.rate.k}/${r.rate.n}`,
  }));
  const y = { field: 'label', type: 'nominal', sort: null, title: null } as const;
  return {
    config,
    width: 'container',
    height: { step: 20 },
    title: t('stat.chartRates'),
    data: { values },
    layer: [
      {
        mark: { type: 'rule', strokeWidth: 2, opacity: 0.6 },
        encoding: {
          y,
          x: { field: 'lo', type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '.0%' }, title: t('stat.chartRateAxis') },
          x2: { field: 'hi' },
          color: { field: 'kind', type: 'nominal', title: null },
        },
      },
      {
        mark: { type: 'point', filled: true, size: 50 },
        encoding: {
          y,
          x: { field: 'rate', type: 'quantitative' },
          color: { field: 'kind', type: 'nominal', title: null },
          tooltip: [
            { field: 'label', type: 'nominal', title: t('stat.colRate') },
            { field: 'rate', type: 'quantitative', format: '.2%' },
            { field: 'count', type: 'nominal', title: 'k/n' },
            { field: 'lo', type: 'quantitative', format: '.2%', title: t('stat.low') },
            { field: 'hi', type: 'quantitative', format: '.2%', title: t('stat.high') },
          ],
        },
      },
    ],
  };
}

/** How many repetitions first part from the first one at each token index (the headline study). */
export function splitsSpec(d: ReportData): TopLevelSpec {
  const s = d.statistics.headline!;
  return {
    config,
    width: 'container',
    height: 180,
    title: t('stat.chartSplits', { split: s.split, runner: s.runner }),
    data: { values: s.splitPositions },
    mark: { type: 'bar', color: '#4f46e5' },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: t('stat.chartSplitAxis'), axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'count', type: 'quantitative', title: t('stat.colCompletions') },
      tooltip: [
        { field: 'step', type: 'quantitative', title: t('stat.token') },
        { field: 'count', type: 'quantitative', title: t('stat.colCompletions') },
      ],
    },
  };
}

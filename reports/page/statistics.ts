/**
 * The statistics a paper reports: every rate with its 95% Wilson interval, llama.cpp's KL divergence
 * statistics for each teacher-forced pair, and the repetition study's headline.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { DivergenceSummary } from '../../src/metrics/divergence-stats.ts';
import type { Rate } from '../../src/metrics/interval.ts';
import type { ReportData } from '../data.ts';
import { type Child, h, section, table } from './dom.ts';
import { int, pct } from './format.ts';
import { t } from './i18n.ts';
import { rateKind, rateOfWords, rateSubject } from './rate-words.ts';
import { ratesSpec, splitsSpec } from './statistics-charts.ts';

/** A number at 6 significant digits (KL values span 1e-12 to 1), or a dash. */
function sci(x: number | null | undefined): string {
  if (typeof x !== 'number') return '—';
  if (x === 0) return '0';
  return Math.abs(x) < 1e-3 ? x.toExponential(3) : x.toPrecision(6);
}

/** "[25.5%, 36.6%]". */
export function interval(r: Rate): string {
  return r.ci ? `[${pct(r.ci.lo)}, ${pct(r.ci.hi)}]` : '—';
}

/** The banner "N completions of one request, U unique, first split at token T". */
export function repetitionHeadline(d: ReportData): HTMLElement | null {
  const s = d.statistics.headline;
  if (!s) return null;
  const split = s.firstSplit === null ? t('stat.allIdentical') : t('stat.firstSplit', { step: s.firstSplit });
  return h(
    'div',
    { class: 'study' },
    h('div', { class: 'study-line' }, t('stat.headline', { n: int(s.n), unique: int(s.unique), split })),
    h(
      'div',
      { class: 'sub' },
      t('stat.headlineSub', {
        prompt: s.promptId,
        setting: s.settingId,
        runner: s.runner,
        share: pct(s.uniqueShare.rate),
        interval: interval(s.uniqueShare),
        split: int(s.split),
        others: int(s.n - 1),
      }),
    ),
  );
}

function divergenceColumn(s: DivergenceSummary): Child[] {
  const kl = s.kl;
  const dp = s.dp;
  const pc = (x: number | undefined) => (typeof x === 'number' ? `${(100 * x).toFixed(3)}%` : '—');
  const pm = (m: number | null, se: number | null, f: (x: number) => string) =>
    m === null ? '—' : se === null ? `${f(m)} (${t('stat.noSe')})` : `${f(m)} ± ${f(se)}`;
  const kp = kl.percentiles ?? {};
  return [
    s.basis === 'full' ? t('stat.exactRows') : s.basis === 'top-k' ? t('stat.lowerBound') : t('stat.mixed'),
    String(s.steps),
    pm(kl.mean, kl.se, sci),
    ...['max', 'p99.9', 'p99', 'p95', 'p90', 'median', 'p10', 'p5', 'p1', 'p0.1', 'min'].map((k) => sci(kp[k])),
    pm(dp.mean, dp.se, (x) => pc(x)),
    pm(dp.rms, dp.rmsSe, (x) => pc(x)),
    s.sameTop.n ? `${pc(s.sameTop.rate ?? undefined)} ± ${pc(s.sameTop.se ?? undefined)} ${interval(s.sameTop)}` : '—',
  ];
}

/** llama.cpp's `--kl-divergence` printout, one column per (reference, runner). */
function divergenceTable(d: ReportData): HTMLElement | null {
  const pairs = d.teacher.byPair.filter((t) => t.divergence.steps > 0 || t.divergence.sameTop.n > 0);
  if (!pairs.length) return null;
  const labels = [
    t('stat.klFrom'),
    t('stat.steps'),
    'mean KLD',
    'max KLD',
    '99.9% KLD',
    '99% KLD',
    '95% KLD',
    '90% KLD',
    'median KLD',
    '10% KLD',
    '5% KLD',
    '1% KLD',
    '0.1% KLD',
    'min KLD',
    'mean Δp',
    'RMS Δp',
    'same top p ± SE [95% Wilson]',
  ];
  const cols = pairs.map((t) => divergenceColumn(t.divergence));
  const rows: Child[][] = labels.map((l, i) => [h('strong', null, l), ...cols.map((c) => c[i] ?? '—')]);
  return h('div', { class: 'scroll' }, table(['', ...pairs.map((t) => `${t.reference} → ${t.runner}`)], rows));
}

/** The statistics section. */
export function statisticsSection(d: ReportData, chart: (spec: TopLevelSpec) => HTMLElement): HTMLElement {
  const st = d.statistics;
  const rateRows: Child[][] = st.rates.map((r) => [
    rateSubject(r),
    rateKind(r),
    pct(r.rate.rate, 2),
    `${r.rate.k}/${r.rate.n}`,
    interval(r.rate),
    h('span', { class: 'sub' }, rateOfWords(r)),
  ]);
  const studies: Child[][] = st.studies.map((s) => [
    s.promptId,
    s.settingId,
    s.runner,
    String(s.n),
    String(s.unique),
    `${pct(s.uniqueShare.rate)} ${interval(s.uniqueShare)}`,
    s.firstSplit === null ? '—' : String(s.firstSplit),
  ]);
  return section(
    'statistics',
    t('stat.title'),
    t('stat.note'),
    st.rates.length
      ? h(
          'div',
          { class: 'scroll' },
          table([t('stat.colSubject'), t('stat.colRate'), t('stat.colValue'), 'k/n', t('stat.colInterval'), t('stat.colOf')], rateRows),
        )
      : h('p', { class: 'empty' }, t('stat.noRates')),
    st.rates.length ? chart(ratesSpec(d)) : null,
    h('h3', null, t('stat.divTitle')),
    h('p', { class: 'note' }, t('stat.divNote')),
    divergenceTable(d) ?? h('p', { class: 'empty' }, t('stat.noDiv')),
    h('h3', null, t('stat.repTitle')),
    studies.length
      ? h(
          'div',
          { class: 'scroll short' },
          table(
            [
              t('stat.colPrompt'),
              t('stat.colSetting'),
              t('col.runner'),
              t('stat.colCompletions'),
              t('stat.colUnique'),
              t('stat.colUniqueShare'),
              t('stat.colFirstSplit'),
            ],
            studies,
          ),
        )
      : h('p', { class: 'empty' }, t('stat.noRep')),
    st.studiesTotal > st.studies.length ? h('p', { class: 'note' }, t('stat.showing', { shown: st.studies.length, total: st.studiesTotal })) : null,
    st.headline?.splitPositions.length ? chart(splitsSpec(d)) : null,
  );
}

/** A warning under the latency charts when some records were timed beside other jobs (run --jobs). */
export function parallelLoadNote(d: ReportData): HTMLElement | null {
  const by = new Map<string, number>();
  for (const p of d.latency) if (p.parallelJobs > 1) by.set(p.runner, Math.max(by.get(p.runner) ?? 0, p.parallelJobs));
  if (!by.size) return null;
  const list = [...by].map(([r, n]) => `${r} (${n} jobs)`).join(', ');
  return h(
    'p',
    { class: 'warn' },
    `Timed under parallel load: ${list} ran with other worker processes decoding beside them (run --jobs), so their latencies include contention for cores and memory; compare them only with records timed the same way.`,
  );
}

/** The section's own styles (added after the page's). */
export const STATISTICS_STYLES = `
.study { margin: 0 0 18px; padding: 14px 18px; border-left: 4px solid var(--accent); background: #eef2ff; border-radius: 6px; }
.study-line { font-size: 20px; font-weight: 600; }
`;

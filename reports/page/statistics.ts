/**
 * The statistics a paper reports: every rate with its 95% Wilson interval, llama.cpp's KL divergence
 * statistics for each teacher-forced pair, and the repetition study's headline.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ReportData } from '../data.ts';
import type { DivergenceSummary } from '../../src/metrics/divergence-stats.ts';
import type { Rate } from '../../src/metrics/interval.ts';
import { h, section, table, type Child } from './dom.ts';
import { pct } from './format.ts';
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
  const split = s.firstSplit === null ? 'all identical' : `first split at token ${s.firstSplit}`;
  return h(
    'div',
    { class: 'study' },
    h('div', { class: 'study-line' }, `${s.n.toLocaleString('en')} completions of one request, ${s.unique.toLocaleString('en')} unique, ${split}`),
    h(
      'div',
      { class: 'sub' },
      `prompt ${s.promptId} · ${s.settingId} · runner ${s.runner} · unique share ${pct(s.uniqueShare.rate)} ${interval(s.uniqueShare)} (95% Wilson) · ${s.split} of ${s.n - 1} repetitions differ from the first`,
    ),
  );
}

function divergenceColumn(s: DivergenceSummary): Child[] {
  const kl = s.kl;
  const dp = s.dp;
  const pc = (x: number | undefined) => (typeof x === 'number' ? `${(100 * x).toFixed(3)}%` : '—');
  const pm = (m: number | null, se: number | null, f: (x: number) => string) => (m === null ? '—' : se === null ? `${f(m)} (n ≤ 10: no SE)` : `${f(m)} ± ${f(se)}`);
  const kp = kl.percentiles ?? {};
  return [
    s.basis === 'full' ? 'exact (captured rows)' : s.basis === 'top-k' ? 'lower bound (top-k)' : 'mixed: some steps bounded',
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
  const labels = ['KL from', 'steps', 'mean KLD', 'max KLD', '99.9% KLD', '99% KLD', '95% KLD', '90% KLD', 'median KLD', '10% KLD', '5% KLD', '1% KLD', '0.1% KLD', 'min KLD', 'mean Δp', 'RMS Δp', 'same top p ± SE [95% Wilson]'];
  const cols = pairs.map((t) => divergenceColumn(t.divergence));
  const rows: Child[][] = labels.map((l, i) => [h('strong', null, l), ...cols.map((c) => c[i] ?? '—')]);
  return h('div', { class: 'scroll' }, table(['', ...pairs.map((t) => `${t.reference} → ${t.runner}`)], rows));
}

const DIVERGENCE_NOTE =
  'Per teacher-forced step, as llama.cpp’s llama-perplexity --kl-divergence defines them (tools/perplexity/perplexity.cpp): KL(P‖Q) in nats with P the reference’s distribution and Q the runner’s, Δp = q(t) − p(t) for the reference token t, and whether both rank the same token first; mean ± standard error, percentiles by linear interpolation. “Exact” rows come from runs with --capture; without it KL is a lower bound computed from the recorded top-k candidates (the tokens both lists name kept, the rest pooled into one bin: pooling never increases KL), and Δp is counted only where both lists name t.';

/** The statistics section. */
export function statisticsSection(d: ReportData, chart: (spec: TopLevelSpec) => HTMLElement): HTMLElement {
  const st = d.statistics;
  const rateRows: Child[][] = st.rates.map((r) => [r.subject, r.kind, pct(r.rate.rate, 2), `${r.rate.k}/${r.rate.n}`, interval(r.rate), h('span', { class: 'sub' }, r.of)]);
  const studies: Child[][] = st.studies.map((s) => [s.promptId, s.settingId, s.runner, String(s.n), String(s.unique), `${pct(s.uniqueShare.rate)} ${interval(s.uniqueShare)}`, s.firstSplit === null ? '—' : String(s.firstSplit)]);
  return section(
    'statistics',
    'Statistics with 95% intervals',
    'Every rate as k of n with its 95% Wilson score interval (Wilson 1927; Newcombe 1998, method 3), which stays inside [0, 1] and does not shrink to a point at 0/n or n/n: 10 identical repetitions of 10 bound the true rate only below by 72%.',
    st.rates.length ? h('div', { class: 'scroll' }, table(['subject', 'rate', 'value', 'k/n', '95% interval', 'of'], rateRows)) : h('p', { class: 'empty' }, 'No rates: nothing completed.'),
    st.rates.length ? chart(ratesSpec(d)) : null,
    h('h3', null, 'Distribution divergence (teacher-forced)'),
    h('p', { class: 'note' }, DIVERGENCE_NOTE),
    divergenceTable(d) ?? h('p', { class: 'empty' }, 'No teacher-forced steps with token ids.'),
    h('h3', null, 'Repetitions of one request'),
    studies.length
      ? h('div', { class: 'scroll short' }, table(['prompt', 'setting', 'runner', 'completions', 'unique', 'unique share [95%]', 'first split at token'], studies))
      : h('p', { class: 'empty' }, 'No request ran twice.'),
    st.studiesTotal > st.studies.length ? h('p', { class: 'note' }, `Showing ${st.studies.length} of ${st.studiesTotal}, most repetitions first.`) : null,
    st.headline?.splitPositions.length ? chart(splitsSpec(d)) : null,
  );
}

/** The section's own styles (added after the page's). */
export const STATISTICS_STYLES = `
.study { margin: 0 0 18px; padding: 14px 18px; border-left: 4px solid var(--accent); background: #eef2ff; border-radius: 6px; }
.study-line { font-size: 20px; font-weight: 600; }
`;

/**
 * The report page's entry (bundled with vega, vega-lite and vega-embed by reports/bundle.ts).
 * Reads the data the generator inlined and renders every section; model text only ever goes
 * into text nodes.
 */
import embed from 'vega-embed';
import type { TopLevelSpec } from 'vega-lite';
import { REPORT_DATA_VERSION, type ReportData } from '../data.ts';
import { divergenceSpec, exactMatchSpec, latencySpec, sessionSpec, teacherSpec } from './charts.ts';
import { diffView } from './diff.ts';
import { append, h, section } from './dom.ts';
import { environments, headline, pairTable, problems, summary, teacherTable } from './sections.ts';
import { repetitionHeadline, STATISTICS_STYLES, statisticsSection } from './statistics.ts';
import { STYLES } from './styles.ts';

/** The id of the `<script type="application/json">` element holding the data. */
export const DATA_ELEMENT_ID = 'detbench-data';

function chart(spec: TopLevelSpec, cls = 'chart'): HTMLElement {
  const el = h('div', { class: cls });
  // SVG keeps text selectable and crisp on projectors; no actions menu, so nothing links out.
  embed(el, spec, { actions: false, renderer: 'svg' }).catch((err: unknown) => {
    append(el, h('p', { class: 'warn' }, `chart failed: ${String(err)}`));
  });
  return el;
}

function render(d: ReportData): void {
  document.title = d.title;
  const style = document.createElement('style');
  style.textContent = STYLES + STATISTICS_STYLES;
  document.head.appendChild(style);
  const app = document.getElementById('app') ?? document.body;

  const nav = h(
    'nav',
    { class: 'toc' },
    ...[
      ['summary', 'Runners'],
      ['divergence', 'Divergence'],
      ['diff', 'Token diff'],
      ['teacher', 'Teacher forcing'],
      ['statistics', 'Statistics'],
      ['latency', 'Latency'],
      ['problems', 'Errored / skipped'],
      ['environment', 'Machines'],
    ].map(([id, label]) => h('a', { attrs: { href: `#${id}` } }, label!)),
  );
  const hasDivergence = d.pairs.length > 0;
  append(
    app,
    h('header', { class: 'top' }, h('h1', null, d.title), h('div', { class: 'meta' }, `detbench ${d.detbench} · generated ${d.generatedAt} · ${d.files.length} results file(s)`)),
    nav,
    h(
      'main',
      null,
      headline(d),
      repetitionHeadline(d),
      ...d.warnings.map((w) => h('div', { class: 'warn' }, w)),
      summary(d),
      section(
        'divergence',
        'Where outputs part ways',
        'Each runner against the reference (same repetition), and each repetition against the first of the same runner. A near tie is a split whose margin (best minus second-best logit) is at most 0.05.',
        hasDivergence ? chart(exactMatchSpec(d)) : null,
        d.divergences.length ? chart(divergenceSpec(d)) : null,
        hasDivergence ? pairTable(d) : h('p', { class: 'empty' }, 'Nothing to compare: fewer than two completed records per group.'),
      ),
      section('diff', 'Token-level diff', 'The first divergent token of two completions and what each runner saw at that step.', diffView(d.diffs, d.diffsTotal)),
      section(
        'teacher',
        'Teacher forcing',
        'Each runner fed the reference’s tokens: same inputs at every step, so the logits are comparable over the whole sequence.',
        d.teacher.byPair.length ? teacherTable(d) : h('p', { class: 'empty' }, 'No teacher-forced records.'),
        d.teacher.series.length ? chart(teacherSpec(d)) : null,
        d.teacher.unmatched ? h('p', { class: 'warn' }, `${d.teacher.unmatched} teacher-forced record(s) whose reference record is missing from these results.`) : null,
      ),
      statisticsSection(d, chart),
      section(
        'latency',
        'Latency',
        'Per free-running record. Session creation (model load) is shown apart: it is paid once per runner, not per request.',
        d.latency.length ? h('div', { class: 'charts-row' }, chart(latencySpec(d), ''), chart(sessionSpec(d), '')) : h('p', { class: 'empty' }, 'No timings.'),
      ),
      problems(d),
      environments(d),
    ),
    h('footer', null, 'Static report: everything is in this file; it loads nothing from the network.'),
  );
}

function main(): void {
  const el = document.getElementById(DATA_ELEMENT_ID);
  if (!el?.textContent) throw new Error('report data missing');
  const data = JSON.parse(el.textContent) as ReportData;
  if (data.version !== REPORT_DATA_VERSION) throw new Error(`report data version ${String(data.version)} (this page reads ${REPORT_DATA_VERSION})`);
  render(data);
}

main();

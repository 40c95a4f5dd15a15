/**
 * The report page's entry (bundled with vega, vega-lite and vega-embed by reports/bundle.ts).
 * Reads the data the generator inlined and renders every section in the current language; the
 * language switch renders it all again. Model text only ever goes into text nodes.
 */
import { REPORT_DATA_VERSION, type ReportData, type ReportLang } from '../data.ts';
import { chart } from './chart.ts';
import { divergenceSpec, exactMatchSpec, latencySpec, sessionSpec, teacherSpec } from './charts.ts';
import { diffView } from './diff.ts';
import { append, clear, h, section } from './dom.ts';
import { explorerView } from './explorer.ts';
import { findingsSection } from './findings.ts';
import { fixed } from './format.ts';
import { lang, setLang, t } from './i18n.ts';
import type { MessageKey } from './lang-en.ts';
import { openPresenter } from './presenter.ts';
import { environments, headline, pairTable, problems, summary, teacherTable } from './sections.ts';
import { parallelLoadNote, repetitionHeadline, STATISTICS_STYLES, statisticsSection } from './statistics.ts';
import { STYLES } from './styles.ts';
import { TALK_STYLES } from './styles-talk.ts';

/** The id of the `<script type="application/json">` element holding the data. */
export const DATA_ELEMENT_ID = 'detbench-data';

const NAV: [string, MessageKey][] = [
  ['findings', 'nav.findings'],
  ['summary', 'nav.summary'],
  ['divergence', 'nav.divergence'],
  ['diff', 'nav.diff'],
  ['explorer', 'nav.explorer'],
  ['teacher', 'nav.teacher'],
  ['statistics', 'nav.statistics'],
  ['latency', 'nav.latency'],
  ['problems', 'nav.problems'],
  ['environment', 'nav.environment'],
];

function render(d: ReportData, app: HTMLElement): void {
  clear(app);
  document.documentElement.lang = lang();
  const other: ReportLang = lang() === 'en' ? 'de' : 'en';
  const tools = h(
    'div',
    { class: 'tools' },
    h('button', { class: 'lang-switch', attrs: { type: 'button', 'data-lang': other }, on: { click: () => switchTo(d, app, other) } }, t('lang.switch')),
    h('button', { class: 'present', attrs: { type: 'button' }, on: { click: () => openPresenter(d) } }, t('present.open')),
  );
  const nav = h('nav', { class: 'toc' }, ...NAV.map(([id, key]) => h('a', { attrs: { href: `#${id}` } }, t(key))));
  const hasDivergence = d.pairs.length > 0;
  append(
    app,
    h(
      'header',
      { class: 'top' },
      tools,
      h('h1', null, d.title),
      h('div', { class: 'meta' }, t('meta.line', { version: d.detbench, time: d.generatedAt, files: d.files.length })),
    ),
    nav,
    h(
      'main',
      null,
      findingsSection(d),
      headline(d),
      repetitionHeadline(d),
      ...d.warnings.map((w) => h('div', { class: 'warn' }, w)),
      summary(d),
      section(
        'divergence',
        t('div.title'),
        t('div.note', { nearTie: fixed(d.constants.nearTie, 2) }),
        hasDivergence ? chart(exactMatchSpec(d)) : null,
        d.divergences.length ? chart(divergenceSpec(d)) : null,
        hasDivergence ? pairTable(d) : h('p', { class: 'empty' }, t('div.nothing')),
      ),
      section('diff', t('diff.title'), t('diff.note'), diffView(d.diffs, d.diffsTotal, d.constants.nearTie)),
      explorerView(d),
      section(
        'teacher',
        t('teacher.title'),
        t('teacher.note'),
        d.teacher.byPair.length ? teacherTable(d) : h('p', { class: 'empty' }, t('teacher.none')),
        d.teacher.series.length ? chart(teacherSpec(d)) : null,
        d.teacher.unmatched ? h('p', { class: 'warn' }, t('teacher.unmatched', { n: d.teacher.unmatched })) : null,
      ),
      statisticsSection(d, chart),
      section(
        'latency',
        t('lat.title'),
        t('lat.note'),
        d.latency.length ? h('div', { class: 'charts-row' }, chart(latencySpec(d), ''), chart(sessionSpec(d), '')) : h('p', { class: 'empty' }, t('lat.none')),
        parallelLoadNote(d),
      ),
      problems(d),
      environments(d),
    ),
    h('footer', null, t('footer')),
  );
}

function switchTo(d: ReportData, app: HTMLElement, next: ReportLang): void {
  const y = window.scrollY;
  setLang(next);
  render(d, app);
  window.scrollTo(0, y);
}

function main(): void {
  const el = document.getElementById(DATA_ELEMENT_ID);
  if (!el?.textContent) throw new Error('report data missing');
  const data = JSON.parse(el.textContent) as ReportData;
  if (data.version !== REPORT_DATA_VERSION) throw new Error(`report data version ${String(data.version)} (this page reads ${REPORT_DATA_VERSION})`);
  document.title = data.title;
  const style = document.createElement('style');
  style.textContent = STYLES + STATISTICS_STYLES + TALK_STYLES;
  document.head.appendChild(style);
  // `#lang=de` in the address opens the other language; the generator's choice otherwise.
  const asked = /lang=(en|de)/.exec(location.hash)?.[1] as ReportLang | undefined;
  setLang(asked ?? data.lang);
  const app = document.getElementById('app') ?? document.body;
  render(data, app);
  if (location.hash === '#present') openPresenter(data);
}

main();

import type { PairAggregate } from '../../src/metrics/types.ts';
import type { ReportData } from '../data.ts';
import { type Child, h, section, table } from './dom.ts';
import { diff, fixed, int, ms, pct } from './format.ts';
import { t } from './i18n.ts';

/** A runner pair's label in the current language. */
export function pairText(p: Pick<PairAggregate, 'a' | 'b' | 'relation'>): string {
  if (p.relation === 'repetition') return t('pair.repetition', { b: p.b });
  if (p.relation === 'batch') return t('pair.batch', { b: p.b });
  if (p.relation === 'seed') return t('pair.seed', { b: p.b });
  return t('pair.cross', { a: p.a, b: p.b });
}

/** Headline numbers above everything else. */
export function headline(d: ReportData): HTMLElement {
  const refs = [...new Set(Object.values(d.references))].join(', ') || '—';
  const card = (value: string, label: string) =>
    h('div', { class: 'stat' }, h('div', { class: 'stat-value' }, value), h('div', { class: 'stat-label' }, label));
  return h(
    'div',
    { class: 'headline' },
    card(int(d.counts.records), t('head.records')),
    card(int(d.runners.length), t('head.runners')),
    card(int(d.profiles.length), d.profiles.length === 1 ? t('head.machine') : t('head.machines')),
    card(pct(d.acrossRunners.rate), t('head.tarr', { groups: d.acrossRunners.groups })),
    card(refs, t('head.reference')),
  );
}

/** The summary table: one row per runner. */
export function summary(d: ReportData): HTMLElement {
  const rows: Child[][] = d.runners.map((r) => [
    h('span', { class: 'runner' }, r.runner, Object.values(d.references).includes(r.runner) ? h('span', { class: 'ref-tag' }, t('head.reference')) : null),
    r.runnerType,
    r.profileIds.join(', '),
    r.providers.join(', ') || '—',
    int(r.records.completed - r.records.teacherForced),
    r.records.errored || r.records.skipped
      ? h(
          'span',
          { class: 'problems' },
          t('summary.problems', { errored: r.records.errored, skipped: r.records.skipped }),
          ...r.problems.map((p) => h('div', { class: 'reason' }, `${p.count}× ${p.reason}`)),
        )
      : '0',
    pct(r.exactMatchRate),
    r.tarr.n === null ? '—' : h('span', null, pct(r.tarr.rate), h('span', { class: 'sub' }, t('summary.groups', { n: r.tarr.n, groups: r.tarr.groups }))),
    r.uniqueCompletions.mean === null ? '—' : t('summary.max', { mean: fixed(r.uniqueCompletions.mean, 2), max: r.uniqueCompletions.max }),
    ms(r.timings.medianTtftMs),
    fixed(r.timings.medianTokensPerSecond, 1),
  ]);
  return section(
    'summary',
    t('summary.title'),
    t('summary.note'),
    h(
      'div',
      { class: 'scroll' },
      table(
        [
          t('col.runner'),
          t('col.type'),
          t('col.machines'),
          t('col.provider'),
          t('col.completed'),
          t('col.notCompleted'),
          t('col.exactMatch'),
          t('col.tarr'),
          t('col.unique'),
          t('col.ttft'),
          t('col.tps'),
        ],
        rows,
      ),
    ),
  );
}

/** Pair aggregates: exact match, divergence statistics, drift and bitwise identity. */
export function pairTable(d: ReportData): HTMLElement {
  const rows: Child[][] = d.pairs.map((p) => [
    pairText(p),
    int(p.pairs),
    pct(p.exactMatchRate),
    p.firstDivergence.count ? `${fixed(p.firstDivergence.median, 0)} (${int(p.firstDivergence.min ?? 0)}–${int(p.firstDivergence.max ?? 0)})` : '—',
    p.firstDivergence.count ? `${p.nearTies}/${p.firstDivergence.count}` : '—',
    diff(p.logitMaxDiff),
    p.bitwise.share === null ? '—' : pct(p.bitwise.share),
  ]);
  return h(
    'div',
    { class: 'scroll' },
    table([t('col.pair'), t('col.pairs'), t('col.identical'), t('col.firstDiv'), t('col.nearTies'), t('col.maxDiffBefore'), t('col.bitwise')], rows),
  );
}

/** Teacher-forced agreement per runner pair. */
export function teacherTable(d: ReportData): HTMLElement {
  const rows: Child[][] = d.teacher.byPair.map((x) => [
    `${x.reference} → ${x.runner}`,
    int(x.records),
    int(x.steps),
    pct(x.argmaxAgreement, 2),
    pct(x.top1Agreement, 2),
    diff(x.maxDiff),
    diff(x.meanDiff),
    x.bitwise.share === null ? '—' : `${pct(x.bitwise.share)} (${int(x.bitwise.equal)}/${int(x.bitwise.compared)})`,
  ]);
  return h(
    'div',
    { class: 'scroll' },
    table(
      [t('col.refRunner'), t('col.records'), t('col.steps'), t('col.argmax'), t('col.sampled'), t('col.maxDiff'), t('col.meanDiff'), t('col.bitwise')],
      rows,
    ),
  );
}

/** Records that did not complete, with their reasons. */
export function problems(d: ReportData): HTMLElement {
  if (d.problemsTotal === 0) return section('problems', t('prob.title'), null, h('p', { class: 'empty' }, t('prob.all')));
  return section(
    'problems',
    t('prob.title'),
    d.problemsTotal > d.problems.length ? t('prob.showing', { shown: d.problems.length, total: d.problemsTotal }) : null,
    h(
      'div',
      { class: 'scroll short' },
      table(
        [t('col.record'), t('col.runner'), t('col.machine'), t('col.status'), t('col.reason')],
        d.problems.map((p) => [
          h('code', null, p.recordId),
          p.runner,
          p.profileId,
          h('span', { class: `status ${p.status}` }, p.status),
          p.code ? h('span', null, h('code', null, p.code), ' ', p.message) : p.message,
        ]),
      ),
    ),
  );
}

function kv(obj: Record<string, unknown>): HTMLElement {
  return h(
    'dl',
    { class: 'kv' },
    ...Object.entries(obj).flatMap(([k, v]) => [h('dt', null, k), h('dd', null, typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v))]),
  );
}

/** Environment fingerprints, one card per hardware profile. */
export function environments(d: ReportData): HTMLElement {
  return section(
    'environment',
    t('env.title'),
    t('env.note', { files: d.files.length }),
    h(
      'div',
      { class: 'cards' },
      ...d.profiles.map((p) =>
        h(
          'div',
          { class: 'card' },
          h('h3', null, p.id),
          h('p', { class: 'sub' }, t('env.records', { records: int(p.records), runners: p.runners.join(', ') })),
          kv(p.fingerprint),
          ...p.tools.map((t) => h('p', { class: 'sub' }, t)),
          h(
            'details',
            null,
            h('summary', null, t('env.envs', { n: p.environments.length })),
            ...p.environments.map((e) => h('div', { class: 'env' }, h('strong', null, e.runner), ` ${e.provider}`, kv(e.environment))),
          ),
        ),
      ),
    ),
    h('details', null, h('summary', null, t('env.files')), h('ul', null, ...d.files.map((f) => h('li', null, h('code', null, f))))),
  );
}

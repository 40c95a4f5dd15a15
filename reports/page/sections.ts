import { pairLabel, type ReportData } from '../data.ts';
import { h, section, table, type Child } from './dom.ts';
import { diff, fixed, ms, pct } from './format.ts';

/** Headline numbers above everything else. */
export function headline(d: ReportData): HTMLElement {
  const refs = [...new Set(Object.values(d.references))].join(', ') || '—';
  const card = (value: string, label: string) => h('div', { class: 'stat' }, h('div', { class: 'stat-value' }, value), h('div', { class: 'stat-label' }, label));
  return h(
    'div',
    { class: 'headline' },
    card(String(d.counts.records), 'records'),
    card(String(d.runners.length), 'runners'),
    card(String(d.profiles.length), d.profiles.length === 1 ? 'machine' : 'machines'),
    card(pct(d.acrossRunners.rate), `all runners identical (TARr over ${d.acrossRunners.groups} groups)`),
    card(refs, 'reference'),
  );
}

/** The summary table: one row per runner. */
export function summary(d: ReportData): HTMLElement {
  const rows: Child[][] = d.runners.map((r) => [
    h('span', { class: 'runner' }, r.runner, Object.values(d.references).includes(r.runner) ? h('span', { class: 'ref-tag' }, 'reference') : null),
    r.runnerType,
    r.profileIds.join(', '),
    r.providers.join(', ') || '—',
    String(r.records.completed - r.records.teacherForced),
    r.records.errored || r.records.skipped
      ? h('span', { class: 'problems' }, `${r.records.errored} errored · ${r.records.skipped} skipped`, ...r.problems.map((p) => h('div', { class: 'reason' }, `${p.count}× ${p.reason}`)))
      : '0',
    pct(r.exactMatchRate),
    r.tarr.n === null ? '—' : h('span', null, pct(r.tarr.rate), h('span', { class: 'sub' }, ` @${r.tarr.n} · ${r.tarr.groups} groups`)),
    r.uniqueCompletions.mean === null ? '—' : `${fixed(r.uniqueCompletions.mean, 2)} (max ${r.uniqueCompletions.max})`,
    ms(r.timings.medianTtftMs),
    fixed(r.timings.medianTokensPerSecond, 1),
  ]);
  return section(
    'summary',
    'Runners',
    'Exact-match: share of repetitions equal to their group’s most common completion. TARr@N: share of prompt/setting groups whose N repetitions are all identical (Atil et al. 2024). Unique completions: mean per group. Times: medians over free-running records.',
    h('div', { class: 'scroll' }, table(['runner', 'type', 'machines', 'provider', 'completed', 'not completed', 'exact-match', 'TARr@N', 'unique completions', 'TTFT', 'tokens/s'], rows)),
  );
}

/** Pair aggregates: exact match, divergence statistics, drift and bitwise identity. */
export function pairTable(d: ReportData): HTMLElement {
  const rows: Child[][] = d.pairs.map((p) => [
    pairLabel(p),
    String(p.pairs),
    pct(p.exactMatchRate),
    p.firstDivergence.count ? `${fixed(p.firstDivergence.median, 0)} (${p.firstDivergence.min}–${p.firstDivergence.max})` : '—',
    p.firstDivergence.count ? `${p.nearTies}/${p.firstDivergence.count}` : '—',
    diff(p.logitMaxDiff),
    p.bitwise.share === null ? '—' : pct(p.bitwise.share),
  ]);
  return h('div', { class: 'scroll' }, table(['pair', 'pairs', 'identical', 'first divergence: median (range)', 'near-tie splits', 'max |Δ logit| before split', 'bitwise-equal steps'], rows));
}

/** Teacher-forced agreement per runner pair. */
export function teacherTable(d: ReportData): HTMLElement {
  const rows: Child[][] = d.teacher.byPair.map((t) => [
    `${t.reference} → ${t.runner}`,
    String(t.records),
    String(t.steps),
    pct(t.top1Agreement, 2),
    diff(t.maxDiff),
    diff(t.meanDiff),
    t.bitwise.share === null ? '—' : `${pct(t.bitwise.share)} (${t.bitwise.equal}/${t.bitwise.compared})`,
  ]);
  return h('div', { class: 'scroll' }, table(['reference → runner', 'records', 'steps', 'top-1 agreement', 'max |Δ logit|', 'mean |Δ logit|', 'bitwise-equal steps'], rows));
}

/** Records that did not complete, with their reasons. */
export function problems(d: ReportData): HTMLElement {
  if (d.problemsTotal === 0) return section('problems', 'Errored and skipped', null, h('p', { class: 'empty' }, 'Every record completed.'));
  return section(
    'problems',
    'Errored and skipped',
    d.problemsTotal > d.problems.length ? `Showing ${d.problems.length} of ${d.problemsTotal}.` : null,
    h(
      'div',
      { class: 'scroll short' },
      table(
        ['record', 'runner', 'machine', 'status', 'reason'],
        d.problems.map((p) => [h('code', null, p.recordId), p.runner, p.profileId, h('span', { class: `status ${p.status}` }, p.status), p.code ? h('span', null, h('code', null, p.code), ' ', p.message) : p.message]),
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
    'Machines and environments',
    `From ${d.files.length} results file(s). Records are grouped by hardware profile; a runner id seen on several profiles is shown as runner@profile.`,
    h(
      'div',
      { class: 'cards' },
      ...d.profiles.map((p) =>
        h(
          'div',
          { class: 'card' },
          h('h3', null, p.id),
          h('p', { class: 'sub' }, `${p.records} records · runners: ${p.runners.join(', ')}`),
          kv(p.fingerprint),
          ...p.tools.map((t) => h('p', { class: 'sub' }, t)),
          h('details', null, h('summary', null, `runner environments (${p.environments.length})`), ...p.environments.map((e) => h('div', { class: 'env' }, h('strong', null, e.runner), ` ${e.provider}`, kv(e.environment)))),
        ),
      ),
    ),
    h('details', null, h('summary', null, 'results files'), h('ul', null, ...d.files.map((f) => h('li', null, h('code', null, f))))),
  );
}

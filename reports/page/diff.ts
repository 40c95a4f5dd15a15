import type { Candidate, StepView } from '../../src/metrics/types.ts';
import type { DiffCase } from '../data.ts';
import { append, clear, h } from './dom.ts';
import { onOpenDiff } from './findings.ts';
import { diff, logit, pct, tokenLabel, visibleToken } from './format.ts';
import { t } from './i18n.ts';

function signed(x: number | null): string {
  if (x === null) return '—';
  return x === 0 ? '0' : `${x > 0 ? '+' : '−'}${diff(Math.abs(x))}`;
}

function caseLabel(c: DiffCase): string {
  const pair =
    c.relation === 'repetition'
      ? t('diff.caseRep', { runner: c.b.runner, b: c.b.repetition, a: c.a.repetition })
      : c.relation === 'batch'
        ? t('diff.caseBatch', { runner: c.b.runner, batch: c.batchSize, rep: c.b.repetition })
        : c.relation === 'seed'
          ? t('diff.caseSeed', { runner: c.b.runner, setting: c.settingId, rep: c.b.repetition })
          : t('diff.caseCross', { a: c.a.runner, b: c.b.runner, rep: c.b.repetition });
  return `${pair}${t('diff.splitsAt', { step: c.step })}${c.nearTie ? t('diff.nearTieTag') : ''}`;
}

function groupLabel(c: DiffCase): string {
  return t('diff.group', { prompt: c.promptId, setting: c.settingId, batch: c.batchSize });
}

/** One lane of tokens: shared prefix, the divergent token, then the rest dimmed. */
function lane(c: DiffCase, side: 'a' | 'b'): HTMLElement {
  const tokens = side === 'a' ? c.tokensA : c.tokensB;
  const more = side === 'a' ? c.moreA : c.moreB;
  const ref = side === 'a' ? c.a : c.b;
  const row = h('div', { class: 'tokens' });
  if (c.offset > 0) append(row, h('span', { class: 'elided' }, t('diff.earlier', { n: c.offset })));
  tokens.forEach((tok, i) => {
    const pos = c.offset + i;
    const cls = pos < c.step ? 'tok same' : pos === c.step ? `tok split split-${side}` : 'tok after';
    append(row, h('span', { class: cls, title: t('diff.token', { pos }) }, visibleToken(tok)));
  });
  if (c.offset + tokens.length <= c.step) append(row, h('span', { class: `tok split split-${side} ended` }, t('diff.ended')));
  if (more > 0) append(row, h('span', { class: 'elided' }, t('diff.more', { n: more })));
  return h(
    'div',
    { class: `lane lane-${side}` },
    h(
      'div',
      { class: 'lane-head' },
      h('span', { class: `badge badge-${side}` }, side.toUpperCase()),
      h('strong', null, ref.runner),
      t('diff.rep', { rep: ref.repetition, profile: ref.profileId }),
    ),
    row,
  );
}

/** The candidate table of one side at the split step. */
function candidates(view: StepView, other: StepView, side: 'a' | 'b', runner: string, nearTie: number): HTMLElement {
  const chosen = view.token;
  const otherChoice = other.token;
  const same = (x: Candidate, t: { id: number | null; text: string | null } | null) =>
    t !== null && ((x.id !== null && x.id === t.id) || (x.id === null && x.text !== null && x.text === t.text));
  const maxP = Math.max(1e-9, ...view.top.map((x) => (x.logprob === null ? 0 : Math.exp(x.logprob))));
  // The same candidate's value on the other side: the drift that decided the split.
  const otherValue = (x: Candidate): number | null => {
    const o = other.top.find((y) => (x.id !== null && y.id === x.id) || (x.id === null && x.text !== null && y.text === x.text));
    if (!o) return null;
    if (x.logit !== null && o.logit !== null) return x.logit - o.logit;
    return x.logprob !== null && o.logprob !== null ? x.logprob - o.logprob : null;
  };
  const rows = view.top.map((x, i) => {
    const p = x.logprob === null ? null : Math.exp(x.logprob);
    const cls = [same(x, chosen) ? 'chosen' : '', same(x, otherChoice) ? 'other-choice' : ''].join(' ').trim();
    return h(
      'tr',
      { class: cls },
      h('td', { class: 'rank' }, String(i + 1)),
      h(
        'td',
        null,
        h('span', { class: 'tok cand' }, tokenLabel(x, t('diff.ended'))),
        x.id !== null && x.text !== null ? h('span', { class: 'tid' }, `#${x.id}`) : null,
      ),
      h('td', { class: 'num' }, logit(x.logit)),
      h('td', { class: 'num' }, logit(x.logprob)),
      h('td', { class: 'num delta' }, signed(otherValue(x))),
      h(
        'td',
        { class: 'bar-cell' },
        p === null ? '—' : h('span', { class: `pbar pbar-${side}`, attrs: { style: `width:${Math.max(2, (p / maxP) * 100).toFixed(1)}%` } }),
        p === null ? null : h('span', { class: 'pval' }, pct(p, 1)),
      ),
    );
  });
  const margin = view.margin;
  return h(
    'div',
    { class: `cands cands-${side}` },
    h(
      'div',
      { class: 'cands-head' },
      h('span', { class: `badge badge-${side}` }, side.toUpperCase()),
      h('strong', null, runner),
      t('diff.chose'),
      h('span', { class: `tok split split-${side}` }, tokenLabel(chosen, t('diff.ended'))),
      h('span', { class: `margin ${margin !== null && margin <= nearTie ? 'tie' : ''}` }, t('diff.margin', { m: margin === null ? '—' : diff(margin) })),
    ),
    h(
      'table',
      { class: 'grid cand-table' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', null, '#'),
          h('th', null, t('diff.candidate')),
          h('th', null, t('diff.logit')),
          h('th', null, t('diff.logprob')),
          h('th', { title: t('diff.deltaTitle') }, t('diff.delta', { side: side === 'a' ? 'B' : 'A' })),
          h('th', null, t('diff.probability')),
        ),
      ),
      h('tbody', null, ...rows),
    ),
  );
}

/** The selected case in full: header, both lanes, the split's numbers and candidates. */
function renderCase(c: DiffCase, nearTie: number): HTMLElement {
  const stats = h(
    'div',
    { class: 'split-stats' },
    stat(t('diff.statFirst'), String(c.step)),
    stat(t('diff.statMargin'), c.minMargin === null ? '—' : diff(c.minMargin), c.nearTie ? t('diff.nearTie') : t('diff.clear')),
    stat(
      t('diff.statSplitDiff'),
      diff(c.splitMaxDiff),
      c.splitMaxDiff !== null && c.minMargin !== null && c.splitMaxDiff >= c.minMargin ? t('diff.enough') : t('diff.sameInputs'),
    ),
    stat(t('diff.statBefore'), diff(c.drift.max), c.drift.values ? t('diff.meanOf', { mean: diff(c.drift.mean), values: c.drift.values }) : t('diff.noShared')),
    stat(
      t('diff.statBitwise'),
      c.bitwise.share === null ? '—' : pct(c.bitwise.share),
      t('diff.steps', { equal: c.bitwise.equal, compared: c.bitwise.compared }),
    ),
  );
  return h(
    'div',
    { class: 'case' },
    h('blockquote', { class: 'prompt' }, c.promptText),
    h('div', { class: 'lanes' }, lane(c, 'a'), lane(c, 'b')),
    stats,
    h('div', { class: 'cand-pair' }, candidates(c.atA, c.atB, 'a', c.a.runner, nearTie), candidates(c.atB, c.atA, 'b', c.b.runner, nearTie)),
    h('p', { class: 'note' }, t('diff.foot', { basis: c.basis === 'ids' ? t('diff.basisIds') : t('diff.basisTexts') })),
  );
}

function stat(label: string, value: string, sub?: string): HTMLElement {
  return h(
    'div',
    { class: 'stat' },
    h('div', { class: 'stat-value' }, value),
    h('div', { class: 'stat-label' }, label),
    sub ? h('div', { class: 'stat-sub' }, sub) : null,
  );
}

/** The token-level diff with its two selectors (prompt/setting, then runner pair); `nearTie` from the report data. */
export function diffView(cases: DiffCase[], total: number, nearTie: number): HTMLElement {
  const root = h('div', { class: 'diff' });
  if (cases.length === 0) {
    append(root, h('p', { class: 'empty' }, t('diff.none')));
    return root;
  }
  const groups = [...new Set(cases.map((c) => c.group))];
  const groupSel = h(
    'select',
    { attrs: { 'aria-label': t('diff.pickGroup').trim() } },
    ...groups.map((g) => {
      const first = cases.find((c) => c.group === g)!;
      return h('option', { attrs: { value: g } }, `${groupLabel(first)} (${cases.filter((c) => c.group === g).length})`);
    }),
  );
  const pairSel = h('select', { attrs: { 'aria-label': t('diff.pickPair').trim() } });
  const body = h('div');
  const show = () => {
    const list = cases.filter((c) => c.group === groupSel.value);
    const c = list[Number(pairSel.value)] ?? list[0];
    clear(body);
    if (c) append(body, renderCase(c, nearTie));
  };
  const fillPairs = () => {
    clear(pairSel);
    for (const [i, c] of cases.filter((x) => x.group === groupSel.value).entries()) append(pairSel, h('option', { attrs: { value: String(i) } }, caseLabel(c)));
    show();
  };
  groupSel.addEventListener('change', fillPairs);
  pairSel.addEventListener('change', show);
  append(
    root,
    h('div', { class: 'pickers' }, h('label', null, t('diff.pickGroup'), groupSel), h('label', null, t('diff.pickPair'), pairSel)),
    total > cases.length ? h('p', { class: 'note' }, t('diff.showing', { shown: cases.length, total })) : null,
    body,
  );
  fillPairs();
  // A finding's "evidence" link opens its case: select the group, then the pair within it.
  onOpenDiff((index) => {
    const c = cases[index];
    if (!c) return;
    groupSel.value = c.group;
    fillPairs();
    pairSel.value = String(cases.filter((x) => x.group === c.group).indexOf(c));
    show();
  });
  return root;
}

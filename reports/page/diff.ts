import type { DiffCase } from '../data.ts';
import type { Candidate, StepView } from '../../src/metrics/types.ts';
import { append, clear, h } from './dom.ts';
import { diff, logit, pct, tokenLabel, visibleToken } from './format.ts';

function signed(x: number | null): string {
  if (x === null) return '—';
  return x === 0 ? '0' : `${x > 0 ? '+' : '−'}${diff(Math.abs(x))}`;
}

/** Margins at or below this are called a near tie on the page (the metrics' default threshold). */
const NEAR_TIE = 0.05;

function caseLabel(c: DiffCase): string {
  const pair = c.relation === 'repetition' ? `${c.b.runner}: rep ${c.b.repetition} vs rep ${c.a.repetition}` : `${c.a.runner} → ${c.b.runner} (rep ${c.b.repetition})`;
  return `${pair} · splits at token ${c.step}${c.nearTie ? ' · near tie' : ''}`;
}

function groupLabel(c: DiffCase): string {
  return `${c.promptId} · ${c.settingId} · batch ${c.batchSize}`;
}

/** One lane of tokens: shared prefix, the divergent token, then the rest dimmed. */
function lane(c: DiffCase, side: 'a' | 'b'): HTMLElement {
  const tokens = side === 'a' ? c.tokensA : c.tokensB;
  const more = side === 'a' ? c.moreA : c.moreB;
  const ref = side === 'a' ? c.a : c.b;
  const row = h('div', { class: 'tokens' });
  if (c.offset > 0) append(row, h('span', { class: 'elided' }, `… ${c.offset} earlier tokens`));
  tokens.forEach((t, i) => {
    const pos = c.offset + i;
    const cls = pos < c.step ? 'tok same' : pos === c.step ? `tok split split-${side}` : 'tok after';
    append(row, h('span', { class: cls, title: `token ${pos}` }, visibleToken(t)));
  });
  if (c.offset + tokens.length <= c.step) append(row, h('span', { class: `tok split split-${side} ended` }, '(ended)'));
  if (more > 0) append(row, h('span', { class: 'elided' }, `… ${more} more`));
  return h(
    'div',
    { class: `lane lane-${side}` },
    h('div', { class: 'lane-head' }, h('span', { class: `badge badge-${side}` }, side.toUpperCase()), h('strong', null, ref.runner), ` rep ${ref.repetition} · ${ref.profileId}`),
    row,
  );
}

/** The candidate table of one side at the split step. */
function candidates(view: StepView, other: StepView, side: 'a' | 'b', runner: string): HTMLElement {
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
      h('td', null, h('span', { class: 'tok cand' }, tokenLabel(x)), x.id !== null && x.text !== null ? h('span', { class: 'tid' }, `#${x.id}`) : null),
      h('td', { class: 'num' }, logit(x.logit)),
      h('td', { class: 'num' }, logit(x.logprob)),
      h('td', { class: 'num delta' }, signed(otherValue(x))),
      h('td', { class: 'bar-cell' }, p === null ? '—' : h('span', { class: `pbar pbar-${side}`, attrs: { style: `width:${Math.max(2, (p / maxP) * 100).toFixed(1)}%` } }), p === null ? null : h('span', { class: 'pval' }, pct(p, 1))),
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
      ' chose ',
      h('span', { class: `tok split split-${side}` }, tokenLabel(chosen)),
      h('span', { class: `margin ${margin !== null && margin <= NEAR_TIE ? 'tie' : ''}` }, `margin ${margin === null ? '—' : diff(margin)}`),
    ),
    h(
      'table',
      { class: 'grid cand-table' },
      h('thead', null, h('tr', null, h('th', null, '#'), h('th', null, 'candidate'), h('th', null, 'logit'), h('th', null, 'logprob'), h('th', { title: 'this logit minus the other runner’s logit for the same candidate' }, `Δ vs ${side === 'a' ? 'B' : 'A'}`), h('th', null, 'probability'))),
      h('tbody', null, ...rows),
    ),
  );
}

/** The selected case in full: header, both lanes, the split's numbers and candidates. */
function renderCase(c: DiffCase): HTMLElement {
  const stats = h(
    'div',
    { class: 'split-stats' },
    stat('first divergent token', String(c.step)),
    stat('smallest margin at the split', c.minMargin === null ? '—' : diff(c.minMargin), c.nearTie ? 'near tie: rounding decides' : 'clear margin'),
    stat('max |Δ logit| at the split', diff(c.splitMaxDiff), c.splitMaxDiff !== null && c.minMargin !== null && c.splitMaxDiff >= c.minMargin ? 'drift ≥ margin: enough to flip' : 'same inputs on both sides'),
    stat('max |Δ| of top values before the split', diff(c.drift.max), c.drift.values ? `mean ${diff(c.drift.mean)} · ${c.drift.values}` : 'no shared candidates'),
    stat('bitwise-equal logits rows before the split', c.bitwise.share === null ? '—' : pct(c.bitwise.share), `${c.bitwise.equal}/${c.bitwise.compared} steps`),
  );
  return h(
    'div',
    { class: 'case' },
    h('blockquote', { class: 'prompt' }, c.promptText),
    h('div', { class: 'lanes' }, lane(c, 'a'), lane(c, 'b')),
    stats,
    h('div', { class: 'cand-pair' }, candidates(c.atA, c.atB, 'a', c.a.runner), candidates(c.atB, c.atA, 'b', c.b.runner)),
    h('p', { class: 'note' }, `Compared on ${c.basis === 'ids' ? 'token ids' : 'token texts (a runner reported no ids)'}. Highlighted: each side's choice; outlined: the other side's choice.`),
  );
}

function stat(label: string, value: string, sub?: string): HTMLElement {
  return h('div', { class: 'stat' }, h('div', { class: 'stat-value' }, value), h('div', { class: 'stat-label' }, label), sub ? h('div', { class: 'stat-sub' }, sub) : null);
}

/** The token-level diff with its two selectors (prompt/setting, then runner pair). */
export function diffView(cases: DiffCase[], total: number): HTMLElement {
  const root = h('div', { class: 'diff' });
  if (cases.length === 0) {
    append(root, h('p', { class: 'empty' }, 'No divergent pairs: every compared output matched exactly.'));
    return root;
  }
  const groups = [...new Set(cases.map((c) => c.group))];
  const groupSel = h('select', { attrs: { 'aria-label': 'prompt and setting' } }, ...groups.map((g) => {
    const first = cases.find((c) => c.group === g)!;
    return h('option', { attrs: { value: g } }, `${groupLabel(first)} (${cases.filter((c) => c.group === g).length})`);
  }));
  const pairSel = h('select', { attrs: { 'aria-label': 'runner pair' } });
  const body = h('div');
  const show = () => {
    const list = cases.filter((c) => c.group === groupSel.value);
    const c = list[Number(pairSel.value)] ?? list[0];
    clear(body);
    if (c) append(body, renderCase(c));
  };
  const fillPairs = () => {
    clear(pairSel);
    cases.filter((c) => c.group === groupSel.value).forEach((c, i) => append(pairSel, h('option', { attrs: { value: String(i) } }, caseLabel(c))));
    show();
  };
  groupSel.addEventListener('change', fillPairs);
  pairSel.addEventListener('change', show);
  append(
    root,
    h('div', { class: 'pickers' }, h('label', null, 'Prompt / setting ', groupSel), h('label', null, 'Pair ', pairSel)),
    total > cases.length ? h('p', { class: 'note' }, `Showing ${cases.length} of ${total} divergent pairs: the earliest split per prompt, setting and runner pair.`) : null,
    body,
  );
  fillPairs();
  return root;
}

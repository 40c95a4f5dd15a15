import type { TopLevelSpec } from 'vega-lite';
import type { ExplorerRecord, ReportData } from '../data.ts';
import { chart } from './chart.ts';
import { append, clear, h, section } from './dom.ts';
import { type ExploreSettings, explore } from './explore-math.ts';
import { fixed, int, pct, visibleToken } from './format.ts';
import { t } from './i18n.ts';

function recorded(r: ExplorerRecord): ExploreSettings {
  return r.sampling.kind === 'sample'
    ? { temperature: r.sampling.temperature, topK: r.sampling.topK, topP: r.sampling.topP }
    : { temperature: 1, topK: 0, topP: 1 };
}

function slider(
  label: () => string,
  min: number,
  max: number,
  step: number,
  value: number,
  onInput: (v: number) => void,
): { el: HTMLElement; set: (v: number) => void } {
  const input = h('input', { attrs: { type: 'range', min: String(min), max: String(max), step: String(step), value: String(value) } });
  const text = h('span', { class: 'slider-label' });
  const set = (v: number) => {
    input.value = String(v);
    text.textContent = label();
  };
  input.addEventListener('input', () => {
    onInput(Number(input.value));
    text.textContent = label();
  });
  text.textContent = label();
  return { el: h('label', { class: 'slider' }, text, input), set };
}

/** The sampling explorer: one step's candidates, recomputed in the page as the sliders move. */
export function explorerView(d: ReportData): HTMLElement {
  const recs = d.explorer.records;
  if (recs.length === 0) return section('explorer', t('explorer.title'), t('explorer.note'), h('p', { class: 'empty' }, t('explorer.none')));
  const name = (id: number) => visibleToken(d.explorer.vocab[id] ?? `#${id}`);
  const recSel = h(
    'select',
    { attrs: { 'aria-label': t('explorer.record') } },
    ...recs.map((r, i) => h('option', { attrs: { value: String(i) } }, `${r.runner} · ${r.promptId} · ${r.settingId}`)),
  );
  let rec = recs[0]!;
  let step = 0;
  let s = recorded(rec);
  const body = h('div', { class: 'explorer-body' });
  const stepSel = h('select', { attrs: { 'aria-label': t('explorer.step') } });
  const fillSteps = () => {
    clear(stepSel);
    for (const [i, st] of rec.steps.entries())
      append(stepSel, h('option', { attrs: { value: String(i) } }, `${i}: ${visibleToken(rec.tokenTexts[i] ?? name(st.token))}`));
  };
  const temp = slider(
    () => t('explorer.temperature', { v: fixed(s.temperature, 2) }),
    0.05,
    2,
    0.05,
    s.temperature,
    (v) => {
      s.temperature = v;
      redraw();
    },
  );
  const topK = slider(
    () => t('explorer.topK', { v: s.topK === 0 ? t('explorer.off') : int(s.topK) }),
    0,
    10,
    1,
    s.topK,
    (v) => {
      s.topK = v;
      redraw();
    },
  );
  const topP = slider(
    () => t('explorer.topP', { v: s.topP >= 1 ? t('explorer.off') : fixed(s.topP, 2) }),
    0.05,
    1,
    0.01,
    s.topP,
    (v) => {
      s.topP = v;
      redraw();
    },
  );
  const onReset = () => {
    s = recorded(rec);
    syncSliders();
    redraw();
  };
  const reset = h('button', { attrs: { type: 'button' }, on: { click: onReset } }, t('explorer.reset'));
  const syncSliders = () => {
    temp.set(s.temperature);
    topK.set(s.topK);
    topP.set(s.topP);
  };

  function redraw(): void {
    const st = rec.steps[step];
    clear(body);
    if (!st) return;
    const greedy = rec.sampling.kind === 'greedy';
    const r = explore(st, s, greedy ? null : st.draw);
    const rows = st.ids.map((id, i) => ({
      rank: i,
      token: `${i + 1}. ${name(id)}`,
      p: r.probs[i]!,
      q: r.keptProbs[i]!,
      state: r.kept[i] ? t('chart.kept') : t('chart.cut'),
      chosen: id === st.token,
    }));
    if (r.tail > 0) rows.push({ rank: st.ids.length, token: t('chart.tail'), p: r.tail, q: 0, state: t('chart.tail'), chosen: false });
    const order = rows.map((x) => x.token);
    const spec: TopLevelSpec = {
      width: 'container',
      height: 220,
      title: t('chart.explorer', { step }),
      data: { values: rows },
      layer: [
        {
          mark: { type: 'bar', cornerRadiusEnd: 3 },
          encoding: {
            x: { field: 'token', type: 'nominal', sort: order, title: null, axis: { labelAngle: -40 } },
            y: { field: 'p', type: 'quantitative', title: t('chart.prob'), axis: { format: '.0%' } },
            color: {
              field: 'state',
              type: 'nominal',
              title: null,
              scale: { domain: [t('chart.kept'), t('chart.cut'), t('chart.tail')], range: ['#4f46e5', '#cbd5e1', '#94a3b8'] },
            },
            tooltip: [
              { field: 'token', type: 'nominal' },
              { field: 'p', type: 'quantitative', format: '.2%', title: t('chart.prob') },
              { field: 'q', type: 'quantitative', format: '.2%', title: t('chart.kept') },
            ],
          },
        },
        {
          transform: [{ filter: 'datum.chosen' }],
          mark: { type: 'text', text: '▼', dy: -8, fontSize: 14, color: '#0f172a' },
          encoding: { x: { field: 'token', type: 'nominal', sort: order }, y: { field: 'p', type: 'quantitative' } },
        },
      ],
    };
    const strip = drawStrip(st.ids.map(name), r.keptProbs, r.order, r.pick, greedy ? null : st.draw);
    let line: string;
    if (greedy) line = t('explorer.greedy');
    else if (st.draw === null) line = t('explorer.noDraw');
    else
      line = t('explorer.draw', {
        u: fixed(st.draw, 4),
        token: r.pick === null ? '—' : r.pick < 0 ? t('chart.tail') : name(st.ids[r.pick]!),
        chosen: name(st.token),
      });
    append(
      body,
      chart(spec),
      strip,
      h('p', { class: `explorer-line ${r.exact ? 'exact' : 'approx'}` }, line, ' · ', t(r.exact ? 'explorer.exact' : 'explorer.approx')),
    );
  }

  recSel.addEventListener('change', () => {
    rec = recs[Number(recSel.value)] ?? recs[0]!;
    step = 0;
    s = recorded(rec);
    fillSteps();
    syncSliders();
    redraw();
  });
  stepSel.addEventListener('change', () => {
    step = Number(stepSel.value);
    redraw();
  });
  fillSteps();
  redraw();
  const k = Math.max(...recs.map((r) => r.steps[0]?.ids.length ?? 0));
  const longest = Math.max(...recs.map((r) => r.stepsTotal));
  return section(
    'explorer',
    t('explorer.title'),
    t('explorer.note'),
    h('div', { class: 'pickers' }, h('label', null, t('explorer.record'), recSel), h('label', null, t('explorer.step'), stepSel)),
    h('div', { class: 'sliders' }, temp.el, topK.el, topP.el, reset),
    body,
    h('p', { class: 'note' }, t('explorer.limits', { k })),
    d.explorer.total > recs.length ? h('p', { class: 'note' }, t('explorer.showing', { shown: recs.length, total: d.explorer.total })) : null,
    longest > d.explorer.maxSteps ? h('p', { class: 'note' }, t('explorer.stepsShown', { shown: d.explorer.maxSteps, total: longest })) : null,
  );
}

/** The kept candidates laid end to end on [0, 1) in the order the draw walks them: its mark falls on the chosen one. */
function drawStrip(names: string[], kept: number[], order: number[], pick: number | null, u: number | null): HTMLElement {
  const strip = h('div', { class: 'draw-strip' });
  order.forEach((i) => {
    const q = kept[i]!;
    if (q <= 0) return;
    append(
      strip,
      h(
        'span',
        { class: `draw-seg${i === pick ? ' picked' : ''}`, title: `${names[i]} ${pct(q)}`, attrs: { style: `width:${(q * 100).toFixed(3)}%` } },
        q > 0.06 ? names[i]! : '',
      ),
    );
  });
  if (u !== null) append(strip, h('span', { class: 'draw-mark', attrs: { style: `left:${(u * 100).toFixed(3)}%` } }));
  return strip;
}

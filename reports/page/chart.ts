import embed from 'vega-embed';
import type { TopLevelSpec } from 'vega-lite';
import { append, h } from './dom.ts';
import { t } from './i18n.ts';

/**
 * A vega-lite chart rendered as SVG (text stays selectable and crisp on projectors). Its menu
 * offers only "Save as SVG" and "Save as PNG": vega renders both in the page (view.toImageURL),
 * so nothing links out and the report stays offline.
 */
export function chart(spec: TopLevelSpec, cls = 'chart'): HTMLElement {
  const el = h('div', { class: cls });
  embed(el, spec, {
    renderer: 'svg',
    actions: { export: { svg: true, png: true }, source: false, compiled: false, editor: false },
    downloadFileName: 'detbench-chart',
    i18n: { SVG_ACTION: t('vega.svg'), PNG_ACTION: t('vega.png') },
  }).catch((err: unknown) => {
    append(el, h('p', { class: 'warn' }, t('chart.failed', { error: String(err) })));
  });
  return el;
}

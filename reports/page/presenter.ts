import type { ReportData } from '../data.ts';
import { append, clear, h } from './dom.ts';
import { sentence, sureness, verdict } from './findings-text.ts';
import { t } from './i18n.ts';

/**
 * The presenter view: one finding per screen in large type, for a talk. Arrow keys, space and
 * Page Up/Down move; Esc closes. Pure DOM, so it works from file:// like the rest of the page.
 */
export function openPresenter(d: ReportData, start = 0): void {
  document.querySelector('.presenter')?.remove();
  const slides: { title: string; body: string; sub: string }[] = [
    { title: t('present.title'), body: verdict(d.findings), sub: d.title },
    ...d.findings.map((f, i) => ({ title: t('present.of', { i: i + 1, n: d.findings.length }), body: sentence(f), sub: sureness(f) })),
  ];
  let at = Math.max(0, Math.min(start, slides.length - 1));
  const stage = h('div', { class: 'slide' });
  const root = h(
    'div',
    { class: 'presenter', attrs: { role: 'dialog', 'aria-label': t('present.title'), tabindex: '-1' } },
    stage,
    h('div', { class: 'presenter-hint' }, t('present.hint')),
  );
  const show = () => {
    const s = slides[at]!;
    clear(stage);
    append(stage, h('div', { class: 'slide-title' }, s.title), h('div', { class: 'slide-body' }, s.body), h('div', { class: 'slide-sub' }, s.sub));
    root.setAttribute('data-slide', String(at));
  };
  const close = () => {
    document.removeEventListener('keydown', onKey);
    root.remove();
    if (location.hash === '#present') history.replaceState(null, '', '#findings');
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape') close();
    else if (['ArrowRight', 'ArrowDown', 'PageDown', ' '].includes(e.key)) at = Math.min(slides.length - 1, at + 1);
    else if (['ArrowLeft', 'ArrowUp', 'PageUp'].includes(e.key)) at = Math.max(0, at - 1);
    else return;
    e.preventDefault();
    if (root.isConnected) show();
  };
  document.addEventListener('keydown', onKey);
  root.addEventListener('click', () => {
    at = Math.min(slides.length - 1, at + 1);
    show();
  });
  document.body.appendChild(root);
  show();
  root.focus();
}

import type { ReportData } from '../data.ts';
import { h, section } from './dom.ts';
import { sentence, sureness, verdict } from './findings-text.ts';
import { t } from './i18n.ts';

/** Opens a diff case by its index in `data.diffs` (set by the diff view once it exists). */
let openDiff: (index: number) => void = () => {};

/** Lets the diff view say how to open one of its cases. */
export function onOpenDiff(fn: (index: number) => void): void {
  openDiff = fn;
}

/** The findings section: the one-line answer, then one sentence per finding with its evidence. */
export function findingsSection(d: ReportData): HTMLElement {
  if (d.findings.length === 0) return section('findings', t('findings.title'), null, h('p', { class: 'empty' }, t('findings.none')));
  const items = d.findings.map((f, i) => {
    const diff = f.link.diff;
    const href = `#${f.link.section}`;
    const link = h(
      'a',
      {
        class: 'evidence',
        attrs: { href },
        on: {
          click: () => {
            if (diff !== null) openDiff(diff);
          },
        },
      },
      t('findings.evidence'),
    );
    return h(
      'li',
      {
        class: `finding finding-${f.kind}${f.changed > 0 ? ' diverged' : ''}`,
        attrs: { 'data-kind': f.kind, 'data-index': String(i), 'data-runners': f.runners.join(',') },
      },
      h('span', { class: 'finding-text' }, sentence(f)),
      ' ',
      link,
      h('div', { class: 'finding-sure' }, sureness(f)),
    );
  });
  return section(
    'findings',
    t('findings.title'),
    t('findings.note'),
    h('p', { class: 'verdict' }, verdict(d.findings)),
    h('ol', { class: 'findings' }, ...items),
  );
}

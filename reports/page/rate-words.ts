/** The statistics rows' subject, kind and "of" in the page's language (the data carries their parts). */
import type { RateRow } from '../../src/metrics/rates.ts';
import { t } from './i18n.ts';

/** "cpu → wasm", "cpu (rep k vs rep 0)", "cpu → wasm (teacher-forced)", "all runners". */
export function rateSubject(r: RateRow): string {
  const { runner = '', reference = '' } = r.parts;
  switch (r.kind) {
    case 'exact-match':
    case 'tarr':
    case 'unique-share':
      return runner;
    case 'cross-exact-match':
      return `${reference} → ${runner}`;
    case 'repeat-pair-exact-match':
      return t('rate.subjectRepeat', { runner });
    case 'teacher-top1':
    case 'same-top1':
      return t('rate.subjectTeacher', { reference, runner });
    case 'across-runners-tarr':
      return t('rate.subjectAll');
  }
}

/** The rate's name. */
export function rateKind(r: RateRow): string {
  return t(`rate.kind.${r.kind}`);
}

/** What the rate counts. */
export function rateOfWords(r: RateRow): string {
  return t(`rate.of.${r.kind}`, { n: r.parts.n ?? 'N' });
}

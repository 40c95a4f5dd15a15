/** The page's language: one current language, its texts, and locale-aware numbers. */
import type { ReportLang } from '../data.ts';
import { DE } from './lang-de.ts';
import { EN, type MessageKey } from './lang-en.ts';

const CATALOGS: Record<ReportLang, Record<MessageKey, string>> = { en: EN, de: DE };
const LOCALES: Record<ReportLang, string> = { en: 'en-US', de: 'de-DE' };
let current: ReportLang = 'en';

/** Switches the language every later {@link t} and number format uses. */
export function setLang(lang: ReportLang): void {
  current = lang;
}

/** The current language. */
export function lang(): ReportLang {
  return current;
}

/** The BCP 47 locale of the current language, for Intl formats. */
export function locale(): string {
  return LOCALES[current];
}

/** The text of `key` in the current language, with `{name}` placeholders filled from `params`. */
export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  return CATALOGS[current][key].replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

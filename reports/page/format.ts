/** Number and token formatting for the page, in the current language's locale. */
import { locale } from './i18n.ts';

const dash = '—';

function nf(digits: number, style: 'decimal' | 'percent' = 'decimal'): Intl.NumberFormat {
  return new Intl.NumberFormat(locale(), { style, minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A share as a percentage ("97.0%", "97,0 %"). */
export function pct(x: number | null | undefined, digits = 1): string {
  return typeof x === 'number' ? nf(digits, 'percent').format(x) : dash;
}

/** A number with fixed digits, or a dash. */
export function fixed(x: number | null | undefined, digits = 1): string {
  return typeof x === 'number' ? nf(digits).format(x) : dash;
}

/** An integer count, grouped per locale ("1,234", "1.234"). */
export function int(x: number): string {
  return nf(0).format(x);
}

/** Milliseconds, switching to seconds above 10 s. */
export function ms(x: number | null | undefined): string {
  if (typeof x !== 'number') return dash;
  return x >= 10_000 ? `${fixed(x / 1000, 1)} s` : `${fixed(x, x < 10 ? 2 : 0)} ms`;
}

/** A logit difference: 0 exactly, else three significant digits (often 1e-6 scale). */
export function diff(x: number | null | undefined): string {
  if (typeof x !== 'number') return dash;
  if (x === 0) return '0';
  if (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e4) {
    const [m, e] = x.toExponential(2).split('e');
    return `${fixed(Number(m), 2)}e${e}`;
  }
  return new Intl.NumberFormat(locale(), { maximumSignificantDigits: 3, minimumSignificantDigits: 3 }).format(x);
}

/** A logit or log-probability. */
export function logit(x: number | null | undefined): string {
  return typeof x === 'number' ? fixed(x, 4) : dash;
}

/** Makes whitespace in a token visible without changing the text otherwise. */
export function visibleToken(text: string): string {
  return text.replace(/\r/g, '␍').replace(/\n/g, '↵').replace(/\t/g, '⇥');
}

/** A token label: its text, else `#id`. */
export function tokenLabel(t: { id: number | null; text: string | null } | null, ended = '(ended)'): string {
  if (!t) return ended;
  if (t.text !== null) return visibleToken(t.text);
  return t.id !== null ? `#${t.id}` : '?';
}

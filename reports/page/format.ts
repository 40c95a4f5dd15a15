/** Number and token formatting for the page. */

const dash = '—';

/** A share as a percentage. */
export function pct(x: number | null | undefined, digits = 1): string {
  return typeof x === 'number' ? `${(x * 100).toFixed(digits)}%` : dash;
}

/** A number with fixed digits, or a dash. */
export function fixed(x: number | null | undefined, digits = 1): string {
  return typeof x === 'number' ? x.toFixed(digits) : dash;
}

/** Milliseconds, switching to seconds above 10 s. */
export function ms(x: number | null | undefined): string {
  if (typeof x !== 'number') return dash;
  return x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${x.toFixed(x < 10 ? 2 : 0)} ms`;
}

/** A logit difference: 0 exactly, else three significant digits (often 1e-6 scale). */
export function diff(x: number | null | undefined): string {
  if (typeof x !== 'number') return dash;
  if (x === 0) return '0';
  return Math.abs(x) < 1e-3 || Math.abs(x) >= 1e4 ? x.toExponential(2) : x.toPrecision(3);
}

/** A logit or log-probability. */
export function logit(x: number | null | undefined): string {
  return typeof x === 'number' ? x.toFixed(4) : dash;
}

/** Makes whitespace in a token visible without changing the text otherwise. */
export function visibleToken(text: string): string {
  return text.replace(/\r/g, '␍').replace(/\n/g, '↵').replace(/\t/g, '⇥');
}

/** A token label: its text, else `#id`. */
export function tokenLabel(t: { id: number | null; text: string | null } | null): string {
  if (!t) return '(ended)';
  if (t.text !== null) return visibleToken(t.text);
  return t.id !== null ? `#${t.id}` : '?';
}

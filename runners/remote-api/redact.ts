/** What replaces a secret wherever it would be echoed. */
export const REDACTED = '[REDACTED]';

/** The forms in which a secret can come back: as sent, URL-encoded, JSON-escaped. */
function formsOf(secrets: readonly string[]): string[] {
  const out = new Set<string>();
  for (const s of secrets) {
    if (!s) continue;
    out.add(s);
    out.add(encodeURIComponent(s));
    out.add(JSON.stringify(s).slice(1, -1));
  }
  // Longest first, so that a form containing another is replaced whole.
  return [...out].sort((a, b) => b.length - a.length);
}

/** `text` with every occurrence of each secret replaced by {@link REDACTED}. */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const form of formsOf(secrets)) out = out.split(form).join(REDACTED);
  return out;
}

/**
 * `value` with every string inside it (keys included) redacted; returns `value` itself when no
 * secret occurs in it, which is the common case and costs one JSON.stringify.
 */
export function redactDeep<T>(value: T, secrets: readonly string[]): T {
  const forms = formsOf(secrets);
  if (forms.length === 0) return value;
  const json = JSON.stringify(value);
  if (json === undefined || !forms.some((f) => json.includes(f))) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redactText(v, secrets);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [redactText(k, secrets), walk(x)]));
    return v;
  };
  return walk(value) as T;
}

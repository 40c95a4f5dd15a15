/** What replaces a secret wherever it would be echoed. */
export const REDACTED = '[REDACTED]';

/**
 * Base64 cores shorter than this are not redacted: a short core would match ordinary text. Real
 * API keys (20+ characters) give cores of 24+ characters.
 */
const MIN_BASE64_CORE = 8;

/**
 * The base64 characters that depend on `secret` alone, when it sits at byte offset 0, 1 or 2 of a
 * group of three inside a longer encoded value (as in `Basic base64("user:" + key)`): at each
 * alignment the characters shared with unknown neighbouring bytes are dropped.
 */
function base64Cores(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const out: string[] = [];
  for (const lead of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(lead), bytes])
      .toString('base64')
      .replace(/=+$/, '');
    // A leading unknown byte shares 2 characters, two share 3; a last partial group shares 1.
    const head = [0, 2, 3][lead]!;
    const tail = (lead + bytes.length) % 3 === 0 ? 0 : 1;
    const core = encoded.slice(head, encoded.length - tail);
    if (core.length >= MIN_BASE64_CORE) out.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

/** The forms in which a secret can come back: as sent, URL-encoded, JSON-escaped, base64 and base64url (any alignment). */
function formsOf(secrets: readonly string[]): string[] {
  const out = new Set<string>();
  for (const s of secrets) {
    if (!s) continue;
    out.add(s);
    out.add(encodeURIComponent(s));
    out.add(JSON.stringify(s).slice(1, -1));
    for (const core of base64Cores(s)) out.add(core);
  }
  // Longest first, so that a form containing another is replaced whole.
  return [...out].sort((a, b) => b.length - a.length);
}

/** `text` with each form replaced; with `cut`, also a trailing start of a form (see {@link redactText}). */
function replaceForms(text: string, forms: readonly string[], cut: boolean): string {
  let out = text;
  for (const form of forms) out = out.split(form).join(REDACTED);
  if (!cut) return out;
  for (const form of forms) {
    for (let n = Math.min(form.length - 1, out.length); n > 0; n--) {
      if (out.endsWith(form.slice(0, n))) {
        out = out.slice(0, out.length - n);
        break;
      }
    }
  }
  return out;
}

/**
 * `text` with every occurrence of each secret replaced by {@link REDACTED}. With `cut` (the text
 * is the start of something longer), an ending that could be the first characters of a secret is
 * dropped too: the rest of that secret was never read, so the whole-form match cannot see it.
 */
export function redactText(text: string, secrets: readonly string[], cut = false): string {
  return replaceForms(text, formsOf(secrets), cut);
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
    if (typeof v === 'string') return replaceForms(v, forms, false);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [replaceForms(k, forms, false), walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/** Redaction bound to one runner's secrets, handed to the code that quotes what a server sent. */
export interface Redactor {
  /** `text` redacted; `cut` as in {@link redactText}. */
  text(text: string, cut?: boolean): string;
  /** At most `max` characters of `text`, redacted first (so a cut never splits a secret into a quotable prefix). */
  excerpt(text: string, max: number, cut?: boolean): string;
}

/** A {@link Redactor} for `secrets`. */
export function redactor(secrets: readonly string[]): Redactor {
  const forms = formsOf(secrets);
  return {
    text: (text, cut = false) => replaceForms(text, forms, cut),
    excerpt: (text, max, cut = false) => {
      const clean = replaceForms(text, forms, cut);
      return clean.length > max ? `${clean.slice(0, max)}…` : clean;
    },
  };
}

import type { z } from 'zod';

/** A short rendering of a value the user wrote, for "got ..." in messages (`.inf` shows as Infinity). */
export function shown(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * The message of a union that matched no branch: what was expected and what was written, plus the
 * first issue found inside a list or object (`[1]: expected number, received string`), so the
 * user sees both the accepted shapes and the offending item.
 */
export function unionError(expected: string): z.core.$ZodErrorMap {
  return (iss) => {
    if (iss.code !== 'invalid_union') return undefined;
    const deep = iss.errors.flat().find((e) => e.path.length > 0 && e.code !== 'unrecognized_keys');
    const at = deep
      ? ` (${deep.path
          .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
          .join('')
          .replace(/^\./, '')}: ${deep.message})`
      : '';
    return `expected ${expected}, got ${shown(iss.input)}${at}`;
  };
}

import { DetbenchError } from '../errors.ts';
import type { ResultRecord } from './record.ts';
import { READABLE_VERSIONS, resultRecordSchema } from './schema.ts';

/** `steps.topLogits[3][0]` from zod's `['steps', 'topLogits', 3, 0]`. */
function fieldOf(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out || '(record)';
}

type Cell = 'int' | 'number' | 'string';

/**
 * Per-step arrays, checked by a plain loop before zod sees the rest of the record: zod's cost per
 * element is about 2.5 s of CPU per million decode steps (tens of millions of numbers), the loop's a
 * small fraction of it. The rules are the schema's (`schema.ts`): integers, numbers or null, strings.
 */
const STEP_ARRAYS: Record<string, { cell: Cell; nullable: boolean; depth: 1 | 2 }> = {
  token: { cell: 'int', nullable: false, depth: 1 },
  forced: { cell: 'int', nullable: false, depth: 1 },
  topIds: { cell: 'int', nullable: false, depth: 2 },
  topLogits: { cell: 'number', nullable: true, depth: 2 },
  topLogprobs: { cell: 'number', nullable: true, depth: 2 },
  margin: { cell: 'number', nullable: true, depth: 1 },
  hash: { cell: 'string', nullable: false, depth: 1 },
  draw: { cell: 'number', nullable: true, depth: 1 },
  topTokens: { cell: 'string', nullable: false, depth: 2 },
};

function received(x: unknown): string {
  return x === null ? 'null' : Array.isArray(x) ? 'array' : typeof x;
}

/** Why `x` is no valid cell, in zod's words; null if it is one. */
function cellProblem(x: unknown, cell: Cell, nullable: boolean): string | null {
  if (cell === 'string') return typeof x === 'string' ? null : `Invalid input: expected string, received ${received(x)}`;
  if (nullable && x === null) return null;
  if (typeof x !== 'number' || !Number.isFinite(x)) return `Invalid input: expected number, received ${received(x)}`;
  return cell === 'int' && !Number.isSafeInteger(x) ? 'Invalid input: expected int, received number' : null;
}

/** The first bad element of one per-step array, as a zod-like issue; null if it is fine. */
function badCell(v: readonly unknown[], rule: (typeof STEP_ARRAYS)[string]): { path: number[]; message: string } | null {
  for (let i = 0; i < v.length; i++) {
    const row = v[i];
    if (rule.depth === 1) {
      const p = cellProblem(row, rule.cell, rule.nullable);
      if (p) return { path: [i], message: p };
      continue;
    }
    if (!Array.isArray(row)) return { path: [i], message: `Invalid input: expected array, received ${received(row)}` };
    for (let j = 0; j < row.length; j++) {
      const p = cellProblem(row[j], rule.cell, rule.nullable);
      if (p) return { path: [i, j], message: p };
    }
  }
  return null;
}

/**
 * Checks the per-step arrays of a completed record and returns the record with them emptied, for
 * zod to check the rest (shallow copies: the record itself is not changed).
 */
function withoutStepArrays(value: object, file: string, line: number): object {
  const rec = value as { status?: unknown; steps?: unknown };
  if (rec.status !== 'completed' || typeof rec.steps !== 'object' || rec.steps === null) return value;
  const steps = { ...(rec.steps as Record<string, unknown>) };
  for (const [key, rule] of Object.entries(STEP_ARRAYS)) {
    const v = steps[key];
    if (!Array.isArray(v)) continue;
    const bad = badCell(v, rule);
    if (bad) {
      const field = fieldOf(['steps', key, ...bad.path]);
      throw new DetbenchError('RESULTS_INVALID', `${file}:${line}: ${field}: ${bad.message}`, { file, line, field });
    }
    steps[key] = [];
  }
  return { ...rec, steps };
}

/**
 * Checks one parsed line of a results file against the record schema and returns it as a record.
 * Every reader goes through here, so every consumer reports the same errors: the file, the line,
 * the field and what was expected (`RESULTS_INVALID`), or an unreadable version (`RESULTS_VERSION`).
 * The value itself is returned, not zod's copy, so a large record is not copied.
 */
export function checkRecord(value: unknown, file: string, line: number): ResultRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DetbenchError('RESULTS_INVALID', `${file}:${line}: expected a JSON object (one record per line)`, { file, line });
  }
  const version = (value as { schemaVersion?: unknown }).schemaVersion;
  if (typeof version === 'number' && !READABLE_VERSIONS.includes(version)) {
    throw new DetbenchError(
      'RESULTS_VERSION',
      `${file}:${line}: schemaVersion: ${version} is not supported (this detbench reads ${READABLE_VERSIONS.slice(0, -1).join(', ')} and ${READABLE_VERSIONS.at(-1)}${version > Math.max(...READABLE_VERSIONS) ? '; a newer detbench wrote it' : ''})`,
      { file, line, field: 'schemaVersion' },
    );
  }
  const parsed = resultRecordSchema.safeParse(withoutStepArrays(value, file, line));
  if (!parsed.success) {
    const [first] = parsed.error.issues;
    const field = fieldOf(first!.path);
    const message = first!.message;
    const more = parsed.error.issues.length - 1;
    throw new DetbenchError('RESULTS_INVALID', `${file}:${line}: ${field}: ${message}${more > 0 ? ` (and ${more} more problem${more > 1 ? 's' : ''})` : ''}`, {
      file,
      line,
      field,
    });
  }
  return value as ResultRecord;
}

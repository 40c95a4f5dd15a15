/**
 * Parsing a results line fast, and the lean read that skips per-step arrays only a display of single
 * steps needs. Used by the one reader, `read.ts`.
 */

import { isAscii } from 'node:buffer';
import { closeSync, openSync, readSync } from 'node:fs';
import { DetbenchError } from '../errors.ts';

/** Where a record's line lies in its file, to read it again in full (see `readRecordAt`). */
export interface RecordLocation {
  file: string;
  offset: number;
  length: number;
  line: number;
}

/** The lean read of `read.ts`. */
export interface LeanOptions {
  /**
   * Skip, without parsing, per-step data that only a display of single steps needs: `steps.topLogprobs`
   * when `steps.topLogits` has values and there are no `steps.topTokens`, and `timings.stepMs` (both
   * left as `[]`); the metrics come out the same. They are about 40%
   * of a record's bytes; `readRecordAt` gets a record back in full.
   */
  lean?: boolean;
}

const TOP_LOGITS = Buffer.from('"topLogits":[[');
const TOP_LOGPROBS = Buffer.from('"topLogprobs":[');
const STEP_MS = Buffer.from('"stepMs":[');

/** Byte range of the array value after `key` (which ends with its `[`), at `i` (where the key starts). */
function arrayRangeAt(line: Buffer, key: Buffer, i: number): [number, number] | null {
  if (i < 0) return null;
  const open = i + key.length - 1;
  // Rows hold numbers and null only, so the first `]]` closes an array of rows.
  const end = line[open + 1] === 0x5b ? line.indexOf(']]', open) + 1 : line.indexOf(']', open);
  return end > open ? [open, end + 1] : null;
}

/**
 * Byte ranges a lean read skips (see {@link StreamOptions.lean}). Keys are found as raw bytes:
 * inside a JSON string a quote is always escaped, so `"key":[` never matches string content.
 * (A free-form field such as `environment` using the same key would lose that array: harmless.)
 */
export function leanRanges(line: Buffer): [number, number][] {
  const out: [number, number][] = [];
  const logits = line.indexOf(TOP_LOGITS);
  const c = logits >= 0 ? (line[logits + TOP_LOGITS.length] ?? 0) : 0;
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
    // The writer puts topLogprobs after topLogits; search there first, then the whole line.
    const at = line.indexOf(TOP_LOGPROBS, logits);
    const r = arrayRangeAt(line, TOP_LOGPROBS, at >= 0 ? at : line.indexOf(TOP_LOGPROBS));
    if (r) out.push(r);
  }
  // timings comes near the end of a line: search backwards.
  const r = arrayRangeAt(line, STEP_MS, line.lastIndexOf(STEP_MS));
  if (r && !out.some(([f, t]) => r[0] < t && f < r[1])) out.push(r);
  return out.sort((x, y) => x[0] - y[0]);
}

/** Decodes `line` without the `skip` ranges (each replaced by `[]`). */
function decode(line: Buffer, skip: [number, number][], encoding: 'latin1' | 'utf8'): string {
  if (skip.length === 0) return line.toString(encoding);
  // One string of the kept bytes: pieces joined as strings would be copied once more when flattened.
  const parts: Buffer[] = [];
  let at = 0;
  for (const [from, to] of skip) {
    parts.push(line.subarray(at, from), EMPTY_ARRAY);
    at = to;
  }
  parts.push(line.subarray(at));
  return Buffer.concat(parts).toString(encoding);
}

const EMPTY_ARRAY = Buffer.from('[]');

/** True when every `\u` escape in `s` is below U+0080 (so latin1 decoding cannot mix with escaped text). */
function onlyAsciiEscapes(s: string): boolean {
  for (let i = s.indexOf('\\u'); i >= 0; i = s.indexOf('\\u', i + 2)) {
    if (s.charCodeAt(i + 2) !== 48 || s.charCodeAt(i + 3) !== 48 || s.charCodeAt(i + 4) > 55) return false;
  }
  return true;
}

const HIGH = /[\u0080-\u00ff]/;

/** Per-step arrays the record contract types as numbers: nothing to re-decode in them. */
const NUMERIC_STEPS = new Set(['token', 'forced', 'topIds', 'topLogits', 'topLogprobs', 'margin', 'draw']);

/** Re-decodes as UTF-8 every string (and key) of a value parsed from latin1-decoded UTF-8 bytes. */
function fixLatin1<T>(v: T, skip?: ReadonlySet<string>): T {
  if (typeof v === 'string') return (HIGH.test(v) ? Buffer.from(v, 'latin1').toString('utf8') : v) as T;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x === 'string' || (typeof x === 'object' && x !== null)) v[i] = fixLatin1(x);
    }
    return v;
  }
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (skip?.has(k)) continue;
      const x = o[k];
      const fixed = typeof x === 'string' || (typeof x === 'object' && x !== null) ? fixLatin1(x, k === 'steps' ? NUMERIC_STEPS : undefined) : x;
      if (HIGH.test(k)) {
        delete o[k];
        o[fixLatin1(k)] = fixed;
      } else if (fixed !== x) o[k] = fixed;
    }
  }
  return v;
}

/**
 * Parses one line. V8 decodes latin1 several times faster than UTF-8 and parses the one-byte strings
 * it makes faster too; JSON keeps non-ASCII bytes inside strings, so decoding as latin1 and then
 * re-decoding the few strings with high bytes gives the same value as decoding UTF-8 first.
 */
export function parseBytes(line: Buffer, lean: boolean, file: string, lineNo: number): unknown {
  const skip = lean ? leanRanges(line) : [];
  const ascii = isAscii(line);
  const latin = decode(line, skip, 'latin1');
  if (ascii || onlyAsciiEscapes(latin)) {
    const v = tryParse(latin);
    // With topTokens, log-probabilities are what text-matched candidates compare on: keep them (rare).
    const steps = (v as { steps?: { topTokens?: unknown; topLogprobs?: unknown[] } } | undefined)?.steps;
    const keep = skip.length > 0 && steps?.topTokens !== undefined && steps.topLogprobs?.length === 0;
    if (v !== undefined && !keep) return ascii ? v : fixLatin1(v);
    if (keep) return parseBytes(line, false, file, lineNo);
  }
  // Should the lean cut ever break a line, the line as written is the judge.
  return parseLine(line.toString('utf8'), file, lineNo);
}

function tryParse(s: string): unknown {
  try {
    // JSON.parse never yields undefined, so undefined can mean "failed".
    return JSON.parse(s) as unknown;
  } catch {
    return undefined;
  }
}

function parseLine(line: string, file: string, lineNo: number): unknown {
  try {
    return JSON.parse(line);
  } catch (cause) {
    throw new DetbenchError('RESULTS_INVALID', `${file}:${lineNo}: not valid JSON`, { cause, file, line: lineNo });
  }
}

/** The bytes of one record's line, from where the reader found it. */
export function readBytes(where: RecordLocation): Buffer {
  const fd = openSync(where.file, 'r');
  try {
    const buf = Buffer.alloc(where.length);
    let got = 0;
    while (got < where.length) {
      const n = readSync(fd, buf, got, where.length - got, where.offset + got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/**
 * The first pass of a streaming read: every record's head (the fields before its per-step data)
 * and where its line lies, without parsing the steps. The metrics plan which records to compare
 * from heads alone (`src/metrics/plan.ts`); the records themselves are then read unit by unit
 * (`record-store.ts`), so a study of millions of steps is never in memory at once.
 */
import { isAscii } from 'node:buffer';
import { parseBytes, type RecordLocation } from './lean.ts';
import { type ReadOptions, scanLines, type TailState } from './read.ts';
import type { CompletedRecord, ErroredRecord, ResultRecord, SkippedRecord } from './record.ts';
import { checkRecord } from './validate.ts';

/** The head of a completed record: every field before `promptTokens`, as the record builder writes them. */
export type CompletedHead = Omit<CompletedRecord, 'promptTokens' | 'tokens' | 'tokenTexts' | 'text' | 'steps' | 'finishReason' | 'timings' | 'batch' | 'extra'>;

/** What the first pass keeps of a record: the head of a completed one, an errored or skipped one whole (they are short). */
export type RecordHead = CompletedHead | ErroredRecord | SkippedRecord;

/** A head and where its record lies. */
export interface LocatedHead {
  head: RecordHead;
  where: RecordLocation;
}

const PROMPT_TOKENS = Buffer.from(',"promptTokens":');
/** The head of a record ends within this many bytes (prompt texts are capped far below it in practice). */
const HEAD_WINDOW = 1 << 16;

const isStr = (x: unknown): x is string => typeof x === 'string';
const obj = (x: unknown): Record<string, unknown> | null => (typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : null);

/** The fields the plan reads have their types: else the full read names what is wrong. */
function plausibleHead(v: unknown): v is CompletedHead {
  const o = obj(v);
  if (o?.status !== 'completed') return false;
  const sub = (k: string, f: string) => isStr(obj(o[k])?.[f]);
  return (
    isStr(o.id) &&
    isStr(o.finishedAt) &&
    isStr(o.startedAt) &&
    isStr(o.mode) &&
    typeof o.repetition === 'number' &&
    typeof o.batchSize === 'number' &&
    typeof o.schemaVersion === 'number' &&
    sub('suite', 'id') &&
    sub('prompt', 'id') &&
    sub('setting', 'id') &&
    obj(obj(o.setting)?.sampling) !== null &&
    sub('runner', 'id') &&
    sub('runner', 'type') &&
    sub('profile', 'id') &&
    sub('provider', 'effective') &&
    obj(o.environment) !== null
  );
}

/** The head of one line: the prefix before `promptTokens` when it parses as the record's top level, else the whole record. */
export function headOf(line: Buffer, file: string, lineNo: number): RecordHead {
  const cut = line.length > 4096 ? line.subarray(0, HEAD_WINDOW).indexOf(PROMPT_TOKENS) : -1;
  if (cut > 0) {
    const prefix = line.subarray(0, cut);
    // The cut closes one object level: it parses only when `promptTokens` is a top-level key.
    let v: unknown;
    try {
      v = JSON.parse(`${prefix.toString(isAscii(prefix) ? 'latin1' : 'utf8')}}`);
    } catch {
      v = undefined;
    }
    if (plausibleHead(v)) return v;
  }
  return toHead(checkRecord(parseBytes(line, true, file, lineNo), file, lineNo));
}

const BODY = ['promptTokens', 'tokens', 'tokenTexts', 'text', 'steps', 'finishReason', 'timings', 'batch', 'extra'] as const;
const BODY_KEYS = new Set<string>(BODY);

/**
 * A field of `record` that its head lacks: written after the per-step data, where the first pass
 * did not look (detbench writes every common field first; another writer might not). Null when the
 * head is whole.
 */
export function missingFromHead(head: RecordHead, record: ResultRecord): string | null {
  for (const k of Object.keys(record)) if (!BODY_KEYS.has(k) && !(k in head)) return k;
  return null;
}

/** A record without its body (so that a head read the slow way weighs what a fast one does). */
function toHead(r: ResultRecord): RecordHead {
  if (r.status !== 'completed') return r;
  const h: Record<string, unknown> = { ...r };
  for (const k of BODY) delete h[k];
  return h as CompletedHead;
}

/** What {@link streamHeads} read. */
export interface HeadsSummary {
  heads: number;
  tail: TailState;
}

/**
 * Calls `onHead` with the head of every record of `file`, in file order. A last line that is not
 * valid JSON is dropped with a warning, as {@link streamResults} drops it; every other line is
 * judged in full when its record is read (`record-store.ts`).
 */
export function streamHeads(file: string, onHead: (h: LocatedHead) => void, opts: ReadOptions = {}): HeadsSummary {
  let heads = 0;
  let tail: TailState = { kind: 'ok' };
  scanLines(file, (bytes, offset, lineNo, last) => {
    let head: RecordHead;
    if (last) {
      // A run killed mid-write leaves a last line whose head may well parse: judge it whole.
      let value: unknown;
      try {
        value = parseBytes(bytes, true, file, lineNo);
      } catch {
        opts.warn?.(`${file}:${lineNo}: ignoring a truncated last line (an interrupted run?)`);
        tail = { kind: 'truncated', keep: offset, line: lineNo };
        return;
      }
      head = toHead(checkRecord(value, file, lineNo));
      tail = { kind: 'unterminated' };
    } else head = headOf(bytes, file, lineNo);
    onHead({ head, where: { file, offset, length: bytes.length, line: lineNo } });
    heads++;
  });
  return { heads, tail };
}

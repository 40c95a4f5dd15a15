import type { RowSummary } from '../src/decode/logits.ts';

/**
 * The shared memory between the decode loop and its recording worker (runners/summary-ring.ts,
 * runners/summary-worker.ts). Control words live in one Int32Array: those the loop writes (and the
 * polling worker reads) on one 64-byte cache line, those the worker writes on the next, so
 * neither side's polling drags the other's line back and forth.
 */
export const CTRL = {
  /** Rows the loop has queued. */
  WRITTEN: 0,
  /** > 0: the end of a generation (this many rows); the worker, done with them all, resets the counters and sets it back to 0. */
  FLUSH_AT: 1,
  CLOSING: 2,
  /** Bumped on every change, so a sleeping worker never misses a wake-up. */
  SEQ: 3,
  /** Rows the worker has summarised. */
  READ: 16,
  /** 1 while the worker sleeps (or is about to): only then does the loop notify it. */
  SLEEPING: 17,
  /** 1 once the worker's loop threw. */
  FAILED: 18,
} as const;
export const CTRL_WORDS = 32;
/** Rows the ring holds. */
export const SLOTS = 32;

/** Candidates a result slot holds (a suite's `top_logprobs` is at most 100). */
export const MAX_TOP_K = 100;

/** Result slots: the worker writes row r's summary to slot r % SLOTS, the loop reads it back. */
export interface ResultSlots {
  /** Per slot: how many candidates. */
  count: Int32Array;
  ids: Int32Array;
  logits: Float64Array;
  logprobs: Float64Array;
  margin: Float64Array;
  /** Per slot: the two 32-bit halves of the hash. */
  hash: Uint32Array;
}

export function resultSlots(): ResultSlots {
  const shared = <T>(make: (b: SharedArrayBuffer) => T, bytes: number): T => make(new SharedArrayBuffer(bytes));
  return {
    count: shared((b) => new Int32Array(b), SLOTS * 4),
    ids: shared((b) => new Int32Array(b), SLOTS * MAX_TOP_K * 4),
    logits: shared((b) => new Float64Array(b), SLOTS * MAX_TOP_K * 8),
    logprobs: shared((b) => new Float64Array(b), SLOTS * MAX_TOP_K * 8),
    margin: shared((b) => new Float64Array(b), SLOTS * 8),
    hash: shared((b) => new Uint32Array(b), SLOTS * 2 * 4),
  };
}

export function writeResult(r: ResultSlots, slot: number, s: RowSummary): void {
  const at = slot * MAX_TOP_K;
  r.count[slot] = s.ids.length;
  r.ids.set(s.ids, at);
  r.logits.set(s.logits, at);
  r.logprobs.set(s.logprobs, at);
  r.margin[slot] = s.margin;
  r.hash[2 * slot] = Number.parseInt(s.hash.slice(0, 8), 16);
  r.hash[2 * slot + 1] = Number.parseInt(s.hash.slice(8), 16);
}

const hex = (w: number): string => w.toString(16).padStart(8, '0');

export function readResult(r: ResultSlots, slot: number): RowSummary {
  const at = slot * MAX_TOP_K;
  const n = r.count[slot]!;
  const ids: number[] = [];
  const logits: number[] = [];
  const logprobs: number[] = [];
  for (let i = at; i < at + n; i++) {
    ids.push(r.ids[i]!);
    logits.push(r.logits[i]!);
    logprobs.push(r.logprobs[i]!);
  }
  return { ids, logits, logprobs, margin: r.margin[slot]!, hash: hex(r.hash[2 * slot]!) + hex(r.hash[2 * slot + 1]!) };
}

/** What the worker receives once, with the shared buffers. */
export interface RingInit {
  ctrl: Int32Array;
  /** Per slot: the row's length and its top-k. */
  meta: Int32Array;
  slots: Float32Array;
  results: ResultSlots;
  width: number;
  /** > 0: between rows the worker wakes by itself this often (ms) instead of being notified... */
  pollMs: number;
  /** ...for this long after its last row; then it sleeps until notified. */
  pollForMs: number;
  /** Where the worker reports its own failure. */
  port: import('node:worker_threads').MessagePort;
}

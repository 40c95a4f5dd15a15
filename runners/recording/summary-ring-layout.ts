import type { RowSummary } from '../../src/decode/logits.ts';

/**
 * The shared memory between the decode loop and its recording worker (runners/recording/summary-ring.ts,
 * runners/recording/summary-worker.ts). Row numbers only grow (they wrap at 2^32, so every comparison is a
 * difference `(a - b) | 0`, and a row's slot is `row & (SLOTS - 1)`): nothing is reset between
 * generations. Control words live in one Int32Array: those the loop writes on one 64-byte cache
 * line, those the worker writes on the next, so neither side's polling drags the other's line.
 */
export const CTRL = {
  /** Rows the loop has queued (the next row's number). */
  WRITTEN: 0,
  /** Bumped on every change, so a sleeping worker never misses a wake-up. */
  SEQ: 1,
  CLOSING: 2,
  /**
   * The next row to summarise. The worker and the loop (at the end of a generation, for rows the
   * worker has not started) both take rows by compare-and-swap here, so each row is summarised once.
   */
  CLAIMED: 16,
  /** 1 while the worker sleeps (or is about to): only then does the loop notify it. */
  SLEEPING: 17,
  /** 1 once the worker's loop threw. */
  FAILED: 18,
} as const;
export const CTRL_WORDS = 32;
/** Rows the ring holds (a power of two: slots are row numbers masked). */
export const SLOTS = 32;

/** Candidates a result slot holds (a suite's `top_logprobs` is at most 100). */
export const MAX_TOP_K = 100;

/** Result slots: row r's summary goes to slot r & (SLOTS - 1). */
export interface ResultSlots {
  /** Per slot: the number of the row whose summary the slot holds (stored last, read first). */
  done: Int32Array;
  /** Per slot: how long the worker took over the row (ms), for the loop's estimate of a row's cost. */
  rowMs: Float64Array;
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
  const done = shared((b) => new Int32Array(b), SLOTS * 4);
  // No row is done yet: slot s first holds row s, so start each slot one lap behind that.
  for (let s = 0; s < SLOTS; s++) done[s] = s - SLOTS;
  return {
    done,
    rowMs: shared((b) => new Float64Array(b), SLOTS * 8),
    count: shared((b) => new Int32Array(b), SLOTS * 4),
    ids: shared((b) => new Int32Array(b), SLOTS * MAX_TOP_K * 4),
    logits: shared((b) => new Float64Array(b), SLOTS * MAX_TOP_K * 8),
    logprobs: shared((b) => new Float64Array(b), SLOTS * MAX_TOP_K * 8),
    margin: shared((b) => new Float64Array(b), SLOTS * 8),
    hash: shared((b) => new Uint32Array(b), SLOTS * 2 * 4),
  };
}

/** Writes row `row`'s summary into its slot, then marks it done (the store the reader waits for). */
export function writeResult(r: ResultSlots, row: number, s: RowSummary, ms: number): void {
  const slot = row & (SLOTS - 1);
  const at = slot * MAX_TOP_K;
  r.count[slot] = s.ids.length;
  r.ids.set(s.ids, at);
  r.logits.set(s.logits, at);
  r.logprobs.set(s.logprobs, at);
  r.margin[slot] = s.margin;
  r.hash[2 * slot] = Number.parseInt(s.hash.slice(0, 8), 16);
  r.hash[2 * slot + 1] = Number.parseInt(s.hash.slice(8), 16);
  r.rowMs[slot] = ms;
  Atomics.store(r.done, slot, row);
  Atomics.notify(r.done, slot);
}

/** Whether row `row`'s summary is in its slot. */
export const isDone = (r: ResultSlots, row: number): boolean => Atomics.load(r.done, row & (SLOTS - 1)) === row;

const hex = (w: number): string => w.toString(16).padStart(8, '0');

/** Row `row`'s summary, once {@link isDone}. */
export function readResult(r: ResultSlots, row: number): RowSummary {
  const slot = row & (SLOTS - 1);
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

/** What the worker receives once: the shared buffers and how to poll. */
export interface RingBuffers {
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
}

/** What a Node worker thread receives: the buffers and the port where it reports its own failure. */
export interface RingInit extends RingBuffers {
  port: import('node:worker_threads').MessagePort;
}

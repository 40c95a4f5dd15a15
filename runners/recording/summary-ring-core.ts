import { type RowSummary, summarizeRow } from '../../src/decode/logits.ts';
import type { StepRecorder } from '../../src/decode/types.ts';
import { CTRL, CTRL_WORDS, isDone, MAX_TOP_K, type ResultSlots, type RingBuffers, readResult, resultSlots, SLOTS } from './summary-ring-layout.ts';

/** The longest a drain waits for the row the worker is on before it summarises that row itself. */
const PATIENCE_CAP_MS = 2;
/** A polling worker goes to sleep (to be notified) after this long without a row. */
const POLL_FOR_MS = 50;

/**
 * A row whose summary costs the loop at most this share of its time per row is summarised in line:
 * then the recording is within the 3% that issue #13 allows with a core to spare, and a worker
 * (the copy, reading results back, a second thread on a loaded machine) would cost the loop more.
 */
const INLINE_BELOW = 0.03;
/** Every this many rows the loop times a summary of its own, so a change of the row's cost is seen. */
const PROBE_EVERY = 64;

/** How a ring decides; every field but `pollMs` fixed only by tests. */
export interface RingTuning {
  /** How often (ms) the worker wakes by itself between rows. */
  pollMs: number;
  /** How many queued rows may wait for the worker (else from the worker's recent time per row). */
  maxWaiting?: number;
  /** How long (ms) a drain waits for the worker's row before it does that row itself. */
  patienceMs?: number;
  /** The share of the loop's time per row below which a row is summarised in line (default 0.03). */
  inlineBelow?: number;
}

/** Where a ring's rows were summarised, counted since it started. */
export interface RowPlaces {
  /** On the worker thread. */
  worker: number;
  /** By the loop, at push: the worker had enough rows waiting, or a row costs the loop so little that in line is cheaper. */
  inline: number;
  /** By the loop at the end of a generation: queued rows the worker had not started. */
  taken: number;
  /** By the loop at the end of a generation: the row the worker was still on after as long as a row takes it. */
  redone: number;
}

/**
 * The decode loop's side of the recording ring, the same in Node (runners/recording/summary-ring.ts) and in
 * the page (runners/browser/in-chromium/page-ring.ts), which add the worker and the waiting.
 *
 * Rows cheap to summarise stay in line: the loop times its own summaries and the time between
 * rows, and while a summary costs it at most 3% of that (a 4,096-logit row on the step kernel
 * against a forward pass of 0.3 ms), it summarises every row itself, timing one in 64 when it
 * would otherwise hand them over.
 * The rule that keeps the loop from waiting on a worker slower than its steps (a 32,000-logit row
 * costs more than a tiny model's forward pass; a busy machine leaves the worker no core): a row
 * goes to the worker only while fewer than `maxWaiting` queued rows wait for it; otherwise the loop
 * summarises that row itself, in line, and takes the greedy token from it. `maxWaiting` is as many
 * rows as the worker does in one poll interval, by the time its recent rows took, at least 1 and at
 * most half the ring: a fast worker may sleep between polls while rows queue, a slow one never has
 * more than one row waiting. At the end of a generation the loop takes the rows the worker has not
 * started (both claim rows by compare-and-swap on CLAIMED) and waits for the one it is on only as
 * long as a row takes the worker (a worker that the machine preempted may be off its core for
 * milliseconds): then it summarises that row too, and the worker's late result is never read. The
 * summaries are the same wherever a row was summarised: the same `summarizeRow` runs on both sides.
 */
export abstract class RingCore implements StepRecorder {
  protected ctrl!: Int32Array;
  protected results!: ResultSlots;
  private meta!: Int32Array;
  private slots!: Float32Array;
  protected width = 0;
  /** The next ring row's number. */
  protected written = 0;
  /** The next ring row to read back. */
  protected collected = 0;
  /** This generation's first ring row. */
  private first = 0;
  /** This generation's summaries by push index (a hole: still on the worker). */
  private out: (RowSummary | undefined)[] = [];
  /** The push index of each of this generation's ring rows (ring row first + i). */
  private pushOf: number[] = [];
  /** The worker's recent time per row (ms), 0 before its first row. */
  private rowMs = 0;
  /** The loop's recent time for a summary of its own (ms), 0 before its first. */
  private inlineMs = 0;
  /** The recent time between rows (ms) within a generation, and when the last row came (-1: none yet). */
  private intervalMs = 0;
  private lastPush = -1;
  private pushes = 0;
  protected failed: Error | null = null;
  private readonly counts: RowPlaces = { worker: 0, inline: 0, taken: 0, redone: 0 };
  protected readonly pollMs: number;

  protected constructor(private readonly tuning: RingTuning) {
    this.pollMs = tuning.pollMs;
  }

  /** Hands the shared buffers to the worker (once, at the first row). */
  protected abstract share(buffers: RingBuffers): void;
  /** The worker's own report of its failure, once it set FAILED; null while none came. */
  protected abstract failure(): string | null;

  abstract drain(): Promise<RowSummary[]>;

  /** Where rows were summarised so far. */
  places(): RowPlaces {
    return { ...this.counts };
  }

  push(row: Float32Array, topK: number): RowSummary | undefined {
    this.check();
    if (this.width === 0) this.allocate(row.length);
    if (row.length > this.width) throw new Error(`row of ${row.length} logits exceeds the ring's ${this.width}`);
    if (topK > MAX_TOP_K) throw new Error(`the recording worker keeps at most ${MAX_TOP_K} candidates, not ${topK}`);
    this.collect();
    const now = performance.now();
    if (this.lastPush >= 0) this.intervalMs = this.intervalMs > 0 ? 0.75 * this.intervalMs + 0.25 * (now - this.lastPush) : now - this.lastPush;
    this.lastPush = now;
    const waiting = (this.written - Atomics.load(this.ctrl, CTRL.CLAIMED)) | 0;
    const full = ((this.written - this.collected) | 0) >= SLOTS;
    const below = this.tuning.inlineBelow ?? INLINE_BELOW;
    const cheap = this.inlineMs > 0 && this.intervalMs > 0 && this.inlineMs <= below * this.intervalMs;
    const probe = below > 0 && this.pushes++ % PROBE_EVERY === 0;
    if (full || cheap || probe || waiting >= this.maxWaiting()) {
      const summary = summarizeRow(row, topK);
      const ms = performance.now() - now;
      this.inlineMs = this.inlineMs > 0 ? 0.75 * this.inlineMs + 0.25 * ms : ms;
      // The loop's own summary is part of the time to the next row; leave it out of the interval.
      this.lastPush += ms;
      this.out.push(summary);
      this.counts.inline++;
      return summary;
    }
    const slot = this.written & (SLOTS - 1);
    this.slots.set(row, slot * this.width);
    this.meta[2 * slot] = row.length;
    this.meta[2 * slot + 1] = topK;
    this.pushOf.push(this.out.length);
    this.out.push(undefined);
    this.written = (this.written + 1) | 0;
    Atomics.store(this.ctrl, CTRL.WRITTEN, this.written);
    // A futex wake only when the worker sleeps; a polling worker finds the row by itself.
    Atomics.add(this.ctrl, CTRL.SEQ, 1);
    if (Atomics.load(this.ctrl, CTRL.SLEEPING) === 1) Atomics.notify(this.ctrl, CTRL.SEQ);
    return undefined;
  }

  /** Tells the worker to stop. */
  protected stop(): void {
    if (this.width > 0) {
      Atomics.store(this.ctrl, CTRL.CLOSING, 1);
      Atomics.add(this.ctrl, CTRL.SEQ, 1);
      Atomics.notify(this.ctrl, CTRL.SEQ);
    }
    this.failed ??= new Error('the recording worker was closed');
  }

  /** How many queued rows may wait for the worker before the loop summarises a row itself. */
  private maxWaiting(): number {
    if (this.tuning.maxWaiting !== undefined) return this.tuning.maxWaiting;
    if (!(this.rowMs > 0)) return 1;
    return Math.max(1, Math.min(SLOTS / 2, Math.floor(this.pollMs / this.rowMs)));
  }

  /**
   * Summarises, here, the queued rows the worker has not started (the start of every drain). A
   * worker in its timed sleep is woken first (one futex call per generation), so that both work
   * through the rows that queued while it slept.
   */
  protected takeUnstarted(): void {
    if (this.width === 0) return;
    if (((this.written - Atomics.load(this.ctrl, CTRL.CLAIMED)) | 0) > 1) Atomics.notify(this.ctrl, CTRL.SEQ);
    for (;;) {
      const row = Atomics.load(this.ctrl, CTRL.CLAIMED);
      if (((this.written - row) | 0) <= 0) return;
      if (Atomics.compareExchange(this.ctrl, CTRL.CLAIMED, row, (row + 1) | 0) !== row) continue;
      this.out[this.pushOf[(row - this.first) | 0]!] = this.summarizeSlot(row);
      this.counts.taken++;
    }
  }

  /** How long (ms) a drain waits for the worker's row before it summarises that row itself. */
  protected patience(): number {
    if (this.tuning.patienceMs !== undefined) return this.tuning.patienceMs;
    return Math.min(PATIENCE_CAP_MS, this.rowMs > 0 ? this.rowMs : PATIENCE_CAP_MS);
  }

  /**
   * Summarises, here, the rows the worker claimed and has not finished (the end of a drain, once
   * its patience ran out). The worker's result for such a row, when it comes, is never read: the
   * loop reads a slot only once its `done` names the row the loop expects there, and the worker
   * finishes rows in order, so a late result (even one from a slot the next generation has
   * refilled meanwhile) always lands before the next row's.
   */
  protected redoUnfinished(): void {
    for (let row = this.collected; ((this.written - row) | 0) > 0; row = (row + 1) | 0) {
      const at = this.pushOf[(row - this.first) | 0]!;
      if (this.out[at] !== undefined || isDone(this.results, row)) continue;
      this.out[at] = this.summarizeSlot(row);
      this.counts.redone++;
    }
  }

  private summarizeSlot(row: number): RowSummary {
    const slot = row & (SLOTS - 1);
    return summarizeRow(this.slots.subarray(slot * this.width, slot * this.width + this.meta[2 * slot]!), this.meta[2 * slot + 1]!);
  }

  /** Reads back the summaries of ring rows that are done, oldest first; true once all are. */
  protected collect(): boolean {
    while (((this.written - this.collected) | 0) > 0) {
      const row = this.collected;
      const at = this.pushOf[(row - this.first) | 0]!;
      if (this.out[at] === undefined) {
        if (!isDone(this.results, row)) return false;
        this.out[at] = readResult(this.results, row);
        const ms = this.results.rowMs[row & (SLOTS - 1)]!;
        this.rowMs = this.rowMs > 0 ? 0.75 * this.rowMs + 0.25 * ms : ms;
        this.counts.worker++;
      }
      this.collected = (row + 1) | 0;
    }
    return true;
  }

  /** This generation's summaries, in push order, once every row is collected; starts the next. */
  protected finish(): RowSummary[] {
    this.check();
    const all = this.out;
    this.out = [];
    this.pushOf = [];
    this.first = this.written;
    // The gap to the next generation's first row is no time between rows.
    this.lastPush = -1;
    if (all.some((s) => s === undefined)) {
      this.failed = new Error('the recording worker lost a row');
      throw this.failed;
    }
    return all as RowSummary[];
  }

  /** Throws the worker's failure (or this ring's), if any. */
  protected check(): void {
    if (this.failed) throw this.failed;
    if (this.width > 0 && Atomics.load(this.ctrl, CTRL.FAILED) === 1) {
      this.failed = new Error(`the recording worker failed: ${this.failure() ?? 'unknown error'}`);
      throw this.failed;
    }
  }

  private allocate(width: number): void {
    this.width = width;
    this.ctrl = new Int32Array(new SharedArrayBuffer(CTRL_WORDS * 4));
    this.meta = new Int32Array(new SharedArrayBuffer(SLOTS * 2 * 4));
    this.slots = new Float32Array(new SharedArrayBuffer(SLOTS * width * 4));
    this.results = resultSlots();
    this.share({ ctrl: this.ctrl, meta: this.meta, slots: this.slots, results: this.results, width, pollMs: this.pollMs, pollForMs: POLL_FOR_MS });
  }
}

import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import { type RowSummary, summarizeRow } from '../src/decode/logits.ts';
import type { StepRecorder } from '../src/decode/types.ts';
import { CTRL, CTRL_WORDS, isDone, MAX_TOP_K, readResult, type ResultSlots, resultSlots, type RingInit, SLOTS } from './summary-ring-layout.ts';

/** How long drain() waits for the worker's last row before it calls the worker lost. */
const DRAIN_TIMEOUT_MS = 30_000;
/** drain() polls this long before it sleeps: the worker is at most one row (tens of µs) from done. */
const DRAIN_SPIN_MS = 5;
/** A polling worker goes to sleep (to be notified) after this long without a row. */
const POLL_FOR_MS = 50;

export interface SummaryRingOptions {
  /**
   * How often (ms) the worker wakes by itself between rows. The loop never notifies a polling
   * worker: notifying a sleeping thread cost the loop a futex call per step (10–15 µs measured in
   * this project's VM, far more than the copy). A spinning worker would avoid that too, but on two
   * cores it left none for the GC and the scheduler and whole generations ran slower; waking every
   * 0.1 ms did the same, every 0.5 ms did not (medians of 200 timed generations each). Default 0.5.
   */
  pollMs?: number;
  /** Fixes how many queued rows the worker may have waiting (see {@link SummaryRing}); for tests. */
  maxWaiting?: number;
}

/** Where this ring's rows were summarised, counted since it started. */
export interface RowPlaces {
  /** On the worker thread. */
  worker: number;
  /** By the loop, at push, because the worker had enough rows waiting. */
  inline: number;
  /** By the loop at the end of a generation: queued rows the worker had not started. */
  taken: number;
}

/**
 * A StepRecorder on a worker thread, with the loop as its second pair of hands. onnxruntime-node
 * runs `session.run` synchronously on the main thread, so the per-step recording (top-k, float64
 * log-sum-exp over the whole row, hash) can only overlap with it on another thread. Rows travel
 * through a SharedArrayBuffer ring (one copy per row; no message; no wake-up while the worker
 * polls) and their summaries come back through result slots in shared memory, which the loop reads
 * as it queues rows.
 *
 * The rule that keeps the loop from waiting on a worker slower than its steps (a 32,000-logit row
 * costs more than a tiny model's forward pass; a busy machine leaves the worker no core): a row
 * goes to the worker only while fewer than `maxWaiting` queued rows wait for it; otherwise the loop
 * summarises that row itself, in line, and takes the greedy token from it. `maxWaiting` is as many
 * rows as the worker does in one poll interval (0.5 ms), by the time its recent rows took, at
 * least 1 and at most half the ring: a fast worker may sleep between polls while rows queue, a slow
 * one never has more than one row waiting. At the end of a generation the loop takes the rows the
 * worker has not started and waits only for the one it is on. The summaries are the same wherever a
 * row was summarised (the same `summarizeRow`, bundled into the worker at start).
 */
export class SummaryRing implements StepRecorder {
  private ctrl!: Int32Array;
  private meta!: Int32Array;
  private slots!: Float32Array;
  private results!: ResultSlots;
  private width = 0;
  /** The next ring row's number. */
  private written = 0;
  /** The next ring row to read back. */
  private collected = 0;
  /** This generation's first ring row. */
  private first = 0;
  /** This generation's summaries by push index (a hole: still on the worker). */
  private out: (RowSummary | undefined)[] = [];
  /** The push index of each of this generation's ring rows (ring row first + i). */
  private pushOf: number[] = [];
  /** The worker's recent time per row (ms), 0 before its first row. */
  private rowMs = 0;
  private failed: Error | null = null;
  private readonly counts: RowPlaces = { worker: 0, inline: 0, taken: 0 };
  private readonly port: MessagePort;
  private readonly workerPort: MessagePort;

  private constructor(
    private readonly worker: Worker,
    private readonly pollMs: number,
    private readonly fixedWaiting: number | undefined,
  ) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.workerPort = port2;
    worker.unref();
    worker.on('error', (err) => (this.failed ??= err));
    worker.on('exit', (code) => (this.failed ??= new Error(`the recording worker exited with code ${code}`)));
  }

  static async start(options: SummaryRingOptions = {}): Promise<SummaryRing> {
    return new SummaryRing(new Worker(await workerSource(), { eval: true }), options.pollMs ?? 0.5, options.maxWaiting);
  }

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
    const waiting = (this.written - Atomics.load(this.ctrl, CTRL.CLAIMED)) | 0;
    const full = ((this.written - this.collected) | 0) >= SLOTS;
    if (full || waiting >= this.maxWaiting()) {
      const summary = summarizeRow(row, topK);
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
    this.wake();
    return undefined;
  }

  drain(): Promise<RowSummary[]> {
    try {
      return Promise.resolve(this.drainNow());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async close(): Promise<void> {
    if (this.width > 0) {
      Atomics.store(this.ctrl, CTRL.CLOSING, 1);
      Atomics.add(this.ctrl, CTRL.SEQ, 1);
      Atomics.notify(this.ctrl, CTRL.SEQ);
    }
    this.failed ??= new Error('the recording worker was closed');
    this.port.close();
    await this.worker.terminate();
  }

  /** How many queued rows may wait for the worker before the loop summarises a row itself. */
  private maxWaiting(): number {
    if (this.fixedWaiting !== undefined) return this.fixedWaiting;
    if (!(this.rowMs > 0)) return 1;
    return Math.max(1, Math.min(SLOTS / 2, Math.floor(this.pollMs / this.rowMs)));
  }

  /** Takes the rows the worker has not started, waits for the one it is on, returns them all. */
  private drainNow(): RowSummary[] {
    this.check();
    if (this.width > 0) {
      for (;;) {
        const row = Atomics.load(this.ctrl, CTRL.CLAIMED);
        if (((this.written - row) | 0) <= 0) break;
        if (Atomics.compareExchange(this.ctrl, CTRL.CLAIMED, row, (row + 1) | 0) !== row) continue;
        const slot = row & (SLOTS - 1);
        this.out[this.pushOf[(row - this.first) | 0]!] = summarizeRow(this.slots.subarray(slot * this.width, slot * this.width + this.meta[2 * slot]!), this.meta[2 * slot + 1]!);
        this.counts.taken++;
      }
      const start = performance.now();
      for (this.collect(); this.collected !== this.written; this.collect()) {
        this.check();
        const waited = performance.now() - start;
        if (waited > DRAIN_TIMEOUT_MS) {
          this.failed = new Error(`the recording worker did not answer within ${DRAIN_TIMEOUT_MS} ms`);
          throw this.failed;
        }
        // Being woken from a futex costs more than the wait itself in a VM: poll first, then sleep.
        const slot = this.collected & (SLOTS - 1);
        if (waited > DRAIN_SPIN_MS) Atomics.wait(this.results.done, slot, Atomics.load(this.results.done, slot), 20);
      }
    }
    this.check();
    const all = this.out;
    this.out = [];
    this.pushOf = [];
    this.first = this.written;
    if (all.some((s) => s === undefined)) {
      this.failed = new Error('the recording worker lost a row');
      throw this.failed;
    }
    return all as RowSummary[];
  }

  /** Reads back the summaries of ring rows that are done, oldest first. */
  private collect(): void {
    while (((this.written - this.collected) | 0) > 0) {
      const row = this.collected;
      const at = this.pushOf[(row - this.first) | 0]!;
      if (this.out[at] === undefined) {
        if (!isDone(this.results, row)) return;
        this.out[at] = readResult(this.results, row);
        const ms = this.results.rowMs[row & (SLOTS - 1)]!;
        this.rowMs = this.rowMs > 0 ? 0.75 * this.rowMs + 0.25 * ms : ms;
        this.counts.worker++;
      }
      this.collected = (row + 1) | 0;
    }
  }

  private check(): void {
    if (this.failed) throw this.failed;
    if (this.width > 0 && Atomics.load(this.ctrl, CTRL.FAILED) === 1) {
      const reply = receiveMessageOnPort(this.port)?.message as { error?: string } | undefined;
      this.failed = new Error(`the recording worker failed: ${reply?.error ?? 'unknown error'}`);
      throw this.failed;
    }
  }

  private allocate(width: number): void {
    this.width = width;
    this.ctrl = new Int32Array(new SharedArrayBuffer(CTRL_WORDS * 4));
    this.meta = new Int32Array(new SharedArrayBuffer(SLOTS * 2 * 4));
    this.slots = new Float32Array(new SharedArrayBuffer(SLOTS * width * 4));
    this.results = resultSlots();
    const init: RingInit = { ctrl: this.ctrl, meta: this.meta, slots: this.slots, results: this.results, width, pollMs: this.pollMs, pollForMs: POLL_FOR_MS, port: this.workerPort };
    this.worker.postMessage(init, [this.workerPort]);
  }

  /** Tells the worker that something changed; a futex wake only when it sleeps. */
  private wake(): void {
    Atomics.add(this.ctrl, CTRL.SEQ, 1);
    if (Atomics.load(this.ctrl, CTRL.SLEEPING) === 1) Atomics.notify(this.ctrl, CTRL.SEQ);
  }
}

let source: Promise<string> | undefined;

/** The worker's code: runners/summary-worker.ts and the decode core it imports, in one script. */
function workerSource(): Promise<string> {
  source ??= build({
    entryPoints: [new URL('./summary-worker.ts', import.meta.url).pathname],
    bundle: true,
    write: false,
    format: 'cjs',
    platform: 'node',
    logLevel: 'silent',
  }).then((out) => out.outputFiles[0]!.text);
  return source;
}

import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import type { RowSummary } from '../src/decode/logits.ts';
import type { StepRecorder } from '../src/decode/types.ts';
import { CTRL, CTRL_WORDS, MAX_TOP_K, readResult, type ResultSlots, resultSlots, type RingInit, SLOTS } from './summary-ring-layout.ts';

/** How long drain() waits for the worker before it calls the worker lost. */
const DRAIN_TIMEOUT_MS = 30_000;
/** drain() polls this long before it sleeps: the worker is usually one row (tens of µs) from done. */
const DRAIN_SPIN_MS = 5;

export interface SummaryRingOptions {
  /**
   * How often (ms) the worker wakes by itself between rows. The loop never notifies a polling
   * worker: notifying a sleeping thread cost the loop a futex call per step (10–15 µs measured in
   * this project's VM, far more than the copy). A spinning worker would avoid that too, but on two
   * cores it left none for the GC and the scheduler and whole generations ran slower; waking every
   * 0.1 ms did the same, every 0.5 ms did not (medians of 200 timed generations each). Default 0.5.
   */
  pollMs?: number;
}

/** A polling worker goes to sleep (to be notified) after this long without a row. */
const POLL_FOR_MS = 50;

/**
 * A StepRecorder on a worker thread. onnxruntime-node runs `session.run` synchronously on the
 * main thread, so the per-step recording (top-k, float64 log-sum-exp over the whole row, hash) can
 * only overlap with it on another thread. Rows travel through a SharedArrayBuffer ring (one copy per
 * row; no message; no wake-up while the worker polls) and their summaries come back through result
 * slots in shared memory, which the loop reads as it queues rows. At the end of a generation the
 * loop waits on the ring (the worker is usually one row behind), without a turn of the event loop.
 * The worker (runners/summary-worker.ts) runs the very same `summarizeRow`, bundled at start.
 */
export class SummaryRing implements StepRecorder {
  private ctrl!: Int32Array;
  private meta!: Int32Array;
  private slots!: Float32Array;
  private results!: ResultSlots;
  private width = 0;
  private written = 0;
  /** This generation's summaries read back so far (rows 0 .. collected - 1). */
  private collected: RowSummary[] = [];
  private failed: Error | null = null;
  private readonly port: MessagePort;
  private readonly workerPort: MessagePort;

  private constructor(
    private readonly worker: Worker,
    private readonly pollMs: number,
  ) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.workerPort = port2;
    worker.unref();
    worker.on('error', (err) => (this.failed ??= err));
    worker.on('exit', (code) => (this.failed ??= new Error(`the recording worker exited with code ${code}`)));
  }

  static async start(options: SummaryRingOptions = {}): Promise<SummaryRing> {
    return new SummaryRing(new Worker(await workerSource(), { eval: true }), options.pollMs ?? 0.5);
  }

  push(row: Float32Array, topK: number): void {
    this.check();
    if (this.width === 0) this.allocate(row.length);
    if (row.length > this.width) throw new Error(`row of ${row.length} logits exceeds the ring's ${this.width}`);
    if (topK > MAX_TOP_K) throw new Error(`the recording worker keeps at most ${MAX_TOP_K} candidates, not ${topK}`);
    // Wait (rarely) while the ring is full.
    while (this.written - Atomics.load(this.ctrl, CTRL.READ) >= SLOTS) {
      Atomics.wait(this.ctrl, CTRL.READ, Atomics.load(this.ctrl, CTRL.READ), 50);
      this.check();
    }
    // Read back what is done, before the worker can reuse those result slots.
    this.collect(Atomics.load(this.ctrl, CTRL.READ));
    const slot = this.written % SLOTS;
    this.slots.set(row, slot * this.width);
    this.meta[2 * slot] = row.length;
    this.meta[2 * slot + 1] = topK;
    Atomics.store(this.ctrl, CTRL.WRITTEN, ++this.written);
    this.wake();
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

  /** Waits (synchronously: the worker is at most a ring behind) for every queued summary. */
  private drainNow(): RowSummary[] {
    this.check();
    if (this.width === 0 || this.written === 0) return [];
    Atomics.store(this.ctrl, CTRL.FLUSH_AT, this.written);
    // Once per generation, wake the worker even from a timed poll: it has the last row to do.
    Atomics.add(this.ctrl, CTRL.SEQ, 1);
    Atomics.notify(this.ctrl, CTRL.SEQ);
    const start = performance.now();
    for (let flushAt = Atomics.load(this.ctrl, CTRL.FLUSH_AT); flushAt !== 0; flushAt = Atomics.load(this.ctrl, CTRL.FLUSH_AT)) {
      this.check();
      const waited = performance.now() - start;
      if (waited > DRAIN_TIMEOUT_MS) {
        this.failed = new Error(`the recording worker did not answer within ${DRAIN_TIMEOUT_MS} ms`);
        throw this.failed;
      }
      // Being woken from a futex costs more than the wait itself in a VM: poll first, then sleep.
      if (waited > DRAIN_SPIN_MS) Atomics.wait(this.ctrl, CTRL.FLUSH_AT, flushAt, 20);
    }
    this.check();
    // Every row is summarised (the worker has already reset its counters for the next generation).
    this.collect(this.written);
    const all = this.collected;
    this.collected = [];
    this.written = 0;
    return all;
  }

  /** Reads the result slots of rows collected .. upTo - 1. */
  private collect(upTo: number): void {
    for (let r = this.collected.length; r < upTo; r++) this.collected.push(readResult(this.results, r % SLOTS));
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

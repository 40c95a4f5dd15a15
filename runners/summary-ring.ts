import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import type { RowSummary } from '../src/decode/logits.ts';
import type { StepRecorder } from '../src/decode/types.ts';

/** Control words in the shared Int32Array. */
const WRITTEN = 0; // rows the loop has queued
const READ = 1; // rows the worker has summarised
const FLUSH_AT = 2; // > 0: post every summary once READ reaches this
const CLOSING = 3;
const SEQ = 4; // bumped on every change, so the worker never misses a wake-up
const SLOTS = 32;

/**
 * A StepRecorder on a worker thread. onnxruntime-node runs `session.run` synchronously on the
 * main thread, so the per-step recording (top-k, float64 log-sum-exp over the whole row, hash) can
 * only overlap with it on another thread. Rows travel through a SharedArrayBuffer ring (one copy
 * and an Atomics notify per row, no message); the summaries come back in one message per
 * generation. The worker runs the very same `summarizeRow`, bundled at start.
 */
export class SummaryRing implements StepRecorder {
  private ctrl!: Int32Array;
  private meta!: Int32Array;
  private slots!: Float32Array;
  private width = 0;
  private written = 0;
  private flushed: ((s: RowSummary[]) => void) | null = null;
  private failed: Error | null = null;

  private constructor(private readonly worker: Worker) {
    worker.unref();
    worker.on('message', (summaries: RowSummary[]) => {
      const done = this.flushed;
      this.flushed = null;
      done?.(summaries);
    });
    worker.on('error', (err) => (this.failed ??= err));
    worker.on('exit', (code) => (this.failed ??= new Error(`the recording worker exited with code ${code}`)));
  }

  static async start(): Promise<SummaryRing> {
    return new SummaryRing(new Worker(await workerSource(), { eval: true }));
  }

  push(row: Float32Array, topK: number): void {
    if (this.failed) throw this.failed;
    if (this.width === 0) this.allocate(row.length);
    if (row.length > this.width) throw new Error(`row of ${row.length} logits exceeds the ring's ${this.width}`);
    // Wait (rarely) while the ring is full.
    while (this.written - Atomics.load(this.ctrl, READ) >= SLOTS) Atomics.wait(this.ctrl, READ, Atomics.load(this.ctrl, READ), 50);
    const slot = this.written % SLOTS;
    this.slots.set(row, slot * this.width);
    this.meta[2 * slot] = row.length;
    this.meta[2 * slot + 1] = topK;
    Atomics.store(this.ctrl, WRITTEN, ++this.written);
    this.wake();
  }

  drain(): Promise<RowSummary[]> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.width === 0 || Atomics.load(this.ctrl, WRITTEN) === 0) return Promise.resolve([]);
    return new Promise<RowSummary[]>((resolve) => {
      this.flushed = (summaries) => {
        // Start the next generation's count afresh.
        this.written = 0;
        resolve(summaries);
      };
      Atomics.store(this.ctrl, FLUSH_AT, this.written);
      this.wake();
    });
  }

  async close(): Promise<void> {
    if (this.width > 0) {
      Atomics.store(this.ctrl, CLOSING, 1);
      this.wake();
    }
    this.failed ??= new Error('the recording worker was closed');
    await this.worker.terminate();
  }

  private allocate(width: number): void {
    this.width = width;
    this.ctrl = new Int32Array(new SharedArrayBuffer(8 * 4));
    this.meta = new Int32Array(new SharedArrayBuffer(SLOTS * 2 * 4));
    this.slots = new Float32Array(new SharedArrayBuffer(SLOTS * width * 4));
    this.worker.postMessage({ ctrl: this.ctrl, meta: this.meta, slots: this.slots, width, slotCount: SLOTS });
  }

  private wake(): void {
    Atomics.add(this.ctrl, SEQ, 1);
    Atomics.notify(this.ctrl, SEQ);
  }
}

let source: Promise<string> | undefined;

/** The worker: the bundled `summarizeRow` and a loop over the ring. */
function workerSource(): Promise<string> {
  source ??= build({
    entryPoints: [new URL('../src/decode/logits.ts', import.meta.url).pathname],
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'detbenchLogits',
    platform: 'neutral',
    logLevel: 'silent',
  }).then(
    (out) => `${out.outputFiles[0]!.text}
const { parentPort } = require('node:worker_threads');
parentPort.once('message', ({ ctrl, meta, slots, width, slotCount }) => {
  let read = 0;
  let out = [];
  for (;;) {
    const seq = Atomics.load(ctrl, ${SEQ});
    if (read < Atomics.load(ctrl, ${WRITTEN})) {
      const slot = read % slotCount;
      const row = slots.subarray(slot * width, slot * width + meta[2 * slot]);
      out.push(detbenchLogits.summarizeRow(row, meta[2 * slot + 1]));
      Atomics.store(ctrl, ${READ}, ++read);
      Atomics.notify(ctrl, ${READ});
      continue;
    }
    const flushAt = Atomics.load(ctrl, ${FLUSH_AT});
    if (flushAt > 0 && read >= flushAt) {
      // A new generation counts from zero: reset before the loop may push again.
      read = 0;
      Atomics.store(ctrl, ${READ}, 0);
      Atomics.store(ctrl, ${WRITTEN}, 0);
      Atomics.store(ctrl, ${FLUSH_AT}, 0);
      parentPort.postMessage(out);
      out = [];
      continue;
    }
    if (Atomics.load(ctrl, ${CLOSING}) === 1) break;
    Atomics.wait(ctrl, ${SEQ}, seq);
  }
});`,
  );
  return source;
}

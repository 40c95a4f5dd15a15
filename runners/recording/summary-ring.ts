import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import type { RowSummary } from '../../src/decode/logits.ts';
import { RingCore, type RingTuning } from './summary-ring-core.ts';
import type { RingBuffers } from './summary-ring-layout.ts';

export type { RowPlaces } from './summary-ring-core.ts';

export interface SummaryRingOptions {
  /**
   * How often (ms) the worker wakes by itself between rows. The loop never notifies a polling
   * worker: notifying a sleeping thread cost the loop a futex call per step (10–15 µs measured in
   * this project's VM, far more than the copy). A spinning worker would avoid that too, but on two
   * cores it left none for the GC and the scheduler and whole generations ran slower; waking every
   * 0.1 ms did the same, every 0.5 ms did not (medians of 200 timed generations each). Default 0.5.
   */
  pollMs?: number;
  /** Fixes how many queued rows the worker may have waiting (see RingCore); for tests. */
  maxWaiting?: number;
  /** Fixes how long (ms) a drain waits for the worker's row before it does that row itself; for tests. */
  patienceMs?: number;
  /** The share of the loop's time per row below which rows stay in line (see RingCore; 0: never); for tests. */
  inlineBelow?: number;
}

/**
 * A StepRecorder on a worker thread, with the loop as its second pair of hands (the rule is
 * RingCore's). onnxruntime-node runs `session.run` synchronously on the main thread, so the
 * per-step recording (top-k, float64 log-sum-exp over the whole row, hash) can only overlap with it
 * on another thread. Rows travel through a SharedArrayBuffer ring (one copy per row; no message;
 * no wake-up while the worker polls) and their summaries come back through result slots in shared
 * memory, which the loop reads as it queues rows. The worker (runners/recording/summary-worker.ts) runs the
 * very same `summarizeRow`, bundled at start.
 */
export class SummaryRing extends RingCore {
  private readonly port: MessagePort;
  private readonly workerPort: MessagePort;

  private constructor(
    private readonly worker: Worker,
    tuning: RingTuning,
  ) {
    super(tuning);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.workerPort = port2;
    worker.unref();
    worker.on('error', (err) => {
      this.failed ??= err;
    });
    worker.on('exit', (code) => {
      this.failed ??= new Error(`the recording worker exited with code ${code}`);
    });
  }

  static async start(options: SummaryRingOptions = {}): Promise<SummaryRing> {
    return new SummaryRing(new Worker(await workerSource(), { eval: true }), { ...options, pollMs: options.pollMs ?? 0.5 });
  }

  drain(): Promise<RowSummary[]> {
    try {
      return Promise.resolve(this.drainNow());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async close(): Promise<void> {
    this.stop();
    this.port.close();
    await this.worker.terminate();
  }

  protected share(buffers: RingBuffers): void {
    this.worker.postMessage({ ...buffers, port: this.workerPort }, [this.workerPort]);
  }

  protected failure(): string | null {
    return (receiveMessageOnPort(this.port)?.message as { error?: string } | undefined)?.error ?? null;
  }

  /**
   * Takes the rows the worker has not started, polls for the one it is on (being woken from a futex
   * costs more than this short wait in a VM) as long as a row takes it, then does that one too.
   */
  private drainNow(): RowSummary[] {
    this.check();
    this.takeUnstarted();
    const until = performance.now() + this.patience();
    while (!this.collect() && performance.now() < until) this.check();
    this.redoUnfinished();
    this.collect();
    return this.finish();
  }
}

let source: Promise<string> | undefined;

/** The worker's code: runners/recording/summary-worker.ts and the decode core it imports, in one script. */
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

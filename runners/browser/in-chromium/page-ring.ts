import type { RowSummary } from '../../../src/decode/logits.ts';
import { RingCore } from '../../recording/summary-ring-core.ts';
import { type RingBuffers, SLOTS } from '../../recording/summary-ring-layout.ts';

/** Atomics.waitAsync (ES2024; Chromium has it), typed here because the project's lib is ES2023. */
type WaitAsync = (a: Int32Array, index: number, value: number, timeoutMs: number) => { async: false; value: string } | { async: true; value: Promise<string> };

/**
 * The page's StepRecorder: the ring of runners/recording/summary-ring-core.ts with a Web Worker
 * (runners/browser/in-chromium/recorder-worker.ts, served by the harness) on the other side. onnxruntime-web
 * computes on the page's main thread (wasm, one thread, no proxy), so the recording can only
 * overlap with it on another thread, as in Node. The page's main thread may not block: the end of a
 * generation awaits the worker's last row with Atomics.waitAsync.
 */
export class PageRing extends RingCore {
  private error: string | null = null;

  constructor(
    private readonly worker: Worker,
    inlineBelow?: number,
  ) {
    super({ pollMs: 0.5, ...(inlineBelow !== undefined ? { inlineBelow } : {}) });
    worker.onmessage = (e: MessageEvent<{ error?: string }>) => {
      this.error = e.data?.error ?? 'unknown error';
    };
    worker.onerror = (e) => {
      this.failed ??= new Error(`the recording worker failed: ${e.message}`);
    };
  }

  /** Takes the rows the worker has not started, awaits the one it is on as long as a row takes it, then does that one too. */
  async drain(): Promise<RowSummary[]> {
    this.check();
    this.takeUnstarted();
    const until = performance.now() + this.patience();
    const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;
    for (let left = this.patience(); !this.collect() && left > 0; left = until - performance.now()) {
      this.check();
      const slot = this.collected & (SLOTS - 1);
      const wait = waitAsync(this.results.done, slot, Atomics.load(this.results.done, slot), left);
      if (wait.async) await wait.value;
    }
    this.redoUnfinished();
    this.collect();
    return this.finish();
  }

  close(): void {
    this.stop();
    this.worker.terminate();
  }

  protected share(buffers: RingBuffers): void {
    this.worker.postMessage(buffers);
  }

  protected failure(): string | null {
    return this.error;
  }
}

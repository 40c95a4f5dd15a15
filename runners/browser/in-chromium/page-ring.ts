import type { RowSummary } from '../../../src/decode/logits.ts';
import { DRAIN_TIMEOUT_MS, RingCore } from '../../recording/summary-ring-core.ts';
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
    pollMs = 0.5,
  ) {
    super(pollMs, undefined);
    worker.onmessage = (e: MessageEvent<{ error?: string }>) => {
      this.error = e.data?.error ?? 'unknown error';
    };
    worker.onerror = (e) => {
      this.failed ??= new Error(`the recording worker failed: ${e.message}`);
    };
  }

  async drain(): Promise<RowSummary[]> {
    this.check();
    this.takeUnstarted();
    const start = performance.now();
    const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;
    while (!this.collect()) {
      this.check();
      if (performance.now() - start > DRAIN_TIMEOUT_MS) {
        this.failed = new Error(`the recording worker did not answer within ${DRAIN_TIMEOUT_MS} ms`);
        throw this.failed;
      }
      const slot = this.collected & (SLOTS - 1);
      const wait = waitAsync(this.results.done, slot, Atomics.load(this.results.done, slot), 20);
      if (wait.async) await wait.value;
    }
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

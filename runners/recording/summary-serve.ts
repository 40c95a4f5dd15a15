import { summarizeRow } from '../../src/decode/logits.ts';
import { CTRL, type RingBuffers, SLOTS, writeResult } from './summary-ring-layout.ts';

/**
 * The recording worker's loop, the same on a Node worker thread (runners/recording/summary-worker.ts) and in
 * a page's Web Worker (runners/browser/in-chromium/recorder-worker.ts): takes the rows the decode loop
 * queues in the ring, oldest first, by compare-and-swap on CLAIMED (the loop may take some itself
 * at the end of a generation), and summarises each into its result slot. Between rows it either
 * polls, waking every `pollMs` by itself for up to `pollForMs` so that the loop never pays for a
 * wake-up, or (pollMs 0) sleeps until the loop notifies it. A failure goes to `report`, then FAILED.
 */
export function serve({ ctrl, meta, slots, results, width, pollMs, pollForMs }: RingBuffers, report: (error: string) => void): void {
  let idleSince = -1;
  try {
    for (;;) {
      const seq = Atomics.load(ctrl, CTRL.SEQ);
      const row = Atomics.load(ctrl, CTRL.CLAIMED);
      if (((Atomics.load(ctrl, CTRL.WRITTEN) - row) | 0) > 0) {
        if (Atomics.compareExchange(ctrl, CTRL.CLAIMED, row, (row + 1) | 0) !== row) continue;
        const slot = row & (SLOTS - 1);
        const t0 = performance.now();
        const summary = summarizeRow(slots.subarray(slot * width, slot * width + meta[2 * slot]!), meta[2 * slot + 1]!);
        writeResult(results, row, summary, performance.now() - t0);
        idleSince = -1;
        continue;
      }
      if (Atomics.load(ctrl, CTRL.CLOSING) === 1) break;
      if (pollMs > 0) {
        const now = performance.now();
        if (idleSince < 0) idleSince = now;
        if (now - idleSince < pollForMs) {
          // A timed sleep: the loop does not notify, the timeout wakes us.
          Atomics.wait(ctrl, CTRL.SEQ, seq, pollMs);
          continue;
        }
      }
      // Announce the sleep, then look once more: a row queued meanwhile either shows here or
      // finds SLEEPING set and notifies.
      Atomics.store(ctrl, CTRL.SLEEPING, 1);
      const pending = ((Atomics.load(ctrl, CTRL.WRITTEN) - Atomics.load(ctrl, CTRL.CLAIMED)) | 0) > 0 || Atomics.load(ctrl, CTRL.CLOSING) === 1;
      if (!pending) Atomics.wait(ctrl, CTRL.SEQ, seq);
      Atomics.store(ctrl, CTRL.SLEEPING, 0);
      idleSince = -1;
    }
  } catch (err) {
    report(err instanceof Error ? (err.stack ?? err.message) : String(err));
    Atomics.store(ctrl, CTRL.FAILED, 1);
    // Wake a loop waiting for any slot.
    for (let s = 0; s < SLOTS; s++) Atomics.notify(results.done, s);
  }
}

import { parentPort } from 'node:worker_threads';
import { summarizeRow } from '../src/decode/logits.ts';
import { CTRL, type RingInit, SLOTS, writeResult } from './summary-ring-layout.ts';

/**
 * The recording worker (bundled and started by runners/summary-ring.ts): summarises each row the
 * decode loop queues in the ring into the matching result slot; at a flush it starts counting afresh.
 * Between rows it either polls, waking every `pollMs` by itself for up to `pollForMs` so that the
 * loop never pays for a wake-up, or (pollMs 0) sleeps until the loop notifies it.
 */
function serve({ ctrl, meta, slots, results, width, pollMs, pollForMs, port }: RingInit): void {
  let read = 0;
  let idleSince = -1;
  try {
    for (;;) {
      const seq = Atomics.load(ctrl, CTRL.SEQ);
      if (read < Atomics.load(ctrl, CTRL.WRITTEN)) {
        const slot = read % SLOTS;
        writeResult(results, slot, summarizeRow(slots.subarray(slot * width, slot * width + meta[2 * slot]!), meta[2 * slot + 1]!));
        Atomics.store(ctrl, CTRL.READ, ++read);
        Atomics.notify(ctrl, CTRL.READ);
        idleSince = -1;
        continue;
      }
      const flushAt = Atomics.load(ctrl, CTRL.FLUSH_AT);
      if (flushAt > 0 && read >= flushAt) {
        // Every row is summarised: a new generation counts from zero. Reset before the loop may
        // push again (it waits for FLUSH_AT to clear).
        read = 0;
        Atomics.store(ctrl, CTRL.READ, 0);
        Atomics.store(ctrl, CTRL.WRITTEN, 0);
        Atomics.store(ctrl, CTRL.FLUSH_AT, 0);
        Atomics.notify(ctrl, CTRL.FLUSH_AT);
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
      const pending = read < Atomics.load(ctrl, CTRL.WRITTEN) || Atomics.load(ctrl, CTRL.FLUSH_AT) > 0 || Atomics.load(ctrl, CTRL.CLOSING) === 1;
      if (!pending) Atomics.wait(ctrl, CTRL.SEQ, seq);
      Atomics.store(ctrl, CTRL.SLEEPING, 0);
      idleSince = -1;
    }
  } catch (err) {
    port.postMessage({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    Atomics.store(ctrl, CTRL.FAILED, 1);
    Atomics.store(ctrl, CTRL.FLUSH_AT, 0);
    Atomics.notify(ctrl, CTRL.FLUSH_AT);
    Atomics.notify(ctrl, CTRL.READ);
  }
}

parentPort?.once('message', serve);

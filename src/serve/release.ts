import { MessageChannel } from 'node:worker_threads';

// A message port whose partner is closed: what is transferred into it is dropped at once.
const sink = new MessageChannel();
sink.port2.close();
sink.port1.unref();

/**
 * Frees a buffer's memory now instead of at V8's next collection: transferred into a message that
 * nobody receives, the ArrayBuffer is detached (its views read as empty) and its memory released.
 * Only a view over a whole, unshared ArrayBuffer is freed, so no other view loses its data.
 *
 * Why: onnxruntime-node returns every output in a new ArrayBuffer, so each decode step of a batch
 * hands V8 a new KV cache of megabytes. Left to the collector, that external memory made V8 run a
 * full collection every few steps (`npm run bench:serve`, 8 clients in process for 3 × 2 s: 110–124
 * full collections left to V8, 2–3 with the buffers released, 2.6–3.2× the tokens per CPU second).
 */
export function releaseBuffer(view: ArrayBufferView): void {
  const { buffer } = view;
  if (buffer instanceof ArrayBuffer && buffer.byteLength > 0 && view.byteOffset === 0 && view.byteLength === buffer.byteLength)
    sink.port1.postMessage(null, [buffer]);
}

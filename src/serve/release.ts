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
 * mark-compact every few steps (63 in one 9 s in-process run of the serve benchmark's workload; 3
 * with the buffers released, and the tokens per CPU second doubled: `npm run bench:serve`).
 */
export function releaseBuffer(view: ArrayBufferView): void {
  const { buffer } = view;
  if (buffer instanceof ArrayBuffer && buffer.byteLength > 0 && view.byteOffset === 0 && view.byteLength === buffer.byteLength) sink.port1.postMessage(null, [buffer]);
}

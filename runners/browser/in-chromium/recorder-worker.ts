// The page's recording worker (a classic Web Worker script, bundled and served by the harness as
// /recorder.js): the shared loop of runners/recording/summary-serve.ts, its failures posted to the page.

import type { RingBuffers } from '../../recording/summary-ring-layout.ts';
import { serve } from '../../recording/summary-serve.ts';

const scope = globalThis as unknown as { onmessage: ((e: MessageEvent<RingBuffers>) => void) | null; postMessage(m: unknown): void };
scope.onmessage = (e) => {
  scope.onmessage = null;
  serve(e.data, (error) => scope.postMessage({ error }));
};

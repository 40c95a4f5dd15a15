import { parentPort } from 'node:worker_threads';
import type { RingInit } from './summary-ring-layout.ts';
import { serve } from './summary-serve.ts';

// The Node recording worker, bundled and started by runners/recording/summary-ring.ts: the shared loop of
// runners/recording/summary-serve.ts, its failures reported on the port it was handed.
parentPort?.once('message', (init: RingInit) => serve(init, (error) => init.port.postMessage({ error })));

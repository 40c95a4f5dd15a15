// The Chromium side of `npm run bench:step`: the same benchmark, bundled into a page.
import { runStepBench } from './bench-step-core.ts';

(globalThis as unknown as { stepBench: typeof runStepBench }).stepBench = runStepBench;

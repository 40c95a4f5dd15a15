import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sampling } from '../src/decode/index.ts';
import { BrowserHost, findChrome } from '../runners/browser/index.ts';
import type { PageApi } from '../runners/browser/protocol.ts';

interface Golden {
  rows: (number | null)[][];
  cases: (Sampling & { expected: number[] })[];
}
const golden: Golden = JSON.parse(readFileSync(new URL('./fixtures/sampler-golden.json', import.meta.url), 'utf8'));

const chrome = findChrome(undefined);
const chromium = 'path' in chrome ? chrome.path : null;
if (!chromium) console.warn(`browser golden tests skipped: ${'reason' in chrome ? chrome.reason : ''}`);

describe.skipIf(!chromium)('sampler golden fixtures in the browser page (bundled decode module)', () => {
  let host: BrowserHost;
  let picked: number[][];

  beforeAll(async () => {
    host = await BrowserHost.start({ chromePath: chromium!, ep: 'wasm', numThreads: 1, simd: true, port: 0, timeoutMs: 60_000 });
    const input = { rows: golden.rows, cases: golden.cases.map(({ expected: _, ...c }) => c as Sampling) };
    picked = await host.page!.evaluate((i) => (globalThis as unknown as { detbench: PageApi }).detbench.golden(i), input);
  });
  afterAll(async () => {
    await host?.close();
  });

  for (const [n, c] of golden.cases.entries()) {
    const label = c.kind === 'greedy' ? 'greedy' : `T=${c.temperature} k=${c.topK} p=${c.topP} seed=${c.seed}`;
    it(`picks the Python reference's tokens in Chromium: ${label}`, () => {
      expect(picked[n]).toEqual(c.expected);
    });
  }

  it('serves a cross-origin isolated page (WASM threads possible)', () => {
    expect(host.facts?.crossOriginIsolated).toBe(true);
  });
});

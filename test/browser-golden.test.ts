import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageApi } from '../runners/browser/protocol.ts';
import { BrowserHost, findChrome } from '../runners/browser/runner.ts';
import { realisticRow } from '../scripts/realistic-logits.ts';
import type { RowSummary, Sampling } from '../src/decode/index.ts';
import { vocabGolden } from './helpers/vocab-golden.ts';

interface Golden {
  rows: (number | null)[][];
  summaries: RowSummary[];
  cases: (Sampling & { expected: number[] })[];
}
const golden: Golden = JSON.parse(readFileSync(new URL('./fixtures/sampler-golden.json', import.meta.url), 'utf8'));

const chrome = findChrome(undefined);
const chromium = 'path' in chrome ? chrome.path : null;
if (!chromium) console.warn(`browser golden tests skipped: ${'reason' in chrome ? chrome.reason : ''}`);

type Page = typeof globalThis & { detbench: PageApi };
/** A row's float32 bits in base64: JSON would lose -0. */
const pack = (row: Float32Array): string => Buffer.from(row.buffer, row.byteOffset, row.byteLength).toString('base64');

describe.skipIf(!chromium)('sampler golden fixtures in the browser page (bundled decode module)', () => {
  let host: BrowserHost;
  let picked: number[][];
  let summaries: RowSummary[];
  let large: { summary: RowSummary; tokens: number[][]; kernel: 'wasm-simd' | 'js' }[];

  beforeAll(async () => {
    host = await BrowserHost.start({ chromePath: chromium!, ep: 'wasm', numThreads: 1, simd: true, port: 0, timeoutMs: 60_000 });
    const input = { rows: golden.rows, cases: golden.cases.map(({ expected: _, ...c }) => c as Sampling) };
    picked = await host.page!.evaluate((i) => (globalThis as Page).detbench.golden(i), input);
    const packed = golden.rows.map((r) => pack(Float32Array.from(r, (v) => (v === null ? -Infinity : v))));
    summaries = await host.page!.evaluate((rows) => (globalThis as Page).detbench.goldenSummaries(rows, 5), packed);
    large = [];
    for (const g of vocabGolden.rows) {
      const row = realisticRow(g.vocab, g.seed);
      const cases = g.cases.map(({ expected: _, ...c }) => c);
      large.push(await host.page!.evaluate((i) => (globalThis as Page).detbench.vocabGolden(i), { row: pack(row), k: 10, cases }));
    }
  }, 120_000);
  afterAll(async () => {
    await host?.close();
  });

  for (const [n, c] of golden.cases.entries()) {
    const label = c.kind === 'greedy' ? 'greedy' : `T=${c.temperature} k=${c.topK} p=${c.topP} seed=${c.seed}`;
    it(`picks the Python reference's tokens in Chromium: ${label}`, () => {
      expect(picked[n]).toEqual(c.expected);
    });
  }

  it("records the Python reference's summaries in Chromium, bit for bit", () => {
    expect(summaries).toEqual(golden.summaries);
  });

  for (const [n, g] of vocabGolden.rows.entries()) {
    it(`summarises and samples a ${g.vocab}-logit row in Chromium as the Python reference does, on the WebAssembly SIMD kernel`, () => {
      expect(large[n]!.kernel).toBe('wasm-simd');
      expect(large[n]!.summary).toEqual(g.summary);
      expect(large[n]!.tokens).toEqual(g.cases.map((c) => c.expected));
    });
  }

  it('serves a cross-origin isolated page (WASM threads possible)', () => {
    expect(host.facts?.crossOriginIsolated).toBe(true);
  });
});

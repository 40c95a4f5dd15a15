// npm run bench:step [-- <ms-per-task>] [--no-browser] [--no-node]
// One row's summary and one sampled step at vocabularies 4,096 to 262,144, in Node and in headless
// Chromium (the same module bundled into a page), against an argmax of the same row. Written to
// out/bench/bench-step.json; the table goes to stdout.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { findChrome, launchChrome } from '../runners/browser/chrome.ts';
import { bundlePage, Harness } from '../runners/browser/harness.ts';
import { runStepBench, type StepBenchRow } from './bench-step-core.ts';

const msPerTask = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 200);
const withBrowser = !process.argv.includes('--no-browser');

const node = process.argv.includes('--no-node') ? [] : await runStepBench(msPerTask);
let browser: { version: string; rows: StepBenchRow[] } | { skipped: string } = { skipped: '--no-browser' };
if (withBrowser) {
  const chrome = findChrome(undefined);
  if ('reason' in chrome) browser = { skipped: chrome.reason };
  else {
    const harness = await Harness.start(0);
    harness.text('/step.html', '<!doctype html><meta charset="utf-8"><script type="module" src="/step.js"></script>', '.html');
    harness.text('/step.js', await bundlePage(fileURLToPath(new URL('./bench-step-page.ts', import.meta.url))), '.js');
    const launched = await launchChrome(chrome.path, false);
    try {
      const page = await launched.browser.newPage();
      page.on('pageerror', (e) => console.error('[page]', e));
      await page.goto(`${harness.origin}/step.html`);
      await page.waitForFunction(() => 'stepBench' in globalThis);
      page.setDefaultTimeout(600_000);
      const rows = await page.evaluate((ms) => (globalThis as unknown as { stepBench(ms: number): Promise<StepBenchRow[]> }).stepBench(ms), msPerTask);
      browser = { version: launched.version, rows };
    } finally {
      await launched.close();
      await harness.close();
    }
  }
}

const table = (rows: StepBenchRow[]) =>
  rows
    .map(
      (r) =>
        `${String(r.vocab).padStart(7)}  ${r.rows.padEnd(10)}  ${r.task.padEnd(40)} ${r.usPerRow.toFixed(1).padStart(9)} µs ${r.nsPerLogit.toFixed(2).padStart(7)} ns/logit  ${r.vsArgmax.toFixed(2).padStart(6)}× argmax`,
    )
    .join('\n');
console.log(`Node\n${table(node)}`);
if ('rows' in browser) console.log(`\nChromium ${browser.version}\n${table(browser.rows)}`);
else console.log(`\nChromium skipped: ${browser.skipped}`);

const result = {
  machine: {
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    loadAverage: loadavg().map((x) => Number(x.toFixed(2))),
    os: `${platform()} ${release()}`,
    node: process.version,
  },
  msPerTask,
  node,
  browser,
  goals: { summaryNsPerLogit: '<= 2', sampledStepNsPerLogit: '<= 5' },
};
mkdirSync('out/bench', { recursive: true });
writeFileSync('out/bench/bench-step.json', JSON.stringify(result, null, 2));

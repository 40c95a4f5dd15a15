import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ReportData } from '../reports/data.ts';
import { generateReport } from '../reports/generate.ts';
import { safeJson } from '../reports/html.ts';
import type { CompletedRecord } from '../src/results/record.ts';

const SCRIPT = '</script><script>alert(1)</script>';
const IMG = '<img src=x onerror=alert(1)>';
const CHROMIUM = '/usr/bin/chromium';

/** A completed record whose model output carries `texts` (prompt text too). */
function rec(runner: string, texts: string[]): CompletedRecord {
  const ids = texts.map((_, i) => 10 + i + (runner === 'b' && i > 0 ? 100 : 0));
  return {
    schemaVersion: 2,
    id: `s/p/greedy/${runner}/b1/r0`,
    suite: { id: 's', file: 's.yaml' },
    prompt: { id: 'p', text: `Say ${SCRIPT} and ${IMG}` },
    setting: { id: 'greedy', sampling: { kind: 'greedy' }, maxNewTokens: 8 },
    runner: { id: runner, type: 'node-cpu', options: {} },
    repetition: 0,
    batchSize: 1,
    mode: 'free',
    model: null,
    tool: { detbench: '0', onnxruntime: null, node: '20' },
    profile: { id: `lab ${IMG}`, fingerprint: { cpuModel: SCRIPT, cpuCores: 2, os: 'linux', arch: 'x64', memoryGiB: 8, node: '20' } },
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:00:01Z',
    status: 'completed',
    provider: { requested: 'cpu', effective: 'cpu' },
    environment: { note: IMG },
    promptTokens: [0],
    tokens: ids,
    tokenTexts: texts,
    text: texts.join(''),
    steps: {
      token: ids,
      topIds: ids.map((id) => [id, id + 1]),
      topTokens: texts.map((t) => [t, `${IMG}\u2028`]),
      topLogits: ids.map(() => [5, 4.99]),
      topLogprobs: ids.map(() => [-0.69, -0.7]),
      margin: ids.map(() => 0.01),
      hash: ids.map((_, i) => `h${i}`),
    },
    finishReason: 'length',
    timings: { ttftMs: 5, stepMs: ids.map(() => 1), tokensPerSecond: 100, totalMs: 9, sessionMs: 10 },
    batch: { size: 1, index: 0 },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'detbench-escape-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = join(dir, 'results.jsonl');
writeFileSync(file, `${[rec('a', ['Hi', SCRIPT, ' ok']), rec('b', ['Hi', IMG, '\u2028'])].map((r) => JSON.stringify(r)).join('\n')}\n`);
const run = generateReport([file], join(dir, 'report'), { title: `T ${SCRIPT}` });

describe('report escaping: model text stays text', () => {
  it('inlines JSON with no "<" and escaped U+2028/U+2029', () => {
    expect(safeJson({ t: `${SCRIPT}\u2028\u2029` })).toBe('{"t":"\\u003c/script>\\u003cscript>alert(1)\\u003c/script>\\u2028\\u2029"}');
  });

  it('leaves no raw tag from model text in the HTML source', async () => {
    const html = readFileSync((await run).htmlPath, 'utf8');
    // Exactly the page's own two scripts, each closed once.
    expect(html.match(/<script/gi)).toHaveLength(2);
    expect(html.match(/<\/script/gi)).toHaveLength(2);
    const m = /^([\s\S]*)<script type="application\/json" id="detbench-data">([^<]*)<\/script>\n<script>([\s\S]*)<\/script>([\s\S]*)$/.exec(html)!;
    const [, before, json, bundle, after] = m as unknown as [string, string, string, string, string];
    // The markup around the data and the page script carries no model text as markup...
    expect(before + after).not.toMatch(/<img|<script/i);
    // ...the page script is the fixed bundle (vega's own code), with no model text in it...
    expect(bundle).not.toContain('alert(1)');
    // ...and the data has no "<" at all.
    expect(json).not.toMatch(/[<\u2028\u2029]/);
    // ...and the data round-trips exactly: the page gets the text back as text.
    const data = JSON.parse(json) as ReportData;
    const d = data.diffs[0]!;
    expect(d.step).toBe(1);
    expect([d.tokensA[1], d.tokensB[1]]).toEqual([SCRIPT, IMG]);
    expect(data.title).toBe(`T ${SCRIPT}`);
    expect(html).toContain('<title>T &#60;/script&#62;&#60;script&#62;alert(1)&#60;/script&#62;</title>');
  });

  describe.skipIf(!existsSync(CHROMIUM))(`in headless Chromium (${CHROMIUM}; skipped when absent)`, () => {
    it('renders the payloads as text: no dialog, no injected element, no request', async () => {
      const { launch } = await import('puppeteer-core');
      const browser = await launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
      try {
        const page = await browser.newPage();
        const dialogs: string[] = [];
        const errors: string[] = [];
        const requests: string[] = [];
        page.on('dialog', (dlg) => {
          dialogs.push(dlg.message());
          void dlg.dismiss();
        });
        page.on('pageerror', (e) => errors.push(String(e)));
        page.on('request', (r) => {
          if (!r.url().startsWith('file:')) requests.push(r.url());
        });
        await page.goto(`file://${(await run).htmlPath}`, { waitUntil: 'load' });
        await page.waitForSelector('#diff .tok.split-a', { timeout: 10_000 });
        const dom = await page.evaluate(() => ({
          imgs: document.querySelectorAll('img').length,
          scripts: document.querySelectorAll('script').length,
          splitA: document.querySelector('#diff .tok.split-a')?.textContent,
          splitB: document.querySelector('#diff .tok.split-b')?.textContent,
          prompt: document.querySelector('#diff blockquote')?.textContent,
        }));
        expect(dialogs).toEqual([]);
        expect(errors).toEqual([]);
        expect(requests).toEqual([]);
        expect(dom.imgs).toBe(0);
        expect(dom.scripts).toBe(2);
        expect(dom.splitA).toBe(SCRIPT);
        expect(dom.splitB).toBe(IMG);
        expect(dom.prompt).toBe(`Say ${SCRIPT} and ${IMG}`);
      } finally {
        await browser.close();
      }
    });
  });
});

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ReportData } from '../reports/data.ts';
import { generateReport } from '../reports/generate.ts';
import { computeMetrics, rateTable, repetitionStudies, wilson } from '../src/metrics/index.ts';
import { completedRecord } from './helpers/records.ts';

const CHROMIUM = process.env.CHROME_PATH ?? '/usr/bin/chromium';
const dir = mkdtempSync(join(tmpdir(), 'detbench-stats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const same = [1, 2, 3, 4, 5, 6];
/** 12 completions of one request: 9 identical, 2 split at token 2, 1 at token 4. */
const study = Array.from({ length: 12 }, (_, rep) =>
  completedRecord({ runner: 'a', repetition: rep, tokens: rep >= 11 ? [1, 2, 3, 4, 7, 7] : rep >= 9 ? [1, 2, 9, 9, 9, 9] : same }),
);
const reference = completedRecord({ runner: 'ref', tokens: same });
const forced = completedRecord({ runner: 'a', tokens: same, mode: 'teacher-forced' });
const records = [reference, ...study, forced];

describe('repetition study and rates with intervals', () => {
  it('finds N, U, the first split and the distribution of split positions', () => {
    const [top] = repetitionStudies(computeMetrics(records, { reference: 'ref' }));
    expect(top).toEqual({
      group: 's/p/greedy/b1',
      promptId: 'p',
      settingId: 'greedy',
      runner: 'a',
      n: 12,
      unique: 3,
      uniqueShare: { k: 3, n: 12, rate: 0.25, ci: wilson(3, 12) },
      firstSplit: 2,
      split: 3,
      splitPositions: [
        { step: 2, count: 2 },
        { step: 4, count: 1 },
      ],
    });
  });

  it('lists every rate as k of n with its Wilson interval', () => {
    const rows = rateTable(computeMetrics(records, { reference: 'ref' }));
    const byKind = (kind: string, subject: string) => rows.find((r) => r.kind === kind && r.subject === subject)!.rate;
    expect(byKind('exact-match', 'a')).toEqual({ k: 9, n: 12, rate: 0.75, ci: wilson(9, 12) });
    expect(byKind('tarr', 'a')).toEqual({ k: 0, n: 1, rate: 0, ci: wilson(0, 1) });
    expect(byKind('unique-share', 'a')).toEqual({ k: 3, n: 12, rate: 0.25, ci: wilson(3, 12) });
    expect(byKind('cross-exact-match', 'ref → a')).toEqual({ k: 9, n: 12, rate: 0.75, ci: wilson(9, 12) });
    expect(byKind('teacher-top1', 'ref → a (teacher-forced)')).toEqual({ k: 6, n: 6, rate: 1, ci: wilson(6, 6) });
    expect(byKind('same-top1', 'ref → a (teacher-forced)')).toEqual({ k: 6, n: 6, rate: 1, ci: wilson(6, 6) });
  });

  const results = join(dir, 'results.jsonl');
  writeFileSync(results, `${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
  const run = generateReport([results], join(dir, 'report'), { reference: 'ref' });

  it('embeds the headline and the rates in the report data', async () => {
    const html = readFileSync((await run).htmlPath, 'utf8');
    const data = JSON.parse(/<script type="application\/json" id="detbench-data">([^<]*)<\/script>/.exec(html)![1]!) as ReportData;
    expect(data.statistics.headline).toMatchObject({ n: 12, unique: 3, firstSplit: 2 });
    expect(data.statistics.rates.length).toBe(rateTable(computeMetrics(records, { reference: 'ref' })).length);
    expect(data.teacher.byPair[0]!.divergence).toMatchObject({ basis: 'top-k', steps: 6, kl: { mean: 0 } });
  });

  describe.skipIf(!existsSync(CHROMIUM))(`rendered in headless Chromium (${CHROMIUM}; skipped when absent)`, () => {
    it('shows the headline sentence, the interval table and the KL table', async () => {
      const { launch } = await import('puppeteer-core');
      const browser = await launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        await page.goto(`file://${(await run).htmlPath}`, { waitUntil: 'load' });
        await page.waitForSelector('#statistics svg', { timeout: 15_000 });
        const dom = await page.evaluate(() => ({
          headline: document.querySelector('.study-line')?.textContent,
          rows: Array.from(document.querySelectorAll('#statistics table')).map((t) => t.querySelectorAll('tbody tr').length),
          text: document.querySelector('#statistics')?.textContent ?? '',
        }));
        expect(errors).toEqual([]);
        expect(dom.headline).toBe('12 completions of one request, 3 unique, first split at token 2');
        expect(dom.text).toContain('lower bound (top-k)');
        expect(dom.text).toContain('[46.8%, 91.1%]'); // exact match 9/12
        expect(dom.rows[1]).toBe(17); // llama.cpp's statistics, one row each
      } finally {
        await browser.close();
      }
    });
  });
});

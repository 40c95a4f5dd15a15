// The findings the page opens with, rendered in headless Chromium in English and German: each
// sentence quotes the metrics computed from the same results, the language switch and --lang give
// the same findings in German with German number formats, the evidence link opens the diff that
// proves it, and the presenter view steps through them with the arrow keys.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { causeOf } from '../reports/findings.ts';
import { wilson as wilsonInterval } from '../src/metrics/interval.ts';

/** The interval as the page's data carries it, [lo, hi]. */
const wilson = (k: number, n: number): [number, number] | null => {
  const ci = wilsonInterval(k, n);
  return ci ? [ci.lo, ci.hi] : null;
};

import { generateReport } from '../reports/generate.ts';
import { computeMetrics } from '../src/metrics/index.ts';
import { readResults } from '../src/results/read.ts';
import type { CompletedRecord } from '../src/results/record.ts';

const CHROMIUM = '/usr/bin/chromium';
const N = 8;

/** A greedy record of `runner`: tokens 100..107, except from `splitAt` on (then 200+). */
function rec(
  runner: string,
  options: Record<string, unknown>,
  prompt: string,
  repetition: number,
  split: { at: number; margin: number } | null,
  hashSalt = '',
): CompletedRecord {
  const tokens = Array.from({ length: N }, (_, i) => (split && i >= split.at ? 200 + i : 100 + i));
  return {
    schemaVersion: 2,
    id: `s/${prompt}/greedy/${runner}/b1/r${repetition}`,
    suite: { id: 's', file: 's.yaml' },
    prompt: { id: prompt, text: `prompt ${prompt}` },
    setting: { id: 'greedy', sampling: { kind: 'greedy' }, maxNewTokens: N },
    runner: { id: runner, type: 'node-cpu', options },
    repetition,
    batchSize: 1,
    mode: 'free',
    // As runs write them: the dtype that chose the file, also where the precision option was left unset.
    model: {
      name: 'm',
      file: options.precision === 'fp16' ? 'onnx/model_fp16.onnx' : 'onnx/model.onnx',
      sha256: 'x',
      dtype: String(options.precision ?? 'fp32'),
    },
    tool: { detbench: '0', onnxruntime: '1.29.0', node: '20' },
    profile: { id: 'lab', fingerprint: { cpuModel: 'cpu', cpuCores: 2, os: 'linux', arch: 'x64', memoryGiB: 8, node: '20' } },
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:00:01Z',
    status: 'completed',
    provider: { requested: 'cpu', effective: 'cpu' },
    environment: {},
    promptTokens: [1],
    tokens,
    tokenTexts: tokens.map((t) => ` w${t}`),
    text: tokens.map((t) => ` w${t}`).join(''),
    steps: {
      token: tokens,
      topIds: tokens.map((t) => [t, t + 1000]),
      topLogits: tokens.map((_, i) => [5, 5 - (split && i === split.at ? split.margin : 1)]),
      topLogprobs: tokens.map(() => [-0.3, -1.3]),
      margin: tokens.map((_, i) => (split && i === split.at ? split.margin : 1)),
      hash: tokens.map((_, i) => `${hashSalt}h${prompt}${i}`),
    },
    finishReason: 'length',
    timings: { ttftMs: 5, stepMs: tokens.map(() => 1), tokensPerSecond: 100, totalMs: 9, sessionMs: 10 },
    batch: { size: 1, index: 0 },
  };
}

// The reference leaves precision unset (the folder's default, fp32), as the default suite does.
const fp32 = { intra_op_threads: 1 };
const fp16 = { intra_op_threads: 1, precision: 'fp16' };
const prompts = ['p1', 'p2', 'p3', 'p4', 'p5'];
const splits: Record<string, { at: number; margin: number } | null> = {
  p1: { at: 3, margin: 0.01 },
  p2: { at: 5, margin: 0.02 },
  p3: { at: 6, margin: 0.9 },
  p4: null,
  p5: null,
};
const records = [
  ...prompts.flatMap((p) => [rec('cpu-1t', fp32, p, 0, null), rec('cpu-1t', fp32, p, 1, null)]),
  ...prompts.map((p) => rec('cpu-fp16', fp16, p, 0, splits[p]!, 'half-')),
];

const dir = mkdtempSync(join(tmpdir(), 'detbench-findings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'results.jsonl');
writeFileSync(file, `${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
const en = generateReport([file], join(dir, 'en'), { title: 'findings' });
const de = generateReport([file], join(dir, 'de'), { title: 'findings', lang: 'de' });

// What the findings must quote, from the metrics alone.
const m = computeMetrics(readResults(file));
const precision = m.pairs.find((p) => p.relation === 'cross-runner' && p.b === 'cpu-fp16')!;
const repeat = m.pairs.find((p) => p.relation === 'repetition' && p.b === 'cpu-1t')!;
const changed = precision.pairs - precision.identical;
const [lo, hi] = wilson(changed, precision.pairs)!.map((x) => (x * 100).toFixed(1));

describe('finding causes and intervals', () => {
  it('names the one thing that differs from the reference runner', () => {
    const cpu = { type: 'node-cpu', options: { intra_op_threads: 1, precision: 'fp32', graph_optimization: 'all' } };
    expect(causeOf(cpu, { type: 'node-cpu', options: { ...cpu.options, intra_op_threads: 2 } })).toEqual({ kind: 'threads', change: 'intra_op_threads 1 → 2' });
    expect(causeOf(cpu, { type: 'node-cpu', options: { ...cpu.options, precision: 'fp16' } })).toEqual({ kind: 'precision', change: 'precision fp32 → fp16' });
    expect(causeOf(cpu, { type: 'browser-wasm', options: { threads: 1, precision: 'fp32', graph_optimization: 'all' } })).toEqual({
      kind: 'wasm',
      change: null,
    });
    expect(causeOf(cpu, { type: 'browser-wasm', options: { threads: 1, precision: 'fp16', graph_optimization: 'all' } })).toEqual({
      kind: 'wasm',
      change: 'precision fp32 → fp16',
    });
    expect(causeOf(cpu, { type: 'browser-webgpu', options: { precision: 'fp32' } }).kind).toBe('webgpu');
    expect(causeOf(cpu, { type: 'node-cpu', options: { ...cpu.options, graph_optimization: 'basic' } })).toEqual({
      kind: 'options',
      change: 'graph_optimization all → basic',
    });
  });

  it('Wilson 95% interval: inside [0, 1], not a point at 0/n or n/n', () => {
    expect(wilson(0, 0)).toBeNull();
    const [lo, hi] = wilson(10, 10)!;
    expect(hi).toBe(1);
    expect(lo).toBeCloseTo(0.7225, 4);
    const [a, b] = wilson(3, 5)!;
    expect(a).toBeCloseTo(0.2307, 4);
    expect(b).toBeCloseTo(0.8824, 4);
  });
});

describe.skipIf(!existsSync(CHROMIUM))(`findings in headless Chromium (${CHROMIUM}; skipped when absent)`, () => {
  it('metrics of the fixture: 3 of 5 completions changed by fp16, 2 at near ties; the repetition identical', () => {
    expect([precision.pairs, changed, precision.firstDivergence.median, precision.nearTies]).toEqual([5, 3, 5, 2]);
    expect([repeat.pairs, repeat.identical]).toEqual([5, 5]);
  });

  it('words the same findings in English, in German via the switch and via --lang de', async () => {
    const { launch } = await import('puppeteer-core');
    const browser = await launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      const read = () =>
        page.evaluate(() => ({
          lang: document.documentElement.lang,
          verdict: document.querySelector('#findings .verdict')?.textContent,
          findings: Array.from(document.querySelectorAll('#findings li.finding')).map((li) => ({
            kind: li.getAttribute('data-kind'),
            text: li.querySelector('.finding-text')?.textContent,
            sure: li.querySelector('.finding-sure')?.textContent,
          })),
          nav: document.querySelector('nav.toc a')?.textContent,
        }));
      await page.goto(`file://${(await en).htmlPath}`, { waitUntil: 'load' });
      await page.waitForSelector('#findings li.finding');
      const english = await read();
      expect(english.lang).toBe('en');
      expect(english.findings.map((f) => f.kind)).toEqual(['repeat', 'precision']);
      expect(english.findings[1]!.text).toBe(
        `fp16 instead of fp32 (cpu-fp16) changed ${changed} of ${precision.pairs} completions; the first different token came at token ${precision.firstDivergence.median} on median; ${precision.nearTies} of ${changed} splits were near-ties.`,
      );
      expect(english.findings[0]!.text).toBe(
        `Running cpu-1t twice with the same settings changed nothing: ${repeat.pairs} of ${repeat.pairs} completions identical, and the logits bitwise equal at every step compared.`,
      );
      expect(english.findings[0]!.sure).toBe(`exact: every logits row of ${repeat.bitwise.compared} steps compared by hash`);
      expect(english.findings[1]!.sure).toBe(`95% interval ${lo}% to ${hi}%, over ${precision.pairs} pairs`);
      expect(english.verdict).toBe('The same run twice: identical. Not deterministic once the arithmetic changes: fp16 instead of fp32 (cpu-fp16).');
      // The statistics rows are worded by the page, from the parts the data carries.
      const firstRate = () =>
        page.evaluate(() => Array.from(document.querySelectorAll('#statistics table tbody tr')[0]?.querySelectorAll('td') ?? []).map((td) => td.textContent));
      const rateEn = await firstRate();
      expect([rateEn[0], rateEn[1], rateEn[5]]).toEqual(['cpu-1t', 'exact-match', "repetitions equal to their group's most common completion"]);

      // Every chart's menu saves SVG and PNG, rendered in the page: a blob: and a data: URL, no request.
      const requests: string[] = [];
      page.on('request', (r) => {
        if (!/^(file|data|blob):/.test(r.url())) requests.push(r.url());
      });
      await page.waitForSelector('#divergence .vega-embed details a');
      const exported = await page.evaluate(async () => {
        const links = Array.from(document.querySelectorAll('#divergence .vega-embed details'))[0]!.querySelectorAll('a');
        const out: string[] = [];
        for (const a of Array.from(links)) {
          a.dispatchEvent(new MouseEvent('mousedown', { bubbles: true }));
          for (let i = 0; i < 50 && (a.getAttribute('href') ?? '#') === '#'; i++) await new Promise((r) => setTimeout(r, 50));
          out.push(`${a.textContent}: ${(a.getAttribute('href') ?? '').split(/[/,;]/)[0]}`);
        }
        return out;
      });
      expect(exported).toEqual(['Save as SVG: blob:null', 'Save as PNG: data:image']);
      expect(requests).toEqual([]);

      // The evidence link opens the diff of the cause it names.
      await page.click('#findings li.finding[data-kind="precision"] a.evidence');
      const opened = await page.evaluate(() => document.querySelector('#diff select[aria-label="Pair"] option:checked')?.textContent);
      expect(opened).toContain('cpu-1t → cpu-fp16');

      // The switch: the same findings in German, numbers in German format.
      await page.click('button.lang-switch');
      const german = await read();
      expect(german.lang).toBe('de');
      expect(german.nav).toBe('Befunde');
      expect(german.findings[1]!.text).toBe(
        `fp16 statt fp32 (cpu-fp16) änderte ${changed} von ${precision.pairs} Ausgaben; das erste andere Token kam im Median bei Token ${precision.firstDivergence.median}; ${precision.nearTies} von ${changed} Abzweigungen waren Beinahe-Gleichstände.`,
      );
      // German: decimal comma, and a (no-break) space before the percent sign.
      expect(german.findings[1]!.sure!.replace(/[\u00a0\u202f]/g, ' ')).toBe(
        `95-%-Intervall ${lo!.replace('.', ',')} % bis ${hi!.replace('.', ',')} %, über ${precision.pairs} Paare`,
      );
      expect(german.verdict).toBe('Derselbe Lauf zweimal: identisch. Nicht deterministisch, sobald sich die Arithmetik ändert: fp16 statt fp32 (cpu-fp16).');
      const rateDe = await firstRate();
      expect([rateDe[0], rateDe[1], rateDe[5]]).toEqual(['cpu-1t', 'exakte Übereinstimmung', 'Wiederholungen gleich der häufigsten Ausgabe ihrer Gruppe']);

      // --lang de opens in German with the same text.
      await page.goto(`file://${(await de).htmlPath}`, { waitUntil: 'load' });
      await page.waitForSelector('#findings li.finding');
      expect(await read()).toEqual(german);

      // The presenter view: the answer first, then one finding per screen, arrow keys, Esc.
      await page.click('button.present');
      const slide = () => page.evaluate(() => document.querySelector('.presenter .slide-body')?.textContent);
      expect(await slide()).toBe(german.verdict);
      await page.keyboard.press('ArrowRight');
      expect(await slide()).toBe(german.findings[0]!.text);
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('ArrowRight');
      expect(await slide()).toBe(german.findings[1]!.text);
      await page.keyboard.press('ArrowLeft');
      expect(await slide()).toBe(german.findings[0]!.text);
      await page.keyboard.press('Escape');
      expect(await page.evaluate(() => document.querySelector('.presenter'))).toBeNull();
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});

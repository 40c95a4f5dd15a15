import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ReportData } from '../reports/data.ts';
import { generateReport } from '../reports/generate.ts';
import { writeSyntheticResults } from '../scripts/make-synthetic-results.ts';
import { DetbenchError } from '../src/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'detbench-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The inlined report data, parsed. */
function embeddedData(html: string): ReportData {
  const m = /<script type="application\/json" id="detbench-data">([^<]*)<\/script>/.exec(html);
  if (!m) throw new Error('no embedded data');
  return JSON.parse(m[1]!) as ReportData;
}

describe('generateReport', () => {
  const { files } = writeSyntheticResults(join(dir, 'results'), { prompts: 2, repetitions: 3, stepsPerRecord: 24 });
  const run = generateReport(files, join(dir, 'report'), { title: 'synthetic' });

  it('writes index.html naming every runner, with parseable embedded data', async () => {
    const { htmlPath, bytes } = await run;
    expect(htmlPath).toBe(join(dir, 'report', 'index.html'));
    const html = readFileSync(htmlPath, 'utf8');
    expect(Buffer.byteLength(html)).toBe(bytes);
    const data = embeddedData(html);
    expect(data.title).toBe('synthetic');
    for (const id of ['node-cpu@laptop-m2', 'node-cpu@server-a100', 'browser-wasm', 'node-cuda', 'remote-api']) {
      expect(data.runners.map((r) => r.runner)).toContain(id);
    }
    expect(data.diffs.length).toBeGreaterThan(0);
    expect(data.profiles.map((p) => p.id).sort()).toEqual(['laptop-m2', 'server-a100']);
    expect(data.problemsTotal).toBeGreaterThan(0);
    // No temporary file left next to it.
    expect(readdirSync(join(dir, 'report'))).toEqual(['index.html']);
  });

  it('loads nothing from the network: no external scripts, styles or URLs in src/href', async () => {
    const html = readFileSync((await run).htmlPath, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+href=/i);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?https?:/i);
    expect(html).not.toMatch(/import\s*\(\s*["']https?:/i);
    expect(html).toMatch(/Content-Security-Policy" content="default-src &#39;none&#39;/);
    expect(html.match(/<script/gi)).toHaveLength(2);
  });

  it('carries the near-tie margin to the page, which hard-codes none', async () => {
    expect(embeddedData(readFileSync((await run).htmlPath, 'utf8')).constants.nearTie).toBe(0.05);
    const wide = embeddedData(readFileSync((await generateReport(files, join(dir, 'wide'), { nearTie: 0.5 })).htmlPath, 'utf8'));
    expect(wide.constants).toMatchObject({ nearTie: 0.5, limits: { diffs: 240 } });
    expect(wide.diffs.length).toBeGreaterThan(0);
    for (const c of wide.diffs) expect(c.nearTie).toBe(c.minMargin !== null && c.minMargin <= 0.5);
    // The page judges margins by the data's margin only: no constant of its own, no figure in its texts.
    const page = readdirSync(new URL('../reports/page', import.meta.url)).map(
      (f) => [f, readFileSync(new URL(`../reports/page/${f}`, import.meta.url), 'utf8')] as const,
    );
    expect(page.filter(([, src]) => /NEAR_TIE|margin\s*<=?\s*0\.\d/.test(src)).map(([f]) => f)).toEqual([]);
    expect(page.filter(([f, src]) => f.startsWith('lang-') && /0[.,]05/.test(src)).map(([f]) => f)).toEqual([]);
    expect(page.find(([f]) => f === 'diff.ts')![1]).toContain('margin <= nearTie');
  });

  it('fails with OUTPUT_UNWRITABLE naming the path, and writes nothing', async () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, 'not a folder');
    const out = join(blocker, 'report');
    const err = await generateReport(files, out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DetbenchError);
    expect((err as DetbenchError).code).toBe('OUTPUT_UNWRITABLE');
    expect((err as DetbenchError).message).toContain(join(out, 'index.html'));
  });

  it('fails on a missing results file without leaving a partial page', async () => {
    const out = join(dir, 'missing');
    const err = await generateReport([join(dir, 'nope.jsonl')], out).catch((e: unknown) => e);
    expect((err as DetbenchError).code).toBe('RESULTS_NOT_FOUND');
    expect(existsSync(join(out, 'index.html'))).toBe(false);
    expect(readdirSync(out)).toEqual([]);
  });
});

import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runSuite } from '../api/index.ts';
import { findChrome } from '../runners/browser/runner.ts';
import { hashFloat32 } from '../src/decode/logits.ts';
import { CaptureReader, captureFileFor, sidecarBytesPerStep } from '../src/results/capture.ts';
import { readResults } from '../src/results/read.ts';
import type { CompletedRecord } from '../src/results/record.ts';
import { cli } from './helpers/cli.ts';
import { detbenchError } from './helpers/errors.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

const chrome = findChrome(undefined);
const chromium = 'path' in chrome ? chrome.path : null;
if (!chromium) console.warn(`browser capture test skipped: ${'reason' in chrome ? chrome.reason : ''}`);

let dir: string;
let suite: string;

const completed = (file: string) => readResults(file).filter((r): r is CompletedRecord => r.status === 'completed');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'detbench-capture-'));
  suite = join(dir, 'suite.yaml');
  writeFileSync(
    suite,
    `id: c\nmodel: ${await tinyModelDir()}\nprompts:\n  - text: hello\n  - text: world peace\nmax_new_tokens: 5\nrepetitions: 1\nrunners:\n  - { id: ref, type: node-cpu }\n  - { id: two, type: node-cpu, options: { intra_op_threads: 2 } }\n`,
  );
});

describe('capture of full distributions', () => {
  it('writes one f32 block per completed record whose rows hash to the recorded hashes', async () => {
    const out = join(dir, 'f32', 'results.jsonl');
    await runSuite({ suiteFile: suite, outFile: out, capture: 'f32' });
    const recs = completed(out);
    expect(recs.length).toBe(6); // 2 prompts × 2 runners free + 2 teacher-forced
    const reader = new CaptureReader(captureFileFor(out));
    expect(reader.ids().sort()).toEqual(recs.map((r) => r.id).sort());
    let steps = 0;
    for (const r of recs) {
      const rows = reader.rows(r)!;
      if (rows.encoding !== 'f32') throw new Error(`expected f32 rows, got ${rows.encoding}`);
      expect(rows.steps).toBe(r.steps.hash.length);
      for (let i = 0; i < rows.steps; i++) expect(hashFloat32(rows.data.subarray(i * rows.vocab, (i + 1) * rows.vocab))).toBe(r.steps.hash[i]);
      steps += rows.steps;
    }
    // The documented size: a 24-byte header and the id per block, 4·V bytes per step.
    const vocab = reader.rows(recs[0]!)!.vocab;
    const ids = recs.reduce((a, r) => a + 24 + Buffer.byteLength(r.id), 0);
    expect(statSync(captureFileFor(out)).size).toBe(ids + steps * sidecarBytesPerStep('f32', vocab));
  });

  it('makes teacher-forced KL exact, so a KL gate can pass; without the sidecar it cannot', async () => {
    const out = join(dir, 'f32', 'results.jsonl');
    const json = join(dir, 'gate.json');
    const r = await cli('gate', out, '--max-mean-kld', '1e-6', '--max-kld-p99', '1e-6', '--json', json);
    expect(r.out).toMatch(/PASS {2}ref vs two \(teacher-forced\): mean KL divergence ≤ 0\.000001/);
    expect(r.code).toBe(0);
    const verdict = JSON.parse(readFileSync(json, 'utf8')) as { statistics: { divergence: { basis: string; steps: number }[]; rates: { kind: string }[] } };
    expect(verdict.statistics.divergence[0]!.basis).toBe('full');
    expect(verdict.statistics.divergence[0]!.steps).toBe(10);
    expect(verdict.statistics.rates.map((x) => x.kind)).toContain('same-top1');

    const bare = join(dir, 'bare.jsonl');
    copyFileSync(out, bare);
    const b = await cli('gate', bare, '--max-mean-kld', '1e-6');
    expect(b.code).toBe(1);
    expect(b.out).toContain('is a top-k lower bound only (record with --capture for the exact value)');
  });

  it('writes u16 blocks of 2·V + 16 bytes per step', async () => {
    const out = join(dir, 'u16', 'results.jsonl');
    await runSuite({ suiteFile: suite, outFile: out, capture: 'u16' });
    const recs = completed(out);
    const reader = new CaptureReader(captureFileFor(out));
    const rows = reader.rows(recs[0]!)!;
    expect(rows.encoding).toBe('u16');
    const steps = recs.reduce((a, r) => a + r.steps.hash.length, 0);
    const ids = recs.reduce((a, r) => a + 24 + Buffer.byteLength(r.id), 0);
    expect(statSync(captureFileFor(out)).size).toBe(ids + steps * sidecarBytesPerStep('u16', rows.vocab));
  });

  it('refuses a sidecar that does not match its records, with exit 2', async () => {
    const out = join(dir, 'f32', 'results.jsonl');
    const bad = join(dir, 'bad', 'results.jsonl');
    await runSuite({ suiteFile: suite, outFile: bad });
    // Another run's sidecar: same ids, other logits (its first record's rows, tampered).
    const side = readFileSync(captureFileFor(out));
    side[side.length - 1] = side[side.length - 1]! ^ 0x55;
    writeFileSync(captureFileFor(bad), side);
    const recs = completed(bad);
    const last = recs.find((r) => r.id === new CaptureReader(captureFileFor(bad)).ids().at(-1))!;
    const e = detbenchError(() => new CaptureReader(captureFileFor(bad)).rows(last));
    expect(e.code).toBe('CAPTURE_MISMATCH');
    expect(e.message).toMatch(/results\.capture\.bin: capture of c\/.*: step 4's logits hash [0-9a-f]{16}, but the record says [0-9a-f]{16}/);
    const r = await cli('gate', bad, '--max-mean-kld', '1');
    expect(r.code).toBe(2);
    expect(r.err).toContain("step 4's logits hash");

    // A record with fewer steps than its block.
    const first = completed(out)[0]!;
    const shorter = { ...first, steps: { ...first.steps, hash: first.steps.hash.slice(1) } };
    expect(detbenchError(() => new CaptureReader(captureFileFor(out)).rows(shorter)).message).toBe(
      `${captureFileFor(out)}: capture of ${first.id}: ${first.steps.hash.length} steps, but the record has ${first.steps.hash.length - 1}`,
    );

    writeFileSync(captureFileFor(bad), Buffer.from('not a capture file at all, no magic here'));
    expect(detbenchError(() => new CaptureReader(captureFileFor(bad))).code).toBe('CAPTURE_INVALID');
  });

  it('refuses to run over an earlier sidecar, and --fresh moves it aside with its results', async () => {
    const outDir = join(dir, 'f32');
    const again = await cli('run', suite, '-o', outDir, '--capture', 'f32');
    expect(again.code).toBe(2);
    expect(again.err).toContain('results file exists');
    expect((await cli('run', suite, '-o', outDir, '--capture', 'f64')).code).toBe(2);

    // A sidecar left without its results is refused too (it would mix two runs' rows).
    const stale = join(dir, 'stale');
    await runSuite({ suiteFile: suite, outFile: join(stale, 'results.jsonl'), capture: 'f32' });
    rmSync(join(stale, 'results.jsonl'));
    const e = await cli('run', suite, '-o', stale, '--capture', 'f32');
    expect(e.code).toBe(2);
    expect(e.err).toContain('results.capture.bin: a capture file of earlier results exists');

    const fresh = await cli('run', suite, '-o', outDir, '--capture', 'f32', '--fresh');
    expect(fresh.code).toBe(0);
    const aside = readdirSync(outDir).filter((f) => /^results\..+\.(jsonl|capture\.bin)$/.test(f) && f !== 'results.capture.bin');
    expect(aside.length).toBe(2);
    expect(aside.map((f) => f.replace(/\.(jsonl|capture\.bin)$/, '')).reduce((a, b) => (a === b ? a : ''))).not.toBe('');
  });

  it.skipIf(!chromium)('carries browser-wasm rows out of the page intact (base64 across page.evaluate)', async () => {
    const file = join(dir, 'browser.yaml');
    writeFileSync(
      file,
      `id: cb\nmodel: ${await tinyModelDir()}\nprompts:\n  - text: hello\nmax_new_tokens: 3\nrepetitions: 1\nrunners:\n  - { id: cpu, type: node-cpu }\n  - { id: wasm, type: browser-wasm, options: { chrome_path: ${chromium} } }\n`,
    );
    const out = join(dir, 'browser', 'results.jsonl');
    await runSuite({ suiteFile: file, outFile: out, capture: 'u16' });
    const recs = completed(out).filter((r) => r.runner.id === 'wasm');
    expect(recs.map((r) => r.mode).sort()).toEqual(['free', 'teacher-forced']);
    const reader = new CaptureReader(captureFileFor(out));
    // rows() checks every step's stored hash against the record's.
    for (const r of recs) expect(reader.rows(r)!.steps).toBe(3);
  });
});

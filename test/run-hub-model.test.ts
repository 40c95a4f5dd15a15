import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunEvent, runSuite } from '../api/index.ts';
import { findChrome } from '../runners/browser/chrome.ts';
import { readResults } from '../src/results/read.ts';
import type { CompletedRecord, ResultRecord } from '../src/results/record.ts';
import { cli } from './helpers/cli.ts';
import { detbenchRejection } from './helpers/errors.ts';
import { type FakeHub, startFakeHub } from './helpers/hub-server.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

const COMMIT = 'c0ffee'.padEnd(40, '0');
const REAL = join(fileURLToPath(new URL('..', import.meta.url)), '..', 'shared', 'real-models');
const real = existsSync(REAL);
if (!real) console.warn(`Hub repos in the real models' layouts skipped: ${REAL} is absent (the models beside the project are not part of a clone)`);
const chrome = findChrome(undefined);
const chromium = 'path' in chrome ? chrome.path : null;
if (!chromium) console.warn(`browser-wasm on a Hub model skipped: ${'reason' in chrome ? chrome.reason : ''}`);

const TOKEN = 'hf_private_token_never_written_0123456789';
let hub: FakeHub;

let dir: string;
const saved = { ...process.env };

function suite(name: string, model: string, runners: string[] = ['  - { id: cpu, type: node-cpu, options: { intra_op_threads: 1 } }']): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `id: ${name}`,
      `model: ${model}`,
      'prompts:',
      '  - { id: a, text: "hello world" }',
      'decoding: { greedy: true, temperature: [0.9], seed: [3] }',
      'max_new_tokens: 5',
      'repetitions: 1',
      'top_logprobs: 3',
      'runners:',
      ...runners,
    ].join('\n'),
  );
  return file;
}

const tokens = (records: ResultRecord[]) =>
  records.map((r) => [r.id.replace(/^[^/]+\//, ''), r.status === 'completed' ? (r as CompletedRecord).tokens : r.status]).sort();
const hashes = (records: ResultRecord[]) => records.map((r) => (r.status === 'completed' ? (r as CompletedRecord).steps.hash : r.status)).sort();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'detbench-hub-run-'));
  const repos: Parameters<typeof startFakeHub>[0] = {
    'test-org/tiny': { dir: await tinyModelDir(), commit: COMMIT },
    'test-org/private': { dir: await tinyModelDir(), commit: COMMIT, token: TOKEN },
  };
  if (real) {
    // An ONNX Runtime GenAI repo (genai_config.json names the decoder), and a transformers.js repo whose config asks for q4.
    repos['test-org/genai'] = { dir: join(REAL, 'ort-genai-tiny-llama-fp16'), commit: COMMIT };
    const q4 = join(dir, 'q4-repo');
    cpSync(join(REAL, 'hf-layout-tiny-llama-q4'), q4, { recursive: true });
    const config = JSON.parse(readFileSync(join(q4, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(q4, 'config.json'), JSON.stringify({ ...config, 'transformers.js_config': { dtype: 'q4' } }));
    repos['test-org/q4-default'] = { dir: q4, commit: COMMIT };
  }
  hub = await startFakeHub(repos);
  process.env.HF_HOME = join(dir, 'hf-home');
  process.env.HF_ENDPOINT = hub.url;
  delete process.env.HF_HUB_CACHE;
  delete process.env.HF_HUB_OFFLINE;
  delete process.env.HF_TOKEN;
});
afterAll(async () => {
  process.env = saved;
  await hub.close();
});

describe('a suite naming a Hub repo id', () => {
  let first: ResultRecord[];
  it('downloads into HF_HOME, runs, and records the repo, revision and resolved commit', async () => {
    const events: RunEvent[] = [];
    const out = join(dir, 'online', 'results.jsonl');
    await runSuite({ suiteFile: suite('online', 'test-org/tiny'), outFile: out, onEvent: (e) => events.push(e) });
    first = readResults(out);
    expect(first.map((r) => r.status)).toEqual(['completed', 'completed']);
    expect(first[0]!.model).toMatchObject({
      name: 'test-org/tiny',
      file: 'onnx/model.onnx',
      hub: { repo: 'test-org/tiny', revision: 'main', commit: COMMIT, offline: false },
    });
    expect(existsSync(join(dir, 'hf-home', 'hub', 'models--test-org--tiny', 'snapshots', COMMIT, 'onnx', 'model.onnx'))).toBe(true);
    const downloads = events.filter((e) => e.kind === 'download' && e.done).map((e) => (e as { file: string }).file);
    expect(downloads).toEqual(['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']);
  });

  it('runs again with HF_HUB_OFFLINE=1 from the cache alone: no request, identical tokens and logits hashes', async () => {
    hub.requests.length = 0;
    process.env.HF_HUB_OFFLINE = '1';
    try {
      const out = join(dir, 'offline', 'results.jsonl');
      await runSuite({ suiteFile: suite('online', 'test-org/tiny'), outFile: out });
      const again = readResults(out);
      expect(hub.requests).toEqual([]);
      expect(tokens(again)).toEqual(tokens(first));
      expect(hashes(again)).toEqual(hashes(first));
      expect(again[0]!.model).toMatchObject({ sha256: first[0]!.model!.sha256, hub: { commit: COMMIT, offline: true } });
    } finally {
      delete process.env.HF_HUB_OFFLINE;
    }
  });

  it('refuses a dtype the repo lacks before any record is written, naming the files it has', async () => {
    const out = join(dir, 'nodtype', 'results.jsonl');
    const err = await detbenchRejection(runSuite({ suiteFile: suite('nodtype', '{ hub: test-org/tiny, dtype: q4f16 }'), outFile: out }));
    expect(err.code).toBe('HUB_FILE_MISSING');
    expect(err.message).toContain('has no onnx/model_q4f16.onnx; it has onnx/model.onnx (fp32)');
    expect(existsSync(out)).toBe(false);
  });

  it('a local folder of the same name wins over the Hub', async () => {
    const out = join(dir, 'local', 'results.jsonl');
    const local = await tinyModelDir();
    // `model:` relative to the suite: a folder that exists is never taken for a repo id.
    await runSuite({ suiteFile: suite('local', local), outFile: out });
    expect(readResults(out)[0]!.model).not.toHaveProperty('hub');
  });

  it('a private repo runs with HF_TOKEN, and the token appears in no result, report or log line', async () => {
    process.env.HF_TOKEN = TOKEN;
    try {
      const out = join(dir, 'private');
      const r = await cli('run', suite('private', 'test-org/private'), '-o', out, '--report', join(out, 'report'));
      expect(r.code).toBe(0);
      expect(r.err).toContain('detbench: hub test-org/private: onnx/model.onnx');
      for (const text of [readFileSync(join(out, 'results.jsonl'), 'utf8'), readFileSync(join(out, 'report', 'index.html'), 'utf8'), r.out, r.err]) {
        expect(text).not.toContain(TOKEN);
        expect(text).not.toContain(TOKEN.slice(3, 15));
      }
    } finally {
      delete process.env.HF_TOKEN;
    }
  });

  it('bad Hub input exits 2 with one message naming the suite file and its model field, before any record', async () => {
    const out = join(dir, 'badrepo');
    const r = await cli('run', suite('badrepo', 'test-org/absent'), '-o', out);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${join(dir, 'badrepo.yaml')}:2: model: ${hub.url} has no model repo test-org/absent (or it is private: set HF_TOKEN)`);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(existsSync(join(out, 'results.jsonl'))).toBe(false);
    const bad = await cli('run', suite('badid', '{ hub: "not a repo" }'), '-o', join(dir, 'badid'));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/badid\.yaml:2: model.*expected a Hugging Face Hub repo id, owner\/name/);
  });

  it('detbench inspect takes a Hub repo id: it fetches the files, names the commit, describes the model', async () => {
    const r = await cli('inspect', 'test-org/tiny', '--no-probe');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`hub        test-org/tiny @ main -> commit ${COMMIT}\n`);
    expect(r.out).toContain('onnx/model.onnx');
    process.env.HF_HUB_OFFLINE = '1';
    try {
      const offline = await cli('inspect', 'test-org/tiny', '--no-probe', '--revision', COMMIT);
      expect(offline.out).toContain(`hub        test-org/tiny @ ${COMMIT} -> commit ${COMMIT} (from the cache, HF_HUB_OFFLINE)`);
    } finally {
      delete process.env.HF_HUB_OFFLINE;
    }
    const missing = await cli('inspect', 'test-org/absent', '--no-probe');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('has no model repo test-org/absent');
  });

  it.skipIf(!real)(
    "fetches what the repo's own configuration names: a GenAI repo's decoder file, a transformers.js repo's dtype, and nothing else",
    async () => {
      hub.requests.length = 0;
      const genai = join(dir, 'genai', 'results.jsonl');
      await runSuite({ suiteFile: suite('genai', 'test-org/genai'), outFile: genai });
      const g = readResults(genai);
      expect(g.map((r) => r.status)).toEqual(['completed', 'completed']);
      expect(g[0]!.model).toMatchObject({ name: 'test-org/genai', file: 'model.onnx', hub: { repo: 'test-org/genai', commit: COMMIT } });
      const snap = join(dir, 'hf-home', 'hub', 'models--test-org--genai', 'snapshots', COMMIT);
      expect(readdirSync(snap).sort()).toEqual([
        'genai_config.json',
        'model.onnx',
        'model.onnx.data',
        'special_tokens_map.json',
        'tokenizer.json',
        'tokenizer_config.json',
      ]);

      const q4 = join(dir, 'q4', 'results.jsonl');
      await runSuite({ suiteFile: suite('q4', 'test-org/q4-default'), outFile: q4 });
      expect(readResults(q4)[0]!.model).toMatchObject({ file: 'onnx/model_q4.onnx' });
      // The fp32 graph stays on the Hub; the q4 graph names model.onnx.data (its weights that were not quantized), so that comes along.
      expect(readdirSync(join(dir, 'hf-home', 'hub', 'models--test-org--q4-default', 'snapshots', COMMIT, 'onnx')).sort()).toEqual([
        'model.onnx.data',
        'model_q4.onnx',
      ]);
    },
  );

  it.skipIf(!chromium)('browser-wasm reads the same cached files (no second download) and gives the tokens node-cpu gives', async () => {
    hub.requests.length = 0;
    const out = join(dir, 'browser', 'results.jsonl');
    await runSuite({
      suiteFile: suite('browser', 'test-org/tiny', [
        '  - { id: cpu, type: node-cpu, options: { intra_op_threads: 1 } }',
        '  - { id: wasm, type: browser-wasm }',
      ]),
      outFile: out,
    });
    const records = readResults(out).filter((r) => r.mode === 'free');
    expect(hub.requests.filter((r) => r.includes('/resolve/'))).toEqual([]);
    expect(records.map((r) => r.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    const byRunner = (id: string) => records.filter((r) => r.runner.id === id).map((r) => (r as CompletedRecord).tokens);
    expect(byRunner('wasm')).toEqual(byRunner('cpu'));
  });
});

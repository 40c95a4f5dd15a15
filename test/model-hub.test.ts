import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRepoId } from '../src/model/hub/repo-id.ts';
import { openHubModel } from '../src/model/hub/snapshot.ts';
import { detbenchRejection } from './helpers/errors.ts';
import { type FakeHub, startFakeHub } from './helpers/hub-server.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

/** Expects `p` to reject with a DetbenchError of `code` whose message contains `fragment`. */
async function rejects(p: Promise<unknown>, code: string, fragment: string): Promise<Error> {
  const err = await detbenchRejection(p);
  expect(err.code).toBe(code);
  expect(err.message).toContain(fragment);
  return err;
}

/** A loopback port nothing listens on (taken, then released). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const port = (srv.address() as { port: number }).port;
  await new Promise((ok) => srv.close(ok));
  return port;
}

const COMMIT = `${'a'.repeat(39)}1`;
const PRIVATE_COMMIT = 'b'.repeat(40);
let hub: FakeHub;
let home: string;
const env = (extra: Record<string, string> = {}) => ({ HF_HOME: home, HF_ENDPOINT: hub.url, ...extra });

beforeAll(async () => {
  const dir = await tinyModelDir('external-data');
  hub = await startFakeHub({
    'test-org/tiny': { dir, commit: COMMIT },
    'test-org/private': { dir, commit: PRIVATE_COMMIT, token: 'hf_secret_token_123' },
  });
});
afterAll(() => hub.close());

describe('repo ids', () => {
  it('accepts owner/name and refuses paths and malformed ids', () => {
    expect(['onnx-community/SmolLM2-135M-Instruct', 'a/b', 'Org_1/model.v2'].map(isRepoId)).toEqual([true, true, true]);
    expect(['models/../x', './a', 'a/b/c', 'a--b/c', '-a/b', 'a/b.', 'single', '/abs/path'].map(isRepoId)).toEqual(Array(8).fill(false));
  });
});

describe('openHubModel against a loopback Hub', () => {
  it('fetches config and tokenizer first, an ONNX file and its external data on demand, in the standard layout', async () => {
    home = mkdtempSync(join(tmpdir(), 'detbench-hf-'));
    hub.requests.length = 0;
    const snap = await openHubModel('test-org/tiny', 'main', { env: env() });
    expect(snap.provenance).toEqual({ repo: 'test-org/tiny', revision: 'main', commit: COMMIT, offline: false });
    const repoDir = join(home, 'hub', 'models--test-org--tiny');
    expect(snap.dir).toBe(join(repoDir, 'snapshots', COMMIT));
    expect(readFileSync(join(repoDir, 'refs', 'main'), 'utf8')).toBe(COMMIT);
    expect(readdirSync(snap.dir).sort()).toEqual(['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json']);
    expect(existsSync(join(snap.dir, 'onnx'))).toBe(false);
    await snap.ensure('onnx/model.onnx');
    expect(readdirSync(join(snap.dir, 'onnx')).sort()).toEqual(['model.onnx', 'model.onnx_data']);
    // Snapshot entries are symlinks into blobs/, as huggingface_hub leaves them.
    expect(lstatSync(join(snap.dir, 'onnx', 'model.onnx')).isSymbolicLink()).toBe(true);
    expect(readdirSync(join(repoDir, 'blobs')).some((b) => b.endsWith('.incomplete'))).toBe(false);
  });

  it('uses the cache alone with HF_HUB_OFFLINE=1: no request at all', async () => {
    hub.requests.length = 0;
    const snap = await openHubModel('test-org/tiny', 'main', { env: env({ HF_HUB_OFFLINE: '1' }) });
    await snap.ensure('onnx/model.onnx');
    expect(snap.provenance).toEqual({ repo: 'test-org/tiny', revision: 'main', commit: COMMIT, offline: true });
    expect(hub.requests).toEqual([]);
  });

  it('a second online open downloads nothing already cached', async () => {
    hub.requests.length = 0;
    const snap = await openHubModel('test-org/tiny', COMMIT, { env: env() });
    await snap.ensure('onnx/model.onnx');
    expect(hub.requests.filter((r) => r.includes('/resolve/'))).toEqual([]);
  });

  it('uses a cache laid out by hand as the Python library leaves it', async () => {
    const handHome = mkdtempSync(join(tmpdir(), 'detbench-hf-hand-'));
    const src = await tinyModelDir('external-data');
    const repoDir = join(handHome, 'hub', 'models--hand--made');
    const snapDir = join(repoDir, 'snapshots', COMMIT);
    mkdirSync(join(repoDir, 'blobs'), { recursive: true });
    mkdirSync(join(snapDir, 'onnx'), { recursive: true });
    mkdirSync(join(repoDir, 'refs'));
    writeFileSync(join(repoDir, 'refs', 'v1.0'), `${COMMIT}\n`);
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx', 'onnx/model.onnx_data']) {
      if (!existsSync(join(src, f))) continue;
      const blob = join(repoDir, 'blobs', f.replace(/\W/g, '_'));
      cpSync(join(src, f), blob);
      symlinkSync(f.includes('/') ? `../../../blobs/${f.replace(/\W/g, '_')}` : `../../blobs/${f.replace(/\W/g, '_')}`, join(snapDir, f));
    }
    const snap = await openHubModel('hand/made', 'v1.0', { env: { HF_HUB_CACHE: join(handHome, 'hub'), HF_HUB_OFFLINE: 'true' } });
    await snap.ensure('onnx/model.onnx');
    expect(snap.dir).toBe(snapDir);
    expect(snap.provenance.commit).toBe(COMMIT);
  });

  it('refuses, each with one clear message: unknown repo, unknown revision, missing dtype file, private repo, unreachable Hub, nothing cached', async () => {
    await rejects(openHubModel('test-org/nope', 'main', { env: env() }), 'HUB_REPO_NOT_FOUND', 'has no model repo test-org/nope');
    await rejects(openHubModel('test-org/tiny', 'v9', { env: env() }), 'HUB_REVISION_NOT_FOUND', 'test-org/tiny has no revision v9');
    const snap = await openHubModel('test-org/tiny', 'main', { env: env() });
    await rejects(snap.ensure('onnx/model_q4.onnx'), 'HUB_FILE_MISSING', 'has no onnx/model_q4.onnx; it has onnx/model.onnx (fp32)');
    await rejects(openHubModel('test-org/private', 'main', { env: env() }), 'HUB_AUTH', 'needs a token in HF_TOKEN');
    const bad = await rejects(
      openHubModel('test-org/private', 'main', { env: env({ HF_TOKEN: 'hf_wrong_token_456' }) }),
      'HUB_AUTH',
      'refused HF_TOKEN for test-org/private',
    );
    expect(bad.message).not.toContain('hf_wrong_token_456');
    const ok = await openHubModel('test-org/private', 'main', { env: env({ HF_TOKEN: 'hf_secret_token_123' }) });
    expect(ok.provenance.commit).toBe(PRIVATE_COMMIT);
    const closed = await freePort();
    const down = { HF_HOME: mkdtempSync(join(tmpdir(), 'detbench-hf-down-')), HF_ENDPOINT: `http://127.0.0.1:${closed}` };
    await rejects(openHubModel('test-org/tiny', 'main', { env: down }), 'HUB_UNREACHABLE', `cannot reach http://127.0.0.1:${closed} for test-org/tiny`);
    await rejects(
      openHubModel('test-org/tiny', 'main', { env: { ...down, HF_HUB_OFFLINE: '1' } }),
      'HUB_NOT_CACHED',
      'HF_HUB_OFFLINE=1: test-org/tiny@main is not in the Hub cache',
    );
  });

  it('never uses a half-downloaded file: an interrupted download fails, and the next run fetches the file whole', async () => {
    const cutHome = mkdtempSync(join(tmpdir(), 'detbench-hf-cut-'));
    hub.faults.cutFile = { path: 'onnx/model.onnx_data', afterBytes: 1000 };
    const e = { HF_HOME: cutHome, HF_ENDPOINT: hub.url };
    const first = await openHubModel('test-org/tiny', 'main', { env: e });
    const cutErr = await detbenchRejection(first.ensure('onnx/model.onnx'));
    expect(cutErr.code).toMatch(/^HUB_(ERROR|DOWNLOAD_INCOMPLETE|UNREACHABLE)$/);
    const dataFile = join(first.dir, 'onnx', 'model.onnx_data');
    expect(existsSync(dataFile)).toBe(false);
    const second = await openHubModel('test-org/tiny', 'main', { env: e });
    await second.ensure('onnx/model.onnx');
    const src = await tinyModelDir('external-data');
    expect(readFileSync(dataFile).equals(readFileSync(join(src, 'onnx', 'model.onnx_data')))).toBe(true);
    delete hub.faults.cutFile;
  });
});

import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserWasmOptions, browserWebgpuOptions } from '../runners/browser/manifest.ts';
import { BrowserHost, type BrowserRunnerSession, browserWasmRunner, browserWebgpuRunner, findChrome, INSTALL_HINT } from '../runners/browser/runner.ts';
import type { DetbenchError } from '../src/errors.ts';
import { loadModel } from '../src/model/load.ts';
import type { LoadedModel } from '../src/model/types.ts';
import { generateBatch } from '../src/runner-contract/generate-batch.ts';
import { specOf } from '../src/runner-contract/spec.ts';
import type { GenerationRequest } from '../src/runner-contract/types.ts';
import { detbenchRejection } from './helpers/errors.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

const chrome = findChrome(undefined);
const chromium = 'path' in chrome ? chrome.path : null;
if (!chromium) console.warn(`browser fault tests skipped: ${'reason' in chrome ? chrome.reason : ''}`);

let model: LoadedModel;
beforeAll(async () => {
  model = await loadModel(await tinyModelDir());
});

describe('browser runners without a browser', () => {
  it('probe is unavailable with the install command when chrome_path does not exist', async () => {
    const probes = [
      () => browserWasmRunner.probe(browserWasmOptions.parse({ chrome_path: '/nonexistent/chromium' })),
      () => browserWebgpuRunner.probe(browserWebgpuOptions.parse({ chrome_path: '/nonexistent/chromium' })),
    ];
    for (const probeOne of probes) {
      const probe = await probeOne();
      expect(probe.available).toBe(false);
      if (!probe.available) {
        expect(probe.reason).toContain('/nonexistent/chromium');
        expect(probe.reason).toContain(INSTALL_HINT);
      }
    }
  });

  it('CHROME_PATH naming a missing file is reported as such', () => {
    const saved = process.env.CHROME_PATH;
    process.env.CHROME_PATH = '/nonexistent/chrome';
    try {
      const found = findChrome(undefined);
      expect('reason' in found && found.reason).toContain('CHROME_PATH /nonexistent/chrome does not exist');
    } finally {
      if (saved === undefined) delete process.env.CHROME_PATH;
      else process.env.CHROME_PATH = saved;
    }
  });

  it('refuses a model too large for the page before launching anything', async () => {
    const big = { ...model, sizeBytes: 3 * 1024 ** 3 };
    const err = await detbenchRejection(browserWasmRunner.open(big, browserWasmOptions.parse({ chrome_path: '/nonexistent/chromium' })));
    expect(err.code).toBe('MODEL_TOO_LARGE');
    expect(err.message).toContain('max_model_mb');
  });

  it('refuses simd: false (onnxruntime-web 1.29 has no non-SIMD build) instead of running SIMD anyway', async () => {
    const err = await detbenchRejection(browserWasmRunner.open(model, browserWasmOptions.parse({ simd: false, chrome_path: '/nonexistent/chromium' })));
    expect(err.code).toBe('OPTION_UNSUPPORTED');
  });
});

const request = (ids: number[]): GenerationRequest => ({ promptIds: ids, promptText: '', maxNewTokens: 3, sampling: { kind: 'greedy' }, stopIds: [], topK: 2 });

describe.skipIf(!chromium)('browser-wasm faults', () => {
  let blocker: Server;
  let blockedPort: number;
  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    blockedPort = (blocker.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => blocker.close(() => r())));

  it('a port that is taken fails open() with HARNESS_PORT', async () => {
    const err = await detbenchRejection(browserWasmRunner.open(model, browserWasmOptions.parse({ port: blockedPort })));
    expect(err.code).toBe('HARNESS_PORT');
    expect(err.message).toContain(`127.0.0.1:${blockedPort}`);
  });

  it('a browser killed between batches errors the next batch, then the page comes back', async () => {
    const session = (await browserWasmRunner.open(model, browserWasmOptions.parse({}))) as BrowserRunnerSession;
    try {
      const ids = model.tokenizer.encode('hello world');
      const [before] = await session.generate([request(ids)]);
      expect(before?.status).toBe('completed');

      const pid = session.browserPid();
      expect(pid).toBeTypeOf('number');
      process.kill(pid!, 'SIGKILL');
      const crashed = await generateBatch(session, [request(ids), request(ids)]);
      expect(crashed).toHaveLength(2);
      for (const o of crashed) {
        expect(o.status).toBe('errored');
        if (o.status === 'errored') expect(['BROWSER_EXITED', 'BROWSER_CRASHED']).toContain(o.error.code);
      }

      const [after] = await session.generate([request(ids)]);
      expect(after?.status).toBe('completed');
      if (before?.status === 'completed' && after?.status === 'completed') expect(after.generation.tokens).toEqual(before.generation.tokens);
      expect(session.environment.restarts).toBe(1);
      expect(session.browserPid()).not.toBe(pid);
    } finally {
      await session.close();
    }
  });
});

describe.skipIf(!chromium)('browser runners: set-up failures', () => {
  it('a chrome_path that is no browser fails open() with BROWSER_LAUNCH_FAILED', async () => {
    const err = await detbenchRejection(browserWasmRunner.open(model, browserWasmOptions.parse({ chrome_path: '/bin/false' })));
    expect(err.code).toBe('BROWSER_LAUNCH_FAILED');
    expect(err.message).toContain('/bin/false');
  });

  it('a page with no WebGPU adapter is refused with the reason, never run on WASM', async () => {
    const err = await detbenchRejection(
      BrowserHost.start({ chromePath: chromium!, ep: 'webgpu', numThreads: 1, simd: true, port: 0, timeoutMs: 60_000, withoutWebgpuFlags: true }),
    );
    expect(err.code).toBe('WEBGPU_UNAVAILABLE');
    expect(err.message).toMatch(/navigator\.gpu|adapter/);
  });
});

/** A WASM page on the test model with the given batch timeout. */
function startWasmHost(timeoutMs: number): ReturnType<typeof BrowserHost.start> {
  return BrowserHost.start({
    chromePath: chromium!,
    ep: 'wasm',
    numThreads: 1,
    simd: true,
    port: 0,
    timeoutMs,
    modelPath: model.onnxPath,
    open: { spec: specOf(model), graphOptimization: 'all', kvOnGpu: false },
  });
}

describe.skipIf(!chromium)('browser host: a page that crashes', () => {
  it('fails the next batch with BROWSER_CRASHED and serves the one after from a new page in the same browser', async () => {
    const host = await startWasmHost(60_000);
    try {
      const ids = model.tokenizer.encode('hello world');
      const [before] = await host.generate([request(ids)]);
      const pid = host.pid;
      await host.page!.goto('chrome://crash').catch(() => {});
      const failed = await host.generate([request(ids)]).then(
        () => 'completed',
        (err: DetbenchError) => err.code,
      );
      expect(failed).toBe('BROWSER_CRASHED');
      const [after] = await host.generate([request(ids)]);
      expect(after!.tokens).toEqual(before!.tokens);
      expect(host.restarts).toBe(1);
      expect(host.pid).toBe(pid);
    } finally {
      await host.close();
    }
  });
});

describe.skipIf(!chromium)('browser host: a batch that runs past batch_timeout_ms', () => {
  it('errors with PAGE_TIMEOUT and the page is replaced for the next batch', async () => {
    const host = await startWasmHost(1);
    try {
      const ids = model.tokenizer.encode('hello world');
      const code = await host.generate([{ ...request(ids), maxNewTokens: 200 }]).then(
        () => 'completed',
        (err: DetbenchError) => err.code,
      );
      expect(code).toBe('PAGE_TIMEOUT');
      host.config.timeoutMs = 60_000;
      const [after] = await host.generate([request(ids)]);
      expect(after!.tokens).toHaveLength(3);
      expect(host.restarts).toBe(1);
    } finally {
      await host.close();
    }
  });
});

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runSuite } from '../api/index.ts';
import { nodeCudaOptions } from '../runners/node-cuda/manifest.ts';
import { nodeCudaRunner, unsupportedCudaOptions } from '../runners/node-cuda/runner.ts';
import { CUDA_PROVIDER_LIBS, type CudaProbeDeps, checkDeviceId, PROVIDER_MARKER, probeCudaHost, visibleDeviceCount } from '../src/env/cuda.ts';
import type { HostReader } from '../src/env/detect.ts';
import { DetbenchError } from '../src/errors.ts';
import { loadModel } from '../src/model/load.ts';
import { readResults } from '../src/results/read.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

const defaults = nodeCudaOptions.parse({});
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'detbench-cuda-'));
});

/** A host with an NVIDIA driver and `gpus` H100s; `ldd` reports `unresolved` as not found. */
function fakeHost(opts: { driver?: boolean; gpus?: number; unresolved?: string[] } = {}): HostReader {
  const { driver = true, gpus = 1, unresolved = [] } = opts;
  return {
    readFile: (p) => (p === '/proc/driver/nvidia/version' && driver ? 'NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.95.05  Tue Sep 30 2025\n' : null),
    exists: (p) => driver && p === '/usr/lib/x86_64-linux-gnu/libcuda.so.1',
    run: (program, args) => {
      if (program === 'ldd') return ['\tlibcudart.so.13 => /cuda/libcudart.so.13 (0x1)', ...unresolved.map((l) => `\t${l} => not found`)].join('\n');
      if (program === 'nvidia-smi' && driver) {
        return args.length
          ? Array.from({ length: gpus }, () => 'NVIDIA H100 80GB HBM3, 81559, 580.95.05, 9.0').join('\n')
          : '| NVIDIA-SMI 580.95.05   Driver Version: 580.95.05   CUDA Version: 13.0 |';
      }
      return null;
    },
  };
}

/** A fake binding folder holding the provider libraries (or only `files`), the .so naming `soVersion`. */
function fakeBinDir(name: string, opts: { files?: readonly string[]; marker?: string; soVersion?: string } = {}): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const f of opts.files ?? CUDA_PROVIDER_LIBS) {
    writeFileSync(join(dir, f), Buffer.from(`\x7fELF padding\0${opts.soVersion ?? ''}\0more\0`, 'latin1'));
  }
  if (opts.marker) {
    writeFileSync(
      join(dir, PROVIDER_MARKER),
      JSON.stringify({ package: 'some-pkg', version: '9.9.9', onnxruntime: opts.marker, cuda: '13', installedAt: '', files: {} }),
    );
  }
  return dir;
}

function deps(binDir: string | null, host: HostReader = fakeHost(), env: NodeJS.ProcessEnv = {}): CudaProbeDeps {
  return { host, env, binDir, onnxruntime: '1.29.0', platform: 'linux-x64' };
}

describe('node-cuda probe on this machine', async () => {
  const probe = await nodeCudaRunner.probe(defaults);
  if (probe.available) console.log('node-cuda is available here: the "unavailable" checks are skipped');

  it.skipIf(probe.available)('is unavailable with a reason that says what is missing and how to install it', () => {
    expect(probe.available).toBe(false);
    const reason = (probe as { reason: string }).reason;
    console.log(`node-cuda probe: ${reason}`);
    expect(reason.length).toBeGreaterThan(20);
    expect(reason).toMatch(/no NVIDIA driver|libonnxruntime_providers_cuda\.so|loader cannot find/);
    if (reason.includes('libonnxruntime_providers_cuda.so')) expect(reason).toContain('scripts/install-cuda-provider.sh');
  });

  it.skipIf(probe.available)('makes the executor write skipped records with that reason, and the other runners still run', async () => {
    const model = await tinyModelDir();
    const suite = join(tmp, 'cuda-suite.yaml');
    writeFileSync(
      suite,
      [
        'id: cuda-skip',
        `model: ${model}`,
        'prompts: [{ id: a, text: "hello" }]',
        'decoding: { greedy: true }',
        'max_new_tokens: 3',
        'repetitions: 2',
        'reference: cpu',
        'runners:',
        '  - { id: cpu, type: node-cpu }',
        '  - { id: gpu, type: node-cuda, options: { device_id: 0 } }',
      ].join('\n'),
    );
    const out = join(tmp, 'cuda-run', 'results.jsonl');
    const summary = await runSuite({ suiteFile: suite, outFile: out });
    const records = readResults(out);
    const gpu = records.filter((r) => r.runner.id === 'gpu');
    expect(gpu.length).toBeGreaterThanOrEqual(2);
    for (const r of gpu) {
      expect(r.status).toBe('skipped');
      expect((r as { reason: string }).reason).toBe((probe as { reason: string }).reason);
    }
    expect(records.filter((r) => r.runner.id === 'cpu').every((r) => r.status === 'completed')).toBe(true);
    expect(summary.skipped).toBe(gpu.length);
  });
});

describe('probeCudaHost with a fake host', () => {
  it('lists every missing piece: driver and provider library, with the install route', async () => {
    const p = await probeCudaHost(0, deps(fakeBinDir('empty', { files: [] }), fakeHost({ driver: false })));
    expect(p.available).toBe(false);
    const reason = (p as { reason: string }).reason;
    expect(reason).toMatch(/^no NVIDIA driver \(no \/proc\/driver\/nvidia\/version, libcuda\.so\.1 not found\); /);
    expect(reason).toContain('libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so missing from');
    expect(reason).toContain('scripts/install-cuda-provider.sh');
    expect(reason).toContain('com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9');
  });

  it('names the one library that is missing', async () => {
    const p = await probeCudaHost(0, deps(fakeBinDir('half', { files: ['libonnxruntime_providers_shared.so'] })));
    expect((p as { reason: string }).reason).toMatch(/^CUDA provider library libonnxruntime_providers_cuda\.so missing from .*half/);
  });

  it('reports a version mismatch from the install marker as "found X, need 1.29.0"', async () => {
    const p = await probeCudaHost(0, deps(fakeBinDir('marker-old', { marker: '1.28.0', soVersion: '1.29.0' })));
    expect((p as { reason: string }).reason).toContain('found 1.28.0 (some-pkg@9.9.9), need 1.29.0');
  });

  it('reads the version from the library itself when there is no marker', async () => {
    const p = await probeCudaHost(0, deps(fakeBinDir('so-old', { soVersion: '1.27.1' })));
    expect((p as { reason: string }).reason).toContain('found 1.27.1 (no install marker; version read from the library), need 1.29.0');
    const unknown = await probeCudaHost(0, deps(fakeBinDir('so-none')));
    expect((unknown as { reason: string }).reason).toContain('found an unknown version');
  });

  it('names the CUDA libraries the loader cannot resolve', async () => {
    const p = await probeCudaHost(0, deps(fakeBinDir('ok-ldd', { soVersion: '1.29.0' }), fakeHost({ unresolved: ['libcublasLt.so.13', 'libcublas.so.13'] })));
    expect((p as { reason: string }).reason).toMatch(/needs libcublasLt\.so\.13, libcublas\.so\.13, which the loader cannot find: .*LD_LIBRARY_PATH/);
  });

  it('refuses a device id beyond the visible devices', async () => {
    const dir = fakeBinDir('ok-dev', { soVersion: '1.29.0' });
    expect((await probeCudaHost(1, deps(dir))) as unknown).toEqual({ available: false, reason: 'device_id 1: only 1 CUDA device(s) visible, numbered 0..0' });
    const hidden = await probeCudaHost(0, deps(dir, fakeHost({ gpus: 2 }), { CUDA_VISIBLE_DEVICES: '' }));
    expect((hidden as { reason: string }).reason).toBe('device_id 0: no CUDA device is visible (CUDA_VISIBLE_DEVICES=)');
  });

  it('is available when everything is there, with the facts for the record', async () => {
    const p = await probeCudaHost(1, deps(fakeBinDir('ok', { marker: '1.29.0' }), fakeHost({ gpus: 2 })));
    expect(p.available).toBe(true);
    const info = (p as { info: Record<string, unknown> }).info;
    expect(info).toMatchObject({ driver: '580.95.05', visibleDevices: 2, providerLibrary: { version: '1.29.0', source: 'some-pkg@9.9.9' } });
  });

  it('says so off linux-x64', async () => {
    const p = await probeCudaHost(0, { ...deps(null), platform: 'darwin-arm64' });
    expect((p as { reason: string }).reason).toContain('linux-x64 only');
  });
});

describe('device ids and CUDA_VISIBLE_DEVICES', () => {
  it('counts devices as CUDA numbers them', () => {
    expect(visibleDeviceCount(2, undefined)).toBe(2);
    expect(visibleDeviceCount(2, '1')).toBe(1);
    expect(visibleDeviceCount(2, '0,1,2')).toBe(2);
    expect(visibleDeviceCount(4, '2,7,0')).toBe(1);
    expect(visibleDeviceCount(1, 'GPU-abc')).toBe(1);
    expect(visibleDeviceCount(2, '-1')).toBe(0);
    expect(visibleDeviceCount(2, '')).toBe(0);
  });

  it('checks an id against the count', () => {
    expect(checkDeviceId(0, 1, undefined)).toBeNull();
    expect(checkDeviceId(3, 2, undefined)).toBe('device_id 3: only 2 CUDA device(s) visible, numbered 0..1');
    expect(checkDeviceId(-1, 2, undefined)).toContain('not a device index');
    expect(checkDeviceId(0.5, 2, undefined)).toContain('not a device index');
  });

  it('rejects a negative or fractional device_id in the suite options', () => {
    expect(nodeCudaOptions.safeParse({ device_id: -1 }).success).toBe(false);
    expect(nodeCudaOptions.safeParse({ device_id: 1.5 }).success).toBe(false);
  });
});

describe('node-cuda options onnxruntime-node cannot honor', () => {
  it('defaults to what the binding can do', () => {
    expect(defaults).toMatchObject({ device_id: 0, cudnn_conv_algo_search: 'EXHAUSTIVE', use_tf32: false, deterministic_compute: true, kv_on_gpu: false });
    expect(unsupportedCudaOptions(defaults)).toEqual([]);
  });

  it('refuses another conv algo search and a GPU-resident KV cache, before touching onnxruntime', async () => {
    const opts = nodeCudaOptions.parse({ cudnn_conv_algo_search: 'HEURISTIC', kv_on_gpu: true });
    expect(unsupportedCudaOptions(opts)).toHaveLength(2);
    const model = await loadModel(await tinyModelDir(), { onnxFile: 'onnx/model.onnx' });
    const err = await nodeCudaRunner.open(model, opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DetbenchError);
    expect((err as DetbenchError).code).toBe('OPTION_UNSUPPORTED');
    expect((err as DetbenchError).message).toMatch(/cudnn_conv_algo_search: HEURISTIC.*kv_on_gpu: true/);
  });

  it('needs a model', async () => {
    const err = await nodeCudaRunner.open(undefined, defaults).catch((e: unknown) => e);
    expect((err as DetbenchError).code).toBe('MODEL_REQUIRED');
  });
});

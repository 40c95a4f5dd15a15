import { DetbenchError, errorCode, errorMessage } from '../../src/errors.ts';
import type { LoadedModel } from '../../src/model/types.ts';
import { specOf } from '../../src/runner-contract/spec.ts';
import type { GenerationOutcome, ProbeResult, Runner, RunnerSession } from '../../src/runner-contract/types.ts';
import { findChrome } from './chrome.ts';
import { BrowserHost, type HostConfig } from './host.ts';
import type { BrowserOptionMap } from './manifest.ts';
import type { PageRequest } from './protocol.ts';

export { findChrome, INSTALL_HINT } from './chrome.ts';
export { BrowserHost } from './host.ts';

type BrowserType = 'browser-wasm' | 'browser-webgpu';
type Options<T extends BrowserType> = BrowserOptionMap[T];

/** A browser runner session; `browserPid` lets tests (and operators) find the browser process. */
export interface BrowserRunnerSession extends RunnerSession {
  browserPid(): number | null;
}

function requireModel(model: LoadedModel | undefined, type: BrowserType): LoadedModel {
  if (!model) throw new DetbenchError('MODEL_REQUIRED', `${type} needs the suite to name a model folder`);
  return model;
}

/** Refuses a model the page cannot hold: WebAssembly's 4 GiB heap keeps the file's bytes and the weights. */
function checkSize(model: LoadedModel, maxMb: number): void {
  if (model.sizeBytes > maxMb * 1024 * 1024) {
    const mb = (model.sizeBytes / 1024 / 1024).toFixed(0);
    throw new DetbenchError('MODEL_TOO_LARGE', `${model.onnxPath} is ${mb} MiB; the browser page holds at most ${maxMb} MiB (max_model_mb)`, {
      file: model.onnxPath,
    });
  }
}

function hostConfig<T extends BrowserType>(type: T, o: Options<T>, chromePath: string): HostConfig {
  const wasm = type === 'browser-wasm' ? (o as Options<'browser-wasm'>) : null;
  const gpu = type === 'browser-webgpu' ? (o as Options<'browser-webgpu'>) : null;
  return {
    chromePath,
    ep: wasm ? 'wasm' : 'webgpu',
    numThreads: wasm?.threads ?? 1,
    simd: wasm?.simd ?? true,
    ...(gpu?.power_preference ? { powerPreference: gpu.power_preference } : {}),
    port: o.port,
    timeoutMs: o.batch_timeout_ms,
  };
}

function chromeOrThrow(chromePath: string | undefined): string {
  const found = findChrome(chromePath);
  if ('reason' in found) throw new DetbenchError('BROWSER_NOT_FOUND', found.reason);
  return found.path;
}

function browserRunner<T extends BrowserType>(type: T): Runner<Options<T>> {
  return {
    async probe(options: Options<T>): Promise<ProbeResult> {
      const found = findChrome(options.chrome_path);
      if ('reason' in found) return { available: false, reason: found.reason };
      if (type === 'browser-wasm') return { available: true, info: { chrome: found.path } };
      // WebGPU: only a real adapter request in a real page says whether the cells can run.
      let host: BrowserHost | null = null;
      try {
        host = await BrowserHost.start(hostConfig(type, options, found.path));
        return { available: true, info: { chrome: found.path, browser: host.chrome?.version, adapter: host.facts?.adapter } };
      } catch (err) {
        return { available: false, reason: `${errorCode(err)}: ${errorMessage(err)}` };
      } finally {
        await host?.close();
      }
    },

    async open(maybeModel, options: Options<T>): Promise<BrowserRunnerSession> {
      const model = requireModel(maybeModel, type);
      checkSize(model, options.max_model_mb);
      if (type === 'browser-wasm' && !(options as Options<'browser-wasm'>).simd) {
        throw new DetbenchError('OPTION_UNSUPPORTED', 'simd: false: onnxruntime-web 1.29 ships SIMD builds only, so a non-SIMD run is not possible', {
          field: 'simd',
        });
      }
      const kvOnGpu = type === 'browser-webgpu' ? (options as Options<'browser-webgpu'>).kv_on_gpu : false;
      const t0 = performance.now();
      const host = await BrowserHost.start({
        ...hostConfig(type, options, chromeOrThrow(options.chrome_path)),
        modelPath: model.onnxPath,
        modelExternalData: model.externalData,
        open: { spec: specOf(model), graphOptimization: options.graph_optimization, kvOnGpu },
      });
      const startMs = performance.now() - t0;
      const requested = type === 'browser-wasm' ? 'wasm' : 'webgpu';
      const s = host.session!;
      const facts = host.facts!;
      const environment = () => ({
        browser: host.chrome?.version ?? null,
        userAgent: facts.userAgent,
        browserArgs: host.chrome?.args ?? [],
        crossOriginIsolated: facts.crossOriginIsolated,
        hardwareConcurrency: facts.hardwareConcurrency,
        ortWeb: facts.ortVersion,
        ortBuild: host.config.ep === 'wasm' ? 'ort.wasm.min.mjs' : 'ort.webgpu.min.mjs',
        ortEnv: host.session?.ortEnv ?? s.ortEnv,
        ...(type === 'browser-webgpu' ? { adapter: facts.adapter, deviceAdapter: s.deviceAdapter, kvOnGpu, kvLocation: s.kvLocation } : {}),
        graphOptimization: options.graph_optimization,
        kvType: s.kvType,
        recording: (host.session ?? s).recording,
        startMs,
        restarts: host.restarts,
        ...(host.warnings.length ? { pageWarnings: [...host.warnings] } : {}),
      });
      return {
        provider: { requested, effective: s.effective },
        get environment() {
          return environment();
        },
        sessionMs: s.sessionMs,
        runtimeVersion: facts.ortVersion,
        browserPid: () => host.pid,
        async generate(requests): Promise<GenerationOutcome[]> {
          const page: PageRequest[] = requests.map((r) => ({
            promptIds: r.promptIds,
            maxNewTokens: r.maxNewTokens,
            sampling: r.sampling,
            stopIds: r.stopIds,
            topK: r.topK,
            ...(r.teacherTokens ? { teacherTokens: r.teacherTokens } : {}),
            ...(r.capture ? { capture: r.capture } : {}),
          }));
          // A failed batch throws: the executor records it.
          const results = await host.generate(page);
          return results.map((generation) => ({ status: 'completed', generation }));
        },
        close: () => host.close(),
      };
    },
  };
}

/** onnxruntime-web's WebAssembly execution provider in headless Chromium. */
export const browserWasmRunner: Runner<Options<'browser-wasm'>> = browserRunner('browser-wasm');
/** onnxruntime-web's WebGPU execution provider in headless Chromium (SwiftShader where there is no GPU). */
export const browserWebgpuRunner: Runner<Options<'browser-webgpu'>> = browserRunner('browser-webgpu');

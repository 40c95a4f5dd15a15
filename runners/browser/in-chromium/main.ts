// The page side of the browser runners: onnxruntime-web + the very decode module Node uses.
// Bundled by esbuild at runtime (runners/browser/harness.ts); loaded by the harness page.
import type * as OrtWeb from 'onnxruntime-web';
import type { CapturedRows } from '../../../src/decode/capture.ts';
import {
  argmax,
  type DecodeModel,
  decode,
  decodeModelFor,
  type MakeTensor,
  Mt19937,
  type SessionLike,
  sampleToken,
  sampleWithDraw,
  singleTokenFeeds,
  stepKernelKind,
  summarizeRow,
  type TensorLike,
} from '../../../src/decode/index.ts';
import type { AdapterFacts, GoldenInput, PageApi, PageFacts, PageInit, PageOpen, PageSession, VocabGoldenInput, WireCapture } from '../protocol.ts';
import { PageRing } from './page-ring.ts';

type Ort = typeof OrtWeb;

/** The slice of WebGPU this page touches (no @webgpu/types dependency). */
interface GpuAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface GpuAdapterLike {
  info?: GpuAdapterInfoLike;
  isFallbackAdapter?: boolean;
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<GpuAdapterLike | null>;
}

let ort: Ort | null = null;
let ep: PageInit['ep'] = 'wasm';
let session: OrtWeb.InferenceSession | null = null;
let model: DecodeModel | null = null;
let pageInit: PageInit | null = null;
let ring: PageRing | null = null;

/**
 * Where the recording runs, as recordingPlan (runners/ort-node/session.ts) decides it in Node: on a
 * worker when a core is left over after onnxruntime-web's threads (the main thread computes with
 * them), and a shared ring needs a cross-origin isolated page.
 */
function pagePlan(init: PageInit): 'worker-thread+inline' | 'inline' {
  const isolated = globalThis.crossOriginIsolated === true;
  return init.recorderUrl && isolated && navigator.hardwareConcurrency > init.numThreads ? 'worker-thread+inline' : 'inline';
}

function adapterFacts(info: GpuAdapterInfoLike | undefined, fallback: boolean | undefined): AdapterFacts {
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    // Chrome moved isFallbackAdapter from the adapter to its info; read either.
    isFallbackAdapter: info?.isFallbackAdapter ?? fallback ?? null,
  };
}

function ortEnvFacts(o: Ort): Record<string, unknown> {
  const w = o.env.wasm;
  const facts: Record<string, unknown> = { numThreads: w.numThreads ?? null, simd: w.simd ?? null, proxy: w.proxy ?? false, logLevel: o.env.logLevel ?? null };
  if (ep === 'webgpu') {
    const g = o.env.webgpu;
    facts.webgpu = {
      powerPreference: g.powerPreference ?? null,
      forceFallbackAdapter: g.forceFallbackAdapter ?? null,
      validateInputContent: g.validateInputContent ?? null,
    };
  }
  return facts;
}

const api: PageApi = {
  async init(init) {
    ep = init.ep;
    pageInit = init;
    ort = (await import(/* @vite-ignore */ init.ortUrl)) as Ort;
    ort.env.wasm.wasmPaths = init.wasmPaths;
    ort.env.wasm.numThreads = init.numThreads;
    ort.env.wasm.simd = init.simd;
    ort.env.wasm.proxy = false;
    const facts: PageFacts = {
      userAgent: navigator.userAgent,
      crossOriginIsolated: globalThis.crossOriginIsolated === true,
      hardwareConcurrency: navigator.hardwareConcurrency,
      ortVersion: ort.env.versions.web ?? ort.env.versions.common ?? null,
      adapter: null,
    };
    if (init.ep === 'webgpu') {
      // Probe the way a page would have to: ask for an adapter; `'gpu' in navigator` proves nothing.
      const gpu = (navigator as unknown as { gpu?: GpuLike }).gpu;
      const adapter = gpu ? await gpu.requestAdapter(init.powerPreference ? { powerPreference: init.powerPreference } : {}).catch(() => null) : null;
      if (!adapter)
        facts.adapterError = gpu ? 'navigator.gpu.requestAdapter() returned no adapter' : 'navigator.gpu is undefined (WebGPU disabled in this browser)';
      else facts.adapter = adapterFacts(adapter.info, adapter.isFallbackAdapter);
      if (init.powerPreference) ort.env.webgpu.powerPreference = init.powerPreference;
    }
    return facts;
  },

  async open(open: PageOpen): Promise<PageSession> {
    const o = ort;
    if (!o) throw new Error('page: open() before init()');
    const t0 = performance.now();
    const options: OrtWeb.InferenceSession.SessionOptions = {
      executionProviders: [ep],
      graphOptimizationLevel: open.graphOptimization,
      executionMode: 'sequential',
    };
    if (open.externalData.length > 0) options.externalData = open.externalData.map((e) => ({ path: e.path, data: e.url }));
    const presentNames = open.spec.cacheNames ? [...open.spec.cacheNames.presentKey, ...open.spec.cacheNames.presentValue] : null;
    if (ep === 'webgpu' && open.kvOnGpu) {
      const names = presentNames ?? Array.from({ length: open.spec.numLayers }, (_, i) => [`present.${i}.key`, `present.${i}.value`]).flat();
      options.preferredOutputLocation = Object.fromEntries([['logits', 'cpu'], ...names.map((n) => [n, 'gpu-buffer'])]);
    }
    session = await o.InferenceSession.create(open.modelUrl, options);
    const sessionMs = performance.now() - t0;
    const makeTensor: MakeTensor = (type, data, dims) => new o.Tensor(type, data, dims);
    model = decodeModelFor(float16AsBits(session), open.spec, makeTensor);
    const recording = pageInit ? pagePlan(pageInit) : 'inline';
    ring?.close();
    ring =
      recording === 'worker-thread+inline' && pageInit?.recorderUrl
        ? new PageRing(new Worker(pageInit.recorderUrl, { type: 'module' }), pageInit.recorderInlineBelow)
        : null;
    if (ring) model.recorder = ring;

    let effective: string = ep;
    let deviceAdapter: AdapterFacts | null = null;
    let kvLocation: string | null = null;
    if (ep === 'webgpu') {
      // onnxruntime-web resolves ['webgpu'] to the WebGPU backend or throws (no other backend is
      // listed). Evidence that it computes on the GPU: its device exists, and with kv_on_gpu a
      // present.* output of a one-token pass comes back as a GPU buffer, which only that EP makes.
      const device = (await o.env.webgpu.device) as unknown as { adapterInfo?: GpuAdapterInfoLike } | undefined;
      if (!device) effective = 'wasm';
      else deviceAdapter = adapterFacts(device.adapterInfo, undefined);
      const [probe] = await decodeOne(model);
      kvLocation = probe ?? null;
      if (open.kvOnGpu && kvLocation !== 'gpu-buffer') effective = `webgpu (present.* on ${kvLocation ?? 'nowhere'}; expected gpu-buffer)`;
    }
    return { sessionMs, effective, kvType: model.kvType, ortEnv: ortEnvFacts(o), deviceAdapter, kvLocation, recording };
  },

  async generate(requests) {
    if (!model) throw new Error('page: generate() before open()');
    let results: Awaited<ReturnType<typeof decode>>;
    try {
      results = await decode(model, requests);
    } catch (err) {
      // Rows already handed to the worker belong to the failed batch: collect and drop them.
      await model.recorder?.drain().catch(() => []);
      throw err;
    }
    return results.map(({ capture, ...r }) => (capture ? { ...r, capture: toWire(capture) } : r));
  },

  recordingPlaces() {
    return ring?.places() ?? null;
  },

  golden(input: GoldenInput) {
    const rows = input.rows.map((r) => Float32Array.from(r, (v) => (v === null ? -Infinity : v)));
    return input.cases.map((c) => {
      const rng = c.kind === 'sample' ? new Mt19937(c.seed) : null;
      return rows.map((row) => (c.kind === 'greedy' ? argmax(row) : sampleToken(row, c, rng!)));
    });
  },

  goldenSummaries(rows: string[], k: number) {
    return rows.map((r) => summarizeRow(unpack(r), k));
  },

  vocabGolden(input: VocabGoldenInput) {
    const row = unpack(input.row);
    const tokens = input.cases.map((c) =>
      c.draws.map((u) => sampleWithDraw(row, { kind: 'sample', temperature: c.temperature, topK: c.topK, topP: c.topP, seed: 0 }, u)),
    );
    return { summary: summarizeRow(row, input.k), tokens, kernel: stepKernelKind() };
  },

  async close() {
    ring?.close();
    ring = null;
    await session?.release();
    session = null;
    model = null;
  },
};

/** A float32 row from its little-endian bits in base64. */
function unpack(base64: string): Float32Array {
  return new Float32Array(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)).buffer);
}

/** Reinterprets a Float16Array as its raw bits (what the decode loop expects of fp16 data). */
function bits(data: unknown): unknown {
  const F16 = (globalThis as { Float16Array?: new (...a: never[]) => ArrayBufferView & { length: number } }).Float16Array;
  return F16 && data instanceof F16 ? new Uint16Array(data.buffer, data.byteOffset, data.length) : data;
}

/**
 * Chromium has Float16Array, so onnxruntime-web hands fp16 outputs over as Float16Array values;
 * the loop (like onnxruntime-node) takes fp16 as Uint16Array bits. Only logits are re-viewed:
 * caches go back into run() and must stay onnxruntime tensors.
 */
function float16AsBits(s: OrtWeb.InferenceSession): SessionLike & { inputMetadata?: OrtWeb.InferenceSession['inputMetadata'] } {
  return {
    inputNames: s.inputNames,
    outputNames: s.outputNames,
    inputMetadata: s.inputMetadata,
    async run(feeds) {
      const out = (await s.run(feeds as Record<string, OrtWeb.Tensor>)) as Record<string, TensorLike>;
      const logits = out.logits;
      if (logits?.type === 'float16') {
        const t = logits;
        out.logits = {
          dims: t.dims,
          type: t.type,
          location: t.location ?? 'cpu',
          get data() {
            return bits(t.data);
          },
          getData: async (release?: boolean) => bits(await t.getData!(release)),
          dispose: () => t.dispose?.(),
        };
      }
      return out;
    },
  };
}

/** One forward pass of a single token with empty caches; returns where present.0.key landed. */
async function decodeOne(m: DecodeModel): Promise<(string | undefined)[]> {
  const feeds = singleTokenFeeds(m, m.padTokenId);
  const out = await m.session.run(feeds);
  const where = [out[m.presentKey(0)]?.location];
  for (const v of Object.values(out)) if (v.location && v.location !== 'cpu') v.dispose?.();
  return where;
}

(globalThis as unknown as { detbench: PageApi }).detbench = api;

/** Captured rows as base64, so that they survive `page.evaluate`'s JSON (a typed array would not). */
function toWire(c: CapturedRows): WireCapture {
  const bytes = new Uint8Array(c.data.buffer, c.data.byteOffset, c.data.byteLength);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { encoding: c.encoding, vocab: c.vocab, steps: c.steps, ...(c.encoding === 'u16' ? { top: c.top } : {}), base64: btoa(bin) };
}

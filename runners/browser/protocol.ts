import type { RowSummary } from '../../src/decode/logits.ts';
import type { Sampling } from '../../src/decode/sampling.ts';
import type { ModelSpec } from '../../src/decode/session-model.ts';
import type { DecodeRequest, DecodeResult } from '../../src/decode/types.ts';
import type { RowPlaces } from '../recording/summary-ring-core.ts';

/**
 * What Node and the page exchange through `page.evaluate` (plain JSON both ways). Tokenization
 * stays in Node: the page sees token ids only.
 */

/** Which execution provider the page asks onnxruntime-web for. */
export type PageEp = 'wasm' | 'webgpu';

/** onnxruntime-web build each provider loads (served from node_modules/onnxruntime-web/dist). */
export const ORT_BUILD: Record<PageEp, string> = {
  // The plain WebAssembly build (no WebGPU, no Asyncify), so browser-wasm measures the CPU kernels only.
  wasm: 'ort.wasm.min.mjs',
  webgpu: 'ort.webgpu.min.mjs',
};

export interface PageInit {
  ep: PageEp;
  /** URL of the onnxruntime-web module, on the harness. */
  ortUrl: string;
  /** Folder URL of the .wasm/.mjs runtime files. */
  wasmPaths: string;
  numThreads: number;
  simd: boolean;
  powerPreference?: 'low-power' | 'high-performance';
  /**
   * URL of the recording worker's script (wasm only): with it, a cross-origin isolated page and a
   * core left over after onnxruntime-web's threads, the per-step recording runs on a Web Worker
   * that the loop helps when it falls behind (runners/browser/in-chromium/page-ring.ts).
   */
  recorderUrl?: string;
  /** Tests only: the ring's `inlineBelow` (runners/recording/summary-ring-core.ts); 0 hands every row it can to the worker. */
  recorderInlineBelow?: number;
}

/** GPUAdapterInfo as plain data. */
export interface AdapterFacts {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean | null;
}

export interface PageFacts {
  userAgent: string;
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  ortVersion: string | null;
  /** `navigator.gpu.requestAdapter()` result; null when no adapter could be had (or wasm). */
  adapter: AdapterFacts | null;
  /** Why no adapter, when WebGPU was asked for and none came. */
  adapterError?: string;
}

export interface PageOpen {
  modelUrl: string;
  /** The model's external-data files: the name the graph gives each, and where the page fetches it. */
  externalData: { path: string; url: string }[];
  spec: ModelSpec;
  graphOptimization: 'disabled' | 'basic' | 'extended' | 'all';
  /** webgpu only: keep present.* on the GPU between steps. */
  kvOnGpu: boolean;
}

export interface PageSession {
  sessionMs: number;
  /** The provider the session demonstrably runs on (see page/main.ts for how it is established). */
  effective: string;
  kvType: 'float32' | 'float16';
  /** onnxruntime-web env flags after session creation (what was actually in force). */
  ortEnv: Record<string, unknown>;
  /** The adapter of the GPUDevice onnxruntime-web computes on (webgpu), else null. */
  deviceAdapter: AdapterFacts | null;
  /** Where a present.* output landed in the verification pass ('gpu-buffer' or 'cpu'); webgpu only. */
  kvLocation: string | null;
  /** Where the per-step recording runs: `worker-thread+inline` (a Web Worker the loop helps) or `inline`. */
  recording: 'worker-thread+inline' | 'inline';
}

export type PageRequest = Pick<DecodeRequest, 'promptIds' | 'maxNewTokens' | 'sampling' | 'stopIds' | 'topK' | 'teacherTokens' | 'capture'>;

/** Captured rows as they cross `page.evaluate` (JSON): the typed array as base64. */
export interface WireCapture {
  encoding: 'f32' | 'u16';
  vocab: number;
  steps: number;
  top?: number[];
  base64: string;
}

/** A decode result as the page returns it. */
export type PageResult = Omit<DecodeResult, 'capture'> & { capture?: WireCapture };

/** The golden fixture's rows (null = -Infinity) and cases, as test/sampler-golden.test.ts reads them. */
export interface GoldenInput {
  rows: (number | null)[][];
  cases: Sampling[];
}

/** A large row (float32, little-endian, base64), the top-k to record and draws to sample with per setting. */
export interface VocabGoldenInput {
  row: string;
  k: number;
  cases: { temperature: number; topK: number; topP: number; draws: number[] }[];
}

/** What page/main.ts installs as `globalThis.detbench`. */
export interface PageApi {
  init(init: PageInit): Promise<PageFacts>;
  open(open: PageOpen): Promise<PageSession>;
  generate(requests: PageRequest[]): Promise<PageResult[]>;
  /** Where the page's rows were summarised since the session opened (null: in line only). */
  recordingPlaces(): RowPlaces | null;
  /** The tokens the page's sampler picks on the golden rows, per case. */
  golden(input: GoldenInput): number[][];
  /** The page's summaries (top `k`) of rows sent as float32 bits in base64 (JSON would turn -0 into 0). */
  goldenSummaries(rows: string[], k: number): RowSummary[];
  /** The page's summary of one large row and the tokens its sampler picks for each draw. */
  vocabGolden(input: VocabGoldenInput): { summary: RowSummary; tokens: number[][]; kernel: 'wasm-simd' | 'js' };
  close(): Promise<void>;
}

import { z } from 'zod';
import { DTYPE_NAMES } from '../model/precision.ts';

/**
 * Option schemas per runner type, kept apart from the runner implementations so that loading a
 * suite imports no runtime (onnxruntime, puppeteer). Keys are snake_case as written in YAML.
 */
const precision = z
  .enum(DTYPE_NAMES)
  .optional()
  .describe(
    'onnx-community dtype: fp32 loads onnx/model.onnx, fp16 onnx/model_fp16.onnx, q4 onnx/model_q4.onnx (also q4f16, int8, uint8, bnb4, quantized); default transformers.js_config.dtype of config.json, else fp32; unless model_file is set',
  );
/** Whether a relative path stays inside its folder: not absolute, no `..` that climbs out (checked as written). */
function staysInside(p: string): boolean {
  if (/^([\\/]|[A-Za-z]:)/.test(p)) return false;
  let depth = 0;
  for (const part of p.split(/[\\/]/)) {
    if (part === '..') depth--;
    else if (part !== '' && part !== '.') depth++;
    if (depth < 0) return false;
  }
  return depth > 0;
}

/** An ONNX file named relative to the model folder, which it may not leave (as external data may not). */
export const modelFile = z
  .string()
  .refine(staysInside, 'expected a file inside the model folder (a relative path that does not climb out with "..")')
  .optional()
  .describe('ONNX file inside the model folder, overriding precision');
const graphOptimization = z
  .enum(['disabled', 'basic', 'extended', 'all'])
  .default('all')
  .describe('onnxruntime graph optimization level');

export const nodeCpuOptions = z
  .object({
    intra_op_threads: z.int().min(0).default(1).describe('0 lets onnxruntime choose'),
    inter_op_threads: z.int().min(0).default(1),
    graph_optimization: graphOptimization,
    precision,
    model_file: modelFile,
  })
  .strict();

export const nodeCudaOptions = z
  .object({
    device_id: z.int().min(0).default(0).describe('CUDA device index, after CUDA_VISIBLE_DEVICES'),
    cudnn_conv_algo_search: z
      .enum(['EXHAUSTIVE', 'HEURISTIC', 'DEFAULT'])
      .default('EXHAUSTIVE')
      .describe('onnxruntime-node 1.29 passes only deviceId to the CUDA EP, so only the EP default (EXHAUSTIVE) can run; other values are refused'),
    use_tf32: z
      .boolean()
      .default(false)
      .describe('TF32 matmuls are faster and less exact; false sets NVIDIA_TF32_OVERRIDE=0 for the process (the EP default is on)'),
    deterministic_compute: z.boolean().default(true).describe('onnxruntime session use_deterministic_compute'),
    kv_on_gpu: z
      .boolean()
      .default(false)
      .describe('keep present.* on the GPU between steps; onnxruntime-node 1.29 has GPU outputs for WebGPU only, so true is refused'),
    graph_optimization: graphOptimization,
    precision,
    model_file: modelFile,
  })
  .strict();

export const nodeWebgpuOptions = z
  .object({
    vulkan_icd: z
      .string()
      .min(1)
      .default('system')
      .describe("Vulkan driver for Dawn: 'system' (the loader's own ICD search), 'swiftshader' (Chromium's software Vulkan, vk_swiftshader_icd.json) or the path of an ICD manifest; never falls back to another"),
    kv_on_gpu: z
      .boolean()
      .default(true)
      .describe('keep present.* on the GPU between steps (gpu-buffer outputs; logits come back to the CPU)'),
    batch_timeout_ms: z
      .int()
      .min(1)
      .default(600_000)
      .describe('a batch running longer counts as a hung worker: it is killed, its records are errored, and a new worker serves the next batch'),
    graph_optimization: graphOptimization,
    precision,
    model_file: modelFile,
  })
  .strict();

/** What both browser runners share: where the browser is, the page harness, limits. */
const browserCommon = {
  graph_optimization: graphOptimization,
  precision,
  model_file: modelFile,
  chrome_path: z.string().optional().describe('Chrome/Chromium binary; default $CHROME_PATH, then /usr/bin/chromium, chromium-browser, google-chrome'),
  port: z.int().min(0).max(65535).default(0).describe('127.0.0.1 port of the page harness; 0 picks a free one'),
  batch_timeout_ms: z.int().min(1).default(600_000).describe('a batch running longer counts as a hung page: its records are errored and the page is restarted'),
  max_model_mb: z.int().min(1).default(2048).describe('larger ONNX files are refused (the page holds the file and the weights in a 4 GiB WebAssembly heap)'),
};

export const browserWasmOptions = z
  .object({
    threads: z.int().min(1).default(1).describe('onnxruntime-web wasm numThreads; >1 needs cross-origin isolation, which the harness serves'),
    simd: z.boolean().default(true).describe('onnxruntime-web 1.29 ships SIMD builds only; false is refused'),
    ...browserCommon,
  })
  .strict();

export const browserWebgpuOptions = z
  .object({
    power_preference: z.enum(['low-power', 'high-performance']).optional(),
    kv_on_gpu: z.boolean().default(true).describe('keep present.* on the GPU between steps (logits come back to the CPU)'),
    ...browserCommon,
  })
  .strict();

/**
 * A base URL without user information: `http://user:KEY@host/v1` would put the key wherever the
 * URL is recorded or quoted. The message never repeats the value.
 */
const baseUrl = z
  .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
  .refine(
    (url) => {
      try {
        const u = new URL(url);
        return u.username === '' && u.password === '';
      } catch {
        return true; // not a URL: the check above says so
      }
    },
    { error: 'must not contain a user name or password (user:password@host): put the key in an environment variable named by api_key_env' },
  )
  .describe('e.g. https://api.openai.com/v1; no user:password@ (use api_key_env)');

/** The default cap on one response's size. */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export const remoteApiOptions = z
  .object({
    base_url: baseUrl,
    model: z.string().min(1),
    endpoint: z.enum(['chat', 'completions']).default('chat'),
    api_key_env: z.string().optional().describe('name of the environment variable holding the API key'),
    concurrency: z.int().min(1).default(4).describe('requests of one batch in flight at once'),
    timeout_ms: z.int().min(1).default(60_000).describe('per attempt, from sending the request to the end of the body'),
    max_retries: z.int().min(0).default(4).describe('on 408, 409, 429, 5xx, network errors, timeouts and cut streams'),
    retry_base_ms: z.int().min(0).default(500).describe('first backoff; doubles per attempt, with jitter'),
    retry_max_ms: z.int().min(0).default(20_000).describe('longest backoff'),
    retry_after_cap_ms: z.int().min(0).default(60_000).describe('longest wait a Retry-After header can ask for'),
    stream: z.boolean().default(true).describe('server-sent events; gives the time to first token'),
    max_top_logprobs: z
      .int()
      .min(0)
      .max(20)
      .default(20)
      .describe("caps the suite's top_logprobs (OpenAI allows 20 on chat, 5 on completions); 0 asks for no logprobs"),
    max_tokens_field: z.enum(['max_tokens', 'max_completion_tokens']).default('max_tokens'),
    return_token_ids: z.boolean().default(false).describe("ask for token ids (vLLM >= 0.10.2, detbench serve); OpenAI rejects it"),
    extra_body: z.record(z.string(), z.unknown()).optional().describe('fields merged into every request body'),
    max_response_bytes: z
      .int()
      .min(1)
      .default(DEFAULT_MAX_RESPONSE_BYTES)
      .describe('a response (body or whole stream) past this many bytes is an errored record, REMOTE_RESPONSE_TOO_LARGE'),
    background_load: z
      .object({
        clients: z.int().min(1).max(256).describe('concurrent clients, each sending its next request when its answer ends'),
        prompts: z.array(z.string().min(1)).min(1).describe('prompts the load draws from'),
        max_tokens: z.tuple([z.int().min(1), z.int().min(1)]).default([32, 128]).describe('output length per load request, drawn from [min, max]'),
        seed: z.int().min(0).default(0).describe('seeds the draws'),
      })
      .strict()
      .optional()
      .describe('greedy completions of other prompts sent to the same server for as long as this runner runs, so its requests share batches with strangers'),
  })
  .strict();

export const markovOptions = z
  .object({
    order: z
      .int()
      .min(1)
      .max(3)
      .default(3)
      .describe('tokens of context + 1: 3 looks at the last two tokens (a trigram), 2 at the last one, 1 at none'),
    table: z
      .string()
      .min(1)
      .optional()
      .describe('n-gram table (.bin.gz, written by scripts/build-markov.ts); default: models/detbench-tiny-markov/ngram.bin.gz, counted on the shipped model\'s corpus'),
  })
  .strict();

/** Option schemas by runner type: the one place a runner type is declared. */
export const RUNNER_OPTIONS = {
  'node-cpu': nodeCpuOptions,
  'node-cuda': nodeCudaOptions,
  'node-webgpu': nodeWebgpuOptions,
  'browser-wasm': browserWasmOptions,
  'browser-webgpu': browserWebgpuOptions,
  'remote-api': remoteApiOptions,
  markov: markovOptions,
} as const;

export type RunnerType = keyof typeof RUNNER_OPTIONS;
export const RUNNER_TYPES = Object.keys(RUNNER_OPTIONS) as RunnerType[];

/**
 * Runner types that compute with a model of their own rather than the suite's (the markov control):
 * their records are grouped and compared only with records of the same type.
 */
export const OWN_MODEL_TYPES: ReadonlySet<RunnerType> = new Set<RunnerType>(['markov']);

/** Parsed (defaults applied) options of each runner type. */
export type RunnerOptionMap = { [K in RunnerType]: z.output<(typeof RUNNER_OPTIONS)[K]> };

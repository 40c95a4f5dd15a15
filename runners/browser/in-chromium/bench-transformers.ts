// transformers.js in the page, for scripts/bench-browser.ts only: the same model folder, served by
// the harness, offline, on onnxruntime-web's WASM execution provider.
import { AutoModelForCausalLM, env, Tensor } from '@huggingface/transformers';

interface Generator {
  generate(options: Record<string, unknown>): Promise<unknown>;
}

let model: Generator | null = null;

const api = {
  /**
   * `externalData`: the model's external-data files, as the graph names them (`path`) and relative to
   * the model folder (`file`). transformers.js looks only for `<model>.onnx_data` on its own (and in a
   * page onnxruntime-web cannot read a file it was not handed: "Module.MountedFiles is not
   * available"), so they go in through the session options, which it fetches and mounts.
   */
  async load(
    origin: string,
    modelsPath: string,
    name: string,
    numThreads: number,
    externalData: { path: string; file: string }[],
  ): Promise<{ version: string }> {
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = modelsPath;
    env.useBrowserCache = false;
    (env as unknown as { useWasmCache: boolean }).useWasmCache = false;
    const wasm = (env.backends.onnx as { wasm: { wasmPaths: unknown; numThreads: number } }).wasm;
    // Never the CDN: the build transformers.js ships with (onnxruntime-web/webgpu, Asyncify), from the harness.
    wasm.wasmPaths = { mjs: `${origin}/ort/ort-wasm-simd-threaded.asyncify.mjs`, wasm: `${origin}/ort/ort-wasm-simd-threaded.asyncify.wasm` };
    wasm.numThreads = numThreads;
    const session_options = externalData.length > 0 ? { externalData: externalData.map((e) => ({ path: e.path, data: e.file })) } : {};
    model = (await AutoModelForCausalLM.from_pretrained(name, { dtype: 'fp32', device: 'wasm', session_options })) as unknown as Generator;
    return { version: env.version };
  },

  /** Greedy decode of exactly `n` new tokens; returns them and the wall time in the page. */
  async generate(ids: number[], n: number): Promise<{ tokens: number[]; ms: number }> {
    if (!model) throw new Error('load() first');
    const dims = [1, ids.length];
    const input_ids = new Tensor('int64', BigInt64Array.from(ids, BigInt), dims);
    const attention_mask = new Tensor('int64', new BigInt64Array(ids.length).fill(1n), dims);
    const t0 = performance.now();
    const out = (await model.generate({ input_ids, attention_mask, max_new_tokens: n, min_new_tokens: n, do_sample: false })) as { tolist(): bigint[][] };
    const ms = performance.now() - t0;
    return { tokens: out.tolist()[0]!.slice(ids.length).map(Number), ms };
  },
};

(globalThis as unknown as { tfbench: typeof api }).tfbench = api;

import { createHash } from 'node:crypto';
import { Template } from '@huggingface/jinja';
import { ContinuousBatch } from '../decode/continuous.ts';
import { decode, type StepEvent } from '../decode/loop.ts';
import type { DecodeRequest, DecodeResult } from '../decode/types.ts';
import { DetbenchError } from '../errors.ts';
import { loadModel } from '../model/load.ts';
import type { LoadedModel } from '../model/types.ts';
import { findRunner, type RunnerList } from '../runner-contract/manifest.ts';
import { DETBENCH_VERSION } from '../version.ts';
import type { BatchingOptions } from './batcher.ts';
import { ApiError, type ChatMessage } from './protocol.ts';

/** Runner types of `list` that `detbench serve` can serve with (their manifests say `serve`). */
export function serveRunnerTypes(list: RunnerList): string[] {
  return list.manifests.filter((m) => m.serve).map((m) => m.type);
}

/** What the engine is opened with. */
export interface EngineOptions {
  modelDir: string;
  /** ONNX file inside the model folder (default onnx/model.onnx). */
  onnxFile?: string;
  /** The runners the program offers (the CLI passes the shipped list, `runners/index.ts`). */
  runners: RunnerList;
  /** The runner type that computes: one whose manifest says `serve` (node-cpu). */
  runner: string;
  /** Its options (snake_case, as in a suite); defaults applied by its schema. */
  runnerOptions?: Record<string, unknown>;
  /** null: batching off (every request decoded alone). */
  batching: BatchingOptions | null;
}

/** A loaded model bound to a local session, plus the text handling the HTTP layer needs. */
export interface Engine {
  model: LoadedModel;
  runner: string;
  runnerOptions: Record<string, unknown>;
  /** Derived from the model's sha256, the runner and its options, the batching config and detbench's version. */
  systemFingerprint: string;
  /**
   * The most UTF-8 bytes a prompt can have and still fit the context: the context length times the
   * longest token's bytes. Longer text is refused before it is tokenized.
   */
  promptByteLimit: number;
  /** Ids of a completion prompt (special tokens added, as `detbench run` does). */
  encodePrompt(text: string): number[];
  /** Ids of a chat: the model's chat template if it has one, else the contents joined by blank lines. */
  encodeChat(messages: ChatMessage[]): number[];
  /** One static batch through the shared decode loop, in one call: every request shares every forward pass. */
  decodeBatch(requests: DecodeRequest[], onStep: (e: StepEvent) => void): Promise<DecodeResult[]>;
  /** An empty continuous batch over the session (one per server: they share the session). */
  openBatch<T>(): ContinuousBatch<T>;
  close(): Promise<void>;
}

/** How a batching configuration reads in a fingerprint and a log line. */
export function describeBatching(b: BatchingOptions | null): string {
  return b ? `${b.mode ?? 'continuous'} max=${b.maxBatch} window=${b.windowMs}ms` : 'off';
}

/** `fp_` and 12 hex digits of SHA-256 over what decides the numbers a response is computed with. */
export function fingerprintOf(parts: {
  sha256: string;
  runner: string;
  runnerOptions: object;
  batching: BatchingOptions | null;
  runtime: string | null;
}): string {
  const text = [
    parts.sha256,
    parts.runner,
    JSON.stringify(parts.runnerOptions),
    describeBatching(parts.batching),
    `detbench ${DETBENCH_VERSION}`,
    `ort ${parts.runtime ?? '?'}`,
  ].join('\n');
  return `fp_${createHash('sha256').update(text).digest('hex').slice(0, 12)}`;
}

/** Opens the model with the runner (node-cpu), through its manifest, as `detbench run` would with the same options. */
export async function openEngine(opts: EngineOptions): Promise<Engine> {
  const manifest = findRunner(opts.runners, opts.runner);
  if (!manifest?.serve) {
    throw new DetbenchError('USAGE', `--runner ${opts.runner}: detbench serve runs on ${serveRunnerTypes(opts.runners).join(', ')} only`, { field: 'runner' });
  }
  const model = await loadModel(opts.modelDir, opts.onnxFile ? { onnxFile: opts.onnxFile } : {});
  const runnerOptions = manifest.options.parse(opts.runnerOptions ?? {});
  const session = await (await manifest.load()).open(model, runnerOptions);
  const dm = session.decodeModel;
  if (!dm) {
    await session.close();
    throw new Error(`the ${opts.runner} runner does not expose its decode model`);
  }
  const template = model.chatTemplate ? new Template(model.chatTemplate) : undefined;
  const tok = model.tokenizer;
  let longestToken = 1;
  for (let id = 0; id < tok.vocabSize; id++) longestToken = Math.max(longestToken, Buffer.byteLength(tok.tokenText(id)));
  const maxPositions = model.config.maxPositions;
  const promptByteLimit = maxPositions * longestToken;

  const nonEmpty = (ids: number[], param: string) => {
    if (ids.length === 0) throw new ApiError(400, 'The prompt tokenizes to nothing.', 'invalid_request_error', param, 'empty_prompt');
    return ids;
  };
  // Every token covers at most `longestToken` bytes of text, so longer text cannot fit the context:
  // refused before the tokenizer sees it, which keeps one request from holding the event loop.
  const bounded = (bytes: number, param: string) => {
    if (bytes > promptByteLimit) {
      throw new ApiError(
        400,
        `This model's maximum context length is ${maxPositions} tokens. However, your prompt is ${bytes} bytes, at least ${Math.ceil(bytes / longestToken)} tokens (no token is longer than ${longestToken} bytes).`,
        'invalid_request_error',
        param,
        'context_length_exceeded',
      );
    }
  };

  return {
    model,
    runner: opts.runner,
    runnerOptions,
    systemFingerprint: fingerprintOf({ sha256: model.sha256, runner: opts.runner, runnerOptions, batching: opts.batching, runtime: session.runtimeVersion }),
    promptByteLimit,
    encodePrompt(text) {
      bounded(Buffer.byteLength(text), 'prompt');
      return nonEmpty(tok.encode(text), 'prompt');
    },
    encodeChat(messages) {
      bounded(
        messages.reduce((n, m) => n + Buffer.byteLength(m.content), 0),
        'messages',
      );
      if (!template) return nonEmpty(tok.encode(messages.map((m) => m.content).join('\n\n')), 'messages');
      // The tokenizer's special tokens (Llama's <s>), as transformers.js renders templates; not added again below.
      const rendered = template.render({ messages, add_generation_prompt: true, ...model.specialTokens });
      bounded(Buffer.byteLength(rendered), 'messages');
      return nonEmpty(tok.encode(rendered, { addSpecialTokens: false }), 'messages');
    },
    decodeBatch: (requests, onStep) => decode(dm, requests, { onStep }),
    openBatch: <T>() => {
      const why = ContinuousBatch.refusal(dm);
      if (why)
        throw new DetbenchError(
          'SERVE_UNSUPPORTED',
          `${model.onnxPath}: continuous batching cannot feed this graph: ${why}; serve it with --batching static or off`,
          { file: model.onnxPath },
        );
      return new ContinuousBatch<T>(dm);
    },
    close: () => session.close(),
  };
}

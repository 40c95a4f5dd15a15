import { createHash } from 'node:crypto';
import { Template } from '@huggingface/jinja';
import * as ort from 'onnxruntime-node';
import { GRAPH_OPT, makeNodeTensor } from '../../runners/node-cpu.ts';
import { decode, type StepEvent } from '../decode/loop.ts';
import { decodeModelFor } from '../decode/session-model.ts';
import type { DecodeModel, DecodeRequest, DecodeResult } from '../decode/types.ts';
import { loadModel } from '../model/load.ts';
import type { LoadedModel } from '../model/types.ts';
import { nodeCpuOptions, type RunnerOptionMap } from '../runner/options.ts';
import { specOf } from '../runner/spec.ts';
import { DETBENCH_VERSION } from '../version.ts';
import type { BatchingOptions } from './batcher.ts';
import { ApiError, type ChatMessage } from './protocol.ts';

/** Runner types `detbench serve` can serve with. */
export const SERVE_RUNNERS = ['node-cpu'] as const;
export type ServeRunner = (typeof SERVE_RUNNERS)[number];

/** What the engine is opened with. */
export interface EngineOptions {
  modelDir: string;
  /** ONNX file inside the model folder (default onnx/model.onnx). */
  onnxFile?: string;
  runner: ServeRunner;
  /** node-cpu options (snake_case, as in a suite); defaults applied. */
  runnerOptions?: Partial<RunnerOptionMap['node-cpu']>;
  /** null: batching off (every request decoded alone). */
  batching: BatchingOptions | null;
}

/** A loaded model bound to a local session, plus the text handling the HTTP layer needs. */
export interface Engine {
  model: LoadedModel;
  runner: ServeRunner;
  runnerOptions: RunnerOptionMap['node-cpu'];
  /** Derived from the model's sha256, the runner and its options, the batching config and detbench's version. */
  systemFingerprint: string;
  /** Ids of a completion prompt (special tokens added, as `detbench run` does). */
  encodePrompt(text: string): number[];
  /** Ids of a chat: the model's chat template if it has one, else the contents joined by blank lines. */
  encodeChat(messages: ChatMessage[]): number[];
  /** One batch through the shared decode loop, in one call: every request shares every forward pass. */
  decodeBatch(requests: DecodeRequest[], onStep: (e: StepEvent) => void): Promise<DecodeResult[]>;
  close(): Promise<void>;
}

/** `fp_` and 12 hex digits of SHA-256 over what decides the numbers a response is computed with. */
export function fingerprintOf(parts: { sha256: string; runner: string; runnerOptions: object; batching: BatchingOptions | null }): string {
  const batching = parts.batching ? `dynamic max=${parts.batching.maxBatch} window=${parts.batching.windowMs}ms` : 'off';
  const text = [parts.sha256, parts.runner, JSON.stringify(parts.runnerOptions), batching, `detbench ${DETBENCH_VERSION}`, `ort ${ort.env.versions.node ?? '?'}`].join('\n');
  return `fp_${createHash('sha256').update(text).digest('hex').slice(0, 12)}`;
}

/** Loads the model and opens the session the node-cpu runner would open with the same options. */
export async function openEngine(opts: EngineOptions): Promise<Engine> {
  const model = await loadModel(opts.modelDir, opts.onnxFile ? { onnxFile: opts.onnxFile } : {});
  const runnerOptions = nodeCpuOptions.parse(opts.runnerOptions ?? {});
  const session = await ort.InferenceSession.create(model.onnxPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: runnerOptions.intra_op_threads,
    interOpNumThreads: runnerOptions.inter_op_threads,
    graphOptimizationLevel: GRAPH_OPT[runnerOptions.graph_optimization],
    executionMode: 'sequential',
  });
  const dm: DecodeModel = decodeModelFor(session, specOf(model), makeNodeTensor);
  const template = model.chatTemplate ? new Template(model.chatTemplate) : undefined;
  const tok = model.tokenizer;

  const nonEmpty = (ids: number[], param: string) => {
    if (ids.length === 0) throw new ApiError(400, 'The prompt tokenizes to nothing.', 'invalid_request_error', param, 'empty_prompt');
    return ids;
  };

  return {
    model,
    runner: opts.runner,
    runnerOptions,
    systemFingerprint: fingerprintOf({ sha256: model.sha256, runner: opts.runner, runnerOptions, batching: opts.batching }),
    encodePrompt: (text) => nonEmpty(tok.encode(text), 'prompt'),
    encodeChat(messages) {
      if (!template) return nonEmpty(tok.encode(messages.map((m) => m.content).join('\n\n')), 'messages');
      const rendered = template.render({ messages, add_generation_prompt: true, bos_token: '', eos_token: '' });
      return nonEmpty(tok.encode(rendered, { addSpecialTokens: false }), 'messages');
    },
    decodeBatch: (requests, onStep) => decode(dm, requests, { onStep }),
    close: () => session.release(),
  };
}

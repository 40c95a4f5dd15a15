import type { DecodeModel, DecodeRequest, DecodeResult, StepTrace } from '../decode/types.ts';
import type { LoadedModel } from '../model/types.ts';

/** Whether a runner can run here. `available: false` makes every cell of it a `skipped` record. */
export type ProbeResult = { available: true; info: Record<string, unknown> } | { available: false; reason: string };

/** One sequence for a runner: the decode request plus the text, for runners that tokenize remotely. */
export interface GenerationRequest extends DecodeRequest {
  promptText: string;
  system?: string;
}

/** What one request produced; remote runners fill `tokenTexts`/`topTokens` where they have no ids. */
export interface Generation extends DecodeResult {
  /** The text as the runner reports it (remote), else undefined: the harness decodes the ids. */
  text?: string;
  tokenTexts?: string[];
  steps: StepTrace & { topTokens?: string[][] };
  /** Runner-specific facts about this response (system_fingerprint, served batch size, ...). */
  extra?: Record<string, unknown>;
}

export type GenerationOutcome = { status: 'completed'; generation: Generation } | { status: 'errored'; error: { code: string; message: string } };

/** An opened runner: a loaded session ready to generate. */
export interface RunnerSession {
  /** The execution provider asked for and the one actually used; a mismatch must be reported as an error. */
  provider: { requested: string; effective: string };
  /** Facts for the environment fingerprint (browser version, adapter, ORT flags, ...). */
  environment: Record<string, unknown>;
  /** Milliseconds spent creating the session (model load), kept apart from generation time. */
  sessionMs: number;
  /**
   * What the runner computes with when it is not the suite's model (the markov control's n-gram
   * table); records then name this model instead.
   */
  model?: { name: string; file: string; sha256: string };
  /** onnxruntime version actually used, or null. */
  runtimeVersion: string | null;
  /**
   * Generates a batch; the requests share forward passes where the runner batches. May throw: the
   * executor turns a thrown batch into an `errored` record for each of its requests (one request's
   * own failure, as a remote API's, is an `errored` outcome in its row).
   */
  generate(requests: GenerationRequest[]): Promise<GenerationOutcome[]>;
  /**
   * The session bound to the shared decode loop, for callers that drive it step by step
   * (`detbench serve`'s continuous batching); absent on runners whose loop runs elsewhere.
   */
  decodeModel?: DecodeModel;
  close(): Promise<void>;
}

/**
 * The whole runner interface: can it run here, and open a session. `O` is the runner's parsed
 * options (its manifest's schema, `runners/<name>/manifest.ts`).
 */
export interface Runner<O = Record<string, unknown>> {
  probe(options: O): Promise<ProbeResult>;
  open(model: LoadedModel | undefined, options: O): Promise<RunnerSession>;
}

import type { z } from 'zod';
import type { DtypeName } from '../model/precision.ts';
import type { Runner } from './types.ts';

/**
 * What a runner is, declared once, in the runner's own folder (`runners/<name>/manifest.ts`), and
 * collected in one list (`runners/index.ts`). The core reads nothing else about a runner type: the
 * suite schema validates options with `options`, the executor gives the model to `needsModel`
 * runners and a teacher-forced pass to `canTeacherForce` ones, `detbench serve` drives only `serve`
 * runners, and `load()` imports the implementation (onnxruntime, puppeteer) only when a cell needs it.
 */
export interface RunnerManifest<T extends string = string, S extends RunnerOptionSchema = RunnerOptionSchema> {
  /** The `type:` a suite writes. */
  readonly type: T;
  /** The options a suite may write for it: a strict zod object, snake_case keys, defaults applied. */
  readonly options: S;
  /**
   * Runs the suite's ONNX model: it receives the loaded model, its steps can be captured
   * (`--capture`), and the suite's `model:` is required for it.
   */
  readonly needsModel: boolean;
  /** Can be fed the reference's tokens: every non-reference runner of this type gets a `/tf` pass. */
  readonly canTeacherForce: boolean;
  /** `detbench serve` may drive it (its sessions expose `decodeModel`). */
  readonly serve: boolean;
  /** Which file of the model folder its options choose (only read for `needsModel` runners). */
  modelChoice(options: z.output<S>): ModelChoice;
  /** CPU threads one session keeps busy (`--jobs auto`); `'all'` takes every core. */
  threads(options: z.output<S>): number | 'all';
  /** Imports the implementation. */
  load(): Promise<Runner<z.output<S>>>;
}

/** A runner's option schema. */
export type RunnerOptionSchema = z.ZodObject;

/** The runner options that choose a model file. */
export interface ModelChoice {
  precision?: DtypeName;
  model_file?: string;
}

/**
 * The runners a program offers, and the module that exports them as `RUNNERS`: a `--jobs` worker
 * process imports that module to get the same list (a list of functions cannot be sent to it).
 */
export interface RunnerList<M extends RunnerManifest = RunnerManifest> {
  readonly module: string;
  readonly manifests: readonly M[];
}

/**
 * One configured runner of a suite (a matrix entry expands to several), its options parsed by its
 * manifest's schema. Over a list of manifests this is a union discriminated by `type`, in which
 * `options` keeps its runner's type.
 */
export type RunnerConfig<M extends RunnerManifest = RunnerManifest> =
  M extends RunnerManifest<infer T, infer S>
    ? {
        id: string;
        type: T;
        options: z.output<S>;
        manifest: M;
        repetitions: number;
        /** Prompt ids this runner runs; undefined: all of them. */
        prompts?: string[];
        /** Batch sizes this runner runs; undefined: the suite's. */
        batchSizes?: number[];
      }
    : never;

/** Declares a runner; the identity, there so that `options` types the functions beside it. */
export function defineRunner<T extends string, S extends RunnerOptionSchema>(manifest: RunnerManifest<T, S>): RunnerManifest<T, S> {
  return manifest;
}

/** The types of a list, in its order. */
export function runnerTypes(list: RunnerList): string[] {
  return list.manifests.map((m) => m.type);
}

/** The manifest of a type, or undefined. */
export function findRunner<M extends RunnerManifest>(list: RunnerList<M>, type: string): M | undefined {
  return list.manifests.find((m) => m.type === type);
}

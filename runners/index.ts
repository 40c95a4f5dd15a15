/**
 * Every runner detbench ships, in one list: the CLI and the library API hand it to the core
 * (`loadSuite`, `runSuite`, `openEngine`), which imports no runner itself. Each entry is the
 * manifest in the runner's own folder; importing this module loads only zod schemas, never a
 * runtime (onnxruntime, puppeteer): `load()` does that when a cell needs it.
 */
import type { z } from 'zod';
import type { RunnerConfig, RunnerList } from '../src/runner-contract/manifest.ts';
import { browserWasm, browserWebgpu } from './browser/manifest.ts';
import { markov } from './markov/manifest.ts';
import { nodeCpu } from './node-cpu/manifest.ts';
import { nodeCuda } from './node-cuda/manifest.ts';
import { nodeWebgpu } from './node-webgpu/manifest.ts';
import { remoteApi } from './remote-api/manifest.ts';

const MANIFESTS = [nodeCpu, nodeCuda, nodeWebgpu, browserWasm, browserWebgpu, remoteApi, markov] as const;

/** One of the shipped manifests. */
export type ShippedManifest = (typeof MANIFESTS)[number];

/** The shipped runners. */
export const RUNNERS: RunnerList<ShippedManifest> = { module: import.meta.url, manifests: MANIFESTS };

/** A shipped runner type. */
export type RunnerType = ShippedManifest['type'];

/** Parsed (defaults applied) options of each shipped runner type. */
export type RunnerOptionMap = { [M in ShippedManifest as M['type']]: z.output<M['options']> };

/** A configured shipped runner: a union over `type`, `options` typed per type. */
export type ShippedRunnerConfig = RunnerConfig<ShippedManifest>;

/** The manifest of a shipped runner type. */
export function manifestOf<T extends RunnerType>(type: T): Extract<ShippedManifest, { type: T }> {
  const m = MANIFESTS.find((x): x is Extract<ShippedManifest, { type: T }> => x.type === type);
  if (!m) throw new Error(`no runner of type ${type}`);
  return m;
}

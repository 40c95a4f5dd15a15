import type { RunnerType } from './options.ts';
import type { RunnerFactory } from './types.ts';

/**
 * Every runner, by type. Factories import lazily, so a suite that uses only node-cpu never loads
 * puppeteer or the CUDA provider.
 */
export const RUNNERS = {
  'node-cpu': async () => (await import('../../runners/node-cpu/runner.ts')).nodeCpuRunner,
  'node-cuda': async () => (await import('../../runners/node-cuda/runner.ts')).nodeCudaRunner,
  'node-webgpu': async () => (await import('../../runners/node-webgpu/runner.ts')).nodeWebgpuRunner,
  'browser-wasm': async () => (await import('../../runners/browser/runner.ts')).browserWasmRunner,
  'browser-webgpu': async () => (await import('../../runners/browser/runner.ts')).browserWebgpuRunner,
  'remote-api': async () => (await import('../../runners/remote-api/runner.ts')).remoteApiRunner,
  markov: async () => (await import('../../runners/markov/runner.ts')).markovRunner,
} satisfies { [K in RunnerType]: RunnerFactory<K> };

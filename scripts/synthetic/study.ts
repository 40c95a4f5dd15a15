/** The synthetic study's suite, settings, runners and machines (see `scripts/make-synthetic-results.ts`). */
import { createHash } from 'node:crypto';
import type { Sampling } from '../../src/decode/sampling.ts';
import type { RecordCommon } from '../../src/results/record.ts';
import type { RecordRunnerType } from '../../src/results/schema.ts';

/** Candidates recorded per step. */
export const TOP_K = 10;
// No suite file exists; the hash stands for one (any fixed 64 hex digits would do).
export const SUITE = { id: 'synthetic', file: 'suites/synthetic.yaml', hash: createHash('sha256').update('synthetic').digest('hex') };
export const SETTINGS: { id: string; sampling: Sampling }[] = [
  { id: 'greedy', sampling: { kind: 'greedy' } },
  { id: 't0.7-k50-p0.9-s1', sampling: { kind: 'sample', temperature: 0.7, topK: 50, topP: 0.9, seed: 1 } },
];

export interface RunnerSpec {
  id: string;
  type: RecordRunnerType;
  profile: string;
  /** Amplitude of the runner's logit noise against the reference kernel (0: bitwise equal). */
  eps: number;
  /** Noise differs between repetitions (atomics, dynamic batching). */
  perRepetition: boolean;
  remote?: boolean;
  teacherForced?: boolean;
  ttftMs: number;
  tokensPerSecond: number;
  sessionMs: number;
  provider: string;
}

export const RUNNERS: RunnerSpec[] = [
  { id: 'node-cpu', type: 'node-cpu', profile: 'laptop-m2', eps: 0, perRepetition: false, ttftMs: 95, tokensPerSecond: 38, sessionMs: 850, provider: 'cpu' },
  {
    id: 'browser-wasm',
    type: 'browser-wasm',
    profile: 'laptop-m2',
    eps: 0,
    perRepetition: false,
    teacherForced: true,
    ttftMs: 180,
    tokensPerSecond: 21,
    sessionMs: 2400,
    provider: 'wasm',
  },
  {
    id: 'browser-webgpu',
    type: 'browser-webgpu',
    profile: 'laptop-m2',
    eps: 4e-3,
    perRepetition: false,
    teacherForced: true,
    ttftMs: 60,
    tokensPerSecond: 74,
    sessionMs: 3900,
    provider: 'webgpu',
  },
  {
    id: 'remote-api',
    type: 'remote-api',
    profile: 'laptop-m2',
    eps: 3e-2,
    perRepetition: true,
    remote: true,
    ttftMs: 320,
    tokensPerSecond: 95,
    sessionMs: 40,
    provider: 'remote',
  },
  {
    id: 'node-cpu',
    type: 'node-cpu',
    profile: 'server-a100',
    eps: 2e-5,
    perRepetition: false,
    ttftMs: 70,
    tokensPerSecond: 52,
    sessionMs: 610,
    provider: 'cpu',
  },
  {
    id: 'node-cuda',
    type: 'node-cuda',
    profile: 'server-a100',
    eps: 3e-4,
    perRepetition: true,
    teacherForced: true,
    ttftMs: 22,
    tokensPerSecond: 160,
    sessionMs: 1700,
    provider: 'cuda',
  },
];

export const FINGERPRINTS: Record<string, RecordCommon['profile']['fingerprint']> = {
  'laptop-m2': { cpuModel: 'Apple M2', cpuCores: 8, os: 'darwin 23.4.0', arch: 'arm64', memoryGiB: 16, node: '20.19.0', browser: 'Chromium 131' },
  'server-a100': {
    cpuModel: 'AMD EPYC 7763',
    cpuCores: 64,
    os: 'linux 6.8.0',
    arch: 'x64',
    memoryGiB: 512,
    node: '20.19.0',
    gpu: 'NVIDIA A100-SXM4-80GB',
    driver: '550.54',
    cuda: '12.4',
  },
};

export const WORDS = [
  ' the',
  ' model',
  ' is',
  ' a',
  ' of',
  ' to',
  ' and',
  ' in',
  ' that',
  ' it',
  ',',
  '.',
  '\n',
  ' token',
  ' logits',
  ' GPU',
  ' same',
  ' output',
  ' run',
  ' <',
  '>',
  ' &',
  ' "',
  "'s",
  ' float',
  ' sum',
  ' order',
  ' differs',
  ' kernel',
  ' cache',
  ' batch',
  ' x',
  ' =',
  ' 0',
  '1',
  '2',
  ' (',
  ')',
  ' Paris',
  ' capital',
  ' France',
  ' answer',
  ':',
  ' -',
  ' not',
  ' bit',
  ' equal',
  ' seed',
  ' when',
  ' we',
  '\n\n',
  ' 👍',
  ' é',
  ' café',
];

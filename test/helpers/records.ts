import type { CompletedRecord } from '../../src/results/record.ts';

/** What {@link completedRecord} varies. Each step's top-2 is [token, token + 1] with logits [10, 9]. */
export interface RecordSpec {
  suite?: string;
  prompt?: string;
  runner?: string;
  repetition?: number;
  tokens: number[];
  mode?: 'free' | 'teacher-forced';
  referenceRunner?: string;
}

/** A small, valid completed record (greedy, batch 1, one machine). */
export function completedRecord(s: RecordSpec): CompletedRecord {
  const suite = s.suite ?? 's';
  const prompt = s.prompt ?? 'p';
  const runner = s.runner ?? 'a';
  const rep = s.repetition ?? 0;
  const mode = s.mode ?? 'free';
  const tf = mode === 'teacher-forced';
  const id = (r: string) => `${suite}/${prompt}/greedy/${r}/b1/r${rep}`;
  return {
    schemaVersion: 2,
    id: id(runner) + (tf ? '/tf' : ''),
    suite: { id: suite, file: `${suite}.yaml` },
    prompt: { id: prompt, text: 'Hello' },
    setting: { id: 'greedy', sampling: { kind: 'greedy' }, maxNewTokens: s.tokens.length },
    runner: { id: runner, type: 'node-cpu', options: {} },
    repetition: rep,
    batchSize: 1,
    mode,
    ...(tf ? { referenceId: id(s.referenceRunner ?? 'ref') } : {}),
    model: null,
    tool: { detbench: '0', onnxruntime: null, node: '20' },
    profile: { id: 'm', fingerprint: { cpuModel: 'x', cpuCores: 2, os: 'linux', arch: 'x64', memoryGiB: 8, node: '20' } },
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:00:01Z',
    status: 'completed',
    provider: { requested: 'cpu', effective: 'cpu' },
    environment: {},
    promptTokens: [0],
    tokens: s.tokens,
    tokenTexts: s.tokens.map((t) => `t${t}`),
    text: s.tokens.map((t) => `t${t}`).join(''),
    steps: {
      token: s.tokens,
      ...(tf ? { forced: s.tokens } : {}),
      topIds: s.tokens.map((t) => [t, t + 1]),
      topLogits: s.tokens.map(() => [10, 9]),
      topLogprobs: s.tokens.map(() => [-0.3132616875182228, -1.3132616875182228]),
      margin: s.tokens.map(() => 1),
      hash: s.tokens.map((t, i) => `${t.toString(16).padStart(8, '0')}${i.toString(16).padStart(8, '0')}`),
    },
    finishReason: 'length',
    timings: { ttftMs: 1, stepMs: s.tokens.map(() => 1), tokensPerSecond: 100, totalMs: 1, sessionMs: 1 },
    batch: { size: 1, index: 0 },
  };
}

// The per-step micro-benchmark shared by Node (scripts/bench-step.ts) and the Chromium page
// (scripts/bench-step-page.ts): one row's summary and one sampled step against an argmax, at the
// vocabularies of real models, on rows shaped like a model's (peaked head, long tail) and on noise.
import { Bench } from 'tinybench';
import { greedyToken } from '../src/decode/argmax-kernel.ts';
import { argmax, dexpSum, hashFloat32, Mt19937, type SampleSettings, sampleToken, summarizeRow } from '../src/decode/index.ts';
import { hashFloat32Reference } from '../src/decode/row-hash.ts';
import { stepKernel } from '../src/decode/step-kernel.ts';
import { summarizeRowReference } from '../src/decode/summary-reference.ts';
import { realisticRow } from './realistic-logits.ts';

export const VOCABS = [4096, 32000, 128256, 151936, 262144];

/** What each task does to one row. */
const SETTINGS: Record<string, SampleSettings> = {
  'sample T=1': { kind: 'sample', temperature: 1, topK: 0, topP: 1, seed: 1 },
  'sample top-p 0.9': { kind: 'sample', temperature: 1, topK: 0, topP: 0.9, seed: 1 },
  'sample top-k 40 T=0.8': { kind: 'sample', temperature: 0.8, topK: 40, topP: 1, seed: 1 },
  'sample top-k 50 top-p 0.95 T=0.7': { kind: 'sample', temperature: 0.7, topK: 50, topP: 0.95, seed: 1 },
};

export interface StepBenchRow {
  vocab: number;
  rows: 'model-like' | 'noise';
  task: string;
  usPerRow: number;
  nsPerLogit: number;
  /** The task's time over argmax's on the same row, in this run. */
  vsArgmax: number;
}

/** Normal noise (sd 1) with no head: the top-p prefix then spans most of the vocabulary (the worst case). */
function noiseRow(vocab: number, seed: number): Float32Array {
  const rng = new Mt19937(seed);
  const row = new Float32Array(vocab);
  for (let i = 0; i < vocab; i++) row[i] = (rng.random() + rng.random() + rng.random() + rng.random() - 2) * 1.7320508075688772;
  return row;
}

/** Runs every task at every vocabulary for about `msPerTask` each; medians of tinybench's samples. */
export async function runStepBench(msPerTask = 200, vocabs = VOCABS): Promise<StepBenchRow[]> {
  const kernel = stepKernel();
  if (!kernel) throw new Error('bench:step measures the WebAssembly SIMD kernel, which is unavailable here');
  const out: StepBenchRow[] = [];
  for (const vocab of vocabs) {
    for (const kind of ['model-like', 'noise'] as const) {
      const row = kind === 'model-like' ? realisticRow(vocab, vocab) : noiseRow(vocab, vocab);
      const rng = new Mt19937(7);
      const top = row[argmax(row)]!;
      let sink = 0;
      const tasks: Record<string, () => void> = {
        argmax: () => {
          sink += argmax(row);
        },
        'argmax, kernel (greedy steps)': () => {
          sink += greedyToken(row);
        },
        'summary (top-10, logprobs, margin, hash)': () => {
          sink += summarizeRow(row, 10).ids[0]!;
        },
        'summary, TypeScript reference': () => {
          sink += summarizeRowReference(row, 10).ids[0]!;
        },
        // The summary's log-sum-exp (and hash) pass alone, with the row's copy into the kernel, and the TypeScript log-sum-exp.
        'log-sum-exp and hash, kernel': () => {
          kernel.put(row);
          sink += kernel.sumDexp(top);
        },
        'hash alone, kernel': () => {
          sink += hashFloat32(row).length;
        },
        'hash alone, TypeScript reference': () => {
          sink += hashFloat32Reference(row).length;
        },
        'log-sum-exp, TypeScript reference': () => {
          sink += dexpSum(row, top);
        },
      };
      for (const [name, s] of Object.entries(SETTINGS)) {
        // On noise only the settings whose cost depends on the shape of the row.
        if (kind === 'noise' && s.topP === 1 && s.topK === 0) continue;
        tasks[name] = () => {
          sink += sampleToken(row, s, rng);
        };
      }
      // Several rows per sample at small vocabularies: a browser's clock ticks every 5 µs or more.
      const inner = Math.max(1, Math.round(131072 / vocab));
      const bench = new Bench({ time: msPerTask, warmupTime: Math.min(50, msPerTask / 4) });
      for (const [name, fn] of Object.entries(tasks)) {
        bench.add(name, () => {
          for (let r = 0; r < inner; r++) fn();
        });
      }
      await bench.run();
      const ms: Record<string, number> = {};
      for (const t of bench.tasks) {
        const r = t.result as { latency?: { p50?: number; mean?: number }; error?: unknown; state?: string } | undefined;
        const m = r?.latency?.p50 ?? r?.latency?.mean;
        if (m === undefined) throw new Error(`${t.name} at ${vocab}: no latency (${String(r?.error ?? r?.state ?? 'no result')})`);
        ms[t.name] = m / inner;
      }
      for (const [task, m] of Object.entries(ms)) {
        out.push({ vocab, rows: kind, task, usPerRow: m * 1000, nsPerLogit: (m * 1e6) / vocab, vsArgmax: m / ms.argmax! });
      }
      if (sink === 0.5) console.log('unreachable');
    }
  }
  return out;
}

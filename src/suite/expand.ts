import type { Sampling } from '../decode/sampling.ts';
import type { RunnerConfig } from '../runner-contract/manifest.ts';
import type { LoadedSuite } from './load.ts';

export type { RunnerConfig } from '../runner-contract/manifest.ts';

/** One decoding setting of the grid. */
export interface Setting {
  id: string;
  sampling: Sampling;
}

/** One unit of work: a prompt, a setting, a runner, a batch size and a repetition. */
export interface Cell {
  id: string;
  promptId: string;
  settingId: string;
  runnerId: string;
  batchSize: number;
  repetition: number;
}

/** The decoding grid: greedy (if asked) plus every temperature × top_k × top_p × seed. */
export function expandSettings(suite: LoadedSuite): Setting[] {
  const d = suite.decoding;
  const out: Setting[] = [];
  const hasGreedy = d.greedy || d.temperature.includes(0);
  if (hasGreedy) out.push({ id: 'greedy', sampling: { kind: 'greedy' } });
  for (const temperature of d.temperature) {
    if (temperature === 0) continue;
    for (const topK of d.top_k)
      for (const topP of d.top_p)
        for (const seed of d.seed) {
          out.push({
            id: `t${temperature}-k${topK}-p${topP}-s${seed}`,
            sampling: { kind: 'sample', temperature, topK, topP, seed },
          });
        }
  }
  return out;
}

/** Runner configurations with matrix entries expanded and options parsed (defaults applied). */
export function expandRunners(suite: LoadedSuite): RunnerConfig[] {
  const out: RunnerConfig[] = [];
  for (const entry of suite.runners) {
    const keys = Object.keys(entry.matrix ?? {});
    let combos: Record<string, unknown>[] = [{}];
    for (const key of keys) {
      combos = combos.flatMap((c) => entry.matrix![key]!.map((v) => ({ ...c, [key]: v })));
    }
    for (const combo of combos) {
      const suffix = keys.map((k) => `${k}=${String(combo[k])}`).join(',');
      out.push({
        id: suffix ? `${entry.id}[${suffix}]` : entry.id,
        type: entry.type,
        options: entry.manifest.options.parse({ ...entry.options, ...combo }),
        manifest: entry.manifest,
        repetitions: entry.repetitions ?? suite.repetitions,
        ...(entry.prompts ? { prompts: entry.prompts } : {}),
        ...(entry.batch_sizes ? { batchSizes: entry.batch_sizes } : {}),
      });
    }
  }
  return out;
}

/** The id a record of this cell carries; `--resume` matches on it. */
export function cellId(suiteId: string, c: Omit<Cell, 'id'>, mode: 'free' | 'teacher-forced' = 'free'): string {
  const base = `${suiteId}/${c.promptId}/${c.settingId}/${c.runnerId}/b${c.batchSize}/r${c.repetition}`;
  return mode === 'free' ? base : `${base}/tf`;
}

/** Every free-running cell of the suite, runner-major so that one session serves all of a runner's cells. */
export function expandCells(suite: LoadedSuite, runners: RunnerConfig[], settings: Setting[]): Cell[] {
  const cells: Cell[] = [];
  for (const runner of runners)
    for (const batchSize of runner.batchSizes ?? suite.batch_sizes)
      for (const setting of settings)
        for (let repetition = 0; repetition < runner.repetitions; repetition++)
          for (const prompt of suite.resolvedPrompts) {
            if (runner.prompts && !runner.prompts.includes(prompt.id)) continue;
            const c = { promptId: prompt.id, settingId: setting.id, runnerId: runner.id, batchSize, repetition };
            cells.push({ ...c, id: cellId(suite.id, c) });
          }
  return cells;
}

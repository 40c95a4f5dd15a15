import { DetbenchError } from '../errors.ts';
import type { LoadedSuite } from './load.ts';

/** The default of `detbench run --max-cells`: more cells than this is taken for a mistake in the grid. */
export const DEFAULT_MAX_CELLS = 100_000;

/** How many cells a run of the suite plans, counted from the suite alone (nothing is expanded). */
export interface CellCount {
  prompts: number;
  settings: number;
  batchSizes: number;
  /** Runner configurations of the whole suite (a matrix entry counts each combination). */
  runnerConfigs: number;
  /** Σ repetitions over the runner configurations that run: one free pass each. */
  freePasses: number;
  /** Σ repetitions over the selected non-reference local runners (when teacher forcing is on). */
  forcedPasses: number;
  /** prompts × settings × batch sizes × (free + teacher-forced passes). */
  cells: number;
}

/**
 * Counts the cells a run plans: prompts × settings × batch sizes × Σ repetitions over the runner
 * configurations, plus the teacher-forced pass of every non-reference runner that can be teacher-forced. Pure
 * arithmetic over the suite, so that an absurd grid is refused before anything is built.
 * `onlyRunners` is `--runner`: an entry id selects all its combinations, `id[k=v,...]` one.
 */
export function countCells(suite: LoadedSuite, onlyRunners?: readonly string[]): CellCount {
  const d = suite.decoding;
  const sampled = d.temperature.filter((t) => t !== 0).length;
  const settings = (d.greedy || d.temperature.includes(0) ? 1 : 0) + sampled * d.top_k.length * d.top_p.length * d.seed.length;
  const combos = suite.runners.map((e) => Object.values(e.matrix ?? {}).reduce((n, values) => n * values.length, 1));
  const runnerConfigs = combos.reduce((a, b) => a + b, 0);
  const referenceEntry = suite.reference ?? suite.runners[0]!.id;
  const teacher = suite.teacher_forcing && runnerConfigs > 1;

  let freePasses = 0;
  let forcedPasses = 0;
  suite.runners.forEach((entry, i) => {
    const all = combos[i]!;
    const matrix = entry.matrix ?? {};
    // The reference is the entry's first combination, as the executor picks it.
    const refId = Object.keys(matrix).length
      ? `${entry.id}[${Object.entries(matrix)
          .map(([k, v]) => `${k}=${String(v[0])}`)
          .join(',')}]`
      : entry.id;
    let selected = all;
    let referenceSelected = entry.id === referenceEntry;
    if (onlyRunners?.length && !onlyRunners.includes(entry.id)) {
      const picked = new Set(onlyRunners.filter((n) => n.startsWith(`${entry.id}[`)));
      selected = Math.min(all, picked.size);
      referenceSelected &&= picked.has(refId);
    }
    const reps = entry.repetitions ?? suite.repetitions;
    freePasses += selected * reps;
    if (teacher && entry.manifest.canTeacherForce) forcedPasses += (selected - (referenceSelected ? 1 : 0)) * reps;
  });
  const prompts = suite.resolvedPrompts.length;
  const batchSizes = suite.batch_sizes.length;
  const cells = prompts * settings * batchSizes * (freePasses + forcedPasses);
  return { prompts, settings, batchSizes, runnerConfigs, freePasses, forcedPasses, cells };
}

/**
 * Refuses a suite that plans more than `maxCells` cells (or whose runner matrix alone expands to
 * more configurations), with the count and how it is made up, before any cell is built: a grid of
 * millions of cells would run the heap out long before its first record.
 */
export function checkCellCount(suite: LoadedSuite, count: CellCount, maxCells: number): void {
  const n = (x: number) => x.toLocaleString('en-US');
  const plural = (x: number, word: string) => `${n(x)} ${word}${x === 1 ? '' : 's'}`;
  const raise = '; expected a smaller grid, or raise the limit with --max-cells <n>';
  const file = suite.at([]).file;
  if (count.runnerConfigs > maxCells) {
    throw new DetbenchError(
      'SUITE_TOO_LARGE',
      `${file}: runners: the runner matrices expand to ${n(count.runnerConfigs)} runner configurations, more than the limit of ${n(maxCells)} cells${raise}`,
      { file, field: 'runners' },
    );
  }
  if (count.cells > maxCells) {
    const passes = count.forcedPasses
      ? `(${n(count.freePasses)} free + ${n(count.forcedPasses)} teacher-forced runner repetitions)`
      : plural(count.freePasses, 'runner repetition');
    throw new DetbenchError(
      'SUITE_TOO_LARGE',
      `${file}: the suite plans ${n(count.cells)} cells (${plural(count.prompts, 'prompt')} × ${plural(count.settings, 'setting')} × ${plural(count.batchSizes, 'batch size')} × ${passes}), more than the limit of ${n(maxCells)}${raise}`,
      { file },
    );
  }
}

/**
 * What a run runs, decided from the suite and the records already written alone: no model, no
 * session, no file. The executor (`execute.ts`) only carries the plan out, so every rule here
 * (runner selection, the reference first, teacher-forced passes, resume, shards and jobs) is
 * tested without a model (`test/run-plan.test.ts`).
 */
import { DetbenchError } from '../errors.ts';
import { type Cell, cellId, expandCells, expandRunners, expandSettings, type RunnerConfig, type Setting } from '../suite/expand.ts';
import type { LoadedSuite } from '../suite/load.ts';
import { inShard, type Shard } from './shard.ts';

/** The runners of a run: every one of the suite (matrix expanded), those selected, which one is the reference. */
export interface RunnerSelection {
  /** Every runner configuration of the suite, in suite order. */
  all: RunnerConfig[];
  /** The runners this run uses (`--runner`), the reference first: teacher forcing feeds its tokens to the others. */
  selected: RunnerConfig[];
  /** The id of the reference runner configuration (the suite's `reference`, else its first runner; a matrix entry's first combination). */
  referenceId: string;
}

/** Whether a suite's runner id names this expanded runner: itself, or one of its matrix entries (`id[k=v]`). */
function namesRunner(name: string, expandedId: string): boolean {
  return expandedId === name || expandedId.startsWith(`${name}[`);
}

/**
 * The runners a run uses. `onlyRunners` is `--runner`: an entry id selects all its combinations,
 * `id[k=v,...]` one; a name that matches none is refused (UNKNOWN_RUNNER).
 */
export function selectRunners(suite: LoadedSuite, onlyRunners?: readonly string[]): RunnerSelection {
  const all = expandRunners(suite);
  let selected = [...all];
  if (onlyRunners?.length) {
    const unknown = onlyRunners.filter((id) => !all.some((r) => namesRunner(id, r.id)));
    if (unknown.length) {
      throw new DetbenchError(
        'UNKNOWN_RUNNER',
        `--runner ${unknown.join(', ')}: no such runner in ${suite.at([]).file} (has ${all.map((r) => r.id).join(', ')})`,
      );
    }
    selected = all.filter((r) => onlyRunners.some((id) => namesRunner(id, r.id)));
  }
  const refName = suite.reference ?? all[0]!.id;
  const referenceId = all.find((r) => namesRunner(refName, r.id))!.id;
  selected.sort((a, b) => Number(b.id === referenceId) - Number(a.id === referenceId));
  return { all, selected, referenceId };
}

/** What narrows a run down: `--runner`, `--shard`, and the job of a `--jobs` worker. */
export interface PlanFilters {
  onlyRunners?: readonly string[];
  shard?: Shard;
  /** In a `--jobs` worker: its slice of the shard's units. */
  job?: Shard;
}

/** One runner's work: the cells it still has to run, free-running and teacher-forced. */
export interface RunnerWork {
  runner: RunnerConfig;
  free: Cell[];
  /** Cells whose teacher-forced pass (`<id>/tf`) is still to run, fed the reference's tokens of the same prompt, setting, batch size and repetition. */
  forced: Cell[];
}

/** A run, planned. */
export interface RunPlan extends RunnerSelection {
  settings: Setting[];
  /** Prompt × setting units: what shards and jobs split. */
  units: number;
  /** Records the shard (the whole run without one) plans, teacher-forced passes included, done or not: every record's `shard.planned`. */
  planned: number;
  /** Records this process plans (with `job`, its part only), done or not: the progress total. */
  total: number;
  /** Each selected runner with work left, in run order (the reference first). */
  work: RunnerWork[];
}

/**
 * The prompt × setting units of the suite, which shards split; refuses a shard count above them
 * (SHARD_INVALID): an empty shard would write no record, so nothing could tell it from a missing one.
 */
export function checkShardFits(suite: LoadedSuite, shard: Shard | undefined): number {
  const units = suite.resolvedPrompts.length * expandSettings(suite).length;
  if (shard && shard.count > units) {
    throw new DetbenchError(
      'SHARD_INVALID',
      `--shard ${shard.index}/${shard.count}: ${suite.file} has ${units} prompt × setting unit(s), so at most ${units} shard(s)`,
    );
  }
  return units;
}

/**
 * Plans a run: which cells of which runners still need a record. `finished` holds the ids of the
 * records already there that count as done (with `--resume`, every one but an errored one); those
 * cells are not run again. A teacher-forced pass goes to every selected runner but the reference
 * whose manifest can be teacher-forced, when the suite asks for teacher forcing and has more than
 * one runner configuration. Refuses a shard count above the units ({@link checkShardFits}).
 */
export function planRun(suite: LoadedSuite, finished: ReadonlySet<string>, filters: PlanFilters = {}): RunPlan {
  const selection = selectRunners(suite, filters.onlyRunners);
  const settings = expandSettings(suite);
  const promptIds = suite.resolvedPrompts.map((p) => p.id);
  const settingIds = settings.map((s) => s.id);
  const { shard, job } = filters;
  const units = checkShardFits(suite, shard);
  const teacher = suite.teacher_forcing && selection.all.length > 1;
  const forcedOf = (r: RunnerConfig) => teacher && r.id !== selection.referenceId && r.manifest.canTeacherForce;
  const cellsOf = (slice?: Shard) => {
    const keep = shard || slice ? inShard(shard, promptIds, settingIds, slice) : () => true;
    return expandCells(suite, selection.selected, settings).filter(keep);
  };
  const count = (cells: Cell[]) => cells.length + cells.filter((c) => forcedOf(selection.selected.find((r) => r.id === c.runnerId)!)).length;

  const shardCells = cellsOf();
  const cells = job ? cellsOf(job) : shardCells;
  const work: RunnerWork[] = [];
  for (const runner of selection.selected) {
    const mine = cells.filter((c) => c.runnerId === runner.id);
    const free = mine.filter((c) => !finished.has(c.id));
    const forced = forcedOf(runner) ? mine.filter((c) => !finished.has(cellId(suite.id, c, 'teacher-forced'))) : [];
    if (free.length || forced.length) work.push({ runner, free, forced });
  }
  return { ...selection, settings, units, planned: count(shardCells), total: count(cells), work };
}

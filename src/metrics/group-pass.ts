import type { CompletedRecord, ResultRecord } from '../results/record.ts';
import { type CompletionCounts, countCompletions, exactMatchRate } from './agreement.ts';
import { CompletionKeys } from './completion-keys.ts';
import { groupPairs } from './group-pairs.ts';
import { groupKey } from './groups.ts';
import type { RunnerTally } from './runner-tally.ts';
import { sequenceBasis } from './sequence.ts';
import type { GroupMetrics, RunnerGroupMetrics } from './types.ts';

interface Group {
  sample: ResultRecord;
  byRunner: Map<string, ResultRecord[]>;
}

/** What {@link GroupPass.finish} needs besides the records. */
export interface GroupContext {
  /** The reference runner key per suite id. */
  references: Record<string, string>;
  /** Each group's position in the study (see `MetricsPlan.groupOrder`). */
  order: (group: string) => number;
  /** Receives each runner's completion counts per group (its exact-match rate and TARr). */
  tally: Pick<RunnerTally, 'addGroup'>;
  nearTie?: number | undefined;
}

/** The comparison groups with their metrics, and the completion counts of each group that two or more runners completed, by group key. */
export interface GroupResult {
  groups: GroupMetrics[];
  across: Map<string, CompletionCounts>;
}

/**
 * The comparison-group pass over one unit of records (or all of them): free-running records sharing
 * a {@link groupKey} (same suite, prompt, setting and batch size) should give the same completion.
 * Groups are listed in the order of their first record, runners within a group likewise, each
 * runner's records by repetition. Every record of a group must be in the same pass.
 */
export class GroupPass {
  readonly #groups = new Map<string, Group>();

  constructor(private readonly keyOf: (r: ResultRecord) => string) {}

  /** Adds one record (latest of its key); teacher-forced records belong to no group and are passed over. */
  add(r: ResultRecord): void {
    if (r.mode === 'teacher-forced') return;
    const k = groupKey(r);
    let g = this.#groups.get(k);
    if (!g) {
      g = { sample: r, byRunner: new Map() };
      this.#groups.set(k, g);
    }
    const rk = this.keyOf(r);
    const list = g.byRunner.get(rk);
    if (list) list.push(r);
    else g.byRunner.set(rk, [r]);
  }

  finish(ctx: GroupContext): GroupResult {
    const keys = new CompletionKeys();
    const groups: GroupMetrics[] = [];
    const across = new Map<string, CompletionCounts>();
    for (const [key, g] of this.#groups) {
      const order = ctx.order(key);
      const reference = ctx.references[g.sample.suite.id] ?? null;
      const runners: RunnerGroupMetrics[] = [];
      const completedBy = new Map<string, CompletedRecord[]>();
      for (const [rk, list] of g.byRunner) {
        const done = list.filter((r): r is CompletedRecord => r.status === 'completed').sort((x, y) => x.repetition - y.repetition);
        completedBy.set(rk, done);
        const counts = countCompletions(keys.of(done, sequenceBasis(done)));
        ctx.tally.addGroup(rk, counts, order);
        runners.push({
          runner: rk,
          completed: done.length,
          errored: list.filter((r) => r.status === 'errored').length,
          skipped: list.filter((r) => r.status === 'skipped').length,
          uniqueCompletions: counts.unique,
          modalCount: counts.modalCount,
          exactMatchRate: exactMatchRate(counts),
          allIdentical: counts.total >= 2 ? counts.unique === 1 : null,
        });
      }
      const all = [...completedBy.values()].flat();
      const groupCounts = countCompletions(keys.of(all, sequenceBasis(all)));
      const runnersDone = [...completedBy.values()].filter((l) => l.length > 0).length;
      if (runnersDone >= 2) across.set(key, groupCounts);
      groups.push({
        key,
        suiteId: g.sample.suite.id,
        promptId: g.sample.prompt.id,
        settingId: g.sample.setting.id,
        batchSize: g.sample.batchSize,
        reference,
        runners,
        uniqueCompletions: groupCounts.unique,
        allRunnersIdentical: runnersDone >= 2 ? groupCounts.unique === 1 : null,
        pairs: groupPairs(key, completedBy, reference, ctx.nearTie),
      });
    }
    return { groups, across };
  }
}

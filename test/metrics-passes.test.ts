import { describe, expect, it } from 'vitest';
import { countCompletions } from '../src/metrics/agreement.ts';
import { CompletionKeys } from '../src/metrics/completion-keys.ts';
import { groupPairs } from '../src/metrics/group-pairs.ts';
import { GroupPass } from '../src/metrics/group-pass.ts';
import { RecordCounts } from '../src/metrics/record-counts.ts';
import { RunnerTally } from '../src/metrics/runner-tally.ts';
import { completionKey } from '../src/metrics/sequence.ts';
import { TeacherPass } from '../src/metrics/teacher-pass.ts';
import type { CompletedRecord, ResultRecord } from '../src/results/record.ts';
import { completedRecord, type RecordSpec } from './helpers/records.ts';

// Each pass of computeMetrics on its own: records in with add(), its part of the summary out of finish().

const keyOf = (r: { runner: { id: string } }) => r.runner.id;
const done = (s: RecordSpec) => completedRecord(s);
function failed(runner: string, repetition: number, status: 'errored' | 'skipped'): ResultRecord {
  const { status: _s, ...base } = completedRecord({ runner, repetition, tokens: [1] });
  void _s;
  return status === 'errored'
    ? ({ ...base, status: 'errored', error: { code: 'OOM', message: 'out of memory' } } as ResultRecord)
    : ({ ...base, status: 'skipped', reason: 'no WebGPU adapter' } as ResultRecord);
}

describe('RunnerTally', () => {
  it('counts records, problems and providers per runner, runners in the order of their first record', () => {
    const tally = new RunnerTally(keyOf);
    const records = [
      failed('b', 0, 'skipped'),
      done({ runner: 'a', tokens: [1, 2] }),
      failed('a', 1, 'errored'),
      failed('a', 2, 'errored'),
      failed('a', 3, 'skipped'),
      done({ runner: 'a', tokens: [1, 2], mode: 'teacher-forced' }),
    ];
    for (const r of records) tally.add(r);
    for (const r of records) tally.addTimings(r);
    const [b, a] = tally.finish();
    expect([b!.runner, a!.runner]).toEqual(['b', 'a']);
    expect(a!.records).toEqual({ completed: 2, errored: 2, skipped: 1, teacherForced: 1 });
    expect(a!.problems).toEqual([
      { status: 'errored', reason: 'OOM', count: 2 },
      { status: 'skipped', reason: 'no WebGPU adapter', count: 1 },
    ]);
    expect(a!.providers).toEqual(['cpu']);
    expect(a!.profileIds).toEqual(['m']);
    // Only free-running records have a time to first token and a rate; every completed one has a session time.
    expect(a!.timings).toEqual({ medianTtftMs: 1, medianTokensPerSecond: 100, medianSessionMs: 1 });
    expect(b!.records).toEqual({ completed: 0, errored: 0, skipped: 1, teacherForced: 0 });
    expect(b!.exactMatchRate).toBeNull();
  });

  it("pools agreement over the group counts it is given, in the groups' order", () => {
    const tally = new RunnerTally(keyOf);
    tally.add(done({ runner: 'a', tokens: [1] }));
    tally.addGroup('a', countCompletions(['z', 'z']), 7);
    tally.addGroup('a', countCompletions(['x', 'x', 'y', 'x']), 2);
    const [a] = tally.finish();
    expect(a!.exactMatchRate).toBe(5 / 6);
    expect(a!.uniqueCompletions).toEqual({ mean: 1.5, max: 2 });
    expect(a!.tarr.agreeing).toBe(1);
    expect(a!.tarr.groups).toBe(2);
    expect(() => tally.addGroup('nobody', countCompletions(['x']), 0)).toThrow('metrics: group counts for runner nobody, which has no records');
  });
});

describe('RecordCounts', () => {
  it('counts records by status, teacher-forced ones and the superseded number it was given', () => {
    const counts = new RecordCounts(3);
    for (const r of [done({ tokens: [1] }), done({ tokens: [1], mode: 'teacher-forced' }), failed('a', 1, 'errored'), failed('a', 2, 'skipped')]) counts.add(r);
    expect(counts.finish()).toEqual({ records: 4, completed: 2, errored: 1, skipped: 1, teacherForced: 1, superseded: 3 });
  });
});

describe('GroupPass', () => {
  it('groups free-running records in the order of their first record, each runner by repetition, and passes teacher-forced ones over', () => {
    const pass = new GroupPass(keyOf);
    const given: { runner: string; counts: unknown; order: number }[] = [];
    for (const r of [
      done({ prompt: 'p2', runner: 'a', repetition: 1, tokens: [1, 9] }),
      done({ prompt: 'p1', runner: 'a', tokens: [1, 2] }),
      done({ prompt: 'p2', runner: 'b', repetition: 0, tokens: [1, 2] }),
      done({ prompt: 'p2', runner: 'a', repetition: 0, tokens: [1, 2] }),
      done({ prompt: 'p2', runner: 'b', tokens: [1, 2], mode: 'teacher-forced', referenceRunner: 'a' }),
    ]) {
      pass.add(r);
    }
    const order = (group: string) => (group === 's/p2/greedy/b1' ? 4 : 9);
    const { groups, across } = pass.finish({
      references: { s: 'a' },
      order,
      tally: { addGroup: (runner, counts, at) => given.push({ runner, counts, order: at }) },
    });
    expect(groups.map((g) => g.key)).toEqual(['s/p2/greedy/b1', 's/p1/greedy/b1']);
    const p2 = groups[0]!;
    expect(p2.runners.map((r) => [r.runner, r.completed, r.uniqueCompletions])).toEqual([
      ['a', 2, 2],
      ['b', 1, 1],
    ]);
    expect(p2.uniqueCompletions).toBe(2);
    expect(p2.allRunnersIdentical).toBe(false);
    // Repetition 1 of a against its repetition 0 (sorted, though added first); b against a's repetition 0.
    expect(p2.pairs.map((p) => [p.relation, p.a.runner, p.a.repetition, p.b.runner, p.b.repetition, p.outcome])).toEqual([
      ['repetition', 'a', 0, 'a', 1, 'diverged'],
      ['cross-runner', 'a', 0, 'b', 0, 'identical'],
    ]);
    expect(groups[1]!.allRunnersIdentical).toBeNull();
    expect([...across]).toEqual([['s/p2/greedy/b1', { unique: 2, modalCount: 2, total: 3 }]]);
    expect(given).toEqual([
      { runner: 'a', counts: { unique: 2, modalCount: 1, total: 2 }, order: 4 },
      { runner: 'b', counts: { unique: 1, modalCount: 1, total: 1 }, order: 4 },
      { runner: 'a', counts: { unique: 1, modalCount: 1, total: 1 }, order: 9 },
    ]);
  });
});

describe('groupPairs', () => {
  const by = (entries: [string, CompletedRecord[]][]) => new Map(entries);
  const a0 = done({ runner: 'a', repetition: 0, tokens: [1, 2] });
  const b0 = done({ runner: 'b', repetition: 0, tokens: [1, 2] });
  const b1 = done({ runner: 'b', repetition: 1, tokens: [1, 3] });

  it('compares only repetitions when the group has no reference', () => {
    const pairs = groupPairs('g', by([['b', [b0, b1]]]), null);
    expect(pairs.map((p) => [p.relation, p.a.repetition, p.b.repetition])).toEqual([['repetition', 0, 1]]);
  });

  it("falls back to the reference's first record for a repetition the reference lacks, and passes the near-tie margin on", () => {
    const pairs = groupPairs(
      'g',
      by([
        ['a', [a0]],
        ['b', [b0, b1]],
      ]),
      'a',
      1,
    );
    expect(pairs.map((p) => [p.relation, `${p.a.runner}${p.a.repetition}`, `${p.b.runner}${p.b.repetition}`])).toEqual([
      ['repetition', 'b0', 'b1'],
      ['cross-runner', 'a0', 'b0'],
      ['cross-runner', 'a0', 'b1'],
    ]);
    expect(pairs.every((p) => p.group === 'g')).toBe(true);
    // The records' margins are 1: a near tie at margin 1, not at the default 0.05.
    const tie = (p: (typeof pairs)[number]) => (p.outcome === 'diverged' ? p.divergence.nearTie : null);
    expect(pairs.map(tie)).toEqual([true, null, true]);
    expect(groupPairs('g', by([['b', [b0, b1]]]), null).map(tie)).toEqual([false]);
  });
});

describe('TeacherPass', () => {
  const tf = done({ runner: 'b', tokens: [1, 2], mode: 'teacher-forced', referenceRunner: 'a' });
  const ref = done({ runner: 'a', tokens: [1, 2] });
  const tf2 = done({ prompt: 'q', runner: 'b', tokens: [1, 3], mode: 'teacher-forced', referenceRunner: 'a' });
  const ref2 = done({ prompt: 'q', runner: 'a', tokens: [1, 2] });

  it('compares each teacher-forced record with the reference the plan names, in read order whatever the order of the units, restoring both', () => {
    const restored: string[] = [];
    const pass = new TeacherPass({
      keyOf,
      tfReference: new Map([
        [5, 2],
        [1, 0],
      ]),
      restore: (r) => {
        restored.push(r.id);
        return r;
      },
    });
    pass.addUnit([ref, failed('a', 1, 'errored'), tf], [2, 3, 5]);
    pass.addUnit([ref2, tf2], [0, 1]);
    const out = pass.finish(4);
    expect(out.unmatched).toBe(4);
    expect(out.records.map((t) => [t.recordId, t.referenceId, t.runner, t.reference, t.steps, t.agreeSteps])).toEqual([
      [tf2.id, ref2.id, 'b', 'a', 2, 1],
      [tf.id, ref.id, 'b', 'a', 2, 2],
    ]);
    expect(out.byPair.map((p) => [p.reference, p.runner, p.records, p.steps, p.top1Agreement])).toEqual([['a', 'b', 2, 4, 0.75]]);
    expect(restored).toEqual([tf.id, ref.id, tf2.id, ref2.id]);
  });

  it('refuses a unit without the reference of one of its records', () => {
    const pass = new TeacherPass({ keyOf, tfReference: new Map([[1, 0]]), restore: (r) => r });
    expect(() => pass.addUnit([tf], [1])).toThrow(`metrics: the reference of ${tf.id} is not in its unit`);
  });
});

describe('CompletionKeys', () => {
  it('gives the completion keys of the basis asked for', () => {
    const keys = new CompletionKeys();
    const rs = [done({ tokens: [1, 2] }), done({ tokens: [3] })];
    expect(keys.of(rs, 'ids')).toEqual(['1,2', '3']);
    expect(keys.of(rs, 'ids')).toEqual(rs.map((r) => completionKey(r, 'ids')));
    expect(keys.of(rs, 'texts')).toEqual(['["t1","t2"]', '["t3"]']);
  });
});

// planRun decides what a run runs from the suite and the records already there alone: these plans
// are computed without a model, a session or a file, and compared whole.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUNNERS } from '../runners/index.ts';
import { type PlanFilters, planRun, type RunPlan } from '../src/run/plan.ts';
import { loadSuite } from '../src/suite/load.ts';
import { detbenchError } from './helpers/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'detbench-plan-'));

/** A suite of two prompts, two settings, one repetition: node-cpu in two thread counts, the markov control, a remote API. */
function suite(extra: string[] = [], name = 'plan.yaml') {
  const file = join(dir, name);
  writeFileSync(
    file,
    [
      'id: plan',
      // No such folder: nothing here loads a model.
      'model: ./no-model-here',
      'prompts:',
      '  - { id: a, text: A }',
      '  - { id: b, text: B }',
      'decoding: { greedy: true, temperature: [0.7], seed: [1] }',
      'repetitions: 1',
      'runners:',
      '  - { id: cpu, type: node-cpu, matrix: { intra_op_threads: [1, 2] } }',
      '  - { id: m, type: markov }',
      '  - { id: api, type: remote-api, options: { base_url: "http://127.0.0.1:9/v1", model: x } }',
      ...extra,
    ].join('\n'),
  );
  return loadSuite(file, RUNNERS);
}

const CPU1 = 'cpu[intra_op_threads=1]';
const CPU2 = 'cpu[intra_op_threads=2]';
const T = 't0.7-k0-p1-s1';
/** Cell ids of a runner, in the order cells are planned: setting, then repetition, then prompt. */
const ids = (runner: string, units: [string, string][], tf = false) => units.map(([p, s]) => `plan/${p}/${s}/${runner}/b1/r0${tf ? '/tf' : ''}`);
const ALL: [string, string][] = [
  ['a', 'greedy'],
  ['b', 'greedy'],
  ['a', T],
  ['b', T],
];

/** The plan as ids: what runs, in which order, and the counts. */
function shape(plan: RunPlan) {
  return {
    referenceId: plan.referenceId,
    selected: plan.selected.map((r) => r.id),
    units: plan.units,
    planned: plan.planned,
    total: plan.total,
    work: plan.work.map((w) => ({ runner: w.runner.id, free: w.free.map((c) => c.id), forced: w.forced.map((c) => `${c.id}/tf`) })),
  };
}

const plan = (s = suite(), finished: string[] = [], filters: PlanFilters = {}) => shape(planRun(s, new Set(finished), filters));

describe('planRun', () => {
  it('plans every cell, the reference first, a teacher-forced pass for each other runner that can be fed tokens', () => {
    expect(plan()).toEqual({
      referenceId: CPU1,
      selected: [CPU1, CPU2, 'm', 'api'],
      units: 4,
      // 4 runners × 4 cells, and cpu[2]'s teacher-forced pass: markov and the remote API cannot be teacher-forced.
      planned: 20,
      total: 20,
      work: [
        { runner: CPU1, free: ids(CPU1, ALL), forced: [] },
        { runner: CPU2, free: ids(CPU2, ALL), forced: ids(CPU2, ALL, true) },
        { runner: 'm', free: ids('m', ALL), forced: [] },
        { runner: 'api', free: ids('api', ALL), forced: [] },
      ],
    });
  });

  it('runs the reference first wherever it is listed, and teacher-forces every other runner that can be', () => {
    const p = plan(suite(['reference: m'], 'ref.yaml'));
    expect(p.selected).toEqual(['m', CPU1, CPU2, 'api']);
    expect(p.work.map((w) => [w.runner, w.forced.length])).toEqual([
      ['m', 0],
      [CPU1, 4],
      [CPU2, 4],
      ['api', 0],
    ]);
    expect(p.planned).toBe(24);
  });

  it('plans no teacher-forced pass when the suite turns it off', () => {
    const p = plan(suite(['teacher_forcing: false'], 'no-tf.yaml'));
    expect(p.work.flatMap((w) => w.forced)).toEqual([]);
    expect(p.planned).toBe(16);
  });

  it('--runner: an entry id selects its combinations, id[k=v] one; the reference keeps its place for teacher forcing', () => {
    expect(plan(suite(), [], { onlyRunners: ['m', CPU2] })).toEqual({
      referenceId: CPU1,
      selected: [CPU2, 'm'],
      units: 4,
      planned: 12,
      total: 12,
      work: [
        { runner: CPU2, free: ids(CPU2, ALL), forced: ids(CPU2, ALL, true) },
        { runner: 'm', free: ids('m', ALL), forced: [] },
      ],
    });
    expect(plan(suite(), [], { onlyRunners: ['cpu'] }).selected).toEqual([CPU1, CPU2]);
    const err = detbenchError(() => plan(suite(), [], { onlyRunners: ['gpu'] }));
    expect(err.code).toBe('UNKNOWN_RUNNER');
    expect(err.message).toBe(`--runner gpu: no such runner in ${join(dir, 'plan.yaml')} (has ${CPU1}, ${CPU2}, m, api)`);
  });

  it('--resume: cells with a record that counts are left out; the counts stay those of the whole plan', () => {
    const done = [...ids(CPU1, ALL), ...ids(CPU2, ALL.slice(0, 2)), ids(CPU2, ALL, true)[3]!, ...ids('api', ALL)];
    expect(plan(suite(), done)).toEqual({
      referenceId: CPU1,
      selected: [CPU1, CPU2, 'm', 'api'],
      units: 4,
      planned: 20,
      total: 20,
      work: [
        { runner: CPU2, free: ids(CPU2, ALL.slice(2)), forced: ids(CPU2, ALL.slice(0, 3), true) },
        { runner: 'm', free: ids('m', ALL), forced: [] },
      ],
    });
  });

  it('--shard 1/2: prompt × setting units round-robin in prompt-major order; every runner and pass of a unit stays together', () => {
    const greedy = ALL.filter(([, s]) => s === 'greedy');
    expect(plan(suite(), [], { shard: { index: 1, count: 2 } })).toEqual({
      referenceId: CPU1,
      selected: [CPU1, CPU2, 'm', 'api'],
      units: 4,
      planned: 10,
      total: 10,
      work: [
        { runner: CPU1, free: ids(CPU1, greedy), forced: [] },
        { runner: CPU2, free: ids(CPU2, greedy), forced: ids(CPU2, greedy, true) },
        { runner: 'm', free: ids('m', greedy), forced: [] },
        { runner: 'api', free: ids('api', greedy), forced: [] },
      ],
    });
    expect(plan(suite(), [], { shard: { index: 2, count: 2 } }).work[0]!.free).toEqual(
      ids(CPU1, [
        ['a', T],
        ['b', T],
      ]),
    );
  });

  it('a --jobs worker plans its job of the shard; the shard plan it records stays the whole shard', () => {
    const p = plan(suite(), [], { shard: { index: 1, count: 2 }, job: { index: 2, count: 2 } });
    expect(p.planned).toBe(10);
    expect(p.total).toBe(5);
    expect(p.work.map((w) => [w.runner, w.free, w.forced])).toEqual([
      [CPU1, ids(CPU1, [['b', 'greedy']]), []],
      [CPU2, ids(CPU2, [['b', 'greedy']]), ids(CPU2, [['b', 'greedy']], true)],
      ['m', ids('m', [['b', 'greedy']]), []],
      ['api', ids('api', [['b', 'greedy']]), []],
    ]);
  });

  it('refuses more shards than units: an empty shard could not be told from a missing one', () => {
    const err = detbenchError(() => plan(suite(), [], { shard: { index: 5, count: 5 } }));
    expect(err.code).toBe('SHARD_INVALID');
    expect(err.message).toBe(`--shard 5/5: ${join(dir, 'plan.yaml')} has 4 prompt × setting unit(s), so at most 4 shard(s)`);
  });
});

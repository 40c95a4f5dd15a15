import type { ResultRecord } from '../results/record.ts';
import { OWN_MODEL_TYPES } from '../results/schema.ts';

/**
 * The key of a comparison group: records that share it should produce the same output. Runners
 * with a model of their own (the markov control) form groups of their own, marked `/<type>`.
 */
export function groupKey(r: Pick<ResultRecord, 'suite' | 'prompt' | 'setting' | 'batchSize'> & { runner?: { type: string } }): string {
  const own = r.runner && OWN_MODEL_TYPES.has(r.runner.type) ? `/${r.runner.type}` : '';
  return `${r.suite.id}/${r.prompt.id}/${r.setting.id}/b${r.batchSize}${own}`;
}

/** What names a record's runner. */
export interface RunnerNamed {
  runner: { id: string; type: string };
  profile: { id: string };
}

/**
 * Names each record's runner: its runner id, or `id@profile` when that runner id appears with more
 * than one hardware profile, so that results merged from several machines compare machine with machine.
 */
export function runnerKeys(records: readonly RunnerNamed[]): (r: RunnerNamed) => string {
  const profiles = new Map<string, Set<string>>();
  for (const r of records) {
    let s = profiles.get(r.runner.id);
    if (!s) {
      s = new Set();
      profiles.set(r.runner.id, s);
    }
    s.add(r.profile.id);
  }
  const split = new Set([...profiles].filter(([, s]) => s.size > 1).map(([id]) => id));
  return (r) => (split.has(r.runner.id) ? `${r.runner.id}@${r.profile.id}` : r.runner.id);
}

/**
 * The reference runner key of each suite: `explicit` where the suite has that runner (matched by key,
 * then by runner id), else the first runner seen in the suite's records.
 */
export function pickReferences(
  records: readonly (RunnerNamed & { suite: { id: string } })[],
  keyOf: (r: RunnerNamed) => string,
  explicit: string | undefined,
  warn: (m: string) => void,
): Record<string, string> {
  const seen = new Map<string, string[]>();
  for (const r of records) {
    let keys = seen.get(r.suite.id);
    if (!keys) {
      keys = [];
      seen.set(r.suite.id, keys);
    }
    const k = keyOf(r);
    if (!keys.includes(k)) keys.push(k);
  }
  const out: Record<string, string> = {};
  for (const [suite, keys] of seen) {
    let pick = keys[0]!;
    if (explicit !== undefined) {
      const match = keys.find((k) => k === explicit) ?? keys.find((k) => k === explicit || k.startsWith(`${explicit}@`));
      if (match) pick = match;
      else warn(`reference ${explicit}: suite ${suite} has no such runner; using ${pick}`);
    }
    out[suite] = pick;
  }
  return out;
}

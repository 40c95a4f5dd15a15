import type { RecordHead } from '../results/heads.ts';
import { latestRecords } from '../results/read.ts';
import { recordKey } from '../results/record.ts';
import { groupKey, pickReferences, type RunnerNamed, runnerKeys } from './groups.ts';

/**
 * What the metrics need to know about the whole study before they compare any two records, all of
 * it from the records' heads (see `src/results/heads.ts`): which record of a key counts, the
 * runner keys and references, and the units of records that are compared with one another. The
 * metrics then see one unit at a time ({@link MetricsAccumulator}), so a study's records need
 * never be in memory together.
 */
export interface MetricsPlan {
  /** The latest record of each profile and id, in read order (their positions name them below). */
  heads: readonly RecordHead[];
  superseded: number;
  /** Warnings about the whole study, in the order the metrics report them. */
  warnings: string[];
  keyOf: (r: RunnerNamed) => string;
  references: Record<string, string>;
  /**
   * Head positions of the records compared with one another: one suite and prompt (its groups,
   * the batch and seed contrasts, the teacher-forced passes of its references), each unit in read
   * order, units in the order of their first record.
   */
  units: number[][];
  /** Each comparison group's position in the summary: the read position of its first free-running record. */
  groupOrder: Map<string, number>;
  /** Teacher-forced record → its reference record (head positions). */
  tfReference: Map<number, number>;
  /** Teacher-forced records whose reference record is not among the results. */
  unmatched: number;
}

/** Options of {@link planMetrics}. */
export interface PlanOptions {
  /** Reference runner (key or id); default: each suite's first runner seen. */
  reference?: string;
}

/** Plans the metrics of `all` (heads or whole records, in read order; superseded ones included). */
export function planMetrics(all: readonly RecordHead[], opts: PlanOptions = {}): MetricsPlan {
  const warnings: string[] = [];
  const { records: heads, superseded } = latestRecords(all);
  const versions = new Set(heads.map((r) => r.schemaVersion));
  if (versions.has(1) && versions.size > 1) {
    warnings.push(
      'records of schemaVersion 1 are compared with later ones: version 1 sampled with another algorithm (README, "Sampling"), so sampled tokens can differ for that alone',
    );
  }
  if (superseded) {
    warnings.push(`${superseded} record(s) superseded by a later record of the same profile and id (a resumed retry, or a file read twice): the latest counts`);
  }
  const keyOf = runnerKeys(heads);
  const free = heads.filter((r) => r.mode !== 'teacher-forced');
  const references = pickReferences(free.length ? free : heads, keyOf, opts.reference, (m) => warnings.push(m));

  const groupOrder = new Map<string, number>();
  const byId = new Map<string, number>();
  const byProfileId = new Map<string, number>();
  heads.forEach((r, i) => {
    if (r.mode === 'teacher-forced') return;
    const g = groupKey(r);
    if (!groupOrder.has(g)) groupOrder.set(g, i);
    if (r.status !== 'completed') return;
    if (!byId.has(r.id)) byId.set(r.id, i);
    byProfileId.set(recordKey(r), i);
  });

  const tfReference = new Map<number, number>();
  let unmatched = 0;
  const unitOf = (r: RecordHead) => `${r.suite.id}\u0000${r.prompt.id}`;
  const units = new Map<string, number[]>();
  const join = (key: string, i: number) => {
    const u = units.get(key);
    if (u) u.push(i);
    else units.set(key, [i]);
  };
  heads.forEach((r, i) => {
    if (r.status === 'completed' && r.mode === 'teacher-forced') {
      const ref = r.referenceId ? (byProfileId.get(recordKey({ id: r.referenceId, profile: r.profile })) ?? byId.get(r.referenceId)) : undefined;
      if (ref === undefined) unmatched++;
      else {
        tfReference.set(i, ref);
        // A pass travels with its reference, whatever prompt its own id names.
        join(unitOf(heads[ref]!), i);
        return;
      }
    }
    join(unitOf(r), i);
  });
  const list = [...units.values()].map((u) => u.sort((a, b) => a - b)).sort((a, b) => a[0]! - b[0]!);
  return { heads, superseded, warnings, keyOf, references, units: list, groupOrder, tfReference, unmatched };
}

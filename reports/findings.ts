import { type Interval, wilson } from '../src/metrics/interval.ts';
import { median } from '../src/metrics/stats.ts';
import type { MetricsSummary, PairComparison } from '../src/metrics/types.ts';
import type { RecordHead } from '../src/results/heads.ts';
import { OWN_MODEL_TYPES } from '../src/results/schema.ts';
import type { DiffCase, Finding, FindingKind } from './data.ts';

/**
 * The findings the page opens with: one per cause the results can speak to, each a set of counts
 * taken from the metrics (the page words them, in the reader's language). Generated, never
 * written by hand: a finding exists only where its pairs were compared.
 */

/** The order findings are told in: the same thing twice, then one change at a time, then the control. */
const ORDER: FindingKind[] = [
  'repeat',
  'threads',
  'wasm',
  'webgpu',
  'cuda',
  'remote',
  'backend',
  'options',
  'precision',
  'batch',
  'seed',
  'control',
  'teacher',
];

interface RunnerInfo {
  type: string;
  options: Record<string, unknown>;
}

/** What differs between the reference runner and another: a cause kind and the changed options. */
export function causeOf(ref: RunnerInfo, other: RunnerInfo): { kind: FindingKind; change: string | null } {
  const keys = [...new Set([...Object.keys(ref.options), ...Object.keys(other.options)])].sort();
  const changed = keys.filter((k) => JSON.stringify(ref.options[k]) !== JSON.stringify(other.options[k]));
  const change = changed.length ? changed.map((k) => `${k} ${String(ref.options[k] ?? '—')} → ${String(other.options[k] ?? '—')}`).join(', ') : null;
  if (ref.type !== other.type) {
    const byType: Record<string, FindingKind> = {
      'browser-wasm': 'wasm',
      'browser-webgpu': 'webgpu',
      'node-webgpu': 'webgpu',
      'node-cuda': 'cuda',
      'remote-api': 'remote',
    };
    // Only options both runner types have can be said to change with the backend (precision, ...).
    const shared = changed.filter((k) => k in ref.options && k in other.options);
    const also = shared.map((k) => `${k} ${String(ref.options[k])} → ${String(other.options[k])}`).join(', ');
    return { kind: byType[other.type] ?? 'backend', change: also || null };
  }
  if (changed.length === 1 && changed[0] === 'precision') return { kind: 'precision', change };
  if (changed.length === 1 && /threads$/.test(changed[0]!)) return { kind: 'threads', change };
  return { kind: 'options', change };
}

/** The page's [lo, hi] form of an interval. */
const tuple = (ci: Interval | null): [number, number] | null => (ci ? [ci.lo, ci.hi] : null);

/** Pools pair comparisons into one finding's counts. */
function pool(kind: FindingKind, pairs: PairComparison[], reference: string | null, change: string | null): Finding {
  const diverged = pairs.filter((p): p is Extract<PairComparison, { outcome: 'diverged' }> => p.outcome === 'diverged');
  const equal = pairs.reduce((s, p) => s + p.bitwise.equal, 0);
  const compared = pairs.reduce((s, p) => s + p.bitwise.compared, 0);
  const maxes = pairs.map((p) => p.logits.max).filter((x): x is number => x !== null);
  return {
    kind,
    runners: [...new Set(pairs.map((p) => p.b.runner))],
    reference,
    change,
    pairs: pairs.length,
    identical: pairs.length - diverged.length,
    changed: diverged.length,
    medianFirst: median(diverged.map((p) => p.firstDivergence)),
    nearTies: diverged.filter((p) => p.divergence.nearTie).length,
    bitwise: { equal, compared, share: compared ? equal / compared : null },
    maxDiff: maxes.length ? Math.max(...maxes) : null,
    interval: tuple(wilson(diverged.length, pairs.length)),
    teacher: null,
    link: { section: 'divergence', diff: null },
  };
}

/**
 * A runner's options as they took effect: a precision left unset was chosen at load (the folder's
 * default, fp32 or transformers.js_config.dtype), and the record's model says which.
 */
function effectiveOptions(r: RecordHead): Record<string, unknown> {
  const options = r.runner.options as Record<string, unknown>;
  const dtype = r.model?.dtype;
  return options.precision === undefined && dtype ? { ...options, precision: dtype } : options;
}

/** Builds the findings from the metrics, the records' runner settings and the diff cases shown. */
export function buildFindings(records: readonly RecordHead[], m: MetricsSummary, keyOf: (r: RecordHead) => string, diffs: readonly DiffCase[]): Finding[] {
  const info = new Map<string, RunnerInfo>();
  for (const r of records) if (!info.has(keyOf(r))) info.set(keyOf(r), { type: r.runner.type, options: effectiveOptions(r) });
  const isControl = (runner: string) => OWN_MODEL_TYPES.has(info.get(runner)?.type ?? '');
  const pairs = m.groups.flatMap((g) => g.pairs);
  const out: Finding[] = [];
  const add = (f: Finding | null) => {
    if (f && f.pairs > 0) out.push(f);
  };

  const refs = new Set(Object.values(m.references));
  // The same runner twice: the reference first; each control runner is told on its own.
  for (const ref of refs)
    add(
      pool(
        'repeat',
        pairs.filter((p) => p.relation === 'repetition' && p.b.runner === ref),
        ref,
        null,
      ),
    );

  // One change at a time against the reference, per runner.
  const cross = new Map<string, PairComparison[]>();
  for (const p of pairs) {
    if (p.relation !== 'cross-runner') continue;
    const k = `${p.a.runner}\u0000${p.b.runner}`;
    cross.set(k, [...(cross.get(k) ?? []), p]);
  }
  for (const list of cross.values()) {
    const { a, b } = { a: list[0]!.a.runner, b: list[0]!.b.runner };
    const ra = info.get(a);
    const rb = info.get(b);
    if (!ra || !rb) continue;
    const { kind, change } = causeOf(ra, rb);
    add(pool(kind, list, a, change));
  }

  const nonControl = (p: PairComparison) => !isControl(p.b.runner);
  const batchSizes = [...new Set(pairs.filter((p) => p.relation === 'batch').map((p) => m.groups.find((g) => g.key === p.group)?.batchSize ?? 0))];
  add(
    pool(
      'batch',
      pairs.filter((p) => p.relation === 'batch' && nonControl(p)),
      null,
      batchSizes.length ? `batch ${batchSizes.join(', ')} vs 1` : null,
    ),
  );
  add(
    pool(
      'seed',
      pairs.filter((p) => p.relation === 'seed' && nonControl(p)),
      null,
      null,
    ),
  );
  for (const runner of new Set(pairs.filter((p) => isControl(p.b.runner)).map((p) => p.b.runner))) {
    add(
      pool(
        'control',
        pairs.filter((p) => p.b.runner === runner && (p.relation === 'repetition' || p.relation === 'batch')),
        null,
        null,
      ),
    );
  }

  // Teacher forcing: the pair whose best candidate agrees least with the reference token.
  const tf = [...m.teacherForced.byPair].filter((t) => t.argmaxAgreement !== null).sort((x, y) => x.argmaxAgreement! - y.argmaxAgreement!)[0];
  if (tf) {
    out.push({
      kind: 'teacher',
      runners: [tf.runner],
      reference: tf.reference,
      change: null,
      pairs: tf.records,
      identical: 0,
      changed: 0,
      medianFirst: null,
      nearTies: 0,
      bitwise: tf.bitwise,
      maxDiff: tf.maxDiff,
      interval: null,
      teacher: { steps: tf.steps, argmax: tf.argmaxAgreement, sampled: tf.top1Agreement },
      link: { section: 'teacher', diff: null },
    });
  }

  for (const f of out) {
    if (f.kind === 'teacher' || f.changed === 0) continue;
    const relation = f.kind === 'batch' ? 'batch' : f.kind === 'seed' ? 'seed' : f.kind === 'repeat' || f.kind === 'control' ? 'repetition' : 'cross-runner';
    const i = diffs.findIndex(
      (d) => d.relation === relation && f.runners.includes(d.b.runner) && (f.reference === null || relation !== 'cross-runner' || d.a.runner === f.reference),
    );
    if (i >= 0) f.link = { section: 'diff', diff: i };
  }
  return out.sort((x, y) => ORDER.indexOf(x.kind) - ORDER.indexOf(y.kind));
}

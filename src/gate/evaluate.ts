import type { Interval, Rate } from '../metrics/interval.ts';
import type { MetricsSummary } from '../metrics/types.ts';

/**
 * How a rate meets a minimum: its point estimate, or a bound of its 95% Wilson interval. `lower`
 * passes only when the rate is at least the threshold with 95% confidence (strict: few repetitions
 * cannot pass a threshold of 1); `upper` fails only when it is below with 95% confidence (lenient).
 */
export type RateBound = 'point' | 'lower' | 'upper';

/** Thresholds of the pass/fail gate. Unset ones are not checked. */
export interface GateCriteria {
  /** A divergence whose smaller margin exceeds this is a "hard" split, not rounding noise (default 0.05). */
  nearTie: number;
  /** Fail on any greedy cross-runner divergence above the near-tie margin (default true). */
  noHardDivergence: boolean;
  /** Minimum share of identical completions per cross-runner pair (e.g. 1 for bitwise-reproducible kernels). */
  minCrossExactMatch?: number;
  /** Minimum run-to-run exact-match rate of every runner (default 1: a runner must repeat itself). */
  minRepeatExactMatch?: number;
  /** Minimum teacher-forced top-1 agreement with the reference. */
  minTop1Agreement?: number;
  /** Maximum absolute logit difference before divergence / along teacher-forced sequences. */
  maxLogitDiff?: number;
  /** Fail when any record errored (default true); skipped records never fail the gate. */
  noErrors: boolean;
  /** Maximum mean teacher-forced KL(P_reference ‖ Q) in nats, per (reference, runner). */
  maxMeanKld?: number;
  /** Maximum 99th percentile of the per-step KL, per (reference, runner). */
  maxKldP99?: number;
  /** What the minimum-rate thresholds compare (default `point`). */
  rateBound?: RateBound;
}

export const DEFAULT_GATE: GateCriteria = { nearTie: 0.05, noHardDivergence: true, minRepeatExactMatch: 1, noErrors: true };

/** One line of the verdict. */
export interface GateCheck {
  check: string;
  subject: string;
  pass: boolean;
  detail: string;
  /** The value judged, when the check is on one number. */
  value?: number | null;
  /** A rate's 95% Wilson interval. */
  interval?: Interval | null;
}

export interface GateVerdict {
  pass: boolean;
  checks: GateCheck[];
}

const fmt = (x: number | null) => (x === null ? 'n/a' : Number.isInteger(x) ? String(x) : x.toPrecision(4));

/** The number a rate is judged by. */
function judged(r: Rate, bound: RateBound): number | null {
  if (bound === 'point' || r.ci === null) return r.rate;
  return bound === 'lower' ? r.ci.lo : r.ci.hi;
}

/** "0.9 [0.6–0.98] (9/10)": a rate with its interval. */
function rateText(r: Rate): string {
  return `${fmt(r.rate)} [${r.ci ? `${fmt(r.ci.lo)}–${fmt(r.ci.hi)}` : 'n/a'}] (${r.k}/${r.n})`;
}

function minRate(check: string, subject: string, r: Rate, min: number, bound: RateBound, extra = ''): GateCheck {
  const v = judged(r, bound);
  const by = bound === 'point' ? '' : ` (judged by the ${bound} bound of its 95% interval)`;
  return { check: `${check} ≥ ${min}${by}`, subject, pass: v !== null && v >= min, detail: rateText(r) + extra, value: v, interval: r.ci };
}

/**
 * Judges a metrics summary against the criteria: what a hardware vendor validating a kernel wants
 * as a CI gate. Every check is listed, passing or not, so the verdict explains itself.
 */
export function evaluateGate(m: MetricsSummary, c: GateCriteria): GateVerdict {
  const checks: GateCheck[] = [];
  const bound = c.rateBound ?? 'point';
  if (c.noErrors) {
    for (const r of m.runners) {
      const errored = r.records.errored;
      const reasons = r.problems.filter((p) => p.status === 'errored').map((p) => `${p.reason} ×${p.count}`);
      checks.push({ check: 'no errored records', subject: r.runner, pass: errored === 0, detail: errored ? reasons.join(', ') : '0 errored' });
    }
  }
  if (c.minRepeatExactMatch !== undefined) {
    for (const r of m.runners) {
      if (r.exactMatchRate === null) continue;
      checks.push(minRate('run-to-run exact match', r.runner, r.exactMatch, c.minRepeatExactMatch, bound, ` (TARr@${r.tarr.n ?? '-'} ${fmt(r.tarr.rate)})`));
    }
  }
  for (const p of m.pairs.filter((x) => x.relation === 'cross-runner')) {
    const subject = `${p.a} vs ${p.b}`;
    if (c.noHardDivergence) {
      // Only greedy splits can be judged by the margin: a sampled run also parts ways wherever the
      // draw falls near a boundary of the cumulative distribution, whatever the top-2 margin.
      const split = m.groups
        .flatMap((g) => g.pairs.map((x) => ({ x, greedy: g.settingId === 'greedy' })))
        .filter(({ x }) => x.relation === 'cross-runner' && x.a.runner === p.a && x.b.runner === p.b && x.outcome === 'diverged');
      const greedy = split.filter((s) => s.greedy).map((s) => s.x);
      const hard = greedy.filter((x) => x.outcome === 'diverged' && (x.divergence.minMargin === null || x.divergence.minMargin > c.nearTie));
      const first = hard[0];
      const sampled = split.length - greedy.length;
      checks.push({
        check: `no greedy divergence above a ${c.nearTie} logit margin`,
        subject,
        pass: hard.length === 0,
        detail:
          (first && first.outcome === 'diverged'
            ? `${hard.length} hard split(s); first: ${first.group} at token ${first.firstDivergence}, margin ${fmt(first.divergence.minMargin)}`
            : `${greedy.length} greedy divergence(s), all near-ties`) + (sampled ? `; ${sampled} sampled divergence(s) not judged by margin` : ''),
      });
    }
    if (c.minCrossExactMatch !== undefined) {
      checks.push(minRate('cross-runner exact match', subject, p.exactMatch, c.minCrossExactMatch, bound, ' identical'));
    }
    if (c.maxLogitDiff !== undefined && p.logitMaxDiff !== null) {
      checks.push({ check: `max logit diff ≤ ${c.maxLogitDiff}`, subject, pass: p.logitMaxDiff <= c.maxLogitDiff, detail: fmt(p.logitMaxDiff) });
    }
  }
  for (const t of m.teacherForced.byPair) {
    const subject = `${t.reference} vs ${t.runner} (teacher-forced)`;
    if (c.minTop1Agreement !== undefined) {
      checks.push(minRate('top-1 (argmax) agreement', subject, t.argmax, c.minTop1Agreement, bound, ' steps'));
    }
    const d = t.divergence;
    // A top-k KL is a lower bound: it can show a threshold exceeded, never met.
    const kl = (check: string, max: number, v: number | null) => {
      const exact = d.basis === 'full';
      const pass = v !== null && exact && v <= max;
      const why = v === null ? 'no steps' : exact ? fmt(v) : `${fmt(v)} is a top-k lower bound only (record with --capture for the exact value)`;
      checks.push({ check: `${check} ≤ ${max}`, subject, pass, detail: `${why} over ${d.steps} steps`, value: v });
    };
    if (c.maxMeanKld !== undefined) kl('mean KL divergence', c.maxMeanKld, d.kl.mean);
    if (c.maxKldP99 !== undefined) kl('99th-percentile KL divergence', c.maxKldP99, d.kl.percentiles?.p99 ?? null);
    if (c.maxLogitDiff !== undefined && t.maxDiff !== null) {
      checks.push({ check: `max logit diff ≤ ${c.maxLogitDiff}`, subject, pass: t.maxDiff <= c.maxLogitDiff, detail: fmt(t.maxDiff) });
    }
  }
  return { pass: checks.every((x) => x.pass), checks };
}

import type { MetricsSummary } from '../metrics/types.ts';

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
}

export const DEFAULT_GATE: GateCriteria = { nearTie: 0.05, noHardDivergence: true, minRepeatExactMatch: 1, noErrors: true };

/** One line of the verdict. */
export interface GateCheck {
  check: string;
  subject: string;
  pass: boolean;
  detail: string;
}

export interface GateVerdict {
  pass: boolean;
  checks: GateCheck[];
}

const fmt = (x: number | null) => (x === null ? 'n/a' : Number.isInteger(x) ? String(x) : x.toPrecision(4));

/**
 * Judges a metrics summary against the criteria: what a hardware vendor validating a kernel wants
 * as a CI gate. Every check is listed, passing or not, so the verdict explains itself.
 */
export function evaluateGate(m: MetricsSummary, c: GateCriteria): GateVerdict {
  const checks: GateCheck[] = [];
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
      checks.push({
        check: `run-to-run exact match ≥ ${c.minRepeatExactMatch}`,
        subject: r.runner,
        pass: r.exactMatchRate >= c.minRepeatExactMatch,
        detail: `${fmt(r.exactMatchRate)} (TARr@${r.tarr.n ?? '-'} ${fmt(r.tarr.rate)})`,
      });
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
      checks.push({
        check: `cross-runner exact match ≥ ${c.minCrossExactMatch}`,
        subject,
        pass: p.exactMatchRate !== null && p.exactMatchRate >= c.minCrossExactMatch,
        detail: `${p.identical}/${p.pairs} identical`,
      });
    }
    if (c.maxLogitDiff !== undefined && p.logitMaxDiff !== null) {
      checks.push({ check: `max logit diff ≤ ${c.maxLogitDiff}`, subject, pass: p.logitMaxDiff <= c.maxLogitDiff, detail: fmt(p.logitMaxDiff) });
    }
  }
  for (const t of m.teacherForced.byPair) {
    const subject = `${t.reference} vs ${t.runner} (teacher-forced)`;
    if (c.minTop1Agreement !== undefined) {
      checks.push({
        check: `top-1 agreement ≥ ${c.minTop1Agreement}`,
        subject,
        pass: t.top1Agreement !== null && t.top1Agreement >= c.minTop1Agreement,
        detail: `${fmt(t.top1Agreement)} over ${t.steps} steps`,
      });
    }
    if (c.maxLogitDiff !== undefined && t.maxDiff !== null) {
      checks.push({ check: `max logit diff ≤ ${c.maxLogitDiff}`, subject, pass: t.maxDiff <= c.maxLogitDiff, detail: fmt(t.maxDiff) });
    }
  }
  return { pass: checks.every((x) => x.pass), checks };
}

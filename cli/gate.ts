import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { DetbenchError } from '../src/errors.ts';
import { DEFAULT_GATE, evaluateGate, type GateCriteria, type RateBound } from '../src/gate/evaluate.ts';
import { rateTable } from '../src/metrics/index.ts';
import { streamMetrics } from '../src/results/stream-metrics.ts';

function rate(name: string) {
  return (v: string): number => {
    const x = Number(v);
    if (!Number.isFinite(x) || x < 0) throw new DetbenchError('USAGE', `${name}: expected a non-negative number, got "${v}"`);
    return x;
  };
}

/** `detbench gate <results...>`: pass/fail verdict for CI, exit 0 pass, 1 fail, 2 bad input. */
export function registerGate(program: Command): void {
  program
    .command('gate')
    .description('pass/fail verdict over results files, for CI (exit 0 pass, 1 fail)')
    .argument('<results...>', 'results JSONL files')
    .option('--reference <runner>', 'runner id the others are compared with (default: the suite reference)')
    .option('--near-tie <margin>', 'logit margin at or below which a split counts as rounding noise', rate('--near-tie'), DEFAULT_GATE.nearTie)
    .option('--allow-hard-divergence', 'do not fail on divergences above the near-tie margin')
    .option('--min-cross-exact <rate>', 'minimum share of completions identical to the reference, per runner', rate('--min-cross-exact'))
    .option('--min-repeat-exact <rate>', 'minimum run-to-run exact-match rate per runner', rate('--min-repeat-exact'), DEFAULT_GATE.minRepeatExactMatch)
    .option('--min-top1 <rate>', 'minimum teacher-forced top-1 agreement with the reference', rate('--min-top1'))
    .option('--max-logit-diff <x>', 'maximum absolute logit difference against the reference', rate('--max-logit-diff'))
    .option('--max-mean-kld <nats>', 'maximum mean teacher-forced KL divergence from the reference (needs runs with --capture)', rate('--max-mean-kld'))
    .option('--max-kld-p99 <nats>', 'maximum 99th-percentile per-step KL divergence from the reference (needs --capture)', rate('--max-kld-p99'))
    .option('--rate-bound <point|lower|upper>', 'judge minimum rates by their point value or a bound of their 95% Wilson interval', 'point')
    .option('--allow-errors', 'do not fail on errored records')
    .option('--json <file>', 'also write the verdict as JSON')
    .action(
      async (
        files: string[],
        o: {
          reference?: string;
          nearTie: number;
          allowHardDivergence?: boolean;
          minCrossExact?: number;
          minRepeatExact?: number;
          minTop1?: number;
          maxLogitDiff?: number;
          allowErrors?: boolean;
          json?: string;
          maxMeanKld?: number;
          maxKldP99?: number;
          rateBound: string;
        },
      ) => {
        if (!['point', 'lower', 'upper'].includes(o.rateBound))
          throw new DetbenchError('USAGE', `--rate-bound: expected point, lower or upper, got "${o.rateBound}"`);
        // Streamed unit by unit (heads first, then each unit's records), as the report reads them.
        const streamed = streamMetrics(files, {
          nearTie: o.nearTie,
          warn: (m) => process.stderr.write(`${m}\n`),
          ...(o.reference ? { reference: o.reference } : {}),
        });
        streamed.store.close();
        const metrics = streamed.metrics;
        const criteria: GateCriteria = {
          nearTie: o.nearTie,
          noHardDivergence: !o.allowHardDivergence,
          noErrors: !o.allowErrors,
          ...(o.minCrossExact !== undefined ? { minCrossExactMatch: o.minCrossExact } : {}),
          ...(o.minRepeatExact !== undefined ? { minRepeatExactMatch: o.minRepeatExact } : {}),
          ...(o.minTop1 !== undefined ? { minTop1Agreement: o.minTop1 } : {}),
          ...(o.maxLogitDiff !== undefined ? { maxLogitDiff: o.maxLogitDiff } : {}),
          ...(o.maxMeanKld !== undefined ? { maxMeanKld: o.maxMeanKld } : {}),
          ...(o.maxKldP99 !== undefined ? { maxKldP99: o.maxKldP99 } : {}),
          rateBound: o.rateBound as RateBound,
        };
        for (const w of metrics.warnings) process.stderr.write(`detbench gate: ${w}\n`);
        const verdict = evaluateGate(metrics, criteria);
        for (const c of verdict.checks) {
          process.stdout.write(`${c.pass ? 'PASS' : 'FAIL'}  ${c.subject}: ${c.check} — ${c.detail}\n`);
        }
        process.stdout.write(
          `detbench gate: ${verdict.pass ? 'PASS' : 'FAIL'} (${verdict.checks.filter((c) => !c.pass).length} of ${verdict.checks.length} checks failed)\n`,
        );
        if (o.json) {
          // Every rate with its 95% interval and the divergence statistics travel with the verdict.
          const statistics = {
            rates: rateTable(metrics),
            divergence: metrics.teacherForced.byPair.map((t) => ({ reference: t.reference, runner: t.runner, ...t.divergence })),
          };
          writeFileSync(o.json, JSON.stringify({ criteria, ...verdict, statistics }, null, 2));
        }
        if (!verdict.pass) process.exitCode = 1;
      },
    );
}

import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { DetbenchError } from '../errors.ts';
import { DEFAULT_GATE, evaluateGate, type GateCriteria } from '../gate/evaluate.ts';
import { computeMetrics } from '../metrics/index.ts';
import { readResults } from '../results/jsonl.ts';

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
        },
      ) => {
        const records = files.flatMap((f) => readResults(f, (m) => process.stderr.write(`${m}\n`)));
        const metrics = computeMetrics(records, { nearTie: o.nearTie, ...(o.reference ? { reference: o.reference } : {}) });
        const criteria: GateCriteria = {
          nearTie: o.nearTie,
          noHardDivergence: !o.allowHardDivergence,
          noErrors: !o.allowErrors,
          ...(o.minCrossExact !== undefined ? { minCrossExactMatch: o.minCrossExact } : {}),
          ...(o.minRepeatExact !== undefined ? { minRepeatExactMatch: o.minRepeatExact } : {}),
          ...(o.minTop1 !== undefined ? { minTop1Agreement: o.minTop1 } : {}),
          ...(o.maxLogitDiff !== undefined ? { maxLogitDiff: o.maxLogitDiff } : {}),
        };
        const verdict = evaluateGate(metrics, criteria);
        for (const c of verdict.checks) {
          process.stdout.write(`${c.pass ? 'PASS' : 'FAIL'}  ${c.subject}: ${c.check} — ${c.detail}\n`);
        }
        process.stdout.write(`detbench gate: ${verdict.pass ? 'PASS' : 'FAIL'} (${verdict.checks.filter((c) => !c.pass).length} of ${verdict.checks.length} checks failed)\n`);
        if (o.json) writeFileSync(o.json, JSON.stringify({ criteria, ...verdict }, null, 2));
        if (!verdict.pass) process.exitCode = 1;
      },
    );
}

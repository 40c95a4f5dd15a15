import { join } from 'node:path';
import type { Command } from 'commander';
import { RUNNERS } from '../runners/index.ts';
import { runProfile } from '../src/env/profile.ts';
import { DetbenchError } from '../src/errors.ts';
import { runSuite } from '../src/run/execute.ts';
import { parseJobs } from '../src/run/jobs.ts';
import { resolveShard } from '../src/run/shard.ts';
import { DEFAULT_MAX_CELLS } from '../src/suite/count.ts';
import { reportLang } from './report.ts';

/** `detbench run <suite>`: runs a suite into a results file, and optionally renders the report. */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a suite and append one JSONL record per cell')
    .argument('<suite>', 'suite YAML file')
    .option('-o, --out <dir>', 'output folder (results.jsonl goes there)', 'out/run')
    .option('--resume', 'keep the records already in the results file and run only what is missing or errored', false)
    .option('--fresh', 'move an existing results file aside (results.<time>.jsonl, kept) and start anew', false)
    .option('--runner <ids...>', 'run only these runner ids')
    .option('--report <dir>', 'also render the HTML report into this folder when the run ends')
    .option('--lang <lang>', 'language of that report: en or de', 'en')
    .option('--strict', 'exit 1 if any cell errored', false)
    .option(
      '--capture <encoding>',
      "also store every step's full logits next to the results (results.capture.bin), for exact KL divergence: f32 (lossless) or u16 (half the size)",
    )
    .option(
      '--max-cells <n>',
      `refuse a suite that plans more cells than this (prompts × settings × runners × batch sizes × repetitions, teacher-forced passes included); default ${DEFAULT_MAX_CELLS}`,
    )
    .option('--shard <i/n>', 'run only shard i of n (1-based); merge the shards with detbench merge')
    .option(
      '--shard-count <n>',
      "the shard count, with a scheduler index: a Kubernetes Indexed Job's JOB_COMPLETION_INDEX (0-based); Slurm arrays are read by themselves",
    )
    .option(
      '--jobs <n|auto>',
      "run the cells in n worker processes, each with its own sessions (auto: as many as the cores leave beside the runners' own threads)",
      '1',
    )
    .option(
      '--profile <id|file>',
      'hardware profile recorded in every record: an id in hardware-profiles/ or a YAML file (default: auto-<hash of the detected machine>)',
    )
    .action(
      async (
        suite: string,
        opts: {
          out: string;
          resume: boolean;
          fresh: boolean;
          runner?: string[];
          report?: string;
          strict: boolean;
          profile?: string;
          capture?: string;
          maxCells?: string;
          lang: string;
          shard?: string;
          shardCount?: string;
          jobs: string;
        },
      ) => {
        const jobs = parseJobs(opts.jobs);
        const shard = resolveShard(opts, process.env);
        if (shard) process.stderr.write(`detbench: shard ${shard.shard.index}/${shard.shard.count} (from ${shard.source})\n`);
        if (opts.capture !== undefined && opts.capture !== 'f32' && opts.capture !== 'u16') {
          throw new DetbenchError('USAGE', `--capture: expected f32 or u16, got "${opts.capture}"`);
        }
        const maxCells = opts.maxCells === undefined ? DEFAULT_MAX_CELLS : Number(opts.maxCells);
        if (!Number.isSafeInteger(maxCells) || maxCells < 1) throw new DetbenchError('USAGE', `--max-cells ${opts.maxCells}: expected a whole number ≥ 1`);
        const lang = reportLang(opts.lang);
        const profile = runProfile(opts.profile, RUNNERS, (m) => process.stderr.write(`detbench: warning: ${m}\n`));
        const { progressReporter } = await import('./progress.ts');
        const progress = progressReporter();
        const resultsFile = join(opts.out, 'results.jsonl');
        if (opts.fresh && opts.resume) throw new DetbenchError('USAGE', '--fresh and --resume exclude each other');
        const warn = (m: string): void => void process.stderr.write(`detbench: warning: ${m}\n`);
        let summary: Awaited<ReturnType<typeof runSuite>>;
        try {
          summary = await runSuite({
            suiteFile: suite,
            runners: RUNNERS,
            outFile: resultsFile,
            resume: opts.resume,
            fresh: opts.fresh,
            warn,
            profile,
            ...(opts.runner ? { onlyRunners: opts.runner } : {}),
            maxCells,
            onEvent: progress.onEvent,
            ...(opts.capture ? { capture: opts.capture } : {}),
            ...(shard ? { shard: shard.shard } : {}),
            jobs,
          });
        } finally {
          progress.stop();
        }
        if (summary.movedAside) process.stderr.write(`detbench: moved the earlier results to ${summary.movedAside}\n`);
        process.stderr.write(
          `detbench: ${summary.completed} completed, ${summary.errored} errored, ${summary.skipped} skipped${summary.kept ? `, ${summary.kept} kept from before` : ''} -> ${summary.file}\n`,
        );
        if (opts.report) {
          const { generateReport } = await import('../reports/generate.ts');
          const { htmlPath } = await generateReport([resultsFile], opts.report, { lang, log: (m) => process.stderr.write(`${m}\n`) });
          process.stderr.write(`detbench: report -> ${htmlPath}\n`);
        }
        if (opts.strict && summary.errored > 0) process.exitCode = 1;
      },
    );
}

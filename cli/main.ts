import { Command, CommanderError } from 'commander';
import { DetbenchError } from '../src/errors.ts';
import { DETBENCH_VERSION } from '../src/version.ts';
import { registerExport } from './export.ts';
import { registerGate } from './gate.ts';
import { registerInspect } from './inspect.ts';
import { registerLoad } from './load.ts';
import { registerMerge } from './merge.ts';
import { registerProfile } from './profile.ts';
import { registerReport } from './report.ts';
import { registerRun } from './run.ts';
import { registerServe } from './serve.ts';
import { registerUnique } from './unique.ts';

/** Exit codes: 0 success, 1 the run finished but a gate failed or a cell errored (with --strict), 2 bad input. */
export const EXIT = { ok: 0, failed: 1, badInput: 2 } as const;

/** Builds the command tree. Each subcommand lives in its own file and registers itself here. */
export function buildProgram(): Command {
  const program = new Command('detbench')
    .description('Reproducibility benchmark for LLM inference: run suites on several backends, compare, report.')
    .version(DETBENCH_VERSION)
    .showHelpAfterError()
    .exitOverride();
  registerRun(program);
  registerReport(program);
  registerProfile(program);
  registerServe(program);
  registerLoad(program);
  registerUnique(program);
  registerGate(program);
  registerExport(program);
  registerInspect(program);
  registerMerge(program);
  return program;
}

/** Runs the CLI and returns the exit code (bin/detbench.mjs sets process.exitCode from it). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      return err.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    }
    if (err instanceof DetbenchError) {
      process.stderr.write(`detbench: ${err.message}\n`);
      return EXIT.badInput;
    }
    process.stderr.write(`detbench: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT.failed;
  }
}

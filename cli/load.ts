import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { DetbenchError, errorMessage } from '../src/errors.ts';

interface LoadFlags {
  url: string;
  model: string;
  clients: number;
  prompts: string;
  maxTokens: [number, number];
  seconds?: number;
  seed: number;
}

const int = (name: string, min: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
  return n;
};

const range = (value: string): [number, number] => {
  const m = /^(\d+)(?:-(\d+))?$/.exec(value);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
  if (!(lo >= 1 && hi >= lo)) throw new InvalidArgumentError('--max-tokens must be N or MIN-MAX with 1 <= MIN <= MAX');
  return [lo, hi];
};

/** One prompt per line; blank lines and `#` comments skipped (as a suite's prompts file). */
function readPrompts(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new DetbenchError('LOAD_PROMPTS_UNREADABLE', `${file}: cannot read the prompts file (${errorMessage(cause)})`, { cause, file });
  }
  const prompts = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (prompts.length === 0)
    throw new DetbenchError('LOAD_PROMPTS_EMPTY', `${file}: no prompts (one per line; blank lines and # comments are skipped)`, { file });
  return prompts;
}

/** `detbench load`: background traffic against an OpenAI-compatible server, until stopped or for `--seconds`. */
export function registerLoad(program: Command): void {
  program
    .command('load')
    .description('send background load (closed-loop greedy completions of other prompts) to an OpenAI-compatible server, e.g. while a suite runs against it')
    .requiredOption('--url <base>', 'base URL, ending in /v1 (e.g. http://127.0.0.1:8411/v1)')
    .requiredOption('--model <id>', 'model id the server expects')
    .requiredOption('--prompts <file>', 'prompts file: one per line, # comments')
    .option('--clients <n>', 'concurrent clients', int('--clients', 1), 8)
    .option('--max-tokens <n|min-max>', 'output length per request, drawn from the range', range, [32, 128] as [number, number])
    .option('--seconds <s>', 'stop after this long (default: on SIGINT or SIGTERM)', int('--seconds', 1))
    .option('--seed <n>', 'seeds the draws of prompts and lengths', int('--seed', 0), 0)
    .action(async (flags: LoadFlags) => {
      const { LoadGenerator } = await import('../src/serve/load.ts');
      const prompts = readPrompts(flags.prompts);
      const load = new LoadGenerator({ baseUrl: flags.url, model: flags.model, clients: flags.clients, prompts, maxTokens: flags.maxTokens, seed: flags.seed });
      process.stderr.write(`detbench load: ${flags.clients} clients, ${prompts.length} prompts, ${flags.maxTokens.join('-')} tokens, against ${flags.url}\n`);
      load.start();
      await new Promise<void>((resolve) => {
        const timer = flags.seconds ? setTimeout(stop, flags.seconds * 1000) : null;
        function stop() {
          if (timer) clearTimeout(timer);
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        }
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      const stats = await load.stop();
      const sizes = Object.entries(stats.batchSizes)
        .map(([s, n]) => `${s}:${n}`)
        .join(' ');
      process.stderr.write(
        `detbench load: ${stats.requests} requests (${stats.failed} failed), ${stats.tokens} tokens${sizes ? `, batch sizes ${sizes}` : ''}${stats.firstError ? `; first failure: ${stats.firstError}` : ''}\n`,
      );
      if (stats.requests > 0 && stats.failed === stats.requests) process.exitCode = 1;
    });
}

import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { headline, uniqueSamples } from '../src/metrics/unique-samples.ts';
import { latestRecords, readResults } from '../src/results/read.ts';

/** `detbench unique <results...>`: SGLang's "unique samples" per runner and prompt, with where completions split. */
export function registerUnique(program: Command): void {
  program
    .command('unique')
    .description('unique completions per runner and prompt (SGLang test_deterministic\'s "unique samples"), and where they part from the reference')
    .argument('<results...>', 'results JSONL files')
    .option('--reference <runner>', "measure splits against this runner's most common completion of each prompt (default: each runner's own)")
    .option('--json <file>', 'also write the counts and every split as JSON')
    .action((files: string[], o: { reference?: string; json?: string }) => {
      // The latest record of each profile and id, as every consumer counts them.
      const records = latestRecords(files.flatMap((f) => readResults(f, { warn: (m) => process.stderr.write(`detbench: ${m}\n`) }))).records;
      const rows = uniqueSamples(records, o.reference);
      for (const u of rows) process.stdout.write(`${u.runner} / ${u.prompt}: ${headline(u)}\n`);
      if (o.json) writeFileSync(o.json, `${JSON.stringify(rows, null, 2)}\n`);
    });
}

import type { Command } from 'commander';

/** `detbench merge <shards...> -o merged.jsonl`: the shards of one sharded run into one results file. */
export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description('merge the results of detbench run --shard i/n into one file, checking they are one complete run')
    .argument('<shards...>', "the shards' results JSONL files (their capture sidecars are merged too)")
    .requiredOption('-o, --out <file>', 'the merged results file (must not exist)')
    .action(async (files: string[], o: { out: string }) => {
      const { mergeShards } = await import('../src/results/merge.ts');
      const s = await mergeShards(files, o.out, (m) => process.stderr.write(`${m}\n`));
      process.stderr.write(`detbench: merged ${s.shards} shards, ${s.records} records -> ${s.file}${s.capture ? ` (+ ${s.capture})` : ''}\n`);
    });
}

import type { Command } from 'commander';
import { DetbenchError } from '../src/errors.ts';

/** `detbench export <results...> --format parquet|csv -o file`: one row per (record, step) for pandas, polars, DuckDB. */
export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write results as one table, one row per (record, step): Parquet or CSV')
    .argument('<results...>', 'results JSONL files')
    .requiredOption('-o, --out <file>', 'output file')
    .option('--format <parquet|csv>', 'output format (default: from the file extension, else parquet)')
    .action(async (files: string[], o: { out: string; format?: string }) => {
      const format = o.format ?? (o.out.endsWith('.csv') ? 'csv' : 'parquet');
      if (format !== 'parquet' && format !== 'csv') throw new DetbenchError('USAGE', `--format: expected parquet or csv, got "${format}"`);
      const { exportResults } = await import('../src/export/export.ts');
      const s = await exportResults(files, o.out, { format, log: (m) => process.stderr.write(`${m}\n`) });
      process.stderr.write(`detbench: ${s.rows} rows from ${s.records} records -> ${s.file} (${(s.bytes / 1e6).toFixed(2)} MB)\n`);
    });
}

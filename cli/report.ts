import type { Command } from 'commander';
import { DetbenchError } from '../src/errors.ts';

/** The report languages; anything else is refused before any work. */
export function reportLang(value: string): 'en' | 'de' {
  if (value === 'en' || value === 'de') return value;
  throw new DetbenchError('USAGE', `--lang ${value}: expected en or de`, { field: 'lang' });
}

/** `detbench report <results...> -o <dir>`: renders results files (from one or many machines) into static HTML. */
export function registerReport(program: Command): void {
  program
    .command('report')
    .description('render results files into a static HTML report that opens offline')
    .argument('<results...>', 'results JSONL files (several machines merge into one report)')
    .option('-o, --out <dir>', 'output folder for index.html', 'out/report')
    .option('--reference <runner>', 'runner id the others are compared with (default: the suite reference)')
    .option('--title <title>', 'page title')
    .option('--lang <lang>', 'language the page opens in: en or de (the page has a switch)', 'en')
    .option('--near-tie <margin>', 'logit margin at or below which a split counts as a near tie (default 0.05)', (v: string): number => {
      const x = Number(v);
      if (!Number.isFinite(x) || x < 0) throw new DetbenchError('USAGE', `--near-tie: expected a non-negative number, got "${v}"`);
      return x;
    })
    .action(async (files: string[], opts: { out: string; reference?: string; title?: string; lang: string; nearTie?: number }) => {
      const lang = reportLang(opts.lang);
      const { generateReport } = await import('../reports/generate.ts');
      const { htmlPath, bytes } = await generateReport(files, opts.out, {
        ...(opts.reference ? { reference: opts.reference } : {}),
        ...(opts.title ? { title: opts.title } : {}),
        lang,
        ...(opts.nearTie !== undefined ? { nearTie: opts.nearTie } : {}),
        log: (m) => process.stderr.write(`${m}\n`),
      });
      process.stderr.write(`detbench: report -> ${htmlPath} (${(bytes / 1e6).toFixed(2)} MB)\n`);
    });
}

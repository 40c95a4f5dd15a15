import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { DetbenchError, errorMessage } from '../../src/errors.ts';
import { generateWithLoop } from '../../src/runner-contract/generate-with-loop.ts';
import type { Runner } from '../../src/runner-contract/types.ts';
import type { MarkovOptions } from './manifest.ts';
import { ngramDecodeModel } from './session.ts';
import { decodeTable, type NgramTable } from './table.ts';

/** The table counted on the shipped model's corpus (scripts/build-markov.ts). */
export const DEFAULT_TABLE = fileURLToPath(new URL('../../models/detbench-tiny-markov/ngram.bin.gz', import.meta.url));

/** A `table` option resolves against the working directory, like every other path on the command line. */
function tablePath(options: MarkovOptions): string {
  return options.table ? path.resolve(options.table) : DEFAULT_TABLE;
}

function loadTable(file: string): { table: NgramTable; sha256: string } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (cause) {
    throw new DetbenchError('MODEL_INVALID', `${file}: cannot read the n-gram table (${errorMessage(cause)})`, { cause, file });
  }
  try {
    return { table: decodeTable(gunzipSync(bytes)), sha256: createHash('sha256').update(bytes).digest('hex') };
  } catch (cause) {
    throw new DetbenchError('MODEL_INVALID', `${file}: ${errorMessage(cause)}`, { cause, file });
  }
}

/**
 * The nonsense texter: a token n-gram model, counted on the corpus the shipped transformer was
 * trained on and driven by the very decode loop and sampler the other runners use. Its logits are
 * logs of count ratios, computed the same way everywhere: a control that is deterministic by
 * construction, next to models whose floating-point sums are not.
 */
export const markovRunner: Runner<MarkovOptions> = {
  async probe(options) {
    const file = tablePath(options);
    if (!existsSync(file)) return { available: false, reason: `no n-gram table at ${file}: run node --import tsx scripts/build-markov.ts` };
    return { available: true, info: { table: file } };
  },

  async open(_model, options) {
    const file = tablePath(options);
    const t0 = performance.now();
    const { table, sha256 } = loadTable(file);
    const sessionMs = performance.now() - t0;
    // <|endoftext|> is the last id of the shipped tokenizer; a padded position is masked out anyway.
    const dm = ngramDecodeModel(table, options.order, table.vocab - 1);
    const entries = table.levels.slice(1).map((l) => l.entries);
    return {
      provider: { requested: 'ngram-counts', effective: 'ngram-counts' },
      environment: { order: options.order, table: path.relative(process.cwd(), file), tableSha256: sha256, vocab: table.vocab, contextEntries: entries },
      model: { name: `markov-${options.order}gram`, file: path.basename(file), sha256 },
      sessionMs,
      runtimeVersion: null,
      generate: (requests) => generateWithLoop(dm, requests),
      close: async () => {},
    };
  },
};

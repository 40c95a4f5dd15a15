import { z } from 'zod';
import { defineRunner } from '../../src/runner-contract/manifest.ts';

export const markovOptions = z
  .object({
    order: z.int().min(1).max(3).default(3).describe('tokens of context + 1: 3 looks at the last two tokens (a trigram), 2 at the last one, 1 at none'),
    table: z
      .string()
      .min(1)
      .optional()
      .describe(
        "n-gram table (.bin.gz, written by scripts/build-markov.ts); default: models/detbench-tiny-markov/ngram.bin.gz, counted on the shipped model's corpus",
      ),
  })
  .strict();

/** Parsed markov options. */
export type MarkovOptions = z.output<typeof markovOptions>;

/**
 * The n-gram control: it computes with a table of its own, not the suite's model, so it needs no
 * model and is compared only with itself (`OWN_MODEL_RUNNER_TYPES` in the record contract).
 */
export const markov = defineRunner({
  type: 'markov',
  options: markovOptions,
  needsModel: false,
  canTeacherForce: false,
  serve: false,
  modelChoice: () => ({}),
  threads: () => 1,
  load: async () => (await import('./runner.ts')).markovRunner,
});

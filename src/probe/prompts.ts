import type { LoadedModel } from '../model/types.ts';
import type { ProbeOptions } from './probe.ts';

const SHORT = 'Hi';
const LONG = 'The quick brown fox jumps over the lazy dog, twice.';

/**
 * The probe's prompts for a model: two fixed texts through its own tokenizer (special tokens
 * added as for any plain prompt). Ids the logits cannot hold (a tokenizer larger than the model)
 * are folded into range: the probe checks the harness's feeding, not the text.
 */
export function probePrompts(model: LoadedModel): Pick<ProbeOptions, 'short' | 'long'> {
  const intoVocab = (ids: number[]) => ids.map((id) => id % model.config.vocabSize);
  let short = intoVocab(model.tokenizer.encode(SHORT));
  const long = intoVocab(model.tokenizer.encode(LONG));
  if (short.length === 0) short = long.slice(0, 1);
  // The long prompt must be longer, or nothing is padded.
  return { short, long: long.length > short.length ? long : [...short, ...short, ...long] };
}

/** The default tolerance for the model's compute type (relative |Δ logit|): the kernels' own noise, measured on the fixtures. */
export function probeTolerance(model: LoadedModel): number {
  return model.precision.compute === 'float16' ? 1e-2 : 1e-4;
}

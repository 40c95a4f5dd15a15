import { Tokenizer } from '@huggingface/tokenizers';
import type { TextTokenizer } from './types.ts';

/** Options of {@link HfTextTokenizer.encode}. */
export interface EncodeOptions {
  /**
   * Add the tokenizer's special tokens (e.g. Llama's BOS), as `tokenizer(text)` does in
   * transformers (default true). Pass false for text rendered by a chat template, which
   * already contains them.
   */
  addSpecialTokens?: boolean;
}

/** Parts of tokenizer.json that the format makes optional (the Rust library reads a missing one as none); @huggingface/tokenizers wants each key present. */
const OPTIONAL_PARTS = ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder'] as const;

/** tokenizer.json with every optional part present (null where the file has none), as the Rust library reads it. */
export function withOptionalParts(tokenizerJson: object): object {
  const filled: Record<string, unknown> = { ...tokenizerJson };
  for (const key of OPTIONAL_PARTS) if (!(key in filled)) filled[key] = null;
  return filled;
}

/** A {@link TextTokenizer} backed by `@huggingface/tokenizers` (the tokenizer of transformers.js). */
export class HfTextTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  private readonly tokenizer: Tokenizer;

  /** Builds the tokenizer from parsed tokenizer.json and tokenizer_config.json; throws if they are invalid. */
  constructor(tokenizerJson: object, tokenizerConfig: object) {
    this.tokenizer = new Tokenizer(withOptionalParts(tokenizerJson), tokenizerConfig);
    let max = -1;
    for (const id of this.tokenizer.get_vocab(true).values()) if (id > max) max = id;
    this.vocabSize = max + 1;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids;
  }

  decode(ids: readonly number[]): string {
    return this.tokenizer.decode([...ids], { skip_special_tokens: false });
  }

  tokenText(id: number): string {
    return this.tokenizer.decode([id], { skip_special_tokens: false });
  }
}

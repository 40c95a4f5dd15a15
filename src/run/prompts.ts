import { Template } from '@huggingface/jinja';
import { DetbenchError } from '../errors.ts';
import type { LoadedModel } from '../model/types.ts';
import type { LoadedSuite } from '../suite/load.ts';

/** A prompt as the model sees it: the text after templating, and its ids. */
export interface PreparedPrompt {
  id: string;
  text: string;
  system?: string;
  /** The text fed to the tokenizer (chat-templated if the suite asks for it). */
  rendered: string;
  ids: number[];
}

/**
 * Renders (chat template, with @huggingface/jinja) and tokenizes every prompt, and checks that
 * each prompt plus max_new_tokens fits the model's context (PROMPT_TOO_LONG otherwise).
 */
export function preparePrompts(suite: LoadedSuite, model: LoadedModel | undefined): PreparedPrompt[] {
  let template: Template | undefined;
  if (suite.chat_template) {
    if (!model?.chatTemplate) {
      throw new DetbenchError('SUITE_INVALID', `${suite.file}: chat_template: the model has no chat_template in tokenizer_config.json`, {
        file: suite.file,
        field: 'chat_template',
      });
    }
    template = new Template(model.chatTemplate);
  }
  return suite.resolvedPrompts.map((p) => {
    const messages = [...(p.system ? [{ role: 'system', content: p.system }] : []), { role: 'user', content: p.text }];
    const rendered = template ? template.render({ messages, add_generation_prompt: true, bos_token: '', eos_token: '' }) : p.text;
    // A chat template writes its own special tokens (BOS and the like): do not add them twice.
    const ids = model ? model.tokenizer.encode(rendered, { addSpecialTokens: !template }) : [];
    if (model && ids.length + suite.max_new_tokens > model.config.maxPositions) {
      throw new DetbenchError(
        'PROMPT_TOO_LONG',
        `${suite.file}: prompt "${p.id}" is ${ids.length} tokens; with max_new_tokens ${suite.max_new_tokens} it exceeds the model's context of ${model.config.maxPositions}`,
        { file: suite.file, field: `prompts.${p.id}` },
      );
    }
    if (model && ids.length === 0) {
      throw new DetbenchError('SUITE_INVALID', `${suite.file}: prompt "${p.id}" tokenizes to nothing`, { file: suite.file, field: `prompts.${p.id}` });
    }
    return { ...p, rendered, ids };
  });
}

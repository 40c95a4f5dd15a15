import { Template } from '@huggingface/jinja';
import { errorMessage } from '../errors.ts';
import type { LoadedModel } from '../model/types.ts';
import { type LoadedSuite, type ResolvedPrompt, suiteError } from '../suite/load.ts';

/** A prompt as the model sees it: the text after templating, and its ids. */
export interface PreparedPrompt extends ResolvedPrompt {
  /** The text fed to the tokenizer (chat-templated if the suite asks for it). */
  rendered: string;
  ids: number[];
}

/**
 * Renders (chat template, with @huggingface/jinja) and tokenizes every prompt, and checks that
 * each prompt plus max_new_tokens fits the model's context (PROMPT_TOO_LONG otherwise). Every
 * error names the line of the suite (or of the prompts file) it is about.
 */
export function preparePrompts(suite: LoadedSuite, model: LoadedModel | undefined): PreparedPrompt[] {
  const context = model?.config.maxPositions;
  if (context !== undefined && suite.max_new_tokens >= context) {
    throw suiteError(
      'PROMPT_TOO_LONG',
      suite.at(['max_new_tokens']),
      `${suite.max_new_tokens} leaves no room for a prompt in the model's context of ${context} positions; expected at most ${context - 1}`,
    );
  }
  const template = suite.chat_template ? chatTemplate(suite, model) : undefined;
  return suite.resolvedPrompts.map((p) => {
    const messages = [...(p.system ? [{ role: 'system', content: p.system }] : []), { role: 'user', content: p.text }];
    // As transformers.js's apply_chat_template: the template gets the tokenizer's special tokens
    // (bos_token, eos_token, ...) and writes them itself, so the rendered text is encoded without
    // adding them again; a plain prompt gets them from the tokenizer (Llama's <s>), once.
    let rendered = p.text;
    if (template) {
      try {
        rendered = template.render({ messages, add_generation_prompt: true, ...model!.specialTokens });
      } catch (err) {
        throw suiteError('SUITE_INVALID', p.source, `the model's chat template fails on prompt "${p.id}": ${errorMessage(err)}`);
      }
    }
    const ids = model ? model.tokenizer.encode(rendered, { addSpecialTokens: !template }) : [];
    const beyond = model ? ids.find((id) => id >= model.config.vocabSize) : undefined;
    if (model && beyond !== undefined) {
      throw suiteError(
        'PROMPT_TOKEN_OUT_OF_RANGE',
        p.source,
        `prompt "${p.id}" has token ${beyond} ("${model.tokenizer.tokenText(beyond)}"), but the model's logits have ${model.config.vocabSize} entries: the tokenizer is larger than the model, and only ids below ${model.config.vocabSize} can be fed; expected a prompt whose tokens are all below ${model.config.vocabSize}`,
      );
    }
    if (context !== undefined && ids.length + suite.max_new_tokens > context) {
      throw suiteError(
        'PROMPT_TOO_LONG',
        p.source,
        `prompt "${p.id}" is ${ids.length} tokens; with max_new_tokens ${suite.max_new_tokens} it exceeds the model's context of ${context}; expected at most ${context - suite.max_new_tokens} tokens`,
      );
    }
    if (model && ids.length === 0)
      throw suiteError('SUITE_INVALID', p.source, `prompt "${p.id}" tokenizes to nothing; expected text that gives at least one token`);
    return { ...p, rendered, ids };
  });
}

/** The model's chat template, parsed; a model without one, or with one jinja cannot parse, is refused at the suite's `chat_template` line. */
function chatTemplate(suite: LoadedSuite, model: LoadedModel | undefined): Template {
  const at = suite.at(['chat_template']);
  if (!model)
    throw suiteError(
      'SUITE_INVALID',
      at,
      "true, but the suite has no model to take a chat template from (it comes from the model's tokenizer_config.json); expected false",
    );
  if (!model.chatTemplate) {
    throw suiteError(
      'SUITE_INVALID',
      at,
      `true, but the model ${model.dir} has no chat_template in tokenizer_config.json (nor a chat_template.jinja); expected false for this model`,
    );
  }
  try {
    return new Template(model.chatTemplate);
  } catch (err) {
    throw suiteError('SUITE_INVALID', at, `the chat template of the model ${model.dir} cannot be parsed: ${errorMessage(err)}`);
  }
}

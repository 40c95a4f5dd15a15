import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type LoadedSuite, loadSuite } from '../api/index.ts';
import { loadModel } from '../src/model/load.ts';
import { withOptionalParts } from '../src/model/tokenizer.ts';
import type { LoadedModel } from '../src/model/types.ts';
import { preparePrompts } from '../src/run/prompts.ts';
import { detbenchError } from './helpers/errors.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

/**
 * Prompt ids exactly as the model's own stack builds them: transformers.js (`apply_chat_template`
 * with its tokenizer, `tokenizer(text)` for plain prompts) on the same folder and messages.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REAL = path.join(ROOT, '..', 'shared', 'real-models');
const present = existsSync(REAL);
if (!present) console.warn(`real-model prompt checks skipped: ${REAL} does not exist`);

const PROMPTS = [
  { id: 'plain', text: 'Hello, world' },
  { id: 'system', text: 'Explain recursion.', system: 'You are terse.' },
];

/** A real suite file with these prompts (loaded as `detbench run` loads it), so errors carry their lines. */
function suiteOf(chat: boolean, prompts: { id: string; text: string; system?: string }[] = PROMPTS): LoadedSuite {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'detbench-prompts-')), 'test.yaml');
  const lines = prompts.map((p) => `  - ${JSON.stringify(p)}`);
  writeFileSync(
    file,
    [`id: t`, `chat_template: ${chat}`, 'max_new_tokens: 4', 'prompts:', ...lines, 'runners:', '  - { id: a, type: node-cpu }', ''].join('\n'),
  );
  return loadSuite(file);
}

type TfTokenizer = {
  encode(text: string): number[];
  apply_chat_template(messages: object[], options: object): number[];
};

/** transformers.js's tokenizer for a folder, loaded offline from its parent. */
async function tfTokenizer(dir: string): Promise<TfTokenizer> {
  const tf = await import('@huggingface/transformers');
  tf.env.allowRemoteModels = false;
  tf.env.localModelPath = path.dirname(dir) + path.sep;
  return (await tf.AutoTokenizer.from_pretrained(path.basename(dir))) as unknown as TfTokenizer;
}

/** What transformers.js feeds for each prompt: the template's ids, or the tokenizer's with special tokens. */
function expectedIds(tk: TfTokenizer, chat: boolean): number[][] {
  return PROMPTS.map((p) => {
    if (!chat) return tk.encode(p.text);
    const messages = [...(p.system ? [{ role: 'system', content: p.system }] : []), { role: 'user', content: p.text }];
    return tk.apply_chat_template(messages, { add_generation_prompt: true, tokenize: true, return_tensor: false, return_dict: false });
  });
}

async function check(dir: string, model: LoadedModel, tfDir = dir): Promise<void> {
  const tk = await tfTokenizer(tfDir);
  expect(preparePrompts(suiteOf(false), model).map((p) => p.ids)).toEqual(expectedIds(tk, false));
  if (model.chatTemplate) expect(preparePrompts(suiteOf(true), model).map((p) => p.ids)).toEqual(expectedIds(tk, true));
}

describe.skipIf(!present)('prompt ids equal transformers.js on the real models', () => {
  it.each(['ort-genai-tiny-llama-fp16', 'ort-genai-tiny-llama-fp32-gqa', 'hf-layout-tiny-llama-q4'])(
    '%s: the Llama-2 template gets <s> once, plain prompts get it from the tokenizer',
    async (folder) => {
      const dir = path.join(REAL, folder);
      const model = await loadModel(dir);
      await check(dir, model);
      const [plain, system] = preparePrompts(suiteOf(true), model);
      expect(plain!.rendered).toBe('<s>[INST] Hello, world [/INST]');
      expect(system!.rendered).toBe('<s>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nExplain recursion. [/INST]');
      // <s> is id 1 in this tokenizer, and it is there exactly once.
      expect(plain!.ids.filter((id) => id === 1)).toEqual([1]);
      expect(plain!.ids[0]).toBe(1);
    },
  );

  it('ort-genai-tiny-phi3-gqa-fp16: a tokenizer.json without its optional parts (transformers.js reads the filled-in copy)', async () => {
    const dir = path.join(REAL, 'ort-genai-tiny-phi3-gqa-fp16');
    const model = await loadModel(dir);
    // transformers.js refuses the file as it is ("must contain a decoder property"): compare with the same file, parts filled with null.
    const copy = path.join(mkdtempSync(path.join(tmpdir(), 'detbench-phi3-')), 'phi3');
    cpSync(dir, copy, { recursive: true });
    const tj = JSON.parse(readFileSync(path.join(copy, 'tokenizer.json'), 'utf8')) as object;
    writeFileSync(path.join(copy, 'tokenizer.json'), JSON.stringify(withOptionalParts(tj)));
    await check(dir, model, copy);
  });

  it('ort-legacy-tiny-gpt2-fp32: the same ids as transformers.js; a prompt with ids beyond the 1,000 logits is refused', async () => {
    const dir = path.join(REAL, 'ort-legacy-tiny-gpt2-fp32');
    const model = await loadModel(dir);
    const tk = await tfTokenizer(dir);
    expect(model.tokenizer.encode('Hello, world')).toEqual(tk.encode('Hello, world'));
    const suite = suiteOf(false);
    const err = detbenchError(() => preparePrompts(suite, model));
    expect(err.code).toBe('PROMPT_TOKEN_OUT_OF_RANGE');
    expect(err.message).toBe(
      `${suite.file}:5: prompts[0]: prompt "plain" has token 15496 ("Hello"), but the model's logits have 1000 entries: the tokenizer is larger than the model, and only ids below 1000 can be fed; expected a prompt whose tokens are all below 1000`,
    );
    const [p] = preparePrompts(suiteOf(false, [{ id: 'small', text: ' the end, and a' }]), model);
    expect(p!.ids).toEqual(tk.encode(' the end, and a'));
    expect(Math.max(...p!.ids)).toBeLessThan(1000);
  });
});

describe('prompt ids equal transformers.js on the shipped and generated models', () => {
  it('models/detbench-tiny (no chat template): plain prompts', async () => {
    const dir = path.join(ROOT, 'models', 'detbench-tiny');
    await check(dir, await loadModel(dir));
  });

  it('the generated tiny model, with its chat template', async () => {
    const dir = await tinyModelDir();
    const model = await loadModel(dir);
    expect(model.chatTemplate).toBeDefined();
    await check(dir, model);
  });
});

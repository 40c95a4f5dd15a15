import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSuite } from '../api/index.ts';
import { loadModel } from '../src/model/load.ts';
import { readResults } from '../src/results/read.ts';
import type { CompletedRecord } from '../src/results/record.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

describe('chat templates', () => {
  it("renders prompts with the model's template (@huggingface/jinja) and records what was fed", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'detbench-chat-'));
    const model = join(dir, 'model');
    cpSync(await tinyModelDir(), model, { recursive: true });
    const cfgFile = join(model, 'tokenizer_config.json');
    const cfg = JSON.parse(readFileSync(cfgFile, 'utf8'));
    cfg.chat_template = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";
    writeFileSync(cfgFile, JSON.stringify(cfg));
    const suite = join(dir, 'suite.yaml');
    writeFileSync(
      suite,
      'id: chat\nmodel: model\nchat_template: true\nprompts:\n  - { id: q, text: "hi there", system: "be brief" }\nmax_new_tokens: 2\nrepetitions: 1\nrunners:\n  - { id: a, type: node-cpu }\n',
    );
    const out = join(dir, 'results.jsonl');
    await runSuite({ suiteFile: suite, outFile: out });
    const [r] = readResults(out) as CompletedRecord[];
    expect(r!.prompt.rendered).toBe('<|system|>be brief\n<|user|>hi there\n<|assistant|>');
    const loaded = await loadModel(model);
    expect(r!.promptTokens).toEqual(loaded.tokenizer.encode(r!.prompt.rendered!, { addSpecialTokens: false }));
  });
});

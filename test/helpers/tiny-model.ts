import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTinyModel, type TinyModelOptions } from '../../scripts/make-tiny-model.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Model variants tests can ask for; the default is 2 layers, 4 heads, embd 64, ~457 tokens. */
export const TINY_VARIANTS = {
  default: {},
  /** Grouped-query attention: 4 query heads share 2 kv heads (config gets num_key_value_heads). */
  gqa: { kvHeads: 2 },
  /** No position_ids input; the graph derives positions from attention_mask. */
  'no-position-ids': { withPositionIds: false },
  /** Embedding table padded to 512 rows, beyond the tokenizer's tokens. */
  'padded-vocab': { vocabSize: 512 },
  /** The default model's very weights, stored in onnx/model.onnx_data beside the graph. */
  'external-data': { externalData: true },
} satisfies Record<string, TinyModelOptions>;

/** A name of {@link TINY_VARIANTS}. */
export type TinyVariant = keyof typeof TINY_VARIANTS;

/** Hash of the generator's sources and the options, so a changed generator never serves a stale cache. */
async function cacheKey(opts: TinyModelOptions): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify(opts));
  const dirs = ['scripts/tiny-model', 'src/model'];
  const files = ['scripts/make-tiny-model.ts', 'src/decode/mt19937.ts'];
  // Files only: a sub-folder (src/model/hub/) is not an input of the generator.
  for (const d of dirs)
    for (const f of (await readdir(path.join(ROOT, d), { withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => e.name)
      .sort())
      files.push(`${d}/${f}`);
  for (const f of files) hash.update(f).update(await readFile(path.join(ROOT, f)));
  return hash.digest('hex');
}

const pending = new Map<TinyVariant, Promise<string>>();

async function generate(variant: TinyVariant): Promise<string> {
  const dir = path.join(ROOT, 'test/.cache', variant === 'default' ? 'tiny-model' : `tiny-model-${variant}`);
  const opts: TinyModelOptions = TINY_VARIANTS[variant];
  const key = await cacheKey(opts);
  const stamp = path.join(dir, '.stamp');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === key) return dir;
  // Build beside the target and swap it in, so a concurrent reader never sees half a model.
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await makeTinyModel(tmp, opts);
  await writeFile(path.join(tmp, '.stamp'), key);
  await mkdir(path.dirname(dir), { recursive: true });
  await rm(dir, { recursive: true, force: true });
  try {
    await rename(tmp, dir);
  } catch (err) {
    // Another process swapped in the same model first.
    await rm(tmp, { recursive: true, force: true });
    if (!(existsSync(stamp) && readFileSync(stamp, 'utf8') === key)) throw err;
  }
  return dir;
}

/**
 * The folder of the tiny generated model (test/.cache/tiny-model[-variant]), generated on first
 * use and reused while the generator's sources are unchanged.
 */
export function tinyModelDir(variant: TinyVariant = 'default'): Promise<string> {
  let p = pending.get(variant);
  if (!p) {
    p = generate(variant);
    pending.set(variant, p);
  }
  return p;
}

import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../scripts/make-tiny-model.ts';
import { type TinyVariant, tinyModelDir } from './helpers/tiny-model.ts';

const TOL = 1e-4;
const LAYERS = 2;
const HEAD_DIM = 16;

interface Row {
  ids: number[];
  /** Left padding before ids. */
  pad: number;
}

type Cache = ort.Tensor[];

/** Runs one forward pass over left-padded rows, as the decode loop feeds them. */
async function forward(
  session: ort.InferenceSession,
  kvHeads: number,
  rows: Row[],
  past: { cache: Cache; len: number } | null,
): Promise<{ logits: Float32Array; vocab: number; seq: number; cache: Cache }> {
  const batch = rows.length;
  const seq = Math.max(...rows.map((r) => r.pad + r.ids.length));
  const pastLen = past?.len ?? 0;
  const ids = new BigInt64Array(batch * seq);
  const pos = new BigInt64Array(batch * seq);
  const mask = new BigInt64Array(batch * (pastLen + seq));
  rows.forEach((r, b) => {
    // Rows keep their prefill padding in the mask; new tokens are never padded during decode.
    const padInPast = past ? r.pad : 0;
    const padNow = past ? 0 : r.pad;
    for (let t = 0; t < pastLen + seq; t++) {
      const inPast = t < pastLen;
      const masked = inPast ? t < padInPast : t - pastLen < padNow;
      mask[b * (pastLen + seq) + t] = masked ? 0n : 1n;
    }
    r.ids.forEach((id, t) => {
      ids[b * seq + padNow + t] = BigInt(id);
      pos[b * seq + padNow + t] = BigInt(pastLen - padInPast + t);
    });
  });
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', ids, [batch, seq]),
    attention_mask: new ort.Tensor('int64', mask, [batch, pastLen + seq]),
  };
  if (session.inputNames.includes('position_ids')) feeds.position_ids = new ort.Tensor('int64', pos, [batch, seq]);
  for (let i = 0; i < LAYERS; i++) {
    const empty = new ort.Tensor('float32', new Float32Array(0), [batch, kvHeads, 0, HEAD_DIM]);
    feeds[`past_key_values.${i}.key`] = past?.cache[2 * i] ?? empty;
    feeds[`past_key_values.${i}.value`] = past?.cache[2 * i + 1] ?? empty;
  }
  const out = await session.run(feeds);
  const logits = out.logits!;
  const cache: Cache = [];
  for (let i = 0; i < LAYERS; i++) cache.push(out[`present.${i}.key`]!, out[`present.${i}.value`]!);
  expect(cache[0]!.dims).toEqual([batch, kvHeads, pastLen + seq, HEAD_DIM]);
  return { logits: logits.data as Float32Array, vocab: logits.dims[2]!, seq, cache };
}

/** Logits of row b at sequence position t. */
function at(r: { logits: Float32Array; vocab: number; seq: number }, b: number, t: number): Float32Array {
  const start = (b * r.seq + t) * r.vocab;
  return r.logits.subarray(start, start + r.vocab);
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const VARIANTS: { variant: TinyVariant; kvHeads: number }[] = [
  { variant: 'default', kvHeads: 4 },
  { variant: 'gqa', kvHeads: 2 },
  { variant: 'no-position-ids', kvHeads: 4 },
];

describe.each(VARIANTS)('tiny model ($variant) in onnxruntime-node', ({ variant, kvHeads }) => {
  let session: ort.InferenceSession;
  const prompt = [12, 300, 7, 45, 200, 3];
  const short = [99, 400, 5];

  beforeAll(async () => {
    session = await ort.InferenceSession.create(path.join(await tinyModelDir(variant), 'onnx/model.onnx'));
  });
  afterAll(async () => session?.release());

  it('gives the same logits for a decode step on the KV cache as for a full recompute', async () => {
    const next = 250;
    const prefill = await forward(session, kvHeads, [{ ids: prompt, pad: 0 }], null);
    const step = await forward(session, kvHeads, [{ ids: [next], pad: 0 }], { cache: prefill.cache, len: prompt.length });
    const full = await forward(session, kvHeads, [{ ids: [...prompt, next], pad: 0 }], null);
    expect(maxDiff(at(step, 0, 0), at(full, 0, prompt.length))).toBeLessThan(TOL);
    // Context matters: the step's logits are not those of the token alone.
    const alone = await forward(session, kvHeads, [{ ids: [next], pad: 0 }], null);
    expect(maxDiff(at(step, 0, 0), at(alone, 0, 0))).toBeGreaterThan(0.1);
  });

  it('gives each row of a left-padded batch the logits of its prompt alone, in prefill and decode', async () => {
    const rows: Row[] = [
      { ids: short, pad: prompt.length - short.length },
      { ids: prompt, pad: 0 },
    ];
    const batch = await forward(session, kvHeads, rows, null);
    for (const [b, row] of rows.entries()) {
      const alone = await forward(session, kvHeads, [{ ids: row.ids, pad: 0 }], null);
      for (let t = 0; t < row.ids.length; t++) {
        expect(maxDiff(at(batch, b, row.pad + t), at(alone, 0, t))).toBeLessThan(TOL);
      }
    }
    const nextIds = [17, 333];
    const step = await forward(
      session,
      kvHeads,
      rows.map((r, b) => ({ ids: [nextIds[b]!], pad: r.pad })),
      { cache: batch.cache, len: prompt.length },
    );
    for (const [b, row] of rows.entries()) {
      const full = await forward(session, kvHeads, [{ ids: [...row.ids, nextIds[b]!], pad: 0 }], null);
      expect(maxDiff(at(step, b, 0), at(full, 0, row.ids.length))).toBeLessThan(TOL);
    }
  });

  it('is sensitive to the padding mask (control)', async () => {
    const pad = prompt.length - short.length;
    const masked = await forward(session, kvHeads, [{ ids: short, pad }], null);
    // The same padded row with padding visible to attention (mask all ones) must differ.
    const visible = await forward(session, kvHeads, [{ ids: [...new Array<number>(pad).fill(0), ...short], pad: 0 }], null);
    expect(maxDiff(at(masked, 0, prompt.length - 1), at(visible, 0, prompt.length - 1))).toBeGreaterThan(0.1);
  });
});

describe('makeTinyModel', () => {
  it('writes byte-identical files for the same options, and others for another seed', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'detbench-tiny-'));
    try {
      const digest = async (dir: string) => {
        const h = createHash('sha256');
        for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'onnx/model.onnx']) {
          h.update(await readFile(path.join(dir, f)));
        }
        return h.digest('hex');
      };
      await makeTinyModel(path.join(root, 'a'));
      await makeTinyModel(path.join(root, 'b'));
      await makeTinyModel(path.join(root, 'c'), { seed: 2 });
      expect(await digest(path.join(root, 'a'))).toBe(await digest(path.join(root, 'b')));
      expect(await digest(path.join(root, 'a'))).not.toBe(await digest(path.join(root, 'c')));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

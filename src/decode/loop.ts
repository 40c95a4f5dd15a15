import { RowCapture } from './capture.ts';
import { halfToFloat32, summarizeRow, type RowSummary } from './logits.ts';
import { Mt19937 } from './mt19937.ts';
import { argmax, sampleWithDraw } from './sampling.ts';
import type { DecodeModel, DecodeRequest, DecodeResult, StepTrace, TensorLike } from './types.ts';

/** One row of the batch while it decodes. */
interface RowState {
  req: DecodeRequest;
  rng: Mt19937 | null;
  tokens: number[];
  steps: StepTrace;
  done: boolean;
  finishReason: DecodeResult['finishReason'];
  /** Position id of the next token fed. */
  nextPos: number;
  /** How many steps this row runs at most. */
  limit: number;
  /** Each step's summary, in step order (filled at the end when a recorder runs elsewhere). */
  summaries: RowSummary[];
  /** Full rows, when the request asks for capture (created at the first step, when the vocabulary is known). */
  capture: RowCapture | null;
}

function emptyTrace(forced: boolean): StepTrace {
  const t: StepTrace = { token: [], topIds: [], topLogits: [], topLogprobs: [], margin: [], hash: [], draw: [] };
  if (forced) t.forced = [];
  return t;
}

/** One row's choice at one step, as {@link DecodeHooks.onStep} sees it. */
export interface StepEvent {
  /** The request's index in the batch. */
  row: number;
  /** Step index (0 = the token chosen after the prefill). */
  step: number;
  /** The token the row chose (in teacher-forced mode: chose, not was fed). */
  token: number;
  /** The row's logits at this step; a view valid only during the call. */
  logits: Float32Array;
  /** What the step records (top candidates, log-probabilities, margin, hash). */
  summary: RowSummary;
}

/** Optional observers of a decode; they see results as they are chosen and change nothing. */
export interface DecodeHooks {
  /** Called synchronously for each row that chooses a token, before the next forward pass (streaming). */
  onStep?(event: StepEvent): void;
}

/**
 * Decodes a batch of requests with one forward pass per step: prefill of the left-padded prompts,
 * then one token per row per step with the KV cache fed back. The chosen token depends only on the
 * row's logits, its sampling settings and its own generator, never on the row's place in the batch.
 */
export async function decode(model: DecodeModel, requests: readonly DecodeRequest[], hooks: DecodeHooks = {}): Promise<DecodeResult[]> {
  const { onStep } = hooks;
  // A step hook sees each summary as it happens, so only hook-free runs hand recording elsewhere.
  const recorder = onStep ? undefined : model.recorder;
  /** The row of each queued summary, in push order. */
  const queued: RowState[] = [];
  if (requests.length === 0) return [];
  const batch = requests.length;
  const maxPrompt = Math.max(...requests.map((r) => r.promptIds.length));
  if (maxPrompt === 0) throw new Error('every request needs at least one prompt token');
  const rows: RowState[] = requests.map((req) => {
    const limit = req.teacherTokens ? req.teacherTokens.length : req.maxNewTokens;
    return {
      req,
      rng: req.sampling.kind === 'sample' ? new Mt19937(req.sampling.seed) : null,
      tokens: [],
      steps: emptyTrace(req.teacherTokens !== undefined),
      done: limit === 0,
      finishReason: req.teacherTokens ? 'teacher' : 'length',
      nextPos: req.promptIds.length,
      summaries: [],
      capture: null,
      limit,
    };
  });
  const maxSteps = Math.max(...rows.map((r) => r.limit));
  const { makeTensor } = model;

  // The mask grows by one column per step; rows keep their left padding.
  const padOf = rows.map((r) => maxPrompt - r.req.promptIds.length);
  const maskFor = (len: number): TensorLike => {
    const data = new BigInt64Array(batch * len);
    for (let b = 0; b < batch; b++) data.fill(1n, b * len + padOf[b]!, (b + 1) * len);
    return makeTensor('int64', data, [batch, len]);
  };

  // Prefill feeds.
  const ids = new BigInt64Array(batch * maxPrompt);
  const pos = new BigInt64Array(batch * maxPrompt);
  for (let b = 0; b < batch; b++) {
    const prompt = rows[b]!.req.promptIds;
    const pad = padOf[b]!;
    ids.fill(BigInt(model.padTokenId), b * maxPrompt, b * maxPrompt + pad);
    for (let t = 0; t < prompt.length; t++) {
      ids[b * maxPrompt + pad + t] = BigInt(prompt[t]!);
      pos[b * maxPrompt + pad + t] = BigInt(t);
    }
  }
  const emptyKv = makeTensor(
    model.kvType,
    model.kvType === 'float16' ? new Uint16Array(0) : new Float32Array(0),
    [batch, model.numKvHeads, 0, model.headDim],
  );
  let past: TensorLike[] = [];
  for (let i = 0; i < model.numLayers; i++) past.push(emptyKv, emptyKv);

  const feeds: Record<string, TensorLike> = {};
  const setPast = (kv: TensorLike[]) => {
    for (let i = 0; i < model.numLayers; i++) {
      feeds[model.pastKey(i)] = kv[2 * i]!;
      feeds[model.pastValue(i)] = kv[2 * i + 1]!;
    }
  };
  feeds.input_ids = makeTensor('int64', ids, [batch, maxPrompt]);
  feeds.attention_mask = maskFor(maxPrompt);
  if (model.hasPositionIds) feeds.position_ids = makeTensor('int64', pos, [batch, maxPrompt]);
  setPast(past);

  const stepMs: number[] = [];
  let ttftMs = 0;
  const start = performance.now();
  let half: Float32Array | null = null;
  const stepIds = new BigInt64Array(batch);
  const stepPos = new BigInt64Array(batch);

  for (let step = 0; step < maxSteps; step++) {
    const t0 = performance.now();
    const out = await model.session.run(feeds);
    const logits = out.logits;
    if (!logits) throw new Error('the model returned no "logits" output');
    const [, seqLen, vocab] = logits.dims as [number, number, number];
    let data = (logits.location && logits.location !== 'cpu' && logits.getData
      ? await logits.getData()
      : logits.data) as Float32Array | Uint16Array;
    if (!(data instanceof Float32Array)) {
      half ??= new Float32Array(data.length);
      if (half.length !== data.length) half = new Float32Array(data.length);
      data = halfToFloat32(data, half);
    }

    for (let b = 0; b < batch; b++) {
      const row = rows[b]!;
      let next = row.tokens.at(-1) ?? model.padTokenId;
      if (!row.done) {
        const start = (b * seqLen + seqLen - 1) * vocab;
        const rowLogits = data.subarray(start, start + vocab);
        const sampling = row.req.sampling;
        if (row.req.capture) (row.capture ??= new RowCapture(row.req.capture, vocab)).push(rowLogits);
        let summary: RowSummary | undefined;
        if (recorder) {
          recorder.push(rowLogits, row.req.topK);
          queued.push(row);
        } else row.summaries.push((summary = summarizeRow(rowLogits, row.req.topK)));
        const tr = row.steps;
        let chosen: number;
        if (sampling.kind === 'greedy') {
          // The summary's best id is the argmax (same ties, NaN never first): no second pass.
          chosen = summary && summary.ids.length > 0 ? summary.ids[0]! : argmax(rowLogits);
          tr.draw!.push(null);
        } else {
          const u = row.rng!.random();
          chosen = sampleWithDraw(rowLogits, sampling, u);
          tr.draw!.push(u);
        }
        tr.token.push(chosen);
        row.tokens.push(chosen);
        next = chosen;
        const teacher = row.req.teacherTokens;
        if (teacher) {
          next = teacher[step]!;
          tr.forced!.push(next);
        } else if (row.req.stopIds.includes(chosen)) {
          row.done = true;
          row.finishReason = 'stop';
        }
        if (row.tokens.length >= row.limit) row.done = true;
        if (summary) onStep?.({ row: b, step, token: chosen, logits: rowLogits, summary });
      }
      stepIds[b] = BigInt(next);
      stepPos[b] = BigInt(row.nextPos++);
    }
    const elapsed = performance.now() - t0;
    stepMs.push(elapsed);
    if (step === 0) ttftMs = performance.now() - start;
    if (rows.every((r) => r.done)) break;

    // Feed the chosen tokens back with the new cache. Old device-side caches are released here.
    const present: TensorLike[] = [];
    for (let i = 0; i < model.numLayers; i++) {
      const k = out[model.presentKey(i)];
      const v = out[model.presentValue(i)];
      if (!k || !v) throw new Error(`the model returned no "${model.presentKey(i)}" or "${model.presentValue(i)}"`);
      present.push(k, v);
    }
    for (const t of past) if (t !== emptyKv && t.location && t.location !== 'cpu') t.dispose?.();
    past = present;
    setPast(past);
    feeds.input_ids = makeTensor('int64', stepIds.slice(), [batch, 1]);
    feeds.attention_mask = maskFor(maxPrompt + step + 1);
    if (model.hasPositionIds) feeds.position_ids = makeTensor('int64', stepPos.slice(), [batch, 1]);
  }
  for (const t of past) if (t !== emptyKv && t.location && t.location !== 'cpu') t.dispose?.();

  const totalMs = performance.now() - start;
  if (recorder) {
    const all = await recorder.drain();
    if (all.length !== queued.length) throw new Error(`the step recorder returned ${all.length} summaries for ${queued.length} rows`);
    all.forEach((summary, i) => queued[i]!.summaries.push(summary));
  }
  for (const row of rows) {
    const tr = row.steps;
    for (const summary of row.summaries) {
      tr.topIds.push(summary.ids);
      tr.topLogits.push(summary.logits);
      tr.topLogprobs.push(summary.logprobs);
      tr.margin.push(summary.margin);
      tr.hash.push(summary.hash);
    }
  }
  return rows.map((row, index) => {
    const own = stepMs.slice(0, row.tokens.length);
    const decodeMs = own.slice(1).reduce((a, b) => a + b, 0);
    return {
      tokens: row.tokens,
      steps: row.steps,
      finishReason: row.finishReason,
      timings: {
        ttftMs,
        stepMs: own,
        tokensPerSecond: own.length > 1 && decodeMs > 0 ? ((own.length - 1) * 1000) / decodeMs : null,
        totalMs,
      },
      batch: { size: batch, index },
      ...(row.req.capture ? { capture: (row.capture ?? new RowCapture(row.req.capture, 0)).finish() } : {}),
    };
  });
}

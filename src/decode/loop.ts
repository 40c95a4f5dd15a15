import { greedyToken } from './argmax-kernel.ts';
import { RowCapture } from './capture.ts';
import { emptyPast, extraFeeds, intTensor, pastNames, presentOf } from './feeds.ts';
import { halfToFloat32, type RowSummary, summarizeRow } from './logits.ts';
import { Mt19937 } from './mt19937.ts';
import { sampleWithDraw } from './sampling.ts';
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
 * Decodes a batch of requests with one forward pass per step: prefill of the padded prompts
 * (left or right, as the model's attention needs: {@link DecodeModel.padding}),
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

  // Left padding: pads first, the mask grows by one column per step and rows keep their pads.
  // Right padding: pads last; each row's mask is a prefix of ones as long as its own sequence.
  const right = model.padding === 'right';
  const types = model.inputTypes ?? {};
  const lengths = rows.map((r) => r.req.promptIds.length);
  const padOf = rows.map((r) => maxPrompt - r.req.promptIds.length);
  const maskFor = (width: number, step: number): TensorLike => {
    // Filled in the graph's own type: no per-element conversion on the hot path.
    const int32 = types.attention_mask === 'int32';
    const data = int32 ? new Int32Array(batch * width) : new BigInt64Array(batch * width);
    const one = (int32 ? 1 : 1n) as never;
    for (let b = 0; b < batch; b++) {
      if (right) data.fill(one, b * width, b * width + lengths[b]! + step);
      else data.fill(one, b * width + padOf[b]!, (b + 1) * width);
    }
    return int32 ? model.makeTensor('int32', data as Int32Array, [batch, width]) : model.makeTensor('int64', data as BigInt64Array, [batch, width]);
  };

  // Prefill feeds.
  const ids = new Array<number>(batch * maxPrompt).fill(model.padTokenId);
  const pos = new Array<number>(batch * maxPrompt).fill(0);
  for (let b = 0; b < batch; b++) {
    const prompt = rows[b]!.req.promptIds;
    const start = b * maxPrompt + (right ? 0 : padOf[b]!);
    for (let t = 0; t < prompt.length; t++) {
      ids[start + t] = prompt[t]!;
      pos[start + t] = t;
    }
  }
  // The position of each row's last prompt token in the prefill's logits.
  const uneven = padOf.some((p) => p > 0);
  const prefillLast = rows.map((_, b) => (right ? lengths[b]! - 1 : maxPrompt - 1));
  let past: TensorLike[] = emptyPast(model, batch);
  const empties = new Set(past);
  const cacheNames = pastNames(model);

  const feeds: Record<string, TensorLike> = {};
  const setPast = (kv: TensorLike[]) => {
    for (const [i, name] of cacheNames.entries()) feeds[name] = kv[i]!;
  };
  feeds.input_ids = intTensor(model, types.input_ids, ids, [batch, maxPrompt]);
  feeds.attention_mask = maskFor(maxPrompt, 0);
  if (model.hasPositionIds) feeds.position_ids = intTensor(model, types.position_ids, pos, [batch, maxPrompt]);
  Object.assign(feeds, extraFeeds(model, { prefill: true, keepAll: right && uneven }));
  setPast(past);

  const stepMs: number[] = [];
  let ttftMs = 0;
  const start = performance.now();
  let half: Float32Array | null = null;
  const stepIds = new Array<number>(batch);
  const stepPos = new Array<number>(batch);

  for (let step = 0; step < maxSteps; step++) {
    const t0 = performance.now();
    const out = await model.session.run(feeds);
    const logits = out.logits;
    if (!logits) throw new Error('the model returned no "logits" output');
    const [, seqLen, vocab] = logits.dims as [number, number, number];
    let data = (logits.location && logits.location !== 'cpu' && logits.getData ? await logits.getData() : logits.data) as Float32Array | Uint16Array;
    if (!(data instanceof Float32Array)) {
      half ??= new Float32Array(data.length);
      if (half.length !== data.length) half = new Float32Array(data.length);
      data = halfToFloat32(data, half);
    }

    for (let b = 0; b < batch; b++) {
      const row = rows[b]!;
      let next = row.tokens.at(-1) ?? model.padTokenId;
      if (!row.done) {
        // A pass returns logits for every position it was fed, or for the last one only.
        const at = seqLen === 1 ? 0 : step === 0 ? prefillLast[b]! : seqLen - 1;
        if (step === 0 && seqLen !== 1 && seqLen !== maxPrompt) throw new Error(`the prefill returned logits for ${seqLen} positions; fed ${maxPrompt}`);
        if (step === 0 && seqLen === 1 && right && uneven)
          throw new Error('the prefill returned logits for the last position only; a right-padded batch needs every position');
        const start = (b * seqLen + at) * vocab;
        const rowLogits = data.subarray(start, start + vocab);
        const sampling = row.req.sampling;
        if (row.req.capture) {
          row.capture ??= new RowCapture(row.req.capture, vocab);
          row.capture.push(rowLogits);
        }
        let summary: RowSummary | undefined;
        if (recorder) {
          // A summary back from push (the recorder did it in line) still comes back from drain too.
          summary = recorder.push(rowLogits, row.req.topK);
          queued.push(row);
        } else {
          summary = summarizeRow(rowLogits, row.req.topK);
          row.summaries.push(summary);
        }
        const tr = row.steps;
        let chosen: number;
        if (sampling.kind === 'greedy') {
          // The summary's best id is the argmax (same ties, NaN never first): no second pass.
          chosen = summary && summary.ids.length > 0 ? summary.ids[0]! : greedyToken(rowLogits);
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
      stepIds[b] = next;
      stepPos[b] = row.nextPos++;
    }
    // Every row has read its logits (capture and recorder copied them): the buffer can go now.
    if (data === logits.data) model.release?.(data);
    const elapsed = performance.now() - t0;
    stepMs.push(elapsed);
    if (step === 0) ttftMs = performance.now() - start;
    if (rows.every((r) => r.done)) break;

    // Feed the chosen tokens back with the new cache. Old device-side caches are released here.
    const present = presentOf(model, out);
    for (const t of past) {
      if (empties.has(t)) continue;
      if (t.location && t.location !== 'cpu') t.dispose?.();
      else if (model.release && ArrayBuffer.isView(t.data)) model.release(t.data);
    }
    past = present;
    setPast(past);
    feeds.input_ids = intTensor(model, types.input_ids, stepIds, [batch, 1]);
    feeds.attention_mask = maskFor(maxPrompt + step + 1, step + 1);
    if (model.hasPositionIds) feeds.position_ids = intTensor(model, types.position_ids, stepPos, [batch, 1]);
    Object.assign(feeds, extraFeeds(model, { prefill: false, keepAll: false }));
  }
  for (const t of past) if (!empties.has(t) && t.location && t.location !== 'cpu') t.dispose?.();

  const totalMs = performance.now() - start;
  if (recorder) {
    const all = await recorder.drain();
    if (all.length !== queued.length) throw new Error(`the step recorder returned ${all.length} summaries for ${queued.length} rows`);
    for (const [i, summary] of all.entries()) queued[i]!.summaries.push(summary);
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

import { generateBatch } from '../runner-contract/generate-batch.ts';
import type { GenerationOutcome, GenerationRequest, RunnerSession } from '../runner-contract/types.ts';

/**
 * The harness's self-check on a model and a runner: does KV-cache decoding give what a full
 * recomputation without the cache gives, and does a padded row of a batch give what the same
 * request gives alone? Runs through `session.generate`, so it checks every runner the same way
 * (in the browser too); compares tokens, logits hashes (bitwise) and the recorded top logits.
 */

/** One comparison of the probe. */
export interface ProbeCheck {
  id: 'kv-cache-vs-recompute' | 'padded-vs-alone';
  pass: boolean;
  /** Every step chose the same token on both sides. */
  tokensEqual: boolean;
  /** Steps compared, and how many had bitwise-identical logits (equal hashes). */
  steps: number;
  bitwiseSteps: number;
  /** Largest |Δ logit| over the candidates both sides recorded, relative to max(1, |top logit|). */
  maxRelDiff: number;
  tolerance: number;
  /** The first step whose token differs. */
  firstMismatch?: { step: number; expected: number; got: number };
  /** Set when a generation errored. */
  error?: string;
}

/** The probe's verdict. */
export interface ProbeReport {
  pass: boolean;
  checks: ProbeCheck[];
  /** The prompts it used (token ids) and the steps it decoded. */
  prompts: { short: number[]; long: number[] };
  steps: number;
}

/** Options of {@link probeSession}. */
export interface ProbeOptions {
  /** A short and a longer prompt (ids); the short one is padded in the batch of two. */
  short: number[];
  long: number[];
  /** Greedy steps to decode (default 8). */
  steps?: number;
  /** Allowed relative logit difference (default 1e-4; the kernels' own batch noise for the compute type). */
  tolerance?: number;
  /** Candidates compared per step (default 20). */
  topK?: number;
}

interface Row {
  tokens: number[];
  hashes: string[];
  top: Map<number, number>[];
}

function request(promptIds: number[], maxNewTokens: number, topK: number): GenerationRequest {
  return { promptIds, promptText: '', maxNewTokens, sampling: { kind: 'greedy' }, stopIds: [], topK };
}

function rowOf(outcome: GenerationOutcome | undefined): Row {
  if (!outcome) throw new Error('the runner returned no outcome');
  if (outcome.status === 'errored') throw new Error(`${outcome.error.code}: ${outcome.error.message}`);
  const s = outcome.generation.steps;
  return {
    tokens: outcome.generation.tokens,
    hashes: s.hash,
    top: s.topIds.map((ids, i) => new Map(ids.map((id, j) => [id, s.topLogits[i]![j]!]))),
  };
}

/** Compares `got` with `expected` step by step. */
function compare(id: ProbeCheck['id'], expected: Row, got: Row, tolerance: number): ProbeCheck {
  const steps = Math.min(expected.tokens.length, got.tokens.length);
  let bitwiseSteps = 0;
  let maxRelDiff = 0;
  let firstMismatch: ProbeCheck['firstMismatch'];
  for (let i = 0; i < steps; i++) {
    if (expected.hashes[i] === got.hashes[i]) bitwiseSteps++;
    if (!firstMismatch && expected.tokens[i] !== got.tokens[i]) firstMismatch = { step: i, expected: expected.tokens[i]!, got: got.tokens[i]! };
    const e = expected.top[i]!;
    const scale = Math.max(1, ...[...e.values()].map(Math.abs));
    for (const [tok, logit] of got.top[i]!) {
      const other = e.get(tok);
      if (other !== undefined) maxRelDiff = Math.max(maxRelDiff, Math.abs(other - logit) / scale);
    }
  }
  const tokensEqual = !firstMismatch && expected.tokens.length === got.tokens.length;
  return {
    id,
    pass: tokensEqual && maxRelDiff <= tolerance,
    tokensEqual,
    steps,
    bitwiseSteps,
    maxRelDiff,
    tolerance,
    ...(firstMismatch ? { firstMismatch } : {}),
  };
}

function failed(id: ProbeCheck['id'], err: unknown, tolerance: number): ProbeCheck {
  return { id, pass: false, tokensEqual: false, steps: 0, bitwiseSteps: 0, maxRelDiff: Number.POSITIVE_INFINITY, tolerance, error: (err as Error).message };
}

/**
 * Runs the two checks on an opened session. KV cache against recompute: greedy decoding of
 * `short` for `steps` tokens, against one pass per step over the whole sequence so far with an
 * empty cache. Padded against alone: `long` and `short` in one batch of two, each against itself
 * alone. A check passes when every token agrees and the logits stay within `tolerance`.
 */
export async function probeSession(session: Pick<RunnerSession, 'generate'>, options: ProbeOptions): Promise<ProbeReport> {
  const steps = options.steps ?? 8;
  const tolerance = options.tolerance ?? 1e-4;
  const topK = options.topK ?? 20;
  const checks: ProbeCheck[] = [];

  try {
    const [cached] = await generateBatch(session, [request(options.short, steps, topK)]);
    const kv = rowOf(cached);
    const full: Row = { tokens: [], hashes: [], top: [] };
    for (let i = 0; i < kv.tokens.length; i++) {
      const [one] = await generateBatch(session, [request([...options.short, ...kv.tokens.slice(0, i)], 1, topK)]);
      const r = rowOf(one);
      full.tokens.push(r.tokens[0]!);
      full.hashes.push(r.hashes[0]!);
      full.top.push(r.top[0]!);
    }
    checks.push(compare('kv-cache-vs-recompute', full, kv, tolerance));
  } catch (err) {
    checks.push(failed('kv-cache-vs-recompute', err, tolerance));
  }

  try {
    const [shortAlone] = await generateBatch(session, [request(options.short, steps, topK)]);
    const [longAlone] = await generateBatch(session, [request(options.long, steps, topK)]);
    const [longBatched, shortBatched] = await generateBatch(session, [request(options.long, steps, topK), request(options.short, steps, topK)]);
    const a = compare('padded-vs-alone', rowOf(shortAlone), rowOf(shortBatched), tolerance);
    const b = compare('padded-vs-alone', rowOf(longAlone), rowOf(longBatched), tolerance);
    // One check over both rows: the padded one and its unpadded neighbour.
    checks.push({
      ...a,
      pass: a.pass && b.pass,
      tokensEqual: a.tokensEqual && b.tokensEqual,
      steps: a.steps + b.steps,
      bitwiseSteps: a.bitwiseSteps + b.bitwiseSteps,
      maxRelDiff: Math.max(a.maxRelDiff, b.maxRelDiff),
      ...((a.firstMismatch ?? b.firstMismatch) ? { firstMismatch: a.firstMismatch ?? b.firstMismatch } : {}),
    });
  } catch (err) {
    checks.push(failed('padded-vs-alone', err, tolerance));
  }
  return { pass: checks.every((c) => c.pass), checks, prompts: { short: options.short, long: options.long }, steps };
}

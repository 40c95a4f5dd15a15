import { Mt19937 } from '../src/decode/mt19937.ts';
import type { RecordHead } from '../src/results/heads.ts';
import type { CompletedRecord } from '../src/results/record.ts';
import { OWN_MODEL_TYPES } from '../src/results/schema.ts';
import type { ExplorerRecord, ReportData } from './data.ts';
import type { RecordSource } from './view-model.ts';

/** At most this many completions travel to the explorer (one per runner, prompt and setting). */
export const EXPLORER_RECORDS = 120;

/**
 * Steps of each completion the explorer carries (the first ones): a step holds every recorded
 * candidate's id and logit, so 120 whole completions of 256 steps made 10 MB of the page.
 */
export const EXPLORER_STEPS = 48;

/**
 * The completions the sampling explorer steps through: free-running, run alone (batch 1),
 * repetition 0, with recorded candidates; the markov control first, then one per runner, prompt
 * and setting, round-robin over runners so a cap never hides one. `explorable` are their head
 * positions in read order; the picked ones are read in full from `source`.
 */
export function explorerData(
  heads: readonly RecordHead[],
  explorable: readonly number[],
  keyOf: (r: RecordHead) => string,
  source: RecordSource,
  tokenText: (id: number) => string | undefined,
): ReportData['explorer'] {
  const byRunner = new Map<string, RecordHead[]>();
  for (const i of explorable) {
    const r = heads[i]!;
    const list = byRunner.get(keyOf(r));
    if (list) list.push(r);
    else byRunner.set(keyOf(r), [r]);
  }
  const queues = [...byRunner.values()];
  const picked: RecordHead[] = [];
  for (let i = 0; picked.length < EXPLORER_RECORDS && queues.some((q) => q.length > i); i++) {
    for (const q of queues) if (q[i] && picked.length < EXPLORER_RECORDS) picked.push(q[i]!);
  }
  const control = (r: RecordHead) => OWN_MODEL_TYPES.has(r.runner.type);
  picked.sort((a, b) => Number(control(b)) - Number(control(a)));

  const out: ExplorerRecord[] = [];
  const wanted = new Set<number>();
  for (const head of picked) {
    const r = source.full({ recordId: head.id, profileId: head.profile.id });
    if (!r) continue;
    const s = r.steps;
    if (!s.topIds.length || !s.topLogits.length) continue;
    const draws = drawsOf(r);
    const steps = s.topIds.slice(0, EXPLORER_STEPS).map((ids, i) => {
      // A candidate whose logit the file holds as null (−∞ or NaN) weighs nothing: leave it out.
      const raw = s.topLogits[i] ?? [];
      const keep = ids.map((_, k) => typeof raw[k] === 'number');
      const logits = raw.filter((v): v is number => typeof v === 'number');
      const lp = s.topLogprobs[i]?.[0];
      for (const id of ids) wanted.add(id);
      return {
        token: s.token[i] ?? r.tokens[i]!,
        ids: ids.filter((_, k) => keep[k]),
        logits,
        lse: typeof lp === 'number' && typeof logits[0] === 'number' ? logits[0] - lp : 0,
        draw: draws[i] ?? null,
      };
    });
    out.push({
      recordId: r.id,
      runner: keyOf(r),
      promptId: r.prompt.id,
      promptText: r.prompt.text.slice(0, 500),
      settingId: r.setting.id,
      sampling: r.setting.sampling,
      tokenTexts: r.tokenTexts.slice(0, steps.length),
      steps,
      stepsTotal: s.topIds.length,
    });
  }
  // Name candidate ids with the texts the completions used for them.
  const vocab: Record<string, string> = {};
  for (const id of [...wanted].sort((a, b) => a - b)) {
    const text = tokenText(id);
    if (text !== undefined) vocab[id] = text;
  }
  return { records: out, total: explorable.length, vocab, maxSteps: EXPLORER_STEPS };
}

/**
 * Each step's uniform draw: `steps.draw` where the record carries it; else, for a sampled record,
 * the seeded generator's output replayed (each sampled step consumes exactly one `random()`, so
 * draw i is the i-th output of MT19937 seeded as the setting says); greedy draws nothing.
 */
export function drawsOf(r: CompletedRecord): (number | null)[] {
  const recorded = (r.steps as { draw?: (number | null)[] }).draw;
  if (Array.isArray(recorded)) return recorded;
  const n = r.steps.token?.length ?? r.tokens.length;
  const sampling = r.setting.sampling;
  if (sampling.kind !== 'sample') return new Array<null>(n).fill(null);
  const rng = new Mt19937(sampling.seed);
  return Array.from({ length: n }, () => rng.random());
}

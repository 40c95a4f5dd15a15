import { createHash } from 'node:crypto';
import { expandRunners, expandSettings } from './expand.ts';
import type { LoadedSuite } from './load.ts';

/** JSON with object keys sorted at every level, so the hash does not depend on key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * What defines a suite's cells and what each cell id means, as the suite hash covers it: the suite
 * id; the model as written (folder and file, or Hub repo, revision and dtype); every prompt (id, text and system text, in order, read
 * from its file if any: the order decides which prompts share a batch); the chat-template switch;
 * the expanded decoding settings (id and sampling parameters); `max_new_tokens`, `top_logprobs`,
 * `batch_sizes`; every expanded runner (id, type, options with defaults applied, repetitions, its own prompts and
 * batch sizes if any: every field of the expanded configuration); the
 * reference runner and the teacher-forcing switch. Not covered: `description`, `$schema`, YAML
 * layout, comments and key order, and the path of a prompts file (its content counts).
 */
export function suiteHashInput(suite: LoadedSuite): Record<string, unknown> {
  // The manifest is what a type means in this program, not part of the suite.
  const runners = expandRunners(suite).map(({ manifest: _, ...config }) => config);
  const refName = suite.reference ?? runners[0]?.id;
  const reference = runners.find((r) => r.id === refName || r.id.startsWith(`${refName}[`))?.id ?? null;
  return {
    id: suite.id,
    model: suite.model ?? null,
    prompts: suite.resolvedPrompts.map((p) => ({ id: p.id, text: p.text, system: p.system ?? null })),
    chatTemplate: suite.chat_template,
    settings: expandSettings(suite),
    maxNewTokens: suite.max_new_tokens,
    topLogprobs: suite.top_logprobs,
    batchSizes: suite.batch_sizes,
    // Every field of the expanded configuration, so that one added to it later is covered too.
    runners,
    reference,
    teacherForcing: suite.teacher_forcing,
  };
}

/** sha256 (hex) of {@link suiteHashInput} as canonical JSON: recorded in every record as `suite.hash`. */
export function suiteHash(suite: LoadedSuite): string {
  return createHash('sha256')
    .update(canonical(suiteHashInput(suite)))
    .digest('hex');
}

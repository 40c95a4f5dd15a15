import { z } from 'zod';
import type { RunnerList } from '../runner-contract/manifest.ts';
import { suiteSchemaFor } from './schema.ts';

type Json = Record<string, unknown>;

/**
 * The suite format as JSON Schema (input side: what a user writes), for editor completion. Runner
 * entries get one branch per runner type of `runners`, so `options` completes with that runner's own keys.
 */
export function suiteJsonSchema(list: RunnerList): Json {
  const base = z.toJSONSchema(suiteSchemaFor(list), { io: 'input', unrepresentable: 'any' }) as Json;
  const props = base.properties as Json;
  const runners = props.runners as { items: Json };
  const entry = runners.items;
  const entryProps = entry.properties as Json;
  runners.items = {
    ...entry,
    anyOf: list.manifests.map((m) => {
      const { $schema: _, ...options } = z.toJSONSchema(m.options, { io: 'input' }) as Json;
      return { properties: { type: { const: m.type }, options } };
    }),
    properties: entryProps,
  };
  return {
    ...base,
    title: 'detbench suite',
    description: 'A detbench suite: prompts, decoding grid and runners. See README.md, "Suite format".',
  };
}

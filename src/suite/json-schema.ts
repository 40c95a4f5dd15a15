import { z } from 'zod';
import { RUNNER_OPTIONS, RUNNER_TYPES } from '../runner-contract/options.ts';
import { suiteSchema } from './schema.ts';

type Json = Record<string, unknown>;

/**
 * The suite format as JSON Schema (input side: what a user writes), for editor completion. Runner
 * entries get one branch per runner type, so `options` completes with that runner's own keys.
 */
export function suiteJsonSchema(): Json {
  const base = z.toJSONSchema(suiteSchema, { io: 'input', unrepresentable: 'any' }) as Json;
  const props = base.properties as Json;
  const runners = props.runners as { items: Json };
  const entry = runners.items;
  const entryProps = entry.properties as Json;
  runners.items = {
    ...entry,
    anyOf: RUNNER_TYPES.map((type) => {
      const { $schema: _, ...options } = z.toJSONSchema(RUNNER_OPTIONS[type], { io: 'input' }) as Json;
      return { properties: { type: { const: type }, options } };
    }),
    properties: entryProps,
  };
  return {
    ...base,
    title: 'detbench suite',
    description: 'A detbench suite: prompts, decoding grid and runners. See README.md, "Suite format".',
  };
}

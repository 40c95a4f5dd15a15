import { z } from 'zod';
import { resultRecordSchema } from './schema.ts';

/**
 * The record contract as JSON Schema (draft 2020-12), published as `results.schema.json` for readers
 * in other languages. The one rule zod checks in code and JSON Schema cannot say as it is written
 * (`suite.hash` required from schemaVersion 3) is added as an `if`/`then`.
 */
export function resultsJsonSchema(): Record<string, unknown> {
  const base = z.toJSONSchema(resultRecordSchema, { io: 'input', unrepresentable: 'throw' }) as Record<string, unknown>;
  return {
    ...base,
    title: 'detbench result record',
    if: { type: 'object', properties: { schemaVersion: { const: 3 } }, required: ['schemaVersion'] },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, not a thenable
    then: { type: 'object', properties: { suite: { type: 'object', properties: { hash: { type: 'string' } }, required: ['hash'] } } },
  };
}

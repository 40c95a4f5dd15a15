import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RUNNERS } from '../runners/index.ts';
import { suiteJsonSchema } from '../src/suite/json-schema.ts';

describe('published suite JSON Schema', () => {
  it('is current (regenerate with `npm run schema`)', () => {
    const committed = JSON.parse(readFileSync(new URL('../suites/suite.schema.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(suiteJsonSchema(RUNNERS))));
  });

  it('completes runner options per runner type', () => {
    const schema = suiteJsonSchema(RUNNERS) as {
      properties: { runners: { items: { anyOf: { properties: { type: { const: string }; options: { properties: object } } }[] } } };
    };
    const branches = schema.properties.runners.items.anyOf;
    const cpu = branches.find((b) => b.properties.type.const === 'node-cpu');
    expect(Object.keys(cpu!.properties.options.properties)).toContain('intra_op_threads');
  });
});

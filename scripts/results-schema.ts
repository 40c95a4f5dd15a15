// Writes results.schema.json from the record schema (src/results/schema.ts). `npm run schema`; a test checks it is current.
import { writeFileSync } from 'node:fs';
import { resultsJsonSchema } from '../src/results/json-schema.ts';

const file = new URL('../results.schema.json', import.meta.url);
writeFileSync(file, `${JSON.stringify(resultsJsonSchema(), null, 2)}\n`);
console.log(`wrote ${file.pathname}`);

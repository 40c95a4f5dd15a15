// Writes suites/suite.schema.json from the zod schema. `npm run schema`; a test checks it is current.
import { writeFileSync } from 'node:fs';
import { RUNNERS } from '../runners/index.ts';
import { suiteJsonSchema } from '../src/suite/json-schema.ts';

const file = new URL('../suites/suite.schema.json', import.meta.url);
writeFileSync(file, `${JSON.stringify(suiteJsonSchema(RUNNERS), null, 2)}\n`);
console.log(`wrote ${file.pathname}`);

import { readFileSync } from 'node:fs';

/** detbench's own version, from package.json. */
export const DETBENCH_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

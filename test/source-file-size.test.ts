import { type Dirent, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// House style: small files, one concept each. A source file over the limit holds two ideas: split it.
const LIMIT = 300;
const root = join(import.meta.dirname, '..');
const FOLDERS = ['api', 'bin', 'cli', 'src', 'runners', 'reports', 'scripts'];
const SOURCE = /\.(ts|mts|cts|js|mjs|cjs|py)$/;
/** Data, not code: curated reports. */
const SKIPPED = new Set(['reports/examples']);
/** A generated file says so on its first line (`npm run build:kernels` writes `// Written by ...: do not edit.`). */
const isGenerated = (text: string) => /^\/\/ Written by .*do not edit/.test(text.slice(0, text.indexOf('\n')));

function sources(dir: string): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(join(root, dir), { withFileTypes: true });
  } catch {
    return []; // a folder this tree does not have
  }
  const out: string[] = [];
  for (const e of entries) {
    const path = `${dir}/${e.name}`;
    if (SKIPPED.has(path) || e.name === 'node_modules') continue;
    if (e.isDirectory()) out.push(...sources(path));
    else if (SOURCE.test(e.name)) out.push(path);
  }
  return out;
}

const lineCount = (text: string) => text.split('\n').length - (text.endsWith('\n') ? 1 : 0);

describe(`no hand-written source file is over ${LIMIT} lines`, () => {
  const files = FOLDERS.flatMap(sources).map((file) => ({ file, text: readFileSync(join(root, file), 'utf8') }));

  it('walks the source folders and tells generated files apart', () => {
    const names = files.map((f) => f.file);
    expect(names).toContain('src/metrics/compute.ts');
    expect(names).toContain('src/decode/step-wasm.ts');
    expect(files.filter((f) => isGenerated(f.text)).map((f) => f.file)).toContain('src/decode/step-wasm.ts');
    expect(isGenerated(files.find((f) => f.file === 'src/metrics/compute.ts')!.text)).toBe(false);
  });

  it(`keeps every hand-written one at ${LIMIT} lines or fewer`, () => {
    const over = files
      .filter((f) => !isGenerated(f.text))
      .map((f) => ({ file: f.file, lines: lineCount(f.text) }))
      .filter((f) => f.lines > LIMIT);
    expect(over, over.map((f) => `${f.file}: ${f.lines} lines (split it: one concept per file)`).join('\n')).toEqual([]);
  });
});

// The dependency rules of ARCHITECTURE.md, checked on the source: the core (src/) imports neither
// runners/ nor reports/ (the CLI, cli/, and the library, api/, wire them), and the decode loop and
// sampler (src/decode/) import only each other and use no Node or DOM global, so the very same
// modules run in Chromium.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Every .ts file under `dir`, relative to the repository root. */
function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)))
    .sort();
}

/** Every module specifier a file names: static imports and exports (type-only too), `import(...)` with a literal, `require`. */
function specifiers(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

/** `import(x)` where x is not a string literal: a module the scan cannot see. */
function computedImports(source: string): number {
  const file = ts.createSourceFile('x.ts', source, ts.ScriptTarget.ES2022, true);
  let n = 0;
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && !ts.isStringLiteralLike(node.arguments[0] ?? node)) n++;
    ts.forEachChild(node, visit);
  };
  visit(file);
  return n;
}

/** Where a relative specifier of `file` points, relative to the root; undefined for a package or `node:` module. */
function target(file: string, spec: string): string | undefined {
  return spec.startsWith('.') ? relative(ROOT, resolve(ROOT, dirname(file), spec)) : undefined;
}

/** The core's violations in one file: imports of runners/ or reports/. */
function coreViolations(file: string, source: string): string[] {
  return specifiers(source)
    .filter((s) => /^(runners|reports)(\/|$)/.test(target(file, s) ?? ''))
    .map((s) => `${file} imports ${s}`);
}

/** Globals that exist only in Node or only in a browser page. */
const HOST_GLOBALS = new Set([
  'process',
  'Buffer',
  'require',
  '__dirname',
  '__filename',
  'global',
  'window',
  'document',
  'navigator',
  'location',
  'localStorage',
  'sessionStorage',
  'HTMLElement',
  'XMLHttpRequest',
  'fetch',
]);

/** The decode core's violations in one file: anything but src/decode/ imported, a Node or DOM global used. */
function decodeViolations(file: string, source: string): string[] {
  const out = specifiers(source)
    .filter((s) => !(target(file, s) ?? '').startsWith('src/decode/'))
    .map((s) => `${file} imports ${s}`);
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true);
  const visit = (node: ts.Node): void => {
    const p = node.parent;
    const isName =
      p &&
      (ts.isPropertyAccessExpression(p) ||
        ts.isPropertyAssignment(p) ||
        ts.isPropertySignature(p) ||
        ts.isPropertyDeclaration(p) ||
        ts.isMethodDeclaration(p)) &&
      p.name === node;
    if (ts.isIdentifier(node) && !isName && HOST_GLOBALS.has(node.text)) out.push(`${file} uses ${node.text}`);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

describe('dependency rules', () => {
  it('the checks see a planted violation in every form', () => {
    const planted = [
      "import { RUNNERS } from '../../runners/index.ts';",
      "import type { ReportData } from '../../reports/data.ts';",
      "export { x } from '../../runners/markov/manifest.ts';",
      "const m = await import('../../reports/generate.ts');",
    ];
    for (const line of planted) expect(coreViolations('src/run/x.ts', line)).toHaveLength(1);
    expect(
      coreViolations('src/run/x.ts', "import { z } from 'zod';\nimport { a } from './a.ts';\n// import '../../runners/index.ts' in a comment is no import"),
    ).toEqual([]);
    expect(computedImports('const m = await import(name);')).toBe(1);
    expect(decodeViolations('src/decode/x.ts', "import { readFileSync } from 'node:fs';")).toEqual(['src/decode/x.ts imports node:fs']);
    expect(decodeViolations('src/decode/x.ts', "import { z } from 'zod';")).toEqual(['src/decode/x.ts imports zod']);
    expect(decodeViolations('src/decode/x.ts', "import type { LoadedModel } from '../model/types.ts';")).toEqual(['src/decode/x.ts imports ../model/types.ts']);
    expect(decodeViolations('src/decode/x.ts', 'const n = process.pid + document.title.length;')).toEqual([
      'src/decode/x.ts uses process',
      'src/decode/x.ts uses document',
    ]);
    expect(
      decodeViolations('src/decode/x.ts', "import { a } from './a.ts';\nconst o = { process: 1, document: 2 };\nconst t = o.process; // a window in a comment"),
    ).toEqual([]);
  });

  it('src/ imports nothing from runners/ or reports/', () => {
    const files = tsFiles('src');
    expect(files.length).toBeGreaterThan(100);
    expect(files.flatMap((f) => coreViolations(f, read(f)))).toEqual([]);
  });

  it('src/ loads no module it does not name, but for the --jobs worker, which imports the runner list its parent names', () => {
    expect(tsFiles('src').filter((f) => computedImports(read(f)) > 0)).toEqual(['src/run/job-worker.ts']);
  });

  it('src/decode/ imports only src/decode/ and uses no Node or DOM global', () => {
    const files = tsFiles('src/decode');
    expect(files).toContain('src/decode/loop.ts');
    expect(files.flatMap((f) => decodeViolations(f, read(f)))).toEqual([]);
  });
});

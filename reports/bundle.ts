import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDirs } from '../src/fs-dirs.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const pageDir = join(here, 'page');
/** Cached bundles live under node_modules (git-ignored, rebuilt after `npm ci` when missing). */
const cacheDir = join(root, 'node_modules', '.cache', 'detbench-report');

/** The page script: reports/page/main.ts with vega, vega-lite and vega-embed, as one IIFE. */
export interface PageBundle {
  code: string;
  /** sha256 (base64) of `code`, for the page's Content-Security-Policy. */
  sha256: string;
  cached: boolean;
}

function version(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

/** Hash of everything the bundle depends on: the page sources, data types and the library versions. */
function sourceKey(): string {
  const h = createHash('sha256');
  const files = [
    ...readdirSync(pageDir)
      .filter((f) => f.endsWith('.ts'))
      .sort()
      .map((f) => join(pageDir, f)),
    join(here, 'data.ts'),
    join(root, 'src', 'metrics', 'types.ts'),
  ];
  for (const f of files) h.update(f).update(readFileSync(f));
  for (const p of ['esbuild', 'vega', 'vega-lite', 'vega-embed']) h.update(`${p}@${version(p)}`);
  return h.digest('hex').slice(0, 20);
}

/**
 * Inline `<script>` content must not contain `</script` or `<!--`. Both can only occur inside
 * string, template or regex literals (or comments), where `<\/` and `\x3C!--` mean the same.
 */
export function scriptSafe(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '\\x3C!--');
}

/** Bundles the page with esbuild, or reuses the cached bundle of identical sources. */
export async function pageBundle(log: (m: string) => void = () => {}): Promise<PageBundle> {
  const key = sourceKey();
  const file = join(cacheDir, `page-${key}.js`);
  let code: string | undefined;
  let cached = false;
  try {
    code = readFileSync(file, 'utf8');
    cached = true;
  } catch {
    const esbuild = await import('esbuild');
    const t0 = performance.now();
    const out = await esbuild.build({
      entryPoints: [join(pageDir, 'main.ts')],
      bundle: true,
      minify: true,
      format: 'iife',
      platform: 'browser',
      target: 'es2022',
      write: false,
      legalComments: 'none',
      absWorkingDir: root,
      logLevel: 'silent',
    });
    code = scriptSafe(out.outputFiles[0]!.text);
    log(`report: bundled the page script in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    try {
      makeDirs(cacheDir);
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, code);
      renameSync(tmp, file);
    } catch {
      // A read-only node_modules only costs a rebuild next time.
    }
  }
  return { code, sha256: createHash('sha256').update(code).digest('base64'), cached };
}

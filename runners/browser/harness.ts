import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { DetbenchError, errorMessage } from '../../src/errors.ts';
import type { PageOpen } from './protocol.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** onnxruntime-web's runtime files, served verbatim. */
export const ORT_DIST = path.join(ROOT, 'node_modules/onnxruntime-web/dist');
const PAGE_ENTRY = fileURLToPath(new URL('./in-chromium/main.ts', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.onnx': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8',
};

/** Cross-origin isolation (for WASM threads: SharedArrayBuffer), on every response. */
const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

/** Resolves bare `onnxruntime-web` imports of a page bundle to the harness's own ORT file. */
export function ortExternal(ortUrl: string): Plugin {
  return {
    name: 'ort-external',
    setup(b) {
      b.onResolve({ filter: /^onnxruntime-(web|common)(\/.*)?$/ }, () => ({ path: ortUrl, external: true }));
    },
  };
}

/** Bundles a page entry for Chromium, in memory (no build step, nothing written). */
export async function bundlePage(entry: string, plugins: Plugin[] = []): Promise<string> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    logLevel: 'silent',
    plugins,
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  return out.outputFiles[0]!.text;
}

let recorderBundle: Promise<string> | null = null;
/** The page's recording worker (runners/browser/in-chromium/recorder-worker.ts), built once per process. */
export function recorderWorkerBundle(): Promise<string> {
  const entry = fileURLToPath(new URL('./in-chromium/recorder-worker.ts', import.meta.url));
  recorderBundle ??= bundlePage(entry).catch((err: unknown) => {
    recorderBundle = null;
    throw new DetbenchError('PAGE_BUNDLE_FAILED', `cannot bundle ${entry}: ${errorMessage(err)}`, { cause: err });
  });
  return recorderBundle;
}

let pageBundle: Promise<string> | null = null;
/** The decode page bundle, built once per process. */
export function decodePageBundle(): Promise<string> {
  pageBundle ??= bundlePage(PAGE_ENTRY).catch((err: unknown) => {
    pageBundle = null;
    throw new DetbenchError('PAGE_BUNDLE_FAILED', `cannot bundle ${PAGE_ENTRY}: ${errorMessage(err)}`, { cause: err });
  });
  return pageBundle;
}

/**
 * A small HTTP server on 127.0.0.1 (a secure context, so WebGPU is exposed) for one browser
 * runner: the page, its bundle, onnxruntime-web's dist files and the files mounted on it.
 */
export class Harness {
  readonly #server: Server;
  readonly #files = new Map<string, string>();
  readonly #texts = new Map<string, { body: string; type: string }>();
  #origin = '';

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Starts listening; port 0 picks a free one. A port that cannot be had is a HARNESS_PORT error. */
  static async start(port = 0): Promise<Harness> {
    const server = createServer();
    const h = new Harness(server);
    server.on('request', (req, res) => h.#serve(req.url ?? '/', res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new DetbenchError(
            'HARNESS_PORT',
            `cannot listen on 127.0.0.1:${port} for the browser page (${err.code ?? err.message}); set port: 0 for a free one`,
            { cause: err },
          ),
        ),
      );
      server.listen(port, '127.0.0.1', () => resolve());
    });
    h.#origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    h.text('/', '<!doctype html><meta charset="utf-8"><title>detbench</title><body>detbench page</body>', '.html');
    h.text('/favicon.ico', '', '.txt');
    return h;
  }

  get origin(): string {
    return this.#origin;
  }

  /** Serves a file from disk at `urlPath`; returns the full URL. */
  file(urlPath: string, filePath: string): string {
    this.#files.set(urlPath, filePath);
    return this.#origin + urlPath;
  }

  /** Serves every file under `dir` below `prefix` (e.g. a model folder). */
  dir(prefix: string, dir: string): string {
    this.#files.set(prefix.endsWith('/') ? prefix : `${prefix}/`, dir);
    return this.#origin + prefix;
  }

  /**
   * Serves an ONNX file at /model/model.onnx and its external-data files beside it, under the
   * names the graph gives them (relative to the ONNX file's folder), as onnxruntime-web asks for
   * them; returns what the page's `open` needs to fetch them.
   */
  model(onnxPath: string, externalData: readonly string[]): Pick<PageOpen, 'modelUrl' | 'externalData'> {
    const modelUrl = this.file('/model/model.onnx', onnxPath);
    return {
      modelUrl,
      externalData: externalData.map((location) => {
        this.file(`/model/${location}`, path.resolve(path.dirname(onnxPath), location));
        return { path: location, url: `${this.#origin}/model/${encodeURI(location)}` };
      }),
    };
  }

  /** Serves an in-memory text (a bundle, a page). */
  text(urlPath: string, body: string, ext: string): string {
    this.#texts.set(urlPath, { body, type: TYPES[ext] ?? 'text/plain' });
    return this.#origin + urlPath;
  }

  #serve(url: string, res: import('node:http').ServerResponse): void {
    const p = decodeURIComponent(new URL(url, 'http://x').pathname);
    const text = this.#texts.get(p);
    if (text) {
      res.writeHead(200, { ...ISOLATION, 'Content-Type': text.type });
      res.end(text.body);
      return;
    }
    let file = this.#files.get(p);
    if (!file) {
      // Longest mounted folder prefix; no path may climb out of it.
      for (const [prefix, dir] of this.#files) {
        if (!prefix.endsWith('/') || !p.startsWith(prefix)) continue;
        const rel = p.slice(prefix.length);
        const full = path.resolve(dir, rel);
        if (full.startsWith(path.resolve(dir) + path.sep)) file = full;
      }
    }
    let size = -1;
    try {
      if (file) size = statSync(file).isFile() ? statSync(file).size : -1;
    } catch {
      size = -1;
    }
    if (!file || size < 0) {
      res.writeHead(404, ISOLATION).end('not found');
      return;
    }
    res.writeHead(200, { ...ISOLATION, 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Content-Length': size });
    createReadStream(file).pipe(res);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

import type { Page } from 'puppeteer-core';
import type { CapturedRows } from '../../src/decode/capture.ts';
import type { DecodeResult } from '../../src/decode/types.ts';
import { DetbenchError, errorMessage } from '../../src/errors.ts';
import type { RowPlaces } from '../recording/summary-ring-core.ts';
import { type LaunchedChrome, launchChrome } from './chrome.ts';
import { decodePageBundle, Harness, ORT_DIST, recorderWorkerBundle } from './harness.ts';
import {
  ORT_BUILD,
  type PageApi,
  type PageEp,
  type PageFacts,
  type PageInit,
  type PageOpen,
  type PageRequest,
  type PageSession,
  type WireCapture,
} from './protocol.ts';

/** Everything a host needs to (re)create its page. */
export interface HostConfig {
  chromePath: string;
  ep: PageEp;
  numThreads: number;
  simd: boolean;
  powerPreference?: 'low-power' | 'high-performance';
  /** The ONNX file served to the page; omitted for a page without a model (golden tests, probes). */
  modelPath?: string;
  /** Its external-data files, as the graph names them (relative to the ONNX file's folder). */
  modelExternalData?: readonly string[];
  open?: Omit<PageOpen, 'modelUrl' | 'externalData'>;
  port: number;
  /** Longest a batch may take before the page counts as hung (set-up gets at least 10 minutes). */
  timeoutMs: number;
  /** Tests only: launch without the WebGPU flags, to see a page that gets no adapter. */
  withoutWebgpuFlags?: boolean;
  /** Tests and benchmarks only: record in line even where a Web Worker could (wasm). */
  inlineRecording?: boolean;
  /** Tests only: the page ring's `inlineBelow` (0: every row it can to the worker). */
  recorderInlineBelow?: number;
}

const HTML = '<!doctype html><meta charset="utf-8"><title>detbench</title><script type="module" src="/page.js"></script>';
const MAX_WARNINGS = 20;
/** Failures after which the page cannot be trusted and is replaced before the next batch. */
const FATAL = new Set(['BROWSER_CRASHED', 'BROWSER_EXITED', 'PAGE_TIMEOUT']);
/** Page set-up (browser start, onnxruntime-web, session creation) gets at least this long, whatever the batch limit. */
const SETUP_MS = 600_000;
const GONE = /Target closed|Session closed|Connection closed|detached|crashed/i;

type PageGlobal = typeof globalThis & { detbench: PageApi };

/**
 * One browser, one page, one onnxruntime-web session, reused across batches. A page that crashes,
 * hangs or loses its browser fails the batch in flight; the next batch gets a new page (and a new
 * browser when the old one is gone) with the session created again.
 */
export class BrowserHost {
  readonly config: HostConfig;
  readonly harness: Harness;
  chrome: LaunchedChrome | null = null;
  page: Page | null = null;
  facts: PageFacts | null = null;
  session: PageSession | null = null;
  /** Console warnings and errors of the page (onnxruntime-web reports EP fallbacks there). */
  readonly warnings: string[] = [];
  /** How many times the page (or browser) was replaced after a failure. */
  restarts = 0;
  #broken: Error | null = null;
  /** Where the page fetches the model (and its external data), once served. */
  #served: Pick<PageOpen, 'modelUrl' | 'externalData'> | null = null;
  #crash: Promise<never> | null = null;

  private constructor(config: HostConfig, harness: Harness) {
    this.config = config;
    this.harness = harness;
  }

  /** Starts the harness, launches the browser and prepares the page (and the session, with a model). */
  static async start(config: HostConfig): Promise<BrowserHost> {
    const harness = await Harness.start(config.port);
    const host = new BrowserHost(config, harness);
    try {
      harness.text('/', HTML, '.html');
      harness.text('/page.js', await decodePageBundle(), '.js');
      harness.text('/recorder.js', await recorderWorkerBundle(), '.js');
      harness.dir('/ort/', ORT_DIST);
      if (config.modelPath) host.#served = harness.model(config.modelPath, config.modelExternalData ?? []);
      await host.#preparePage();
      return host;
    } catch (err) {
      await host.close();
      throw err;
    }
  }

  /** The browser's process id, while it runs. */
  get pid(): number | null {
    return this.chrome?.browser.process()?.pid ?? null;
  }

  async #preparePage(): Promise<void> {
    if (!this.chrome?.browser.connected) {
      await this.chrome?.close().catch(() => {});
      this.chrome = null;
      this.chrome = await launchChrome(this.config.chromePath, this.config.ep === 'webgpu' && !this.config.withoutWebgpuFlags);
    }
    const browser = this.chrome.browser;
    const page = await browser.newPage();
    this.page = page;
    this.#broken = null;
    // Rejects when the page crashes or the browser goes away; raced against every call.
    this.#crash = new Promise<never>((_, reject) => {
      page.once('error', (err) => reject(new DetbenchError('BROWSER_CRASHED', `the page crashed: ${err.message}`)));
      page.once('close', () => reject(new DetbenchError('BROWSER_CRASHED', 'the page was closed')));
      browser.once('disconnected', () => reject(new DetbenchError('BROWSER_EXITED', 'the browser exited')));
    });
    this.#crash.catch(() => {});
    page.on('console', (msg) => {
      // ANSI colours come from onnxruntime's native logger.
      if ((msg.type() === 'warn' || msg.type() === 'error') && this.warnings.length < MAX_WARNINGS)
        // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the ANSI colour codes this strips
        this.warnings.push(msg.text().replace(/\u001b\[[0-9;]*m/g, ''));
    });
    await this.#guard(async () => {
      await page.goto(`${this.harness.origin}/`, { waitUntil: 'load' });
      await page.waitForFunction(() => 'detbench' in globalThis);
    }, 'loading the page');
    const init: PageInit = {
      ep: this.config.ep,
      ortUrl: `/ort/${ORT_BUILD[this.config.ep]}`,
      wasmPaths: `${this.harness.origin}/ort/`,
      numThreads: this.config.numThreads,
      simd: this.config.simd,
      ...(this.config.powerPreference ? { powerPreference: this.config.powerPreference } : {}),
      ...(this.config.ep === 'wasm' && !this.config.inlineRecording ? { recorderUrl: `${this.harness.origin}/recorder.js` } : {}),
      ...(this.config.recorderInlineBelow !== undefined ? { recorderInlineBelow: this.config.recorderInlineBelow } : {}),
    };
    this.facts = await this.#guard(() => page.evaluate((i) => (globalThis as PageGlobal).detbench.init(i), init), 'initialising onnxruntime-web');
    if (this.config.ep === 'webgpu' && !this.facts.adapter) {
      throw new DetbenchError('WEBGPU_UNAVAILABLE', `no WebGPU adapter in ${this.chrome.version}: ${this.facts.adapterError ?? 'unknown reason'}`);
    }
    if (this.config.numThreads > 1 && !this.facts.crossOriginIsolated) {
      throw new DetbenchError('NOT_ISOLATED', `threads: ${this.config.numThreads} needs a cross-origin isolated page, and this one is not`);
    }
    if (this.#served && this.config.open) {
      const open: PageOpen = { ...this.config.open, ...this.#served };
      this.session = await this.#guard(() => page.evaluate((o) => (globalThis as PageGlobal).detbench.open(o), open), 'creating the session');
    }
  }

  /** Runs `fn` against the page, failing fast if the page crashes, the browser exits or time runs out. */
  async #guard<T>(fn: () => Promise<T>, what: string, limitMs = Math.max(this.config.timeoutMs, SETUP_MS)): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DetbenchError('PAGE_TIMEOUT', `${what} took longer than ${limitMs} ms`)), limitMs);
    });
    try {
      return await Promise.race([fn(), this.#crash!, timeout]);
    } catch (err) {
      let e = err;
      // puppeteer may report a dead target before the 'error'/'disconnected' events arrive.
      if (!(e instanceof DetbenchError) && (!this.chrome?.browser.connected || GONE.test(errorMessage(e)))) {
        e = new DetbenchError('BROWSER_EXITED', `the browser or page went away during ${what}: ${errorMessage(err)}`, { cause: err });
      }
      if (e instanceof DetbenchError && FATAL.has(e.code)) this.#broken = e;
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Replaces a broken page (and a dead browser) before the next batch. */
  async #recover(): Promise<void> {
    const old = this.page;
    this.page = null;
    this.session = null;
    if (old && this.chrome?.browser.connected) {
      // A hung page may never answer close(); the browser goes with it then.
      const closed = await Promise.race([
        old.close().then(
          () => true,
          () => false,
        ),
        new Promise<boolean>((r) => setTimeout(() => r(false), 5_000)),
      ]);
      if (!closed) {
        this.chrome.browser.process()?.kill('SIGKILL');
        await this.chrome.close().catch(() => {});
        this.chrome = null;
      }
    }
    this.restarts++;
    await this.#preparePage();
  }

  /** Decodes one batch in the page. Throws on failure; a crash leaves the host to recover next time. */
  /** Where the page's rows were summarised since its session opened (null: in line only). */
  async recordingPlaces(): Promise<RowPlaces | null> {
    const page = this.page;
    if (!page) return null;
    return this.#guard(() => page.evaluate(() => (globalThis as PageGlobal).detbench.recordingPlaces()), 'reading the recording counts');
  }

  async generate(requests: PageRequest[]): Promise<DecodeResult[]> {
    if (this.#broken || !this.page) {
      try {
        await this.#recover();
      } catch (err) {
        throw new DetbenchError(
          'BROWSER_RESTART_FAILED',
          `the page could not be restarted after "${this.#broken?.message ?? 'a failure'}": ${errorMessage(err)}`,
          { cause: err },
        );
      }
    }
    const page = this.page!;
    const results = await this.#guard(
      () => page.evaluate((r) => (globalThis as PageGlobal).detbench.generate(r), requests),
      'the batch',
      this.config.timeoutMs,
    );
    return results.map(({ capture, ...r }) => (capture ? { ...r, capture: fromWire(capture) } : r));
  }

  async close(): Promise<void> {
    await this.chrome?.close().catch(() => {});
    this.chrome = null;
    this.page = null;
    await this.harness.close();
  }
}

/** The page's base64 capture back as typed arrays (copied, so they own aligned memory). */
function fromWire(w: WireCapture): CapturedRows {
  const bytes = new Uint8Array(Buffer.from(w.base64, 'base64'));
  if (w.encoding === 'f32') return { encoding: 'f32', vocab: w.vocab, steps: w.steps, data: new Float32Array(bytes.buffer) };
  return { encoding: 'u16', vocab: w.vocab, steps: w.steps, top: w.top ?? [], data: new Uint16Array(bytes.buffer) };
}

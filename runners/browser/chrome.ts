import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import { DetbenchError, errorMessage } from '../../src/errors.ts';

/** The command that installs a browser the runners can drive (Debian, as in CI). */
export const INSTALL_HINT = 'apt-get install -y chromium';

/** Where a Chromium is usually found, in order. */
export const USUAL_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/** The browser to drive: `chrome_path`, else $CHROME_PATH, else the usual paths; or why there is none. */
export function findChrome(chromePath: string | undefined): { path: string } | { reason: string } {
  const missing = (p: string, from: string) =>
    `${from} ${p} does not exist; install Chromium with \`${INSTALL_HINT}\` or point ${from} at a Chrome/Chromium binary`;
  if (chromePath) return existsSync(chromePath) ? { path: chromePath } : { reason: missing(chromePath, 'chrome_path') };
  const env = process.env.CHROME_PATH;
  if (env) return existsSync(env) ? { path: env } : { reason: missing(env, 'CHROME_PATH') };
  const found = USUAL_PATHS.find((p) => existsSync(p));
  if (found) return { path: found };
  return { reason: `no Chrome/Chromium found (looked at ${USUAL_PATHS.join(', ')}); install one with \`${INSTALL_HINT}\`, or set chrome_path or CHROME_PATH` };
}

const BASE_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
];
/** WebGPU in headless Chromium; with no GPU it runs on SwiftShader (Vulkan on the CPU). */
const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--enable-unsafe-swiftshader'];

/** A launched browser with its own throwaway profile. */
export interface LaunchedChrome {
  browser: Browser;
  version: string;
  args: string[];
  /** Closes the browser (if still alive) and removes the profile. */
  close(): Promise<void>;
}

/** Launches headless Chromium; `webgpu` adds the flags that expose WebGPU (also on SwiftShader). */
export async function launchChrome(executablePath: string, webgpu: boolean): Promise<LaunchedChrome> {
  const userDataDir = await mkdtemp(path.join(tmpdir(), 'detbench-chrome-'));
  const args = [...BASE_ARGS, ...(webgpu ? WEBGPU_ARGS : [])];
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath,
      headless: true,
      userDataDir,
      args,
      protocolTimeout: 600_000,
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
  } catch (err) {
    await rm(userDataDir, { recursive: true, force: true });
    throw new DetbenchError('BROWSER_LAUNCH_FAILED', `${executablePath} did not start as a browser: ${errorMessage(err).split('\n')[0]}`, { cause: err });
  }
  const version = await browser.version();
  return {
    browser,
    version,
    args,
    async close() {
      await browser.close().catch(() => browser.process()?.kill('SIGKILL'));
      await rm(userDataDir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

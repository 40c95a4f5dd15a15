import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { detectNvidia, type HostReader } from './detect.ts';

/**
 * What the CUDA execution provider of onnxruntime-node needs on a host, checked without loading
 * onnxruntime: an NVIDIA driver (libcuda), the provider libraries beside the binding, of the same
 * onnxruntime version, with their CUDA libraries resolvable, and the asked-for device.
 */

/** The provider libraries onnxruntime-node loads for `executionProviders: ['cuda']`. */
export const CUDA_PROVIDER_LIBS = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'] as const;

/** Written beside the libraries by scripts/install-cuda-provider.sh. */
export const PROVIDER_MARKER = 'detbench-cuda-provider.json';

/** The npm package the install script takes the libraries from, per onnxruntime-node version. */
export const PROVIDER_PACKAGES: Record<string, { name: string; version: string; cuda: string }> = {
  '1.29.0': { name: 'com.github.asus4.onnxruntime.linux-x64-gpu', version: '0.4.9', cuda: '13' },
};

/** The marker's content. */
export interface ProviderMarker {
  package: string;
  version: string;
  /** onnxruntime version the libraries were built for. */
  onnxruntime: string;
  cuda: string;
  installedAt: string;
  files: Record<string, { bytes: number; sha256: string }>;
}

/** How to install the provider, for reasons shown to the user. */
export function installHint(need: string): string {
  const pkg = PROVIDER_PACKAGES[need];
  const from = pkg ? ` (copies them from the npm package ${pkg.name}@${pkg.version}, built for onnxruntime ${need} and CUDA ${pkg.cuda})` : '';
  return `install it with scripts/install-cuda-provider.sh${from}, or reinstall onnxruntime-node with --onnxruntime-node-install=cuda12 where its NuGet download host is reachable`;
}

/** node_modules/onnxruntime-node/bin/napi-v6/<platform>/<arch>, where the binding looks for providers. */
export function ortNodeBinDir(): string | null {
  try {
    const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
    return join(dirname(pkg), 'bin', 'napi-v6', platform(), arch());
  } catch {
    return null;
  }
}

/** The marker in `dir`, or null if absent or unreadable. */
export function readProviderMarker(dir: string): ProviderMarker | null {
  try {
    const m = JSON.parse(readFileSync(join(dir, PROVIDER_MARKER), 'utf8')) as ProviderMarker;
    return typeof m.onnxruntime === 'string' ? m : null;
  } catch {
    return null;
  }
}

/**
 * onnxruntime versions named inside a provider library: the library embeds its ORT_VERSION as a
 * NUL-terminated string. Checks for `need` first (a fast native search), else lists every 1.x.y
 * string (x >= 10) it holds, highest first.
 */
export async function scanLibraryVersions(file: string, need: string): Promise<string[]> {
  const exact = Buffer.from(`\0${need}\0`, 'latin1');
  const found = new Set<string>();
  let tail: Buffer = Buffer.alloc(0);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: sonames in a binary are NUL-delimited strings
  const re = /\x001\.([1-9]\d)\.(\d{1,3})\x00/g;
  for await (const chunk of createReadStream(file, { highWaterMark: 8 << 20 }) as AsyncIterable<Buffer>) {
    const buf = tail.length ? Buffer.concat([tail, chunk]) : chunk;
    if (buf.indexOf(exact) >= 0) return [need];
    for (const m of buf.toString('latin1').matchAll(re)) found.add(`1.${m[1]}.${m[2]}`);
    tail = buf.subarray(Math.max(0, buf.length - 16));
  }
  const key = (v: string) =>
    v
      .split('.')
      .map((n) => n.padStart(4, '0'))
      .join('.');
  return [...found].sort((a, b) => (key(a) < key(b) ? 1 : -1));
}

/** The provider libraries in `dir` check out, or why not. */
export type LibraryCheck =
  | { ok: true; dir: string; version: string; source: string }
  | { ok: false; code: 'PROVIDER_MISSING' | 'PROVIDER_MISMATCH'; reason: string };

/**
 * Checks that the CUDA provider libraries are in `dir` and built for onnxruntime `need`. The
 * version comes from the install script's marker, else from the library itself.
 */
export async function checkCudaProviderLibrary(dir: string, need: string): Promise<LibraryCheck> {
  const missing = CUDA_PROVIDER_LIBS.filter((f) => !existsSync(join(dir, f)));
  if (missing.length) {
    return { ok: false, code: 'PROVIDER_MISSING', reason: `CUDA provider library ${missing.join(' and ')} missing from ${dir}: ${installHint(need)}` };
  }
  const marker = readProviderMarker(dir);
  let version: string;
  let source: string;
  if (marker) {
    version = marker.onnxruntime;
    source = `${marker.package}@${marker.version}`;
  } else {
    version = (await scanLibraryVersions(join(dir, CUDA_PROVIDER_LIBS[0]), need))[0] ?? 'an unknown version';
    source = 'no install marker; version read from the library';
  }
  if (version !== need) {
    return {
      ok: false,
      code: 'PROVIDER_MISMATCH',
      reason: `CUDA provider library version mismatch in ${dir}: found ${version} (${source}), need ${need} to match onnxruntime-node ${need}: ${installHint(need)}`,
    };
  }
  return { ok: true, dir, version, source };
}

/** The kernel driver's version from /proc/driver/nvidia/version, or null without a driver. */
export function nvidiaKernelDriver(host: HostReader): string | null {
  const text = host.readFile('/proc/driver/nvidia/version');
  if (text === null) return null;
  return /Kernel Module\s+(?:for\s+\S+\s+)?([\d.]+)/.exec(text)?.[1] ?? 'unknown';
}

/** Folders the dynamic loader searches for libcuda.so.1 (LD_LIBRARY_PATH first). */
export function libcudaDirs(env: NodeJS.ProcessEnv): string[] {
  const fromEnv = (env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  return [...fromEnv, '/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/nvidia/lib64', '/usr/lib/wsl/lib', '/lib/x86_64-linux-gnu'];
}

/** Where libcuda.so.1 (the driver's user-space library) is, or null. */
export function findLibcuda(host: HostReader, env: NodeJS.ProcessEnv): string | null {
  for (const d of libcudaDirs(env)) if (host.exists(join(d, 'libcuda.so.1'))) return join(d, 'libcuda.so.1');
  const cache = host.run('ldconfig', ['-p']);
  return cache ? (/libcuda\.so\.1 .*=> (\S+)/.exec(cache)?.[1] ?? null) : null;
}

/**
 * How many devices CUDA will number, given the GPUs present and CUDA_VISIBLE_DEVICES (which CUDA
 * reads up to its first invalid entry).
 */
export function visibleDeviceCount(physical: number, visible: string | undefined): number {
  if (visible === undefined) return physical;
  let n = 0;
  for (const entry of visible.split(',').map((s) => s.trim())) {
    if (entry === '') break;
    if (/^\d+$/.test(entry) ? Number(entry) >= physical : !/^(GPU|MIG)-/.test(entry)) break;
    n++;
  }
  return Math.min(n, physical);
}

/** Null if `deviceId` names a visible device, else why not. */
export function checkDeviceId(deviceId: number, count: number, visible: string | undefined): string | null {
  if (!Number.isInteger(deviceId) || deviceId < 0) return `device_id ${deviceId} is not a device index (0, 1, ...)`;
  if (deviceId < count) return null;
  const where = visible !== undefined ? ` (CUDA_VISIBLE_DEVICES=${visible})` : '';
  return count === 0
    ? `device_id ${deviceId}: no CUDA device is visible${where}`
    : `device_id ${deviceId}: only ${count} CUDA device(s) visible, numbered 0..${count - 1}${where}`;
}

/** The libraries `file` needs that the loader cannot find now (from ldd), e.g. libcublas.so.13. */
export function unresolvedLibraries(file: string, host: HostReader): string[] {
  const out = host.run('ldd', [file]);
  if (out === null) return [];
  return [...out.matchAll(/^\s*(\S+)\s*=>\s*not found/gm)].map((m) => m[1]!);
}

/** Everything probe() needs from outside, injectable for tests. */
export interface CudaProbeDeps {
  host: HostReader;
  env: NodeJS.ProcessEnv;
  /** Folder of the provider libraries (null: onnxruntime-node not found). */
  binDir: string | null;
  /** The onnxruntime-node version the libraries must match. */
  onnxruntime: string;
  platform: string;
}

/** What probe() learned: available with facts for the record, or every reason it cannot run. */
export type CudaProbe = { available: true; info: Record<string, unknown> } | { available: false; reason: string };

/**
 * Checks, without loading onnxruntime, whether the CUDA EP can run `deviceId` here. When several
 * things are missing, the reason lists them all, driver first.
 */
export async function probeCudaHost(deviceId: number, deps: CudaProbeDeps): Promise<CudaProbe> {
  if (deps.platform !== 'linux-x64') return { available: false, reason: `node-cuda runs on linux-x64 only (this is ${deps.platform})` };
  const problems: string[] = [];
  const driver = nvidiaKernelDriver(deps.host);
  const libcuda = findLibcuda(deps.host, deps.env);
  if (!driver || !libcuda) {
    const what = [!driver && 'no /proc/driver/nvidia/version', !libcuda && 'libcuda.so.1 not found'].filter(Boolean).join(', ');
    problems.push(`no NVIDIA driver (${what})`);
  }
  let lib: LibraryCheck | null = null;
  if (!deps.binDir) problems.push('onnxruntime-node is not installed');
  else {
    lib = await checkCudaProviderLibrary(deps.binDir, deps.onnxruntime);
    if (!lib.ok) problems.push(lib.reason);
  }
  if (problems.length) return { available: false, reason: problems.join('; ') };

  const unresolved = unresolvedLibraries(join(deps.binDir!, CUDA_PROVIDER_LIBS[0]), deps.host);
  if (unresolved.length) {
    const cuda = PROVIDER_PACKAGES[deps.onnxruntime]?.cuda;
    const libs = `CUDA${cuda ? ` ${cuda}` : ''} runtime, cuBLAS and cuDNN`;
    return {
      available: false,
      reason: `the CUDA provider library needs ${unresolved.join(', ')}, which the loader cannot find: add the folders of the ${libs} libraries to LD_LIBRARY_PATH`,
    };
  }
  const gpus = detectNvidia(deps.host).gpus;
  const count = visibleDeviceCount(gpus.length, deps.env.CUDA_VISIBLE_DEVICES);
  const bad = checkDeviceId(deviceId, count, deps.env.CUDA_VISIBLE_DEVICES);
  if (bad) return { available: false, reason: bad };
  const ok = lib as Extract<LibraryCheck, { ok: true }>;
  return {
    available: true,
    info: { driver, libcuda, gpus, visibleDevices: count, providerLibrary: { dir: ok.dir, version: ok.version, source: ok.source } },
  };
}

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/** How detection reaches the host; tests pass fakes. Every method returns null when the fact is absent. */
export interface HostReader {
  readFile(path: string): string | null;
  /** Runs a program (no shell) and returns its stdout, or null if it is missing, fails or times out. */
  run(program: string, args: string[]): string | null;
  exists(path: string): boolean;
}

/** The real host, with a short timeout on every program so detection never hangs a run. */
export const realHost: HostReader = {
  readFile(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return null;
    }
  },
  run(program, args) {
    const r = spawnSync(program, args, { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
    return r.status === 0 && typeof r.stdout === 'string' ? r.stdout : null;
  },
  exists: existsSync,
};

/**
 * CPU feature flags that change which onnxruntime (MLAS) kernels run and so can change the last
 * bits of a result; the rest of /proc/cpuinfo's list is noise for this purpose.
 */
export const CPU_FLAGS_OF_INTEREST = [
  'sse4_2',
  'avx',
  'avx2',
  'fma',
  'f16c',
  'avx_vnni',
  'avx512f',
  'avx512bw',
  'avx512vl',
  'avx512_vnni',
  'avx512_bf16',
  'avx512_fp16',
  'amx_tile',
  'amx_bf16',
  'amx_int8',
  'asimd',
  'asimddp',
  'sve',
] as const;

/** The CPU model and the flags of interest from /proc/cpuinfo (x86 `flags`, Arm `Features`). */
export function parseCpuinfo(text: string): { model: string | null; flags: string[] } {
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim() ?? null;
  const model = field('model name') ?? field('Hardware') ?? field('cpu model');
  const all = new Set((field('flags') ?? field('Features') ?? '').split(/\s+/).filter(Boolean));
  return { model, flags: CPU_FLAGS_OF_INTEREST.filter((f) => all.has(f)) };
}

/** One GPU as nvidia-smi reports it. */
export interface GpuInfo {
  name: string;
  memoryMiB: number | null;
  driver: string | null;
  computeCapability: string | null;
}

/** The query detbench asks nvidia-smi (CSV, no header, no units). */
export const NVIDIA_SMI_QUERY = ['--query-gpu=name,memory.total,driver_version,compute_cap', '--format=csv,noheader,nounits'];

/** Parses the CSV answer to {@link NVIDIA_SMI_QUERY}. */
export function parseNvidiaSmiQuery(csv: string): GpuInfo[] {
  return csv
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const [name, mem, driver, cc] = line.split(',').map((s) => s.trim());
      const value = (s: string | undefined) => (s && !/^\[?N\/A\]?$/i.test(s) && !/not supported/i.test(s) ? s : null);
      const memoryMiB = Number(value(mem));
      return {
        name: name ?? 'unknown',
        memoryMiB: Number.isFinite(memoryMiB) && memoryMiB > 0 ? memoryMiB : null,
        driver: value(driver),
        computeCapability: value(cc),
      };
    });
}

/** The CUDA version the driver supports, from plain `nvidia-smi` output ("CUDA Version: 13.0"). */
export function parseNvidiaSmiCuda(text: string): string | null {
  return /CUDA Version:\s*([\d.]+)/.exec(text)?.[1] ?? null;
}

/** "Chromium 131.0.6778.85 built on Debian ..." -> "Chromium 131.0.6778.85". */
export function parseChromiumVersion(text: string): string | null {
  const m = /(Chromium|Google Chrome|Chrome)\s+([\d.]+)/.exec(text);
  return m ? `${m[1]} ${m[2]}` : null;
}

/** The OS by name ("Ubuntu 24.04.1 LTS") from /etc/os-release, else null. */
export function parseOsRelease(text: string): string | null {
  return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1] ?? null;
}

/** Paths where a browser for the browser runners is looked for, in order. */
export const CHROMIUM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** GPUs, driver and CUDA version via nvidia-smi; empty when there is no NVIDIA driver. */
export function detectNvidia(host: HostReader): { gpus: GpuInfo[]; cuda: string | null } {
  const csv = host.run('nvidia-smi', NVIDIA_SMI_QUERY);
  if (csv === null) return { gpus: [], cuda: null };
  const plain = host.run('nvidia-smi', []);
  return { gpus: parseNvidiaSmiQuery(csv), cuda: plain ? parseNvidiaSmiCuda(plain) : null };
}

/** The first Chromium found and its version, or null. */
export function detectChromium(host: HostReader): { path: string; version: string | null } | null {
  const path = CHROMIUM_PATHS.find((p) => host.exists(p));
  if (!path) return null;
  const out = host.run(path, ['--version']);
  return { path, version: out ? parseChromiumVersion(out) : null };
}

import { createRequire } from 'node:module';
import { arch, cpus, platform, release, totalmem } from 'node:os';
import { ortNodeBinDir, readProviderMarker } from './cuda.ts';
import { detectChromium, detectNvidia, type GpuInfo, type HostReader, parseCpuinfo, parseOsRelease, realHost } from './detect.ts';

/** What machine a record was taken on (runner-specific facts live in the record's `environment`). */
export interface Fingerprint {
  cpuModel: string;
  cpuCores: number;
  os: string;
  arch: string;
  memoryGiB: number;
  node: string;
  /** CPU features that select onnxruntime's kernels (avx2, avx512f, amx_tile, ...); absent off Linux. */
  cpuFlags?: string[];
  /** OS by name, e.g. "Ubuntu 24.04.1 LTS" (`os` holds the kernel). */
  osName?: string;
  /** First GPU's name, "NAME xN" when there are N alike; absent without an NVIDIA driver. */
  gpu?: string;
  gpus?: GpuInfo[];
  /** NVIDIA driver version, e.g. "580.95.05". */
  driver?: string;
  /** Highest CUDA version the driver supports, e.g. "13.0". */
  cuda?: string;
  /** onnxruntime-node's version as installed. */
  onnxruntime?: string;
  /** Browser for the browser runners, e.g. "Chromium 131.0.6778.85". */
  browser?: string;
  /** Where onnxruntime-node's CUDA provider came from (scripts/install-cuda-provider.sh's marker). */
  cudaProvider?: string;
  /** Extra facts from a hardware profile or detection. */
  [key: string]: unknown;
}

/** onnxruntime-node's version from its package.json, without loading the native binding. */
export function installedOnnxruntimeVersion(): string | null {
  try {
    const req = createRequire(import.meta.url);
    return (req(req.resolve('onnxruntime-node/package.json')) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

/** Detects the facts of a machine through `host` (the real one unless a test passes a fake). */
export function detectFingerprintWith(host: HostReader): Fingerprint {
  const list = cpus();
  const fp: Fingerprint = {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cpuCores: list.length,
    os: `${platform()} ${release()}`,
    arch: arch(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.versions.node,
  };
  const cpuinfo = host.readFile('/proc/cpuinfo');
  if (cpuinfo) {
    const parsed = parseCpuinfo(cpuinfo);
    if (fp.cpuModel === 'unknown' && parsed.model) fp.cpuModel = parsed.model;
    fp.cpuFlags = parsed.flags;
  }
  const osRelease = host.readFile('/etc/os-release');
  const osName = osRelease ? parseOsRelease(osRelease) : null;
  if (osName) fp.osName = osName;
  const nvidia = detectNvidia(host);
  if (nvidia.gpus.length > 0) {
    const first = nvidia.gpus[0]!;
    const alike = nvidia.gpus.every((g) => g.name === first.name);
    fp.gpu = alike && nvidia.gpus.length > 1 ? `${first.name} x${nvidia.gpus.length}` : first.name;
    fp.gpus = nvidia.gpus;
    if (first.driver) fp.driver = first.driver;
  }
  if (nvidia.cuda) fp.cuda = nvidia.cuda;
  const ort = installedOnnxruntimeVersion();
  if (ort) fp.onnxruntime = ort;
  const binDir = ortNodeBinDir();
  const marker = binDir ? readProviderMarker(binDir) : null;
  if (marker) fp.cudaProvider = `${marker.package}@${marker.version} (onnxruntime ${marker.onnxruntime}, CUDA ${marker.cuda})`;
  const chromium = detectChromium(host);
  if (chromium?.version) fp.browser = chromium.version;
  return fp;
}

let cached: Fingerprint | undefined;

/**
 * Detects this machine: CPU, memory, OS, Node, and where present /proc/cpuinfo flags, nvidia-smi's
 * GPUs/driver/CUDA, onnxruntime-node and Chromium versions. Runs the probes once per process.
 */
export function detectFingerprint(): Fingerprint {
  cached ??= detectFingerprintWith(realHost);
  return structuredClone(cached);
}

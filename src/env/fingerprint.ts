import { cpus, platform, release, arch, totalmem } from 'node:os';

/** What machine a record was taken on (runner-specific facts live in the record's `environment`). */
export interface Fingerprint {
  cpuModel: string;
  cpuCores: number;
  os: string;
  arch: string;
  memoryGiB: number;
  node: string;
  /** Extra facts from a hardware profile or detection (GPU, driver, CUDA, browser ...). */
  [key: string]: unknown;
}

/** Detects the basic facts of this machine. */
export function detectFingerprint(): Fingerprint {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cpuCores: list.length,
    os: `${platform()} ${release()}`,
    arch: arch(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.versions.node,
  };
}

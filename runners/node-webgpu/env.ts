import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Placement } from '../ort-node/cuda-checks.ts';

/**
 * How node-webgpu finds its Vulkan: onnxruntime-node 1.29 bundles Dawn, which dlopens the system
 * loader libvulkan.so.1; the loader picks a driver (ICD) from VK_ICD_FILENAMES or its own search.
 * Dawn's instance lives for the whole process and keeps the first ICD it found (or failed to find),
 * so each session runs in a child process whose environment names the ICD from the start.
 */

/** Where Chromium builds put SwiftShader's Vulkan ICD (Debian, Fedora/Arch, Google Chrome). */
export const SWIFTSHADER_DIRS = ['/usr/lib/chromium', '/usr/lib64/chromium', '/usr/lib/chromium-browser', '/opt/google/chrome'];
const SWIFTSHADER_JSON = 'vk_swiftshader_icd.json';

/** Where libvulkan.so.1 is looked for when `ldconfig -p` cannot say. */
const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib64', '/lib'];

export const VULKAN_HINT = "use `vulkan_icd: swiftshader` (Chromium's software Vulkan: apt-get install chromium) or install a Vulkan driver for this GPU";

/** What a probe or session needs to start its worker: the ICD and the child's environment. */
export type VulkanPlan =
  | {
      ok: true;
      /** The option as given. */
      option: string;
      /** The ICD manifest the loader is pointed at; null = the loader's own search ('system'). */
      icdFile: string | null;
      /** The driver library that manifest names, resolved (null for 'system'). */
      icdLibrary: string | null;
      /** The loader the child will dlopen, as found here. */
      libvulkan: string;
      env: NodeJS.ProcessEnv;
    }
  | { ok: false; reason: string };

/** Host facts the plan reads; tests pass fakes. */
export interface VulkanDeps {
  env: NodeJS.ProcessEnv;
  exists(path: string): boolean;
  readText(path: string): string;
  /** `ldconfig -p` output, or '' where it cannot run. */
  ldconfig(): string;
}

export const realVulkanDeps = (): VulkanDeps => ({
  env: process.env,
  exists: existsSync,
  readText: (p) => readFileSync(p, 'utf8'),
  ldconfig: () => {
    for (const bin of ['/sbin/ldconfig', '/usr/sbin/ldconfig']) {
      try {
        return execFileSync(bin, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      } catch {
        /* next */
      }
    }
    return '';
  },
});

/** The libvulkan.so.1 the dynamic linker would load: LD_LIBRARY_PATH, then its cache, then the usual folders. */
export function findLibvulkan(deps: VulkanDeps): string | null {
  for (const dir of (deps.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean)) {
    if (deps.exists(join(dir, 'libvulkan.so.1'))) return join(dir, 'libvulkan.so.1');
  }
  const cached = /libvulkan\.so\.1 \([^)]*\) => (\S+)/.exec(deps.ldconfig());
  if (cached?.[1]) return cached[1];
  for (const dir of LIB_DIRS) if (deps.exists(join(dir, 'libvulkan.so.1'))) return join(dir, 'libvulkan.so.1');
  return null;
}

/** SwiftShader's ICD manifest from a Chromium install: beside $CHROME_PATH's real binary, then the usual folders. */
export function findSwiftshaderIcd(deps: VulkanDeps): string | null {
  const dirs = [...SWIFTSHADER_DIRS];
  const chrome = deps.env.CHROME_PATH;
  if (chrome) {
    try {
      dirs.unshift(dirname(realpathSync(chrome)));
    } catch {
      /* a missing CHROME_PATH is the browser runners' concern */
    }
  }
  for (const dir of dirs) if (deps.exists(join(dir, SWIFTSHADER_JSON))) return join(dir, SWIFTSHADER_JSON);
  return null;
}

/** The driver library an ICD manifest names (relative paths are relative to the manifest), or an error. */
export function icdLibraryOf(file: string, deps: VulkanDeps): { library: string } | { error: string } {
  let lib: unknown;
  try {
    lib = (JSON.parse(deps.readText(file)) as { ICD?: { library_path?: unknown } }).ICD?.library_path;
  } catch (err) {
    return { error: `${file}: not a Vulkan ICD manifest (${err instanceof Error ? err.message : String(err)})` };
  }
  if (typeof lib !== 'string' || !lib) return { error: `${file}: no ICD.library_path` };
  // A bare name is for the dynamic linker to find; a path with a slash is relative to the manifest.
  const library = isAbsolute(lib) || !lib.includes('/') ? lib : resolve(dirname(file), lib);
  if (lib.includes('/') && !deps.exists(library)) return { error: `${file}: its driver ${library} does not exist` };
  return { library };
}

/**
 * Resolves `vulkan_icd` to the child's environment. 'system' clears the ICD variables so the loader
 * searches its own folders; 'swiftshader' or a path sets VK_ICD_FILENAMES (and VK_DRIVER_FILES, its
 * newer name) to exactly that manifest. Nothing falls back to another driver.
 */
export function vulkanPlan(option: string, deps: VulkanDeps): VulkanPlan {
  const env: NodeJS.ProcessEnv = { ...deps.env };
  for (const k of ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'VK_ADD_DRIVER_FILES']) delete env[k];
  let icdFile: string | null = null;
  let icdLibrary: string | null = null;
  if (option === 'swiftshader') {
    const found = findSwiftshaderIcd(deps);
    if (!found) {
      return {
        ok: false,
        reason: `vulkan_icd: swiftshader: no ${SWIFTSHADER_JSON} in ${SWIFTSHADER_DIRS.join(', ')} or beside $CHROME_PATH (it ships with Chromium: apt-get install chromium)`,
      };
    }
    icdFile = found;
  } else if (option !== 'system') {
    icdFile = resolve(option);
    if (!deps.exists(icdFile)) return { ok: false, reason: `vulkan_icd: ${option}: ICD manifest not found` };
  }
  if (icdFile) {
    const lib = icdLibraryOf(icdFile, deps);
    if ('error' in lib) return { ok: false, reason: `vulkan_icd: ${option}: ${lib.error}` };
    icdLibrary = lib.library;
    env.VK_ICD_FILENAMES = icdFile;
    env.VK_DRIVER_FILES = icdFile;
  }
  const libvulkan = findLibvulkan(deps);
  if (!libvulkan) {
    return { ok: false, reason: "libvulkan.so.1 (the Vulkan loader onnxruntime-node's Dawn needs) is not installed: apt-get install libvulkan1" };
  }
  return { ok: true, option, icdFile, icdLibrary, libvulkan, env };
}

/** The Vulkan loader and drivers mapped into a process (text of its /proc/<pid>/maps). */
export function vulkanLibsOf(maps: string): { libvulkan: string | null; drivers: string[]; swiftshader: boolean } {
  const paths = new Set<string>();
  for (const line of maps.split('\n')) {
    const path = /\s(\/\S+\.so(\.[\d.]+)?)$/.exec(line)?.[1];
    if (path) paths.add(path);
  }
  let libvulkan: string | null = null;
  const drivers: string[] = [];
  for (const p of paths) {
    if (/\/libvulkan\.so(\.[\d.]+)?$/.test(p)) libvulkan = p;
    else if (/libvk_|libvulkan_|swiftshader|nvidia|amdvlk/i.test(p)) drivers.push(p);
  }
  return { libvulkan, drivers: drivers.sort(), swiftshader: drivers.some((d) => /swiftshader/i.test(d)) };
}

/**
 * Node placement from onnxruntime's verbose session log ("Node(s) placed on [EP]. Number of nodes: N"
 * followed by one "OpType (name)" line per node). The WebGPU EP's profiler crashes onnxruntime-node
 * 1.29 on SwiftShader, so the log stands in for the profile node-cuda reads. Null if absent.
 */
export function placementFromLog(log: string): Placement | null {
  const nodesByProvider: Record<string, number> = {};
  const cpuOps = new Set<string>();
  let current: string | null = null;
  let found = false;
  for (const line of log.split('\n')) {
    const head = /Node\(s\) placed on \[(\w+)\]\. Number of nodes: (\d+)/.exec(line);
    if (head) {
      current = head[1]!;
      nodesByProvider[current] = (nodesByProvider[current] ?? 0) + Number(head[2]);
      found = true;
      continue;
    }
    const node = /VerifyEachNodeIsAssignedToAnEp\]\s{3}(\S+) \(/.exec(line);
    if (node && current === 'CPUExecutionProvider') cpuOps.add(node[1]!);
    else if (!node) current = null;
  }
  return found ? { nodesByProvider, cpuOps: [...cpuOps].sort() } : null;
}

/**
 * The provider a node-webgpu session effectively runs on. onnxruntime-node throws rather than
 * falling back when ['webgpu'] alone cannot be created, so creation is the first evidence; the
 * placement must show WebGPU nodes, and with kv_on_gpu the KV cache must come back as GPU buffers.
 */
export function effectiveWebgpu(placement: Placement | null, kvOnGpu: boolean, kvLocation: string | null): string {
  if (placement && (placement.nodesByProvider.WebGpuExecutionProvider ?? 0) === 0) return 'cpu';
  if (kvOnGpu && kvLocation !== 'gpu-buffer') return `webgpu (present.* on ${kvLocation ?? 'nowhere'}; expected gpu-buffer)`;
  return 'webgpu';
}

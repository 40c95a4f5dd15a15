import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * How node-cuda tells whether the CUDA EP really runs the model: onnxruntime drops nodes it has no
 * CUDA kernel for to the CPU EP without an error, so the runner reads where each node ran.
 */

/** Whether the CUDA provider library is mapped into this process (text of /proc/self/maps). */
export function cudaProviderMapped(maps: string): boolean {
  return /\/libonnxruntime_providers_cuda\.so\b/.test(maps);
}

/** /proc/self/maps, or '' where there is none. */
export function readSelfMaps(): string {
  try {
    return readFileSync('/proc/self/maps', 'utf8');
  } catch {
    return '';
  }
}

/** Nodes per execution provider in one profiled run, and the op types left on the CPU. */
export interface Placement {
  nodesByProvider: Record<string, number>;
  cpuOps: string[];
}

interface ProfileEvent {
  cat?: string;
  name?: string;
  args?: { provider?: string; op_name?: string };
}

/** Counts each node once (by name) per provider from onnxruntime's profile (chrome-trace JSON). */
export function placementFromProfile(events: readonly ProfileEvent[]): Placement {
  const seen = new Map<string, { provider: string; op: string }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.args?.provider || !e.name) continue;
    const node = e.name.replace(/_(kernel_time|fence_before|fence_after)$/, '');
    seen.set(node, { provider: e.args.provider, op: e.args.op_name ?? '?' });
  }
  const nodesByProvider: Record<string, number> = {};
  const cpuOps = new Set<string>();
  for (const { provider, op } of seen.values()) {
    nodesByProvider[provider] = (nodesByProvider[provider] ?? 0) + 1;
    if (provider === 'CPUExecutionProvider') cpuOps.add(op);
  }
  return { nodesByProvider, cpuOps: [...cpuOps].sort() };
}

/** Reads the one profile file onnxruntime wrote into `dir` (profileFilePrefix pointed there). */
export function readProfileDir(dir: string): ProfileEvent[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  if (files.length !== 1) throw new Error(`expected one onnxruntime profile in ${dir}, found ${files.length}`);
  return JSON.parse(readFileSync(join(dir, files[0]!), 'utf8')) as ProfileEvent[];
}

/**
 * The provider the session effectively runs on: 'cuda' only if the CUDA library is loaded and at
 * least one node ran on the CUDA EP (shape arithmetic on the CPU is normal); 'cpu' otherwise.
 * Without a placement (profile unreadable) the loaded library alone decides.
 */
export function effectiveProvider(mapped: boolean, placement: Placement | null): 'cuda' | 'cpu' {
  if (!mapped) return 'cpu';
  if (!placement) return 'cuda';
  return (placement.nodesByProvider.CUDAExecutionProvider ?? 0) > 0 ? 'cuda' : 'cpu';
}

/**
 * TF32 cannot be passed to the CUDA EP through onnxruntime-node (its binding forwards only
 * deviceId; the EP's default is use_tf32=1), so `use_tf32: false` sets NVIDIA's process-wide
 * NVIDIA_TF32_OVERRIDE=0, which cuBLAS and cuDNN read when they load. Returns the variable's value
 * to set (undefined: leave unset), or an error when the wish cannot be honored in this process.
 */
export function tf32Plan(
  useTf32: boolean,
  current: string | undefined,
  cudaAlreadyLoaded: boolean,
): { ok: true; set: string | undefined; effective: string } | { ok: false; message: string } {
  if (!useTf32) {
    if (current === '0') return { ok: true, set: '0', effective: 'off (NVIDIA_TF32_OVERRIDE=0)' };
    if (cudaAlreadyLoaded) {
      return {
        ok: false,
        message:
          'use_tf32: false needs NVIDIA_TF32_OVERRIDE=0 before the CUDA libraries load, and an earlier node-cuda session in this process loaded them with TF32 allowed: run this runner alone (--runner) or export NVIDIA_TF32_OVERRIDE=0',
      };
    }
    return { ok: true, set: '0', effective: 'off (NVIDIA_TF32_OVERRIDE=0)' };
  }
  if (current === '0') {
    return {
      ok: false,
      message:
        'use_tf32: true, but NVIDIA_TF32_OVERRIDE=0 is set in this process (by the environment or an earlier node-cuda runner with use_tf32: false): run the TF32 runner in a separate detbench run',
    };
  }
  return { ok: true, set: undefined, effective: 'allowed (CUDA EP default use_tf32=1)' };
}

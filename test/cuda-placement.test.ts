import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { cudaProviderMapped, effectiveProvider, placementFromProfile, readProfileDir, readSelfMaps, tf32Plan } from '../runners/ort-node/cuda-checks.ts';
import { makeNodeTensor } from '../runners/ort-node/session.ts';
import { decode } from '../src/decode/loop.ts';
import { decodeModelFor } from '../src/decode/session-model.ts';
import { loadModel } from '../src/model/load.ts';
import { specOf } from '../src/runner-contract/spec.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

describe('telling a CUDA session from a silent CPU fallback', () => {
  it('sees the CUDA provider library in /proc/self/maps only when it is loaded', () => {
    const lib = '/x/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so';
    expect(cudaProviderMapped(`7f00-7f01 r-xp 00000000 08:01 1 ${lib}\n`)).toBe(true);
    expect(cudaProviderMapped('7f00-7f01 r-xp 00000000 08:01 1 /x/libonnxruntime.so.1\n')).toBe(false);
    // No CUDA here, so nothing loaded it into this process.
    expect(cudaProviderMapped(readSelfMaps())).toBe(false);
  });

  it('reads the placement from a real onnxruntime profile: every node on the CPU EP means effective "cpu"', async () => {
    const model = await loadModel(await tinyModelDir(), { onnxFile: 'onnx/model.onnx' });
    const dir = mkdtempSync(join(tmpdir(), 'detbench-prof-'));
    const session = await ort.InferenceSession.create(model.onnxPath, {
      executionProviders: ['cpu'],
      enableProfiling: true,
      profileFilePrefix: join(dir, 'ort'),
    });
    const dm = decodeModelFor(session, specOf(model), makeNodeTensor);
    await decode(dm, [{ promptIds: [1], maxNewTokens: 2, sampling: { kind: 'greedy' }, stopIds: [], topK: 1 }]);
    session.endProfiling();
    const placement = placementFromProfile(readProfileDir(dir));
    await session.release();
    expect(Object.keys(placement.nodesByProvider)).toEqual(['CPUExecutionProvider']);
    expect(placement.nodesByProvider.CPUExecutionProvider).toBeGreaterThan(5);
    expect(placement.cpuOps).toContain('MatMul');
    // Even with the CUDA library loaded, a session whose nodes all ran on the CPU is not a CUDA session.
    expect(effectiveProvider(true, placement)).toBe('cpu');
    expect(effectiveProvider(false, placement)).toBe('cpu');
  });

  it('calls a session with nodes on the CUDA EP "cuda", shape arithmetic on the CPU notwithstanding', () => {
    const events = [
      { cat: 'Session', name: 'session_initialization', args: {} },
      { cat: 'Node', name: 'MatMul_1_kernel_time', args: { provider: 'CUDAExecutionProvider', op_name: 'MatMul' } },
      { cat: 'Node', name: 'MatMul_1_kernel_time', args: { provider: 'CUDAExecutionProvider', op_name: 'MatMul' } },
      { cat: 'Node', name: 'Softmax_2_kernel_time', args: { provider: 'CUDAExecutionProvider', op_name: 'Softmax' } },
      { cat: 'Node', name: 'Shape_3_kernel_time', args: { provider: 'CPUExecutionProvider', op_name: 'Shape' } },
    ];
    const placement = placementFromProfile(events);
    expect(placement).toEqual({ nodesByProvider: { CUDAExecutionProvider: 2, CPUExecutionProvider: 1 }, cpuOps: ['Shape'] });
    expect(effectiveProvider(true, placement)).toBe('cuda');
    expect(effectiveProvider(false, placement)).toBe('cpu');
    expect(effectiveProvider(true, null)).toBe('cuda');
  });
});

describe('TF32 through NVIDIA_TF32_OVERRIDE', () => {
  it('turns TF32 off by setting the override before the CUDA libraries load', () => {
    expect(tf32Plan(false, undefined, false)).toEqual({ ok: true, set: '0', effective: 'off (NVIDIA_TF32_OVERRIDE=0)' });
    expect(tf32Plan(false, '0', true)).toMatchObject({ ok: true, set: '0' });
  });

  it('leaves the EP default (TF32 allowed) when asked for TF32', () => {
    expect(tf32Plan(true, undefined, true)).toEqual({ ok: true, set: undefined, effective: 'allowed (CUDA EP default use_tf32=1)' });
  });

  it('refuses what one process cannot do rather than run with the wrong math', () => {
    expect(tf32Plan(false, undefined, true)).toMatchObject({ ok: false });
    expect(tf32Plan(true, '0', false)).toMatchObject({ ok: false });
  });
});

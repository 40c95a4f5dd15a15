import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runSuite } from '../api/index.ts';
import { manifestOf } from '../runners/index.ts';
import { effectiveWebgpu, placementFromLog, type VulkanDeps, vulkanLibsOf, vulkanPlan } from '../runners/node-webgpu/env.ts';
import { nodeWebgpuRunner } from '../runners/node-webgpu/runner.ts';
import { readResults } from '../src/results/read.ts';
import type { CompletedRecord } from '../src/results/record.ts';
import { generateBatch } from '../src/runner-contract/generate-batch.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

const options = (o: Record<string, unknown>) => manifestOf('node-webgpu').options.parse(o);

/** A host with these files and nothing else. */
function host(files: Record<string, string>, env: NodeJS.ProcessEnv = {}): VulkanDeps {
  return { env, exists: (p) => p in files, readText: (p) => files[p] ?? '', ldconfig: () => '' };
}
const LOADER = '/usr/lib/x86_64-linux-gnu/libvulkan.so.1';
const SWIFT = '/usr/lib/chromium/vk_swiftshader_icd.json';
const SWIFT_ICD = JSON.stringify({ ICD: { library_path: './libvk_swiftshader.so' } });

describe('node-webgpu: which Vulkan', () => {
  it('an ICD path that does not exist is unavailable, through probe() too', async () => {
    expect(vulkanPlan('/nonexistent/icd.json', host({ [LOADER]: '' }))).toEqual({
      ok: false,
      reason: 'vulkan_icd: /nonexistent/icd.json: ICD manifest not found',
    });
    const probe = await nodeWebgpuRunner.probe(options({ vulkan_icd: '/nonexistent/icd.json' }));
    expect(probe).toEqual({ available: false, reason: 'vulkan_icd: /nonexistent/icd.json: ICD manifest not found' });
  });

  it('no libvulkan.so.1: unavailable with the package to install', () => {
    const plan = vulkanPlan('system', host({}));
    expect(plan.ok).toBe(false);
    if (!plan.ok) expect(plan.reason).toContain('apt-get install libvulkan1');
  });

  it('swiftshader without Chromium: unavailable, naming where it looked', () => {
    const plan = vulkanPlan('swiftshader', host({ [LOADER]: '' }));
    expect(plan.ok).toBe(false);
    if (!plan.ok) expect(plan.reason).toMatch(/vk_swiftshader_icd\.json.*apt-get install chromium/);
  });

  it('an ICD whose driver library is missing is refused before any process starts', () => {
    const plan = vulkanPlan('swiftshader', host({ [LOADER]: '', [SWIFT]: SWIFT_ICD }));
    expect(plan).toEqual({ ok: false, reason: `vulkan_icd: swiftshader: ${SWIFT}: its driver /usr/lib/chromium/libvk_swiftshader.so does not exist` });
  });

  it('swiftshader points the child at exactly that manifest; system clears the ICD variables', () => {
    const files = { [LOADER]: '', [SWIFT]: SWIFT_ICD, '/usr/lib/chromium/libvk_swiftshader.so': '' };
    const swift = vulkanPlan('swiftshader', host(files, { VK_ADD_DRIVER_FILES: '/x.json' }));
    expect(swift).toMatchObject({ ok: true, icdFile: SWIFT, icdLibrary: '/usr/lib/chromium/libvk_swiftshader.so', libvulkan: LOADER });
    if (swift.ok) expect(swift.env).toEqual({ VK_ICD_FILENAMES: SWIFT, VK_DRIVER_FILES: SWIFT });
    const system = vulkanPlan('system', host(files, { VK_ICD_FILENAMES: SWIFT, PATH: '/bin' }));
    expect(system).toMatchObject({ ok: true, icdFile: null, icdLibrary: null });
    if (system.ok) expect(system.env).toEqual({ PATH: '/bin' });
  });

  it('reads the loader and drivers a process mapped', () => {
    const maps = [
      `7f00-7f01 r-xp 00000000 08:01 12 /usr/lib/x86_64-linux-gnu/libvulkan.so.1.3.239`,
      `7f02-7f03 r-xp 00000000 08:01 13 /usr/lib/chromium/libvk_swiftshader.so`,
      `7f04-7f05 r-xp 00000000 08:01 14 /usr/lib/x86_64-linux-gnu/libc.so.6`,
      `7f06-7f07 rw-p 00000000 00:00 0 `,
    ].join('\n');
    expect(vulkanLibsOf(maps)).toEqual({
      libvulkan: '/usr/lib/x86_64-linux-gnu/libvulkan.so.1.3.239',
      drivers: ['/usr/lib/chromium/libvk_swiftshader.so'],
      swiftshader: true,
    });
  });

  it('placement from the verbose session log decides the effective provider', () => {
    const log = [
      '2026 [V:onnxruntime:, session_state.cc:1378 VerifyEachNodeIsAssignedToAnEp] Node placements',
      '2026 [V:onnxruntime:, session_state.cc:1384 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [WebGpuExecutionProvider]. Number of nodes: 2',
      '2026 [V:onnxruntime:, session_state.cc:1386 VerifyEachNodeIsAssignedToAnEp]   MatMul (MatMul_1)',
      '2026 [V:onnxruntime:, session_state.cc:1386 VerifyEachNodeIsAssignedToAnEp]   Add (Add_2)',
      '2026 [V:onnxruntime:, session_state.cc:1384 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [CPUExecutionProvider]. Number of nodes: 1',
      '2026 [V:onnxruntime:, session_state.cc:1386 VerifyEachNodeIsAssignedToAnEp]   Shape (Shape_3)',
      '2026 [I:onnxruntime:, inference_session.cc:2867 Initialize] Session successfully initialized.',
    ].join('\n');
    const placement = placementFromLog(log);
    expect(placement).toEqual({ nodesByProvider: { WebGpuExecutionProvider: 2, CPUExecutionProvider: 1 }, cpuOps: ['Shape'] });
    expect(placementFromLog('nothing')).toBeNull();
    expect(effectiveWebgpu(placement, true, 'gpu-buffer')).toBe('webgpu');
    expect(effectiveWebgpu(placement, true, 'cpu')).toBe('webgpu (present.* on cpu; expected gpu-buffer)');
    expect(effectiveWebgpu({ nodesByProvider: { CPUExecutionProvider: 3 }, cpuOps: ['Add'] }, false, 'cpu')).toBe('cpu');
  });

  it("'system' runs or says why not, with the hint; it never falls back to SwiftShader", async () => {
    const probe = await nodeWebgpuRunner.probe(options({ vulkan_icd: 'system' }));
    if (probe.available) expect(probe.info.swiftshader).toBe(false);
    else expect(probe.reason).toMatch(/libvulkan1|vulkan_icd: swiftshader/);
  }, 60_000);
});

// SwiftShader runs WebGPU on the CPU: slow, so a few tokens only.
const swift = await nodeWebgpuRunner.probe(options({ vulkan_icd: 'swiftshader' }));
if (!swift.available) console.warn(`node-webgpu on SwiftShader skipped: ${swift.reason}`);

describe.skipIf(!swift.available)('node-webgpu on SwiftShader through runSuite', () => {
  let records: CompletedRecord[];
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'detbench-node-webgpu-'));
    const file = join(dir, 'suite.yaml');
    writeFileSync(
      file,
      [
        'id: node-webgpu',
        `model: ${await tinyModelDir()}`,
        'prompts:',
        '  - { id: a, text: "hello world" }',
        '  - { id: b, text: "the quick brown fox" }',
        'decoding: { greedy: true }',
        'max_new_tokens: 4',
        'repetitions: 1',
        'top_logprobs: 3',
        'runners:',
        '  - { id: cpu, type: node-cpu }',
        '  - { id: gpu-kv, type: node-webgpu, options: { vulkan_icd: swiftshader, kv_on_gpu: true } }',
        '  - { id: cpu-kv, type: node-webgpu, options: { vulkan_icd: swiftshader, kv_on_gpu: false } }',
      ].join('\n'),
    );
    const out = join(dir, 'results.jsonl');
    await runSuite({ suiteFile: file, outFile: out });
    records = readResults(out) as CompletedRecord[];
  }, 240_000);

  it('every cell completes on webgpu, with the Vulkan facts recorded', () => {
    for (const id of ['gpu-kv', 'cpu-kv']) {
      const mine = records.filter((r) => r.runner.id === id);
      expect(mine).toHaveLength(4); // 2 prompts, free and teacher-forced
      for (const r of mine) {
        expect(r.status, JSON.stringify((r as unknown as { error?: unknown }).error)).toBe('completed');
        expect(r.provider).toEqual({ requested: 'webgpu', effective: 'webgpu' });
        expect(r.environment).toMatchObject({ vulkanIcd: 'swiftshader', swiftshader: true, dawnBackend: 'vulkan', kvOnGpu: id === 'gpu-kv' });
        expect(r.environment.kvLocation).toBe(id === 'gpu-kv' ? 'gpu-buffer' : 'cpu');
        expect(String(r.environment.libvulkan)).toMatch(/libvulkan\.so/);
        expect((r.environment.placement as { nodesByProvider: Record<string, number> }).nodesByProvider.WebGpuExecutionProvider).toBeGreaterThan(0);
      }
    }
  });

  it('greedy tokens equal node-cpu with the KV cache on the GPU and off it; logits agree closely', () => {
    const cpu = records.filter((r) => r.runner.id === 'cpu' && r.mode === 'free');
    expect(cpu).toHaveLength(2);
    for (const id of ['gpu-kv', 'cpu-kv']) {
      for (const r of records.filter((x) => x.runner.id === id && x.mode === 'free')) {
        const ref = cpu.find((c) => c.prompt.id === r.prompt.id)!;
        expect(r.tokens).toHaveLength(4);
        expect(r.tokens).toEqual(ref.tokens);
        for (const [s, row] of r.steps.topLogits.entries())
          for (const [k, v] of row.entries()) expect(Math.abs(v! - ref.steps.topLogits[s]![k]!)).toBeLessThan(1e-3);
      }
    }
  });
});

describe.skipIf(!swift.available)('node-webgpu worker that hangs', () => {
  it('is killed after batch_timeout_ms, its batch errored, and a fresh worker serves the next batch', async () => {
    const { loadModel } = await import('../src/model/load.ts');
    const model = await loadModel(await tinyModelDir());
    const options = manifestOf('node-webgpu').options.parse({ vulkan_icd: 'swiftshader', batch_timeout_ms: 1 });
    const session = await nodeWebgpuRunner.open(model, options);
    try {
      const request = { promptIds: [1, 2, 3], promptText: 'x', maxNewTokens: 2, sampling: { kind: 'greedy' as const }, stopIds: [], topK: 2 };
      // As the executor runs a batch: a thrown batch is an errored outcome per request.
      const [first] = await generateBatch(session, [request]);
      expect(first).toMatchObject({ status: 'errored', error: { code: 'WORKER_TIMEOUT' } });
      // No generation finishes in 1 ms, so the restarted worker times out too: what matters is that it was restarted.
      const [second] = await generateBatch(session, [request]);
      expect(second).toMatchObject({ status: 'errored', error: { code: 'WORKER_TIMEOUT' } });
      expect(session.environment.workerRestarts).toBe(1);
    } finally {
      await session.close();
    }
  }, 120_000);
});

// The shipped runner list: one manifest per type, what each declares, and the types it gives the
// configurations built from it.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { manifestOf, RUNNERS, type RunnerOptionMap, type ShippedRunnerConfig } from '../runners/index.ts';

describe('the runner list', () => {
  it('has one manifest per type, in the order the suite schema lists them', () => {
    expect(RUNNERS.manifests.map((m) => m.type)).toEqual(['node-cpu', 'node-cuda', 'node-webgpu', 'browser-wasm', 'browser-webgpu', 'remote-api', 'markov']);
    expect(RUNNERS.module).toMatch(/\/runners\/index\.ts$/);
  });

  it('declares which runners run the suite model, can be teacher-forced, can be served', () => {
    const table = Object.fromEntries(RUNNERS.manifests.map((m) => [m.type, [m.needsModel, m.canTeacherForce, m.serve]]));
    expect(table).toEqual({
      'node-cpu': [true, true, true],
      'node-cuda': [true, true, false],
      'node-webgpu': [true, true, false],
      'browser-wasm': [true, true, false],
      'browser-webgpu': [true, true, false],
      'remote-api': [false, false, false],
      markov: [false, false, false],
    });
  });

  it('reads the model file a runner chooses, and its threads, from its options', () => {
    const cpu = manifestOf('node-cpu');
    expect(cpu.modelChoice(cpu.options.parse({ precision: 'fp16' }))).toEqual({ precision: 'fp16' });
    expect(cpu.modelChoice(cpu.options.parse({ model_file: 'onnx/x.onnx' }))).toEqual({ model_file: 'onnx/x.onnx' });
    expect(cpu.modelChoice(cpu.options.parse({}))).toEqual({});
    expect(cpu.threads(cpu.options.parse({ intra_op_threads: 3 }))).toBe(3);
    expect(cpu.threads(cpu.options.parse({ intra_op_threads: 0 }))).toBe('all');
    const wasm = manifestOf('browser-wasm');
    expect(wasm.threads(wasm.options.parse({ threads: 2 }))).toBe(2);
    const remote = manifestOf('remote-api');
    expect(remote.threads(remote.options.parse({ base_url: 'http://127.0.0.1:9/v1', model: 'm' }))).toBe(0);
  });

  it('refuses an unknown option key in every schema', () => {
    for (const m of RUNNERS.manifests) expect(m.options.safeParse({ no_such_option: 1 }).success).toBe(false);
  });

  it('loads an implementation only when asked', async () => {
    const runner = await manifestOf('markov').load();
    expect(typeof runner.open).toBe('function');
    expect(typeof runner.probe).toBe('function');
  });

  it("types a configuration by its runner type: options keep their runner's type", () => {
    expectTypeOf<Extract<ShippedRunnerConfig, { type: 'node-cpu' }>['options']>().toEqualTypeOf<RunnerOptionMap['node-cpu']>();
    expectTypeOf<RunnerOptionMap['node-cpu']['intra_op_threads']>().toEqualTypeOf<number>();
    expectTypeOf<RunnerOptionMap['markov']['order']>().toEqualTypeOf<number>();
    expectTypeOf<Extract<ShippedRunnerConfig, { type: 'remote-api' }>['options']['base_url']>().toEqualTypeOf<string>();
  });
});

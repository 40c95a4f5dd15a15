import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readOnnxIO } from '../src/model/onnx-io.ts';
import { onnx } from '../src/model/onnx-proto.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'detbench-onnx-io-'));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('readOnnxIO', () => {
  it('reads names, element types and symbolic shapes of the tiny model', async () => {
    const io = await readOnnxIO(path.join(await tinyModelDir('gqa'), 'onnx/model.onnx'));
    expect(io.irVersion).toBe(8);
    expect(io.opsets).toEqual([{ domain: '', version: 17 }]);
    expect(io.inputs.map((v) => v.name)).toEqual([
      'input_ids',
      'attention_mask',
      'position_ids',
      'past_key_values.0.key',
      'past_key_values.0.value',
      'past_key_values.1.key',
      'past_key_values.1.value',
    ]);
    expect(io.inputs[0]).toEqual({ name: 'input_ids', elemType: 'int64', dims: ['batch_size', 'sequence_length'] });
    expect(io.inputs[3]).toEqual({ name: 'past_key_values.0.key', elemType: 'float32', dims: ['batch_size', 2, 'past_sequence_length', 16] });
    expect(io.outputs[0]).toEqual({ name: 'logits', elemType: 'float32', dims: ['batch_size', 'sequence_length', 457] });
  });

  it('leaves out inputs that are initializers, and reports unnamed dims and unknown shapes', async () => {
    const raw = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
    const model = onnx.ModelProto.fromObject({
      ir_version: 3,
      opset_import: [{ domain: '', version: 9 }],
      graph: {
        name: 'g',
        node: [{ op_type: 'Add', input: ['x', 'w'], output: ['y'] }],
        initializer: [{ name: 'w', data_type: 1, dims: [4], raw_data: raw }],
        input: [
          { name: 'x', type: { tensor_type: { elem_type: 10, shape: { dim: [{}, { dim_value: 4 }] } } } },
          { name: 'w', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 4 }] } } } },
        ],
        output: [{ name: 'y', type: { tensor_type: { elem_type: 10 } } }],
      },
    });
    const file = path.join(root, 'old.onnx');
    await writeFile(file, onnx.ModelProto.encode(model).finish());
    const io = await readOnnxIO(file);
    expect(io.inputs).toEqual([{ name: 'x', elemType: 'float16', dims: [null, 4] }]);
    expect(io.outputs).toEqual([{ name: 'y', elemType: 'float16', dims: null }]);
  });
});

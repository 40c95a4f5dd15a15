import { ATTRIBUTE_TYPES, ONNX_DATA_TYPES, onnx } from '../../src/model/onnx-proto.ts';

/** A node attribute: an int, a list of ints, or a float wrapped as `{ f }`. */
export type Attr = number | readonly number[] | { f: number };

/** A tensor dimension: a fixed size or a symbolic name. */
export type Dim = number | string;

type ElemType = 'float32' | 'int64';

interface Node {
  op_type: string;
  name: string;
  input: string[];
  output: string[];
  attribute: object[];
}

function attribute(name: string, value: Attr): object {
  if (typeof value === 'number') return { name, type: ATTRIBUTE_TYPES.INT, i: value };
  if ('f' in value) return { name, type: ATTRIBUTE_TYPES.FLOAT, f: value.f };
  return { name, type: ATTRIBUTE_TYPES.INTS, ints: [...value] };
}

function valueInfo(name: string, elem: ElemType, dims: readonly Dim[]): object {
  const dim = dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
  return { name, type: { tensor_type: { elem_type: ONNX_DATA_TYPES[elem], shape: { dim } } } };
}

/** Collects nodes and initializers of one ONNX graph and serializes it as a ModelProto. */
export class GraphBuilder {
  private readonly nodes: Node[] = [];
  private readonly initializers: object[] = [];
  private readonly inputs: object[] = [];
  private readonly outputs: object[] = [];
  private count = 0;

  /** Declares a graph input. */
  input(name: string, elem: ElemType, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(name, elem, dims));
    return name;
  }

  /** Declares `value` (a node output) as the graph output `name`. */
  output(name: string, value: string, elem: ElemType, dims: readonly Dim[]): void {
    this.op('Identity', [value], {}, name);
    this.outputs.push(valueInfo(name, elem, dims));
  }

  /** Adds a float32 initializer (stored as raw little-endian bytes, as exporters do). */
  f32(name: string, dims: readonly number[], data: Float32Array): string {
    return this.initializer(name, 'float32', dims, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  /** Adds an int64 initializer; a scalar when `dims` is empty. */
  i64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    return this.initializer(`const_${this.count++}`, 'int64', dims, new Uint8Array(data.buffer));
  }

  /** A float32 scalar constant. */
  scalar(value: number): string {
    return this.f32(`const_${this.count++}`, [], Float32Array.of(value));
  }

  /** Appends a node and returns its (first) output name. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, output?: string): string {
    const name = `${opType}_${this.count++}`;
    const out = output ?? `${name}_out`;
    this.nodes.push({
      op_type: opType,
      name,
      input: [...inputs],
      output: [out],
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return out;
  }

  /** Serializes the graph as an ONNX model (IR version 8) importing the default domain at `opset`. */
  encode(graphName: string, opset: number): Uint8Array {
    const model = onnx.ModelProto.fromObject({
      ir_version: 8,
      producer_name: 'detbench make-tiny-model',
      opset_import: [{ domain: '', version: opset }],
      graph: {
        name: graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }

  private initializer(name: string, elem: ElemType, dims: readonly number[], raw: Uint8Array): string {
    this.initializers.push({ name, data_type: ONNX_DATA_TYPES[elem], dims: [...dims], raw_data: raw });
    return name;
  }
}

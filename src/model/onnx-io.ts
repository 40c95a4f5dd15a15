import { type FileHandle, open } from 'node:fs/promises';
import protobuf from 'protobufjs/light.js';
import { DetbenchError } from '../errors.ts';
import { elemTypeName, FIELD, onnx } from './onnx-proto.ts';

/** One graph input or output: element type name (`float32`, `int64`, ...) and shape. */
export interface OnnxValueInfo {
  name: string;
  elemType: string;
  /** A size, a symbolic name (`batch_size`), or null when unnamed; null dims when the rank is unknown. */
  dims: (number | string | null)[] | null;
}

/** The interface of an ONNX graph, read without loading its weights. */
export interface OnnxGraphIO {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  /** Graph inputs, less those that name an initializer (weights, not fed by the caller). */
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /**
   * Files holding weights outside the ONNX file (initializers stored with `data_location:
   * EXTERNAL`), as the graph names them: paths relative to the ONNX file's folder, each once.
   */
  externalData: string[];
  /** Every operator the graph uses: domain ('' for onnx), type, how many nodes, and the integer attributes of the first such node when it is one of {@link ATTRIBUTE_OPS}. */
  ops: OnnxOpUse[];
  /** Weights (initializers) by element type: how many tensors and elements. */
  weights: { elemType: string; tensors: number; elements: number }[];
}

/** One operator type as a graph uses it. */
export interface OnnxOpUse {
  domain: string;
  opType: string;
  count: number;
  /** Integer attributes (bits, block_size, num_heads, do_rotary, ...) of its first node, for the ops whose precision or padding depends on them. */
  attributes?: Record<string, number>;
}

/** Ops whose integer attributes are read: quantized MatMuls (bits, block size) and the attention contrib ops. */
export const ATTRIBUTE_OPS: ReadonlySet<string> = new Set(['MatMulNBits', 'MatMulBnb4', 'GroupQueryAttention', 'MultiHeadAttention', 'Attention']);

const CHUNK = 1 << 14;
/** A tag plus a length prefix: two varints of at most 10 bytes. */
const MAX_HEADER = 20;

/** A read window over a file, so walking many small fields costs few reads. */
class FileWindow {
  private buf = Buffer.alloc(0);
  private start = 0;

  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
  ) {}

  /** Bytes [pos, pos + n), fewer at the end of the file. */
  async view(pos: number, n: number): Promise<Buffer> {
    const want = Math.min(n, this.size - pos);
    if (pos < this.start || pos + want > this.start + this.buf.length) {
      const buf = Buffer.alloc(Math.min(Math.max(want, CHUNK), this.size - pos));
      const { bytesRead } = await this.fh.read(buf, 0, buf.length, pos);
      this.buf = buf.subarray(0, bytesRead);
      this.start = pos;
    }
    return this.buf.subarray(pos - this.start, pos - this.start + want);
  }
}

interface Field {
  field: number;
  wire: number;
  /** Payload start (for varints: the varint itself) and the next field's start. */
  payload: number;
  end: number;
}

class Corrupt extends Error {}

/** The fields of the message stored in bytes [start, end), read one tag at a time. */
async function* fields(win: FileWindow, start: number, end: number): AsyncGenerator<Field> {
  let pos = start;
  while (pos < end) {
    const reader = protobuf.Reader.create(await win.view(pos, Math.min(MAX_HEADER, end - pos)));
    let f: Field;
    try {
      const tag = reader.uint32();
      const field = tag >>> 3;
      const wire = tag & 7;
      if (field === 0) throw new Corrupt(`field number 0 at byte ${pos}`);
      const afterTag = pos + reader.pos;
      if (wire === 0) {
        reader.skipType(0);
        f = { field, wire, payload: afterTag, end: pos + reader.pos };
      } else if (wire === 1 || wire === 5) {
        f = { field, wire, payload: afterTag, end: afterTag + (wire === 1 ? 8 : 4) };
      } else if (wire === 2) {
        const length = reader.uint32();
        f = { field, wire, payload: pos + reader.pos, end: pos + reader.pos + length };
      } else {
        throw new Corrupt(`unsupported wire type ${wire} at byte ${pos}`);
      }
    } catch (err) {
      if (err instanceof Corrupt) throw err;
      throw new Corrupt(`unreadable field header at byte ${pos} (${(err as Error).message})`);
    }
    if (f.end > end) throw new Corrupt(`field ${f.field} at byte ${pos} runs past byte ${end} (truncated file?)`);
    yield f;
    pos = f.end;
  }
}

interface DecodedValueInfo {
  name?: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: { dim_value?: number; dim_param?: string }[] } } };
}

/** Decodes one small message with protobufjs; its failures mean a corrupt file. */
async function decode(win: FileWindow, f: Field, type: protobuf.Type): Promise<Record<string, unknown>> {
  const bytes = await win.view(f.payload, f.end - f.payload);
  try {
    return type.toObject(type.decode(bytes), { longs: Number });
  } catch (err) {
    throw new Corrupt(`unreadable ${type.name} at byte ${f.payload} (${(err as Error).message})`);
  }
}

async function valueInfo(win: FileWindow, f: Field): Promise<OnnxValueInfo> {
  const v = (await decode(win, f, onnx.ValueInfoProto)) as DecodedValueInfo;
  const tensor = v.type?.tensor_type;
  const dims = tensor?.shape ? (tensor.shape.dim ?? []).map((d) => d.dim_value ?? d.dim_param ?? null) : null;
  return { name: v.name ?? '', elemType: tensor ? elemTypeName(tensor.elem_type ?? 0) : 'non-tensor', dims };
}

/** A tensor's element type and element count, read from its dims and data_type fields only. */
async function tensorShape(win: FileWindow, init: Field): Promise<{ elemType: string; elements: number }> {
  let type = 0;
  let elements = 1;
  for await (const f of fields(win, init.payload, init.end)) {
    if (f.field === FIELD.tensor.dataType && f.wire === 0) type = protobuf.Reader.create(await win.view(f.payload, f.end - f.payload)).int32();
    else if (f.field === FIELD.tensor.dims && f.wire === 0) elements *= Number(protobuf.Reader.create(await win.view(f.payload, f.end - f.payload)).int64());
    else if (f.field === FIELD.tensor.dims && f.wire === 2) {
      const r = protobuf.Reader.create(await win.view(f.payload, f.end - f.payload));
      while (r.pos < r.len) elements *= Number(r.int64());
    }
  }
  return { elemType: elemTypeName(type), elements };
}

/** Operator types with counts; attributes decoded only for {@link ATTRIBUTE_OPS} (a Constant's tensor is never read). */
async function opUses(win: FileWindow, nodes: readonly Field[]): Promise<OnnxOpUse[]> {
  const uses = new Map<string, OnnxOpUse>();
  const text = async (f: Field) => (await win.view(f.payload, f.end - f.payload)).toString('utf8');
  for (const node of nodes) {
    let opType = '';
    let domain = '';
    const attributes: Field[] = [];
    for await (const f of fields(win, node.payload, node.end)) {
      if (f.wire !== 2) continue;
      if (f.field === FIELD.node.opType) opType = await text(f);
      else if (f.field === FIELD.node.domain) domain = await text(f);
      else if (f.field === FIELD.node.attribute) attributes.push(f);
    }
    if (domain === 'ai.onnx') domain = '';
    const key = `${domain}:${opType}`;
    const use = uses.get(key);
    if (use) {
      use.count++;
      continue;
    }
    const entry: OnnxOpUse = { domain, opType, count: 1 };
    if (ATTRIBUTE_OPS.has(opType) && attributes.length > 0) {
      entry.attributes = {};
      for (const a of attributes) {
        let name = '';
        let value: number | undefined;
        for await (const f of fields(win, a.payload, a.end)) {
          if (f.field === 1 && f.wire === 2) name = await text(f);
          else if (f.field === 3 && f.wire === 0) value = Number(protobuf.Reader.create(await win.view(f.payload, f.end - f.payload)).int64());
        }
        if (name && value !== undefined) entry.attributes[name] = value;
      }
    }
    uses.set(key, entry);
  }
  return [...uses.values()];
}

async function readIO(win: FileWindow): Promise<OnnxGraphIO> {
  let irVersion: number | undefined;
  let graph: Field | undefined;
  const opsets: OnnxGraphIO['opsets'] = [];
  for await (const f of fields(win, 0, win.size)) {
    if (f.field === FIELD.model.irVersion && f.wire === 0) {
      irVersion = protobuf.Reader.create(await win.view(f.payload, f.end - f.payload)).uint32();
    } else if (f.field === FIELD.model.opsetImport && f.wire === 2) {
      const o = await decode(win, f, onnx.OperatorSetIdProto);
      opsets.push({ domain: (o.domain as string | undefined) ?? '', version: (o.version as number | undefined) ?? 0 });
    } else if (f.field === FIELD.model.graph && f.wire === 2) {
      graph = f;
    }
  }
  if (irVersion === undefined) throw new Corrupt('no ir_version field');
  if (!graph) throw new Corrupt('no graph');
  const inputs: OnnxValueInfo[] = [];
  const outputs: OnnxValueInfo[] = [];
  const initializers: Field[] = [];
  const nodes: Field[] = [];
  // Nodes and weights are skipped by seeking past them; only input/output entries are decoded.
  for await (const f of fields(win, graph.payload, graph.end)) {
    if (f.wire !== 2) continue;
    if (f.field === FIELD.graph.input) inputs.push(await valueInfo(win, f));
    else if (f.field === FIELD.graph.output) outputs.push(await valueInfo(win, f));
    else if (f.field === FIELD.graph.initializer) initializers.push(f);
    else if (f.field === FIELD.graph.node) nodes.push(f);
  }
  if (outputs.length === 0) throw new Corrupt('the graph has no outputs');
  // Exports before IR version 4 also list every weight as a graph input; those are not fed.
  const constants = new Set<string>();
  const externalData = new Set<string>();
  for (const init of initializers) {
    // Weights (raw_data) are seeked past; only the name and any external-data location are read.
    for await (const f of fields(win, init.payload, init.end)) {
      if (f.field === FIELD.tensor.name && f.wire === 2) {
        constants.add((await win.view(f.payload, f.end - f.payload)).toString('utf8'));
      } else if (f.field === FIELD.tensor.externalData && f.wire === 2) {
        const entry = await decode(win, f, onnx.StringStringEntryProto);
        if (entry.key === 'location' && typeof entry.value === 'string') externalData.add(entry.value);
      }
    }
  }
  const weights = new Map<string, { elemType: string; tensors: number; elements: number }>();
  for (const init of initializers) {
    const { elemType, elements } = await tensorShape(win, init);
    const w = weights.get(elemType) ?? { elemType, tensors: 0, elements: 0 };
    w.tensors++;
    w.elements += elements;
    weights.set(elemType, w);
  }
  return {
    irVersion,
    opsets,
    inputs: inputs.filter((v) => !constants.has(v.name)),
    outputs,
    externalData: [...externalData],
    ops: await opUses(win, nodes),
    weights: [...weights.values()],
  };
}

/**
 * Reads the graph inputs and outputs of an ONNX file (names, element types, symbolic shapes)
 * by walking its protobuf encoding and seeking past weights, so a multi-gigabyte file costs a
 * few reads, and no runtime is involved. Throws MODEL_CORRUPT naming the file when the bytes are
 * not an ONNX model, MODEL_FILE_MISSING when it cannot be opened.
 */
export async function readOnnxIO(file: string): Promise<OnnxGraphIO> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (cause) {
    throw new DetbenchError('MODEL_FILE_MISSING', `${file}: cannot open the ONNX file`, { cause, file });
  }
  try {
    const { size } = await fh.stat();
    return await readIO(new FileWindow(fh, size));
  } catch (err) {
    if (!(err instanceof Corrupt)) throw err;
    throw new DetbenchError('MODEL_CORRUPT', `${file}: not a valid ONNX model: ${err.message}`, { cause: err, file });
  } finally {
    await fh.close();
  }
}

import { onnx } from '../../src/model/onnx-proto.ts';

/** `TensorProto.DataLocation.EXTERNAL` in onnx.proto. */
const EXTERNAL = 1;

interface Initializer {
  raw_data?: Uint8Array;
  external_data?: { key: string; value: string }[];
  data_location?: number;
}

/**
 * Moves the weights of an encoded ONNX model into one external-data file, as exporters do for
 * models over 2 GB: each initializer of at least `minBytes` keeps its name, type and shape, and
 * points at (`location`, `offset`, `length`) instead of holding `raw_data`.
 */
export function toExternalData(model: Uint8Array, location: string, minBytes = 1024): { model: Uint8Array; data: Uint8Array } {
  const decoded = onnx.ModelProto.decode(model) as unknown as { graph: { initializer: Initializer[] } };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const init of decoded.graph.initializer) {
    const raw = init.raw_data;
    if (!raw || raw.length < minBytes) continue;
    init.external_data = [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.length) },
    ];
    init.data_location = EXTERNAL;
    delete init.raw_data;
    chunks.push(raw);
    offset += raw.length;
  }
  const data = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.length;
  }
  return { model: onnx.ModelProto.encode(decoded as never).finish(), data };
}

import { HUB_DTYPES, type HubDtype } from './hub/dtype.ts';
import type { OnnxGraphIO } from './onnx-io.ts';

/**
 * The onnx-community / transformers.js dtype names and the file each loads in the Hugging Face
 * layout (`onnx/model<suffix>.onnx`), as transformers.js maps them.
 */
export const DTYPE_SUFFIX: Record<HubDtype, string> = Object.fromEntries(HUB_DTYPES.map((d) => [d, d === 'fp32' ? '' : `_${d}`])) as Record<HubDtype, string>;

/** A dtype name `precision` accepts (the same names a suite's Hub `dtype` takes). */
export type DtypeName = HubDtype;

/** The dtype names, for option schemas. */
export const DTYPE_NAMES = HUB_DTYPES;

/** One kind of quantized operator in a graph. */
export interface QuantizedOp {
  op: string;
  nodes: number;
  /** Bits per weight (MatMulNBits `bits`; 8 for the int8/uint8 ops; 4 for MatMulBnb4). */
  bits: number;
  blockSize?: number;
}

/** What a graph's weights and compute actually are, read from the file. */
export interface PrecisionFacts {
  /** A one-line verdict: `fp32`, `fp16`, `q4 (MatMulNBits 4-bit, block 16), fp32 compute`, ... */
  summary: string;
  /** Weights (initializers) by element type: tensors and elements. */
  weights: { elemType: string; tensors: number; elements: number }[];
  /** The float type activations flow in: the KV cache's (and the logits'). */
  compute: 'float32' | 'float16';
  logits: 'float32' | 'float16';
  quantized: QuantizedOp[];
}

const INT8_OPS = new Set([
  'MatMulInteger',
  'DynamicQuantizeMatMul',
  'QLinearMatMul',
  'DequantizeLinear',
  'QuantizeLinear',
  'DynamicQuantizeLinear',
  'QAttention',
  'QGemm',
]);

const short = (t: string) => (t === 'float32' ? 'fp32' : t === 'float16' ? 'fp16' : t);

/** The precision facts of a graph: weights by type, quantized ops with their bits and block size, compute type. */
export function precisionOf(graph: OnnxGraphIO, kvType: 'float32' | 'float16', logitsType: 'float32' | 'float16'): PrecisionFacts {
  const quantized: QuantizedOp[] = [];
  for (const op of graph.ops) {
    const a = op.attributes ?? {};
    if (op.opType === 'MatMulNBits') {
      quantized.push({ op: op.opType, nodes: op.count, bits: a.bits ?? 4, ...(a.block_size !== undefined ? { blockSize: a.block_size } : {}) });
    } else if (op.opType === 'MatMulBnb4') {
      quantized.push({ op: op.opType, nodes: op.count, bits: 4, ...(a.block_size !== undefined ? { blockSize: a.block_size } : {}) });
    } else if (INT8_OPS.has(op.opType)) {
      quantized.push({ op: op.opType, nodes: op.count, bits: 8 });
    }
  }
  // The float weights: the type holding most float elements.
  const floats = graph.weights.filter((w) => w.elemType === 'float32' || w.elemType === 'float16' || w.elemType === 'bfloat16');
  const mainFloat = floats.sort((a, b) => b.elements - a.elements)[0]?.elemType ?? kvType;
  let summary: string;
  if (quantized.length === 0) {
    summary = mainFloat === kvType ? short(kvType) : `${short(mainFloat)} weights, ${short(kvType)} compute`;
  } else {
    const parts = quantized.map((q) => `${q.op} ${q.bits}-bit${q.blockSize !== undefined ? `, block ${q.blockSize}` : ''}`);
    const nbits = quantized.find((q) => q.op === 'MatMulNBits' || q.op === 'MatMulBnb4');
    const name = nbits ? `q${nbits.bits}${kvType === 'float16' ? 'f16' : ''}` : 'int8';
    summary = `${name} (${parts.join('; ')}), ${short(kvType)} compute`;
  }
  return { summary, weights: graph.weights, compute: kvType, logits: logitsType, quantized };
}

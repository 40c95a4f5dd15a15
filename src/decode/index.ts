/**
 * The decode core: one loop and one sampler for every local runner. Imports nothing from Node or
 * the DOM, so the browser page bundles this very module.
 */

export { CAPTURE_RANGE, CAPTURE_STEP, type CapturedRows, type CaptureEncoding, decodeRow, encodeRowU16, RowCapture } from './capture.ts';
export { dexp, dexpSum, dexpWeights, dlog } from './dexp.ts';
export { singleTokenFeeds } from './feeds.ts';
export { halfToFloat32, hashFloat32, type RowSummary, summarizeRow } from './logits.ts';
export { decode } from './loop.ts';
export { Mt19937 } from './mt19937.ts';
export { argmax, type SampleSettings, type Sampling, sampleToken, sampleWithDraw } from './sampling.ts';
export { decodeModelFor, type ModelSpec } from './session-model.ts';
export { stepKernelKind } from './step-kernel.ts';
export type { DecodeModel, DecodeRequest, DecodeResult, ExtraInput, IntType, MakeTensor, Padding, SessionLike, StepTrace, TensorLike } from './types.ts';

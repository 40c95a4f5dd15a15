/**
 * The decode core: one loop and one sampler for every local runner. Imports nothing from Node or
 * the DOM, so the browser page bundles this very module.
 */
export { decode } from './loop.ts';
export { Mt19937 } from './mt19937.ts';
export { argmax, sampleToken, sampleWithDraw, type Sampling, type SampleSettings } from './sampling.ts';
export { dexp, dexpSum, dexpWeights, dlog } from './dexp.ts';
export { summarizeRow, hashFloat32, halfToFloat32, type RowSummary } from './logits.ts';
export { stepKernelKind } from './step-kernel.ts';
export type { DecodeModel, DecodeRequest, DecodeResult, ExtraInput, IntType, MakeTensor, Padding, SessionLike, StepTrace, TensorLike } from './types.ts';
export { decodeModelFor, type ModelSpec } from './session-model.ts';
export { CAPTURE_RANGE, CAPTURE_STEP, decodeRow, encodeRowU16, RowCapture, type CaptureEncoding, type CapturedRows } from './capture.ts';
export { singleTokenFeeds } from './feeds.ts';

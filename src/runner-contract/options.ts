import { z } from 'zod';
import { DTYPE_NAMES } from '../model/precision.ts';
import type { ModelChoice } from './manifest.ts';

/**
 * Option building blocks that several runners' schemas share (each runner's own schema is in its
 * manifest, `runners/<name>/manifest.ts`). Keys are snake_case as written in YAML.
 */
export const precision = z
  .enum(DTYPE_NAMES)
  .optional()
  .describe(
    'onnx-community dtype: fp32 loads onnx/model.onnx, fp16 onnx/model_fp16.onnx, q4 onnx/model_q4.onnx (also q4f16, int8, uint8, bnb4, quantized); default transformers.js_config.dtype of config.json, else fp32; unless model_file is set',
  );
/** Whether a relative path stays inside its folder: not absolute, no `..` that climbs out (checked as written). */
function staysInside(p: string): boolean {
  if (/^([\\/]|[A-Za-z]:)/.test(p)) return false;
  let depth = 0;
  for (const part of p.split(/[\\/]/)) {
    if (part === '..') depth--;
    else if (part !== '' && part !== '.') depth++;
    if (depth < 0) return false;
  }
  return depth > 0;
}

/** An ONNX file named relative to the model folder, which it may not leave (as external data may not). */
export const modelFile = z
  .string()
  .refine(staysInside, 'expected a file inside the model folder (a relative path that does not climb out with "..")')
  .optional()
  .describe('ONNX file inside the model folder, overriding precision');
/** onnxruntime's graph optimization level, as every onnxruntime-based runner takes it. */
export const graphOptimization = z.enum(['disabled', 'basic', 'extended', 'all']).default('all').describe('onnxruntime graph optimization level');

/** The model file a runner's `precision` and `model_file` options choose (the manifests' `modelChoice`). */
export function modelChoiceOf(options: { precision?: ModelChoice['precision'] | undefined; model_file?: string | undefined }): ModelChoice {
  return { ...(options.precision ? { precision: options.precision } : {}), ...(options.model_file ? { model_file: options.model_file } : {}) };
}

/**
 * The dtype names onnx-community and transformers.js use for the ONNX files of one model, and the
 * file each names in the Hugging Face layout (`onnx/model.onnx` for fp32, `onnx/model_<dtype>.onnx`
 * otherwise).
 */
export const HUB_DTYPES = ['fp32', 'fp16', 'q4', 'q4f16', 'int8', 'uint8', 'bnb4', 'quantized'] as const;

/** One of {@link HUB_DTYPES}. */
export type HubDtype = (typeof HUB_DTYPES)[number];

// GPU-side checks of what onnxruntime-node 1.29 does there, printed as JSON lines; facts the
// node-cuda runner relies on or refuses (scripts/gpu/README.md). Run with the payload's node:
//   node scripts/gpu/check-ep.mjs PAYLOAD_DIR MODEL_ONNX
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [payload, modelPath] = process.argv.slice(2);
const ort = createRequire(join(payload, 'node_modules', '/'))('onnxruntime-node');
const say = (check, result) => console.log(JSON.stringify({ check, ...result }));
const mapped = () => /libonnxruntime_providers_cuda\.so/.test(readFileSync('/proc/self/maps', 'utf8'));
const attempt = async (check, fn) => {
  try {
    say(check, { ok: true, ...(await fn()) });
  } catch (err) {
    say(check, { ok: false, error: String(err?.message ?? err).split('\n')[0] });
  }
};

say('versions', { ok: true, ort: ort.env.versions, backends: ort.listSupportedBackends(), tf32Override: process.env.NVIDIA_TF32_OVERRIDE ?? null });
await attempt('cuda session', async () => {
  const s = await ort.InferenceSession.create(modelPath, { executionProviders: [{ name: 'cuda', deviceId: 0 }] });
  await s.release();
  return { providerLibraryMapped: mapped() };
});
await attempt('cuda session, device 7', async () => {
  const s = await ort.InferenceSession.create(modelPath, { executionProviders: [{ name: 'cuda', deviceId: 7 }] });
  await s.release();
  return { note: 'created: an invalid device id is not caught at creation' };
});
await attempt('cuda gpu-buffer output', async () => {
  const s = await ort.InferenceSession.create(modelPath, { executionProviders: ['cuda'], preferredOutputLocation: { 'present.0.key': 'gpu-buffer' } });
  // One token, batch 1, empty cache: past_key_values.* are [1, heads, 0, head_dim], the rest [1, 1].
  const feeds = {};
  for (const m of s.inputMetadata) {
    const past = m.name.startsWith('past_key_values');
    const shape = past ? m.shape.map((d, i) => (i === 2 ? 0 : typeof d === 'number' ? d : 1)) : [1, 1];
    const n = shape.reduce((a, b) => a * b, 1);
    feeds[m.name] =
      m.type === 'int64'
        ? new ort.Tensor('int64', new BigInt64Array(n).fill(1n), shape)
        : new ort.Tensor(m.type, m.type === 'float16' ? new Uint16Array(n) : new Float32Array(n), shape);
  }
  const out = await s.run(feeds);
  const k = out['present.0.key'];
  return { location: k.location, dims: k.dims };
});
await attempt('webgpu session', async () => {
  const s = await ort.InferenceSession.create(modelPath, { executionProviders: ['webgpu'] });
  await s.release();
  return {};
});

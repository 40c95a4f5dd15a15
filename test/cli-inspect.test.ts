import { cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REAL = path.join(ROOT, '..', 'shared', 'real-models');
const present = existsSync(REAL);
if (!present) console.warn(`detbench inspect on the real models skipped: ${REAL} does not exist`);

afterEach(() => {
  process.exitCode = undefined;
});

describe('detbench inspect', () => {
  it('describes the generated model, how each input is fed, and passes the probe (exit 0)', async () => {
    const dir = await tinyModelDir();
    const json = path.join(mkdtempSync(path.join(tmpdir(), 'detbench-inspect-')), 'inspect.json');
    const { code, out } = await cli('inspect', dir, '--json', json);
    expect(code).toBe(0);
    expect(out).toContain('layout     Hugging Face / transformers.js (config.json, onnx/)');
    expect(out).toMatch(/attention_mask +int64 \[batch_size, total_sequence_length\] +int64: zeros for the left padding/);
    expect(out).toMatch(/present\.0\.key .* fed back as "past_key_values\.0\.key"/);
    expect(out).toMatch(/kv-cache-vs-recompute +pass {2}tokens equal/);
    expect(out).toMatch(/padded-vs-alone +pass {2}tokens equal/);
    expect(out).toContain('verdict    pass');
    const written = JSON.parse(readFileSync(json, 'utf8')) as { model: { layout: string; io: { padding: string } }; probe: { pass: boolean } };
    expect(written.model.layout).toBe('hf');
    expect(written.model.io.padding).toBe('left');
    expect(written.probe.pass).toBe(true);
  });

  it('exits 2 with one message for a folder it cannot load', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'detbench-inspect-empty-'));
    const { code, err } = await cli('inspect', dir, '--no-probe');
    expect(code).toBe(2);
    expect(err).toBe(
      `detbench: ${path.join(dir, 'config.json')}, ${path.join(dir, 'tokenizer.json')}, ${path.join(dir, 'tokenizer_config.json')}: missing from model folder ${dir} (a model folder needs config.json with onnx/model.onnx, or genai_config.json naming its decoder)\n`,
    );
  });

  it.skipIf(!present)('shows the GroupQueryAttention padding, the overrides and the precision of a GenAI folder', async () => {
    const { code, out } = await cli('inspect', path.join(REAL, 'ort-genai-tiny-llama-fp32-gqa'), '--steps', '4');
    expect(code).toBe(0);
    expect(out).toContain('layout     ONNX Runtime GenAI (genai_config.json)');
    expect(out).toContain('padding    right: com.microsoft GroupQueryAttention');
    expect(out).toContain('model.decoder.inputs.position_ids: configuration "position_ids", graph null');
    expect(out).toMatch(/padded-vs-alone +pass {2}tokens equal, 8\/8 steps bitwise equal/);
  });

  it.skipIf(!present)('names the 4-bit MatMulNBits of a q4 file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'detbench-inspect-q4-'));
    cpSync(path.join(REAL, 'hf-layout-tiny-llama-q4'), path.join(dir, 'm'), { recursive: true });
    const { code, out } = await cli('inspect', path.join(dir, 'm'), '--precision', 'q4', '--no-probe');
    expect(code).toBe(0);
    expect(out).toContain('precision  q4 (MatMulNBits 4-bit, block 16), fp32 compute (dtype q4)');
    expect(out).toContain('com.microsoft:MatMulNBits x11 (K 16, N 48, bits 4, block_size 16)');
  });
});

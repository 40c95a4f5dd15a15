import type { OnnxValueInfo } from './onnx-io.ts';
import type { LoadedModel } from './types.ts';

/**
 * What `detbench inspect` prints about a loaded model: the layout, what was read from where,
 * every graph input and output with how detbench feeds or reads it, the precision facts, the
 * operators of note, the overrides and notes. Plain text; the probe's lines come separately.
 */

const shape = (v: OnnxValueInfo) => (v.dims ? `[${v.dims.map((d) => d ?? '?').join(', ')}]` : '(unknown shape)');

/** How detbench feeds one input of the graph. */
export function feedOf(model: LoadedModel, name: string): string {
  const io = model.io;
  const right = io.padding === 'right';
  const layer = (names: string[]) => names.indexOf(name);
  if (name === 'input_ids')
    return `token ids as ${io.inputTypes.input_ids ?? 'int64'}; pad id ${model.config.padTokenId ?? model.config.eosTokenIds[0] ?? 0} at padding positions`;
  if (name === 'attention_mask') {
    return right
      ? `${io.inputTypes.attention_mask}: per row a prefix of ones as long as the row, zeros after (right padding); its sum is the row's length`
      : `${io.inputTypes.attention_mask}: zeros for the left padding, ones for the tokens; grows by one column per step`;
  }
  if (name === 'position_ids') return `${io.inputTypes.position_ids}: 0, 1, ... per row from its first token (padding positions 0)`;
  const extra = io.extraInputs.find((e) => e.name === name);
  if (extra?.kind === 'logits_to_keep') return `${extra.type} scalar: 1 (the last position), 0 (every position) for a right-padded prefill of uneven rows`;
  if (extra?.kind === 'use_cache_branch') return 'bool [1]: false for the prefill (empty cache), true after';
  const k = layer(io.pastKeyNames);
  const v = layer(io.pastValueNames);
  if (k >= 0 || v >= 0) {
    const i = Math.max(k, v);
    const present = k >= 0 ? io.presentKeyNames[i] : io.presentValueNames[i];
    const empty =
      io.cacheLayout === 'combined'
        ? `[2, batch, ${model.config.numKvHeads}, 0, ${model.config.headDim}]`
        : `[batch, ${model.config.numKvHeads}, 0, ${model.config.headDim}]`;
    return `${io.kvType}: the previous pass's "${present}" (empty ${empty} at the prefill)`;
  }
  return 'not fed';
}

/** How detbench reads one output of the graph. */
export function readOf(model: LoadedModel, name: string): string {
  const io = model.io;
  if (name === 'logits') {
    return io.padding === 'right'
      ? `${io.logitsType}: each row at its own last prompt token after the prefill, the last position after each step`
      : `${io.logitsType}: the last position of each row`;
  }
  const k = io.presentKeyNames.indexOf(name);
  const v = io.presentValueNames.indexOf(name);
  if (k >= 0) return `fed back as "${io.pastKeyNames[k]}"`;
  if (v >= 0) return `fed back as "${io.pastValueNames[v]}"`;
  return 'not read';
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => `  ${r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')}`);
}

/** The text description of a loaded model (no trailing newline). */
export function describeModel(model: LoadedModel): string {
  const c = model.config;
  const p = model.precision;
  const layout = model.layout === 'genai' ? 'ONNX Runtime GenAI (genai_config.json)' : 'Hugging Face / transformers.js (config.json, onnx/)';
  const lines: string[] = [
    `model      ${model.dir}`,
    `layout     ${layout}`,
    `file       ${model.onnxFile}${model.externalData.length ? ` + ${model.externalData.join(', ')}` : ''} (${(model.sizeBytes / 1e6).toFixed(1)} MB, sha256 ${model.sha256.slice(0, 16)}...)`,
    `arch       ${c.modelType}: ${c.numLayers} layers, ${c.numHeads} heads, ${c.numKvHeads} KV heads, head size ${c.headDim}, hidden ${c.hiddenSize}, vocabulary ${c.vocabSize}, context ${c.maxPositions}`,
    `tokens     bos ${c.bosTokenId ?? '-'}, eos ${c.eosTokenIds.length ? c.eosTokenIds.join(', ') : '-'}, pad ${c.padTokenId ?? '-'}; tokenizer ${model.tokenizer.vocabSize} entries`,
    `special    ${
      Object.entries(model.specialTokens)
        .map(([k, v]) => `${k} ${JSON.stringify(v)}`)
        .join(', ') || '-'
    }`,
    `template   ${model.chatTemplate ? 'chat template present' : 'no chat template'}`,
    `precision  ${p.summary}${model.dtype ? ` (dtype ${model.dtype})` : ''}; weights ${p.weights.map((w) => `${w.elemType} ${w.tensors} tensors / ${w.elements} elements`).join(', ') || '-'}`,
    `cache      ${model.io.cacheLayout}, ${model.io.kvType}`,
    `padding    ${model.io.padding}: ${model.io.paddingReason}`,
  ];
  const notable = model.graph.ops.filter((o) => o.domain !== '');
  lines.push(`contrib ops${notable.length ? '' : '  none'}`);
  for (const o of notable) {
    const attrs = o.attributes
      ? ` (${Object.entries(o.attributes)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')})`
      : '';
    lines.push(`  ${o.domain}:${o.opType} x${o.count}${attrs}`);
  }
  lines.push('inputs');
  lines.push(...table(model.graph.inputs.map((v) => [v.name, `${v.elemType} ${shape(v)}`, feedOf(model, v.name)])));
  lines.push('outputs');
  lines.push(...table(model.graph.outputs.map((v) => [v.name, `${v.elemType} ${shape(v)}`, readOf(model, v.name)])));
  lines.push('read from');
  lines.push(...table(model.sources.map((s) => [s.fact, s.from])));
  lines.push(`overrides${model.overrides.length ? ' (the graph wins)' : '  none'}`);
  for (const o of model.overrides) lines.push(`  ${o.field}: configuration ${JSON.stringify(o.config)}, graph ${JSON.stringify(o.graph)}: ${o.note}`);
  if (model.notes.length) lines.push('notes', ...model.notes.map((n) => `  ${n}`));
  return lines.join('\n');
}

import type { ExtraInput, IntType, Padding } from '../decode/types.ts';
import { DetbenchError } from '../errors.ts';
import type { OnnxGraphIO, OnnxValueInfo } from './onnx-io.ts';
import type { CacheTemplates, ModelConfig, ModelIO, Override } from './types.ts';

/** Where the two sides of a comparison come from, for messages. */
export interface IOFiles {
  onnx: string;
  config: string;
}

/** The cache name families of the exports detbench knows; `%d` is the layer. */
const SEPARATE_FAMILIES: Required<CacheTemplates>[] = [
  { pastKey: 'past_key_values.%d.key', pastValue: 'past_key_values.%d.value', presentKey: 'present.%d.key', presentValue: 'present.%d.value' },
  {
    pastKey: 'past_key_values.%d.key',
    pastValue: 'past_key_values.%d.value',
    presentKey: 'present_key_values.%d.key',
    presentValue: 'present_key_values.%d.value',
  },
  { pastKey: 'past.%d.key', pastValue: 'past.%d.value', presentKey: 'present.%d.key', presentValue: 'present.%d.value' },
  { pastKey: 'past_key_%d', pastValue: 'past_value_%d', presentKey: 'present_key_%d', presentValue: 'present_value_%d' },
];
/** The older ONNX Runtime GPT-2 interface: one [2, batch, heads, seq, head_dim] tensor per layer. */
const COMBINED_FAMILY = { past: 'past_%d', present: 'present_%d' };

const IDS = ['input_ids', 'attention_mask', 'position_ids'] as const;
const INT_TYPES = new Set(['int64', 'int32']);
const KV_TYPES = new Set(['float32', 'float16']);
const EXTRA: Record<string, ExtraInput['kind']> = {
  num_logits_to_keep: 'logits_to_keep',
  logits_to_keep: 'logits_to_keep',
  use_cache_branch: 'use_cache_branch',
};

function refuse(files: IOFiles, message: string, field?: string): DetbenchError {
  return new DetbenchError('MODEL_IO_MISMATCH', `${files.onnx}: ${message}`, { file: files.onnx, ...(field ? { field } : {}) });
}

function shapeText(v: OnnxValueInfo): string {
  return v.dims ? `[${v.dims.map((d) => d ?? '?').join(', ')}]` : '(unknown shape)';
}

function regexOf(template: string): RegExp {
  const [a, b] = template.split('%d').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${a}(\\d+)${b ?? ''}$`);
}

/** Layers named by `template` among `names`, or null when none match. */
function layersOf(names: readonly string[], template: string): number[] | null {
  const re = regexOf(template);
  const layers = names.flatMap((n) => {
    const m = re.exec(n);
    return m ? [Number(m[1])] : [];
  });
  return layers.length > 0 ? layers.sort((x, y) => x - y) : null;
}

const nameOf = (template: string, i: number) => template.replace('%d', String(i));

/**
 * Reads the decoder interface from the graph: which cache family it uses (the genai_config.json
 * templates first, when given, else the known families), the element types it declares, the
 * extra inputs of known meaning, and how a batch must be padded (GroupQueryAttention: right).
 * Where `config` disagrees with the graph, the graph wins and an {@link Override} says so.
 * Anything detbench cannot feed throws MODEL_IO_MISMATCH naming the input or output.
 */
export function modelIOFor(
  graph: OnnxGraphIO,
  config: ModelConfig,
  files: IOFiles,
  templates?: CacheTemplates,
): { io: ModelIO; config: ModelConfig; overrides: Override[] } {
  const inputs = new Map(graph.inputs.map((v) => [v.name, v]));
  const outputs = new Map(graph.outputs.map((v) => [v.name, v]));
  const inputNames = graph.inputs.map((v) => v.name);
  const outputNames = graph.outputs.map((v) => v.name);
  const overrides: Override[] = [];
  for (const name of ['input_ids', 'attention_mask']) {
    if (!inputs.has(name)) throw refuse(files, `no "${name}" input (inputs: ${inputNames.join(', ')})`);
  }
  const logits = outputs.get('logits');
  if (!logits) throw refuse(files, `no "logits" output (outputs: ${outputNames.join(', ')})`);
  if (!KV_TYPES.has(logits.elemType)) throw refuse(files, `output "logits" is ${logits.elemType}; detbench reads float32 or float16 logits`);

  const inputTypes: ModelIO['inputTypes'] = {};
  for (const name of IDS) {
    const v = inputs.get(name);
    if (!v) continue;
    if (!INT_TYPES.has(v.elemType)) throw refuse(files, `input "${name}" is ${v.elemType}; detbench feeds int64 or int32`);
    inputTypes[name] = v.elemType as IntType;
  }

  // Which cache family: the configuration's templates when the graph has them, else the first known one that matches.
  let family: Required<CacheTemplates> | undefined;
  let combined: { past: string; present: string } | undefined;
  const matches = (t: CacheTemplates) => layersOf(inputNames, t.pastKey) && layersOf(outputNames, t.presentKey);
  if (templates && matches(templates)) {
    if (templates.pastValue && templates.presentValue) family = { ...templates, pastValue: templates.pastValue, presentValue: templates.presentValue };
    else combined = { past: templates.pastKey, present: templates.presentKey };
  } else {
    family = SEPARATE_FAMILIES.find(matches);
    if (!family && layersOf(inputNames, COMBINED_FAMILY.past)) combined = COMBINED_FAMILY;
    if (templates) {
      const found = family ? family.pastKey : combined ? combined.past : 'none';
      overrides.push({
        field: 'decoder.inputs.past_key_names',
        config: templates.pastKey,
        graph: found,
        note: 'the graph has no inputs of that name; its own were used',
      });
    }
  }
  if (!family && !combined) {
    throw refuse(
      files,
      `no KV-cache inputs of a known family (past_key_values.N.key, past.N.key, past_key_N, or past_N combined); inputs: ${inputNames.join(', ')}`,
    );
  }
  const pastTemplates = family ? [family.pastKey, family.pastValue] : [combined!.past];
  const layers = layersOf(inputNames, pastTemplates[0]!)!;
  const numLayers = layers.length;
  layers.forEach((l, i) => {
    if (l !== i) throw refuse(files, `cache inputs name layers ${layers.join(', ')}; expected 0 to ${numLayers - 1}`);
  });

  // Everything else must be an input detbench knows how to feed.
  const cacheInputs = new Set(layers.flatMap((i) => pastTemplates.map((t) => nameOf(t, i))));
  const extraInputs: ExtraInput[] = [];
  for (const v of graph.inputs) {
    if ((IDS as readonly string[]).includes(v.name) || cacheInputs.has(v.name)) continue;
    const kind = EXTRA[v.name];
    if (!kind)
      throw refuse(
        files,
        `input "${v.name}" (${v.elemType} ${shapeText(v)}) is not one detbench can feed (it feeds input_ids, attention_mask, position_ids, the KV cache, num_logits_to_keep/logits_to_keep and use_cache_branch)`,
      );
    const want = kind === 'use_cache_branch' ? ['bool'] : ['int64', 'int32'];
    if (!want.includes(v.elemType)) throw refuse(files, `input "${v.name}" is ${v.elemType}; expected ${want.join(' or ')}`);
    extraInputs.push({ name: v.name, kind, type: v.elemType });
  }

  // Cache shapes: the graph's fixed dims win over the configuration.
  const fixed = { heads: new Set<number>(), headDim: new Set<number>() };
  let kvType: string | undefined;
  const names = { pastKey: [] as string[], pastValue: [] as string[], presentKey: [] as string[], presentValue: [] as string[] };
  for (let i = 0; i < numLayers; i++) {
    const pairs = family
      ? ([
          [nameOf(family.pastKey, i), nameOf(family.presentKey, i), 'pastKey', 'presentKey'],
          [nameOf(family.pastValue, i), nameOf(family.presentValue, i), 'pastValue', 'presentValue'],
        ] as const)
      : ([[nameOf(combined!.past, i), nameOf(combined!.present, i), 'pastKey', 'presentKey']] as const);
    for (const [pastName, presentName, pk, ok] of pairs) {
      const past = inputs.get(pastName)!;
      const present = outputs.get(presentName);
      if (!present) throw refuse(files, `no "${presentName}" output for cache input "${pastName}" (layer ${i} of ${numLayers})`);
      for (const v of [past, present]) {
        if (!KV_TYPES.has(v.elemType)) throw refuse(files, `"${v.name}" is ${v.elemType}; a KV cache must be float32 or float16`);
        if (kvType !== undefined && v.elemType !== kvType) throw refuse(files, `"${v.name}" is ${v.elemType} but other cache tensors are ${kvType}`);
        kvType = v.elemType;
        const rank = family ? 4 : 5;
        if (!v.dims) continue;
        if (v.dims.length !== rank) {
          throw refuse(
            files,
            `"${v.name}" has shape ${shapeText(v)}; expected ${family ? '[batch, kv_heads, seq, head_dim]' : '[2, batch, kv_heads, seq, head_dim]'}`,
          );
        }
        const dims = family ? v.dims : v.dims.slice(1);
        if (!family && v.dims[0] !== 2 && typeof v.dims[0] === 'number')
          throw refuse(files, `"${v.name}" has shape ${shapeText(v)}; a combined cache has 2 (key, value) first`);
        if (typeof dims[1] === 'number') fixed.heads.add(dims[1]);
        if (typeof dims[3] === 'number') fixed.headDim.add(dims[3]);
      }
      names[pk].push(pastName);
      names[ok].push(presentName);
    }
  }
  const graphValue = (set: Set<number>, what: string): number | undefined => {
    if (set.size > 1) throw refuse(files, `cache tensors disagree on ${what}: ${[...set].join(', ')}`);
    return [...set][0];
  };
  let out = { ...config };
  const take = (field: keyof ModelConfig, configField: string, graph: number | undefined, how: string) => {
    if (graph === undefined || graph === out[field]) return;
    overrides.push({ field: configField, config: out[field], graph, note: `${how} in ${files.onnx}; ${files.config} gives ${String(out[field])}` });
    out = { ...out, [field]: graph };
  };
  take('numLayers', 'num_hidden_layers', numLayers, `${numLayers} layers of cache inputs`);
  take('numKvHeads', 'num_key_value_heads', graphValue(fixed.heads, 'kv heads'), 'kv heads of the cache tensors');
  take('headDim', 'head_dim', graphValue(fixed.headDim, 'head dim'), 'head dim of the cache tensors');
  const vocab = logits.dims?.[logits.dims.length - 1];
  take('vocabSize', 'vocab_size', typeof vocab === 'number' ? vocab : undefined, 'logits entries');

  const gqa = graph.ops.find((o) => o.opType === 'GroupQueryAttention' && o.domain === 'com.microsoft');
  const padding: Padding = gqa ? 'right' : 'left';
  const paddingReason = gqa
    ? 'com.microsoft GroupQueryAttention takes per-row lengths from the mask sum (seqlens_k) and keeps each row packed at the front of its cache: rows are right-padded'
    : 'the attention reads the mask per position: rows are left-padded, pads masked out';
  const io: ModelIO = {
    inputNames,
    outputNames,
    hasPositionIds: inputs.has('position_ids'),
    pastKeyNames: names.pastKey,
    pastValueNames: names.pastValue,
    presentKeyNames: names.presentKey,
    presentValueNames: names.presentValue,
    cacheLayout: family ? 'separate' : 'combined',
    inputTypes,
    extraInputs,
    kvType: kvType as 'float32' | 'float16',
    logitsType: logits.elemType as 'float32' | 'float16',
    padding,
    paddingReason,
  };
  return { io, config: out, overrides };
}

/** The logits' vocabulary dimension when the graph fixes it. */
export function staticLogitsVocab(graph: OnnxGraphIO): number | undefined {
  const dims = graph.outputs.find((v) => v.name === 'logits')?.dims;
  const last = dims?.[dims.length - 1];
  return typeof last === 'number' ? last : undefined;
}

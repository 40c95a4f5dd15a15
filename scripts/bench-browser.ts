// node --import tsx scripts/bench-browser.ts [<model-dir>] [new-tokens] [rounds]
// Greedy decode tokens/s in headless Chromium on onnxruntime-web's WASM EP: detbench's page (the
// shared decode loop, recording top-k, margins and logits hashes every step) against
// transformers.js generate() on the same model folder, in the same browser, one thread each.
// Alternating rounds (order swapped every round), medians, the ratio; written to out/bench/.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'puppeteer-core';
import { findChrome, launchChrome } from '../runners/browser/chrome.ts';
import { bundlePage, decodePageBundle, Harness, ORT_DIST, ortExternal, recorderWorkerBundle } from '../runners/browser/harness.ts';
import type { PageApi, PageInit } from '../runners/browser/protocol.ts';
import { loadModel } from '../src/model/load.ts';
import { specOf } from '../src/runner-contract/spec.ts';
import { median, quartiles } from './bench-stats.ts';

const modelDir = path.resolve(process.argv[2] ?? 'models/detbench-tiny');
const newTokens = Number(process.argv[3] ?? 64);
const rounds = Number(process.argv[4] ?? 101);
const threads = 1;
const prompt = 'The module provides functions for';

if (!existsSync(path.join(modelDir, 'onnx/model.onnx'))) {
  console.error(`${modelDir}: no onnx/model.onnx; pass a model folder (e.g. test/.cache/tiny-model after \`npx vitest run test/model-tiny\`)`);
  process.exit(2);
}
const chrome = findChrome(undefined);
if ('reason' in chrome) {
  console.error(chrome.reason);
  process.exit(2);
}

const model = await loadModel(modelDir);
const promptIds = model.tokenizer.encode(prompt);
if (promptIds.length + newTokens > model.config.maxPositions) {
  console.error(`${promptIds.length} prompt + ${newTokens} new tokens exceed the model's ${model.config.maxPositions} positions`);
  process.exit(2);
}

const harness = await Harness.start(0);
const o = harness.origin;
harness.text('/decode.html', '<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>', '.html');
harness.text('/tf.html', '<!doctype html><meta charset="utf-8"><script type="module" src="/tf.js"></script>', '.html');
harness.text('/page.js', await decodePageBundle(), '.js');
harness.text('/recorder.js', await recorderWorkerBundle(), '.js');
const tfEntry = fileURLToPath(new URL('../runners/browser/in-chromium/bench-transformers.ts', import.meta.url));
// transformers.js imports onnxruntime-web/webgpu: the harness serves that very build, once.
harness.text('/tf.js', await bundlePage(tfEntry, [ortExternal('/ort/ort.webgpu.min.mjs')]), '.js');
harness.dir('/ort/', ORT_DIST);
harness.dir('/models/', path.dirname(modelDir));
const served = harness.model(model.onnxPath, model.externalData);

const launched = await launchChrome(chrome.path, false);
const browser = launched.browser;
type G = typeof globalThis & {
  detbench: PageApi;
  tfbench: { load(...a: unknown[]): Promise<{ version: string }>; generate(ids: number[], n: number): Promise<{ tokens: number[]; ms: number }> };
};

async function openPage(url: string, global: string): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`[${url}]`, e));
  await page.goto(o + url);
  await page.waitForFunction((g) => g in globalThis, {}, global);
  return page;
}

const ours = await openPage('/decode.html', 'detbench');
const init: PageInit = {
  ep: 'wasm',
  ortUrl: '/ort/ort.wasm.min.mjs',
  wasmPaths: `${o}/ort/`,
  numThreads: threads,
  simd: true,
  recorderUrl: `${o}/recorder.js`,
};
const facts = await ours.evaluate((i) => (globalThis as G).detbench.init(i), init);
const session = await ours.evaluate((x) => (globalThis as G).detbench.open(x), {
  ...served,
  spec: specOf(model),
  graphOptimization: 'all' as const,
  kvOnGpu: false,
});

// detbench again on the build transformers.js uses, to tell the loop's cost from the build's.
const oursAsync = await openPage('/decode.html', 'detbench');
await oursAsync.evaluate((i) => (globalThis as G).detbench.init(i), { ...init, ortUrl: '/ort/ort.webgpu.min.mjs' });
await oursAsync.evaluate((x) => (globalThis as G).detbench.open(x), { ...served, spec: specOf(model), graphOptimization: 'all' as const, kvOnGpu: false });

// detbench recording in line (no Web Worker), to see what the worker takes off the loop.
const oursInline = await openPage('/decode.html', 'detbench');
const { recorderUrl: _, ...inlineInit } = init;
await oursInline.evaluate((i) => (globalThis as G).detbench.init(i), inlineInit);
const inlineSession = await oursInline.evaluate((x) => (globalThis as G).detbench.open(x), {
  ...served,
  spec: specOf(model),
  graphOptimization: 'all' as const,
  kvOnGpu: false,
});
if (inlineSession.recording !== 'inline') throw new Error(`the inline page records ${inlineSession.recording}`);

const theirs = await openPage('/tf.html', 'tfbench');
// transformers.js loads onnx/model.onnx for fp32: its external data, relative to the model folder.
if (model.onnxFile !== 'onnx/model.onnx') throw new Error(`${modelDir}: transformers.js would load onnx/model.onnx, detbench loads ${model.onnxFile}`);
const tfExternal = model.externalData.map((location) => ({ path: location, file: path.posix.join(path.posix.dirname(model.onnxFile), location) }));
const tf = await theirs.evaluate((...a) => (globalThis as G).tfbench.load(...a), o, `${o}/models/`, path.basename(modelDir), threads, tfExternal);

const request = { promptIds, maxNewTokens: newTokens, sampling: { kind: 'greedy' as const }, stopIds: [], topK: 10 };
async function detbenchOn(page: Page): Promise<{ tokens: number[]; ms: number }> {
  await page.bringToFront();
  return page.evaluate(async (r) => {
    const t0 = performance.now();
    const [res] = await (globalThis as G).detbench.generate([r]);
    return { tokens: res!.tokens, ms: performance.now() - t0 };
  }, request);
}
async function transformers(): Promise<{ tokens: number[]; ms: number }> {
  await theirs.bringToFront();
  return theirs.evaluate((ids, n) => (globalThis as G).tfbench.generate(ids, n), promptIds, newTokens);
}

const detbench = () => detbenchOn(ours);

// Warm-up (JIT tiers, allocator), and the same greedy tokens from all, or the comparison means nothing.
const tasks = {
  detbench,
  'detbench inline': () => detbenchOn(oursInline),
  'detbench (asyncify build)': () => detbenchOn(oursAsync),
  'transformers.js': transformers,
};
type Task = keyof typeof tasks;
const names = Object.keys(tasks) as Task[];
const warm: Partial<Record<Task, number[]>> = {};
for (let i = 0; i < 3; i++) for (const n of names) warm[n] = (await tasks[n]()).tokens;
const sameTokens = names.every((n) => JSON.stringify(warm[n]) === JSON.stringify(warm.detbench));

const perRound = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Task, number[]>;
const ratios: number[] = [];
const inlineRatios: number[] = [];
for (let round = 0; round < rounds; round++) {
  // Rotate the order every round so drift (heat, other load) favours no one.
  const order = names.slice(round % names.length).concat(names.slice(0, round % names.length));
  const tps: Partial<Record<keyof typeof tasks, number>> = {};
  for (const name of order) {
    const r = await tasks[name]();
    tps[name] = (r.tokens.length * 1000) / r.ms;
    perRound[name].push(tps[name]);
  }
  ratios.push(tps.detbench! / tps['transformers.js']!);
  inlineRatios.push(tps['detbench inline']! / tps['transformers.js']!);
  if (rounds <= 20 || round % 10 === 0) console.error(`round ${round + 1}/${rounds}: ${names.map((n) => `${n} ${tps[n]!.toFixed(1)}`).join(', ')} tok/s`);
}

const result = {
  machine: {
    loadAverage: loadavg().map((x) => Number(x.toFixed(2))),
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
  },
  browser: launched.version,
  crossOriginIsolated: facts.crossOriginIsolated,
  onnxruntimeWeb: facts.ortVersion,
  builds: {
    detbench: 'ort.wasm.min.mjs (plain WASM build, as browser-wasm runs)',
    'detbench (asyncify build)': 'ort.webgpu.min.mjs, wasm EP',
    'transformers.js': 'ort.webgpu.min.mjs (Asyncify build transformers.js ships with), device wasm',
  },
  transformersJs: tf.version,
  model: {
    dir: modelDir,
    sha256: model.sha256,
    bytes: model.sizeBytes,
    layers: model.config.numLayers,
    hidden: model.config.hiddenSize,
    vocab: model.config.vocabSize,
  },
  promptTokens: promptIds.length,
  newTokens,
  rounds,
  threads,
  sessionMs: session.sessionMs,
  // Where detbench's page recorded: on a Web Worker the loop helps when it falls behind, or in line.
  recording: session.recording,
  // Where its rows were summarised over the whole bench: the worker, the loop at push, the loop at the end.
  recordingPlaces: await ours.evaluate(() => (globalThis as G).detbench.recordingPlaces()),
  sameGreedyTokens: sameTokens,
  tokensPerSecond: Object.fromEntries(names.map((n) => [n, median(perRound[n])])),
  // The least-disturbed round of each: on a shared machine the medians carry the noise of others' load.
  bestTokensPerSecond: Object.fromEntries(names.map((n) => [n, Math.max(...perRound[n])])),
  perRound,
  ratio: {
    medianOfRounds: median(ratios),
    // The 25th and 75th percentile of the per-round ratios, to judge the median by.
    roundQuartiles: quartiles(ratios),
    ofMedians: median(perRound.detbench) / median(perRound['transformers.js']),
    ofBest: Math.max(...perRound.detbench) / Math.max(...perRound['transformers.js']),
  },
  inlineRatio: { medianOfRounds: median(inlineRatios), roundQuartiles: quartiles(inlineRatios) },
  goal: 'detbench >= 1.25x transformers.js tokens/s',
};
mkdirSync('out/bench', { recursive: true });
writeFileSync('out/bench/bench-browser.json', JSON.stringify(result, null, 2));
console.log(JSON.stringify(result, null, 2));
console.log(
  `\n${path.basename(modelDir)} (vocabulary ${model.config.vocabSize}), ${launched.version}, load average ${result.machine.loadAverage.join(' ')}:\n` +
    `  detbench (${result.recording}) / transformers.js: ${result.ratio.medianOfRounds.toFixed(2)}x median of rounds, ${result.ratio.ofBest.toFixed(2)}x best rounds (goal >= 1.25)\n` +
    `  detbench inline / transformers.js: ${result.inlineRatio.medianOfRounds.toFixed(2)}x median of rounds; same greedy tokens: ${sameTokens}`,
);
await launched.close();
await harness.close();

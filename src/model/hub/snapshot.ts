import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { downloadFileToCacheDir, HubApiError, listFiles, modelInfo } from '@huggingface/hub';
import { DetbenchError, errorMessage } from '../../errors.ts';
import { readOnnxIO } from '../onnx-io.ts';
import { cachedCommit, hasCachedFile, hubCacheDir, repoCacheFolder, snapshotFolder } from './cache.ts';
import { type HubFailure, type HubProgress, watchingFetch } from './fetch-watch.ts';
import { isCommitSha } from './repo-id.ts';

/** Files besides the ONNX graph that a model folder may need: configuration and tokenizer. */
const METADATA_FILES = [
  'config.json',
  'generation_config.json',
  'genai_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'added_tokens.json',
  'vocab.json',
  'merges.txt',
  'tokenizer.model',
  'chat_template.jinja',
  'chat_template.json',
];

/** Where a Hub model came from: recorded next to the model's file hash in every record. */
export interface HubProvenance {
  repo: string;
  /** The revision the suite asked for (a branch, a tag or a commit). */
  revision: string;
  /** The commit it resolved to. */
  commit: string;
  /** Whether the files came from the cache alone (HF_HUB_OFFLINE). */
  offline: boolean;
}

/** A Hub model, resolved to a snapshot folder of the standard cache. */
export interface HubSnapshot {
  /** `…/models--owner--name/snapshots/<commit>`: a model folder like any other. */
  dir: string;
  provenance: HubProvenance;
  /** Makes `file` (relative to the model folder) and the external-data files its graph names present. */
  ensure(file: string): Promise<void>;
  /** Whether the repo has `file` at this commit (the Hub's listing; offline, the cache). */
  has(file: string): boolean;
}

export interface OpenHubOptions {
  env?: NodeJS.ProcessEnv;
  onProgress?: (p: HubProgress) => void;
  /** For tests: the fetch the Hub library uses. */
  fetch?: typeof fetch;
}

/** Whether HF_HUB_OFFLINE asks for the cache alone (huggingface_hub's truthy values). */
export function hubOffline(env: NodeJS.ProcessEnv): boolean {
  return ['1', 'true', 'yes', 'on'].includes((env.HF_HUB_OFFLINE ?? '').trim().toLowerCase());
}

/**
 * Resolves a Hub repo at a revision into the shared cache and fetches its configuration and
 * tokenizer files; ONNX files are fetched on demand through `ensure`, so a run downloads only the
 * precisions its runners use. With HF_HUB_OFFLINE=1 nothing is asked of the network and every file
 * must already be cached. Every failure is a DetbenchError (exit 2) naming the repo and what to do;
 * the token (HF_TOKEN) never appears in one.
 */
export async function openHubModel(repo: string, revision: string, options: OpenHubOptions = {}): Promise<HubSnapshot> {
  const env = options.env ?? process.env;
  const cacheDir = hubCacheDir(env);
  const folder = repoCacheFolder(cacheDir, repo);
  if (hubOffline(env)) return openOffline(repo, revision, folder, cacheDir);

  const endpoint = (env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
  const token = env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN || undefined;
  const watch = watchingFetch(options.onProgress, options.fetch);
  const hub = { hubUrl: endpoint, fetch: watch.fetch, ...(token ? { accessToken: token } : {}) };
  const fail = (err: unknown, what: string): never => {
    throw hubError(err, what, { repo, revision, endpoint, token, folder, failure: watch.state.lastFailure });
  };

  let commit = revision;
  if (!isCommitSha(revision)) {
    const info = await modelInfo({ ...hub, name: repo, revision, additionalFields: ['sha'] }).catch((err) => fail(err, 'resolve the revision'));
    const sha = (info as { sha?: unknown }).sha;
    if (typeof sha !== 'string' || !isCommitSha(sha)) fail(new Error(`the Hub named no commit for revision ${revision}`), 'resolve the revision');
    commit = sha as string;
    writeRef(folder, revision, commit);
  }
  const sizes = new Map<string, number>();
  try {
    for await (const entry of listFiles({ ...hub, repo, revision: commit, recursive: true })) {
      if (entry.type === 'file') sizes.set(entry.path, entry.lfs?.size ?? entry.size);
    }
  } catch (err) {
    fail(err, 'list its files');
  }
  const dir = snapshotFolder(folder, commit);

  const download = async (file: string): Promise<void> => {
    const expected = sizes.get(file);
    if (expected === undefined) {
      throw new DetbenchError('HUB_FILE_MISSING', `${repo}@${revision} (${commit}) has no ${file}; it has ${onnxChoices(sizes)}`, { field: 'model' });
    }
    if (hasCachedFile(dir, file) && statSync(join(dir, file)).size === expected) return;
    await quietly(() => downloadFileToCacheDir({ ...hub, repo, path: file, revision: commit, cacheDir })).catch((err) => fail(err, `download ${file}`));
    const got = statSync(join(dir, file)).size;
    if (got !== expected) {
      // Never leave a short file where the next run would take it for a whole one.
      rmSync(join(dir, file), { force: true });
      throw new DetbenchError('HUB_DOWNLOAD_INCOMPLETE', `${repo}: ${file} arrived with ${got} of ${expected} bytes; run again to fetch it anew`, {
        field: 'model',
      });
    }
  };

  for (const file of METADATA_FILES) if (sizes.has(file)) await download(file);
  mkdirSync(dir, { recursive: true });
  return {
    dir,
    provenance: { repo, revision, commit, offline: false },
    has: (file) => sizes.has(file),
    async ensure(file) {
      await download(file);
      for (const data of (await readOnnxIO(join(dir, file))).externalData) await download(posix.join(posix.dirname(file), data));
    },
  };
}

function openOffline(repo: string, revision: string, folder: string, cacheDir: string): HubSnapshot {
  const commit = cachedCommit(folder, revision);
  if (!commit) {
    throw new DetbenchError(
      'HUB_NOT_CACHED',
      `HF_HUB_OFFLINE=1: ${repo}@${revision} is not in the Hub cache ${cacheDir}; unset HF_HUB_OFFLINE to download it, or give a local folder`,
      { field: 'model' },
    );
  }
  const dir = snapshotFolder(folder, commit);
  const need = (file: string) => {
    if (!hasCachedFile(dir, file)) {
      throw new DetbenchError(
        'HUB_NOT_CACHED',
        `HF_HUB_OFFLINE=1: ${repo}@${revision} (${commit}) has no ${file} in the Hub cache ${cacheDir}; unset HF_HUB_OFFLINE to download it`,
        { field: 'model' },
      );
    }
  };
  return {
    dir,
    provenance: { repo, revision, commit, offline: true },
    has: (file) => hasCachedFile(dir, file),
    async ensure(file) {
      need(file);
      for (const data of (await readOnnxIO(join(dir, file))).externalData) need(posix.join(posix.dirname(file), data));
    },
  };
}

/** `refs/<revision>` holds the commit, written atomically (another process may read it). */
function writeRef(folder: string, revision: string, commit: string): void {
  const ref = join(folder, 'refs', revision);
  mkdirSync(dirname(ref), { recursive: true });
  const tmp = `${ref}.${process.pid}.tmp`;
  writeFileSync(tmp, commit);
  renameSync(tmp, ref);
}

/** The ONNX files a repo has, with the dtype each stands for, for "it has ..." messages. */
function onnxChoices(sizes: Map<string, number>): string {
  const onnx = [...sizes.keys()].filter((f) => f.endsWith('.onnx')).sort();
  if (onnx.length === 0) return 'no ONNX file';
  return onnx.map((f) => `${f} (${dtypeOfFile(f)})`).join(', ');
}

/** The onnx-community dtype name a file stands for: `model_q4.onnx` → q4, `model.onnx` → fp32. */
export function dtypeOfFile(file: string): string {
  const m = /(?:^|\/)[^/]*?_(fp16|q4f16|q4|int8|uint8|bnb4|quantized)\.onnx$/.exec(file);
  return m ? m[1]! : 'fp32';
}

/** @huggingface/hub announces every download with console.debug (stdout in Node); keep stdout for detbench's own output. */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const debug = console.debug;
  console.debug = () => {};
  try {
    return await fn();
  } finally {
    console.debug = debug;
  }
}

interface FailureContext {
  repo: string;
  revision: string;
  endpoint: string;
  token: string | undefined;
  folder: string;
  failure: HubFailure | undefined;
}

/** One clear message per way a Hub request fails. */
function hubError(err: unknown, what: string, ctx: FailureContext): DetbenchError {
  const { repo, revision, endpoint } = ctx;
  const redact = (s: string) => (ctx.token ? s.split(ctx.token).join('[HF_TOKEN]') : s);
  if (err instanceof DetbenchError) return err;
  if (err instanceof HubApiError) {
    const code = ctx.failure?.errorCode;
    const status = err.statusCode;
    if (status === 401 || status === 403 || code === 'GatedRepo') {
      const msg = ctx.token
        ? `${endpoint} refused HF_TOKEN for ${repo} (${status}${code ? ` ${code}` : ''}): the token lacks access to this private or gated repo`
        : `${endpoint} refused access to ${repo} (${status}${code ? ` ${code}` : ''}): a private or gated repo needs a token in HF_TOKEN`;
      return new DetbenchError('HUB_AUTH', msg, { cause: err, field: 'model' });
    }
    if (code === 'RevisionNotFound')
      return new DetbenchError('HUB_REVISION_NOT_FOUND', `${repo} has no revision ${revision} on ${endpoint}`, { cause: err, field: 'model' });
    if (status === 404 && code !== 'EntryNotFound') {
      return new DetbenchError('HUB_REPO_NOT_FOUND', `${endpoint} has no model repo ${repo}${ctx.token ? '' : ' (or it is private: set HF_TOKEN)'}`, {
        cause: err,
        field: 'model',
      });
    }
    return new DetbenchError('HUB_ERROR', redact(`${repo}: cannot ${what}: ${err.message}`), { cause: err, field: 'model' });
  }
  if (err instanceof TypeError) {
    const cached = cachedCommit(ctx.folder, revision);
    const hint = cached ? ` (the cache has ${repo}@${revision}: HF_HUB_OFFLINE=1 uses it)` : '';
    return new DetbenchError(
      'HUB_UNREACHABLE',
      redact(
        `cannot reach ${endpoint} for ${repo} (${errorMessage((err as { cause?: unknown }).cause ?? err)}); set HF_HUB_OFFLINE=1 to use the cache, or give a local folder${hint}`,
      ),
      { cause: err, field: 'model' },
    );
  }
  return new DetbenchError('HUB_ERROR', redact(`${repo}: cannot ${what}: ${errorMessage(err)}`), { cause: err, field: 'model' });
}

import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isCommitSha } from './repo-id.ts';

/**
 * The Hub cache every Hugging Face library shares: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
 * `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub` (huggingface_hub's order).
 */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HF_HOME) return join(env.HF_HOME, 'hub');
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'huggingface', 'hub');
}

/** `models--owner--name`: one repo's folder in the cache (`blobs/`, `refs/`, `snapshots/<commit>/`). */
export function repoCacheFolder(cacheDir: string, repo: string): string {
  return join(cacheDir, `models--${repo.split('/').join('--')}`);
}

/**
 * The commit a revision points to in the cache: the revision itself when it is a commit sha,
 * else the content of `refs/<revision>` (written by every Hub library when it resolves a
 * branch or tag); undefined when the cache has never resolved it.
 */
export function cachedCommit(repoFolder: string, revision: string): string | undefined {
  if (isCommitSha(revision)) return revision;
  const ref = join(repoFolder, 'refs', revision);
  if (!existsSync(ref)) return undefined;
  const commit = readFileSync(ref, 'utf8').trim();
  return isCommitSha(commit) ? commit : undefined;
}

/** The snapshot folder of one commit: the model folder the loader reads. */
export function snapshotFolder(repoFolder: string, commit: string): string {
  return join(repoFolder, 'snapshots', commit);
}

/** Whether a snapshot holds `file` as a readable regular file (a symlink into `blobs/` followed). */
export function hasCachedFile(snapshot: string, file: string): boolean {
  try {
    return statSync(join(snapshot, file)).isFile();
  } catch {
    return false;
  }
}

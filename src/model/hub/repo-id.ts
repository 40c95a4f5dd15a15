/**
 * Hugging Face Hub repository ids as a suite names them (`onnx-community/SmolLM2-135M-Instruct`).
 * The rule follows the Hub's own: an owner and a name of letters, digits, `-`, `_` and `.`, neither
 * starting with `-` or `.`, no `--` or `..` (the cache uses `--` as its separator), at most 96
 * characters in all.
 */
const PART = /^(?![-.])(?!.*(--|\.\.))[A-Za-z0-9_.-]+$/;

/** Whether `value` has the shape of a Hub repo id (`owner/name`). */
export function isRepoId(value: string): boolean {
  if (value.length > 96) return false;
  const parts = value.split('/');
  return parts.length === 2 && parts.every((p) => PART.test(p) && !p.endsWith('.'));
}

/** A commit sha as the Hub writes it: 40 lowercase hex digits. */
export function isCommitSha(value: string): boolean {
  return /^[0-9a-f]{40}$/.test(value);
}

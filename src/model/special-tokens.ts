/** The special-token names a chat template is rendered with, as transformers.js passes them. */
export const SPECIAL_TOKEN_NAMES = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'] as const;

/** A special token's text, from a string or an AddedToken-like object (`{ content }`). */
function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value || undefined;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string')
    return (value as { content: string }).content || undefined;
  return undefined;
}

/**
 * The special tokens (bos_token, eos_token, ...) by name, with the file each came from:
 * tokenizer_config.json first (what transformers.js renders templates with), then
 * special_tokens_map.json for names the first does not give (as transformers does).
 */
export function specialTokensOf(
  tokenizerConfig: Record<string, unknown>,
  specialTokensMap: Record<string, unknown> | undefined,
  files: { tokenizerConfig: string; specialTokensMap: string },
): { tokens: Record<string, string>; from: Record<string, string> } {
  const tokens: Record<string, string> = {};
  const from: Record<string, string> = {};
  for (const name of SPECIAL_TOKEN_NAMES) {
    const own = tokenText(tokenizerConfig[name]);
    const mapped = specialTokensMap ? tokenText(specialTokensMap[name]) : undefined;
    if (own !== undefined) {
      tokens[name] = own;
      from[name] = files.tokenizerConfig;
    } else if (mapped !== undefined) {
      tokens[name] = mapped;
      from[name] = files.specialTokensMap;
    }
  }
  return { tokens, from };
}

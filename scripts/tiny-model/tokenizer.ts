/** The special token that is bos, eos and pad of the tiny model, as in GPT-2. */
export const END_OF_TEXT = '<|endoftext|>';

/** Training text for the merges: short, fixed, plain English. */
const CORPUS = [
  'The quick brown fox jumps over the lazy dog.',
  'Once upon a time there was a little girl who lived in a village near the forest.',
  'Whenever she went out, the little girl wore a red riding cloak, so everyone in the village called her Little Red Riding Hood.',
  'The weather today is sunny with a light breeze from the west.',
  'Reproducible results need the same inputs, the same weights and the same order of operations.',
  'A model that is run twice on the same prompt should give the same answer.',
  'Numbers such as 1, 2, 3 and 2024 appear in many sentences.',
  'She said that the other children were playing in the garden, and then they went home for dinner.',
  'What is the capital of France? The capital of France is Paris.',
  'Please write a short story about a robot that learns to paint.',
  'In the morning the birds sing, and in the evening the stars come out.',
  'There are many things to learn about the world and the people in it.',
];

/** GPT-2's reversible byte-to-character map (`bytes_to_unicode`), in GPT-2's vocabulary order. */
export function byteSymbols(): { byte: number; char: string }[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const out = printable.map((b) => ({ byte: b, char: String.fromCharCode(b) }));
  let n = 0;
  for (let b = 0; b < 256; b++) if (!printable.includes(b)) out.push({ byte: b, char: String.fromCharCode(256 + n++) });
  return out;
}

/** GPT-2's pre-tokenizer pattern (the ByteLevel pre-tokenizer with use_regex). */
const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/**
 * Learns `count` BPE merges from {@link CORPUS}: repeatedly merges the most frequent adjacent
 * pair, ties broken by the pair's strings, so the result is the same on every run. Stops early
 * only if the corpus runs out of pairs.
 */
function learnMerges(count: number): [string, string][] {
  const charOf = new Map(byteSymbols().map((s) => [s.byte, s.char]));
  const wordCounts = new Map<string, number>();
  for (const line of CORPUS) {
    for (const piece of line.match(GPT2_SPLIT) ?? []) {
      const mapped = Array.from(new TextEncoder().encode(piece), (b) => charOf.get(b)!).join('');
      wordCounts.set(mapped, (wordCounts.get(mapped) ?? 0) + 1);
    }
  }
  const words = [...wordCounts].map(([w, n]) => ({ symbols: [...w], n }));
  const merges: [string, string][] = [];
  while (merges.length < count) {
    const pairs = new Map<string, { a: string; b: string; n: number }>();
    for (const { symbols, n } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const a = symbols[i]!;
        const b = symbols[i + 1]!;
        const key = `${a}\u0000${b}`;
        const p = pairs.get(key) ?? { a, b, n: 0 };
        p.n += n;
        pairs.set(key, p);
      }
    }
    let best: { a: string; b: string; n: number } | undefined;
    for (const p of pairs.values()) {
      if (!best || p.n > best.n || (p.n === best.n && (p.a < best.a || (p.a === best.a && p.b < best.b)))) best = p;
    }
    if (!best) break;
    merges.push([best.a, best.b]);
    for (const w of words) {
      const next: string[] = [];
      for (let i = 0; i < w.symbols.length; i++) {
        if (w.symbols[i] === best.a && w.symbols[i + 1] === best.b) {
          next.push(best.a + best.b);
          i++;
        } else next.push(w.symbols[i]!);
      }
      w.symbols = next;
    }
  }
  return merges;
}

/** The tokenizer files of the tiny model. */
export interface TinyTokenizer {
  tokenizerJson: object;
  tokenizerConfig: object;
  /** Token count, `<|endoftext|>` included (it is the last id). */
  vocabSize: number;
  endOfTextId: number;
}

/** A GPT-2-style byte-level BPE tokenizer: 256 byte symbols, `merges` learned merges, `<|endoftext|>`. */
export function buildTokenizer(merges: number): TinyTokenizer {
  const vocab: Record<string, number> = {};
  let next = 0;
  for (const { char } of byteSymbols()) vocab[char] = next++;
  const learned = learnMerges(merges);
  // Two merges can spell the same token ("ab"+"c", "a"+"bc"); it keeps its first id.
  for (const [a, b] of learned) if (!Object.hasOwn(vocab, a + b)) vocab[a + b] = next++;
  const endOfTextId = next++;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const special = { id: endOfTextId, content: END_OF_TEXT, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true };
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: learned,
    },
  };
  const { id: _id, ...specialEntry } = special;
  const tokenizerConfig = {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: { [String(endOfTextId)]: specialEntry },
    bos_token: END_OF_TEXT,
    eos_token: END_OF_TEXT,
    unk_token: END_OF_TEXT,
    clean_up_tokenization_spaces: false,
    model_max_length: 1024,
    tokenizer_class: 'GPT2Tokenizer',
    chat_template:
      "{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}",
  };
  return { tokenizerJson, tokenizerConfig, vocabSize: next, endOfTextId };
}

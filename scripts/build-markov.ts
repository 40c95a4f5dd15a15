/**
 * Builds the markov control runner's n-gram table from the very corpus detbench-tiny was trained
 * on (models/corpus.py: the Python 3.11 documentation from Debian's python3-doc), tokenized with
 * the shipped model's own tokenizer, with the same split (every 25th document held out) and an
 * <|endoftext|> after each document, as models/train-tokenizer.mjs encodes them for training.
 *
 *   apt-get install -y python3-doc
 *   node --import tsx scripts/build-markov.ts [--min-trigram 3]
 *
 * Writes models/detbench-tiny-markov/ngram.bin.gz and ngram.json (what was counted, how, sha256).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { encodeTable, type NgramCounts } from '../runners/markov/table.ts';
import { HfTextTokenizer } from '../src/model/tokenizer.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MODEL = path.join(ROOT, 'models/detbench-tiny');
const OUT = path.join(ROOT, 'models/detbench-tiny-markov');
const CACHE = path.join(ROOT, 'out/markov-corpus');
/** models/train.py's --val-every default: document i is validation when i % 25 == 24. */
const VAL_EVERY = 25;
const ORDER = 3;

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
/** Trigrams seen fewer times are dropped (they back off to the bigram): keeps the table near 1 MB. */
const minTrigram = arg('--min-trigram', 3);

execFileSync('python3', [path.join(ROOT, 'models/corpus.py'), CACHE], { stdio: 'inherit' });
const docs = readFileSync(path.join(CACHE, 'docs.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => (JSON.parse(l) as { text: string }).text);

const tokenizerJson = readFileSync(path.join(MODEL, 'tokenizer.json'));
const tok = new HfTextTokenizer(
  JSON.parse(tokenizerJson.toString('utf8')) as object,
  JSON.parse(readFileSync(path.join(MODEL, 'tokenizer_config.json'), 'utf8')) as object,
);
const eos = tok.encode('<|endoftext|>', { addSpecialTokens: false });
if (eos.length !== 1) throw new Error(`<|endoftext|> is not one token: ${JSON.stringify(eos)}`);
const vocab = tok.vocabSize;

const uni = new Uint32Array(vocab);
const bi = new Map<number, number>();
const tri = new Map<number, number>();
let trainTokens = 0;
let valTokens = 0;
docs.forEach((text, i) => {
  const ids = [...tok.encode(text, { addSpecialTokens: false }), eos[0]!];
  if (i % VAL_EVERY === VAL_EVERY - 1) {
    valTokens += ids.length;
    return;
  }
  trainTokens += ids.length;
  for (let j = 0; j < ids.length; j++) {
    const c = ids[j]!;
    uni[c]!++;
    if (j >= 1) bi.set(ids[j - 1]! * vocab + c, (bi.get(ids[j - 1]! * vocab + c) ?? 0) + 1);
    if (j >= 2) {
      const k = (ids[j - 2]! * vocab + ids[j - 1]!) * vocab + c;
      tri.set(k, (tri.get(k) ?? 0) + 1);
    }
  }
});

const rows = (m: Map<number, number>, k: number, min: number): number[][] =>
  [...m.entries()]
    .filter(([, n]) => n >= min)
    .sort((a, b) => a[0] - b[0])
    .map(([key, n]) => {
      const r: number[] = [];
      for (let j = 0; j <= k; j++) {
        r.unshift(key % vocab);
        key = Math.floor(key / vocab);
      }
      return [...r, n];
    });
const counts: NgramCounts = {
  vocab,
  order: ORDER,
  entries: [[...uni].flatMap((n, id) => (n > 0 ? [[id, n]] : [])), rows(bi, 1, 1), rows(tri, 2, minTrigram)],
};
const bin = gzipSync(encodeTable(counts), { level: 9 });
mkdirSync(OUT, { recursive: true });
writeFileSync(path.join(OUT, 'ngram.bin.gz'), bin);
const meta = {
  format: 'detbench n-gram table v1 (runners/markov/table.ts), gzip',
  order: ORDER,
  vocab,
  corpus: 'Python 3.11 documentation sources, Debian python3.11-doc (models/corpus.py), training split (document i kept unless i % 25 == 24)',
  tokenizer: { file: 'models/detbench-tiny/tokenizer.json', sha256: createHash('sha256').update(tokenizerJson).digest('hex') },
  documents: docs.length,
  trainTokens,
  heldOutTokens: valTokens,
  entries: { unigrams: counts.entries[0]!.length, bigrams: counts.entries[1]!.length, trigrams: counts.entries[2]!.length },
  minTrigramCount: minTrigram,
  sha256: createHash('sha256').update(bin).digest('hex'),
  bytes: bin.length,
};
writeFileSync(path.join(OUT, 'ngram.json'), `${JSON.stringify(meta, null, 2)}\n`);
console.log(
  `markov: ${trainTokens} training tokens (${valTokens} held out) -> ${path.relative(ROOT, OUT)}/ngram.bin.gz, ${(bin.length / 1e6).toFixed(2)} MB, ${JSON.stringify(meta.entries)}`,
);

// Byte-level BPE tokenizer for detbench-tiny, trained with Hugging Face `tokenizers`
// (npm package "tokenizers", the official Node binding; NOT a detbench dependency).
//
//   mkdir -p /tmp/tok && cd /tmp/tok && npm init -y && npm install tokenizers@0.23.2
//   NODE_PATH=/tmp/tok/node_modules node models/train-tokenizer.mjs train CORPUS.txt OUT/tokenizer.json 4096
//   NODE_PATH=/tmp/tok/node_modules node models/train-tokenizer.mjs encode OUT/tokenizer.json DOCS.jsonl IDS.bin
//
// The Node binding exposes `Tokenizer.train(files)` only with the model's default
// BpeTrainer (vocab_size 30000, min_frequency 0, no special tokens); it has no
// BpeTrainer options. BPE training is greedy: the trainer's merge list is ordered, and
// a run stopped at vocab size V yields exactly the first merges of a longer run. So we
// train with the default trainer and keep the first (V - 256 - 1) merges, then lay the
// vocabulary out as GPT-2 does: the 256 byte-level symbols, the merges in order, and
// the special token <|endoftext|> last. The result is re-loaded with the same library
// (Tokenizer.fromString) and checked for byte-exact round trips.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';

const require = createRequire(path.join(process.cwd(), 'noop.js'));
let tk;
try {
  tk = require('tokenizers');
} catch {
  const req2 = createRequire(path.join(process.env.NODE_PATH || '/tmp/tok/node_modules', 'noop.js'));
  tk = req2('tokenizers');
}
const { Tokenizer, BPE, byteLevelPreTokenizer, byteLevelAlphabet } = tk;

const EOS = '<|endoftext|>';

async function train(corpus, out, vocabSize) {
  const tok = new Tokenizer(BPE.empty());
  // add_prefix_space=false, trim_offsets=true, use_regex=true (GPT-2 regex)
  tok.setPreTokenizer(byteLevelPreTokenizer(false, true));
  tok.train([corpus]);
  const raw = JSON.parse(saveToString(tok));
  let merges = raw.model.merges.map((m) => (Array.isArray(m) ? m : m.split(' ')));
  const alphabet = byteLevelAlphabet();
  if (alphabet.length !== 256) throw new Error('byte alphabet is not 256 symbols');
  const nMerges = vocabSize - 256 - 1;
  if (merges.length < nMerges) throw new Error(`only ${merges.length} merges learned`);
  merges = merges.slice(0, nMerges);
  // GPT-2 byte order: bytes_to_unicode() order, i.e. the printable bytes first.
  const vocab = {};
  const gpt2Order = bytesToUnicode();
  gpt2Order.forEach((ch, i) => {
    vocab[ch] = i;
  });
  for (const ch of alphabet) if (!(ch in vocab)) throw new Error(`alphabet mismatch ${ch}`);
  let next = 256;
  for (const [a, b] of merges) {
    if (!(a in vocab) || !(b in vocab)) throw new Error(`merge ${a} ${b} uses unknown symbol`);
    const t = a + b;
    if (t in vocab) throw new Error(`duplicate merge result ${t}`);
    vocab[t] = next++;
  }
  vocab[EOS] = next++;
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: vocab[EOS], content: EOS, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
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
      merges,
    },
  };
  const text = JSON.stringify(json, null, 0);
  const check = Tokenizer.fromString(text);
  if (check.getVocabSize(true) !== vocabSize) throw new Error(`vocab size ${check.getVocabSize(true)} != ${vocabSize}`);
  const samples = ['Hello, world!', 'def f(x):\n    return x ** 2\n', 'Grüße aus Köln — ½ ✓ 🙂', fs.readFileSync(corpus, 'utf8').slice(0, 5000)];
  for (const s of samples) {
    const enc = await check.encode(s);
    const dec = await check.decode(enc.getIds(), false);
    if (dec !== s) throw new Error(`round trip failed: ${JSON.stringify(s.slice(0, 80))}`);
  }
  fs.mkdirSync(path.dirname(out), { recursive: true });
  check.save(out, true);
  console.log(`tokenizer: ${vocabSize} tokens (${merges.length} merges), eos id ${vocab[EOS]} -> ${out}`);
}

function saveToString(tok) {
  const tmp = path.join(fs.mkdtempSync('/tmp/tokjs-'), 't.json');
  tok.save(tmp, false);
  return fs.readFileSync(tmp, 'utf8');
}

function bytesToUnicode() {
  const bs = [];
  for (let i = 33; i <= 126; i++) bs.push(i);
  for (let i = 161; i <= 172; i++) bs.push(i);
  for (let i = 174; i <= 255; i++) bs.push(i);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++)
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  return cs.map((c) => String.fromCodePoint(c));
}

// DOCS.jsonl: one JSON string per line (one document); writes uint16 ids, documents
// separated by <|endoftext|>, and prints the count.
async function encode(tokFile, docsFile, out) {
  const tok = Tokenizer.fromFile(tokFile);
  const eos = tok.tokenToId(EOS);
  const rl = readline.createInterface({ input: fs.createReadStream(docsFile, 'utf8'), crlfDelay: Infinity });
  const chunks = [];
  let total = 0;
  for await (const line of rl) {
    if (!line) continue;
    const doc = JSON.parse(line);
    const ids = (await tok.encode(doc)).getIds();
    const arr = new Uint16Array(ids.length + 1);
    arr.set(ids);
    arr[ids.length] = eos;
    chunks.push(arr);
    total += arr.length;
  }
  const all = new Uint16Array(total);
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length;
  }
  fs.writeFileSync(out, Buffer.from(all.buffer));
  console.log(`encoded ${chunks.length} docs -> ${total} tokens -> ${out}`);
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'train') await train(args[0], args[1], parseInt(args[2] || '4096', 10));
else if (cmd === 'encode') await encode(args[0], args[1], args[2]);
else if (cmd === 'ids') {
  // TOKENIZER JSON_ARRAY_OF_STRINGS -> prints a JSON array of id arrays (no special tokens added)
  const tok = Tokenizer.fromFile(args[0]);
  const out = [];
  for (const s of JSON.parse(args[1])) out.push((await tok.encode(s)).getIds());
  console.log(JSON.stringify(out));
} else {
  console.error('usage: train CORPUS OUT VOCAB | encode TOKENIZER DOCS.jsonl OUT.bin | ids TOKENIZER JSON');
  process.exit(2);
}

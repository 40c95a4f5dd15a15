#!/usr/bin/python3
"""Train, export and describe detbench-tiny: a small GPT-2-style decoder.

Reproduce (Debian bookworm; see models/detbench-tiny/README.md):

    apt-get install -y python3-torch python3-onnx python3-doc libopenblas0-pthread nodejs npm
    mkdir -p /tmp/tok && (cd /tmp/tok && npm init -y && npm install tokenizers@0.23.2)
    nice -n 19 /usr/bin/python3 models/train.py --device cpu --threads 2 --out models/detbench-tiny
    # on a GPU machine (same script, bigger budget possible):
    /usr/bin/python3 models/train.py --device cuda --out models/detbench-tiny

Stages (each one is skipped when its output already exists in <out>/train-cache/,
unless --fresh is given):
  1. corpus: the reStructuredText sources of the Python 3.11 documentation as shipped by
     Debian's python3.11-doc (/usr/share/doc/python3.11/html/_sources), PSF licence.
  2. tokenizer: byte-level BPE trained with Hugging Face `tokenizers` (npm binding),
     models/train-tokenizer.mjs.
  3. training: fixed seed, fixed number of steps (--steps), AdamW + cosine schedule.
     --minutes is only a safety cap; if it triggers, the card says so.
  4. export: config.json, generation_config.json, tokenizer_config.json, onnx/model.onnx
     (fp32, torch.onnx.export TorchScript exporter, opset 17) and onnx/model_fp16.onnx
     (the same graph with fp16 weights, inputs, outputs and compute).
  5. samples: greedy and sampled continuations of three prompts, longest common
     substring of each greedy continuation with the training corpus, README.md.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
EOS = "<|endoftext|>"
MASK_VALUE = -1.0e4  # finite, representable in fp16; used with torch.where (never added)
PROMPTS = [
    "The os module provides",
    "A list comprehension is",
    "To read a file line by line,",
]


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


# ----------------------------------------------------------------------------- corpus
# In models/corpus.py (no torch needed), shared with the n-gram control runner.
from corpus import DOC_SRC, clean_rst, extract_corpus  # noqa: E402,F401


def node_tok(*args):
    env = dict(os.environ)
    env.setdefault("NODE_PATH", "/tmp/tok/node_modules")
    r = subprocess.run(["node", os.path.join(HERE, "train-tokenizer.mjs"), *args], env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("train-tokenizer.mjs failed:\n" + r.stdout + r.stderr)
    return r.stdout


def build_data(cache, out, vocab_size, val_every):
    tok_path = os.path.join(out, "tokenizer.json")
    if not os.path.exists(tok_path):
        log(node_tok("train", os.path.join(cache, "corpus.txt"), tok_path, str(vocab_size)).strip())
    tr, va = os.path.join(cache, "train.bin"), os.path.join(cache, "val.bin")
    if not os.path.exists(tr):
        with open(os.path.join(cache, "docs.jsonl")) as f:
            docs = [json.loads(l) for l in f]
        with open(os.path.join(cache, "train.jsonl"), "w") as t, open(os.path.join(cache, "val.jsonl"), "w") as v:
            for i, d in enumerate(docs):
                (v if i % val_every == val_every - 1 else t).write(json.dumps(d["text"], ensure_ascii=False) + "\n")
        log(node_tok("encode", tok_path, os.path.join(cache, "train.jsonl"), tr).strip())
        log(node_tok("encode", tok_path, os.path.join(cache, "val.jsonl"), va).strip())
    return (torch.from_numpy(np.fromfile(tr, dtype=np.uint16).astype(np.int64)),
            torch.from_numpy(np.fromfile(va, dtype=np.uint16).astype(np.int64)))


# ----------------------------------------------------------------------------- model
class Block(nn.Module):
    def __init__(self, d, h, eps):
        super().__init__()
        self.h = h
        self.ln_1 = nn.LayerNorm(d, eps=eps)
        self.c_attn = nn.Linear(d, 3 * d)
        self.attn_proj = nn.Linear(d, d)
        self.ln_2 = nn.LayerNorm(d, eps=eps)
        self.c_fc = nn.Linear(d, 4 * d)
        self.mlp_proj = nn.Linear(4 * d, d)

    def forward(self, x, mask, past_k=None, past_v=None):
        B, S, D = x.shape
        hd = D // self.h
        q, k, v = self.c_attn(self.ln_1(x)).split(D, dim=2)
        q = q.view(B, S, self.h, hd).transpose(1, 2)
        k = k.view(B, S, self.h, hd).transpose(1, 2)
        v = v.view(B, S, self.h, hd).transpose(1, 2)
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        att = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(hd))
        att = torch.where(mask, att, torch.tensor(MASK_VALUE, dtype=att.dtype, device=att.device))
        att = torch.softmax(att, dim=-1)
        y = torch.matmul(att, v).transpose(1, 2).reshape(B, S, D)
        x = x + self.attn_proj(y)
        hmid = self.c_fc(self.ln_2(x))
        hmid = F.gelu(hmid, approximate="tanh")  # = GPT-2 "gelu_new"
        x = x + self.mlp_proj(hmid)
        return x, k, v


class GPT(nn.Module):
    def __init__(self, vocab, n_pos, d, n_layer, n_head, eps=1e-5):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(n_pos, d)
        self.h = nn.ModuleList([Block(d, n_head, eps) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(d, eps=eps)
        self.apply(self._init)
        for b in self.h:  # GPT-2 scaled init of residual projections
            for p in (b.attn_proj.weight, b.mlp_proj.weight):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * n_layer))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def forward(self, input_ids, attention_mask=None, position_ids=None, past=None):
        """input_ids [B,S]; attention_mask [B,P+S] (1 = real token, 0 = left padding);
        position_ids [B,S]; past: list of (key, value) [B,H,P,hd]. Returns logits [B,S,V]
        and the new (key, value) per layer [B,H,P+S,hd]."""
        B, S = input_ids.shape
        P = past[0][0].shape[2] if past is not None else 0
        if position_ids is None:
            position_ids = torch.arange(P, P + S, device=input_ids.device).unsqueeze(0).expand(B, S)
        x = self.wte(input_ids) + self.wpe(position_ids)
        K = P + S
        kpos = torch.arange(K, device=input_ids.device)
        qpos = torch.arange(S, device=input_ids.device) + (K - S)
        mask = (kpos.unsqueeze(0) <= qpos.unsqueeze(1)).unsqueeze(0).unsqueeze(0)  # [1,1,S,K]
        if attention_mask is not None:
            mask = mask & attention_mask.bool().unsqueeze(1).unsqueeze(2)  # [B,1,S,K]
        presents = []
        for i, blk in enumerate(self.h):
            pk, pv = past[i] if past is not None else (None, None)
            x, k, v = blk(x, mask, pk, pv)
            presents.append((k, v))
        x = self.ln_f(x)
        logits = F.linear(x, self.wte.weight)  # tied embeddings
        return logits, presents


class OnnxWrapper(nn.Module):
    """Flat signature for torch.onnx.export (transformers.js GPT-2 layout)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, position_ids, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(len(past_flat) // 2)]
        logits, presents = self.model(input_ids, attention_mask, position_ids, past)
        flat = []
        for k, v in presents:
            flat += [k, v]
        return (logits, *flat)


# ----------------------------------------------------------------------------- train
def evaluate(model, data, T, device, batches=8, bs=8):
    g = torch.Generator().manual_seed(999)
    model.eval()
    losses = []
    with torch.no_grad():
        for _ in range(batches):
            ix = torch.randint(0, len(data) - T - 1, (bs,), generator=g)
            x = torch.stack([data[i:i + T] for i in ix]).to(device)
            y = torch.stack([data[i + 1:i + T + 1] for i in ix]).to(device)
            logits, _ = model(x)
            losses.append(F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1)).item())
    model.train()
    return sum(losses) / len(losses)


def train(args, train_ids, val_ids, cache):
    device = torch.device(args.device)
    torch.manual_seed(args.seed)
    model = GPT(args.vocab, args.n_positions, args.n_embd, args.n_layer, args.n_head).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"params {n_params} ({n_params / 1e6:.2f}M), train tokens {len(train_ids)}, val tokens {len(val_ids)}")
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95))
    g = torch.Generator().manual_seed(args.seed)
    T, B = args.seq_len, args.batch
    t0 = time.time()
    history = []
    stopped_early = False
    step = 0
    logf = open(os.path.join(cache, "train-log.tsv"), "w")
    logf.write("step\tseconds\tlr\ttrain_loss\tval_loss\n")
    ema = None
    for step in range(1, args.steps + 1):
        if step <= args.warmup:
            lr = args.lr * step / args.warmup
        else:
            pr = (step - args.warmup) / max(1, args.steps - args.warmup)
            lr = args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * pr)))
        for gr in opt.param_groups:
            gr["lr"] = lr
        ix = torch.randint(0, len(train_ids) - T - 1, (B,), generator=g)
        x = torch.stack([train_ids[i:i + T] for i in ix]).to(device)
        y = torch.stack([train_ids[i + 1:i + T + 1] for i in ix]).to(device)
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        el = time.time() - t0
        stop_here = args.stop_step is not None and step >= args.stop_step
        last = step == args.steps or el > args.minutes * 60 or stop_here
        if step % args.eval_every == 0 or last or step == 1:
            vl = evaluate(model, val_ids, T, device)
            history.append({"step": step, "seconds": round(el, 1), "lr": lr, "train_loss": round(ema, 4), "val_loss": round(vl, 4)})
            logf.write(f"{step}\t{el:.1f}\t{lr:.6f}\t{ema:.4f}\t{vl:.4f}\n")
            logf.flush()
            log(f"step {step}/{args.steps} {el:.0f}s lr {lr:.2e} train {ema:.4f} val {vl:.4f} "
                f"({step * B * T / max(el, 1e-9):.0f} tok/s)")
        if (el > args.minutes * 60 or stop_here) and step < args.steps:
            stopped_early = True
            log(f"stopped at step {step} ({'--stop-step' if stop_here else f'time cap of {args.minutes} min'})")
            break
    wall = time.time() - t0
    final_train = evaluate(model, train_ids, T, device)
    final_val = evaluate(model, val_ids, T, device)
    stats = {"params": n_params, "steps": step, "planned_steps": args.steps, "stopped_early": stopped_early,
             "tokens_seen": step * B * T, "train_tokens": len(train_ids), "val_tokens": len(val_ids),
             "wall_seconds": round(wall, 1), "final_train_loss": round(final_train, 4),
             "final_val_loss": round(final_val, 4), "history": history,
             "device": args.device, "threads": torch.get_num_threads(), "torch": torch.__version__}
    torch.save({"model": model.state_dict(), "args": vars(args), "stats": stats}, os.path.join(cache, "model.pt"))
    log(f"done: {step} steps in {wall:.0f}s, train {final_train:.4f} val {final_val:.4f}")
    return model.cpu(), stats


# ----------------------------------------------------------------------------- export
def export(model, args, out):
    import onnx
    from onnx import TensorProto, numpy_helper

    model = model.float().eval()
    eos = args.vocab - 1
    cfg = {
        "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
        "vocab_size": args.vocab, "n_positions": args.n_positions, "n_ctx": args.n_positions,
        "n_embd": args.n_embd, "n_layer": args.n_layer, "n_head": args.n_head, "n_inner": None,
        "activation_function": "gelu_new", "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0,
        "layer_norm_epsilon": 1e-5, "initializer_range": 0.02, "scale_attn_weights": True,
        "scale_attn_by_inverse_layer_idx": False, "reorder_and_upcast_attn": False,
        "tie_word_embeddings": True, "use_cache": True,
        "bos_token_id": eos, "eos_token_id": eos, "pad_token_id": eos, "torch_dtype": "float32",
    }
    json.dump(cfg, open(os.path.join(out, "config.json"), "w"), indent=2)
    json.dump({"bos_token_id": eos, "eos_token_id": eos, "pad_token_id": eos, "do_sample": False,
               "max_length": args.n_positions}, open(os.path.join(out, "generation_config.json"), "w"), indent=2)
    json.dump({"tokenizer_class": "GPT2Tokenizer", "bos_token": EOS, "eos_token": EOS, "unk_token": EOS,
               "pad_token": EOS, "add_bos_token": False, "add_prefix_space": False,
               "clean_up_tokenization_spaces": False, "model_max_length": args.n_positions,
               "padding_side": "left"}, open(os.path.join(out, "tokenizer_config.json"), "w"), indent=2)

    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    L, H, hd = args.n_layer, args.n_head, args.n_embd // args.n_head
    B, S, P = 2, 3, 4
    ids = torch.randint(0, args.vocab, (B, S))
    am = torch.ones(B, P + S, dtype=torch.int64)
    pos = torch.arange(P, P + S).unsqueeze(0).expand(B, S).contiguous()
    past = [torch.randn(B, H, P, hd) for _ in range(2 * L)]
    in_names = ["input_ids", "attention_mask", "position_ids"]
    out_names = ["logits"]
    dyn = {"input_ids": {0: "batch_size", 1: "sequence_length"},
           "attention_mask": {0: "batch_size", 1: "past_sequence_length + sequence_length"},
           "position_ids": {0: "batch_size", 1: "sequence_length"},
           "logits": {0: "batch_size", 1: "sequence_length"}}
    for i in range(L):
        for kv in ("key", "value"):
            n = f"past_key_values.{i}.{kv}"
            in_names.append(n)
            dyn[n] = {0: "batch_size", 2: "past_sequence_length"}
            n = f"present.{i}.{kv}"
            out_names.append(n)
            dyn[n] = {0: "batch_size", 2: "past_sequence_length + sequence_length"}
    fp32 = os.path.join(out, "onnx", "model.onnx")
    torch.onnx.export(OnnxWrapper(model), (ids, am, pos, *past), fp32, input_names=in_names,
                      output_names=out_names, dynamic_axes=dyn, opset_version=17, do_constant_folding=True)
    m = onnx.load(fp32)
    onnx.checker.check_model(m)

    # fp16: same graph, every float tensor (weights, constants, casts, graph inputs and
    # outputs) converted to float16, so compute runs in fp16 too.
    def to16(t):
        a = numpy_helper.to_array(t).astype(np.float32)
        a = np.clip(a, -65504, 65504).astype(np.float16)
        n = numpy_helper.from_array(a, t.name)
        return n
    g = m.graph
    for i, t in enumerate(list(g.initializer)):
        if t.data_type == TensorProto.FLOAT:
            g.initializer[i].CopyFrom(to16(t))
    for node in g.node:
        for a in node.attribute:
            if a.type == onnx.AttributeProto.TENSOR and a.t.data_type == TensorProto.FLOAT:
                a.t.CopyFrom(to16(a.t))
            if node.op_type == "Cast" and a.name == "to" and a.i == TensorProto.FLOAT:
                a.i = TensorProto.FLOAT16
    for v in list(g.input) + list(g.output):
        if v.type.tensor_type.elem_type == TensorProto.FLOAT:
            v.type.tensor_type.elem_type = TensorProto.FLOAT16
    del g.value_info[:]
    m = onnx.shape_inference.infer_shapes(m)
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(out, "onnx", "model_fp16.onnx"))
    sizes = {f: os.path.getsize(os.path.join(out, "onnx", f)) for f in ("model.onnx", "model_fp16.onnx")}
    log("exported", sizes)
    return sizes


# ----------------------------------------------------------------------------- samples
def bytes_decoder():
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def make_decode(out):
    vocab = json.load(open(os.path.join(out, "tokenizer.json")))["model"]["vocab"]
    inv = {i: t for t, i in vocab.items()}
    bd = bytes_decoder()

    def decode(ids):
        s = "".join(inv.get(i, "") for i in ids)
        return bytes(bd[c] for c in s).decode("utf-8", errors="replace")
    return decode


@torch.no_grad()
def generate(model, ids, n, greedy=True, temperature=0.8, top_k=40, seed=0, eos=None):
    g = torch.Generator().manual_seed(seed)
    x = torch.tensor([ids])
    logits, past = model(x)
    out = []
    for _ in range(n):
        lg = logits[0, -1].double()
        if greedy:
            nxt = int(torch.argmax(lg))
        else:
            lg = lg / temperature
            v, i = torch.topk(lg, top_k)
            p = torch.softmax(v, -1)
            nxt = int(i[torch.multinomial(p, 1, generator=g)])
        out.append(nxt)
        if eos is not None and nxt == eos:
            break
        P = past[0][0].shape[2]
        logits, past = model(torch.tensor([[nxt]]), None, torch.tensor([[P]]), past)
    return out


def longest_common_substring(s, corpus):
    best, where = 0, ""
    for i in range(len(s)):
        while i + best < len(s) and s[i:i + best + 1] in corpus:
            best += 1
            where = s[i:i + best]
    return best, where


def samples(model, args, out, cache):
    model = model.float().eval()
    decode = make_decode(out)
    prompt_ids = json.loads(node_tok("ids", os.path.join(out, "tokenizer.json"), json.dumps(PROMPTS)))
    corpus = open(os.path.join(cache, "corpus.txt"), encoding="utf-8").read()
    eos = args.vocab - 1
    res = []
    for k, (p, ids) in enumerate(zip(PROMPTS, prompt_ids)):
        gi = generate(model, ids, args.gen_tokens, greedy=True, eos=eos)
        si = generate(model, ids, args.gen_tokens, greedy=False, seed=args.seed + k, eos=eos)
        gt, st = decode(gi), decode(si)
        lcs, lcs_text = longest_common_substring(gt, corpus)
        res.append({"prompt": p, "prompt_ids": ids, "greedy_ids": gi, "greedy": gt, "sampled_ids": si,
                    "sampled": st, "lcs_chars": lcs, "lcs_text": lcs_text, "greedy_chars": len(gt)})
        log(f"{p!r} -> greedy {gt!r} (LCS {lcs}/{len(gt)}: {lcs_text!r})")
        log(f"{p!r} -> sampled {st!r}")
    # reference for models/verify-onnx.mjs: greedy ids (PyTorch fp32) and logits
    ref = {"prompts": [{"prompt": r["prompt"], "prompt_ids": r["prompt_ids"], "greedy_ids": r["greedy_ids"]} for r in res]}
    json.dump(ref, open(os.path.join(out, "eval-reference.json"), "w"), indent=1)
    return res


def write_card(args, out, stats, sizes, res):
    st = stats
    hist = "\n".join(f"| {h['step']} | {h['seconds']:.0f} | {h['lr']:.2e} | {h['train_loss']:.3f} | {h['val_loss']:.3f} |"
                     for h in st["history"])
    smp = ""
    for r in res:
        smp += (f"\n**Prompt:** `{r['prompt']}`\n\n*Greedy* (longest common substring with the training corpus: "
                f"{r['lcs_chars']} of {r['greedy_chars']} characters):\n\n"
                f"```text\n{r['prompt']}{r['greedy']}\n```\n\n*Sampled* (temperature 0.8, top-k 40, seed {args.seed + PROMPTS.index(r['prompt'])}):\n\n"
                f"```text\n{r['prompt']}{r['sampled']}\n```\n\nLongest common substring of the greedy continuation with "
                f"the corpus (JSON string):\n\n```json\n{json.dumps(r['lcs_text'], ensure_ascii=False)}\n```\n")
    hd = args.n_embd // args.n_head
    card = open(os.path.join(HERE, "card-template.md")).read()
    repl = {
        "PARAMS": f"{st['params']:,}", "PARAMS_M": f"{st['params'] / 1e6:.2f}", "VOCAB": str(args.vocab),
        "N_LAYER": str(args.n_layer), "N_HEAD": str(args.n_head), "N_EMBD": str(args.n_embd), "HEAD_DIM": str(hd),
        "N_POS": str(args.n_positions), "SEQ_LEN": str(args.seq_len), "BATCH": str(args.batch),
        "STEPS": str(st["steps"]), "PLANNED": str(st["planned_steps"]), "LR": str(args.lr), "WARMUP": str(args.warmup),
        "TOKENS_SEEN": f"{st['tokens_seen']:,}", "TRAIN_TOKENS": f"{st['train_tokens']:,}", "VAL_TOKENS": f"{st['val_tokens']:,}",
        "EPOCHS": f"{st['tokens_seen'] / st['train_tokens']:.2f}", "WALL": f"{st['wall_seconds'] / 60:.1f}",
        "TRAIN_LOSS": f"{st['final_train_loss']:.3f}", "VAL_LOSS": f"{st['final_val_loss']:.3f}",
        "VAL_PPL": f"{math.exp(st['final_val_loss']):.1f}", "SEED": str(args.seed), "THREADS": str(st["threads"]),
        "DEVICE": st["device"], "TORCH": st["torch"],
        "EARLY": (f" This run hit the `--minutes` cap at step {st['steps']} of the planned {st['planned_steps']} (the"
                  f" machine was shared with other jobs); to replay exactly these steps add `--stop-step {st['steps']}`."
                  if st["stopped_early"] else ""),
        "FP32_MB": f"{sizes['model.onnx'] / 1e6:.1f}", "FP16_MB": f"{sizes['model_fp16.onnx'] / 1e6:.1f}",
        "HISTORY": hist, "SAMPLES": smp, "GEN_TOKENS": str(args.gen_tokens), "MINUTES": str(args.minutes),
    }
    for k, v in repl.items():
        card = card.replace("{{" + k + "}}", v)
    open(os.path.join(out, "README.md"), "w").write(card)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", default=os.path.join(HERE, "detbench-tiny"))
    ap.add_argument("--minutes", type=float, default=55.0, help="safety cap on training wall time")
    ap.add_argument("--steps", type=int, default=1200)
    ap.add_argument("--stop-step", dest="stop_step", type=int, default=None,
                    help="stop after this step (the LR schedule still follows --steps); "
                         "replays a run that was cut by --minutes")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--n-layer", dest="n_layer", type=int, default=4)
    ap.add_argument("--n-head", dest="n_head", type=int, default=4)
    ap.add_argument("--n-embd", dest="n_embd", type=int, default=192)
    ap.add_argument("--n-positions", dest="n_positions", type=int, default=256)
    ap.add_argument("--seq-len", dest="seq_len", type=int, default=256)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--eval-every", dest="eval_every", type=int, default=100)
    ap.add_argument("--val-every", dest="val_every", type=int, default=25, help="every N-th document is validation")
    ap.add_argument("--gen-tokens", dest="gen_tokens", type=int, default=48)
    ap.add_argument("--stage", default="all", choices=["all", "data", "train", "export"],
                    help="data: corpus+tokenizer only; export: reuse train-cache/model.pt")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    cache = os.path.join(args.out, "train-cache")
    os.makedirs(cache, exist_ok=True)
    extract_corpus(cache)
    train_ids, val_ids = build_data(cache, args.out, args.vocab, args.val_every)
    if args.stage == "data":
        return
    if args.stage == "export":
        ck = torch.load(os.path.join(cache, "model.pt"))
        model = GPT(args.vocab, args.n_positions, args.n_embd, args.n_layer, args.n_head)
        model.load_state_dict(ck["model"])
        stats = ck["stats"]
    else:
        model, stats = train(args, train_ids, val_ids, cache)
    if args.stage == "train":
        return
    sizes = export(model, args, args.out)
    res = samples(model, args, args.out, cache)
    json.dump({k: v for k, v in stats.items()}, open(os.path.join(args.out, "training-stats.json"), "w"), indent=1)
    write_card(args, args.out, stats, sizes, res)
    log("card written")


if __name__ == "__main__":
    main()

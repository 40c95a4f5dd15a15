#!/usr/bin/env python3
"""Independent reference for detbench's distribution-divergence statistics.

Writes test/fixtures/divergence-golden.json: pairs of float32 logits rows (reference P, other
runner Q), the reference token of each step, and what llama.cpp's `--kl-divergence` statistics
(tools/perplexity/perplexity.cpp) give for them, computed here with numpy/scipy in probability
space, not in detbench's log-space code:

  KL(P||Q) = sum p_i log(p_i / q_i)          (scipy.special.rel_entr)
  dp       = q(t) - p(t), t the reference token
  same top = argmax P == argmax Q
  mean +- sqrt((E[x^2] - E[x]^2) / (n - 1)), percentiles by linear interpolation
  (numpy.percentile, method "linear", which is llama.cpp's interpolation), RMS dp.

The top-k bound pools every token outside the tokens both top-k lists name into one bin.

Run: python3 scripts/divergence_reference.py
"""
import json
import pathlib

import numpy as np
from scipy.special import rel_entr, softmax

SEED = 20261204
VOCAB = 64
STEPS = 40
TOP_K = 5


def topk(p):
    # Ties to the lower id, as detbench ranks candidates.
    order = sorted(range(len(p)), key=lambda i: (-p[i], i))
    return order[:TOP_K]


def main():
    rng = np.random.default_rng(SEED)
    steps = []
    for s in range(STEPS):
        p_logits = (rng.normal(size=VOCAB) * 3).astype(np.float32)
        noise = 0.6 if s % 9 == 4 else 0.05
        q_logits = (p_logits + rng.normal(size=VOCAB) * noise).astype(np.float32)
        if s == 7:
            q_logits = p_logits.copy()  # bitwise-identical rows: KL and dp exactly 0
        p = softmax(p_logits.astype(np.float64))
        q = softmax(q_logits.astype(np.float64))
        if s % 2 == 0:
            token = int(np.argmax(p))
        elif s == 11:
            token = topk(p)[-1]  # in P's list, maybe not in Q's
        else:
            token = topk(p)[int(rng.integers(0, TOP_K))]
        kl = float(np.sum(rel_entr(p, q)))
        both = [i for i in topk(p) if i in topk(q)]
        p_in, q_in = p[both].sum(), q[both].sum()
        bound = float(np.sum(rel_entr(p[both], q[both])) + rel_entr(1 - p_in, 1 - q_in))
        steps.append(
            {
                "p": [float(x) for x in p_logits],
                "q": [float(x) for x in q_logits],
                "token": token,
                "kl": kl,
                "klTopKBound": bound,
                "dp": float(q[token] - p[token]),
                "sameTop": bool(np.argmax(p) == np.argmax(q)),
            }
        )

    def mean_se(x):
        x = np.asarray(x, dtype=np.float64)
        m = x.mean()
        return {"mean": float(m), "se": float(np.sqrt(max((x * x).mean() - m * m, 0) / (len(x) - 1)))}

    def pct(x, fractions):
        return {name: float(np.percentile(np.asarray(x), 100 * f, method="linear")) for name, f in fractions}

    kl = [s["kl"] for s in steps]
    dp = [s["dp"] for s in steps]
    same = sum(s["sameTop"] for s in steps)
    n = len(steps)
    p_same = same / n
    kl_list = [("max", 1), ("p99.9", 0.999), ("p99", 0.99), ("p95", 0.95), ("p90", 0.9), ("median", 0.5),
               ("p10", 0.1), ("p5", 0.05), ("p1", 0.01), ("p0.1", 0.001), ("min", 0)]
    dp_list = kl_list[:5] + [("p75", 0.75), ("median", 0.5), ("p25", 0.25)] + kl_list[6:]
    msq = mean_se(np.asarray(dp) ** 2)
    rms = float(np.sqrt(msq["mean"]))
    summary = {
        "kl": {**mean_se(kl), "percentiles": pct(kl, kl_list)},
        "dp": {**mean_se(dp), "rms": rms, "rmsSe": 0.5 / rms * msq["se"], "percentiles": pct(dp, dp_list)},
        "sameTop": {"k": same, "n": n, "se": float(np.sqrt(p_same * (1 - p_same) / (n - 1)))},
    }
    out = {"seed": SEED, "vocab": VOCAB, "topK": TOP_K, "steps": steps, "summary": summary}
    path = pathlib.Path(__file__).resolve().parent.parent / "test" / "fixtures" / "divergence-golden.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path} ({n} steps, mean KL {summary['kl']['mean']:.6g}, same top {same}/{n})")


if __name__ == "__main__":
    main()

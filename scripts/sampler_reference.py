#!/usr/bin/env python3
"""Reference implementation of detbench's sampler and step summary in Python, and the golden fixtures.

detbench's TypeScript (src/decode/sampling.ts, src/decode/logits.ts, src/decode/dexp.ts) must pick
exactly the tokens this script picks from the same logits and draws, and record the same summaries,
bit for bit: that is what makes a sampled run replayable in Python. Written for clarity, not speed
(plain sorts, no selection tricks), so it is an independent check of the fast TypeScript.

    python3 scripts/sampler_reference.py > test/fixtures/sampler-golden.json
    python3 scripts/sampler_reference.py vocab > test/fixtures/vocab-golden.json
    python3 scripts/sampler_reference.py replay out/x/results.jsonl   # a run captured with --capture f32

The replay reads a results file and its capture sidecar (results.capture.bin, raw float32 logits)
and checks every completed free-running record of a local runner that has a block there: each
sampled step's token from the step's logits and recorded draw, each greedy step's argmax, and
each step's summary (top ids, logits, logprobs, margin, hash) as this script computes it. It prints
one JSON object with the counts and exits 1 on any mismatch. The replay lives in sampler_replay.py.

Replaying a schemaVersion 2 record: for step i of a sampled record,
    sample(logits_i, temperature, top_k, top_p, record['steps']['draw'][i]) == record['tokens'][i]
A schemaVersion 1 record consumed one random.Random(seed).random() per step with `sample_v1`.
"""
import json
import math
import random
import struct
import sys
from decimal import Decimal, getcontext


def f32(x):
    return struct.unpack('<f', struct.pack('<f', x))[0]


# ---- dexp and dlog: IEEE double +, -, *, / and exact scalings only (see src/decode/dexp.ts) ----

DEXP_MIN = -707.0
INV_LN2_64 = 92.33248261689366
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
LN2_64_HI = LN2_HI / 64
LN2_64_LO = LN2_LO / 64
getcontext().prec = 60
EXP2_64 = [float(Decimal(2) ** (Decimal(j) / 64)) for j in range(64)]


def dexp(x):
    """e**x for x <= 0 as detbench defines it; 0 below DEXP_MIN and for -inf or NaN."""
    if not x >= DEXP_MIN:
        return 0.0
    k = math.floor(x * INV_LN2_64 + 0.5)
    r = x - k * LN2_64_HI - k * LN2_64_LO
    p = 1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120)))))
    return math.ldexp(p * EXP2_64[k & 63], k >> 6)


def dlog(s):
    """log(s) for a positive, finite, normal s as detbench defines it; NaN otherwise."""
    if not (s >= 2.2250738585072014e-308 and s < math.inf):
        return math.nan
    f, e = math.frexp(s)
    if f < 0.7071067811865476:
        f *= 2
        e -= 1
    z = (f - 1) / (f + 1)
    q = z * z
    t = 0.0
    for n in (19, 17, 15, 13, 11, 9, 7, 5):
        t = q * (1 / n + t)
    t = q * (1 / 3 + t)
    z2 = 2 * z
    return e * LN2_HI + (e * LN2_LO + (z2 + z2 * t))


# ---- the sampler ----

def argmax(row):
    best, best_v = 0, -math.inf
    for i, v in enumerate(row):
        if v > best_v:
            best, best_v = i, v
    return best


def sample(row, temperature, top_k, top_p, u01):
    """The token that the uniform draw u01 picks (schemaVersion 2; the steps of src/decode/sampling.ts)."""
    cand = [i for i, v in enumerate(row) if math.isfinite(v)]
    if not cand:
        return argmax(row)
    order = sorted(cand, key=lambda i: (-row[i], i))
    if 0 < top_k < len(order):
        order = order[:top_k]
    s = 1 / temperature
    m = row[order[0]] * s
    w = {i: dexp(row[i] * s - m) for i in order}
    total = 0.0
    for i in sorted(order):
        total += w[i]
    count = len(order)
    if top_p < 1:
        running = 0.0
        for r, i in enumerate(order):
            running += w[i]
            if running / total >= top_p:
                count = r + 1
                break
    kept = sorted(order[:count])
    kept_total = 0.0
    for i in kept:
        kept_total += w[i]
    u = u01 * kept_total
    running = 0.0
    last_positive = None
    for i in kept:
        if w[i] > 0:
            running += w[i]
            if u < running:
                return i
            last_positive = i
    return last_positive


def sample_v1(row, temperature, top_k, top_p, rng):
    """schemaVersion 1's sampler (full sort, math.exp, walk in candidate order), for replaying old records."""
    scaled = {i: v / temperature for i, v in enumerate(row) if math.isfinite(v)}
    u01 = rng.random()
    if not scaled:
        return argmax(row)
    ids = sorted(scaled, key=lambda i: (-scaled[i], i))
    if top_k > 0:
        ids = ids[:top_k]
    m = scaled[ids[0]]
    weights = [math.exp(scaled[i] - m) for i in ids]
    total = 0.0
    for w in weights:
        total += w
    count = len(ids)
    if top_p < 1:
        running = 0.0
        for r, w in enumerate(weights):
            running += w
            if running / total >= top_p:
                count = r + 1
                break
    kept_total = 0.0
    for w in weights[:count]:
        kept_total += w
    u = u01 * kept_total
    running = 0.0
    for r in range(count):
        running += weights[r]
        if u < running:
            return ids[r]
    return ids[count - 1]


# ---- the step summary (src/decode/logits.ts) ----

def imul(a, b):
    return (a * b) & 0xFFFFFFFF


def fmix32(h):
    h ^= h >> 16
    h = imul(h, 0x85EBCA6B)
    h ^= h >> 13
    h = imul(h, 0xC2B2AE35)
    h ^= h >> 16
    return h


def row_hash(row):
    words = struct.unpack(f'<{len(row)}I', struct.pack(f'<{len(row)}f', *row))
    h1, h2 = 0x811C9DC5, (0x9747B28C ^ len(row)) & 0xFFFFFFFF
    for i, w in enumerate(words):
        if i & 1:
            h2 = imul(h2 ^ w, 0x5BD1E995)
        else:
            h1 = imul(h1 ^ w, 0x01000193)
    return f'{fmix32(h1):08x}{fmix32(h2):08x}'


def summarize(row, k):
    """Top-k (NaN ranking as -inf), float64 log-softmax with dexp/dlog, margin and hash."""
    kk = max(2, min(k, len(row)))
    rank = [v if v == v else -math.inf for v in row]
    top = sorted(range(len(row)), key=lambda i: (-rank[i], i))[:kk]
    finite = [v for v in row if math.isfinite(v)]
    if finite:
        m = max(finite)
        lanes = [0.0, 0.0, 0.0, 0.0]  # logit i to lane i mod 4, in id order
        for i, v in enumerate(row):
            if math.isfinite(v):
                lanes[i & 3] += dexp(v - m)
        lse = m + dlog((lanes[0] + lanes[2]) + (lanes[1] + lanes[3]))
    else:
        lse = math.nan
    take = top[:min(k, len(row))]
    return {
        'ids': take,
        'logits': [row[i] for i in take],
        'logprobs': [row[i] - lse for i in take],
        'margin': rank[top[0]] - rank[top[1]] if len(row) > 1 else math.inf,
        'hash': row_hash(row),
    }


# ---- fixtures ----

def realistic_row(vocab, seed):
    """The row scripts/realistic-logits.ts builds: long normal-ish tail, 32 lifted head tokens, one tie."""
    rng = random.Random(seed)
    row = []
    for _ in range(vocab):
        g = (rng.random() + rng.random() + rng.random() + rng.random() - 2) * 1.7320508075688772
        row.append(f32(-2 + 2.5 * g))
    prev = 0.0
    for h in range(32):
        i = math.floor(rng.random() * vocab)
        v = f32(6 + 9 * rng.random())
        row[i] = prev if h == 7 else v
        prev = row[i]
    return row


SETTINGS = ((1.0, 0, 1.0), (0.7, 0, 1.0), (1.5, 5, 1.0), (1.0, 0, 0.9), (0.8, 8, 0.5), (1.0, 1, 1.0), (1.0, 40, 0.95), (2.0, 0, 0.999))


def small_fixture():
    gen = random.Random(20261122)
    vocab = 64
    rows = []
    for r in range(12):
        row = [f32(gen.gauss(0, 3)) for _ in range(vocab)]
        if r % 3 == 0:  # exact ties, the lowest id must win
            row[7] = row[40] = f32(max(row) + 1.0)
        if r % 4 == 1:  # a near-tie one float32 ulp apart
            top = f32(max(row) + 0.5)
            row[50] = top
            row[3] = struct.unpack('<f', struct.pack('<I', struct.unpack('<I', struct.pack('<f', top))[0] - 1))[0]
        if r == 5:
            row[11] = -math.inf
        if r == 8:  # -0 and +0 tie: the lower id first
            row[20], row[21] = 0.0, -0.0
            row[60], row[2] = -0.0, 0.0
        rows.append(row)
    cases = [{'kind': 'greedy'}]
    for seed in (0, 1, 42, 2**32 + 5):
        for temperature, top_k, top_p in SETTINGS:
            cases.append({'kind': 'sample', 'temperature': temperature, 'topK': top_k, 'topP': top_p, 'seed': seed})
    for case in cases:
        if case['kind'] == 'greedy':
            case['expected'] = [argmax(row) for row in rows]
        else:
            rng = random.Random(case['seed'])
            case['expected'] = [sample(row, case['temperature'], case['topK'], case['topP'], rng.random()) for row in rows]
    return {
        'generatedBy': 'scripts/sampler_reference.py',
        'schemaVersion': 2,
        'rows': [[v if math.isfinite(v) else None for v in row] for row in rows],
        'summaries': [summarize(row, 5) for row in rows],
        'cases': cases,
    }


def vocab_fixture():
    """Rows of 32,000 and 151,936 logits (rebuilt from their seeds), their summaries and sampled tokens."""
    out = []
    for vocab, seed in ((32000, 32000), (151936, 151936)):
        row = realistic_row(vocab, seed)
        cases = []
        for temperature, top_k, top_p in SETTINGS:
            rng = random.Random(seed + 1)
            draws = [rng.random() for _ in range(6)] + [0.0, 0.9999999999999999]
            cases.append({'temperature': temperature, 'topK': top_k, 'topP': top_p, 'draws': draws,
                          'expected': [sample(row, temperature, top_k, top_p, u) for u in draws]})
        out.append({'vocab': vocab, 'seed': seed, 'summary': summarize(row, 10), 'cases': cases})
    return {'generatedBy': 'scripts/sampler_reference.py vocab', 'schemaVersion': 2, 'rows': out}


def main():
    if sys.argv[1:2] == ['replay']:
        sys.dont_write_bytecode = True  # no __pycache__ left in scripts/ by the import below
        from sampler_replay import replay  # here, not at the top: it imports this module's sampler

        sys.exit(replay(sys.argv[2]))
    fixture = vocab_fixture() if sys.argv[1:] == ['vocab'] else small_fixture()
    print(json.dumps(fixture, allow_nan=False))


if __name__ == '__main__':
    main()

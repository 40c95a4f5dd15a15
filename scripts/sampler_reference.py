#!/usr/bin/env python3
"""Reference implementation of detbench's sampler in Python, and the golden fixture it writes.

detbench's TypeScript sampler (src/decode/sampling.ts) must pick exactly the tokens this script
picks from the same logits and seed: that is what makes a sampled run replayable in Python.

    python3 scripts/sampler_reference.py > test/fixtures/sampler-golden.json
"""
import json
import math
import random
import struct


def f32(x):
    return struct.unpack('<f', struct.pack('<f', x))[0]


def argmax(row):
    best, best_v = 0, -math.inf
    for i, v in enumerate(row):
        if v > best_v:
            best, best_v = i, v
    return best


def sample(row, temperature, top_k, top_p, rng):
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


def main():
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
        rows.append(row)
    cases = [{'kind': 'greedy'}]
    for seed in (0, 1, 42, 2**32 + 5):
        for temperature, top_k, top_p in ((1.0, 0, 1.0), (0.7, 0, 1.0), (1.5, 5, 1.0), (1.0, 0, 0.9), (0.8, 8, 0.5), (1.0, 1, 1.0)):
            cases.append({'kind': 'sample', 'temperature': temperature, 'topK': top_k, 'topP': top_p, 'seed': seed})
    for case in cases:
        if case['kind'] == 'greedy':
            case['expected'] = [argmax(row) for row in rows]
        else:
            rng = random.Random(case['seed'])
            case['expected'] = [sample(row, case['temperature'], case['topK'], case['topP'], rng) for row in rows]
    print(json.dumps({'generatedBy': 'scripts/sampler_reference.py', 'rows': [[v if math.isfinite(v) else None for v in row] for row in rows], 'cases': cases}))


if __name__ == '__main__':
    main()

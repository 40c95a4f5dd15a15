"""The replay command of scripts/sampler_reference.py: a captured run checked against the reference sampler.

`python3 scripts/sampler_reference.py replay out/x/results.jsonl` calls `replay` here (see that
script's docstring for what is checked); the sampler and the step summary come from it unchanged.
"""
import json
import math
import struct

from sampler_reference import argmax, sample, summarize


def capture_blocks(path):
    """The f32 blocks of a capture sidecar (layout in src/results/capture.ts): record id -> (steps, vocab, offset of the rows)."""
    blocks = {}
    with open(path, 'rb') as f:
        data = f.read()
    at = 0
    while at + 24 <= len(data):
        if data[at:at + 8] != b'DBCAPT01':
            raise ValueError(f'{path}: no block at byte {at}')
        encoding = data[at + 8]
        id_bytes, steps, vocab = struct.unpack_from('<III', data, at + 12)
        rid = data[at + 24:at + 24 + id_bytes].decode('utf-8')
        rows_at = at + 24 + id_bytes
        size = 4 * steps * vocab if encoding == 1 else 16 * steps + 2 * steps * vocab
        if rows_at + size > len(data):
            break  # an unfinished last block (an interrupted run)
        if encoding == 1:
            blocks[rid] = (steps, vocab, rows_at)
        at = rows_at + size
    return data, blocks


def same(a, b):
    """Equal as the JSONL holds them: NaN and infinities are null there."""
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and not math.isfinite(a):
        return b is None
    return a == b


def replay(results_file):
    capture = results_file[:-len('.jsonl')] + '.capture.bin' if results_file.endswith('.jsonl') else results_file + '.capture.bin'
    data, blocks = capture_blocks(capture)
    report = {'records': 0, 'sampledSteps': 0, 'greedySteps': 0, 'summaries': 0, 'mismatches': []}
    with open(results_file, encoding='utf-8') as f:
        for line in f:
            if not line.strip():
                continue
            rec = json.loads(line)
            if rec.get('status') != 'completed' or rec.get('mode') != 'free' or rec['id'] not in blocks:
                continue
            steps, vocab, rows_at = blocks[rec['id']]
            sampling = rec['setting']['sampling']
            k = len(rec['steps']['topIds'][0]) if steps else 0
            report['records'] += 1
            for i in range(steps):
                row = list(struct.unpack_from(f'<{vocab}f', data, rows_at + 4 * vocab * i))
                want = rec['steps']['token'][i]
                if sampling['kind'] == 'sample':
                    got = sample(row, sampling['temperature'], sampling['topK'], sampling['topP'], rec['steps']['draw'][i])
                    report['sampledSteps'] += 1
                else:
                    got = argmax(row)
                    report['greedySteps'] += 1
                if got != want:
                    report['mismatches'].append({'id': rec['id'], 'step': i, 'field': 'token', 'recorded': want, 'replayed': got})
                s = summarize(row, k)
                recorded = {'ids': rec['steps']['topIds'][i], 'logits': rec['steps']['topLogits'][i], 'logprobs': rec['steps']['topLogprobs'][i],
                            'margin': rec['steps']['margin'][i], 'hash': rec['steps']['hash'][i]}
                for field in ('ids', 'logits', 'logprobs', 'margin', 'hash'):
                    if not same(s[field], recorded[field]):
                        report['mismatches'].append({'id': rec['id'], 'step': i, 'field': field, 'recorded': recorded[field], 'replayed': s[field]})
                report['summaries'] += 1
    print(json.dumps(report, allow_nan=False, default=str))
    return 1 if report['mismatches'] or report['records'] == 0 else 0

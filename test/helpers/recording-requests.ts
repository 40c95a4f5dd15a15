import type { DecodeRequest } from '../../src/decode/types.ts';

/**
 * The two requests the recording tests decode in line and on a recording worker (Node's ring and the
 * page's): a greedy one and a top-p sampled one, so both step kinds are compared.
 */
export function recordingRequests(encode: (text: string) => number[]): DecodeRequest[] {
  return [
    { promptIds: encode('hello world'), maxNewTokens: 40, sampling: { kind: 'greedy' }, stopIds: [], topK: 5 },
    {
      promptIds: encode('x'),
      maxNewTokens: 25,
      sampling: { kind: 'sample', temperature: 0.9, topK: 0, topP: 0.9, seed: 4 },
      stopIds: [],
      topK: 3,
    },
  ];
}

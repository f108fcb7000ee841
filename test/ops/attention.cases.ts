// attention (the causal matching read): harness cases, bad arguments (each call throws a TypeError
// or RangeError naming the argument, synchronously) of its one-object calling convention, and the
// valid calls working after them. Tolerances:
// - backend: the project's 1e-4 abs + 1e-4 rel (used where the build has a CUDA kernel for attention);
// - finite differences: the project's default for every case, eps = 1e-2 with 2e-3 abs + 2e-3 rel
//   (float32 forward, float64 loss: rounding / (2 eps) is about 1e-4). The steepest case is the
//   softmax at beta = 10 (clipped strengths), where the central-difference truncation error
//   (eps^2 / 6 times the third derivative) measured at most 3.5e-4 relative to 1 + |gradient|; every
//   other case stays under 1.4e-4. A dropped or swapped term is off by O(0.1) or more.
// Strengths stay at least 0.5 away from the clip edges 1e-10 and 10, so no step crosses them.
import test from 'ava';

import type { Rng } from '../../src/data/rng.js';
import type { NativeTensor } from '../../src/native/binding.js';
import type { AttentionBackwardArgs, AttentionForwardArgs, AttentionSimilarity } from '../../src/native/ops/attention.js';
import { b, disposed, namedArguments, T, type Case } from '../helpers/args.js';
import { backendTolerance, fdTolerance, uniformIn, type OpCase, type TensorSpec } from '../helpers/op-harness.js';

const op = 'attention';

// Unclipped strengths.
const strengthInRange = uniformIn(0.5, 3);
// A third of the rows clipped below (beta = 1e-10), a third above (beta = 10), a third in range.
const strengthSomeClipped = (rng: Rng) => {
  const u = rng.nextFloat();
  return u < 1 / 3 ? uniformIn(-2, -0.5)(rng) : u < 2 / 3 ? uniformIn(10.5, 12)(rng) : strengthInRange(rng);
};

export interface AttentionSizes {
  B: number;
  T: number;
  D: number;
  F: number;
  P: number;
  similarity: AttentionSimilarity;
  pseudoPositions: number;
  strength?: (rng: Rng) => number;
  fdSamples?: number;
}

export function attention(name: string, s: AttentionSizes): OpCase {
  const R = s.B * s.T;
  const matching = s.similarity !== 'average';
  const inputs: TensorSpec[] = [
    ...(matching
      ? [
          { name: 'query', shape: [R, s.D] },
          { name: 'keys', shape: [R, s.D] },
          { name: 'strength', shape: [R, 1], init: s.strength ?? strengthInRange },
        ]
      : []),
    ...(matching && s.P > 0 ? [{ name: 'pseudoKeys', shape: [s.P, s.D] }] : []),
    { name: 'values', shape: [R, s.F] },
    ...(s.P > 0 ? [{ name: 'pseudoValues', shape: [s.P, s.F] }] : []),
  ];
  // The inputs and gradients this case has; the others are null.
  const n = (t: Record<string, NativeTensor>, key: string) => t[key] ?? null;
  const given = (i: Record<string, NativeTensor>) => ({
    query: n(i, 'query'),
    keys: n(i, 'keys'),
    pseudoKeys: n(i, 'pseudoKeys'),
    values: i.values,
    pseudoValues: n(i, 'pseudoValues'),
    strength: n(i, 'strength'),
  });
  const settings = { episodes: s.B, similarity: s.similarity, pseudoPositions: s.pseudoPositions };
  return {
    name,
    op,
    inputs,
    outputs: [
      { name: 'out', shape: [R, s.F] },
      { name: 'weights', shape: [R, s.T + s.P], noGrad: true },
    ],
    gradInputs: inputs.map((spec) => spec.name),
    forward: (b, i, o) => b.attentionForward({ ...given(i), out: o.out, weights: o.weights, ...settings }),
    backward: (b, i, go, g, acc, o) =>
      b.attentionBackward({
        ...given(i),
        weights: o.weights,
        gradOut: go.out,
        gradQuery: n(g, 'query'),
        gradKeys: n(g, 'keys'),
        gradPseudoKeys: n(g, 'pseudoKeys'),
        gradValues: n(g, 'values'),
        gradPseudoValues: n(g, 'pseudoValues'),
        gradStrength: n(g, 'strength'),
        ...settings,
        accumulate: acc,
      }),
    backendTolerance,
    fdTolerance,
    fdSamples: s.fdSamples,
  };
}

const small = { D: 6, F: 7 };

export const harness: OpCase[] = [
  attention('attention dot, P = 1, always', { ...small, B: 2, T: 4, P: 1, similarity: 'dot', pseudoPositions: 4 }),
  attention('attention dot, P = 2, conditional', { ...small, B: 3, T: 5, P: 2, similarity: 'dot', pseudoPositions: 1 }),
  attention('attention dot, P = 0', { ...small, B: 2, T: 5, P: 0, similarity: 'dot', pseudoPositions: 5 }),
  attention('attention cosine, P = 1, always', { ...small, B: 3, T: 4, P: 1, similarity: 'cosine', pseudoPositions: 4 }),
  attention('attention cosine, P = 2, conditional', { ...small, B: 2, T: 5, P: 2, similarity: 'cosine', pseudoPositions: 1 }),
  attention('attention cosine, P = 0', { ...small, B: 3, T: 5, P: 0, similarity: 'cosine', pseudoPositions: 5 }),
  attention('attention average, P = 1, always', { ...small, B: 2, T: 4, P: 1, similarity: 'average', pseudoPositions: 4 }),
  attention('attention average, P = 2, conditional', { ...small, B: 3, T: 5, P: 2, similarity: 'average', pseudoPositions: 1 }),
  attention('attention average, P = 0', { ...small, B: 2, T: 5, P: 0, similarity: 'average', pseudoPositions: 5 }),
  attention('attention dot, some strengths clipped', {
    ...small,
    B: 3,
    T: 4,
    P: 1,
    similarity: 'dot',
    pseudoPositions: 4,
    strength: strengthSomeClipped,
  }),
  attention('attention cosine, some strengths clipped', {
    ...small,
    B: 2,
    T: 5,
    P: 2,
    similarity: 'cosine',
    pseudoPositions: 5,
    strength: strengthSomeClipped,
  }),
  // The model's sizes: 20 episodes spread over the thread pool, the pseudo-inputs' gradients summed across them.
  attention('attention cosine, model sizes', { B: 20, T: 10, D: 200, F: 288, P: 1, similarity: 'cosine', pseudoPositions: 10, fdSamples: 12 }),
];

// Valid operands, so that each case breaks exactly one thing: B = 2 episodes of T = 3 positions
// (R = 6), D = 4, F = 5, P = 1.
const q = T([6, 4]);
const k = T([6, 4]);
const pk = T([1, 4]);
const v = T([6, 5]);
const pv = T([1, 5]);
const s = T([6, 1]);
const aout = T([6, 5]);
const aw = T([6, 4]);
const settings = { episodes: 2, similarity: 'dot', pseudoPositions: 3 } as const;
const fwd: AttentionForwardArgs = { query: q, keys: k, pseudoKeys: pk, values: v, pseudoValues: pv, strength: s, out: aout, weights: aw, ...settings };
const [gq, gk, gpk, gv, gpv, gs] = [T([6, 4]), T([6, 4]), T([1, 4]), T([6, 5]), T([1, 5]), T([6, 1])];
const bwd: AttentionBackwardArgs = {
  query: q,
  keys: k,
  pseudoKeys: pk,
  values: v,
  pseudoValues: pv,
  strength: s,
  weights: aw,
  gradOut: aout,
  gradQuery: gq,
  gradKeys: gk,
  gradPseudoKeys: gpk,
  gradValues: gv,
  gradPseudoValues: gpv,
  gradStrength: gs,
  ...settings,
  accumulate: false,
};

const forward = namedArguments('attentionForward', b.attentionForward, fwd, 'queryy', 'values');
const backward = namedArguments('attentionBackward', b.attentionBackward, bwd, 'gradPseudoKey', 'gradOut');
const af = forward.call;
const ab = backward.call;

export const badArguments: Case[] = [
  // attentionForward
  ...forward.convention,
  ['attentionForward with 0 episodes', af({ episodes: 0 }), RangeError, 'episodes'],
  ['attentionForward with -1 episodes', af({ episodes: -1 }), RangeError, 'episodes'],
  ['attentionForward with 1.5 episodes', af({ episodes: 1.5 }), RangeError, 'episodes'],
  ['attentionForward with NaN episodes', af({ episodes: Number.NaN }), RangeError, 'episodes'],
  ['attentionForward with infinite episodes', af({ episodes: Infinity }), RangeError, 'episodes'],
  ['attentionForward with 1e12 episodes', af({ episodes: 1e12 }), RangeError, 'episodes'],
  ['attentionForward with episodes not dividing R', af({ episodes: 4 }), RangeError, 'episodes'],
  ['attentionForward with a string for episodes', af({ episodes: '2' }), TypeError, 'episodes'],
  ['attentionForward with an unknown similarity', af({ similarity: 'euclid' }), RangeError, 'similarity'],
  ['attentionForward with a numeric similarity', af({ similarity: 1 }), TypeError, 'similarity'],
  ['attentionForward with pseudoPositions -1', af({ pseudoPositions: -1 }), RangeError, 'pseudoPositions'],
  ['attentionForward with pseudoPositions > T', af({ pseudoPositions: 4 }), RangeError, 'pseudoPositions'],
  ['attentionForward with pseudoPositions 0.5', af({ pseudoPositions: 0.5 }), RangeError, 'pseudoPositions'],
  ['attentionForward with NaN pseudoPositions', af({ pseudoPositions: Number.NaN }), RangeError, 'pseudoPositions'],
  ['attentionForward with 1e12 pseudoPositions', af({ pseudoPositions: 1e12 }), RangeError, 'pseudoPositions'],
  ['attentionForward with null pseudoPositions', af({ pseudoPositions: null }), TypeError, 'pseudoPositions'],
  ['attentionForward (dot) without a query', af({ query: null }), TypeError, 'query'],
  ['attentionForward (dot) without keys', af({ keys: null }), TypeError, 'keys'],
  ['attentionForward (dot) without strength', af({ strength: null }), TypeError, 'strength'],
  ['attentionForward with pseudoValues but no pseudoKeys', af({ pseudoKeys: null }), TypeError, 'pseudoKeys'],
  ['attentionForward with pseudoKeys but no pseudoValues', af({ pseudoValues: null }), TypeError, 'pseudoValues'],
  ['attentionForward without values', af({ values: null }), TypeError, 'values'],
  ['attentionForward with a Float32Array query', af({ query: new Float32Array(24) }), TypeError, 'query'],
  ['attentionForward with a disposed keys', af({ keys: disposed() }), TypeError, 'keys'],
  ['attentionForward with a 1-D values', af({ values: T([30]) }), RangeError, 'values'],
  ['attentionForward with query rows != R', af({ query: T([5, 4]) }), RangeError, 'query'],
  ['attentionForward with keys of another D', af({ keys: T([6, 3]) }), RangeError, 'keys'],
  ['attentionForward with pseudoKeys of another D', af({ pseudoKeys: T([1, 3]) }), RangeError, 'pseudoKeys'],
  ['attentionForward with pseudoValues of another F', af({ pseudoValues: T([1, 4]) }), RangeError, 'pseudoValues'],
  ['attentionForward with a 1-D strength', af({ strength: T([6]) }), RangeError, 'strength'],
  ['attentionForward with a wrong out', af({ out: T([6, 4]) }), RangeError, 'out'],
  ['attentionForward with weights missing the pseudo slot', af({ weights: T([6, 3]) }), RangeError, 'weights'],
  ['attentionForward writing out into values', af({ out: v }), TypeError, 'out'],
  ['attentionForward with weights sharing out', af({ weights: aout }), TypeError, 'weights'],
  // attentionBackward
  ...backward.convention,
  ['attentionBackward with wrong weights', ab({ weights: T([6, 3]) }), RangeError, 'weights'],
  ['attentionBackward with a wrong gradOut', ab({ gradOut: T([6, 4]) }), RangeError, 'gradOut'],
  ['attentionBackward with a wrong gradQuery', ab({ gradQuery: T([6, 5]) }), RangeError, 'gradQuery'],
  ['attentionBackward with a wrong gradKeys', ab({ gradKeys: T([4, 6]) }), RangeError, 'gradKeys'],
  ['attentionBackward with a wrong gradPseudoKeys', ab({ gradPseudoKeys: T([2, 4]) }), RangeError, 'gradPseudoKeys'],
  ['attentionBackward with a wrong gradValues', ab({ gradValues: T([6, 4]) }), RangeError, 'gradValues'],
  ['attentionBackward with a wrong gradPseudoValues', ab({ gradPseudoValues: T([5]) }), RangeError, 'gradPseudoValues'],
  ['attentionBackward with a wrong gradStrength', ab({ gradStrength: T([6]) }), RangeError, 'gradStrength'],
  ['attentionBackward with gradStrength aliasing strength', ab({ gradStrength: s }), TypeError, 'gradStrength'],
  ['attentionBackward with a string for gradKeys', ab({ gradKeys: 'g' }), TypeError, 'gradKeys'],
  ['attentionBackward with a disposed gradValues', ab({ gradValues: disposed() }), TypeError, 'gradValues'],
  [
    'attentionBackward (average) with a gradQuery',
    () => b.attentionBackward({ values: v, pseudoValues: pv, weights: aw, gradOut: aout, gradQuery: gq, gradValues: gv, gradPseudoValues: gpv, ...settings, similarity: 'average', accumulate: false }),
    TypeError,
    'gradQuery',
  ],
  [
    'attentionBackward (average) with a gradStrength',
    () => b.attentionBackward({ values: v, pseudoValues: pv, weights: aw, gradOut: aout, gradValues: gv, gradPseudoValues: gpv, gradStrength: gs, ...settings, similarity: 'average', accumulate: false }),
    TypeError,
    'gradStrength',
  ],
  [
    'attentionBackward with a gradPseudoValues but no pseudoValues',
    () => b.attentionBackward({ query: q, keys: k, values: v, strength: s, weights: T([6, 3]), gradOut: aout, gradPseudoValues: gpv, ...settings, accumulate: false }),
    TypeError,
    'gradPseudoValues',
  ],
  ['attentionBackward (cosine) without a query', ab({ query: null }), TypeError, 'query'],
  ['attentionBackward with NaN episodes', ab({ episodes: Number.NaN }), RangeError, 'episodes'],
  ['attentionBackward with 3.5 episodes', ab({ episodes: 3.5 }), RangeError, 'episodes'],
  ['attentionBackward with an unknown similarity', ab({ similarity: 'Dot' }), RangeError, 'similarity'],
  ['attentionBackward with a huge pseudoPositions', ab({ pseudoPositions: 2 ** 40 }), RangeError, 'pseudoPositions'],
  ['attentionBackward with a numeric accumulate', ab({ accumulate: 1 }), TypeError, 'accumulate'],
];

export function extraTests(): void {
  test('attention: the valid calls of these cases work, and the addon still works after every bad call', async (t) => {
    for (const a of [q, k, pk, v, pv]) await a.fill(0.5);
    await s.fill(1);
    await b.attentionForward(fwd);
    await b.attentionBackward(bwd);
    // Equal keys: every valid slot gets the same weight, and every value is 0.5.
    t.deepEqual(Array.from((await aw.read()).slice(4, 8)), [0.5, 0, 0, 0.5]);
    t.true((await aout.read()).every((e) => e === 0.5));
  });
}

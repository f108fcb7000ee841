// Harness cases for the attention read: concat/split, row broadcast, the causal matching read, the GRU cell.
// All CPU only (cuda: false). Tolerances:
// - backend: unused (no CUDA kernel), kept at the project's 1e-4 abs + 1e-4 rel;
// - finite differences: the project's default for every case, eps = 1e-2 with 2e-3 abs + 2e-3 rel
//   (float32 forward, float64 loss: rounding / (2 eps) is about 1e-4). The steepest case is the
//   softmax at beta = 10 (clipped strengths), where the central-difference truncation error
//   (eps^2 / 6 times the third derivative) measured at most 3.5e-4 relative to 1 + |gradient|; every
//   other case stays under 1.4e-4. A dropped or swapped term is off by O(0.1) or more.
// Strengths stay at least 0.5 away from the clip edges 1e-10 and 10, so no step crosses them. The
// GRU cases keep PReLU's input a away from 0 by more than any step can move it: the bound is
// checked for these exact inputs in test/attention-reference.test.ts.
import type { Rng } from '../../src/data/rng.js';
import type { AttentionSimilarity } from '../../src/native/ops-attention.js';
import type { OpCase, TensorSpec } from './op-harness.js';

const fd = { abs: 2e-3, rel: 2e-3, eps: 1e-2 };
const backend = { abs: 1e-4, rel: 1e-4 };

const uniformIn = (lo: number, hi: number) => (rng: Rng) => lo + (hi - lo) * rng.nextFloat();
// Unclipped strengths.
const strengthInRange = uniformIn(0.5, 3);
// A third of the rows clipped below (beta = 1e-10), a third above (beta = 10), a third in range.
const strengthSomeClipped = (rng: Rng) => {
  const u = rng.nextFloat();
  return u < 1 / 3 ? uniformIn(-2, -0.5)(rng) : u < 2 / 3 ? uniformIn(10.5, 12)(rng) : strengthInRange(rng);
};
// +-[lo, hi): both signs, never near 0.
const awayFromZero = (lo: number, hi: number) => (rng: Rng) => (rng.nextFloat() < 0.5 ? -1 : 1) * uniformIn(lo, hi)(rng);

function concat(name: string, N: number, widths: number[]): OpCase {
  const names = widths.map((_, i) => `in${i}`);
  return {
    name,
    cuda: false,
    inputs: widths.map((K, i) => ({ name: names[i], shape: [N, K] })),
    outputs: [{ name: 'out', shape: [N, widths.reduce((a, b) => a + b, 0)] }],
    gradInputs: names,
    forward: (b, i, o) =>
      b.concatForward(
        names.map((n) => i[n]),
        o.out,
      ),
    backward: (b, i, go, g, acc) =>
      b.concatBackward(
        go.out,
        names.map((n) => g[n]),
        acc,
      ),
    backendTolerance: backend,
    fdTolerance: fd,
  };
}

function broadcastRows(name: string, N: number, H: number): OpCase {
  return {
    name,
    cuda: false,
    inputs: [{ name: 'vector', shape: [H] }],
    outputs: [{ name: 'out', shape: [N, H] }],
    gradInputs: ['vector'],
    forward: (b, i, o) => b.broadcastRowsForward(i.vector, o.out),
    backward: (b, i, go, g, acc) => b.broadcastRowsBackward(go.out, g.vector, acc),
    backendTolerance: backend,
    fdTolerance: fd,
  };
}

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
  const n = (t: Record<string, unknown>, k: string) => (t[k] ?? null) as never;
  return {
    name,
    cuda: false,
    inputs,
    outputs: [
      { name: 'out', shape: [R, s.F] },
      { name: 'weights', shape: [R, s.T + s.P], noGrad: true },
    ],
    gradInputs: inputs.map((spec) => spec.name),
    forward: (b, i, o) =>
      b.attentionForward(
        n(i, 'query'),
        n(i, 'keys'),
        n(i, 'pseudoKeys'),
        i.values,
        n(i, 'pseudoValues'),
        n(i, 'strength'),
        o.out,
        o.weights,
        s.B,
        s.similarity,
        s.pseudoPositions,
      ),
    backward: (b, i, go, g, acc, o) =>
      b.attentionBackward(
        n(i, 'query'),
        n(i, 'keys'),
        n(i, 'pseudoKeys'),
        i.values,
        n(i, 'pseudoValues'),
        n(i, 'strength'),
        o.weights,
        go.out,
        n(g, 'query'),
        n(g, 'keys'),
        n(g, 'pseudoKeys'),
        n(g, 'values'),
        n(g, 'pseudoValues'),
        n(g, 'strength'),
        s.B,
        s.similarity,
        s.pseudoPositions,
        acc,
      ),
    backendTolerance: backend,
    fdTolerance: fd,
    fdSamples: s.fdSamples,
  };
}

export interface GruInit {
  wGates?: (rng: Rng) => number;
  wCand?: (rng: Rng) => number;
  bCand?: (rng: Rng) => number;
}

export function gru(name: string, N: number, I: number, H: number, init: GruInit = {}, fdSamples?: number): OpCase {
  return {
    name,
    cuda: false,
    inputs: [
      { name: 'x', shape: [N, I] },
      { name: 'h', shape: [N, H] },
      { name: 'wGates', shape: [2 * H, I + H], init: init.wGates },
      { name: 'bGates', shape: [2 * H] },
      { name: 'wCand', shape: [H, I + H], init: init.wCand },
      { name: 'bCand', shape: [H], init: init.bCand },
      { name: 'slope', shape: [H] },
    ],
    outputs: [
      { name: 'out', shape: [N, H] },
      { name: 'saved', shape: [N, 4 * H], noGrad: true },
    ],
    gradInputs: ['x', 'h', 'wGates', 'bGates', 'wCand', 'bCand', 'slope'],
    forward: (b, i, o) => b.gruForward(i.x, i.h, i.wGates, i.bGates, i.wCand, i.bCand, i.slope, o.out, o.saved),
    backward: (b, i, go, g, acc, o) =>
      b.gruBackward(
        i.x,
        i.h,
        i.wGates,
        i.bGates,
        i.wCand,
        i.bCand,
        i.slope,
        o.saved,
        go.out,
        g.x,
        g.h,
        g.wGates,
        g.bGates,
        g.wCand,
        g.bCand,
        g.slope,
        acc,
      ),
    backendTolerance: backend,
    fdTolerance: fd,
    fdSamples,
  };
}

const small = { D: 6, F: 7 };

export const attentionCases: OpCase[] = [
  concat('concat of 3 inputs', 5, [3, 1, 4]),
  broadcastRows('broadcastRows', 6, 7),
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
  gru('gru', 5, 6, 4, { bCand: awayFromZero(0.5, 1) }),
  // The model's widths (I = 488, H = 200): gate weights scaled so the sigmoids do not saturate; the
  // candidate's small weights and biases of +-[1, 1.5) keep every a clear of PReLU's kink.
  gru(
    'gru, model widths',
    40,
    488,
    200,
    { wGates: uniformIn(-0.1, 0.1), wCand: uniformIn(-0.02, 0.02), bCand: awayFromZero(1, 1.5) },
    12,
  ),
];

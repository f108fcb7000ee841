// The ops under test, each as a harness case. Tolerances:
// - finite differences use eps = 1e-2 on a float32 forward whose loss is summed in float64; the
//   rounding of the outputs (about 1e-7 relative, times sums of tens of terms) divided by 2 eps
//   gives errors around 1e-4, so abs 2e-3 + rel 2e-3 leaves margin and still catches any wrong
//   term (a missing or swapped term is off by O(0.1) or more);
// - other backends sum in a different order than the CPU: 1e-4 abs + 1e-4 rel covers float32
//   reassociation for dot products of a few hundred terms.
import type { OpCase } from './op-harness.js';
import { attentionCases } from './op-cases-attention.js';
import { convCases } from './op-cases-conv.js';
import { elboCases } from './op-cases-elbo.js';
import type { Rng } from '../../src/data/rng.js';

const fd = { abs: 2e-3, rel: 2e-3, eps: 1e-2 };
const backend = { abs: 1e-4, rel: 1e-4 };

// Values at least 0.05 away from PReLU's kink, so a step of eps = 1e-2 never crosses it.
const awayFromZero = (rng: Rng) => (rng.nextFloat() < 0.5 ? -1 : 1) * (0.05 + rng.nextFloat());

function linear(name: string, N: number, K: number, M: number, withBias: boolean, fdSamples?: number): OpCase {
  return {
    name,
    inputs: [
      { name: 'x', shape: [N, K] },
      { name: 'weight', shape: [M, K] },
      ...(withBias ? [{ name: 'bias', shape: [M] }] : []),
    ],
    outputs: [{ name: 'out', shape: [N, M] }],
    gradInputs: withBias ? ['x', 'weight', 'bias'] : ['x', 'weight'],
    forward: (b, i, o) => b.linearForward(i.x, i.weight, i.bias ?? null, o.out),
    backward: (b, i, go, g, acc) => b.linearBackward(i.x, i.weight, go.out, g.x, g.weight, g.bias ?? null, acc),
    backendTolerance: backend,
    fdTolerance: fd,
    fdSamples,
  };
}

function prelu(name: string, shape: number[], slopes: number, fdSamples?: number): OpCase {
  return {
    name,
    inputs: [
      { name: 'x', shape, init: awayFromZero },
      { name: 'alpha', shape: [slopes], init: (rng) => 0.5 * rng.nextFloat() },
    ],
    outputs: [{ name: 'out', shape }],
    gradInputs: ['x', 'alpha'],
    forward: (b, i, o) => b.preluForward(i.x, i.alpha, o.out),
    backward: (b, i, go, g, acc) => b.preluBackward(i.x, i.alpha, go.out, g.x, g.alpha, acc),
    backendTolerance: backend,
    fdTolerance: fd,
    fdSamples,
  };
}

export const opCases: OpCase[] = [
  linear('linear', 5, 7, 6, true),
  linear('linear without bias', 3, 4, 9, false),
  // Crosses every tile edge of the CPU GEMM (MR 4, NR 16, KC 256, MC 64) and the CUDA one (64, 16).
  linear('linear, tiled sizes', 67, 260, 35, true, 24),
  prelu('prelu per channel, NCHW', [3, 4, 5, 2], 4),
  prelu('prelu per feature', [6, 8], 8),
  prelu('prelu shared slope', [2, 3, 4], 1),
  // Large enough that the CPU kernels split the work over several chunks.
  prelu('prelu per channel, many rows', [130, 16, 13, 13], 16, 12),
  ...convCases,
  ...attentionCases,
  ...elboCases,
];

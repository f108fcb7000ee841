// Harness cases for the fused ELBO, Gaussian reparameterisation, native normal noise, optimizer updates and gradient norms.
// (Noise and the optimizer updates are not differentiable ops: test/elbo-random.test.ts and
// test/elbo-optim.test.ts check them.) Tolerances:
// - finite differences: eps = 1e-2, abs 2e-3 + rel 2e-3, as for the core ops. gaussianSample's
//   outputs are elementwise, so a step changes one float32 output (rounding ~1e-7 relative, / 2 eps
//   ~1e-5). elbo's loss is one float32 scalar of magnitude ~50 here: its rounding (~3e-6) / 2 eps
//   is ~2e-4. The central-difference truncation error, eps^2 / 6 times the third derivative,
//   stays below ~5e-4 because sigma >= softplus(-1) = 0.31 and |z - mu| <= 2 keep the Gaussian
//   terms' third derivatives in the tens. A dropped or wrong term is off by O(0.1) or more.
// - preSigma is kept in [-2, 2] and preQ/preP in [-1, 2], away from the clip edges at +-10 by far
//   more than the step; the clipped case puts values beyond +-10.5 or inside [-9.5, 9.5], so the
//   step never crosses an edge (test/elbo-reference.test.ts checks the zeros exactly).
// - backendTolerance is unused (cuda: false) and set like the core ops'.
import type { OpCase } from './op-harness.js';
import type { Rng } from '../../src/data/rng.js';

const fd = { abs: 2e-3, rel: 2e-3, eps: 1e-2 };
const backend = { abs: 1e-4, rel: 1e-4 };

const uniformIn = (lo: number, hi: number) => (rng: Rng) => lo + (hi - lo) * rng.nextFloat();
const bit = (rng: Rng) => (rng.nextFloat() < 0.5 ? 0 : 1);

/** Pre-sigmas where a third are clipped below -10, a third clipped above 10, a third inside. */
export const clippedPre = (rng: Rng) => {
  const r = rng.nextFloat();
  const u = rng.nextFloat();
  return r < 1 / 3 ? -10.5 - 4 * u : r < 2 / 3 ? 10.5 + 4 * u : -9.5 + 19 * u;
};

/** Row weights cycling through 1, 0, 0.5, 2: positive, with a zero among each four rows. */
function rowWeights(): (rng: Rng) => number {
  const cycle = [1, 0, 0.5, 2];
  let k = 0;
  return () => cycle[k++ % cycle.length];
}

function gaussianSample(name: string, N: number, Z: number, pre: (rng: Rng) => number, fdSamples?: number): OpCase {
  return {
    name,
    inputs: [
      { name: 'mu', shape: [N, Z] },
      { name: 'preSigma', shape: [N, Z], init: pre },
      { name: 'eps', shape: [N, Z], init: uniformIn(-2, 2) },
    ],
    outputs: [{ name: 'out', shape: [N, Z] }],
    cuda: false,
    gradInputs: ['mu', 'preSigma'],
    forward: (b, i, o) => b.gaussianSampleForward(i.mu, i.preSigma, i.eps, o.out),
    backward: (b, i, go, g, acc) => b.gaussianSampleBackward(i.preSigma, i.eps, go.out, g.mu, g.preSigma, acc),
    backendTolerance: backend,
    fdTolerance: fd,
    fdSamples,
  };
}

function elbo(name: string, N: number, D: number, Z: number): OpCase {
  return {
    name,
    inputs: [
      { name: 'logits', shape: [N, D], init: uniformIn(-3, 3) },
      { name: 'x', shape: [N, D], init: bit },
      { name: 'z', shape: [N, Z] },
      { name: 'muQ', shape: [N, Z] },
      { name: 'preQ', shape: [N, Z], init: uniformIn(-1, 2) },
      { name: 'muP', shape: [N, Z] },
      { name: 'preP', shape: [N, Z], init: uniformIn(-1, 2) },
      { name: 'rowWeight', shape: [N], init: rowWeights() },
    ],
    outputs: [
      { name: 'terms', shape: [N, 3], noGrad: true },
      { name: 'loss', shape: [1] },
    ],
    cuda: false,
    gradInputs: ['logits', 'z', 'muQ', 'preQ', 'muP', 'preP'],
    forward: (b, i, o) => b.elboForward(i.logits, i.x, i.z, i.muQ, i.preQ, i.muP, i.preP, i.rowWeight, o.terms, o.loss),
    backward: (b, i, go, g, acc) =>
      b.elboBackward(i.logits, i.x, i.z, i.muQ, i.preQ, i.muP, i.preP, i.rowWeight, go.loss, g.logits, g.z, g.muQ, g.preQ, g.muP, g.preP, acc),
    backendTolerance: backend,
    fdTolerance: fd,
  };
}

export const elboCases: OpCase[] = [
  gaussianSample('gaussianSample', 4, 3, uniformIn(-2, 2)),
  gaussianSample('gaussianSample with clipped preSigma (gradient 0 there)', 4, 3, clippedPre),
  // More elements than one CPU chunk (4096).
  gaussianSample('gaussianSample, several chunks', 2000, 3, uniformIn(-2, 2), 16),
  elbo('elbo', 4, 12, 3),
];

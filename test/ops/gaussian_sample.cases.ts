// gaussian_sample (the Gaussian reparameterisation): harness cases and bad arguments (each call
// throws a TypeError or RangeError naming the argument, synchronously, before any work is queued).
// Tolerances:
// - finite differences: eps = 1e-2, abs 2e-3 + rel 2e-3, as for the core ops. The outputs are
//   elementwise, so a step changes one float32 output (rounding ~1e-7 relative, / 2 eps ~1e-5).
//   A dropped or wrong term is off by O(0.1) or more.
// - preSigma is kept in [-2, 2], away from the clip edges at +-10 by far more than the step; the
//   clipped case puts values beyond +-10.5 or inside [-9.5, 9.5], so the step never crosses an edge
//   (test/elbo-reference.test.ts checks the zeros exactly).
// - backendTolerance is the core ops' (used where the build has a CUDA kernel for gaussian_sample).
import type { Rng } from '../../src/data/rng.js';
import { any, b, disposed, T, type Case } from '../helpers/args.js';
import { backendTolerance, fdTolerance, uniformIn, type OpCase } from '../helpers/op-harness.js';

const op = 'gaussian_sample';

/** Pre-sigmas where a third are clipped below -10, a third clipped above 10, a third inside. */
export const clippedPre = (rng: Rng) => {
  const r = rng.nextFloat();
  const u = rng.nextFloat();
  return r < 1 / 3 ? -10.5 - 4 * u : r < 2 / 3 ? 10.5 + 4 * u : -9.5 + 19 * u;
};

function gaussianSample(name: string, N: number, Z: number, pre: (rng: Rng) => number, fdSamples?: number): OpCase {
  return {
    name,
    op,
    inputs: [
      { name: 'mu', shape: [N, Z] },
      { name: 'preSigma', shape: [N, Z], init: pre },
      { name: 'eps', shape: [N, Z], init: uniformIn(-2, 2) },
    ],
    outputs: [{ name: 'out', shape: [N, Z] }],
    gradInputs: ['mu', 'preSigma'],
    forward: (b, i, o) => b.gaussianSampleForward(i.mu, i.preSigma, i.eps, o.out),
    backward: (b, i, go, g, acc) => b.gaussianSampleBackward(i.preSigma, i.eps, go.out, g.mu, g.preSigma, acc),
    backendTolerance,
    fdTolerance,
    fdSamples,
  };
}

export const harness: OpCase[] = [
  gaussianSample('gaussianSample', 4, 3, uniformIn(-2, 2)),
  gaussianSample('gaussianSample with clipped preSigma (gradient 0 there)', 4, 3, clippedPre),
  // More elements than one CPU chunk (4096).
  gaussianSample('gaussianSample, several chunks', 2000, 3, uniformIn(-2, 2), 16),
];

// Valid operands, so that each case breaks exactly one thing. N = 4, Z = 3.
const [mu, pre, eps, zOut, gMu, gPre, gOut] = [0, 1, 2, 3, 4, 5, 6].map(() => T([4, 3]));

export const badArguments: Case[] = [
  // gaussianSampleForward
  ['gaussianSampleForward with 3 arguments', () => (b.gaussianSampleForward as Function)(mu, pre, eps), TypeError, 'gaussianSampleForward'],
  ['gaussianSampleForward with 1-D mu', () => b.gaussianSampleForward(T([12]), pre, eps, zOut), RangeError, 'mu'],
  ['gaussianSampleForward with a wrong preSigma', () => b.gaussianSampleForward(mu, T([4, 4]), eps, zOut), RangeError, 'preSigma'],
  ['gaussianSampleForward with a wrong eps', () => b.gaussianSampleForward(mu, pre, T([3, 4]), zOut), RangeError, 'eps'],
  ['gaussianSampleForward with a wrong out', () => b.gaussianSampleForward(mu, pre, eps, T([4, 3, 1])), RangeError, 'out'],
  ['gaussianSampleForward with a disposed eps', () => b.gaussianSampleForward(mu, pre, disposed(), zOut), TypeError, 'eps'],
  ['gaussianSampleForward with null out', () => b.gaussianSampleForward(mu, pre, eps, any(null)), TypeError, 'out'],
  ['gaussianSampleForward writing into mu', () => b.gaussianSampleForward(mu, pre, eps, mu), TypeError, 'out'],
  ['gaussianSampleForward writing into a view of eps', () => b.gaussianSampleForward(mu, pre, eps, eps.reshape([4, 3])), TypeError, 'out'],
  // gaussianSampleBackward
  ['gaussianSampleBackward with 5 arguments', () => (b.gaussianSampleBackward as Function)(pre, eps, gOut, gMu, gPre), TypeError, 'gaussianSampleBackward'],
  ['gaussianSampleBackward with a wrong eps', () => b.gaussianSampleBackward(pre, T([4, 2]), gOut, gMu, gPre, false), RangeError, 'eps'],
  ['gaussianSampleBackward with a wrong gradOut', () => b.gaussianSampleBackward(pre, eps, T([12]), gMu, gPre, false), RangeError, 'gradOut'],
  ['gaussianSampleBackward with a wrong gradMu', () => b.gaussianSampleBackward(pre, eps, gOut, T([4, 2]), gPre, false), RangeError, 'gradMu'],
  ['gaussianSampleBackward with a wrong gradPreSigma', () => b.gaussianSampleBackward(pre, eps, gOut, gMu, T([3, 3]), false), RangeError, 'gradPreSigma'],
  ['gaussianSampleBackward with a string gradMu', () => b.gaussianSampleBackward(pre, eps, gOut, any('g'), gPre, false), TypeError, 'gradMu'],
  ['gaussianSampleBackward with gradMu as gradPreSigma', () => b.gaussianSampleBackward(pre, eps, gOut, gMu, gMu, false), TypeError, 'gradMu'],
  ['gaussianSampleBackward with gradPreSigma aliasing gradOut', () => b.gaussianSampleBackward(pre, eps, gOut, null, gOut, false), TypeError, 'gradPreSigma'],
  ['gaussianSampleBackward with a numeric accumulate', () => b.gaussianSampleBackward(pre, eps, gOut, gMu, gPre, any(0)), TypeError, 'accumulate'],
];

// elbo (the fused ELBO): harness cases, bad arguments (each call throws a TypeError or RangeError
// naming the argument, synchronously, before any work is queued) of its one-object calling
// convention, and the valid calls working after them. Tolerances:
// - finite differences: eps = 1e-2, abs 2e-3 + rel 2e-3, as for the core ops. elbo's loss is one
//   float32 scalar of magnitude ~50 here: its rounding (~3e-6) / 2 eps is ~2e-4. The
//   central-difference truncation error, eps^2 / 6 times the third derivative, stays below ~5e-4
//   because sigma >= softplus(-1) = 0.31 and |z - mu| <= 2 keep the Gaussian terms' third
//   derivatives in the tens. A dropped or wrong term is off by O(0.1) or more.
// - preQ/preP are kept in [-1, 2], away from the clip edges at +-10 by far more than the step.
// - backendTolerance is the core ops' (used where the build has a CUDA kernel for elbo).
import test from 'ava';

import type { Rng } from '../../src/data/rng.js';
import type { ElboBackwardArgs, ElboForwardArgs } from '../../src/native/ops/elbo.js';
import { b, disposed, namedArguments, T, type Case } from '../helpers/args.js';
import { backendTolerance, fdTolerance, uniformIn, type OpCase } from '../helpers/op-harness.js';

const op = 'elbo';

const bit = (rng: Rng) => (rng.nextFloat() < 0.5 ? 0 : 1);

/** Row weights cycling through 1, 0, 0.5, 2: positive, with a zero among each four rows. */
function rowWeights(): (rng: Rng) => number {
  const cycle = [1, 0, 0.5, 2];
  let k = 0;
  return () => cycle[k++ % cycle.length];
}

function elbo(name: string, N: number, D: number, Z: number): OpCase {
  return {
    name,
    op,
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
    gradInputs: ['logits', 'z', 'muQ', 'preQ', 'muP', 'preP'],
    forward: (b, i, o) =>
      b.elboForward({ logits: i.logits, x: i.x, z: i.z, muQ: i.muQ, preQ: i.preQ, muP: i.muP, preP: i.preP, rowWeight: i.rowWeight, terms: o.terms, loss: o.loss }),
    backward: (b, i, go, g, acc) =>
      b.elboBackward({
        logits: i.logits,
        x: i.x,
        z: i.z,
        muQ: i.muQ,
        preQ: i.preQ,
        muP: i.muP,
        preP: i.preP,
        rowWeight: i.rowWeight,
        gradLoss: go.loss,
        gradLogits: g.logits,
        gradZ: g.z,
        gradMuQ: g.muQ,
        gradPreQ: g.preQ,
        gradMuP: g.muP,
        gradPreP: g.preP,
        accumulate: acc,
      }),
    backendTolerance,
    fdTolerance,
  };
}

export const harness: OpCase[] = [elbo('elbo', 4, 12, 3)];

// Valid operands, so that each case breaks exactly one thing. N = 4, D = 6, Z = 3.
const [logits, x] = [T([4, 6]), T([4, 6])];
const [z, muQ, preQ, muP, preP] = [0, 1, 2, 3, 4].map(() => T([4, 3]));
const rowWeight = T([4]);
const [terms, loss, gradLoss] = [T([4, 3]), T([1]), T([1])];
const [gradLogits, gradZ, gradMuQ, gradPreQ, gradMuP, gradPreP] = [T([4, 6]), ...[0, 1, 2, 3, 4].map(() => T([4, 3]))];
const inputs = { logits, x, z, muQ, preQ, muP, preP, rowWeight };
const fwd: ElboForwardArgs = { ...inputs, terms, loss };
const bwd: ElboBackwardArgs = { ...inputs, gradLoss, gradLogits, gradZ, gradMuQ, gradPreQ, gradMuP, gradPreP, accumulate: false };

const forward = namedArguments('elboForward', b.elboForward, fwd, 'rowWeights', 'loss');
const backward = namedArguments('elboBackward', b.elboBackward, bwd, 'gradLogit', 'gradLoss');
const ef = forward.call;
const eb = backward.call;

export const badArguments: Case[] = [
  // elboForward
  ...forward.convention,
  ['elboForward with 1-D logits', ef({ logits: T([24]) }), RangeError, 'logits'],
  ['elboForward with a wrong x', ef({ x: T([4, 5]) }), RangeError, 'x'],
  ['elboForward with 1-D z', ef({ z: T([12]) }), RangeError, 'z'],
  ['elboForward with z of the wrong N', ef({ z: T([5, 3]) }), RangeError, 'z'],
  ['elboForward with a wrong muQ', ef({ muQ: T([4, 2]) }), RangeError, 'muQ'],
  ['elboForward with a wrong preQ', ef({ preQ: T([4, 4]) }), RangeError, 'preQ'],
  ['elboForward with a wrong muP', ef({ muP: T([3, 3]) }), RangeError, 'muP'],
  ['elboForward with a wrong preP', ef({ preP: T([12]) }), RangeError, 'preP'],
  ['elboForward with a wrong rowWeight', ef({ rowWeight: T([4, 1]) }), RangeError, 'rowWeight'],
  ['elboForward with a wrong terms', ef({ terms: T([4, 2]) }), RangeError, 'terms'],
  ['elboForward with a wrong loss', ef({ loss: T([2]) }), RangeError, 'loss'],
  ['elboForward with a disposed preP', ef({ preP: disposed() }), TypeError, 'preP'],
  ['elboForward with a number for rowWeight', ef({ rowWeight: 1 }), TypeError, 'rowWeight'],
  ['elboForward writing terms into muQ', ef({ terms: muQ }), TypeError, 'terms'],
  // elboBackward
  ...backward.convention,
  ['elboBackward with a wrong gradLoss', eb({ gradLoss: T([1, 1]) }), RangeError, 'gradLoss'],
  ['elboBackward with z of the wrong N', eb({ z: T([5, 3]) }), RangeError, 'z'],
  ['elboBackward with a wrong gradLogits', eb({ gradLogits: T([4, 5]) }), RangeError, 'gradLogits'],
  ['elboBackward with a wrong gradZ', eb({ gradZ: T([4, 2]) }), RangeError, 'gradZ'],
  ['elboBackward with a wrong gradMuQ', eb({ gradMuQ: T([12]) }), RangeError, 'gradMuQ'],
  ['elboBackward with a wrong gradPreQ', eb({ gradPreQ: T([5, 3]) }), RangeError, 'gradPreQ'],
  ['elboBackward with a wrong gradMuP', eb({ gradMuP: T([3]) }), RangeError, 'gradMuP'],
  ['elboBackward with a wrong gradPreP', eb({ gradPreP: T([4, 3, 1]) }), RangeError, 'gradPreP'],
  ['elboBackward with a disposed gradMuQ', eb({ gradMuQ: disposed() }), TypeError, 'gradMuQ'],
  ['elboBackward with a string gradPreP', eb({ gradPreP: 'g' }), TypeError, 'gradPreP'],
  ['elboBackward with gradZ aliasing z', eb({ gradZ: z }), TypeError, 'gradZ'],
  ['elboBackward with a string accumulate', eb({ accumulate: 'yes' }), TypeError, 'accumulate'],
];

export function extraTests(): void {
  test('elbo: the valid calls of these cases work, and the addon still works after every bad call', async (t) => {
    // All zeros: sigma = softplus(0) everywhere, every row weight 0.
    await b.elboForward(fwd);
    await b.elboBackward(bwd);
    t.true((await terms.read()).every(Number.isFinite));
    t.true((await loss.read())[0] === 0, 'the loss of rows weighted 0 is 0');
    t.true((await gradZ.read()).every(Number.isFinite));
  });
}

// residual_block (prelu(x + conv2d SAME(x, weight), alpha) as one op): harness cases, bad
// arguments, and the fused op against conv2d, add and prelu run one after the other, bit for bit.
// Harness tolerances: the project's defaults (op-harness.ts), eps = 1e-2 with 2e-3 abs + 2e-3 rel.
// The cases keep PReLU's input away from its kink by more than a step moves it: |x| >= 0.5 and
// weights below 0.2 / (C kh kw), so |conv2d(x)| < 0.2 and |x + conv2d(x)| > 0.3, while a step
// of one element moves the sum at any pixel by at most eps (1 + max |w|) or eps |x| <= eps.
import test from 'ava';

import type { Rng } from '../../src/data/rng.js';
import { Rng as Random } from '../../src/data/rng.js';
import type { NativeTensor } from '../../src/native/binding.js';
import { any, b, disposed, T, type Case } from '../helpers/args.js';
import { backendTolerance, fdTolerance, uniformIn, type OpCase } from '../helpers/op-harness.js';

const op = 'residual_block';
const awayFromZero = (rng: Rng) => (rng.nextFloat() < 0.5 ? -1 : 1) * uniformIn(0.5, 1)(rng);

function block(name: string, N: number, C: number, H: number, W: number, k: number, fdSamples?: number, addend = false): OpCase {
  const bound = 0.2 / (C * k * k);
  return {
    name,
    op,
    inputs: [
      { name: 'x', shape: [N, C, H, W], init: awayFromZero },
      { name: 'weight', shape: [C, C, k, k], init: uniformIn(-bound, bound) },
      { name: 'alpha', shape: [C], init: (rng) => 0.5 * rng.nextFloat() },
      ...(addend ? [{ name: 'addend', shape: [N, C, H, W] }] : []),
    ],
    outputs: [
      { name: 'out', shape: [N, C, H, W] },
      { name: 'preActivation', shape: [N, C, H, W], noGrad: true },
    ],
    gradInputs: ['x', 'weight', 'alpha'],
    forward: (b, i, o) => b.residualBlockForward(i.x, i.weight, i.alpha, i.addend ?? null, o.out, o.preActivation),
    backward: (b, i, go, g, acc, o) =>
      b.residualBlockBackward(i.x, i.weight, i.alpha, o.preActivation, go.out, g.x, g.weight, g.alpha, acc),
    backendTolerance,
    fdTolerance,
    fdSamples,
  };
}

export const harness: OpCase[] = [
  block('residual block 3x3 at 28x28, 3 channels (on AVX-512, the conv with the add and PReLU in its epilogue)', 2, 3, 28, 28, 3, 40),
  block('residual block 3x3 at 6x6, 9 channels (two blocks of 8 output channels)', 2, 9, 6, 6, 3, 40),
  block('residual block 3x3 at 20x22, 5 channels (on AVX-512 Winograd\'s F(2x2, 3x3) with the epilogue)', 2, 5, 20, 22, 3, 40),
  block('residual block 3x3 at 5x7, non-square', 2, 2, 5, 7, 3),
  block('residual block 3x3 at 13x13, 20 images (split over the threads)', 20, 2, 13, 13, 3, 24),
  block('residual block 2x2 at 3x3 (SAME: one zero row and column after; conv, add and prelu kernels)', 3, 4, 3, 3, 2),
  block('residual block 3x3 at 28x28 with an addend (Winograd\'s epilogue adds it after the PReLU)', 2, 4, 28, 28, 3, 40, true),
  block('residual block 3x3 at 6x6, 20 channels, with an addend (channels in lanes, its epilogue)', 2, 20, 6, 6, 3, 40, true),
  block('residual block 2x2 at 3x3 with an addend (conv, add, prelu and add kernels)', 3, 4, 3, 3, 2, undefined, true),
];

// Valid operands, so that each case breaks exactly one thing: 3x3 on 8x8 with 3 channels.
const x = T([2, 3, 8, 8]);
const w = T([3, 3, 3, 3]);
const alpha = T([3]);
const out = T([2, 3, 8, 8]);
const pre = T([2, 3, 8, 8]);
const gout = T([2, 3, 8, 8]);

export const badArguments: Case[] = [
  ['residualBlockForward with 3-D x', () => b.residualBlockForward(T([3, 8, 8]), w, alpha, null, out, pre), RangeError, 'x'],
  ['residualBlockForward with 4 output channels for 3 input channels', () => b.residualBlockForward(x, T([4, 3, 3, 3]), alpha, null, out, pre), RangeError, 'weight'],
  ['residualBlockForward with one slope too many', () => b.residualBlockForward(x, w, T([4]), null, out, pre), RangeError, 'alpha'],
  ['residualBlockForward with a wrong out', () => b.residualBlockForward(x, w, alpha, null, T([2, 3, 8, 7]), pre), RangeError, 'out'],
  ['residualBlockForward with a wrong preActivation', () => b.residualBlockForward(x, w, alpha, null, out, T([2, 3, 8])), RangeError, 'preActivation'],
  ['residualBlockForward with out the same tensor as x', () => b.residualBlockForward(x, w, alpha, null, x, pre), TypeError, 'out'],
  ['residualBlockForward with an addend of another shape', () => b.residualBlockForward(x, w, alpha, T([2, 3, 8, 7]), out, pre), RangeError, 'addend'],
  ['residualBlockForward with out the same tensor as the addend', () => b.residualBlockForward(x, w, alpha, out, out, pre), TypeError, 'out'],
  ['residualBlockForward with 5 arguments', () => (b.residualBlockForward as Function)(x, w, alpha, out, pre), TypeError, 'residualBlockForward'],
  ['residualBlockForward with a disposed weight', () => b.residualBlockForward(x, disposed(), alpha, null, out, pre), TypeError, 'weight'],
  ['residualBlockBackward with a wrong gradOut', () => b.residualBlockBackward(x, w, alpha, pre, T([2, 3, 8, 9]), null, null, null, false), RangeError, 'gradOut'],
  ['residualBlockBackward with a wrong gradWeight', () => b.residualBlockBackward(x, w, alpha, pre, gout, null, T([3, 3, 2, 2]), null, false), RangeError, 'gradWeight'],
  ['residualBlockBackward with a wrong gradAlpha', () => b.residualBlockBackward(x, w, alpha, pre, gout, null, null, T([2]), false), RangeError, 'gradAlpha'],
  ['residualBlockBackward with undefined accumulate', () => b.residualBlockBackward(x, w, alpha, pre, gout, null, null, null, any(undefined)), TypeError, 'accumulate'],
  ['residualBlockBackward with 8 arguments', () => (b.residualBlockBackward as Function)(x, w, alpha, pre, gout, null, null, null), TypeError, 'residualBlockBackward'],
];

// Fresh tensors of `shape` drawn uniformly from [-1, 1).
function random(rng: Random, shape: number[]): NativeTensor {
  const data = Float32Array.from({ length: shape.reduce((p, q) => p * q, 1) }, () => 2 * rng.nextFloat() - 1);
  return b.createTensor(shape, 'cpu', data);
}

export function extraTests(): void {
  // The model's geometries (fewer images): the fused op promises conv2d, add and prelu's own sums,
  // and the addend added to prelu's output as the add kernel adds it.
  for (const [N, C, H, k] of [
    [5, 16, 28, 3],
    [4, 16, 13, 3],
    [3, 32, 6, 3],
    [3, 32, 3, 2],
  ]) {
    test(`residual_block: ${C} channels, ${k}x${k} at ${H}x${H}, the same bits as conv2d, add, prelu and add one after the other`, async (t) => {
      const rng = new Random(7 + H);
      const shape = [N, C, H, H];
      const pad = (k - 1) >> 1;
      const [x, w, a, dy, addend] = [random(rng, shape), random(rng, [C, C, k, k]), random(rng, [C]), random(rng, shape), random(rng, shape)];
      const fused = { out: T(shape), pre: T(shape), dx: T(shape), dw: T([C, C, k, k]), da: T([C]), sum: T(shape) };
      await b.residualBlockForward(x, w, a, null, fused.out, fused.pre);
      await b.residualBlockForward(x, w, a, addend, fused.sum, T(shape));
      await b.residualBlockBackward(x, w, a, fused.pre, dy, fused.dx, fused.dw, fused.da, false);

      const conv = T(shape), pre = T(shape), out = T(shape), dz = T(shape), da = T([C]), dw = T([C, C, k, k]);
      await b.conv2dForward(x, w, conv, 1, pad, pad);
      await b.addForward(x, conv, pre);
      await b.preluForward(pre, a, out);
      const sum = T(shape);
      await b.addForward(out, addend, sum);
      await b.preluBackward(pre, a, dy, dz, da, false);
      // The add passes dz on to x, to which the conv's input gradient is then added.
      const dx = b.createTensor(shape, 'cpu', await dz.read());
      await b.conv2dBackward(x, w, dz, dx, null, 1, pad, pad, true);
      await b.conv2dBackward(x, w, dz, null, dw, 1, pad, pad, false);

      const same = async (name: string, got: NativeTensor, want: NativeTensor) =>
        t.true(Buffer.from((await got.read()).buffer).equals(Buffer.from((await want.read()).buffer)), `${name} differs`);
      await same('out', fused.out, out);
      await same('out with the addend', fused.sum, sum);
      await same('preActivation', fused.pre, pre);
      await same('gradX', fused.dx, dx);
      await same('gradWeight', fused.dw, dw);
      await same('gradAlpha', fused.da, da);
    });
  }
}

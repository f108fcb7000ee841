// conv_transpose2d: harness cases and bad arguments (each call throws a TypeError or RangeError
// whose message names the argument, synchronously).
// The model's real geometries (3 -> 6 -> 13 -> 28) with small N and few channels, plus a
// non-square kernel (to catch swapped axes). Tolerances as for conv2d (conv2d.cases.ts): the op is
// linear in each input, so the project's finite-difference tolerance leaves margin; large inputs
// are checked on fdSamples random elements.
import { any, b, disposed, T, type Case } from '../helpers/args.js';
import { backendTolerance, fdTolerance, type OpCase } from '../helpers/op-harness.js';
import type { ConvGeometry } from './conv2d.cases.js';

const op = 'conv_transpose2d';
const samples = 40;

function convTranspose2d(name: string, g: ConvGeometry, fdSamples?: number): OpCase {
  const { N, Ci, Co, H, W, kh, kw, stride } = g;
  return {
    name,
    op,
    inputs: [
      { name: 'x', shape: [N, Ci, H, W] },
      { name: 'weight', shape: [Ci, Co, kh, kw] },
    ],
    outputs: [{ name: 'out', shape: [N, Co, (H - 1) * stride + kh, (W - 1) * stride + kw] }],
    gradInputs: ['x', 'weight'],
    forward: (b, i, o) => b.convTranspose2dForward(i.x, i.weight, o.out, stride),
    backward: (b, i, go, gr, acc) => b.convTranspose2dBackward(i.x, i.weight, go.out, gr.x, gr.weight, stride, acc),
    backendTolerance,
    fdTolerance,
    fdSamples,
  };
}

export const harness: OpCase[] = [
  convTranspose2d('convTranspose2d 2x2 stride 2, 3 -> 6', { N: 2, Ci: 4, Co: 3, H: 3, W: 3, kh: 2, kw: 2, stride: 2 }),
  convTranspose2d('convTranspose2d 3x3 stride 2, 6 -> 13', { N: 2, Ci: 3, Co: 4, H: 6, W: 6, kh: 3, kw: 3, stride: 2 }, samples),
  convTranspose2d('convTranspose2d 4x4 stride 2, 13 -> 28', { N: 2, Ci: 4, Co: 1, H: 13, W: 13, kh: 4, kw: 4, stride: 2 }, samples),
  convTranspose2d('convTranspose2d 1x1 stride 1', { N: 2, Ci: 5, Co: 3, H: 4, W: 4, kh: 1, kw: 1, stride: 1 }),
  convTranspose2d('convTranspose2d non-square 2x3 kernel stride 2, 3x4 -> 6x9', { N: 2, Ci: 2, Co: 3, H: 3, W: 4, kh: 2, kw: 3, stride: 2 }),
  convTranspose2d('convTranspose2d 4x2 kernel stride 2, 7x15 -> 16x30, 3 -> 6 channels (on AVX-512 a plane row a vector: both column phases interleaved, a partial block of channels)', { N: 2, Ci: 3, Co: 6, H: 7, W: 15, kh: 4, kw: 2, stride: 2 }, samples),
];

// Valid operands, so that each case breaks exactly one thing: 2x2 stride 2, 3 -> 6.
const tx = T([2, 4, 3, 3]);
const tw = T([4, 3, 2, 2]);
const tout = T([2, 3, 6, 6]);
// One tensor passed as two gradients.
const shared = T([2, 3]);

export const badArguments: Case[] = [
  // convTranspose2dForward
  ['convTranspose2dForward with 3 arguments', () => (b.convTranspose2dForward as Function)(tx, tw, tout), TypeError, 'the arguments of convTranspose2dForward'],
  ['convTranspose2dForward with a disposed weight', () => b.convTranspose2dForward(tx, disposed(), tout, 2), TypeError, 'weight'],
  ['convTranspose2dForward with 2-D x', () => b.convTranspose2dForward(T([8, 9]), tw, tout, 2), RangeError, 'x'],
  ['convTranspose2dForward with mismatched Ci', () => b.convTranspose2dForward(tx, T([3, 3, 2, 2]), tout, 2), RangeError, 'weight'],
  ['convTranspose2dForward with a wrong out size', () => b.convTranspose2dForward(tx, tw, T([2, 3, 5, 5]), 2), RangeError, 'out'],
  ['convTranspose2dForward with a wrong Co in out', () => b.convTranspose2dForward(tx, tw, T([2, 4, 6, 6]), 2), RangeError, 'out'],
  ['convTranspose2dForward writing into weight', () => b.convTranspose2dForward(tx, tw, tw, 2), TypeError, 'out'],
  ['convTranspose2dForward with stride 0', () => b.convTranspose2dForward(tx, tw, tout, 0), RangeError, 'stride'],
  ['convTranspose2dForward with stride 2.5', () => b.convTranspose2dForward(tx, tw, tout, 2.5), RangeError, 'stride'],
  ['convTranspose2dForward with stride NaN', () => b.convTranspose2dForward(tx, tw, tout, Number.NaN), RangeError, 'stride'],
  ['convTranspose2dForward with stride 2 ** 40', () => b.convTranspose2dForward(tx, tw, tout, 2 ** 40), RangeError, 'stride'],
  ['convTranspose2dForward with stride undefined', () => b.convTranspose2dForward(tx, tw, tout, any(undefined)), TypeError, 'stride'],
  // convTranspose2dBackward
  ['convTranspose2dBackward with 6 arguments', () => (b.convTranspose2dBackward as Function)(tx, tw, tout, null, null, 2), TypeError, 'the arguments of convTranspose2dBackward'],
  ['convTranspose2dBackward with a wrong gradOut', () => b.convTranspose2dBackward(tx, tw, T([2, 3, 7, 7]), null, null, 2, false), RangeError, 'gradOut'],
  ['convTranspose2dBackward with a wrong gradX', () => b.convTranspose2dBackward(tx, tw, tout, T([2, 4, 3, 4]), null, 2, false), RangeError, 'gradX'],
  ['convTranspose2dBackward with a wrong gradWeight', () => b.convTranspose2dBackward(tx, tw, tout, null, T([3, 4, 2, 2]), 2, false), RangeError, 'gradWeight'],
  ['convTranspose2dBackward with gradWeight aliasing gradX', () => b.convTranspose2dBackward(tx, tw, tout, shared, shared, 2, false), TypeError, 'grad'],
  ['convTranspose2dBackward with accumulate "yes"', () => b.convTranspose2dBackward(tx, tw, tout, null, null, 2, any('yes')), TypeError, 'accumulate'],
  ['convTranspose2dBackward with stride -2', () => b.convTranspose2dBackward(tx, tw, tout, null, null, -2, false), RangeError, 'stride'],
];

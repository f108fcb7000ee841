// avg_pool2d: harness cases and bad arguments (each call throws a TypeError or RangeError whose
// message names the argument, synchronously).
// The model's real geometries (28 -> 13 -> 6 -> 3) plus a non-square input. Tolerances as for
// conv2d (conv2d.cases.ts): the op is linear in its input, so the project's finite-difference
// tolerance leaves margin; large inputs are checked on fdSamples random elements.
import { any, b, disposed, T, type Case } from '../helpers/args.js';
import { backendTolerance, fdTolerance, type OpCase } from '../helpers/op-harness.js';

const op = 'avg_pool2d';
const samples = 40;

function avgPool2d(name: string, shape: [number, number, number, number], kernel: number, stride: number, fdSamples?: number): OpCase {
  const [N, C, H, W] = shape;
  const out = [N, C, Math.floor((H - kernel) / stride) + 1, Math.floor((W - kernel) / stride) + 1];
  return {
    name,
    op,
    inputs: [{ name: 'x', shape }],
    outputs: [{ name: 'out', shape: out }],
    gradInputs: ['x'],
    forward: (b, i, o) => b.avgPool2dForward(i.x, o.out, kernel, stride),
    backward: (b, _i, go, gr, acc) => b.avgPool2dBackward(go.out, gr.x, kernel, stride, acc),
    backendTolerance,
    fdTolerance,
    fdSamples,
  };
}

export const harness: OpCase[] = [
  avgPool2d('avgPool2d 4 stride 2, 28 -> 13', [2, 3, 28, 28], 4, 2, samples),
  avgPool2d('avgPool2d 3 stride 2, 13 -> 6', [2, 3, 13, 13], 3, 2, samples),
  avgPool2d('avgPool2d 2 stride 2, 6 -> 3', [3, 2, 6, 6], 2, 2),
  avgPool2d('avgPool2d non-square 3 stride 1, 4x6 -> 2x4', [2, 2, 4, 6], 3, 1),
  // Rows wider than the 32 columns of the AVX-512 path (resample.h): the general engine.
  avgPool2d('avgPool2d wide 2 stride 2, 4x40 -> 2x20', [1, 2, 4, 40], 2, 2, samples),
];

// Valid operands, so that each case breaks exactly one thing: 3 stride 2, 13 -> 6.
const px = T([2, 3, 13, 13]);
const pout = T([2, 3, 6, 6]);

export const badArguments: Case[] = [
  // avgPool2dForward
  ['avgPool2dForward with 3 arguments', () => (b.avgPool2dForward as Function)(px, pout, 3), TypeError, 'the arguments of avgPool2dForward'],
  ['avgPool2dForward with 3-D x', () => b.avgPool2dForward(T([6, 13, 13]), pout, 3, 2), RangeError, 'x'],
  ['avgPool2dForward with a disposed x', () => b.avgPool2dForward(disposed(), pout, 3, 2), TypeError, 'x'],
  ['avgPool2dForward with a wrong out', () => b.avgPool2dForward(px, T([2, 3, 5, 5]), 3, 2), RangeError, 'out'],
  ['avgPool2dForward writing into x', () => b.avgPool2dForward(px, px, 3, 2), TypeError, 'out'],
  ['avgPool2dForward with kernel 0', () => b.avgPool2dForward(px, pout, 0, 2), RangeError, 'kernel'],
  ['avgPool2dForward with a kernel larger than x', () => b.avgPool2dForward(px, pout, 14, 2), RangeError, 'kernel'],
  ['avgPool2dForward with kernel 2.5', () => b.avgPool2dForward(px, pout, 2.5, 2), RangeError, 'kernel'],
  ['avgPool2dForward with kernel NaN', () => b.avgPool2dForward(px, pout, Number.NaN, 2), RangeError, 'kernel'],
  ['avgPool2dForward with kernel "3"', () => b.avgPool2dForward(px, pout, any('3'), 2), TypeError, 'kernel'],
  ['avgPool2dForward with stride 0', () => b.avgPool2dForward(px, pout, 3, 0), RangeError, 'stride'],
  ['avgPool2dForward with stride -Infinity', () => b.avgPool2dForward(px, pout, 3, -Infinity), RangeError, 'stride'],
  // avgPool2dBackward
  ['avgPool2dBackward with 4 arguments', () => (b.avgPool2dBackward as Function)(pout, px, 3, 2), TypeError, 'the arguments of avgPool2dBackward'],
  ['avgPool2dBackward with a null gradX', () => b.avgPool2dBackward(pout, any(null), 3, 2, false), TypeError, 'gradX'],
  ['avgPool2dBackward with 2-D gradX', () => b.avgPool2dBackward(pout, T([6, 169]), 3, 2, false), RangeError, 'gradX'],
  ['avgPool2dBackward with a wrong gradOut', () => b.avgPool2dBackward(T([2, 3, 7, 7]), px, 3, 2, false), RangeError, 'gradOut'],
  ['avgPool2dBackward with gradX aliasing gradOut', () => b.avgPool2dBackward(pout, pout, 3, 2, false), TypeError, 'gradX'],
  ['avgPool2dBackward with kernel 1e10', () => b.avgPool2dBackward(pout, px, 1e10, 2, false), RangeError, 'kernel'],
  ['avgPool2dBackward with stride Infinity', () => b.avgPool2dBackward(pout, px, 3, Infinity, false), RangeError, 'stride'],
  ['avgPool2dBackward with accumulate 0', () => b.avgPool2dBackward(pout, px, 3, 2, any(0)), TypeError, 'accumulate'],
];

// resize_bilinear: harness cases and bad arguments (each call throws a TypeError or RangeError
// whose message names the argument, synchronously).
// The model's real geometries (3 -> 6 -> 13 -> 28), one downsizing and a non-square resize.
// Tolerances as for conv2d (conv2d.cases.ts): the op is linear in its input, so the project's
// finite-difference tolerance leaves margin; large inputs are checked on fdSamples random elements.
import { any, b, disposed, T, type Case } from '../helpers/args.js';
import { backendTolerance, fdTolerance, type OpCase } from '../helpers/op-harness.js';

const op = 'resize_bilinear';
const samples = 40;

function resizeBilinear(name: string, shape: [number, number, number, number], Ho: number, Wo: number, fdSamples?: number): OpCase {
  const [N, C] = shape;
  return {
    name,
    op,
    inputs: [{ name: 'x', shape }],
    outputs: [{ name: 'out', shape: [N, C, Ho, Wo] }],
    gradInputs: ['x'],
    forward: (b, i, o) => b.resizeBilinearForward(i.x, o.out),
    backward: (b, _i, go, gr, acc) => b.resizeBilinearBackward(go.out, gr.x, acc),
    backendTolerance,
    fdTolerance,
    fdSamples,
  };
}

export const harness: OpCase[] = [
  resizeBilinear('resizeBilinear 3 -> 6', [2, 3, 3, 3], 6, 6),
  resizeBilinear('resizeBilinear 6 -> 13', [2, 3, 6, 6], 13, 13),
  resizeBilinear('resizeBilinear 13 -> 28', [2, 2, 13, 13], 28, 28, samples),
  resizeBilinear('resizeBilinear down 7 -> 3', [2, 3, 7, 7], 3, 3),
  resizeBilinear('resizeBilinear non-square 4x5 -> 7x3', [2, 2, 4, 5], 7, 3),
  // Rows wider than the 32 columns of the AVX-512 path (resample.h), forward and backward: the general engine.
  resizeBilinear('resizeBilinear wide 3x20 -> 4x40 (its backward reads rows of 40)', [1, 2, 3, 20], 4, 40, samples),
  resizeBilinear('resizeBilinear wide 4x40 -> 3x20', [1, 2, 4, 40], 3, 20, samples),
];

// Valid operands, so that each case breaks exactly one thing: 6 -> 13.
const rx = T([2, 3, 6, 6]);
const rout = T([2, 3, 13, 13]);

export const badArguments: Case[] = [
  // resizeBilinearForward
  ['resizeBilinearForward with 1 argument', () => (b.resizeBilinearForward as Function)(rx), TypeError, 'the arguments of resizeBilinearForward'],
  ['resizeBilinearForward with a disposed x', () => b.resizeBilinearForward(disposed(), rout), TypeError, 'x'],
  ['resizeBilinearForward with 2-D x', () => b.resizeBilinearForward(T([6, 36]), rout), RangeError, 'x'],
  ['resizeBilinearForward with a wrong N in out', () => b.resizeBilinearForward(rx, T([3, 3, 13, 13])), RangeError, 'out'],
  ['resizeBilinearForward with a wrong C in out', () => b.resizeBilinearForward(rx, T([2, 1, 13, 13])), RangeError, 'out'],
  ['resizeBilinearForward with 3-D out', () => b.resizeBilinearForward(rx, T([2, 3, 169])), RangeError, 'out'],
  ['resizeBilinearForward writing into x', () => b.resizeBilinearForward(rx, rx), TypeError, 'out'],
  ['resizeBilinearForward with an object for out', () => b.resizeBilinearForward(rx, any({ shape: [2, 3, 13, 13] })), TypeError, 'out'],
  // resizeBilinearBackward
  ['resizeBilinearBackward with 2 arguments', () => (b.resizeBilinearBackward as Function)(rout, rx), TypeError, 'the arguments of resizeBilinearBackward'],
  ['resizeBilinearBackward with a null gradX', () => b.resizeBilinearBackward(rout, any(null), false), TypeError, 'gradX'],
  ['resizeBilinearBackward with a wrong gradOut', () => b.resizeBilinearBackward(T([2, 4, 13, 13]), rx, false), RangeError, 'gradOut'],
  ['resizeBilinearBackward with 3-D gradX', () => b.resizeBilinearBackward(rout, T([6, 6, 6]), false), RangeError, 'gradX'],
  ['resizeBilinearBackward with undefined accumulate', () => b.resizeBilinearBackward(rout, rx, any(undefined)), TypeError, 'accumulate'],
];

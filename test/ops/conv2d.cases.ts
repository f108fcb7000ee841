// conv2d: harness cases, bad arguments (each call throws a TypeError or RangeError whose message
// names the argument, "... for <name> but received ...", synchronously), and the addon going on working.
// The model's real geometries (28 -> 13 -> 6 -> 3) with small N and few channels, plus non-square
// shapes (to catch swapped axes), one conv with more than 16 images and a reduction longer than
// a GEMM k-block (the weight gradient's fixed split of the images, K = 288 > 256), and one whose
// stride-1 weight gradient takes several padded grids of images per part, and output channel
// counts that fill whole vectors (32) and more than one column tile of the weight gradient (70);
// 1x1 convs both ways (a product per image from 16 pixels on, explicit columns below); a 3x3
// stride-2 conv whose explicit-columns weight gradient sums several groups of images per part;
// phase planes of a padded stride-2 conv and of a stride-3 conv.
// Tolerances: the op is linear in each input, so central finite differences are exact up to
// float32 rounding of the few outputs a perturbed element touches; with eps = 1e-2 that is about
// 1e-4, so the project's abs 2e-3 + rel 2e-3 leaves margin while a missing or misplaced term is off
// by O(0.1). Large inputs are checked on fdSamples random elements to keep the cases fast. The
// backend tolerance is the project's (used where the build has a CUDA kernel for conv2d).
import test from 'ava';

import { any, b, disposed, T, type Case } from '../helpers/args.js';
import { backendTolerance, fdTolerance, type OpCase } from '../helpers/op-harness.js';

const op = 'conv2d';
const samples = 40;

export interface ConvGeometry {
  N: number;
  Ci: number;
  Co: number;
  H: number;
  W: number;
  kh: number;
  kw: number;
  stride: number;
}

function conv2d(name: string, g: ConvGeometry & { padTop: number; padLeft: number; Ho: number; Wo: number }, fdSamples?: number): OpCase {
  const { N, Ci, Co, H, W, kh, kw, stride, padTop, padLeft, Ho, Wo } = g;
  return {
    name,
    op,
    inputs: [
      { name: 'x', shape: [N, Ci, H, W] },
      { name: 'weight', shape: [Co, Ci, kh, kw] },
    ],
    outputs: [{ name: 'out', shape: [N, Co, Ho, Wo] }],
    gradInputs: ['x', 'weight'],
    forward: (b, i, o) => b.conv2dForward(i.x, i.weight, o.out, stride, padTop, padLeft),
    backward: (b, i, go, gr, acc) => b.conv2dBackward(i.x, i.weight, go.out, gr.x, gr.weight, stride, padTop, padLeft, acc),
    backendTolerance,
    fdTolerance,
    fdSamples,
  };
}

export const harness: OpCase[] = [
  conv2d('conv2d 4x4 stride 2 valid, 28 -> 13', { N: 2, Ci: 1, Co: 4, H: 28, W: 28, kh: 4, kw: 4, stride: 2, padTop: 0, padLeft: 0, Ho: 13, Wo: 13 }, samples),
  conv2d('conv2d 3x3 stride 2 valid, 13 -> 6', { N: 2, Ci: 4, Co: 5, H: 13, W: 13, kh: 3, kw: 3, stride: 2, padTop: 0, padLeft: 0, Ho: 6, Wo: 6 }, samples),
  conv2d('conv2d 2x2 stride 2 valid, 6 -> 3', { N: 3, Ci: 3, Co: 4, H: 6, W: 6, kh: 2, kw: 2, stride: 2, padTop: 0, padLeft: 0, Ho: 3, Wo: 3 }),
  conv2d('conv2d 3x3 same (pad 1), 13 -> 13', { N: 2, Ci: 3, Co: 4, H: 13, W: 13, kh: 3, kw: 3, stride: 1, padTop: 1, padLeft: 1, Ho: 13, Wo: 13 }, samples),
  conv2d('conv2d 2x2 same (pad 0, one zero row and column after), 3 -> 3', { N: 2, Ci: 3, Co: 5, H: 3, W: 3, kh: 2, kw: 2, stride: 1, padTop: 0, padLeft: 0, Ho: 3, Wo: 3 }),
  conv2d('conv2d 1x1', { N: 2, Ci: 5, Co: 3, H: 6, W: 6, kh: 1, kw: 1, stride: 1, padTop: 0, padLeft: 0, Ho: 6, Wo: 6 }),
  conv2d('conv2d 1x1, 9 output channels at 5x7 (the per-image product: blocks of 4 channels by 16 pixels, and tails)', { N: 3, Ci: 6, Co: 9, H: 5, W: 7, kh: 1, kw: 1, stride: 1, padTop: 0, padLeft: 0, Ho: 5, Wo: 7 }),
  conv2d('conv2d 1x1 at 3x3 (under 16 pixels: explicit columns)', { N: 3, Ci: 4, Co: 5, H: 3, W: 3, kh: 1, kw: 1, stride: 1, padTop: 0, padLeft: 0, Ho: 3, Wo: 3 }),
  conv2d('conv2d non-square 3x2 kernel stride 2, pads 1 and 1, 5x7 -> 3x4', { N: 2, Ci: 2, Co: 3, H: 5, W: 7, kh: 3, kw: 2, stride: 2, padTop: 1, padLeft: 1, Ho: 3, Wo: 4 }),
  conv2d('conv2d 19 images, K = 288, same 3x3 at 5x5', { N: 19, Ci: 32, Co: 3, H: 5, W: 5, kh: 3, kw: 3, stride: 1, padTop: 1, padLeft: 1, Ho: 5, Wo: 5 }, 24),
  conv2d('conv2d stride 1, non-square 3x2 kernel, pads 2 and 1, 5x7 -> 4x6 (rows and columns of x unused)', { N: 3, Ci: 2, Co: 3, H: 5, W: 7, kh: 3, kw: 2, stride: 1, padTop: 2, padLeft: 1, Ho: 4, Wo: 6 }),
  conv2d('conv2d 32 output channels (the weight gradient reads whole vectors of them in place)', { N: 3, Ci: 4, Co: 32, H: 6, W: 6, kh: 3, kw: 3, stride: 1, padTop: 1, padLeft: 1, Ho: 6, Wo: 6 }, samples),
  conv2d('conv2d 70 output channels, 3x3 stride 2 (two column tiles of the weight gradient, one partial)', { N: 2, Ci: 3, Co: 70, H: 5, W: 5, kh: 3, kw: 3, stride: 2, padTop: 0, padLeft: 0, Ho: 2, Wo: 2 }, samples),
  conv2d('conv2d 3x3 stride 2, 33 -> 16, 40 images (explicit columns: several groups of images per part of the weight gradient)', { N: 40, Ci: 2, Co: 3, H: 33, W: 33, kh: 3, kw: 3, stride: 2, padTop: 0, padLeft: 0, Ho: 16, Wo: 16 }, 24),
  conv2d('conv2d same 3x3 at 28x28, 4 -> 9 channels (on AVX-512 Winograd\'s F(2x2, 3x3): transforms, a partial block of channels)', { N: 2, Ci: 4, Co: 9, H: 28, W: 28, kh: 3, kw: 3, stride: 1, padTop: 1, padLeft: 1, Ho: 28, Wo: 28 }, samples),
  conv2d('conv2d same 3x3 at 21x20, 18 images, 5 -> 4 channels (Winograd: a half tile row; the weight gradient over parts of the images)', { N: 18, Ci: 5, Co: 4, H: 21, W: 20, kh: 3, kw: 3, stride: 1, padTop: 1, padLeft: 1, Ho: 21, Wo: 20 }, 24),
  conv2d('conv2d 50 images, same 3x3 at 28x28 (several padded grids per part of the weight gradient)', { N: 50, Ci: 2, Co: 3, H: 28, W: 28, kh: 3, kw: 3, stride: 1, padTop: 1, padLeft: 1, Ho: 28, Wo: 28 }, 24),
  conv2d('conv2d 4x4 stride 2, pads 1 and 1, 13x11 -> 6x5 (phase planes with a padded first column)', { N: 2, Ci: 3, Co: 4, H: 13, W: 11, kh: 4, kw: 4, stride: 2, padTop: 1, padLeft: 1, Ho: 6, Wo: 5 }, samples),
  conv2d('conv2d 4x4 stride 2, pads 1 and 2, 17x30 -> 8x15, 3 -> 9 channels (on AVX-512 phase planes of 16 columns, a plane row a vector; a partial block of channels)', { N: 2, Ci: 3, Co: 9, H: 17, W: 30, kh: 4, kw: 4, stride: 2, padTop: 1, padLeft: 2, Ho: 8, Wo: 15 }, samples),
  conv2d('conv2d 3x3 stride 3, pads 1 and 2, 14x13 -> 5x5 (nine phase planes)', { N: 2, Ci: 2, Co: 3, H: 14, W: 13, kh: 3, kw: 3, stride: 3, padTop: 1, padLeft: 2, Ho: 5, Wo: 5 }, samples),
  conv2d('conv2d 2x2 stride 3, pad 1 on top, 8x7 -> 3x2 (explicit columns at stride 3)', { N: 2, Ci: 2, Co: 3, H: 8, W: 7, kh: 2, kw: 2, stride: 3, padTop: 1, padLeft: 0, Ho: 3, Wo: 2 }),
];

// Valid operands, so that each case breaks exactly one thing: SAME 3x3 on 8x8.
const x = T([2, 3, 8, 8]);
const w = T([4, 3, 3, 3]);
const out = T([2, 4, 8, 8]);

export const badArguments: Case[] = [
  // conv2dForward
  ['conv2dForward with 5 arguments', () => (b.conv2dForward as Function)(x, w, out, 1, 1), TypeError, 'the arguments of conv2dForward'],
  ['conv2dForward with a Float32Array for x', () => b.conv2dForward(any(new Float32Array(384)), w, out, 1, 1, 1), TypeError, 'x'],
  ['conv2dForward with a number for weight', () => b.conv2dForward(x, any(3), out, 1, 1, 1), TypeError, 'weight'],
  ['conv2dForward with a disposed x', () => b.conv2dForward(disposed(), w, out, 1, 1, 1), TypeError, 'x'],
  ['conv2dForward with a disposed out', () => b.conv2dForward(x, w, disposed(), 1, 1, 1), TypeError, 'out'],
  ['conv2dForward with 3-D x', () => b.conv2dForward(T([3, 8, 8]), w, out, 1, 1, 1), RangeError, 'x'],
  ['conv2dForward with 3-D weight', () => b.conv2dForward(x, T([4, 3, 9]), out, 1, 1, 1), RangeError, 'weight'],
  ['conv2dForward with mismatched Ci', () => b.conv2dForward(x, T([4, 2, 3, 3]), out, 1, 1, 1), RangeError, 'weight'],
  ['conv2dForward with a wrong N in out', () => b.conv2dForward(x, w, T([3, 4, 8, 8]), 1, 1, 1), RangeError, 'out'],
  ['conv2dForward with a wrong Co in out', () => b.conv2dForward(x, w, T([2, 5, 8, 8]), 1, 1, 1), RangeError, 'out'],
  ['conv2dForward with 3-D out', () => b.conv2dForward(x, w, T([2, 4, 64]), 1, 1, 1), RangeError, 'out'],
  ['conv2dForward with a window past the bottom', () => b.conv2dForward(x, w, T([2, 4, 10, 8]), 1, 1, 1), RangeError, 'out'],
  ['conv2dForward with a window past the right', () => b.conv2dForward(x, w, T([2, 4, 3, 5]), 2, 0, 0), RangeError, 'out'],
  ['conv2dForward writing into x', () => b.conv2dForward(x, w, x, 1, 1, 1), TypeError, 'out'],
  ['conv2dForward with stride 0', () => b.conv2dForward(x, w, out, 0, 1, 1), RangeError, 'stride'],
  ['conv2dForward with stride -1', () => b.conv2dForward(x, w, out, -1, 1, 1), RangeError, 'stride'],
  ['conv2dForward with stride 1.5', () => b.conv2dForward(x, w, out, 1.5, 1, 1), RangeError, 'stride'],
  ['conv2dForward with stride NaN', () => b.conv2dForward(x, w, out, Number.NaN, 1, 1), RangeError, 'stride'],
  ['conv2dForward with stride Infinity', () => b.conv2dForward(x, w, out, Infinity, 1, 1), RangeError, 'stride'],
  ['conv2dForward with stride 1e12', () => b.conv2dForward(x, w, out, 1e12, 1, 1), RangeError, 'stride'],
  ['conv2dForward with stride "1"', () => b.conv2dForward(x, w, out, any('1'), 1, 1), TypeError, 'stride'],
  ['conv2dForward with stride null', () => b.conv2dForward(x, w, out, any(null), 1, 1), TypeError, 'stride'],
  ['conv2dForward with padTop = kh', () => b.conv2dForward(x, w, out, 1, 3, 1), RangeError, 'padTop'],
  ['conv2dForward with padTop -1', () => b.conv2dForward(x, w, out, 1, -1, 1), RangeError, 'padTop'],
  ['conv2dForward with padTop 0.5', () => b.conv2dForward(x, w, out, 1, 0.5, 1), RangeError, 'padTop'],
  ['conv2dForward with padTop NaN', () => b.conv2dForward(x, w, out, 1, Number.NaN, 1), RangeError, 'padTop'],
  ['conv2dForward with padLeft = kw', () => b.conv2dForward(x, w, out, 1, 1, 3), RangeError, 'padLeft'],
  ['conv2dForward with padLeft -1e15', () => b.conv2dForward(x, w, out, 1, 1, -1e15), RangeError, 'padLeft'],
  ['conv2dForward with padLeft true', () => b.conv2dForward(x, w, out, 1, 1, any(true)), TypeError, 'padLeft'],
  // conv2dBackward
  ['conv2dBackward with 8 arguments', () => (b.conv2dBackward as Function)(x, w, out, null, null, 1, 1, 1), TypeError, 'the arguments of conv2dBackward'],
  ['conv2dBackward with a non-boolean accumulate', () => b.conv2dBackward(x, w, out, null, null, 1, 1, 1, any(1)), TypeError, 'accumulate'],
  ['conv2dBackward with a wrong gradOut', () => b.conv2dBackward(x, w, T([2, 5, 8, 8]), null, null, 1, 1, 1, false), RangeError, 'gradOut'],
  ['conv2dBackward with a disposed gradOut', () => b.conv2dBackward(x, w, disposed(), null, null, 1, 1, 1, false), TypeError, 'gradOut'],
  ['conv2dBackward with a wrong gradX', () => b.conv2dBackward(x, w, out, T([2, 3, 8, 7]), null, 1, 1, 1, false), RangeError, 'gradX'],
  ['conv2dBackward with a wrong gradWeight', () => b.conv2dBackward(x, w, out, null, T([4, 3, 2, 2]), 1, 1, 1, false), RangeError, 'gradWeight'],
  ['conv2dBackward with gradX aliasing x', () => b.conv2dBackward(x, w, out, x, null, 1, 1, 1, false), TypeError, 'gradX'],
  ['conv2dBackward with gradWeight a string', () => b.conv2dBackward(x, w, out, null, any('gw'), 1, 1, 1, false), TypeError, 'gradWeight'],
  ['conv2dBackward with stride NaN', () => b.conv2dBackward(x, w, out, null, null, Number.NaN, 1, 1, false), RangeError, 'stride'],
  ['conv2dBackward with padTop 7', () => b.conv2dBackward(x, w, out, null, null, 1, 7, 1, false), RangeError, 'padTop'],
  ['conv2dBackward with padLeft 2.5', () => b.conv2dBackward(x, w, out, null, null, 1, 1, 2.5, false), RangeError, 'padLeft'],
];

export function extraTests(): void {
  test('conv2d: the addon still works after every bad call', async (t) => {
    await x.fill(1);
    await w.fill(1);
    await b.conv2dForward(x, w, out, 1, 1, 1);
    const y = await out.read();
    // SAME 3x3 of ones over 3 channels: 27 inside, 18 on an edge, 12 in a corner.
    t.is(y[0], 12);
    t.is(y[1], 18);
    t.is(y[9], 27);
  });
}

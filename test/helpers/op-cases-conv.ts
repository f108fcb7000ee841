// Harness cases for the conv encoder and decoder: conv2d, transposed conv2d, average pooling, bilinear resize, elementwise add/accumulate.
// The model's real geometries (28 -> 13 -> 6 -> 3 and back) with small N and few channels, plus
// non-square shapes (to catch swapped axes) and one conv with more than 16 images and a reduction
// longer than a GEMM k-block (the weight gradient's fixed split of the images, K = 288 > 256).
// Tolerances: every op here is linear in each input, so central finite differences are exact up to
// float32 rounding of the few outputs a perturbed element touches; with eps = 1e-2 that is about
// 1e-4, so the project's abs 2e-3 + rel 2e-3 leaves margin while a missing or misplaced term is off
// by O(0.1). Large inputs are checked on fdSamples random elements to keep the family fast. There
// is no CUDA kernel yet (cuda: false), so the backend tolerance is unused.
import type { OpCase } from './op-harness.js';

const fd = { abs: 2e-3, rel: 2e-3, eps: 1e-2 };
const backend = { abs: 1e-4, rel: 1e-4 };
const samples = 40;

interface ConvGeometry {
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
    inputs: [
      { name: 'x', shape: [N, Ci, H, W] },
      { name: 'weight', shape: [Co, Ci, kh, kw] },
    ],
    outputs: [{ name: 'out', shape: [N, Co, Ho, Wo] }],
    cuda: false,
    gradInputs: ['x', 'weight'],
    forward: (b, i, o) => b.conv2dForward(i.x, i.weight, o.out, stride, padTop, padLeft),
    backward: (b, i, go, gr, acc) => b.conv2dBackward(i.x, i.weight, go.out, gr.x, gr.weight, stride, padTop, padLeft, acc),
    backendTolerance: backend,
    fdTolerance: fd,
    fdSamples,
  };
}

function convTranspose2d(name: string, g: ConvGeometry, fdSamples?: number): OpCase {
  const { N, Ci, Co, H, W, kh, kw, stride } = g;
  return {
    name,
    inputs: [
      { name: 'x', shape: [N, Ci, H, W] },
      { name: 'weight', shape: [Ci, Co, kh, kw] },
    ],
    outputs: [{ name: 'out', shape: [N, Co, (H - 1) * stride + kh, (W - 1) * stride + kw] }],
    cuda: false,
    gradInputs: ['x', 'weight'],
    forward: (b, i, o) => b.convTranspose2dForward(i.x, i.weight, o.out, stride),
    backward: (b, i, go, gr, acc) => b.convTranspose2dBackward(i.x, i.weight, go.out, gr.x, gr.weight, stride, acc),
    backendTolerance: backend,
    fdTolerance: fd,
    fdSamples,
  };
}

function avgPool2d(name: string, shape: [number, number, number, number], kernel: number, stride: number, fdSamples?: number): OpCase {
  const [N, C, H, W] = shape;
  const out = [N, C, Math.floor((H - kernel) / stride) + 1, Math.floor((W - kernel) / stride) + 1];
  return {
    name,
    inputs: [{ name: 'x', shape }],
    outputs: [{ name: 'out', shape: out }],
    cuda: false,
    gradInputs: ['x'],
    forward: (b, i, o) => b.avgPool2dForward(i.x, o.out, kernel, stride),
    backward: (b, _i, go, gr, acc) => b.avgPool2dBackward(go.out, gr.x, kernel, stride, acc),
    backendTolerance: backend,
    fdTolerance: fd,
    fdSamples,
  };
}

function resizeBilinear(name: string, shape: [number, number, number, number], Ho: number, Wo: number, fdSamples?: number): OpCase {
  const [N, C] = shape;
  return {
    name,
    inputs: [{ name: 'x', shape }],
    outputs: [{ name: 'out', shape: [N, C, Ho, Wo] }],
    cuda: false,
    gradInputs: ['x'],
    forward: (b, i, o) => b.resizeBilinearForward(i.x, o.out),
    backward: (b, _i, go, gr, acc) => b.resizeBilinearBackward(go.out, gr.x, acc),
    backendTolerance: backend,
    fdTolerance: fd,
    fdSamples,
  };
}

const add: OpCase = {
  name: 'add',
  inputs: [
    { name: 'a', shape: [2, 3, 4, 5] },
    { name: 'b', shape: [2, 3, 4, 5] },
  ],
  outputs: [{ name: 'out', shape: [2, 3, 4, 5] }],
  cuda: false,
  gradInputs: ['a', 'b'],
  forward: (b, i, o) => b.addForward(i.a, i.b, o.out),
  backward: async (b, _i, go, gr, acc) => {
    await b.addScaled(go.out, 1, gr.a, acc);
    await b.addScaled(go.out, 1, gr.b, acc);
  },
  backendTolerance: backend,
  fdTolerance: fd,
};

const addScaled: OpCase = {
  name: 'addScaled',
  inputs: [{ name: 'x', shape: [3, 7, 5] }],
  outputs: [{ name: 'out', shape: [3, 7, 5] }],
  cuda: false,
  gradInputs: ['x'],
  forward: (b, i, o) => b.addScaled(i.x, -0.7, o.out, false),
  backward: (b, _i, go, gr, acc) => b.addScaled(go.out, -0.7, gr.x, acc),
  backendTolerance: backend,
  fdTolerance: fd,
};

export const convCases: OpCase[] = [
  conv2d('conv2d 4x4 stride 2 valid, 28 -> 13', { N: 2, Ci: 1, Co: 4, H: 28, W: 28, kh: 4, kw: 4, stride: 2, padTop: 0, padLeft: 0, Ho: 13, Wo: 13 }, samples),
  conv2d('conv2d 3x3 stride 2 valid, 13 -> 6', { N: 2, Ci: 4, Co: 5, H: 13, W: 13, kh: 3, kw: 3, stride: 2, padTop: 0, padLeft: 0, Ho: 6, Wo: 6 }, samples),
  conv2d('conv2d 2x2 stride 2 valid, 6 -> 3', { N: 3, Ci: 3, Co: 4, H: 6, W: 6, kh: 2, kw: 2, stride: 2, padTop: 0, padLeft: 0, Ho: 3, Wo: 3 }),
  conv2d('conv2d 3x3 same (pad 1), 13 -> 13', { N: 2, Ci: 3, Co: 4, H: 13, W: 13, kh: 3, kw: 3, stride: 1, padTop: 1, padLeft: 1, Ho: 13, Wo: 13 }, samples),
  conv2d('conv2d 2x2 same (pad 0, one zero row and column after), 3 -> 3', { N: 2, Ci: 3, Co: 5, H: 3, W: 3, kh: 2, kw: 2, stride: 1, padTop: 0, padLeft: 0, Ho: 3, Wo: 3 }),
  conv2d('conv2d 1x1', { N: 2, Ci: 5, Co: 3, H: 6, W: 6, kh: 1, kw: 1, stride: 1, padTop: 0, padLeft: 0, Ho: 6, Wo: 6 }),
  conv2d('conv2d non-square 3x2 kernel stride 2, pads 1 and 1, 5x7 -> 3x4', { N: 2, Ci: 2, Co: 3, H: 5, W: 7, kh: 3, kw: 2, stride: 2, padTop: 1, padLeft: 1, Ho: 3, Wo: 4 }),
  conv2d('conv2d 19 images, K = 288, same 3x3 at 5x5', { N: 19, Ci: 32, Co: 3, H: 5, W: 5, kh: 3, kw: 3, stride: 1, padTop: 1, padLeft: 1, Ho: 5, Wo: 5 }, 24),
  convTranspose2d('convTranspose2d 2x2 stride 2, 3 -> 6', { N: 2, Ci: 4, Co: 3, H: 3, W: 3, kh: 2, kw: 2, stride: 2 }),
  convTranspose2d('convTranspose2d 3x3 stride 2, 6 -> 13', { N: 2, Ci: 3, Co: 4, H: 6, W: 6, kh: 3, kw: 3, stride: 2 }, samples),
  convTranspose2d('convTranspose2d 4x4 stride 2, 13 -> 28', { N: 2, Ci: 4, Co: 1, H: 13, W: 13, kh: 4, kw: 4, stride: 2 }, samples),
  convTranspose2d('convTranspose2d 1x1 stride 1', { N: 2, Ci: 5, Co: 3, H: 4, W: 4, kh: 1, kw: 1, stride: 1 }),
  convTranspose2d('convTranspose2d non-square 2x3 kernel stride 2, 3x4 -> 6x9', { N: 2, Ci: 2, Co: 3, H: 3, W: 4, kh: 2, kw: 3, stride: 2 }),
  avgPool2d('avgPool2d 4 stride 2, 28 -> 13', [2, 3, 28, 28], 4, 2, samples),
  avgPool2d('avgPool2d 3 stride 2, 13 -> 6', [2, 3, 13, 13], 3, 2, samples),
  avgPool2d('avgPool2d 2 stride 2, 6 -> 3', [3, 2, 6, 6], 2, 2),
  avgPool2d('avgPool2d non-square 3 stride 1, 4x6 -> 2x4', [2, 2, 4, 6], 3, 1),
  resizeBilinear('resizeBilinear 3 -> 6', [2, 3, 3, 3], 6, 6),
  resizeBilinear('resizeBilinear 6 -> 13', [2, 3, 6, 6], 13, 13),
  resizeBilinear('resizeBilinear 13 -> 28', [2, 2, 13, 13], 28, 28, samples),
  resizeBilinear('resizeBilinear down 7 -> 3', [2, 3, 7, 7], 3, 3),
  resizeBilinear('resizeBilinear non-square 4x5 -> 7x3', [2, 2, 4, 5], 7, 3),
  add,
  addScaled,
];

// Pins the conventions of the conv family against float64 direct loops written here from the
// contracts (not from the kernels): conv2d padding (VALID, SAME 3x3, SAME 2x2 with its zero row and
// column after the end), the transposed conv's scatter, average pooling, and TensorFlow 1.x bilinear
// resize; a few hand-computed values; and thread-count independence of the reductions.
import test from 'ava';

import { Rng } from '../src/data/rng.js';
import { loadBinding, type NativeTensor } from '../src/native/binding.js';
import { compare } from './helpers/op-harness.js';

const b = loadBinding();
const rng = new Rng(17);
const rand = (n: number) => Float64Array.from({ length: n }, () => Math.fround(2 * rng.nextFloat() - 1));
const size = (shape: number[]) => shape.reduce((p, q) => p * q, 1);

/** Runs `call` on CPU tensors holding `inputs` and a NaN-poisoned output of `outShape`; returns the output. */
async function run(inputs: [Float64Array, number[]][], outShape: number[], call: (ts: NativeTensor[], out: NativeTensor) => Promise<void>) {
  const ts = inputs.map(([data, shape]) => b.createTensor(shape, 'cpu', Float32Array.from(data)));
  const out = b.createTensor(outShape, 'cpu');
  try {
    await out.fill(Number.NaN);
    await call(ts, out);
    return await out.read();
  } finally {
    for (const t of [...ts, out]) t.dispose();
  }
}

// Float32 sums of up to a few hundred products of magnitude <= 1 against float64.
const tol = { abs: 3e-5, rel: 1e-5 };

interface Conv {
  N: number;
  Ci: number;
  H: number;
  W: number;
  Co: number;
  k: number;
  stride: number;
  pad: number;
  Ho: number;
}

// out[n,co,i,j] = sum over ci,a,b of w[co,ci,a,b] x[n,ci,i*s-pad+a, j*s-pad+b], zero outside x.
function conv2dRef(x: Float64Array, w: Float64Array, g: Conv): Float64Array {
  const { N, Ci, H, W, Co, k, stride, pad, Ho } = g;
  const out = new Float64Array(N * Co * Ho * Ho);
  for (let n = 0; n < N; n++)
    for (let co = 0; co < Co; co++)
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Ho; j++) {
          let s = 0;
          for (let ci = 0; ci < Ci; ci++)
            for (let a = 0; a < k; a++)
              for (let c = 0; c < k; c++) {
                const y = i * stride - pad + a;
                const xx = j * stride - pad + c;
                if (y < 0 || y >= H || xx < 0 || xx >= W) continue;
                s += w[((co * Ci + ci) * k + a) * k + c] * x[((n * Ci + ci) * H + y) * W + xx];
              }
          out[((n * Co + co) * Ho + i) * Ho + j] = s;
        }
  return out;
}

for (const [title, g] of [
  ['VALID 4x4 stride 2, 28 -> 13', { N: 2, Ci: 1, H: 28, W: 28, Co: 4, k: 4, stride: 2, pad: 0, Ho: 13 }],
  ['VALID 4x4 stride 2, 28 -> 13, 16 channels (the decoder\'s transposed conv\'s input gradient)', { N: 3, Ci: 16, H: 28, W: 28, Co: 16, k: 4, stride: 2, pad: 0, Ho: 13 }],
  ['VALID 3x3 stride 2, 13 -> 6', { N: 2, Ci: 5, H: 13, W: 13, Co: 6, k: 3, stride: 2, pad: 0, Ho: 6 }],
  ['SAME 3x3 (pad 1), 13 -> 13', { N: 3, Ci: 8, H: 13, W: 13, Co: 6, k: 3, stride: 1, pad: 1, Ho: 13 }],
  ['4x4 stride 2 (pad 1), 13 -> 6', { N: 2, Ci: 3, H: 13, W: 13, Co: 4, k: 4, stride: 2, pad: 1, Ho: 6 }],
  ['3x3 stride 3 (pad 1), 14 -> 5', { N: 2, Ci: 2, H: 14, W: 14, Co: 3, k: 3, stride: 3, pad: 1, Ho: 5 }],
  ['SAME 2x2 (pad 0 before, 1 after), 3 -> 3', { N: 2, Ci: 7, H: 3, W: 3, Co: 5, k: 2, stride: 1, pad: 0, Ho: 3 }],
  ['SAME 3x3 with K = 576 over 20 images, 6 -> 6', { N: 20, Ci: 64, H: 6, W: 6, Co: 9, k: 3, stride: 1, pad: 1, Ho: 6 }],
] as [string, Conv][]) {
  test(`conv2dForward ${title} equals the float64 loop`, async (t) => {
    const x = rand(g.N * g.Ci * g.H * g.W);
    const w = rand(g.Co * g.Ci * g.k * g.k);
    const got = await run(
      [
        [x, [g.N, g.Ci, g.H, g.W]],
        [w, [g.Co, g.Ci, g.k, g.k]],
      ],
      [g.N, g.Co, g.Ho, g.Ho],
      ([tx, tw], out) => b.conv2dForward(tx, tw, out, g.stride, g.pad, g.pad),
    );
    t.deepEqual(compare('out', got, Float32Array.from(conv2dRef(x, w, g)), tol), []);
  });
}

// Stride-1 convs whose output is the input's size (and two stride-2 convs, last), on non-square
// images: the flat-run kernel
// (AVX-512) masks each tap at the image's edges, runs 3, 2 or 1 vectors of 16 pixels together,
// blocks 8 output channels, and starts a new partial sum every 256 products; 3x3 kernels on
// images of 400 pixels or more with 4 channels or more take Winograd's F(2x2, 3x3) (AVX-512) in
// all three passes. Forward, the input gradient added onto what was there, and the weight
// gradient, against float64 loops. The weight gradient sums N * Ho * Wo products per element (up to
// 7200 here, 18 images of 20 x 20), so its tolerance is 4x the others'.
for (const [title, g] of [
  ['5x3 kernel, pads 2 and 1, 9x13, K = 450 (two slices), 11 output channels (a block and a partial one)', { N: 3, Ci: 30, Co: 11, H: 9, W: 13, kh: 5, kw: 3, pt: 2, pl: 1 }],
  ['2x2, pads 0 (one zero row and column after), 7x10', { N: 2, Ci: 6, Co: 8, H: 7, W: 10, kh: 2, kw: 2, pt: 0, pl: 0 }],
  ['3x3, pads 1, 16x16 (16 runs: five of 3, the last four as two of 2)', { N: 2, Ci: 5, Co: 17, H: 16, W: 16, kh: 3, kw: 3, pt: 1, pl: 1 }],
  ['3x3, pads 1, 5x4 (two runs, the last of 4 pixels)', { N: 4, Ci: 9, Co: 3, H: 5, W: 4, kh: 3, kw: 3, pt: 1, pl: 1 }],
  ['3x3, pads 1, 28x28, 16 channels (Winograd: the model\'s decoder block)', { N: 2, Ci: 16, Co: 16, H: 28, W: 28, kh: 3, kw: 3, pt: 1, pl: 1 }],
  ['3x3, pads 1, 21x30, 5 -> 11 channels (Winograd: a last tile row half outside, 15 tiles a row, a partial block of channels)', { N: 2, Ci: 5, Co: 11, H: 21, W: 30, kh: 3, kw: 3, pt: 1, pl: 1 }],
  ['3x3, pads 1, 20x20, 18 images, 4 -> 6 channels (Winograd\'s smallest; the weight gradient over 16 parts of the images)', { N: 18, Ci: 4, Co: 6, H: 20, W: 20, kh: 3, kw: 3, pt: 1, pl: 1 }],
  ['3x3, pads 1, 20x20, 5 -> 20 channels (Winograd with more output channels than lanes: its weight gradient by lane sums)', { N: 3, Ci: 5, Co: 20, H: 20, W: 20, kh: 3, kw: 3, pt: 1, pl: 1 }],
  // Stride 2, kernels of even sides, phase planes of 8 to 16 columns: on AVX-512 a plane row is one
  // vector (forward and input gradient), and the weight gradient holds the output channels in lanes.
  ['4x4 stride 2, 28 -> 13, 18 images, 16 channels (the decoder\'s 13 -> 28 transposed conv seen as the conv it is the input gradient of)', { N: 18, Ci: 16, Co: 16, H: 28, W: 28, kh: 4, kw: 4, pt: 0, pl: 0, s: 2, Ho: 13, Wo: 13 }],
  ['4x4 stride 2, pads 1 and 2, 17x30 -> 8x15, 3 -> 9 channels (planes of 16 columns; fewer channels than lanes)', { N: 3, Ci: 3, Co: 9, H: 17, W: 30, kh: 4, kw: 4, pt: 1, pl: 2, s: 2, Ho: 8, Wo: 15 }],
] as [string, { N: number; Ci: number; Co: number; H: number; W: number; kh: number; kw: number; pt: number; pl: number; s?: number; Ho?: number; Wo?: number }][]) {
  test(`conv2d ${g.s ? '' : 'same size, '}${title}: forward and both gradients equal the float64 loops`, async (t) => {
    const { N, Ci, Co, H, W, kh, kw, pt, pl, s = 1, Ho = H, Wo = W } = g;
    const x = rand(N * Ci * H * W), w = rand(Co * Ci * kh * kw), dy = rand(N * Co * Ho * Wo), before = rand(N * Ci * H * W);
    const want = new Float64Array(N * Co * Ho * Wo), wantDx = Float64Array.from(before), wantDw = new Float64Array(Co * Ci * kh * kw);
    for (let n = 0; n < N; n++)
      for (let co = 0; co < Co; co++)
        for (let ci = 0; ci < Ci; ci++)
          for (let a = 0; a < kh; a++)
            for (let c = 0; c < kw; c++)
              for (let i = 0; i < Ho; i++)
                for (let j = 0; j < Wo; j++) {
                  const y = i * s - pt + a, xx = j * s - pl + c;
                  if (y < 0 || y >= H || xx < 0 || xx >= W) continue;
                  const k = ((co * Ci + ci) * kh + a) * kw + c, at = ((n * Ci + ci) * H + y) * W + xx, o = ((n * Co + co) * Ho + i) * Wo + j;
                  want[o] += w[k] * x[at];
                  wantDx[at] += w[k] * dy[o];
                  wantDw[k] += x[at] * dy[o];
                }
    const shapes = { x: [N, Ci, H, W], w: [Co, Ci, kh, kw], y: [N, Co, Ho, Wo] };
    const got = await run([[x, shapes.x], [w, shapes.w]], shapes.y, ([tx, tw], out) => b.conv2dForward(tx, tw, out, s, pt, pl));
    t.deepEqual(compare('out', got, Float32Array.from(want), tol), []);
    const gotDx = await run([[x, shapes.x], [w, shapes.w], [dy, shapes.y]], shapes.x, async ([tx, tw, tdy], dx) => {
      await dx.write(Float32Array.from(before));
      await b.conv2dBackward(tx, tw, tdy, dx, null, s, pt, pl, true);
    });
    t.deepEqual(compare('dx', gotDx, Float32Array.from(wantDx), tol), []);
    const gotDw = await run([[x, shapes.x], [w, shapes.w], [dy, shapes.y]], shapes.w, ([tx, tw, tdy], dw) => b.conv2dBackward(tx, tw, tdy, null, dw, s, pt, pl, false));
    t.deepEqual(compare('dw', gotDw, Float32Array.from(wantDw), { abs: 4 * tol.abs, rel: 4 * tol.rel }), []);
  });
}

// out[n,co,i*s+a,j*s+b] += x[n,ci,i,j] w[ci,co,a,b]
function convTransposeRef(x: Float64Array, w: Float64Array, N: number, Ci: number, H: number, Co: number, k: number, s: number) {
  const Ho = (H - 1) * s + k;
  const out = new Float64Array(N * Co * Ho * Ho);
  for (let n = 0; n < N; n++)
    for (let ci = 0; ci < Ci; ci++)
      for (let i = 0; i < H; i++)
        for (let j = 0; j < H; j++)
          for (let co = 0; co < Co; co++)
            for (let a = 0; a < k; a++)
              for (let c = 0; c < k; c++)
                out[((n * Co + co) * Ho + i * s + a) * Ho + j * s + c] += x[((n * Ci + ci) * H + i) * H + j] * w[((ci * Co + co) * k + a) * k + c];
  return out;
}

for (const [N, Ci, H, Co, k, s] of [
  [2, 4, 3, 3, 2, 2],
  [2, 3, 6, 4, 3, 2],
  [2, 5, 13, 1, 4, 2],
  [3, 16, 13, 16, 4, 2],
  [3, 6, 4, 2, 1, 1],
  [2, 2, 4, 3, 3, 1],
  [2, 3, 5, 2, 3, 3],
]) {
  const Ho = (H - 1) * s + k;
  test(`convTranspose2dForward ${k}x${k} stride ${s}, ${H} -> ${Ho}, ${Ci} -> ${Co} channels equals the float64 scatter`, async (t) => {
    const x = rand(N * Ci * H * H);
    const w = rand(Ci * Co * k * k);
    const got = await run(
      [
        [x, [N, Ci, H, H]],
        [w, [Ci, Co, k, k]],
      ],
      [N, Co, Ho, Ho],
      ([tx, tw], out) => b.convTranspose2dForward(tx, tw, out, s),
    );
    t.deepEqual(compare('out', got, Float32Array.from(convTransposeRef(x, w, N, Ci, H, Co, k, s)), tol), []);
  });
}

for (const [H, k, s] of [
  [28, 4, 2],
  [13, 3, 2],
  [6, 2, 2],
  [7, 3, 3],
]) {
  const Ho = Math.floor((H - k) / s) + 1;
  test(`avgPool2dForward ${k} stride ${s}, ${H} -> ${Ho} equals the float64 window mean`, async (t) => {
    const [N, C] = [2, 3];
    const x = rand(N * C * H * H);
    const want = new Float32Array(N * C * Ho * Ho);
    for (let p = 0; p < N * C; p++)
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Ho; j++) {
          let sum = 0;
          for (let a = 0; a < k; a++) for (let c = 0; c < k; c++) sum += x[(p * H + i * s + a) * H + j * s + c];
          want[(p * Ho + i) * Ho + j] = sum / (k * k);
        }
    const got = await run([[x, [N, C, H, H]]], [N, C, Ho, Ho], ([tx], out) => b.avgPool2dForward(tx, out, k, s));
    t.deepEqual(compare('out', got, want, { abs: 1e-6, rel: 1e-6 }), []);
  });
}

for (const [H, W, Ho, Wo] of [
  [3, 3, 6, 6],
  [6, 6, 13, 13],
  [13, 13, 28, 28],
  [7, 7, 3, 3],
  [4, 5, 7, 3],
]) {
  test(`resizeBilinearForward ${H}x${W} -> ${Ho}x${Wo} equals the TF 1.x legacy formula`, async (t) => {
    const [N, C] = [2, 2];
    const x = rand(N * C * H * W);
    // source position i * in / out, floor, next index clamped, fraction as the weight
    const axis = (i: number, inSize: number, outSize: number) => {
      const src = (i * inSize) / outSize;
      const lo = Math.floor(src);
      return [lo, Math.min(lo + 1, inSize - 1), src - lo];
    };
    const want = new Float32Array(N * C * Ho * Wo);
    for (let p = 0; p < N * C; p++)
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          const [y0, y1, wy] = axis(i, H, Ho);
          const [x0, x1, wx] = axis(j, W, Wo);
          const v = (y: number, xx: number) => x[(p * H + y) * W + xx];
          want[(p * Ho + i) * Wo + j] = (1 - wy) * ((1 - wx) * v(y0, x0) + wx * v(y0, x1)) + wy * ((1 - wx) * v(y1, x0) + wx * v(y1, x1));
        }
    const got = await run([[x, [N, C, H, W]]], [N, C, Ho, Wo], ([tx], out) => b.resizeBilinearForward(tx, out));
    t.deepEqual(compare('out', got, want, { abs: 1e-6, rel: 1e-6 }), []);
  });
}

test('hand-computed values: SAME 2x2 pads after the end, the transposed conv scatters, resize is TF 1.x legacy', async (t) => {
  const ones = (n: number) => new Float64Array(n).fill(1);
  // 2x2 ones kernel over a 2x2 image of 1, 2 / 3, 4 with a zero row and column after it.
  const image = Float64Array.from([1, 2, 3, 4]);
  t.deepEqual(
    Array.from(await run([[image, [1, 1, 2, 2]], [ones(4), [1, 1, 2, 2]]], [1, 1, 2, 2], ([x, w], o) => b.conv2dForward(x, w, o, 1, 0, 0))),
    [10, 6, 7, 4],
  );
  // 3x3 SAME: each output sums its 3x3 neighbourhood, here the whole image.
  t.deepEqual(
    Array.from(await run([[image, [1, 1, 2, 2]], [ones(9), [1, 1, 3, 3]]], [1, 1, 2, 2], ([x, w], o) => b.conv2dForward(x, w, o, 1, 1, 1))),
    [10, 10, 10, 10],
  );
  // Transposed 2x2 stride 1 of 1, 2 / 3, 4 with weight 1, 10 / 100, 1000 (overlapping windows add).
  t.deepEqual(
    Array.from(
      await run([[image, [1, 1, 2, 2]], [Float64Array.from([1, 10, 100, 1000]), [1, 1, 2, 2]]], [1, 1, 3, 3], ([x, w], o) =>
        b.convTranspose2dForward(x, w, o, 1),
      ),
    ),
    [1, 12, 20, 103, 1234, 2040, 300, 3400, 4000],
  );
  // Row 0, 1 resized to 4 columns: sources 0, 0.5, 1, 1.5 -> 0, 0.5, 1, 1 (the last clamps).
  t.deepEqual(Array.from(await run([[Float64Array.from([0, 1]), [1, 1, 1, 2]]], [1, 1, 1, 4], ([x], o) => b.resizeBilinearForward(x, o))), [0, 0.5, 1, 1]);
  // 0..5 downsized to 2: sources 0 and 3.
  t.deepEqual(Array.from(await run([[Float64Array.from([0, 1, 2, 3, 4, 5]), [1, 1, 1, 6]]], [1, 1, 1, 2], ([x], o) => b.resizeBilinearForward(x, o))), [0, 3]);
});

test.serial('conv (explicit columns, padded grid, phase planes, Winograd, plane rows), transposed conv, pooling and resize gradients have the same bits with 1 and 3 threads', async (t) => {
  // 37 images: an uneven split into the weight gradient's 16 parts.
  const [N, C, Co] = [37, 6, 5];
  const make = (shape: number[]) => b.createTensor(shape, 'cpu', Float32Array.from(rand(size(shape))));
  const big = make([N, C, 13, 13]); // conv input; gradOut of the transposed conv and of the upsampling resize
  const small = make([N, Co, 6, 6]); // conv gradOut (3x3 stride 2); transposed conv input
  const w = make([Co, C, 3, 3]); // conv weight; transposed conv weight [Ci = Co, Co = C, 3, 3]
  const pooled = make([N, C, 6, 6]);
  const same = make([N, Co, 13, 13]); // gradOut of a same-size 3x3 conv (the padded grid)
  const phased = make([N, Co, 5, 5]); // gradOut of a 4x4 stride-2 conv (phase planes on the grid)
  const w4 = make([Co, C, 4, 4]);
  const wino = make([N, C, 20, 20]); // input of a same-size 3x3 conv of 400 pixels (Winograd on AVX-512)
  const winoOut = make([N, Co, 20, 20]);
  const rowsOut = make([N, Co, 9, 9]); // gradOut of a 4x4 stride-2 conv of wino (on AVX-512 a plane row a vector)
  const grads = [[N, C, 13, 13], [Co, C, 3, 3], [N, Co, 6, 6], [Co, C, 3, 3], [N, C, 13, 13], [N, C, 6, 6], [N, C, 13, 13], [Co, C, 3, 3], [N, C, 13, 13], [Co, C, 4, 4], [N, C, 20, 20], [Co, C, 3, 3], [N, Co, 20, 20], [N, C, 20, 20], [Co, C, 4, 4], [N, Co, 9, 9]].map((s) =>
    b.createTensor(s, 'cpu'),
  );
  const [gx, gw, gxt, gwt, gpool, gresize, gxs, gws, gx4, gw4, gxw, gww, yw, gxr, gwr, yr] = grads;
  const runAll = async () => {
    await b.conv2dBackward(big, w, same, gxs, gws, 1, 1, 1, false);
    await b.conv2dBackward(big, w4, phased, gx4, gw4, 2, 0, 0, false);
    await b.conv2dBackward(wino, w, winoOut, gxw, gww, 1, 1, 1, false);
    await b.conv2dForward(wino, w, yw, 1, 1, 1);
    await b.conv2dBackward(wino, w4, rowsOut, gxr, gwr, 2, 0, 0, false);
    await b.conv2dForward(wino, w4, yr, 2, 0, 0);
    await b.conv2dBackward(big, w, small, gx, gw, 2, 0, 0, false);
    await b.convTranspose2dBackward(small, w, big, gxt, gwt, 2, false);
    await b.avgPool2dBackward(pooled, gpool, 3, 2, false);
    await b.resizeBilinearBackward(big, gresize, false);
    return Promise.all(grads.map((g) => g.read()));
  };
  const before = b.getThreads();
  try {
    b.setThreads(1);
    const one = await runAll();
    b.setThreads(3);
    t.deepEqual(await runAll(), one);
  } finally {
    b.setThreads(before);
    for (const a of [big, small, w, pooled, same, phased, w4, wino, winoOut, rowsOut, ...grads]) a.dispose();
  }
});

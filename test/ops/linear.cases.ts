// linear: harness cases (default tolerances, see op-harness.ts), bad arguments, and an independent
// float64 check of the GEMM tiling.
import test from 'ava';

import { Rng } from '../../src/data/rng.js';
import { any, b, disposed, linearStillWorks, T, type Case } from '../helpers/args.js';
import { backendTolerance, compare, fdTolerance, type OpCase } from '../helpers/op-harness.js';

const op = 'linear';

function linear(name: string, N: number, K: number, M: number, withBias: boolean, fdSamples?: number): OpCase {
  return {
    name,
    op,
    inputs: [
      { name: 'x', shape: [N, K] },
      { name: 'weight', shape: [M, K] },
      ...(withBias ? [{ name: 'bias', shape: [M] }] : []),
    ],
    outputs: [{ name: 'out', shape: [N, M] }],
    gradInputs: withBias ? ['x', 'weight', 'bias'] : ['x', 'weight'],
    forward: (b, i, o) => b.linearForward(i.x, i.weight, i.bias ?? null, o.out),
    backward: (b, i, go, g, acc) => b.linearBackward(i.x, i.weight, go.out, g.x, g.weight, g.bias ?? null, acc),
    backendTolerance,
    fdTolerance,
    fdSamples,
  };
}

export const harness: OpCase[] = [
  linear('linear', 5, 7, 6, true),
  linear('linear without bias', 3, 4, 9, false),
  // Crosses the tile edges of the CPU GEMM (micro-tiles 8x32, 6x16 or 4x16, KC 256) and the CUDA one
  // (64, 16), with op(B) packed per task (at most 4 row tiles of 96)...
  linear('linear, tiled sizes', 67, 260, 35, true, 24),
  // ...and, with more row tiles, packed once per slice and shared by the tasks.
  linear('linear, many rows', 500, 70, 40, true, 16),
  // Many row tiles against one panel of op(B): op(A) read in place, not packed (its rows in the
  // forward, over two KC slices; a transposed A's columns in the weight gradient).
  linear('linear, many rows by one panel', 500, 300, 32, true, 16),
  linear('linear, a weight gradient of many rows by one panel', 20, 32, 500, false, 16),
];

// Valid operands, so that each case breaks exactly one thing.
const x = T([4, 3]);
const w = T([5, 3]);
const bias = T([5]);
const out = T([4, 5]);

export const badArguments: Case[] = [
  // linearForward
  ['linearForward with 3 arguments', () => (b.linearForward as Function)(x, w, bias), TypeError, 'linearForward'],
  ['linearForward with a Float32Array for x', () => b.linearForward(any(new Float32Array(12)), w, bias, out), TypeError, 'x'],
  ['linearForward with a number for weight', () => b.linearForward(x, any(3), bias, out), TypeError, 'weight'],
  ['linearForward with NaN for bias', () => b.linearForward(x, w, any(Number.NaN), out), TypeError, 'bias'],
  ['linearForward with a fake tensor', () => b.linearForward(any(Object.create(b.Tensor.prototype)), w, bias, out), TypeError, 'x'],
  ['linearForward with a disposed x', () => b.linearForward(disposed(), w, bias, out), TypeError, 'x'],
  ['linearForward with a disposed out', () => b.linearForward(x, w, bias, disposed()), TypeError, 'out'],
  ['linearForward with 1-D x', () => b.linearForward(T([12]), w, bias, out), RangeError, 'x'],
  ['linearForward with mismatched K', () => b.linearForward(x, T([5, 4]), bias, out), RangeError, 'weight'],
  ['linearForward with a wrong bias', () => b.linearForward(x, w, T([4]), out), RangeError, 'bias'],
  ['linearForward with a wrong out', () => b.linearForward(x, w, bias, T([5, 4])), RangeError, 'out'],
  ['linearForward writing into its input', () => b.linearForward(x, w, bias, x), TypeError, 'out'],
  // linearBackward
  ['linearBackward with a non-boolean accumulate', () => b.linearBackward(x, w, out, T([4, 3]), null, null, any(1) as never), TypeError, 'accumulate'],
  ['linearBackward with a wrong gradOut', () => b.linearBackward(x, w, T([4, 4]), null, null, null, false), RangeError, 'gradOut'],
  ['linearBackward with a wrong gradX', () => b.linearBackward(x, w, out, T([3, 4]), null, null, false), RangeError, 'gradX'],
  ['linearBackward with a wrong gradWeight', () => b.linearBackward(x, w, out, null, T([5]), null, false), RangeError, 'gradWeight'],
  ['linearBackward with a wrong gradBias', () => b.linearBackward(x, w, out, null, null, T([6]), false), RangeError, 'gradBias'],
  ['linearBackward with gradX aliasing gradOut', () => b.linearBackward(x, w, out, out, null, null, false), TypeError, 'gradX'],
  ['linearBackward with a string for gradX', () => b.linearBackward(x, w, out, any('gx'), null, null, false), TypeError, 'gradX'],
];

export function extraTests(): void {
  test('linear: the addon still works after every bad call', (t) => linearStillWorks(t, x, w, bias, out));

  // An independent check of the GEMM tiling: forward against a float64 loop written here.
  test('linear forward equals a float64 reference on shapes that cross every tile edge', async (t) => {
    const rng = new Rng(9);
    for (const [N, K, M] of [
      [1, 1, 1],
      [3, 17, 5],
      [65, 257, 17],
      [256, 784, 784],
      [130, 513, 300],
      [1000, 300, 70], // more than 4 row tiles: op(B) packed once per slice, shared
      [390, 40, 1100], // and more columns than one block of packed op(B) (NC = 1024 on AVX-512)
    ]) {
      const xs = Float32Array.from({ length: N * K }, () => 2 * rng.nextFloat() - 1);
      const ws = Float32Array.from({ length: M * K }, () => 2 * rng.nextFloat() - 1);
      const bs = Float32Array.from({ length: M }, () => 2 * rng.nextFloat() - 1);
      const want = new Float32Array(N * M);
      for (let n = 0; n < N; n++)
        for (let m = 0; m < M; m++) {
          let s = bs[m];
          for (let k = 0; k < K; k++) s += xs[n * K + k] * ws[m * K + k];
          want[n * M + m] = s;
        }
      const [x, w, bias, y] = [b.createTensor([N, K], 'cpu', xs), b.createTensor([M, K], 'cpu', ws), b.createTensor([M], 'cpu', bs), b.createTensor([N, M], 'cpu')];
      await y.fill(Number.NaN);
      await b.linearForward(x, w, bias, y);
      // float32 accumulation of K terms of size <= 1: error grows like sqrt(K) * 6e-8 * K at worst
      t.deepEqual(compare(`${N}x${K}x${M}`, await y.read(), want, { abs: 1e-4 * Math.sqrt(K), rel: 1e-5 }), []);
      for (const a of [x, w, bias, y]) a.dispose();
    }
  });

  // Every element is the same sequence of multiply-adds whatever the tiling (native/cpu/sgemm.cc),
  // so a row's output does not depend on the batch it came in: batch-1 inference equals training.
  // A GRU hop's gates (K over three slices of the GEMM), and a shape with partial blocks of both
  // K and M (up to 8 rows take their own kernel, which must keep the same sums), and a product of
  // few columns, which runs transposed from 17 rows on (with up to 8 columns, by the few-row kernels).
  for (const [N, K, M] of [[200, 688, 400], [40, 531, 37], [200, 300, 9], [200, 300, 5]]) test(`linear forward ${N}x${K}x${M}: a batch of 1 to 9, 16 or 17 rows gives the same bits as those rows within ${N}`, async (t) => {
    const rng = new Rng(10);
    const xs = Float32Array.from({ length: N * K }, () => 2 * rng.nextFloat() - 1);
    const w = b.createTensor([M, K], 'cpu', Float32Array.from({ length: M * K }, () => 2 * rng.nextFloat() - 1));
    const bias = b.createTensor([M], 'cpu', Float32Array.from({ length: M }, () => 2 * rng.nextFloat() - 1));
    const forward = async (rows: number) => {
      const [x, y] = [b.createTensor([rows, K], 'cpu', xs.subarray(0, rows * K)), b.createTensor([rows, M], 'cpu')];
      await y.fill(Number.NaN);
      await b.linearForward(x, w, bias, y);
      const out = await y.read();
      x.dispose(), y.dispose();
      return out;
    };
    const all = await forward(N);
    for (const rows of [1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17]) t.deepEqual(await forward(rows), all.subarray(0, rows * M), `${rows} rows`);
    w.dispose(), bias.dispose();
  });
}

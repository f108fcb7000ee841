// Every op through the harness: the CPU against finite differences, every other backend against the CPU.
import test from 'ava';

import { Rng } from '../src/data/rng.js';
import { loadBinding } from '../src/native/binding.js';
import { checkBackend, checkCpu, compare, unusableReason } from './helpers/op-harness.js';
import { opCases } from './helpers/op-cases.js';

for (const op of opCases) {
  test(`${op.name}: cpu writes every output, in bounds; backward matches finite differences and accumulates`, async (t) => {
    t.deepEqual(await checkCpu(op), []);
  });

  const reason = unusableReason('cuda', op);
  const title = `${op.name}: cuda matches the cpu reference, forward and backward`;
  if (reason) {
    test.skip(`${title} (skipped: ${reason})`, () => {});
  } else {
    test(title, async (t) => {
      t.deepEqual(await checkBackend(op, 'cuda'), []);
    });
  }
}

// An independent check of the GEMM tiling: forward against a float64 loop written here.
test('linear forward equals a float64 reference on shapes that cross every tile edge', async (t) => {
  const rng = new Rng(9);
  const b = loadBinding();
  for (const [N, K, M] of [
    [1, 1, 1],
    [3, 17, 5],
    [65, 257, 17],
    [256, 784, 784],
    [130, 513, 300],
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

// sumSquares, adamUpdate and sgdUpdate against float64 references of the same formulas written
// here, over several steps and several tensors of different shapes (one larger than a CPU chunk
// of 16384 elements, so the fused pass crosses chunk and tensor boundaries).
import test from 'ava';

import { Rng } from '../src/data/rng.js';
import { loadBinding, type NativeTensor } from '../src/native/binding.js';
import type { AdamUpdateArgs } from '../src/native/ops/adam.js';
import { compare } from './helpers/op-harness.js';
import { resolveOptimizer } from '../src/train/optimizer.js';

const b = loadBinding();
const shapes = [[3, 5], [7], [130, 200], [2, 3, 4]];
const size = (shape: number[]) => shape.reduce((a, c) => a * c, 1);

function randoms(rng: Rng, lo = -1, hi = 1): Float64Array[] {
  return shapes.map((s) => Float64Array.from({ length: size(s) }, () => lo + (hi - lo) * rng.nextFloat()));
}

// float32 copies of the float64 arrays as tensors, and the float64 values they hold.
function tensors(values: Float64Array[]): NativeTensor[] {
  return values.map((v, i) => b.createTensor(shapes[i], 'cpu', Float32Array.from(v)));
}
const rounded = (values: Float64Array[]) => values.map((v) => Float64Array.from(Float32Array.from(v)));

// float32 rounding per operation and per step, compounded over a few steps: differences from the
// float64 reference stay around 1e-7 relative to the values involved; 1e-6 abs + 1e-5 rel leaves
// margin and still catches any wrong term (off by ~1e-3 or more at these step sizes).
const tol = { abs: 1e-6, rel: 1e-5 };

async function expectClose(t: { deepEqual: (a: unknown, b: unknown, m?: string) => void }, what: string, got: NativeTensor[], want: Float64Array[]) {
  for (let i = 0; i < got.length; i++) t.deepEqual(compare(`${what}[${i}]`, await got[i].read(), Float32Array.from(want[i]), tol), [], what);
}

const dispose = (...lists: NativeTensor[][]) => lists.flat().forEach((x) => x.dispose());

/** adamUpdate's scalar arguments but the step. */
type AdamOptions = Omit<AdamUpdateArgs, 'params' | 'grads' | 'm' | 'v' | 'step'>;

for (const opts of [
  { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, gradScale: 1 },
  { lr: 1e-2, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.1, decoupled: false, gradScale: 0.5 },
  // lr * weightDecay large enough that decaying the updated instead of the pre-update param shows (~5e-3).
  { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.5, decoupled: true, gradScale: 2 },
  { lr: 3e-3, beta1: 0, beta2: 0, eps: 1e-3, weightDecay: 0.05, decoupled: true, gradScale: 0 },
] as AdamOptions[]) {
  const mode = `${opts.decoupled ? 'decoupled' : 'L2'} weight decay ${opts.weightDecay}, gradScale ${opts.gradScale}, betas ${opts.beta1}/${opts.beta2}`;
  test(`adamUpdate matches a float64 reference over 4 steps (${mode})`, async (t) => {
    const rng = new Rng(11);
    let p = rounded(randoms(rng));
    const m = shapes.map((s) => new Float64Array(size(s)));
    const v = shapes.map((s) => new Float64Array(size(s)));
    const [P, G, M, V] = [tensors(p), tensors(m), tensors(m), tensors(v)];
    try {
      for (let step = 1; step <= 4; step++) {
        const g = rounded(randoms(rng));
        for (let i = 0; i < g.length; i++) await G[i].write(Float32Array.from(g[i]));
        await b.adamUpdate({ params: P, grads: G, m: M, v: V, ...opts, step });
        const lrT = (opts.lr * Math.sqrt(1 - opts.beta2 ** step)) / (1 - opts.beta1 ** step);
        p = p.map((pt, i) =>
          pt.map((pj, j) => {
            const gj = opts.gradScale * g[i][j] + (opts.decoupled ? 0 : opts.weightDecay * pj);
            m[i][j] = opts.beta1 * m[i][j] + (1 - opts.beta1) * gj;
            v[i][j] = opts.beta2 * v[i][j] + (1 - opts.beta2) * gj * gj;
            return pj - (lrT * m[i][j]) / (Math.sqrt(v[i][j]) + opts.eps) - (opts.decoupled ? opts.lr * opts.weightDecay * pj : 0);
          }),
        );
        await expectClose(t, `params after step ${step}`, P, p);
        await expectClose(t, `m after step ${step}`, M, m);
        await expectClose(t, `v after step ${step}`, V, v);
      }
    } finally {
      dispose(P, G, M, V);
    }
  });
}

for (const [momentum, weightDecay, gradScale] of [
  [0, 0, 1],
  [0.9, 0.01, 0.25],
]) {
  test(`sgdUpdate matches a float64 reference over 4 steps (momentum ${momentum}, weight decay ${weightDecay}, gradScale ${gradScale})`, async (t) => {
    const rng = new Rng(12);
    const lr = 0.05;
    let p = rounded(randoms(rng));
    const vel = rounded(randoms(rng, -0.1, 0.1));
    const [P, G, Vel] = [tensors(p), tensors(p), tensors(vel)];
    try {
      for (let step = 1; step <= 4; step++) {
        const g = rounded(randoms(rng));
        for (let i = 0; i < g.length; i++) await G[i].write(Float32Array.from(g[i]));
        await b.sgdUpdate(P, G, Vel, lr, momentum, weightDecay, gradScale);
        p = p.map((pt, i) =>
          pt.map((pj, j) => {
            vel[i][j] = momentum * vel[i][j] + gradScale * g[i][j] + weightDecay * pj;
            return pj - lr * vel[i][j];
          }),
        );
        await expectClose(t, `params after step ${step}`, P, p);
        await expectClose(t, `velocity after step ${step}`, Vel, vel);
      }
    } finally {
      dispose(P, G, Vel);
    }
  });
}

test('sumSquares equals a float64 sum; a NaN or Inf anywhere makes it non-finite', async (t) => {
  const values = rounded(randoms(new Rng(13), -3, 3));
  const T = tensors(values);
  try {
    let want = 0;
    for (const v of values) for (const x of v) want += x * x;
    // Each float32 square is exact in double; the sums differ only in order: ~1e-16 relative per add.
    const got = await b.sumSquares(T);
    t.true(Math.abs(got - want) <= 1e-12 * want, `${got} vs ${want}`);
    t.is(await b.sumSquares([T[1]]), values[1].reduce((s, x) => s + x * x, 0));

    const big = values[2].slice();
    big[20000] = Number.NaN; // in the second chunk of the largest tensor
    await T[2].write(Float32Array.from(big));
    t.true(Number.isNaN(await b.sumSquares(T)));
    big[20000] = Number.POSITIVE_INFINITY;
    await T[2].write(Float32Array.from(big));
    t.is(await b.sumSquares(T), Number.POSITIVE_INFINITY);
  } finally {
    dispose(T);
  }
});

test.serial('sumSquares gives the same bits with 1 and 2 threads', async (t) => {
  const T = tensors(randoms(new Rng(14)));
  const before = b.getThreads();
  try {
    b.setThreads(1);
    const one = await b.sumSquares(T);
    b.setThreads(2);
    t.is(await b.sumSquares(T), one);
  } finally {
    b.setThreads(before);
    dispose(T);
  }
});

test('resolveOptimizer checks what the native updates require: momentum 1 is refused before any step', (t) => {
  t.throws(() => resolveOptimizer({ kind: 'sgd', momentum: 1 }), { instanceOf: RangeError, message: /optimizer\.momentum/ });
  t.is(resolveOptimizer({ kind: 'sgd', momentum: 0.999 }).momentum, 0.999);
});

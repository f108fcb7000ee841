// elboForward and gaussianSampleForward against float64 references written here from the
// definitions (not from the kernels): extreme logits stay finite, clipped pre-sigmas block the
// gradient exactly, many rows (several CPU chunks) match and give the same bits on 1 or 2 threads.
import test from 'ava';

import { Rng } from '../src/data/rng.js';
import { loadBinding, type NativeTensor } from '../src/native/binding.js';
import { compare } from './helpers/op-harness.js';

const b = loadBinding();

const softplus = (v: number) => (v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v)));
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const sigma = (pre: number) => softplus(Math.min(Math.max(pre, -10), 10));

interface ElboInputs {
  N: number;
  D: number;
  Z: number;
  logits: Float32Array;
  x: Float32Array;
  z: Float32Array;
  muQ: Float32Array;
  preQ: Float32Array;
  muP: Float32Array;
  preP: Float32Array;
  rowWeight: Float32Array;
}

// terms [N, 3] and loss by the definitions, in float64.
function referenceElbo(a: ElboInputs): { terms: Float64Array; loss: number } {
  const terms = new Float64Array(a.N * 3);
  let loss = 0;
  const logNormal = (n: number, mu: Float32Array, pre: Float32Array) => {
    let s = 0;
    for (let k = n * a.Z; k < (n + 1) * a.Z; k++) {
      const sd = sigma(pre[k]);
      s += -0.5 * ((a.z[k] - mu[k]) / sd) ** 2 - Math.log(sd) - 0.5 * Math.log(2 * Math.PI);
    }
    return s;
  };
  for (let n = 0; n < a.N; n++) {
    let logPx = 0;
    for (let d = n * a.D; d < (n + 1) * a.D; d++) {
      const f = a.logits[d];
      logPx += a.x[d] * -softplus(-f) + (1 - a.x[d]) * -softplus(f);
    }
    const row = [logPx, logNormal(n, a.muP, a.preP), logNormal(n, a.muQ, a.preQ)];
    terms.set(row, n * 3);
    loss -= a.rowWeight[n] * (row[0] + row[1] - row[2]);
  }
  return { terms, loss };
}

function randomElbo(rng: Rng, N: number, D: number, Z: number): ElboInputs {
  const u = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.nextFloat());
  return {
    N,
    D,
    Z,
    logits: u(N * D, -4, 4),
    x: Float32Array.from({ length: N * D }, () => (rng.nextFloat() < 0.5 ? 0 : 1)),
    z: u(N * Z, -2, 2),
    muQ: u(N * Z, -1, 1),
    preQ: u(N * Z, -3, 3),
    muP: u(N * Z, -1, 1),
    preP: u(N * Z, -3, 3),
    rowWeight: Float32Array.from({ length: N }, (_, n) => [1, 0, 0.5, 2][n % 4]),
  };
}

// Exactly zero (either sign).
const isZero = (a: Float32Array) => a.every((v) => v === 0);

const inputNames = ['logits', 'x', 'z', 'muQ', 'preQ', 'muP', 'preP', 'rowWeight'] as const;

/** Runs forward then backward (with gradLoss) on `a`; everything read back. */
async function runElbo(a: ElboInputs, gradLoss = 1.5) {
  const made: NativeTensor[] = [];
  const make = (shape: number[], data?: Float32Array) => {
    const t = b.createTensor(shape, 'cpu', data ?? null);
    made.push(t);
    return t;
  };
  try {
    const shapeOf = (name: (typeof inputNames)[number]) =>
      name === 'rowWeight' ? [a.N] : name === 'logits' || name === 'x' ? [a.N, a.D] : [a.N, a.Z];
    const i = Object.fromEntries(inputNames.map((name) => [name, make(shapeOf(name), a[name])])) as Record<(typeof inputNames)[number], NativeTensor>;
    const [terms, loss] = [make([a.N, 3]), make([1])];
    const grads = ['logits', 'z', 'muQ', 'preQ', 'muP', 'preP'].map((name) => make(name === 'logits' ? [a.N, a.D] : [a.N, a.Z]));
    const [gradLogits, gradZ, gradMuQ, gradPreQ, gradMuP, gradPreP] = grads;
    for (const t of [terms, loss, ...grads]) await t.fill(Number.NaN);
    await b.elboForward({ ...i, terms, loss });
    await b.elboBackward({ ...i, gradLoss: make([1], Float32Array.of(gradLoss)), gradLogits, gradZ, gradMuQ, gradPreQ, gradMuP, gradPreP, accumulate: false });
    const [dLogits, dZ, dMuQ, dPreQ, dMuP, dPreP] = await Promise.all(grads.map((g) => g.read()));
    return { terms: await terms.read(), loss: (await loss.read())[0], dLogits, dZ, dMuQ, dPreQ, dMuP, dPreP };
  } finally {
    made.forEach((t) => t.dispose());
  }
}

// The kernel computes each row in double and rounds once, and the loss in double: differences from
// this float64 reference are float32 rounding (6e-8 relative) plus libm-vs-V8 last bits.
const tight = { abs: 1e-6, rel: 1e-6 };

test('elboForward equals the float64 reference; logits of +-50 and +-1000 stay finite and exact', async (t) => {
  const a = randomElbo(new Rng(21), 4, 12, 3);
  // Row 0: saturated logits that agree with x (each term ~ -e^-50 or -e^-1000, i.e. 0);
  // row 1: saturated logits that disagree (each term ~ -50 or -1000). Pre-sigmas clipped in row 2.
  for (let d = 0; d < 12; d++) {
    const big = d % 2 === 0 ? 50 : 1000;
    a.x[d] = d % 4 < 2 ? 1 : 0;
    a.logits[d] = a.x[d] === 1 ? big : -big;
    a.x[12 + d] = a.x[d];
    a.logits[12 + d] = -a.logits[d];
  }
  a.preQ.set([-30, 12, 10.5], 6);
  a.preP.set([25, -11, -10.5], 6);
  const want = referenceElbo(a);
  const got = await runElbo(a);
  t.deepEqual(compare('terms', got.terms, Float32Array.from(want.terms), tight), []);
  t.deepEqual(compare('loss', Float32Array.of(got.loss), Float32Array.of(want.loss), tight), []);
  t.true(Math.abs(got.terms[0]) < 1e-20, `row 0 log p(x) ${got.terms[0]}`);
  t.is(got.terms[3], -(6 * 50 + 6 * 1000));
  for (const [name, g] of Object.entries(got)) t.true(typeof g === 'number' ? Number.isFinite(g) : g.every(Number.isFinite), `${name} finite`);
  // Where the clip cut pre, no gradient flows to it.
  t.true(isZero(got.dPreQ.subarray(6, 9)), `gradPreQ ${got.dPreQ.subarray(6, 9)}`);
  t.true(isZero(got.dPreP.subarray(6, 9)), `gradPreP ${got.dPreP.subarray(6, 9)}`);
});

test('elboForward equals the float64 reference over several row chunks, with the same bits on 1 and 2 threads', async (t) => {
  const a = randomElbo(new Rng(22), 1500, 20, 8);
  const want = referenceElbo(a);
  const before = b.getThreads();
  try {
    b.setThreads(1);
    const one = await runElbo(a);
    b.setThreads(2);
    const two = await runElbo(a);
    t.deepEqual(compare('terms', two.terms, Float32Array.from(want.terms), tight), []);
    t.deepEqual(compare('loss', Float32Array.of(two.loss), Float32Array.of(want.loss), tight), []);
    t.deepEqual(two, one);
  } finally {
    b.setThreads(before);
  }
});

test('gaussianSampleForward equals mu + softplus(clip(pre)) * eps; gradients stop exactly where pre is clipped', async (t) => {
  const rng = new Rng(23);
  const [N, Z] = [5, 4];
  const u = (lo: number, hi: number) => Float32Array.from({ length: N * Z }, () => lo + (hi - lo) * rng.nextFloat());
  const [mu, eps, gradOut] = [u(-1, 1), u(-2, 2), u(-1, 1)];
  const pre = u(-9, 9);
  // Clipped on both sides, and exactly on the edges (where, as in TensorFlow, the gradient passes).
  pre.set([-10.001, 10.001, -50, 50, -10, 10], 0);
  const tensors = [mu, pre, eps, gradOut].map((d) => b.createTensor([N, Z], 'cpu', d));
  const [out, gradMu, gradPre] = [0, 1, 2].map(() => b.createTensor([N, Z], 'cpu'));
  try {
    for (const o of [out, gradMu, gradPre]) await o.fill(Number.NaN);
    await b.gaussianSampleForward(tensors[0], tensors[1], tensors[2], out);
    await b.gaussianSampleBackward(tensors[1], tensors[2], tensors[3], gradMu, gradPre, false);
    const want = mu.map((m, i) => m + sigma(pre[i]) * eps[i]);
    // Computed in float32: a few roundings of values up to |mu| + 10 * 2.
    t.deepEqual(compare('out', await out.read(), want, { abs: 1e-5, rel: 1e-6 }), []);
    t.deepEqual(await gradMu.read(), gradOut);
    const g = await gradPre.read();
    t.true(isZero(g.subarray(0, 4)), `gradPreSigma ${g.subarray(0, 4)}`);
    const wantGrad = gradOut.map((go, i) => (Math.abs(pre[i]) > 10 ? 0 : go * eps[i] * sigmoid(pre[i])));
    t.deepEqual(compare('gradPreSigma', g, wantGrad, { abs: 1e-6, rel: 1e-5 }), []);
    t.true(g[4] !== 0 && g[5] !== 0, 'the gradient passes at exactly -10 and 10');
  } finally {
    [...tensors, out, gradMu, gradPre].forEach((x) => x.dispose());
  }
});

// Independent float64 references for the attention read and the GRU cell, written here from the
// definitions (not from the kernels), compared elementwise with the native results; plus the
// read's invariants, the clipped strengths' zero gradient, the thread-count independence of the
// backward sums, concatBackward with null entries, and the GRU harness cases' distance from PReLU's kink.
import test from 'ava';

import { Rng } from '../src/data/rng.js';
import { loadBinding, type NativeTensor } from '../src/native/binding.js';
import type { AttentionSimilarity } from '../src/native/ops/attention.js';
import { compare, randomArrays } from './helpers/op-harness.js';
import { harness as gruCases } from './ops/gru.cases.js';

const b = loadBinding();
const made: NativeTensor[] = [];
const tensor = (shape: number[], data?: Float32Array) => {
  const t = b.createTensor(shape, 'cpu', data ?? null);
  made.push(t);
  return t;
};
const poisoned = async (shape: number[]) => {
  const t = tensor(shape);
  await t.fill(Number.NaN);
  return t;
};
const random = (rng: Rng, n: number, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.nextFloat());
test.after.always(() => {
  for (const t of made) t.dispose();
});

interface Read {
  B: number;
  T: number;
  P: number;
  D: number;
  F: number;
  similarity: AttentionSimilarity;
  pseudoPositions: number;
}

interface ReadInputs {
  query: Float32Array;
  keys: Float32Array;
  pseudoKeys: Float32Array;
  values: Float32Array;
  pseudoValues: Float32Array;
  strength: Float32Array;
}

function readInputs(r: Read, rng: Rng): ReadInputs {
  const R = r.B * r.T;
  // Strengths in range, below 1e-10 and above 10 (clipped), and exactly at each edge (not clipped).
  const strength = Float32Array.from({ length: R }, (_, i) => [0.5 + 2.5 * rng.nextFloat(), -1, 12, 1e-10, 10, 3, 0.7][i % 7]);
  return {
    query: random(rng, R * r.D),
    keys: random(rng, R * r.D),
    pseudoKeys: random(rng, r.P * r.D),
    values: random(rng, R * r.F),
    pseudoValues: random(rng, r.P * r.F),
    strength,
  };
}

/** The read's inputs as native tensors, by attentionForward's argument names. */
function readTensors(r: Read, x: ReadInputs) {
  const R = r.B * r.T;
  return {
    query: tensor([R, r.D], x.query),
    keys: tensor([R, r.D], x.keys),
    pseudoKeys: tensor([r.P, r.D], x.pseudoKeys),
    values: tensor([R, r.F], x.values),
    pseudoValues: tensor([r.P, r.F], x.pseudoValues),
    strength: tensor([R, 1], x.strength),
  };
}

// The definition in float64: weights over the T + P slots of each row, then the weighted read.
function referenceRead(r: Read, x: ReadInputs): { out: Float64Array; weights: Float64Array } {
  const { B, T, P, D, F } = r;
  const S = T + P;
  const out = new Float64Array(B * T * F);
  const weights = new Float64Array(B * T * S);
  const row = (a: Float32Array, i: number, n: number) => Array.from(a.subarray(i * n, (i + 1) * n));
  const dot = (a: number[], c: number[]) => a.reduce((s, v, i) => s + v * c[i], 0);
  for (let e = 0; e < B; e++) {
    for (let t = 0; t < T; t++) {
      const n = e * T + t;
      const slots: number[] = [];
      for (let s = 0; s < S; s++) if (s < T ? s < t : t < r.pseudoPositions) slots.push(s);
      if (slots.length === 0) continue;
      const key = (s: number) => (s < T ? row(x.keys, e * T + s, D) : row(x.pseudoKeys, s - T, D));
      const value = (s: number) => (s < T ? row(x.values, e * T + s, F) : row(x.pseudoValues, s - T, F));
      let w: number[];
      if (r.similarity === 'average') {
        w = slots.map(() => 1 / slots.length);
      } else {
        const q = row(x.query, n, D);
        const norm = (a: number[]) => Math.max(Math.sqrt(dot(a, a)), 1e-8);
        const sims = slots.map((s) => dot(q, key(s)) / (r.similarity === 'cosine' ? norm(q) * norm(key(s)) : 1));
        const beta = Math.min(Math.max(x.strength[n], 1e-10), 10);
        const top = Math.max(...sims.map((v) => beta * v));
        const e2 = sims.map((v) => Math.exp(beta * v - top));
        const total = e2.reduce((a, c) => a + c, 0);
        w = e2.map((v) => v / total);
      }
      slots.forEach((s, i) => {
        weights[n * S + s] = w[i];
        value(s).forEach((v, f) => (out[n * F + f] += w[i] * v));
      });
    }
  }
  return { out, weights };
}

async function nativeRead(r: Read, x: ReadInputs) {
  const R = r.B * r.T;
  const matching = r.similarity !== 'average';
  const out = await poisoned([R, r.F]);
  const weights = await poisoned([R, r.T + r.P]);
  await b.attentionForward({
    query: matching ? tensor([R, r.D], x.query) : null,
    keys: matching ? tensor([R, r.D], x.keys) : null,
    pseudoKeys: matching && r.P > 0 ? tensor([r.P, r.D], x.pseudoKeys) : null,
    values: tensor([R, r.F], x.values),
    pseudoValues: r.P > 0 ? tensor([r.P, r.F], x.pseudoValues) : null,
    strength: matching ? tensor([R, 1], x.strength) : null,
    out,
    weights,
    episodes: r.B,
    similarity: r.similarity,
    pseudoPositions: r.pseudoPositions,
  });
  return { out: await out.read(), weights: await weights.read() };
}

const reads: Read[] = [];
for (const similarity of ['dot', 'cosine', 'average'] as const)
  for (const P of [0, 1, 2])
    for (const pseudoPositions of [5, 1, 0, 3]) reads.push({ B: 3, T: 5, P, D: 6, F: 7, similarity, pseudoPositions });

test('attentionForward equals a float64 reference: every similarity, mask, pseudo-input count and pseudoPositions', async (t) => {
  const rng = new Rng(11);
  for (const r of reads) {
    const x = readInputs(r, rng);
    const want = referenceRead(r, x);
    const got = await nativeRead(r, x);
    const what = `${r.similarity} P=${r.P} pseudoPositions=${r.pseudoPositions}`;
    // float32 inputs and outputs of a float64-accumulated kernel: a few float32 roundings of values
    // of size <= 1 (weights <= 1, outputs sums of <= 7 terms), hence 1e-6 abs + 1e-5 rel.
    t.deepEqual(compare(`${what} out`, got.out, Float32Array.from(want.out), { abs: 1e-6, rel: 1e-5 }), []);
    t.deepEqual(compare(`${what} weights`, got.weights, Float32Array.from(want.weights), { abs: 1e-6, rel: 1e-5 }), []);
  }
});

test('attentionForward: invalid slots are exactly 0, valid rows sum to 1, a row with no valid slot reads exactly 0', async (t) => {
  const rng = new Rng(12);
  for (const r of reads) {
    const { T, P, F } = r;
    const S = T + P;
    const got = await nativeRead(r, readInputs(r, rng));
    for (let n = 0; n < r.B * T; n++) {
      const tpos = n % T;
      const w = got.weights.subarray(n * S, (n + 1) * S);
      const valid = (s: number) => (s < T ? s < tpos : tpos < r.pseudoPositions);
      for (let s = 0; s < S; s++) if (!valid(s)) t.is(w[s], 0, `row ${n} slot ${s}`);
      const count = Array.from({ length: S }, (_, s) => s).filter(valid).length;
      const sum = w.reduce((a, v) => a + v, 0);
      if (count > 0) t.true(Math.abs(sum - 1) < 1e-6, `row ${n} sums to ${sum}`);
      else t.true(got.out.subarray(n * F, (n + 1) * F).every((v) => v === 0), `row ${n} (no valid slot) reads 0`);
    }
    // Position 0 of every episode has no earlier position: with no pseudo-input it reads zeros.
    if (P === 0 || r.pseudoPositions === 0)
      for (let e = 0; e < r.B; e++) t.true(got.out.subarray(e * T * F, (e * T + 1) * F).every((v) => v === 0));
  }
});

test("attentionForward 'average' reads the same with or without a query, keys, pseudoKeys and strength", async (t) => {
  const r: Read = { B: 2, T: 4, P: 1, D: 3, F: 5, similarity: 'average', pseudoPositions: 4 };
  const x = readInputs(r, new Rng(13));
  const plain = await nativeRead(r, x);
  const R = r.B * r.T;
  const out = await poisoned([R, r.F]);
  const weights = await poisoned([R, r.T + r.P]);
  await b.attentionForward({ ...readTensors(r, x), out, weights, episodes: r.B, similarity: 'average', pseudoPositions: r.pseudoPositions });
  t.deepEqual(await out.read(), plain.out);
  t.deepEqual(await weights.read(), plain.weights);
});

test('attentionBackward: the strength gradient is exactly 0 where the strength is clipped, nonzero elsewhere', async (t) => {
  for (const similarity of ['dot', 'cosine'] as const) {
    const r: Read = { B: 3, T: 5, P: 1, D: 6, F: 7, similarity, pseudoPositions: 5 };
    const x = readInputs(r, new Rng(14));
    const R = r.B * r.T;
    const inputs = readTensors(r, x);
    const out = tensor([R, r.F]);
    const weights = tensor([R, r.T + r.P]);
    const settings = { episodes: r.B, similarity, pseudoPositions: r.pseudoPositions };
    await b.attentionForward({ ...inputs, out, weights, ...settings });
    const gradStrength = await poisoned([R, 1]);
    const gradOut = tensor([R, r.F], random(new Rng(15), R * r.F));
    // The other gradients left out: null.
    await b.attentionBackward({ ...inputs, weights, gradOut, gradStrength, ...settings, accumulate: false });
    const g = await gradStrength.read();
    for (let n = 0; n < R; n++) {
      const s = x.strength[n];
      // Position 0 has one valid slot (the pseudo-input): its weight is 1 whatever the strength.
      if (s < Math.fround(1e-10) || s > 10 || n % r.T === 0) t.is(g[n], 0, `${similarity} row ${n}, strength ${s}`);
      else t.not(g[n], 0, `${similarity} row ${n}, strength ${s}`);
    }
  }
});

// The GRU cell from its definition, in float64: gates, PReLU candidate, interpolation.
function referenceGru(N: number, I: number, H: number, a: Record<string, Float32Array>) {
  const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
  const K = I + H;
  const out = new Float64Array(N * H);
  const saved = new Float64Array(N * 4 * H);
  for (let n = 0; n < N; n++) {
    const total = [...a.x.subarray(n * I, (n + 1) * I), ...a.h.subarray(n * H, (n + 1) * H)];
    const gates = Array.from({ length: 2 * H }, (_, k) => sigmoid(a.bGates[k] + total.reduce((s, v, i) => s + v * a.wGates[k * K + i], 0)));
    const gated = total.map((v, i) => (i < I ? v : v * gates[i - I]));
    for (let j = 0; j < H; j++) {
      const pre = a.bCand[j] + gated.reduce((s, v, i) => s + v * a.wCand[j * K + i], 0);
      const c = pre > 0 ? pre : a.slope[j] * pre;
      const u = gates[H + j];
      out[n * H + j] = u * a.h[n * H + j] + (1 - u) * c;
      saved[n * 2 * H + j] = gates[j];
      saved[n * 2 * H + H + j] = u;
      saved[N * 2 * H + n * H + j] = pre;
      saved[N * 3 * H + n * H + j] = c;
    }
  }
  return { out, saved };
}

async function nativeGru(N: number, I: number, H: number, a: Record<string, Float32Array>) {
  const out = await poisoned([N, H]);
  const saved = await poisoned([N, 4 * H]);
  await b.gruForward({
    x: tensor([N, I], a.x),
    h: tensor([N, H], a.h),
    wGates: tensor([2 * H, I + H], a.wGates),
    bGates: tensor([2 * H], a.bGates),
    wCand: tensor([H, I + H], a.wCand),
    bCand: tensor([H], a.bCand),
    slope: tensor([H], a.slope),
    out,
    saved,
  });
  return { out: await out.read(), saved: await saved.read() };
}

test('gruForward equals a float64 reference (out and the saved gates, a and c)', async (t) => {
  const rng = new Rng(16);
  for (const [N, I, H] of [
    [5, 6, 4],
    [3, 1, 17],
    [40, 488, 200],
  ]) {
    const scale = 1 / Math.sqrt(I + H);
    const a = {
      x: random(rng, N * I),
      h: random(rng, N * H),
      wGates: random(rng, 2 * H * (I + H), -2 * scale, 2 * scale),
      bGates: random(rng, 2 * H),
      wCand: random(rng, H * (I + H), -2 * scale, 2 * scale),
      bCand: random(rng, H),
      slope: random(rng, H),
    };
    const want = referenceGru(N, I, H, a);
    const got = await nativeGru(N, I, H, a);
    // float32 GEMM over I + H <= 688 terms of size <= 2/sqrt(I + H): pre-activations are off by about
    // 1e-7 * sqrt(I + H), and the sigmoid and PReLU do not amplify that: 1e-5 abs + 1e-5 rel.
    t.deepEqual(compare(`${N}x${I}x${H} out`, got.out, Float32Array.from(want.out), { abs: 1e-5, rel: 1e-5 }), []);
    t.deepEqual(compare(`${N}x${I}x${H} saved`, got.saved, Float32Array.from(want.saved), { abs: 1e-5, rel: 1e-5 }), []);
  }
});

test("the GRU harness cases' PReLU inputs stay farther from 0 than one finite-difference step can move them", async (t) => {
  const eps = 1e-2;
  t.is(gruCases.length, 2);
  for (const op of gruCases) {
    t.is(op.fdTolerance.eps, eps);
    // checkCpu draws the inputs first from Rng(1): these are the inputs it differentiates.
    const a = randomArrays(op.inputs, new Rng(1));
    const [N, I] = op.inputs[0].shape;
    const H = op.inputs[1].shape[1];
    const K = I + H;
    const { saved } = await nativeGru(N, I, H, a);
    // One input element moved by eps moves a[n, j] by at most eps times: max|gated| (through wCand or
    // bCand), max|wCand| (through x or h directly), plus the gates' path: each gate's pre-activation
    // moves by at most eps * G, each r by a quarter of that (sigmoid' <= 1/4), and a by
    // sum_k |wCand[j, I+k] h[n, k]| times that.
    const maxAbs = (v: Float32Array) => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    const G = Math.max(1, maxAbs(a.x), maxAbs(a.h), maxAbs(a.wGates));
    let minA = Infinity;
    let bound = 0;
    for (let n = 0; n < N; n++)
      for (let j = 0; j < H; j++) {
        minA = Math.min(minA, Math.abs(saved[N * 2 * H + n * H + j]));
        let gatePath = 0;
        for (let k = 0; k < H; k++) gatePath += Math.abs(a.wCand[j * K + I + k] * a.h[n * H + k]);
        bound = Math.max(bound, Math.max(1, maxAbs(a.x), maxAbs(a.h)) + maxAbs(a.wCand) + 0.25 * G * gatePath);
      }
    t.log(`${op.name}: min |a| = ${minA}, bound ${eps * bound}`);
    t.true(minA > eps * bound, `${op.name}: min |a| = ${minA}, a step moves a by up to ${eps * bound}`);
  }
});

test('attention and GRU backward give the same bits with 1, 2 and 3 threads', async (t) => {
  const before = b.getThreads();
  const rng = new Rng(17);
  // The model's sizes: 20 episodes, so the episodes' shares of the pseudo-inputs' gradients come from several tasks.
  const r: Read = { B: 20, T: 10, P: 2, D: 200, F: 288, similarity: 'cosine', pseudoPositions: 10 };
  const x = readInputs(r, rng);
  const R = r.B * r.T;
  const ins = readTensors(r, x);
  const out = tensor([R, r.F]);
  const weights = tensor([R, r.T + r.P]);
  const gradOut = tensor([R, r.F], random(rng, R * r.F));
  const grads = Object.values(ins).map((i) => tensor(i.shape));
  const [gradQuery, gradKeys, gradPseudoKeys, gradValues, gradPseudoValues, gradStrength] = grads;
  const [N, I, H] = [200, 488, 200];
  const g = {
    x: tensor([N, I], random(rng, N * I)),
    h: tensor([N, H], random(rng, N * H)),
    wGates: tensor([2 * H, I + H], random(rng, 2 * H * (I + H), -0.1, 0.1)),
    bGates: tensor([2 * H], random(rng, 2 * H)),
    wCand: tensor([H, I + H], random(rng, H * (I + H), -0.1, 0.1)),
    bCand: tensor([H], random(rng, H)),
    slope: tensor([H], random(rng, H)),
  };
  const gruOut = tensor([N, H]);
  const saved = tensor([N, 4 * H]);
  const gruGradOut = tensor([N, H], random(rng, N * H));
  const gruGrads = Object.values(g).map((v) => tensor(v.shape));
  const results: Float32Array[][] = [];
  try {
    for (const threads of [1, 2, 3]) {
      b.setThreads(threads);
      const settings = { episodes: r.B, similarity: r.similarity, pseudoPositions: r.pseudoPositions };
      await b.attentionForward({ ...ins, out, weights, ...settings });
      await b.attentionBackward({ ...ins, weights, gradOut, gradQuery, gradKeys, gradPseudoKeys, gradValues, gradPseudoValues, gradStrength, ...settings, accumulate: false });
      await b.gruForward({ ...g, out: gruOut, saved });
      const [gradX, gradH, gradWGates, gradBGates, gradWCand, gradBCand, gradSlope] = gruGrads;
      const { bGates: _bGates, bCand: _bCand, ...cell } = g;
      await b.gruBackward({ ...cell, saved, gradOut: gruGradOut, gradX, gradH, gradWGates, gradBGates, gradWCand, gradBCand, gradSlope, accumulate: false });
      results.push(await Promise.all([out, weights, ...grads, gruOut, saved, ...gruGrads].map((v) => v.read())));
    }
  } finally {
    b.setThreads(before);
  }
  t.deepEqual(results[1], results[0]);
  t.deepEqual(results[2], results[0]);
});

test('concatBackward skips null entries: one anywhere, or several after the given ones', async (t) => {
  const N = 3;
  const widths = [2, 3, 1];
  const W = 6;
  const gradOut = tensor([N, W], Float32Array.from({ length: N * W }, (_, i) => i));
  const column = (i: number, from: number, width: number) =>
    Float32Array.from({ length: N * width }, (_, k) => Math.floor(k / width) * W + from + (k % width));
  for (const present of [
    [true, false, true],
    [false, true, true],
    [true, false, false],
    [false, false, false],
  ]) {
    const grads = widths.map((w, i) => (present[i] ? tensor([N, w]) : null));
    for (const g of grads) await g?.fill(Number.NaN);
    await b.concatBackward(gradOut, grads, false);
    let from = 0;
    for (const [i, g] of grads.entries()) {
      if (g) t.deepEqual(await g.read(), column(i, from, widths[i]), `entries ${present}: gradInputs[${i}]`);
      from += widths[i];
    }
  }
});

// randomNormal: an independent reimplementation of the documented recipe (Philox4x32-10 checked
// against Random123's known answers, 53-bit uniforms, Box-Muller) must give the same values; the
// moments of 1e6 samples; purity in (seed, offset + i); the same bits for any thread count.
import test from 'ava';

import { loadBinding } from '../src/native/binding.js';
import { compare } from './helpers/op-harness.js';

const b = loadBinding();

async function normals(n: number, seed: number, offset: number): Promise<Float32Array> {
  const out = b.createTensor([n], 'cpu');
  try {
    await out.fill(Number.NaN);
    await b.randomNormal(out, seed, offset);
    return await out.read();
  } finally {
    out.dispose();
  }
}

const M32 = 0xffffffffn;

// Philox4x32-10 as published (Salmon et al. 2011), on BigInts for exact 32x32 -> 64-bit products.
function philox(counter: bigint[], key: bigint[]): bigint[] {
  let [x0, x1, x2, x3] = counter;
  let [k0, k1] = key;
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + 0x9e3779b9n) & M32;
      k1 = (k1 + 0xbb67ae85n) & M32;
    }
    const p0 = 0xd2511f53n * x0;
    const p1 = 0xcd9e8d57n * x2;
    [x0, x1, x2, x3] = [(p1 >> 32n) ^ x1 ^ k0, p1 & M32, (p0 >> 32n) ^ x3 ^ k1, p0 & M32];
  }
  return [x0, x1, x2, x3];
}

// Value number c of stream `seed`, by the recipe in native/cpu/random_normal.cc.
function referenceNormal(seed: number, c: bigint): number {
  const j = c >> 1n;
  const w = philox([j & M32, j >> 32n, 0n, 0n], [BigInt(seed), 0n]).map(Number);
  const a = w[0] * 2 ** 21 + Math.floor(w[1] / 2 ** 11);
  const bb = w[2] * 2 ** 21 + Math.floor(w[3] / 2 ** 11);
  const r = Math.sqrt(-2 * Math.log((a + 1) / 2 ** 53));
  const t = 2 * Math.PI * (bb / 2 ** 53);
  return (c & 1n) === 0n ? r * Math.cos(t) : r * Math.sin(t);
}

test('the reference Philox4x32-10 gives Random123 known answers', (t) => {
  const hex = (w: bigint[]) => w.map((v) => v.toString(16).padStart(8, '0')).join(' ');
  t.is(hex(philox([0n, 0n, 0n, 0n], [0n, 0n])), '6627e8d5 e169c58d bc57ac4c 9b00dbd8');
  t.is(hex(philox([M32, M32, M32, M32], [M32, M32])), '408f276d 41c83b0e a20bc7c6 6d5451fd');
  t.is(
    hex(philox([0x243f6a88n, 0x85a308d3n, 0x13198a2en, 0x03707344n], [0xa4093822n, 0x299f31d0n])),
    'd16cfe09 94fdcceb 5001e420 24126ea1',
  );
});

test('randomNormal follows the documented recipe (seeds, odd and huge offsets)', async (t) => {
  // Both sides compute in double and round to float32; libm and V8 may differ in the last bit of
  // log/cos/sin, so allow 1e-6 (a wrong Philox word or uniform is off by O(1)).
  for (const [seed, offset, n] of [
    [0, 0, 1000],
    [1, 7, 333],
    [4294967295, 123456789, 100],
    [77, 2 ** 53 - 3, 2], // the largest offsets: counters past 2^32 and 2^53 use both counter words
    [77, 2 ** 53 - 1, 1],
  ]) {
    const got = await normals(n, seed, offset);
    const want = Float32Array.from({ length: n }, (_, i) => referenceNormal(seed, BigInt(offset) + BigInt(i)));
    t.deepEqual(compare(`seed ${seed} offset ${offset}`, got, want, { abs: 1e-6, rel: 1e-6 }), []);
  }
});

test('1e6 samples have the moments of a standard normal', async (t) => {
  const n = 1e6;
  const z = await normals(n, 2024, 0);
  let [s1, s2, s4, tail, pair] = [0, 0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    const v = z[i];
    s1 += v;
    s2 += v * v;
    s4 += v ** 4;
    if (Math.abs(v) > 1.959964) tail += 1;
    if (i % 2 === 0) pair += v * z[i + 1];
  }
  const mean = s1 / n;
  const variance = s2 / n - mean * mean;
  // Each bound is 5 standard errors of the estimate under N(0, 1) (a false failure has
  // probability < 1e-6, and the seed is fixed): mean 1/sqrt(n); variance sqrt(2/n); E z^4 = 3
  // with sd sqrt((105 - 9)/n); P(|z| > 1.96) = 0.05 with sd sqrt(0.05 * 0.95 / n); and the two
  // values of one Box-Muller pair uncorrelated, sd 1/sqrt(n/2).
  t.true(Math.abs(mean) < 5 / Math.sqrt(n), `mean ${mean}`);
  t.true(Math.abs(variance - 1) < 5 * Math.sqrt(2 / n), `variance ${variance}`);
  t.true(Math.abs(s4 / n - 3) < 5 * Math.sqrt(96 / n), `fourth moment ${s4 / n}`);
  t.true(Math.abs(tail / n - 0.05) < 5 * Math.sqrt((0.05 * 0.95) / n), `P(|z| > 1.96) = ${tail / n}`);
  t.true(Math.abs(pair / (n / 2)) < 5 / Math.sqrt(n / 2), `pair correlation ${pair / (n / 2)}`);
  t.true(z.every((v) => Number.isFinite(v) && Math.abs(v) <= 8.58));
});

test('the same (seed, offset) gives the same bits; offset k is the tail of offset 0; seeds differ', async (t) => {
  const first = await normals(10000, 5, 0);
  t.deepEqual(await normals(10000, 5, 0), first);
  for (const k of [1, 2, 4095, 4096, 5001]) t.deepEqual(await normals(10000 - k, 5, k), first.subarray(k), `offset ${k}`);
  const other = await normals(10000, 6, 0);
  t.true(other.every((v, i) => v !== first[i]), 'seed 6 shares no value with seed 5');
});

test.serial('randomNormal gives the same bits with 1 and 2 threads', async (t) => {
  const before = b.getThreads();
  try {
    b.setThreads(1);
    const one = await normals(100001, 9, 3);
    b.setThreads(2);
    t.deepEqual(await normals(100001, 9, 3), one);
  } finally {
    b.setThreads(before);
  }
});

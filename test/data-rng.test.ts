import test from 'ava';
import { Rng } from '../src/data/index.js';

test('Rng matches the xoshiro128** reference output from state [1, 2, 3, 4]', (t) => {
  const rng = new Rng();
  rng.setState([1, 2, 3, 4]);
  const out = Array.from({ length: 10 }, () => rng.nextUint32());
  // First outputs of the reference C implementation (prng.di.unimi.it/xoshiro128starstar.c).
  t.deepEqual(out, [11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804]);
});

test('Rng: equal seeds give equal sequences, different seeds differ', (t) => {
  for (const seed of [0, 1, 42, 2 ** 32 - 1]) {
    const a = new Rng(seed);
    const b = new Rng(seed);
    const c = new Rng((seed + 1) % 2 ** 32);
    const sa = Array.from({ length: 50 }, () => a.nextUint32());
    t.deepEqual(sa, Array.from({ length: 50 }, () => b.nextUint32()));
    t.notDeepEqual(sa, Array.from({ length: 50 }, () => c.nextUint32()));
  }
});

test('Rng: nextUint32, nextFloat and nextInt stay in range', (t) => {
  const rng = new Rng(7);
  for (let i = 0; i < 20000; i++) {
    const u = rng.nextUint32();
    const f = rng.nextFloat();
    const n = 1 + (i % 37);
    const k = rng.nextInt(n);
    if (!(Number.isInteger(u) && u >= 0 && u < 2 ** 32)) t.fail(`nextUint32 gave ${u}`);
    if (!(f >= 0 && f < 1)) t.fail(`nextFloat gave ${f}`);
    if (!(Number.isInteger(k) && k >= 0 && k < n)) t.fail(`nextInt(${n}) gave ${k}`);
  }
  t.is(rng.nextInt(1), 0);
  const big = rng.nextInt(2 ** 32);
  t.true(big >= 0 && big < 2 ** 32);
});

test('Rng: nextInt is close to uniform (chi-squared) and nextFloat has mean 1/2', (t) => {
  const rng = new Rng(3);
  const n = 7;
  const draws = 70000;
  const counts = new Array<number>(n).fill(0);
  for (let i = 0; i < draws; i++) counts[rng.nextInt(n)]++;
  const expected = draws / n;
  const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
  t.true(chi2 < 22.5, `chi2 = ${chi2} with 6 degrees of freedom (p < 0.001 above 22.46)`);
  let sum = 0;
  for (let i = 0; i < draws; i++) sum += rng.nextFloat();
  t.true(Math.abs(sum / draws - 0.5) < 0.005);
});

test('Rng: a restored state continues the exact sequence, also through JSON', (t) => {
  const rng = new Rng(123);
  for (let i = 0; i < 17; i++) rng.nextUint32();
  const saved = JSON.parse(JSON.stringify(rng.state())) as number[];
  const expected = [rng.nextUint32(), rng.nextFloat(), rng.nextInt(1000), rng.nextUint32()];
  const restored = new Rng(999);
  restored.setState(saved);
  t.deepEqual([restored.nextUint32(), restored.nextFloat(), restored.nextInt(1000), restored.nextUint32()], expected);
  t.deepEqual(restored.state(), rng.state());
});

test('Rng: state() is a copy, not a view of the live state', (t) => {
  const rng = new Rng(5);
  const s = rng.state();
  rng.nextUint32();
  t.notDeepEqual(rng.state(), s);
});

test('Rng rejects bad seeds, states and bounds with TypeError or RangeError', (t) => {
  t.throws(() => new Rng('1' as unknown as number), { instanceOf: TypeError, message: /Expected an integer for seed but received "1"/ });
  t.throws(() => new Rng(-1), { instanceOf: RangeError, message: /for seed but received -1/ });
  t.throws(() => new Rng(2 ** 32), { instanceOf: RangeError });
  t.throws(() => new Rng(1.5), { instanceOf: RangeError });
  const rng = new Rng(1);
  const before = rng.state();
  t.throws(() => rng.setState('x'), { instanceOf: TypeError, message: /for state but received "x"/ });
  t.throws(() => rng.setState([1, 2, 3]), { instanceOf: RangeError, message: /array of 4 uint32/ });
  t.throws(() => rng.setState([1, 2, 3, -4]), { instanceOf: RangeError, message: /for state\[3\] but received -4/ });
  t.throws(() => rng.setState([1, 2, 3, 2 ** 32]), { instanceOf: RangeError });
  t.throws(() => rng.setState([0, 0, 0, 0]), { instanceOf: RangeError, message: /not all zero/ });
  t.deepEqual(rng.state(), before, 'a rejected state leaves the generator unchanged');
  t.throws(() => rng.nextInt(0), { instanceOf: RangeError, message: /for n but received 0/ });
  t.throws(() => rng.nextInt(2 ** 32 + 1), { instanceOf: RangeError });
  t.throws(() => rng.nextInt(NaN), { instanceOf: RangeError });
});

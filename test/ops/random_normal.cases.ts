// random_normal (native normal noise): a harness case, bad arguments (each call throws a TypeError
// or RangeError naming the argument, synchronously, before any work is queued), and the addon going
// on working. test/elbo-random.test.ts checks the values against the recipe.
// The harness case has no backward (noise is not differentiated): it checks that every element is
// written, in bounds, and another backend against the CPU. Tolerance: the stream is a pure function
// of (seed, index), so backends differ only in the last bits of log, sqrt, cos and sin (about 1e-7
// relative to values of |x| <= 8.57): the project's 1e-4 abs + 1e-4 rel leaves margin.
import test from 'ava';

import { any, b, disposed, T, type Case } from '../helpers/args.js';
import { backendTolerance, fdTolerance, type OpCase } from '../helpers/op-harness.js';

const op = 'random_normal';

export const harness: OpCase[] = [
  {
    // 15000 elements, from an odd offset (a sin value first).
    name: 'randomNormal',
    op,
    inputs: [],
    outputs: [{ name: 'out', shape: [3, 5000] }],
    gradInputs: [],
    forward: (b, _i, o) => b.randomNormal(o.out, 12345, 7),
    backendTolerance,
    fdTolerance,
  },
];

// A valid operand, so that each case breaks exactly one thing.
const noise = T([5, 7]);

export const badArguments: Case[] = [
  ['randomNormal with 2 arguments', () => (b.randomNormal as Function)(noise, 1), TypeError, 'randomNormal'],
  ['randomNormal with a Float32Array out', () => b.randomNormal(any(new Float32Array(4)), 1, 0), TypeError, 'out'],
  ['randomNormal with a disposed out', () => b.randomNormal(disposed(), 1, 0), TypeError, 'out'],
  ['randomNormal with a string seed', () => b.randomNormal(noise, any('1'), 0), TypeError, 'seed'],
  ['randomNormal with a NaN seed', () => b.randomNormal(noise, Number.NaN, 0), RangeError, 'seed'],
  ['randomNormal with a negative seed', () => b.randomNormal(noise, -1, 0), RangeError, 'seed'],
  ['randomNormal with a fractional seed', () => b.randomNormal(noise, 1.5, 0), RangeError, 'seed'],
  ['randomNormal with seed 2^32', () => b.randomNormal(noise, 2 ** 32, 0), RangeError, 'seed'],
  ['randomNormal with a bigint offset', () => b.randomNormal(noise, 1, any(3n)), TypeError, 'offset'],
  ['randomNormal with a negative offset', () => b.randomNormal(noise, 1, -1), RangeError, 'offset'],
  ['randomNormal with a fractional offset', () => b.randomNormal(noise, 1, 0.5), RangeError, 'offset'],
  ['randomNormal with offset 2^53', () => b.randomNormal(noise, 1, 2 ** 53), RangeError, 'offset'],
  ['randomNormal with an infinite offset', () => b.randomNormal(noise, 1, Infinity), RangeError, 'offset'],
  ['randomNormal with a NaN offset', () => b.randomNormal(noise, 1, Number.NaN), RangeError, 'offset'],
];

export function extraTests(): void {
  test('random_normal: the addon still works after every bad call', async (t) => {
    await b.randomNormal(noise, 7, 0);
    t.true((await noise.read()).every(Number.isFinite));
  });
}

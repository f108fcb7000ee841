// sum_squares (the squared norm of gradients): a harness case, bad arguments (each call throws a
// TypeError or RangeError naming the argument, synchronously), and the addon going on working.
// test/elbo-optim.test.ts checks the sum against a float64 reference.
// The harness case has no backward (the norm is not differentiated): its forward writes the
// float32 rounding of the sum into a [1] tensor, so that another backend is compared with the CPU.
// Tolerance: a double sum of ~26000 squares of size <= 1 (about 8700) in another order differs by
// far less than its float32 rounding (~5e-4): the project's 1e-4 abs + 1e-4 rel leaves margin.
import test from 'ava';

import { any, b, disposed, T, type Case } from '../helpers/args.js';
import { backendTolerance, fdTolerance, type OpCase } from '../helpers/op-harness.js';

const op = 'sum_squares';

export const harness: OpCase[] = [
  {
    // Tensors of different shapes, one of 26000 elements.
    name: 'sumSquares',
    op,
    inputs: [
      { name: 'a', shape: [130, 200] },
      { name: 'b', shape: [7] },
      { name: 'c', shape: [2, 3, 4] },
    ],
    outputs: [{ name: 'sum', shape: [1] }],
    gradInputs: [],
    forward: async (b, i, o) => o.sum.write(Float32Array.of(await b.sumSquares([i.a, i.b, i.c]))),
    backendTolerance,
    fdTolerance,
  },
];

// Valid operands, so that each case breaks exactly one thing.
const noise = T([5, 7]);
const zero = T([1]);

export const badArguments: Case[] = [
  ['sumSquares with no arguments', () => (b.sumSquares as Function)(), TypeError, 'sumSquares'],
  ['sumSquares with a tensor, not a list', () => b.sumSquares(any(noise)), TypeError, 'tensors'],
  ['sumSquares with an empty list', () => b.sumSquares([]), RangeError, 'tensors'],
  ['sumSquares with a number in the list', () => b.sumSquares(any([noise, 3])), TypeError, 'tensors[1]'],
  ['sumSquares with a disposed tensor in the list', () => b.sumSquares([noise, disposed()]), TypeError, 'tensors[1]'],
];

export function extraTests(): void {
  test('sum_squares: the addon still works after every bad call', async (t) => {
    await noise.fill(2);
    t.is(await b.sumSquares([noise, zero]), 35 * 4);
  });
}

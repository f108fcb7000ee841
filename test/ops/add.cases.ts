// add (addForward and addScaled): harness cases, bad arguments (each call throws a TypeError or
// RangeError whose message names the argument, synchronously), the addon going on working, and the
// refusal of CUDA tensors where the build has no CUDA kernel for add.
// Tolerances as for conv2d (conv2d.cases.ts): the op is linear in each input, so the project's
// finite-difference tolerance leaves margin.
import test from 'ava';

import { any, b, disposed, T, type Case } from '../helpers/args.js';
import { backendTolerance, cudaRefusalSkipReason, fdTolerance, type OpCase } from '../helpers/op-harness.js';

const op = 'add';

export const harness: OpCase[] = [
  {
    name: 'add',
    op,
    inputs: [
      { name: 'a', shape: [2, 3, 4, 5] },
      { name: 'b', shape: [2, 3, 4, 5] },
    ],
    outputs: [{ name: 'out', shape: [2, 3, 4, 5] }],
    gradInputs: ['a', 'b'],
    forward: (b, i, o) => b.addForward(i.a, i.b, o.out),
    backward: async (b, _i, go, gr, acc) => {
      await b.addScaled(go.out, 1, gr.a, acc);
      await b.addScaled(go.out, 1, gr.b, acc);
    },
    backendTolerance,
    fdTolerance,
  },
  {
    name: 'addScaled',
    op,
    inputs: [{ name: 'x', shape: [3, 7, 5] }],
    outputs: [{ name: 'out', shape: [3, 7, 5] }],
    gradInputs: ['x'],
    forward: (b, i, o) => b.addScaled(i.x, -0.7, o.out, false),
    backward: (b, _i, go, gr, acc) => b.addScaled(go.out, -0.7, gr.x, acc),
    backendTolerance,
    fdTolerance,
  },
];

// Valid operands, so that each case breaks exactly one thing.
const a = T([2, 3]);
const a2 = T([2, 3]);
const aout = T([2, 3]);

export const badArguments: Case[] = [
  // addForward
  ['addForward with 2 arguments', () => (b.addForward as Function)(a, a2), TypeError, 'the arguments of addForward'],
  ['addForward with a number for a', () => b.addForward(any(1), a2, aout), TypeError, 'a'],
  ['addForward with a disposed b', () => b.addForward(a, disposed(), aout), TypeError, 'b'],
  ['addForward with a transposed b', () => b.addForward(a, T([3, 2]), aout), RangeError, 'b'],
  ['addForward with a flat out', () => b.addForward(a, a2, T([6])), RangeError, 'out'],
  ['addForward writing into a view of a', () => b.addForward(a, a2, a.reshape([2, 3])), TypeError, 'out'],
  // addScaled
  ['addScaled with 3 arguments', () => (b.addScaled as Function)(a, 1, aout), TypeError, 'the arguments of addScaled'],
  ['addScaled with alpha NaN', () => b.addScaled(a, Number.NaN, aout, false), RangeError, 'alpha'],
  ['addScaled with alpha Infinity', () => b.addScaled(a, Infinity, aout, false), RangeError, 'alpha'],
  ['addScaled with alpha 1e300', () => b.addScaled(a, 1e300, aout, false), RangeError, 'alpha'],
  ['addScaled with alpha "2"', () => b.addScaled(a, any('2'), aout, false), TypeError, 'alpha'],
  ['addScaled with a flat out', () => b.addScaled(a, 1, T([6]), true), RangeError, 'out'],
  ['addScaled into its own input', () => b.addScaled(a, 1, a, true), TypeError, 'out'],
  ['addScaled with a disposed x', () => b.addScaled(disposed(), 1, aout, true), TypeError, 'x'],
  ['addScaled with accumulate null', () => b.addScaled(a, 1, aout, any(null)), TypeError, 'accumulate'],
];

export function extraTests(): void {
  test('add: the addon still works after every bad call', async (t) => {
    await a.fill(2);
    await aout.fill(1);
    await b.addScaled(a, 0.5, aout, true);
    t.deepEqual(Array.from(await aout.read()), [2, 2, 2, 2, 2, 2]);
  });

  const skip = cudaRefusalSkipReason(op);
  (skip ? test.skip : test)(`add: a CUDA tensor makes it reject, naming the op and saying there is no CUDA kernel${skip ? ` (skipped: ${skip})` : ''}`, async (t) => {
    const c = b.createTensor([2, 3], 'cuda');
    const c2 = b.createTensor([2, 3], 'cuda');
    try {
      await t.throwsAsync(b.addScaled(c, 1, c2, false), { message: /^addScaled: add_scaled has no CUDA kernel in this build/ });
    } finally {
      c.dispose();
      c2.dispose();
    }
  });
}

// sgd (the fused SGD-with-momentum update): a harness case, bad arguments (each call throws a
// TypeError or RangeError naming the argument, synchronously, before any work is queued), and
// rejected updates changing nothing. test/elbo-optim.test.ts checks the update against a float64
// reference.
// The harness case has no backward (the update is not differentiated): it checks that the updated
// params and velocity are all written, in bounds, and another backend against the CPU. Tolerance:
// one elementwise multiply-add step in float32, which backends may fuse differently: the project's
// 1e-4 abs + 1e-4 rel leaves margin.
import test from 'ava';

import { any, b, disposed, T, tensorList, withAt, type Case } from '../helpers/args.js';
import { updateCase, type OpCase } from '../helpers/op-harness.js';

const op = 'sgd';

export const harness: OpCase[] = [
  updateCase('sgdUpdate', op, [{ name: 'params', updated: true }, { name: 'grads' }, { name: 'velocity', updated: true }], (b, l) =>
    b.sgdUpdate(l.params, l.grads, l.velocity, 0.1, 0.9, 0.01, 0.5),
  ),
];

// Valid operands, so that each case breaks exactly one thing: lists of three tensors of different shapes.
const [params, grads, velocity] = [tensorList(), tensorList(), tensorList()];
const sgd = (over: Record<string, unknown> = {}) => {
  const a: Record<string, never> = any({ params, grads, velocity, lr: 0.1, momentum: 0.9, weightDecay: 0, gradScale: 1, ...over });
  return () => b.sgdUpdate(a.params, a.grads, a.velocity, a.lr, a.momentum, a.weightDecay, a.gradScale);
};

export const badArguments: Case[] = [
  ['sgdUpdate with 6 arguments', () => (b.sgdUpdate as Function)(params, grads, velocity, 0.1, 0.9, 0), TypeError, 'sgdUpdate'],
  ['sgdUpdate with a shorter velocity list', sgd({ velocity: velocity.slice(1) }), RangeError, 'velocity'],
  ['sgdUpdate with a shape mismatch at velocity[2]', sgd({ velocity: withAt(velocity, 2, T([2, 4])) }), RangeError, 'velocity[2]'],
  ['sgdUpdate with a disposed tensor in params', sgd({ params: withAt(params, 2, disposed()) }), TypeError, 'params[2]'],
  ['sgdUpdate with velocity aliasing grads', sgd({ velocity: grads }), TypeError, 'velocity[0]'],
  ['sgdUpdate with NaN lr', sgd({ lr: Number.NaN }), RangeError, 'lr'],
  ['sgdUpdate with a negative lr', sgd({ lr: -0.1 }), RangeError, 'lr'],
  ['sgdUpdate with momentum 1', sgd({ momentum: 1 }), RangeError, 'momentum'],
  ['sgdUpdate with NaN momentum', sgd({ momentum: Number.NaN }), RangeError, 'momentum'],
  ['sgdUpdate with a negative weightDecay', sgd({ weightDecay: -1 }), RangeError, 'weightDecay'],
  ['sgdUpdate with a NaN gradScale', sgd({ gradScale: Number.NaN }), RangeError, 'gradScale'],
];

export function extraTests(): void {
  test('sgd: the addon still works after every bad call, and rejected updates changed nothing', async (t) => {
    // The bad calls ran first (tests of one file start in order); none may have queued work.
    for (const p of params) t.true((await p.read()).every((e) => e === 0));
    for (const g of grads) await g.fill(1);
    await b.sgdUpdate(params, grads, velocity, 0.5, 0, 0, 1);
    t.true((await params[1].read()).every((e) => e === -0.5));
  });
}

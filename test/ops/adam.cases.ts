// adam (the fused Adam/AdamW update): a harness case, bad arguments (each call throws a TypeError or
// RangeError naming the argument, synchronously, before any work is queued) of its one-object
// calling convention, and rejected updates changing nothing. test/elbo-optim.test.ts checks the
// update against a float64 reference.
// The harness case has no backward (the update is not differentiated): it checks that the updated
// params, m and v are all written, in bounds, and another backend against the CPU. Tolerance: one
// elementwise step (a square root and a division in float32, lr_t in double) differs between
// backends in the last bits of values of size ~1: the project's 1e-4 abs + 1e-4 rel leaves margin.
import test from 'ava';

import type { AdamUpdateArgs } from '../../src/native/ops/adam.js';
import { any, b, disposed, namedArguments, T, tensorList, withAt, type Case } from '../helpers/args.js';
import { uniformIn, updateCase, type OpCase } from '../helpers/op-harness.js';

const op = 'adam';

export const harness: OpCase[] = [
  updateCase(
    'adamUpdate (AdamW, step 3)',
    op,
    [{ name: 'params', updated: true }, { name: 'grads' }, { name: 'm', updated: true }, { name: 'v', init: uniformIn(0, 1), updated: true }],
    (b, l) =>
      b.adamUpdate({
        params: l.params,
        grads: l.grads,
        m: l.m,
        v: l.v,
        lr: 1e-2,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weightDecay: 0.1,
        decoupled: true,
        step: 3,
        gradScale: 0.5,
      }),
  ),
];

// Valid operands, so that each case breaks exactly one thing: lists of three tensors of different shapes.
const [params, grads, m, v] = [tensorList(), tensorList(), tensorList(), tensorList()];
const valid: AdamUpdateArgs = { params, grads, m, v, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, step: 1, gradScale: 1 };
const update = namedArguments('adamUpdate', b.adamUpdate, valid, 'weight_decay', 'step');
const adam = update.call;

export const badArguments: Case[] = [
  ...update.convention,
  ['adamUpdate with a tensor for params', adam({ params: params[0] }), TypeError, 'params'],
  ['adamUpdate with empty lists', adam({ params: [], grads: [], m: [], v: [] }), RangeError, 'params'],
  ['adamUpdate with a shorter grads list', adam({ grads: grads.slice(0, 2) }), RangeError, 'grads'],
  ['adamUpdate with a longer m list', adam({ m: [...m, T([1])] }), RangeError, 'm'],
  ['adamUpdate with a shape mismatch at grads[2]', adam({ grads: withAt(grads, 2, T([4, 2])) }), RangeError, 'grads[2]'],
  ['adamUpdate with a shape mismatch at v[2]', adam({ v: withAt(v, 2, T([8])) }), RangeError, 'v[2]'],
  ['adamUpdate with a disposed tensor in m', adam({ m: withAt(m, 1, disposed()) }), TypeError, 'm[1]'],
  ['adamUpdate with a string in grads', adam({ grads: withAt(grads, 0, any('g')) }), TypeError, 'grads[0]'],
  ['adamUpdate with m[0] the same tensor as params[0]', adam({ m: withAt(m, 0, params[0]) }), TypeError, 'params[0]'],
  ['adamUpdate with a parameter listed twice', adam({ params: [params[0], params[0]], grads: [grads[0], grads[0]], m: [m[0], T([2, 3])], v: [v[0], T([2, 3])] }), TypeError, 'params[0]'],
  ['adamUpdate with NaN lr', adam({ lr: Number.NaN }), RangeError, 'lr'],
  ['adamUpdate with a negative lr', adam({ lr: -1e-3 }), RangeError, 'lr'],
  ['adamUpdate with a string lr', adam({ lr: '0.1' }), TypeError, 'lr'],
  ['adamUpdate with beta1 = 1', adam({ beta1: 1 }), RangeError, 'beta1'],
  ['adamUpdate with a negative beta1', adam({ beta1: -0.1 }), RangeError, 'beta1'],
  ['adamUpdate with beta2 = 1', adam({ beta2: 1 }), RangeError, 'beta2'],
  ['adamUpdate with NaN beta2', adam({ beta2: Number.NaN }), RangeError, 'beta2'],
  ['adamUpdate with eps 0', adam({ eps: 0 }), RangeError, 'eps'],
  ['adamUpdate with a negative weightDecay', adam({ weightDecay: -1e-4 }), RangeError, 'weightDecay'],
  ['adamUpdate with a numeric decoupled', adam({ decoupled: 1 }), TypeError, 'decoupled'],
  ['adamUpdate with step 0', adam({ step: 0 }), RangeError, 'step'],
  ['adamUpdate with a negative step', adam({ step: -3 }), RangeError, 'step'],
  ['adamUpdate with a fractional step', adam({ step: 2.5 }), RangeError, 'step'],
  ['adamUpdate with step 2^53', adam({ step: 2 ** 53 }), RangeError, 'step'],
  ['adamUpdate with NaN step', adam({ step: Number.NaN }), RangeError, 'step'],
  ['adamUpdate with a negative gradScale', adam({ gradScale: -1 }), RangeError, 'gradScale'],
  ['adamUpdate with an infinite gradScale', adam({ gradScale: Infinity }), RangeError, 'gradScale'],
];

export function extraTests(): void {
  test('adam: rejected updates changed nothing, and the valid call of these cases works', async (t) => {
    // The bad calls ran first (tests of one file start in order); none may have queued work.
    for (const list of [params, m, v]) for (const p of list) t.true((await p.read()).every((e) => e === 0));
    for (const g of grads) await g.fill(1);
    await b.adamUpdate(valid);
    // Adam's first step moves every parameter by lr against the sign of its gradient.
    for (const p of params) t.true((await p.read()).every((e) => Math.abs(e + 1e-3) < 1e-6));
  });
}

// Every export of the ELBO family with bad arguments: each call must throw a TypeError or
// RangeError that names the argument, synchronously (before any work is queued), and the addon
// must go on working.
import test from 'ava';

import type { NativeTensor } from '../src/native/binding.js';
import { any, argumentTests, b, disposed, T, type Case } from './helpers/args.js';



// Valid operands for each op, so that each case breaks exactly one thing. N = 4, D = 6, Z = 3.
const noise = T([5, 7]);
const [mu, pre, eps, zOut, gMu, gPre, gOut] = [0, 1, 2, 3, 4, 5, 6].map(() => T([4, 3]));
const [logits, x] = [T([4, 6]), T([4, 6])];
const [z, muQ, preQ, muP, preP] = [0, 1, 2, 3, 4].map(() => T([4, 3]));
const rowWeight = T([4]);
const [terms, loss, gradLoss] = [T([4, 3]), T([1]), T([1])];
const [gLogits, gZ, gMuQ, gPreQ, gMuP, gPreP] = [T([4, 6]), ...[0, 1, 2, 3, 4].map(() => T([4, 3]))];
// Parameter lists: three tensors of different shapes.
const shapes = [[2, 3], [5], [4, 1, 2]];
const list = () => shapes.map((s) => T(s));
const [params, grads, m, v, velocity] = [list(), list(), list(), list(), list()];
const withAt = (l: NativeTensor[], i: number, t: NativeTensor) => l.map((e, j) => (j === i ? t : e));

const forward = (over: Record<string, unknown> = {}) => {
  const a: Record<string, never> = any({ logits, x, z, muQ, preQ, muP, preP, rowWeight, terms, loss, ...over });
  return () => b.elboForward(a.logits, a.x, a.z, a.muQ, a.preQ, a.muP, a.preP, a.rowWeight, a.terms, a.loss);
};
const backward = (over: Record<string, unknown> = {}) => {
  const a: Record<string, never> = any({ logits, x, z, muQ, preQ, muP, preP, rowWeight, gradLoss, gLogits, gZ, gMuQ, gPreQ, gMuP, gPreP, accumulate: false, ...over });
  return () =>
    b.elboBackward(a.logits, a.x, a.z, a.muQ, a.preQ, a.muP, a.preP, a.rowWeight, a.gradLoss, a.gLogits, a.gZ, a.gMuQ, a.gPreQ, a.gMuP, a.gPreP, a.accumulate);
};
const adam = (over: Record<string, unknown> = {}) => {
  const a: Record<string, never> = any({ params, grads, m, v, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, step: 1, gradScale: 1, ...over });
  return () => b.adamUpdate(a.params, a.grads, a.m, a.v, a.lr, a.beta1, a.beta2, a.eps, a.weightDecay, a.decoupled, a.step, a.gradScale);
};
const sgd = (over: Record<string, unknown> = {}) => {
  const a: Record<string, never> = any({ params, grads, velocity, lr: 0.1, momentum: 0.9, weightDecay: 0, gradScale: 1, ...over });
  return () => b.sgdUpdate(a.params, a.grads, a.velocity, a.lr, a.momentum, a.weightDecay, a.gradScale);
};

const cases: Case[] = [
  // randomNormal
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
  // gaussianSampleForward
  ['gaussianSampleForward with 3 arguments', () => (b.gaussianSampleForward as Function)(mu, pre, eps), TypeError, 'gaussianSampleForward'],
  ['gaussianSampleForward with 1-D mu', () => b.gaussianSampleForward(T([12]), pre, eps, zOut), RangeError, 'mu'],
  ['gaussianSampleForward with a wrong preSigma', () => b.gaussianSampleForward(mu, T([4, 4]), eps, zOut), RangeError, 'preSigma'],
  ['gaussianSampleForward with a wrong eps', () => b.gaussianSampleForward(mu, pre, T([3, 4]), zOut), RangeError, 'eps'],
  ['gaussianSampleForward with a wrong out', () => b.gaussianSampleForward(mu, pre, eps, T([4, 3, 1])), RangeError, 'out'],
  ['gaussianSampleForward with a disposed eps', () => b.gaussianSampleForward(mu, pre, disposed(), zOut), TypeError, 'eps'],
  ['gaussianSampleForward with null out', () => b.gaussianSampleForward(mu, pre, eps, any(null)), TypeError, 'out'],
  ['gaussianSampleForward writing into mu', () => b.gaussianSampleForward(mu, pre, eps, mu), TypeError, 'out'],
  ['gaussianSampleForward writing into a view of eps', () => b.gaussianSampleForward(mu, pre, eps, eps.reshape([4, 3])), TypeError, 'out'],
  // gaussianSampleBackward
  ['gaussianSampleBackward with 5 arguments', () => (b.gaussianSampleBackward as Function)(pre, eps, gOut, gMu, gPre), TypeError, 'gaussianSampleBackward'],
  ['gaussianSampleBackward with a wrong eps', () => b.gaussianSampleBackward(pre, T([4, 2]), gOut, gMu, gPre, false), RangeError, 'eps'],
  ['gaussianSampleBackward with a wrong gradOut', () => b.gaussianSampleBackward(pre, eps, T([12]), gMu, gPre, false), RangeError, 'gradOut'],
  ['gaussianSampleBackward with a wrong gradMu', () => b.gaussianSampleBackward(pre, eps, gOut, T([4, 2]), gPre, false), RangeError, 'gradMu'],
  ['gaussianSampleBackward with a wrong gradPreSigma', () => b.gaussianSampleBackward(pre, eps, gOut, gMu, T([3, 3]), false), RangeError, 'gradPreSigma'],
  ['gaussianSampleBackward with a string gradMu', () => b.gaussianSampleBackward(pre, eps, gOut, any('g'), gPre, false), TypeError, 'gradMu'],
  ['gaussianSampleBackward with gradMu as gradPreSigma', () => b.gaussianSampleBackward(pre, eps, gOut, gMu, gMu, false), TypeError, 'gradMu'],
  ['gaussianSampleBackward with gradPreSigma aliasing gradOut', () => b.gaussianSampleBackward(pre, eps, gOut, null, gOut, false), TypeError, 'gradPreSigma'],
  ['gaussianSampleBackward with a numeric accumulate', () => b.gaussianSampleBackward(pre, eps, gOut, gMu, gPre, any(0)), TypeError, 'accumulate'],
  // elboForward
  ['elboForward with 9 arguments', () => (b.elboForward as Function)(logits, x, z, muQ, preQ, muP, preP, rowWeight, terms), TypeError, 'elboForward'],
  ['elboForward with 1-D logits', forward({ logits: T([24]) }), RangeError, 'logits'],
  ['elboForward with a wrong x', forward({ x: T([4, 5]) }), RangeError, 'x'],
  ['elboForward with 1-D z', forward({ z: T([12]) }), RangeError, 'z'],
  ['elboForward with z of the wrong N', forward({ z: T([5, 3]) }), RangeError, 'z'],
  ['elboForward with a wrong muQ', forward({ muQ: T([4, 2]) }), RangeError, 'muQ'],
  ['elboForward with a wrong preQ', forward({ preQ: T([4, 4]) }), RangeError, 'preQ'],
  ['elboForward with a wrong muP', forward({ muP: T([3, 3]) }), RangeError, 'muP'],
  ['elboForward with a wrong preP', forward({ preP: T([12]) }), RangeError, 'preP'],
  ['elboForward with a wrong rowWeight', forward({ rowWeight: T([4, 1]) }), RangeError, 'rowWeight'],
  ['elboForward with a wrong terms', forward({ terms: T([4, 2]) }), RangeError, 'terms'],
  ['elboForward with a wrong loss', forward({ loss: T([2]) }), RangeError, 'loss'],
  ['elboForward with a disposed preP', forward({ preP: disposed() }), TypeError, 'preP'],
  ['elboForward with a number for rowWeight', forward({ rowWeight: 1 }), TypeError, 'rowWeight'],
  ['elboForward writing terms into muQ', forward({ terms: muQ }), TypeError, 'terms'],
  // elboBackward
  ['elboBackward with 15 arguments', () => (b.elboBackward as Function)(logits, x, z, muQ, preQ, muP, preP, rowWeight, gradLoss, gLogits, gZ, gMuQ, gPreQ, gMuP, gPreP), TypeError, 'elboBackward'],
  ['elboBackward with a wrong gradLoss', backward({ gradLoss: T([1, 1]) }), RangeError, 'gradLoss'],
  ['elboBackward with z of the wrong N', backward({ z: T([5, 3]) }), RangeError, 'z'],
  ['elboBackward with a wrong gradLogits', backward({ gLogits: T([4, 5]) }), RangeError, 'gradLogits'],
  ['elboBackward with a wrong gradZ', backward({ gZ: T([4, 2]) }), RangeError, 'gradZ'],
  ['elboBackward with a wrong gradMuQ', backward({ gMuQ: T([12]) }), RangeError, 'gradMuQ'],
  ['elboBackward with a wrong gradPreQ', backward({ gPreQ: T([5, 3]) }), RangeError, 'gradPreQ'],
  ['elboBackward with a wrong gradMuP', backward({ gMuP: T([3]) }), RangeError, 'gradMuP'],
  ['elboBackward with a wrong gradPreP', backward({ gPreP: T([4, 3, 1]) }), RangeError, 'gradPreP'],
  ['elboBackward with a disposed gradMuQ', backward({ gMuQ: disposed() }), TypeError, 'gradMuQ'],
  ['elboBackward with a string gradPreP', backward({ gPreP: 'g' }), TypeError, 'gradPreP'],
  ['elboBackward with gradZ aliasing z', backward({ gZ: z }), TypeError, 'gradZ'],
  ['elboBackward with a string accumulate', backward({ accumulate: 'yes' }), TypeError, 'accumulate'],
  // sumSquares
  ['sumSquares with no arguments', () => (b.sumSquares as Function)(), TypeError, 'sumSquares'],
  ['sumSquares with a tensor, not a list', () => b.sumSquares(any(noise)), TypeError, 'tensors'],
  ['sumSquares with an empty list', () => b.sumSquares([]), RangeError, 'tensors'],
  ['sumSquares with a number in the list', () => b.sumSquares(any([noise, 3])), TypeError, 'tensors[1]'],
  ['sumSquares with a disposed tensor in the list', () => b.sumSquares([noise, disposed()]), TypeError, 'tensors[1]'],
  // adamUpdate
  ['adamUpdate with 11 arguments', () => (b.adamUpdate as Function)(params, grads, m, v, 1e-3, 0.9, 0.999, 1e-8, 0, false, 1), TypeError, 'adamUpdate'],
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
  // sgdUpdate
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

argumentTests(cases);

test('the addon still works after every bad call, and rejected updates changed nothing', async (t) => {
  // The bad calls above ran first (tests of one file start in order); none may have queued work.
  for (const p of params) t.true((await p.read()).every((e) => e === 0));
  await noise.fill(2);
  t.is(await b.sumSquares([noise, gradLoss]), 35 * 4);
  for (const g of grads) await g.fill(1);
  await b.sgdUpdate(params, grads, velocity, 0.5, 0, 0, 1);
  t.true((await params[1].read()).every((e) => e === -0.5));
  await b.randomNormal(noise, 7, 0);
  t.true((await noise.read()).every(Number.isFinite));
});

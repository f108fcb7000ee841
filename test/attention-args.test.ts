// The attention read's exports with bad arguments: each call must throw a TypeError or RangeError
// that names the argument, synchronously, and the process must go on working.
import test from 'ava';

import { any, argumentTests, b, disposed, T, type Case } from './helpers/args.js';
import { unusableReason } from './helpers/op-harness.js';



// Calls `fn` with valid `args` except argument i, replaced by `value`.
const withArg =
  (fn: unknown, args: unknown[], i: number, value: unknown) =>
  () =>
    (fn as (...a: unknown[]) => unknown)(...args.map((a, j) => (j === i ? value : a)));

// concat: two inputs [4, 2] and [4, 3].
const c1 = T([4, 2]);
const c2 = T([4, 3]);
const cout = T([4, 5]);
// broadcastRows: H = 3, N = 4.
const vec = T([3]);
const bout = T([4, 3]);
// attention: B = 2 episodes of T = 3 positions (R = 6), D = 4, F = 5, P = 1.
const q = T([6, 4]);
const k = T([6, 4]);
const pk = T([1, 4]);
const v = T([6, 5]);
const pv = T([1, 5]);
const s = T([6, 1]);
const aout = T([6, 5]);
const aw = T([6, 4]);
const fwd = [q, k, pk, v, pv, s, aout, aw, 2, 'dot', 3];
const [gq, gk, gpk, gv, gpv, gs] = [T([6, 4]), T([6, 4]), T([1, 4]), T([6, 5]), T([1, 5]), T([6, 1])];
const bwd = [q, k, pk, v, pv, s, aw, aout, gq, gk, gpk, gv, gpv, gs, 2, 'dot', 3, false];
// GRU: N = 2, I = 3, H = 4.
const x = T([2, 3]);
const h = T([2, 4]);
const wg = T([8, 7]);
const bg = T([8]);
const wc = T([4, 7]);
const bc = T([4]);
const sl = T([4]);
const gout = T([2, 4]);
const saved = T([2, 16]);
const gru = [x, h, wg, bg, wc, bc, sl, gout, saved];
const gruGrads = [T([2, 3]), T([2, 4]), T([8, 7]), T([8]), T([4, 7]), T([4]), T([4])];
const gruBwd = [x, h, wg, bg, wc, bc, sl, saved, gout, ...gruGrads, false];

const af = (i: number, value: unknown) => withArg(b.attentionForward, fwd, i, value);
const ab = (i: number, value: unknown) => withArg(b.attentionBackward, bwd, i, value);
const gf = (i: number, value: unknown) => withArg(b.gruForward, gru, i, value);
const gb = (i: number, value: unknown) => withArg(b.gruBackward, gruBwd, i, value);

const cases: Case[] = [
  // concatForward
  ['concatForward with 1 argument', () => (b.concatForward as Function)([c1, c2]), TypeError, 'concatForward'],
  ['concatForward with a tensor for inputs', () => b.concatForward(any(c1), cout), TypeError, 'inputs'],
  ['concatForward with no inputs', () => b.concatForward([], cout), RangeError, 'inputs'],
  ['concatForward with a number in inputs', () => b.concatForward([c1, any(3)], cout), TypeError, 'inputs[1]'],
  ['concatForward with a null input', () => b.concatForward([any(null), c2], cout), TypeError, 'inputs[0]'],
  ['concatForward with a disposed input', () => b.concatForward([c1, disposed()], cout), TypeError, 'inputs[1]'],
  ['concatForward with a 1-D input', () => b.concatForward([T([4]), c2], T([4, 4])), RangeError, 'inputs[0]'],
  ['concatForward with mismatched rows', () => b.concatForward([c1, T([3, 3])], cout), RangeError, 'inputs[1]'],
  ['concatForward with a wrong out', () => b.concatForward([c1, c2], T([4, 6])), RangeError, 'out'],
  ['concatForward writing into an input', () => b.concatForward([c1, c1], c1.reshape([2, 4])), TypeError, 'out'],
  ['concatForward with undefined out', () => b.concatForward([c1, c2], any(undefined)), TypeError, 'out'],
  // concatBackward
  ['concatBackward with 2 arguments', () => (b.concatBackward as Function)(cout, [c1, c2]), TypeError, 'concatBackward'],
  ['concatBackward with a tensor for gradInputs', () => b.concatBackward(cout, any(c1), false), TypeError, 'gradInputs'],
  ['concatBackward with no gradInputs', () => b.concatBackward(cout, [], false), RangeError, 'gradInputs'],
  ['concatBackward with a string entry', () => b.concatBackward(cout, [any('g'), c2], false), TypeError, 'gradInputs[0]'],
  ['concatBackward with widths that do not sum', () => b.concatBackward(cout, [c1, T([4, 2])], false), RangeError, 'gradInputs'],
  ['concatBackward with no room for a null entry', () => b.concatBackward(cout, [c1, null, c2], false), RangeError, 'gradInputs'],
  ['concatBackward with a given entry after two nulls', () => b.concatBackward(T([4, 9]), [null, null, c1], false), RangeError, 'gradInputs[2]'],
  ['concatBackward with mismatched rows', () => b.concatBackward(cout, [c1, T([3, 3])], false), RangeError, 'gradInputs[1]'],
  ['concatBackward with a 1-D gradOut', () => b.concatBackward(T([5]), [c1, c2], false), RangeError, 'gradOut'],
  ['concatBackward writing into gradOut', () => b.concatBackward(cout, [cout], false), TypeError, 'gradInputs[0]'],
  ['concatBackward with a numeric accumulate', () => b.concatBackward(cout, [c1, c2], any(0)), TypeError, 'accumulate'],
  // broadcastRowsForward / broadcastRowsBackward
  ['broadcastRowsForward with 3 arguments', () => (b.broadcastRowsForward as Function)(vec, bout, 1), TypeError, 'broadcastRowsForward'],
  ['broadcastRowsForward with a 2-D vector', () => b.broadcastRowsForward(T([1, 3]), bout), RangeError, 'vector'],
  ['broadcastRowsForward with a disposed vector', () => b.broadcastRowsForward(disposed(), bout), TypeError, 'vector'],
  ['broadcastRowsForward with a 1-D out', () => b.broadcastRowsForward(vec, T([3])), RangeError, 'out'],
  ['broadcastRowsForward with a wrong out width', () => b.broadcastRowsForward(vec, T([4, 4])), RangeError, 'out'],
  ['broadcastRowsForward writing into its vector', () => b.broadcastRowsForward(vec, vec.reshape([1, 3])), TypeError, 'out'],
  ['broadcastRowsBackward with a wrong gradVector', () => b.broadcastRowsBackward(bout, T([4]), false), RangeError, 'gradVector'],
  ['broadcastRowsBackward with a 1-D gradOut', () => b.broadcastRowsBackward(T([3]), vec, false), RangeError, 'gradOut'],
  ['broadcastRowsBackward with a string accumulate', () => b.broadcastRowsBackward(bout, vec, any('yes')), TypeError, 'accumulate'],
  ['broadcastRowsBackward with a number for gradVector', () => b.broadcastRowsBackward(bout, any(1), false), TypeError, 'gradVector'],
  // attentionForward
  ['attentionForward with 10 arguments', () => (b.attentionForward as Function)(...fwd.slice(0, 10)), TypeError, 'attentionForward'],
  ['attentionForward with 0 episodes', af(8, 0), RangeError, 'episodes'],
  ['attentionForward with -1 episodes', af(8, -1), RangeError, 'episodes'],
  ['attentionForward with 1.5 episodes', af(8, 1.5), RangeError, 'episodes'],
  ['attentionForward with NaN episodes', af(8, Number.NaN), RangeError, 'episodes'],
  ['attentionForward with infinite episodes', af(8, Infinity), RangeError, 'episodes'],
  ['attentionForward with 1e12 episodes', af(8, 1e12), RangeError, 'episodes'],
  ['attentionForward with episodes not dividing R', af(8, 4), RangeError, 'episodes'],
  ['attentionForward with a string for episodes', af(8, '2'), TypeError, 'episodes'],
  ['attentionForward with an unknown similarity', af(9, 'euclid'), RangeError, 'similarity'],
  ['attentionForward with a numeric similarity', af(9, 1), TypeError, 'similarity'],
  ['attentionForward with pseudoPositions -1', af(10, -1), RangeError, 'pseudoPositions'],
  ['attentionForward with pseudoPositions > T', af(10, 4), RangeError, 'pseudoPositions'],
  ['attentionForward with pseudoPositions 0.5', af(10, 0.5), RangeError, 'pseudoPositions'],
  ['attentionForward with NaN pseudoPositions', af(10, Number.NaN), RangeError, 'pseudoPositions'],
  ['attentionForward with 1e12 pseudoPositions', af(10, 1e12), RangeError, 'pseudoPositions'],
  ['attentionForward with null pseudoPositions', af(10, null), TypeError, 'pseudoPositions'],
  ['attentionForward (dot) without a query', af(0, null), TypeError, 'query'],
  ['attentionForward (dot) without keys', af(1, null), TypeError, 'keys'],
  ['attentionForward (dot) without strength', af(5, null), TypeError, 'strength'],
  ['attentionForward with pseudoValues but no pseudoKeys', af(2, null), TypeError, 'pseudoKeys'],
  ['attentionForward with pseudoKeys but no pseudoValues', af(4, null), TypeError, 'pseudoValues'],
  ['attentionForward without values', af(3, null), TypeError, 'values'],
  ['attentionForward with a Float32Array query', af(0, new Float32Array(24)), TypeError, 'query'],
  ['attentionForward with a disposed keys', af(1, disposed()), TypeError, 'keys'],
  ['attentionForward with a 1-D values', af(3, T([30])), RangeError, 'values'],
  ['attentionForward with query rows != R', af(0, T([5, 4])), RangeError, 'query'],
  ['attentionForward with keys of another D', af(1, T([6, 3])), RangeError, 'keys'],
  ['attentionForward with pseudoKeys of another D', af(2, T([1, 3])), RangeError, 'pseudoKeys'],
  ['attentionForward with pseudoValues of another F', af(4, T([1, 4])), RangeError, 'pseudoValues'],
  ['attentionForward with a 1-D strength', af(5, T([6])), RangeError, 'strength'],
  ['attentionForward with a wrong out', af(6, T([6, 4])), RangeError, 'out'],
  ['attentionForward with weights missing the pseudo slot', af(7, T([6, 3])), RangeError, 'weights'],
  ['attentionForward writing out into values', af(6, v), TypeError, 'out'],
  ['attentionForward with weights sharing out', af(7, aout), TypeError, 'weights'],
  // attentionBackward
  ['attentionBackward with 17 arguments', () => (b.attentionBackward as Function)(...bwd.slice(0, 17)), TypeError, 'attentionBackward'],
  ['attentionBackward with wrong weights', ab(6, T([6, 3])), RangeError, 'weights'],
  ['attentionBackward with a wrong gradOut', ab(7, T([6, 4])), RangeError, 'gradOut'],
  ['attentionBackward with a wrong gradQuery', ab(8, T([6, 5])), RangeError, 'gradQuery'],
  ['attentionBackward with a wrong gradKeys', ab(9, T([4, 6])), RangeError, 'gradKeys'],
  ['attentionBackward with a wrong gradPseudoKeys', ab(10, T([2, 4])), RangeError, 'gradPseudoKeys'],
  ['attentionBackward with a wrong gradValues', ab(11, T([6, 4])), RangeError, 'gradValues'],
  ['attentionBackward with a wrong gradPseudoValues', ab(12, T([5])), RangeError, 'gradPseudoValues'],
  ['attentionBackward with a wrong gradStrength', ab(13, T([6])), RangeError, 'gradStrength'],
  ['attentionBackward with gradStrength aliasing strength', ab(13, s), TypeError, 'gradStrength'],
  ['attentionBackward with a string for gradKeys', ab(9, 'g'), TypeError, 'gradKeys'],
  ['attentionBackward with a disposed gradValues', ab(11, disposed()), TypeError, 'gradValues'],
  ['attentionBackward (average) with a gradQuery', () => b.attentionBackward(null, null, null, v, pv, null, aw, aout, gq, null, null, gv, gpv, null, 2, 'average', 3, false), TypeError, 'gradQuery'],
  ['attentionBackward (average) with a gradStrength', () => b.attentionBackward(null, null, null, v, pv, null, aw, aout, null, null, null, gv, gpv, gs, 2, 'average', 3, false), TypeError, 'gradStrength'],
  ['attentionBackward with a gradPseudoValues but no pseudoValues', () => b.attentionBackward(q, k, null, v, null, s, T([6, 3]), aout, null, null, null, null, gpv, null, 2, 'dot', 3, false), TypeError, 'gradPseudoValues'],
  ['attentionBackward (cosine) without a query', ab(0, null), TypeError, 'query'],
  ['attentionBackward with NaN episodes', ab(14, Number.NaN), RangeError, 'episodes'],
  ['attentionBackward with 3.5 episodes', ab(14, 3.5), RangeError, 'episodes'],
  ['attentionBackward with an unknown similarity', ab(15, 'Dot'), RangeError, 'similarity'],
  ['attentionBackward with a huge pseudoPositions', ab(16, 2 ** 40), RangeError, 'pseudoPositions'],
  ['attentionBackward with a numeric accumulate', ab(17, 1), TypeError, 'accumulate'],
  // gruForward
  ['gruForward with 8 arguments', () => (b.gruForward as Function)(...gru.slice(0, 8)), TypeError, 'gruForward'],
  ['gruForward with a 1-D x', gf(0, T([6])), RangeError, 'x'],
  ['gruForward with a Float32Array x', gf(0, new Float32Array(6)), TypeError, 'x'],
  ['gruForward with h of other rows', gf(1, T([3, 4])), RangeError, 'h'],
  ['gruForward with a wrong wGates', gf(2, T([8, 6])), RangeError, 'wGates'],
  ['gruForward with a wrong bGates', gf(3, T([4])), RangeError, 'bGates'],
  ['gruForward with a wrong wCand', gf(4, T([8, 7])), RangeError, 'wCand'],
  ['gruForward with a wrong bCand', gf(5, T([8])), RangeError, 'bCand'],
  ['gruForward with a wrong slope', gf(6, T([1])), RangeError, 'slope'],
  ['gruForward with a disposed slope', gf(6, disposed()), TypeError, 'slope'],
  ['gruForward with a wrong out', gf(7, T([2, 3])), RangeError, 'out'],
  ['gruForward with a wrong saved', gf(8, T([2, 8])), RangeError, 'saved'],
  ['gruForward writing out into h', gf(7, h), TypeError, 'out'],
  ['gruForward with saved sharing out', gf(8, gout), TypeError, 'saved'],
  ['gruForward with a null wGates', gf(2, null), TypeError, 'wGates'],
  // gruBackward
  ['gruBackward with 16 arguments', () => (b.gruBackward as Function)(...gruBwd.slice(0, 16)), TypeError, 'gruBackward'],
  ['gruBackward with a wrong saved', gb(7, T([2, 4])), RangeError, 'saved'],
  ['gruBackward with a wrong gradOut', gb(8, T([2, 3])), RangeError, 'gradOut'],
  ['gruBackward with a wrong gradX', gb(9, T([2, 4])), RangeError, 'gradX'],
  ['gruBackward with a wrong gradH', gb(10, T([2, 3])), RangeError, 'gradH'],
  ['gruBackward with a wrong gradWGates', gb(11, T([4, 7])), RangeError, 'gradWGates'],
  ['gruBackward with a wrong gradBGates', gb(12, T([4])), RangeError, 'gradBGates'],
  ['gruBackward with a wrong gradWCand', gb(13, T([8, 7])), RangeError, 'gradWCand'],
  ['gruBackward with a wrong gradBCand', gb(14, T([8])), RangeError, 'gradBCand'],
  ['gruBackward with a wrong gradSlope', gb(15, T([4, 1])), RangeError, 'gradSlope'],
  ['gruBackward with gradH aliasing h', gb(10, h), TypeError, 'gradH'],
  ['gruBackward with a number for gradX', gb(9, 0), TypeError, 'gradX'],
  ['gruBackward with an undefined accumulate', gb(16, undefined), TypeError, 'accumulate'],
  ['gruBackward with a disposed saved', gb(7, disposed()), TypeError, 'saved'],
];

argumentTests(cases);

test('the valid calls of these cases work, and the addon still works after every bad call', async (t) => {
  await c1.fill(1);
  await c2.fill(2);
  await b.concatForward([c1, c2], cout);
  t.deepEqual(Array.from((await cout.read()).slice(0, 5)), [1, 1, 2, 2, 2]);
  await vec.write(Float32Array.of(1, 2, 3));
  await b.broadcastRowsForward(vec, bout);
  t.deepEqual(Array.from((await bout.read()).slice(9)), [1, 2, 3]);
  for (const a of [q, k, pk, v, pv]) await a.fill(0.5);
  await s.fill(1);
  await (b.attentionForward as Function)(...fwd);
  await (b.attentionBackward as Function)(...bwd);
  // Equal keys: every valid slot gets the same weight, and every value is 0.5.
  t.deepEqual(Array.from((await aw.read()).slice(4, 8)), [0.5, 0, 0, 0.5]);
  t.true((await aout.read()).every((e) => e === 0.5));
  await (b.gruForward as Function)(...gru);
  await (b.gruBackward as Function)(...gruBwd);
  t.true((await gout.read()).every(Number.isFinite));
});

const cudaReason = unusableReason('cuda');
(cudaReason ? test.skip : test)(`attention exports refuse CUDA tensors clearly${cudaReason ? ` (skipped: ${cudaReason})` : ''}`, async (t) => {
  const cuda = (shape: number[]) => b.createTensor(shape, 'cuda');
  const [cv, co] = [cuda([3]), cuda([4, 3])];
  await t.throwsAsync(b.broadcastRowsForward(cv, co) as Promise<unknown>, { message: /no CUDA kernel/ });
  cv.dispose();
  co.dispose();
});

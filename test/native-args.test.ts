// Every exported native function with bad arguments: each call must throw a TypeError or
// RangeError that names the argument, synchronously, and the process must go on working.
import test from 'ava';

import { any, argumentTests, b, disposed, T, type Case } from './helpers/args.js';



// Valid operands for each op, so that each case breaks exactly one thing.
const x = T([4, 3]);
const w = T([5, 3]);
const bias = T([5]);
const out = T([4, 5]);
const px = T([2, 3, 4]);
const alpha = T([3]);
const pout = T([2, 3, 4]);

const cases: Case[] = [
  // createTensor
  ['createTensor with no arguments', () => (b.createTensor as Function)(), TypeError, 'createTensor'],
  ['createTensor with too many arguments', () => (b.createTensor as Function)([1], 'cpu', null, 1), TypeError, 'createTensor'],
  ['createTensor with a string shape', () => b.createTensor(any('2x3') as never, 'cpu'), TypeError, 'shape'],
  ['createTensor with an empty shape', () => b.createTensor([], 'cpu'), RangeError, 'shape'],
  ['createTensor with a zero size', () => b.createTensor([2, 0], 'cpu'), RangeError, 'shape[1]'],
  ['createTensor with a negative size', () => b.createTensor([-3], 'cpu'), RangeError, 'shape[0]'],
  ['createTensor with a fractional size', () => b.createTensor([1.5], 'cpu'), RangeError, 'shape[0]'],
  ['createTensor with a NaN size', () => b.createTensor([Number.NaN], 'cpu'), RangeError, 'shape[0]'],
  ['createTensor with an infinite size', () => b.createTensor([Infinity], 'cpu'), RangeError, 'shape[0]'],
  ['createTensor with a huge size', () => b.createTensor([1e12], 'cpu'), RangeError, 'shape[0]'],
  ['createTensor with a huge product', () => b.createTensor([65536, 65536], 'cpu'), RangeError, 'shape'],
  ['createTensor with a string size', () => b.createTensor([any('4') as never], 'cpu'), TypeError, 'shape[0]'],
  ['createTensor with 9 dimensions', () => b.createTensor([1, 1, 1, 1, 1, 1, 1, 1, 1], 'cpu'), RangeError, 'shape'],
  ['createTensor on an unknown device', () => b.createTensor([2], any('gpu') as never), RangeError, 'device'],
  ['createTensor with a numeric device', () => b.createTensor([2], any(0) as never), TypeError, 'device'],
  ['createTensor with data of the wrong length', () => b.createTensor([2, 2], 'cpu', new Float32Array(3)), RangeError, 'data'],
  ['createTensor with Float64Array data', () => b.createTensor([2], 'cpu', any(new Float64Array(2)) as never), TypeError, 'data'],
  ['createTensor with a plain array of data', () => b.createTensor([2], 'cpu', any([1, 2]) as never), TypeError, 'data'],
  // Tensor
  ['new Tensor()', () => new (b.Tensor as unknown as new () => unknown)(), TypeError, 'createTensor'],
  ['Tensor.write with a plain array', () => T([2]).write(any([1, 2]) as never), TypeError, 'data'],
  ['Tensor.write with the wrong length', () => T([2]).write(new Float32Array(5)), RangeError, 'data'],
  ['Tensor.fill with a string', () => T([2]).fill(any('1') as never), TypeError, 'value'],
  ['Tensor.read with an argument', () => (T([2]).read as Function)(1), TypeError, 'Tensor.read'],
  ['read of a disposed tensor', () => disposed().read(), TypeError, 'disposed'],
  ['write of a disposed tensor', () => disposed().write(new Float32Array(6)), TypeError, 'disposed'],
  ['fill of a disposed tensor', () => disposed().fill(0), TypeError, 'disposed'],
  ['checkGuards of a disposed tensor', () => disposed().checkGuards(), TypeError, 'disposed'],
  ['shape of a disposed tensor', () => disposed().shape, TypeError, 'disposed'],
  ['size of a disposed tensor', () => disposed().size, TypeError, 'disposed'],
  ['device of a disposed tensor', () => disposed().device, TypeError, 'disposed'],
  ['Tensor.reshape to another size', () => T([2, 3]).reshape([7]), RangeError, 'shape'],
  ['Tensor.reshape with a bad shape', () => T([2, 3]).reshape([2, -3]), RangeError, 'shape[1]'],
  ['reshape of a disposed tensor', () => disposed().reshape([6]), TypeError, 'disposed'],
  // threads
  ['setThreads(0)', () => b.setThreads(0), RangeError, 'threads'],
  ['setThreads(-1)', () => b.setThreads(-1), RangeError, 'threads'],
  ['setThreads(1.5)', () => b.setThreads(1.5), RangeError, 'threads'],
  ['setThreads(NaN)', () => b.setThreads(Number.NaN), RangeError, 'threads'],
  ['setThreads(1e9)', () => b.setThreads(1e9), RangeError, 'threads'],
  ['setThreads("2")', () => b.setThreads(any('2') as never), TypeError, 'threads'],
  // linearForward
  ['linearForward with 3 arguments', () => (b.linearForward as Function)(x, w, bias), TypeError, 'linearForward'],
  ['linearForward with a Float32Array for x', () => b.linearForward(any(new Float32Array(12)), w, bias, out), TypeError, 'x'],
  ['linearForward with a number for weight', () => b.linearForward(x, any(3), bias, out), TypeError, 'weight'],
  ['linearForward with NaN for bias', () => b.linearForward(x, w, any(Number.NaN), out), TypeError, 'bias'],
  ['linearForward with a fake tensor', () => b.linearForward(any(Object.create(b.Tensor.prototype)), w, bias, out), TypeError, 'x'],
  ['linearForward with a disposed x', () => b.linearForward(disposed(), w, bias, out), TypeError, 'x'],
  ['linearForward with a disposed out', () => b.linearForward(x, w, bias, disposed()), TypeError, 'out'],
  ['linearForward with 1-D x', () => b.linearForward(T([12]), w, bias, out), RangeError, 'x'],
  ['linearForward with mismatched K', () => b.linearForward(x, T([5, 4]), bias, out), RangeError, 'weight'],
  ['linearForward with a wrong bias', () => b.linearForward(x, w, T([4]), out), RangeError, 'bias'],
  ['linearForward with a wrong out', () => b.linearForward(x, w, bias, T([5, 4])), RangeError, 'out'],
  ['linearForward writing into its input', () => b.linearForward(x, w, bias, x), TypeError, 'out'],
  // linearBackward
  ['linearBackward with a non-boolean accumulate', () => b.linearBackward(x, w, out, T([4, 3]), null, null, any(1) as never), TypeError, 'accumulate'],
  ['linearBackward with a wrong gradOut', () => b.linearBackward(x, w, T([4, 4]), null, null, null, false), RangeError, 'gradOut'],
  ['linearBackward with a wrong gradX', () => b.linearBackward(x, w, out, T([3, 4]), null, null, false), RangeError, 'gradX'],
  ['linearBackward with a wrong gradWeight', () => b.linearBackward(x, w, out, null, T([5]), null, false), RangeError, 'gradWeight'],
  ['linearBackward with a wrong gradBias', () => b.linearBackward(x, w, out, null, null, T([6]), false), RangeError, 'gradBias'],
  ['linearBackward with gradX aliasing gradOut', () => b.linearBackward(x, w, out, out, null, null, false), TypeError, 'gradX'],
  ['linearBackward with a string for gradX', () => b.linearBackward(x, w, out, any('gx'), null, null, false), TypeError, 'gradX'],
  // preluForward / preluBackward
  ['preluForward with the wrong number of slopes', () => b.preluForward(px, T([4]), pout), RangeError, 'alpha'],
  ['preluForward with 2-D alpha', () => b.preluForward(px, T([3, 1]), pout), RangeError, 'alpha'],
  ['preluForward with a wrong out', () => b.preluForward(px, alpha, T([2, 3, 5])), RangeError, 'out'],
  ['preluForward with a disposed alpha', () => b.preluForward(px, disposed(), pout), TypeError, 'alpha'],
  ['preluForward with undefined out', () => b.preluForward(px, alpha, any(undefined)), TypeError, 'out'],
  ['preluBackward with a wrong gradAlpha', () => b.preluBackward(px, alpha, pout, null, T([2]), false), RangeError, 'gradAlpha'],
  ['preluBackward with a wrong gradX', () => b.preluBackward(px, alpha, pout, T([24]), null, false), RangeError, 'gradX'],
  ['preluBackward with NaN accumulate', () => b.preluBackward(px, alpha, pout, null, null, any(Number.NaN) as never), TypeError, 'accumulate'],
  ['preluBackward with 5 arguments', () => (b.preluBackward as Function)(px, alpha, pout, null, null), TypeError, 'preluBackward'],
];

argumentTests(cases);

test('the addon still works after every bad call', async (t) => {
  await x.write(Float32Array.from({ length: 12 }, (_, i) => i));
  await w.fill(1);
  await bias.fill(0.5);
  await b.linearForward(x, w, bias, out);
  const y = await out.read();
  // row n of x is 3n, 3n+1, 3n+2: each output is their sum plus 0.5
  t.deepEqual(Array.from(y.slice(0, 5)), [3.5, 3.5, 3.5, 3.5, 3.5]);
  t.is(y[19], 9 + 10 + 11 + 0.5);
});

test('dispose is idempotent and reported', (t) => {
  const a = T([3]);
  t.false(a.disposed);
  a.dispose();
  a.dispose();
  t.true(a.disposed);
});

// The binding's exports other than the ops (createTensor, the Tensor class, setThreads) with bad
// arguments: each call must throw a TypeError or RangeError that names the argument,
// synchronously, and the process must go on working. The ops' bad arguments are in test/ops/.
import test from 'ava';

import { any, argumentTests, b, disposed, linearStillWorks, T, type Case } from './helpers/args.js';

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
  // emptyTensor: the same shape and device checks, no data
  ['emptyTensor with no arguments', () => (b.emptyTensor as Function)(), TypeError, 'emptyTensor'],
  ['emptyTensor with data', () => (b.emptyTensor as Function)([2], 'cpu', new Float32Array(2)), TypeError, 'emptyTensor'],
  ['emptyTensor with a zero size', () => b.emptyTensor([2, 0], 'cpu'), RangeError, 'shape[1]'],
  ['emptyTensor with a huge product', () => b.emptyTensor([65536, 65536], 'cpu'), RangeError, 'shape'],
  ['emptyTensor on an unknown device', () => b.emptyTensor([2], any('gpu') as never), RangeError, 'device'],
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
];

argumentTests(cases);

test('the addon still works after every bad call', (t) => linearStillWorks(t, T([4, 3]), T([5, 3]), T([5]), T([4, 5])));

test('dispose is idempotent and reported', (t) => {
  const a = T([3]);
  t.false(a.disposed);
  a.dispose();
  a.dispose();
  t.true(a.disposed);
});

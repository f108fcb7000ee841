// concat (concatForward and its split concatBackward): harness cases, bad arguments (each call
// throws a TypeError or RangeError naming the argument, synchronously), and the valid call working
// after them. Tolerances: the project's defaults (op-harness.ts).
import test from 'ava';

import { any, b, disposed, T, type Case } from '../helpers/args.js';
import { backendTolerance, fdTolerance, type OpCase } from '../helpers/op-harness.js';

const op = 'concat';

function concat(name: string, N: number, widths: number[]): OpCase {
  const names = widths.map((_, i) => `in${i}`);
  return {
    name,
    op,
    inputs: widths.map((K, i) => ({ name: names[i], shape: [N, K] })),
    outputs: [{ name: 'out', shape: [N, widths.reduce((a, b) => a + b, 0)] }],
    gradInputs: names,
    forward: (b, i, o) =>
      b.concatForward(
        names.map((n) => i[n]),
        o.out,
      ),
    backward: (b, i, go, g, acc) =>
      b.concatBackward(
        go.out,
        names.map((n) => g[n]),
        acc,
      ),
    backendTolerance,
    fdTolerance,
  };
}

export const harness: OpCase[] = [concat('concat of 3 inputs', 5, [3, 1, 4])];

// Valid operands, so that each case breaks exactly one thing: two inputs [4, 2] and [4, 3].
const c1 = T([4, 2]);
const c2 = T([4, 3]);
const cout = T([4, 5]);

export const badArguments: Case[] = [
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
];

export function extraTests(): void {
  test('concat: the valid call of these cases works, and the addon still works after every bad call', async (t) => {
    await c1.fill(1);
    await c2.fill(2);
    await b.concatForward([c1, c2], cout);
    t.deepEqual(Array.from((await cout.read()).slice(0, 5)), [1, 1, 2, 2, 2]);
  });
}

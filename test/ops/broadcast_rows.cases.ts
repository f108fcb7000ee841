// broadcast_rows: harness cases, bad arguments (each call throws a TypeError or RangeError naming
// the argument, synchronously), the valid call working after them, and the refusal of CUDA tensors
// where the build has no CUDA kernel for broadcast_rows. Tolerances: the project's defaults (op-harness.ts).
import test from 'ava';

import { any, b, disposed, T, type Case } from '../helpers/args.js';
import { backendTolerance, cudaRefusalSkipReason, fdTolerance, type OpCase } from '../helpers/op-harness.js';

const op = 'broadcast_rows';

function broadcastRows(name: string, N: number, H: number): OpCase {
  return {
    name,
    op,
    inputs: [{ name: 'vector', shape: [H] }],
    outputs: [{ name: 'out', shape: [N, H] }],
    gradInputs: ['vector'],
    forward: (b, i, o) => b.broadcastRowsForward(i.vector, o.out),
    backward: (b, i, go, g, acc) => b.broadcastRowsBackward(go.out, g.vector, acc),
    backendTolerance,
    fdTolerance,
  };
}

export const harness: OpCase[] = [broadcastRows('broadcastRows', 6, 7)];

// Valid operands, so that each case breaks exactly one thing: H = 3, N = 4.
const vec = T([3]);
const bout = T([4, 3]);

export const badArguments: Case[] = [
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
];

export function extraTests(): void {
  test('broadcast_rows: the valid call of these cases works, and the addon still works after every bad call', async (t) => {
    await vec.write(Float32Array.of(1, 2, 3));
    await b.broadcastRowsForward(vec, bout);
    t.deepEqual(Array.from((await bout.read()).slice(9)), [1, 2, 3]);
  });

  const skip = cudaRefusalSkipReason(op);
  (skip ? test.skip : test)(`broadcast_rows refuses CUDA tensors clearly${skip ? ` (skipped: ${skip})` : ''}`, async (t) => {
    const cuda = (shape: number[]) => b.createTensor(shape, 'cuda');
    const [cv, co] = [cuda([3]), cuda([4, 3])];
    await t.throwsAsync(b.broadcastRowsForward(cv, co) as Promise<unknown>, { message: /no CUDA kernel/ });
    cv.dispose();
    co.dispose();
  });
}

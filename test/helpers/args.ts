// Shared pieces of the bad-argument tests: every case must throw a TypeError or RangeError,
// synchronously, whose message mentions the argument.
import test, { type ExecutionContext } from 'ava';

import { loadBinding, type NativeTensor } from '../../src/native/binding.js';

export const b = loadBinding();
export const T = (shape: number[]) => b.createTensor(shape, 'cpu');
export const disposed = (shape = [2, 3]) => {
  const t = T(shape);
  t.dispose();
  return t;
};
/** A deliberately wrong value, typed so that the call compiles. */
export const any = (v: unknown) => v as never;

export type Case = [title: string, call: () => unknown, error: typeof TypeError | typeof RangeError, mentions: string];

export function argumentTests(cases: Case[]): void {
  for (const [title, call, error, mentions] of cases) {
    test(`throws ${error.name}: ${title}`, (t) => {
      const err = t.throws(call, { instanceOf: error });
      t.true(err?.message.includes(mentions), `message should mention ${mentions}: ${err?.message}`);
    });
  }
}

/**
 * Cases for an export taking one object of named arguments, built from a valid `args` object:
 * `call(over)` makes a call with `args` but the keys of `over` (a key set to undefined stays
 * present); `convention` holds the cases of the calling convention itself: 0 or 2 arguments, the
 * values passed positionally, a non-object, an unknown key (`typo`, spelled like a real one), and
 * the `required` key left out.
 */
export function namedArguments<A extends object>(name: string, fn: (args: A) => unknown, args: A, typo: string, required: keyof A & string) {
  const call = (over: Record<string, unknown> = {}) => () => fn(any({ ...args, ...over }));
  const without = Object.fromEntries(Object.entries(args).filter(([key]) => key !== required));
  const arity = `the arguments of ${name}`;
  const convention: Case[] = [
    [`${name} with no arguments`, () => (fn as Function)(), TypeError, arity],
    [`${name} with 2 arguments`, () => (fn as Function)(args, false), TypeError, arity],
    [`${name} with its arguments positional`, () => (fn as Function)(...Object.values(args)), TypeError, arity],
    [`${name} with a number for its arguments`, () => fn(any(1)), TypeError, arity],
    [`${name} with an unknown key ${typo}`, call({ [typo]: Object.values(args)[0] }), TypeError, typo],
    [`${name} with the key ${required} left out`, () => fn(any(without)), TypeError, required],
  ];
  return { call, convention };
}

/** The addon works after bad calls: linearForward on x [4, 3], w [5, 3], bias [5] into out [4, 5]. */
export async function linearStillWorks(t: ExecutionContext, x: NativeTensor, w: NativeTensor, bias: NativeTensor, out: NativeTensor): Promise<void> {
  await x.write(Float32Array.from({ length: 12 }, (_, i) => i));
  await w.fill(1);
  await bias.fill(0.5);
  await b.linearForward(x, w, bias, out);
  const y = await out.read();
  // row n of x is 3n, 3n+1, 3n+2: each output is their sum plus 0.5
  t.deepEqual(Array.from(y.slice(0, 5)), [3.5, 3.5, 3.5, 3.5, 3.5]);
  t.is(y[19], 9 + 10 + 11 + 0.5);
}

/** Three tensors of different shapes: one parameter list (or gradients, or optimizer slots) of the update ops. */
export const tensorList = () => [[2, 3], [5], [4, 1, 2]].map((s) => T(s));
/** `l` with entry i replaced by `t`. */
export const withAt = (l: NativeTensor[], i: number, t: NativeTensor) => l.map((e, j) => (j === i ? t : e));

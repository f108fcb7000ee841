// Shared pieces of the bad-argument tests: every case must throw a TypeError or RangeError,
// synchronously, whose message mentions the argument.
import test from 'ava';

import { loadBinding } from '../../src/native/binding.js';

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

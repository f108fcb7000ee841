// Every op through the harness: the CPU against finite differences, every other backend against the CPU.
import test from 'ava';

import { checkBackend, checkCpu, unusableReason } from './helpers/op-harness.js';
import { opCases } from './helpers/op-cases.js';

for (const op of opCases) {
  test(`${op.name}: cpu writes every output, in bounds; backward matches finite differences and accumulates`, async (t) => {
    t.deepEqual(await checkCpu(op), []);
  });

  const reason = unusableReason('cuda');
  const title = `${op.name}: cuda matches the cpu reference, forward and backward`;
  if (reason) {
    test.skip(`${title} (skipped: ${reason})`, () => {});
  } else {
    test(title, async (t) => {
      t.deepEqual(await checkBackend(op, 'cuda'), []);
    });
  }
}

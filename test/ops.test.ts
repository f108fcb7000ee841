// Every op, one file each in test/ops/<op>.cases.ts: its harness cases through the harness (the CPU
// against finite differences, CUDA against the CPU, or skipped saying why), its bad-argument cases
// (each call throws a TypeError or RangeError naming the argument, synchronously), then its extra tests.
import { readdirSync } from 'node:fs';

import test from 'ava';

import { loadBinding } from '../src/native/binding.js';
import { argumentTests } from './helpers/args.js';
import { checkBackend, checkCpu, unusableReason, type OpCasesFile } from './helpers/op-harness.js';

// Every op's cases, by op name (= file name), found on disk: adding test/ops/<op>.cases.ts is enough.
const dir = new URL('./ops/', import.meta.url);
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.cases.ts'))
  .map((f) => f.slice(0, -'.cases.ts'.length))
  .sort();
const files: Record<string, OpCasesFile> = Object.fromEntries(
  await Promise.all(names.map(async (op) => [op, (await import(new URL(`${op}.cases.ts`, dir).href)) as OpCasesFile])),
);

test('every file of test/ops/ exports harness and bad-argument cases, and every harness case names the op of its file', (t) => {
  t.true(names.length > 0);
  for (const [op, file] of Object.entries(files)) {
    t.true(Array.isArray(file.harness) && Array.isArray(file.badArguments), `${op}.cases.ts exports harness and badArguments`);
    for (const c of file.harness) t.is(c.op, op, c.name);
  }
});

test("every op of the CPU backend has harness cases here, and every op of CUDA's list is one of the CPU's", (t) => {
  const [cpu, cuda] = loadBinding().backends();
  t.true(Array.isArray(cpu.ops) && cpu.ops.length > 0, 'backends()[0].ops lists the ops');
  t.deepEqual(
    cpu.ops.filter((op) => !(files[op]?.harness.length > 0)),
    [],
    'ops of backends()[0].ops without harness cases (add them in test/ops/<op>.cases.ts)',
  );
  t.deepEqual(cuda.ops.filter((op) => !cpu.ops.includes(op)), [], 'ops of backends()[1].ops without a CPU reference');
});

for (const file of Object.values(files)) {
  for (const op of file.harness) {
    const checked = op.backward ? 'backward matches finite differences and accumulates' : 'no backward';
    test(`${op.name}: cpu writes every output, in bounds; ${checked}`, async (t) => {
      t.deepEqual(await checkCpu(op), []);
    });

    const reason = unusableReason('cuda', op.op);
    const title = `${op.name}: cuda matches the cpu reference, ${op.backward ? 'forward and backward' : 'forward'}`;
    if (reason) {
      test.skip(`${title} (skipped: ${reason})`, () => {});
    } else {
      test(title, async (t) => {
        t.deepEqual(await checkBackend(op, 'cuda'), []);
      });
    }
  }
}

for (const file of Object.values(files)) argumentTests(file.badArguments);

// After every bad call: the extra tests check that the addon still works.
for (const file of Object.values(files)) file.extraTests?.();

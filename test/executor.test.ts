// The executor: issue order, terminated workers, exits with jobs queued, and argument getters that
// dispose tensors in the middle of a call.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import test from 'ava';

import { loadBinding } from '../src/native/binding.js';

const b = loadBinding();

test('terminating worker threads with jobs queued, then exiting with jobs queued, leaves the process alive and correct', (t) => {
  const script = fileURLToPath(new URL('./fixtures/executor-stress.mjs', import.meta.url));
  const run = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 120_000 });
  t.is(run.signal, null, `killed by ${run.signal}; stderr: ${run.stderr}`);
  t.is(run.status, 0, run.stderr);
  t.regex(run.stdout, /survived: 9 workers terminated with jobs queued/);
});

test('jobs run in issue order: a read after ops sees all of them', async (t) => {
  const y = b.createTensor([1000], 'cpu');
  const x = b.createTensor([1000], 'cpu', new Float32Array(1000).fill(1));
  const issued = [];
  for (let i = 0; i < 50; i++) issued.push(b.addScaled(x, 1, y, i > 0));
  const got = await y.read();
  await Promise.all(issued);
  t.true(got.every((v) => v === 50));
  for (const a of [x, y]) a.dispose();
});

const filled = (shape: number[], v: number) => b.createTensor(shape, 'cpu', new Float32Array(shape.reduce((p, q) => p * q)).fill(v));

test('an options getter that disposes a tensor already read: the call works (the job holds the memory)', async (t) => {
  // A GRU cell with I = H = 3.
  const x = filled([4, 3], 0.5);
  const rest = { h: filled([4, 3], 0.25), wGates: filled([6, 6], 0.1), bGates: filled([6], 0), wCand: filled([3, 6], 0.1), bCand: filled([3], 0) };
  const slope = filled([3], 0.2);
  const out = filled([4, 3], Number.NaN);
  const saved = b.createTensor([4, 12], 'cpu');
  await b.gruForward({
    x,
    ...rest,
    get slope() {
      x.dispose(); // read after x
      return slope;
    },
    out,
    saved,
  });
  t.true(x.disposed);
  t.true((await out.read()).every((v) => Number.isFinite(v)));
  for (const a of [...Object.values(rest), slope, out, saved]) a.dispose();
});

test('a getter that disposes a tensor not read yet, or throws, makes the call throw', (t) => {
  const out = b.createTensor([2, 3], 'cpu');
  const later = b.createTensor([2, 2], 'cpu');
  const first = b.createTensor([2, 1], 'cpu');
  const inputs: unknown[] = [null, later];
  Object.defineProperty(inputs, 0, {
    get() {
      later.dispose(); // inputs[1] is read after inputs[0]
      return first;
    },
  });
  const err = t.throws(() => b.concatForward(inputs as never, out), { instanceOf: TypeError });
  t.regex(err!.message, /inputs\[1\]/);
  t.throws(
    () =>
      b.gruForward({
        get x(): never {
          throw new Error('getter failed');
        },
      } as never),
    { message: 'getter failed' },
  );
  for (const a of [out, first]) a.dispose();
});

test('op profiling counts each op run while enabled, and takeOpProfile clears the entries', async (t) => {
  const b = loadBinding();
  const x = b.createTensor([4, 8], 'cpu', Float32Array.from({ length: 32 }, (_, i) => i - 16));
  const slope = b.createTensor([8], 'cpu', new Float32Array(8).fill(0.25));
  const y = b.createTensor([4, 8], 'cpu');
  b.takeOpProfile();
  b.setOpProfiling(true);
  await Promise.all([b.preluForward(x, slope, y), b.preluForward(x, slope, y)]);
  b.setOpProfiling(false);
  await b.preluForward(x, slope, y);
  const entry = b.takeOpProfile().find((e) => e.op === 'preluForward');
  t.is(entry?.calls, 2);
  t.true(entry!.seconds > 0);
  t.deepEqual(b.takeOpProfile(), []);
  t.throws(() => b.setOpProfiling('yes' as unknown as boolean), { instanceOf: TypeError });
  for (const v of [x, slope, y]) v.dispose();
});

// Recording takes whatever this thread issues until it ends: these tests run serially, and record
// synchronous code only (as GMN does).
test.serial('recording: the jobs issued between beginRecording and endRecording run again, in order, on each run()', async (t) => {
  const x = b.createTensor([4], 'cpu', new Float32Array([1, 2, 3, 4]));
  const y = b.createTensor([4], 'cpu', new Float32Array(4).fill(Number.NaN));
  const later = b.createTensor([4], 'cpu', new Float32Array(4).fill(7));
  let issued: Promise<void>[];
  let program: ReturnType<typeof b.endRecording>;
  b.beginRecording();
  try {
    // y = 2 x + x, then later = 1 everywhere (a recorded fill)
    issued = [b.addScaled(x, 2, y, false), b.addScaled(x, 1, y, true), later.fill(1)];
    t.throws(() => y.read(), { message: /Tensor\.read.*recorded/ });
    t.throws(() => b.beginRecording(), { message: /already recording/ });
  } finally {
    program = b.endRecording();
  }
  await Promise.all(issued); // resolved at once: nothing has run
  t.is(program.jobs, 3);
  t.true((await y.read()).every((v) => Number.isNaN(v)), 'recorded jobs did not run');
  t.deepEqual(Array.from(await later.read()), [7, 7, 7, 7]);
  await program.run();
  t.deepEqual(Array.from(await y.read()), [3, 6, 9, 12]);
  t.deepEqual(Array.from(await later.read()), [1, 1, 1, 1]);
  // inputs written between runs are what the next run reads; a run is ordered with the jobs around it
  const write = x.write(new Float32Array([10, 20, 30, 40]));
  const run = program.run();
  const got = y.read();
  await Promise.all([write, run]);
  t.deepEqual(Array.from(await got), [30, 60, 90, 120]);
  // the same in one job: the inputs' data written first, the output read after
  t.deepEqual(Array.from((await program.run([x], [new Float32Array([1, 0, -1, 0.5])], y))!), [3, 0, -3, 1.5]);
  t.is(await program.run([x], [new Float32Array(4)]), undefined);
  t.throws(() => program.run([x], [new Float32Array(3)], y), { instanceOf: RangeError, message: /length 4.*data\[0\]/ });
  t.throws(() => program.run([x], null, y), { instanceOf: TypeError, message: /data/ });
  t.throws(() => b.endRecording(), { message: /not recording/ });
  program.dispose();
  t.throws(() => program.run(), { message: /disposed/ });
  for (const a of [x, y, later]) a.dispose();
});

test.serial('recording: a quick program runs on the calling thread when nothing is pending, in issue order otherwise', async (t) => {
  const x = b.createTensor([4], 'cpu', new Float32Array([1, 2, 3, 4]));
  const y = b.createTensor([4], 'cpu', new Float32Array(4).fill(Number.NaN));
  b.beginRecording();
  void b.addScaled(x, 3, y, false);
  const program = b.endRecording();
  await program.run(); // the first run is timed on the executor thread
  // nothing pending: settled before run() returns, with the output read
  let value: Float32Array | undefined;
  void program.run([x], [new Float32Array([1, 1, 2, 2])], y).then((v) => (value = v));
  await null;
  t.deepEqual(Array.from(value!), [3, 3, 6, 6]);
  // a job still pending: the run waits its turn, after the write and before the read
  const write = x.write(new Float32Array([5, 6, 7, 8]));
  const order: string[] = [];
  const run = program.run().then(() => order.push('run'));
  const read = y.read().then((v) => (order.push('read'), v));
  await Promise.all([write, run, read]);
  t.deepEqual(order, ['run', 'read']);
  t.deepEqual(Array.from(await read), [15, 18, 21, 24]);
  program.dispose();
  for (const a of [x, y]) a.dispose();
});

test.serial('recording: the jobs keep their tensors; an op refused at issue is not recorded', async (t) => {
  const x = b.createTensor([2, 3], 'cpu', new Float32Array(6).fill(1));
  const w = b.createTensor([4, 3], 'cpu', new Float32Array(12).fill(1));
  const y = b.emptyTensor([2, 4], 'cpu');
  let program: ReturnType<typeof b.endRecording>;
  b.beginRecording();
  try {
    void b.linearForward(x, w, null, y);
    t.throws(() => b.linearForward(x, x, null, y), { instanceOf: RangeError });
  } finally {
    program = b.endRecording();
  }
  t.is(program.jobs, 1);
  for (const a of [x, w]) a.dispose();
  await program.run();
  t.deepEqual(Array.from(await y.read()), new Array(8).fill(3));
  program.dispose();
  y.dispose();
});

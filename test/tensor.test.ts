// Tensors, ordering of queued work, the thread pool, backends and device selection.
import { spawnSync } from 'node:child_process';
import test from 'ava';

import { backends, getThreads, resolveDevice, setThreads, tensor, zeros, isTensor, linearForward } from '../src/index.js';
import { Rng } from '../src/data/rng.js';

test('a tensor round-trips a Float32Array and reports its shape, size and device', async (t) => {
  const data = Float32Array.from({ length: 24 }, (_, i) => i * 0.5 - 3);
  const a = tensor(data, [2, 3, 4], { device: 'cpu' });
  t.deepEqual(a.shape, [2, 3, 4]);
  t.is(a.size, 24);
  t.is(a.device, 'cpu');
  t.true(isTensor(a));
  t.false(isTensor({ shape: [2] }));
  data[0] = 100; // the tensor holds a copy
  const back = await a.read();
  t.is(back[0], -3);
  t.deepEqual(Array.from(back.slice(1)), Array.from(data.slice(1)));
  a.dispose();
});

test('zeros is zero-filled; fill and write replace the contents', async (t) => {
  const a = zeros([3, 5], { device: 'cpu' });
  t.true((await a.read()).every((v) => v === 0));
  await a.fill(2.5);
  t.true((await a.read()).every((v) => v === 2.5));
  await a.write(Float32Array.from({ length: 15 }, (_, i) => -i));
  t.is((await a.read())[14], -14);
  await a.fill(Number.NaN);
  t.true((await a.read()).every(Number.isNaN));
  a.dispose();
});

test('work runs in the order it was queued, without awaiting in between', async (t) => {
  const a = zeros([1000], { device: 'cpu' });
  const reads: Promise<Float32Array>[] = [];
  for (let k = 0; k < 20; k++) {
    void a.fill(k);
    reads.push(a.read());
  }
  const values = await Promise.all(reads);
  t.deepEqual(values.map((v) => v[999]), Array.from({ length: 20 }, (_, k) => k));
  a.dispose();
});

test('a tensor disposed while work is queued on it keeps its memory until the work is done', async (t) => {
  const a = tensor(new Float32Array(1 << 16).fill(7), [1 << 16], { device: 'cpu' });
  const pending = a.read();
  a.dispose();
  t.true(a.disposed);
  t.true((await pending).every((v) => v === 7));
});

test('the thread pool gives the same bits with 1 and with several threads', async (t) => {
  const rng = new Rng(5);
  const rand = (n: number) => Float32Array.from({ length: n }, () => 2 * rng.nextFloat() - 1);
  const [N, K, M] = [130, 300, 70];
  const x = tensor(rand(N * K), [N, K], { device: 'cpu' });
  const w = tensor(rand(M * K), [M, K], { device: 'cpu' });
  const b = tensor(rand(M), [M], { device: 'cpu' });
  const y = zeros([N, M], { device: 'cpu' });
  const before = getThreads();
  try {
    setThreads(1);
    t.is(getThreads(), 1);
    await linearForward(x, w, b, y);
    const one = await y.read();
    setThreads(3);
    t.is(getThreads(), 3);
    await y.fill(Number.NaN);
    await linearForward(x, w, b, y);
    t.deepEqual(await y.read(), one);
  } finally {
    setThreads(before);
  }
});

test('GMN_THREADS sets the default pool size', (t) => {
  const script = "import('./src/backend.ts').then(m => console.log(m.getThreads()))";
  const r = spawnSync(process.execPath, ['--import=tsx', '-e', script], { env: { ...process.env, GMN_THREADS: '3' }, encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), '3');
});

test('backends() lists the CPU and the CUDA backend with its state and ops', (t) => {
  const [cpu, cuda] = backends();
  t.like(cpu, { name: 'cpu', compiled: true, usable: true });
  t.true(cpu.name === 'cpu' && cpu.threads >= 1);
  t.is(cuda.name, 'cuda');
  t.is(typeof cuda.compiled, 'boolean');
  if (cuda.name !== 'cuda') return;
  // The ops each backend can run; CUDA's are among the CPU's, and none without CUDA compiled in.
  t.true(Array.isArray(cpu.ops) && cpu.ops.length > 0 && cpu.ops.every((op) => typeof op === 'string'));
  t.true(Array.isArray(cuda.ops) && cuda.ops.every((op) => cpu.ops.includes(op)));
  if (!cuda.compiled) t.deepEqual(cuda.ops, []);
  t.is(typeof cuda.emulated, 'boolean');
  if (cuda.usable) {
    t.true(cuda.devices.length > 0);
    t.regex(cuda.devices[0].computeCapability, /^\d+\.\d+$/);
  } else {
    t.true(typeof cuda.reason === 'string' && cuda.reason.length > 0);
  }
});

test("resolveDevice: 'cpu' is always cpu; 'cuda' throws when unusable; 'auto' falls back with one warning, also from an emulated CUDA", (t) => {
  t.is(resolveDevice('cpu'), 'cpu');
  const cuda = backends()[1];
  if (cuda.name !== 'cuda') return;
  if (cuda.usable) {
    t.is(resolveDevice('cuda'), 'cuda');
    if (!cuda.emulated) {
      t.is(resolveDevice('auto'), 'cuda');
      return;
    }
  } else {
    t.throws(() => resolveDevice('cuda'), { message: /CUDA is unusable/ });
    t.throws(() => zeros([2], { device: 'cuda' }), { message: /CUDA is unusable/ });
  }
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  try {
    t.is(resolveDevice('auto'), 'cpu');
    t.is(resolveDevice(), 'cpu');
  } finally {
    // emitWarning delivers on the next tick
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        process.off('warning', onWarning);
        t.true(warnings.length <= 1, `warned ${warnings.length} times`);
        resolve();
      }),
    );
  }
});

test('resolveDevice rejects unknown devices', (t) => {
  t.throws(() => resolveDevice('gpu' as never), { instanceOf: RangeError, message: /device/ });
});

test('tensors that are never disposed are freed by the garbage collector', (t) => {
  // 400 tensors of 16 MiB = 6.4 GiB if nothing were freed; the child must stay far below that.
  const script = `
    const { loadBinding } = await import('./src/native/binding.ts');
    const b = loadBinding();
    for (let i = 0; i < 400; i++) {
      await b.createTensor([4 * 1024 * 1024], 'cpu').fill(1); // touch the pages: untouched ones cost no memory
      await new Promise((r) => setImmediate(r)); // finalizers run between turns of the event loop
    }
    console.log(Math.round(process.memoryUsage().rss / 2 ** 20));`;
  const r = spawnSync(process.execPath, ['--import=tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  const rssMiB = Number(r.stdout.trim());
  t.true(rssMiB > 0 && rssMiB < 1024, `resident memory ${rssMiB} MiB`);
});

test('reshape gives a view that shares memory and outlives the original', async (t) => {
  const a = tensor(Float32Array.from({ length: 6 }, (_, i) => i), [2, 3], { device: 'cpu' });
  const v = a.reshape([3, 2]);
  t.deepEqual(v.shape, [3, 2]);
  await v.fill(4);
  t.true((await a.read()).every((x) => x === 4));
  a.dispose();
  t.true((await v.read()).every((x) => x === 4));
  v.dispose();
});

test('a tensor that reuses freed memory of the same size is still zero-filled, with intact guards', async (t) => {
  for (let round = 0; round < 3; round++) {
    const a = zeros([1000, 37], { device: 'cpu' });
    t.true((await a.read()).every((v) => v === 0));
    t.true(await a.checkGuards());
    await a.fill(7);
    a.dispose();
  }
});

test('resizing the pool between parallel kernels keeps every result right (no stale workers)', async (t) => {
  const rng = new Rng(8);
  const rand = (n: number) => Float32Array.from({ length: n }, () => 2 * rng.nextFloat() - 1);
  const [N, K, M] = [64, 96, 80];
  const x = tensor(rand(N * K), [N, K], { device: 'cpu' });
  const w = tensor(rand(M * K), [M, K], { device: 'cpu' });
  const y = zeros([N, M], { device: 'cpu' });
  const before = getThreads();
  try {
    await linearForward(x, w, null, y);
    const want = await y.read();
    for (let i = 0; i < 300; i++) {
      setThreads(1 + (i % 4));
      await y.fill(Number.NaN);
      await linearForward(x, w, null, y);
      if (i % 25 === 0) t.deepEqual(await y.read(), want, `round ${i}`);
    }
    t.deepEqual(await y.read(), want);
  } finally {
    setThreads(before);
  }
});

test('the addon works from several worker threads at once, each getting its own results', async (t) => {
  const { Worker } = await import('node:worker_threads');
  const root = new URL('..', import.meta.url).pathname;
  // Plain JS in the worker: each multiplies by its own constant, many times, through the ordered queue.
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const b = require('node-gyp-build')(workerData.root);
    (async () => {
      const x = b.createTensor([8, 16], 'cpu', new Float32Array(128).fill(1));
      const w = b.createTensor([4, 16], 'cpu', new Float32Array(64).fill(workerData.k));
      const y = b.createTensor([8, 4], 'cpu');
      let ok = true;
      for (let i = 0; i < 200; i++) {
        await y.fill(NaN);
        await b.linearForward(x, w, null, y);
        ok = ok && (await y.read()).every((v) => v === 16 * workerData.k);
      }
      parentPort.postMessage(ok);
    })();`;
  const results = await Promise.all(
    [1, 2, 3].map(
      (k) =>
        new Promise<boolean>((resolve, reject) => {
          const worker = new Worker(source, { eval: true, workerData: { root, k } });
          worker.once('message', (ok: boolean) => {
            void worker.terminate();
            resolve(ok);
          });
          worker.once('error', reject);
        }),
    ),
  );
  t.deepEqual(results, [true, true, true]);
});

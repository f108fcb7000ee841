// The whole model: parameter count, every configuration variant, and its gradient against finite
// differences of its own loss.
import test from 'ava';

import { Rng } from '../src/data/rng.js';
import { backends, resolveDevice } from '../src/backend.js';
import { GMN } from '../src/model/gmn.js';
import { parameterSpecs } from '../src/model/parameters.js';
import { resolveConfig, type GMNConfig } from '../src/model/config.js';

const small: Partial<GMNConfig> = { batchSize: 2, episodeLength: 3, stateSize: 8, keySize: 6, latent: 4, hops: 2, priorHops: 1 };

function episode(model: GMN, seed: number): { x: Float32Array; eps: Float32Array } {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: model.rows * 784 }, () => (rng.nextFloat() < 0.2 ? 1 : 0));
  const eps = Float32Array.from({ length: model.rows * model.config.latent }, () => {
    const u = 1 - rng.nextFloat();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextFloat());
  });
  return { x, eps };
}

test("the paper's configuration has 1,534,139 parameters", (t) => {
  const n = parameterSpecs(resolveConfig()).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
  // docs/model.md: the authors' graph has 21 more (scalar gains of their weight normalisation).
  t.is(n, 1534139);
});

test('bad configurations are rejected, naming the field', (t) => {
  t.throws(() => resolveConfig({ hops: -1 }), { instanceOf: RangeError, message: /config.hops/ });
  t.throws(() => resolveConfig({ similarity: 'l2' as never }), { instanceOf: RangeError, message: /config.similarity/ });
  t.throws(() => resolveConfig({ latnet: 3 } as never), { instanceOf: TypeError, message: /config.latnet/ });
})

test('a batch of the wrong size is rejected', async (t) => {
  await t.throwsAsync(new GMN(small, { device: 'cpu' }).loss(new Float32Array(3), new Float32Array(0), false), { instanceOf: RangeError, message: /x/ });
});

const variants: Array<[string, Partial<GMNConfig>]> = [
  ['dot, 2 hops', {}],
  ['cosine', { similarity: 'cosine' }],
  ['average matching', { hops: 0, priorHops: 0 }],
  ['no pseudo-inputs', { pseudoInputs: 0 }],
  ['3 pseudo-inputs, conditional', { pseudoInputs: 3, conditional: true }],
  ['fully connected', { architecture: 'fc' }],
];

for (const [name, extra] of variants) {
  test(`variant ${name}: finite loss near its initial scale, and gradients`, async (t) => {
    const model = new GMN({ ...small, ...extra }, { device: 'cpu', seed: 3 });
    try {
      const { x, eps } = episode(model, 1);
      const { loss, terms } = await model.loss(x, eps, true);
      t.true(Number.isFinite(loss), `loss ${loss}`);
      t.is(terms.length, model.rows * 3);
      // near-zero logits: log p(x|z) of a row is about -784 log 2
      for (let r = 0; r < model.rows; r++) t.true(terms[3 * r] < 0 && terms[3 * r] > -5000, `row ${r}: ${terms[3 * r]}`);
      let nonzero = 0;
      for (const g of model.params.grads.values()) {
        const v = await g.read();
        t.true(v.every(Number.isFinite));
        if (v.some((e) => e !== 0)) nonzero++;
      }
      t.true(nonzero > model.params.grads.size / 2, `${nonzero} of ${model.params.grads.size} gradients are non-zero`);
    } finally {
      model.dispose();
    }
  });
}

// Directional finite differences per parameter tensor: for a random unit direction d,
// (L(w + e d) - L(w - e d)) / 2e against <dL/dw, d>.
// The paper's initialisation leaves pre-activations of order 1e-4 (unit-norm layers, tiny
// initial states), so any usable step would cross PReLU kinks; the check therefore redraws the
// weights at unit activation scale (uniform, variance 1/fan_in) and the PReLU slopes in
// [0.85, 0.95]. Two steps are tried: at e = 1e-2 kink crossings bias the difference, at e = 3e-3
// the float32 rounding of the loss (2.5 ulp / 2e) does; a tensor passes if either agrees within
// that rounding + 5% + 1e-3. A wiring error (a missing or misrouted gradient) fails both.
async function redraw(model: GMN, rng: Rng): Promise<void> {
  for (const spec of model.params.specs) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const fanIn = spec.shape.length >= 2 ? n / spec.shape[0] : 1;
    const v = Float32Array.from({ length: n }, () =>
      spec.name.endsWith('slope') ? 0.85 + 0.1 * rng.nextFloat() : spec.shape.length >= 2 ? (2 * rng.nextFloat() - 1) * Math.sqrt(3 / fanIn) : rng.nextFloat() - 0.5,
    );
    await model.params.value(spec.name).write(v);
  }
}

const ulp = (v: number) => 2 ** (Math.floor(Math.log2(Math.abs(v))) - 23);

for (const [name, extra] of variants) {
  test(`variant ${name}: every parameter's gradient matches finite differences of the loss`, async (t) => {
    const model = new GMN({ ...small, ...extra }, { device: 'cpu', seed: 5 });
    try {
      const rng = new Rng(11);
      await redraw(model, rng);
      const { x, eps } = episode(model, 2);
      const { loss } = await model.loss(x, eps, true);
      const bad: string[] = [];
      for (const [pname, value] of model.params.values) {
        const w = await value.read();
        const g = await model.params.grads.get(pname)!.read();
        const d = Float32Array.from(w, () => 2 * rng.nextFloat() - 1);
        let norm = 0;
        for (const v of d) norm += v * v;
        d.forEach((v, i) => (d[i] = v / Math.sqrt(norm)));
        const analytic = g.reduce((s, gi, i) => s + gi * d[i], 0);
        const numeric: number[] = [];
        let ok = false;
        for (const e of [1e-2, 3e-3]) {
          await value.write(w.map((wi, i) => wi + e * d[i]));
          const up = (await model.loss(x, eps, false)).loss;
          await value.write(w.map((wi, i) => wi - e * d[i]));
          const down = (await model.loss(x, eps, false)).loss;
          numeric.push((up - down) / (2 * e));
          ok ||= Math.abs(numeric.at(-1)! - analytic) <= (2.5 * ulp(loss)) / (2 * e) + 0.05 * Math.abs(analytic) + 1e-3;
        }
        await value.write(w);
        if (!ok) bad.push(`${pname}: analytic ${analytic}, numeric ${numeric.join(' / ')}`);
      }
      t.deepEqual(bad, []);
    } finally {
      model.dispose();
    }
  });
}

test("the model refuses device 'cuda' naming the ops CUDA lacks in this build, and 'auto' then means the CPU", (t) => {
  t.throws(() => new GMN(small, { device: 'gpu' as never }), { instanceOf: RangeError, message: /device/ });
  const [cpu, cuda] = backends();
  const missing = cpu.ops.filter((op) => !cuda.ops.includes(op));
  if (missing.length === 0) {
    // Every op has a CUDA kernel: the model follows resolveDevice.
    const model = new GMN(small, { device: 'auto' });
    t.is(model.device, resolveDevice('auto'));
    model.dispose();
    return;
  }
  const err = t.throws(() => new GMN(small, { device: 'cuda' }), { message: /cannot run on CUDA in this build: it has no CUDA kernel for / });
  for (const op of missing) t.true(err?.message.includes(op), `the message names ${op}: ${err?.message}`);
  const model = new GMN(small, { device: 'auto' });
  t.is(model.device, 'cpu');
  model.dispose();
});

test('the loss and every gradient are the same bits with 1 and with 3 threads', async (t) => {
  const { getThreads, setThreads } = await import('../src/backend.js');
  const before = getThreads();
  const model = new GMN({ ...small, batchSize: 4 }, { device: 'cpu', seed: 9 });
  const { x, eps } = episode(model, 4);
  const run = async (threads: number) => {
    setThreads(threads);
    const { loss, terms } = await model.loss(x, eps, true);
    const grads = await Promise.all([...model.params.grads.values()].map((g) => g.read()));
    return { loss, terms, grads };
  };
  try {
    const one = await run(1);
    const three = await run(3);
    t.is(three.loss, one.loss);
    t.deepEqual(three.terms, one.terms);
    t.deepEqual(three.grads, one.grads);
  } finally {
    setThreads(before);
    model.dispose();
  }
});

test('the recorded training pass: a replay with new images and noise gives what a fresh model computes, bit for bit; a forward pass between frees it', async (t) => {
  const grads = async (model: GMN) => Promise.all([...model.params.grads.values()].map((g) => g.read()));
  const a = new GMN(small, { device: 'cpu', seed: 5 });
  const b = new GMN(small, { device: 'cpu', seed: 5 });
  t.teardown(() => (a.dispose(), b.dispose()));
  const first = episode(a, 1), second = episode(a, 2);
  await a.loss(first.x, first.eps, true); // records the pass
  for (const noise of [second.eps, { seed: 9, offset: 12 }]) {
    const replayed = await a.loss(second.x, noise, true);
    const fresh = await b.loss(second.x, noise, true);
    t.is(replayed.loss, fresh.loss);
    t.deepEqual(replayed.terms, fresh.terms);
    t.deepEqual(await grads(a), await grads(b));
    b.releaseRecorded(); // b records again at its next call
  }
  // a forward pass alone frees the kept training pass; the next training call records it again
  const forward = await a.loss(first.x, first.eps, false);
  t.is((await a.loss(first.x, first.eps, true)).loss, forward.loss);
});

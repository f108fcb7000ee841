// The importance-sampling estimator of log p(x_t | x_<t) against the exact value of a model with a
// 1-d latent, where the marginal is an integral over one variable, done by quadrature.
import test from 'ava';

import { GMN } from '../src/model/gmn.js';
import { evaluate, likelihoodTable } from '../src/eval/likelihood.js';
import { importanceWeights, logMeanExp, perPosition } from '../src/eval/importance.js';
import { Rng } from '../src/data/index.js';
import { syntheticSplit } from './helpers/data.js';

const tiny = { architecture: 'fc', latent: 1, stateSize: 16, keySize: 8, hops: 1, episodeLength: 3, batchSize: 1 } as const;

function episode(seed: number, length: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: length * 784 }, () => (rng.nextFloat() < 0.15 ? 1 : 0));
}

/**
 * log p(x_t | x_<t) = log of the integral of w(eps) N(eps; 0, 1) over eps, where z = mu_q + sigma_q eps
 * and w is the importance weight: a change of variables that leaves the weight as the model computes
 * it. Midpoint rule on [-12, 12].
 */
async function quadrature(model: GMN, x: Float32Array, points: number): Promise<number[]> {
  const stats = await model.episodeStats(x, 1);
  const L = stats.length;
  const step = 24 / points;
  const noise = new Float32Array(points * L);
  for (let i = 0; i < points; i++) for (let t = 0; t < L; t++) noise[i * L + t] = -12 + (i + 0.5) * step;
  const { terms } = await model.sampleEpisodes(stats, { samples: points, noise });
  return Array.from({ length: L }, (_, t) => {
    const v = Array.from({ length: points }, (_, i) => {
      const r = (i * L + t) * 3;
      const e = noise[i * L + t];
      return terms[r] + terms[r + 1] - terms[r + 2] - 0.5 * e * e - 0.5 * Math.log(2 * Math.PI) + Math.log(step);
    });
    return logMeanExp(v, 0, points, 1) + Math.log(points);
  });
}

test('logMeanExp is exact and does not overflow', (t) => {
  t.is(logMeanExp([1000, 1000, 1000], 0, 3, 1), 1000);
  t.true(Math.abs(logMeanExp([-5000, -5000 + Math.log(3)], 0, 2, 1) - (-5000 + Math.log(2))) < 1e-9);
  t.true(Math.abs(logMeanExp([0, 9, Math.log(3), 9], 0, 2, 2) - Math.log(2)) < 1e-12); // stride 2 reads 0 and log 3
  t.is(logMeanExp([-Infinity, -Infinity], 0, 2, 1), -Infinity);
});

test('importance sampling tightens towards the exact log-likelihood as K grows, and is not below the ELBO on average', async (t) => {
  const model = new GMN(tiny, { device: 'cpu', seed: 4 });
  t.teardown(() => model.dispose());
  const x = episode(7, tiny.episodeLength);
  const exact = await quadrature(model, x, 4000);
  const finer = await quadrature(model, x, 8000);
  exact.forEach((e, i) => t.true(Math.abs(e - finer[i]) < 1e-3, `quadrature converged: ${e} vs ${finer[i]}`));

  const stats = await model.episodeStats(x, 1);
  const L = tiny.episodeLength;
  const repeats = 20;
  const gap: Record<number, number> = {};
  for (const K of [1, 10, 100, 1000]) {
    let sumGap = 0, sumElbo = 0, sumLl = 0;
    for (let r = 0; r < repeats; r++) {
      const w = await importanceWeights(model, stats, K, { seed: 100 + r, offset: 0 }, 700);
      const { logLikelihood, elbo } = perPosition(w, 1, K, L);
      for (let i = 0; i < L; i++) {
        sumGap += exact[i] - logLikelihood[i];
        sumElbo += elbo[i];
        sumLl += logLikelihood[i];
      }
    }
    gap[K] = sumGap / (repeats * L);
    t.true(sumLl >= sumElbo, `K = ${K}: mean estimate ${sumLl / (repeats * L)} not below the mean ELBO ${sumElbo / (repeats * L)}`);
    t.log(`K = ${K}: exact minus estimate ${gap[K].toFixed(4)} nats, ELBO gap ${(sumGap / (repeats * L) + (sumLl - sumElbo) / (repeats * L)).toFixed(4)}`);
  }
  t.true(gap[1] > gap[10] && gap[10] > gap[100] && gap[100] > gap[1000] - 0.005, `the gap shrinks with K: ${JSON.stringify(gap)}`);
  t.true(gap[1] > 0.05, `the ELBO (K = 1) is loose enough for the test to mean something: ${gap[1]}`);
  t.true(Math.abs(gap[1000]) < 0.02, `K = 1000 is within 0.02 nats of exact: ${gap[1000]}`);
});

test('the log weights do not depend on how the samples are batched', async (t) => {
  const model = new GMN(tiny, { device: 'cpu', seed: 5 });
  t.teardown(() => model.dispose());
  const x = new Float32Array([...episode(1, 3), ...episode(2, 3)]);
  const stats = await model.episodeStats(x, 2);
  const whole = await importanceWeights(model, stats, 30, { seed: 9, offset: 0 }, 1000);
  // rows take noise in episode, sample, position order however they are batched
  const a = await importanceWeights(model, stats, 30, { seed: 9, offset: 0 }, 30);
  const b = await importanceWeights(model, stats, 30, { seed: 9, offset: 0 }, 9);
  t.is(whole.length, 2 * 30 * 3);
  t.deepEqual(Array.from(a), Array.from(whole));
  t.deepEqual(Array.from(b), Array.from(whole));
  for (const w of [whole, a]) t.true(w.every(Number.isFinite));
});

test('evaluate: a table per C_test and protocol, reproducible from its seed, with standard errors', async (t) => {
  const model = new GMN(tiny, { device: 'cpu', seed: 6 });
  t.teardown(() => model.dispose());
  const data = syntheticSplit(6);
  const options = { data, classes: [1, 2], episodes: 4, samples: 8, seed: 3 };
  const a = await evaluate(model, options);
  const b = await evaluate(model, options);
  t.deepEqual(a.rows, b.rows);
  t.deepEqual(a.rows.map((r) => [r.classes, r.protocol]), [
    [1, 'with-replacement'],
    [1, 'without-replacement'],
    [2, 'with-replacement'],
    [2, 'without-replacement'],
  ]);
  for (const r of a.rows) {
    t.is(r.logLikelihood.length, 3);
    r.logLikelihood.forEach((ll, i) => t.true(ll >= r.elbo[i] && r.logLikelihoodSE[i] > 0 && ll < 0));
  }
  const other = await evaluate(model, { ...options, seed: 4 });
  t.notDeepEqual(other.rows[0].logLikelihood, a.rows[0].logLikelihood);
  const table = likelihoodTable(a);
  t.regex(table, /\| with replacement \(paper\) \| 1 \| -\d+\.\d ± \d+\.\d \|/);
  t.regex(table, /\| without replacement \| 2 \|/);
  t.true(a.samplesPerSecond > 0);
});

test('evaluate: bad options name the option', async (t) => {
  const model = new GMN(tiny, { device: 'cpu', seed: 6 });
  t.teardown(() => model.dispose());
  const data = syntheticSplit(3);
  await t.throwsAsync(evaluate(model, { data, classes: [1], samples: 0 }), { instanceOf: RangeError, message: /options\.samples/ });
  await t.throwsAsync(evaluate(model, { data, classes: [4] }), { instanceOf: RangeError, message: /options\.classes\[0\]/ });
  await t.throwsAsync(evaluate(model, { data, classes: [1], episodes: 1.5 }), { instanceOf: RangeError, message: /options\.episodes/ });
  await t.throwsAsync(evaluate(model, { data, classes: [1], protocols: ['sometimes' as never] }), { message: /options\.protocols\[0\]/ });
  await t.throwsAsync(evaluate(model, { data: undefined as never }), { instanceOf: TypeError, message: /options\.data/ });
});

test('sampleEpisodes: decoding only some positions gives the same bits as decoding all', async (t) => {
  const model = new GMN(tiny, { device: 'cpu', seed: 8 });
  t.teardown(() => model.dispose());
  const stats = await model.episodeStats(new Float32Array([...episode(3, 3), ...episode(4, 3)]), 2);
  const options = { samples: 4, noise: { seed: 2, offset: 0 }, logits: true };
  const all = await model.sampleEpisodes(stats, options);
  const some = await model.sampleEpisodes(stats, { ...options, positions: [2, 0] });
  t.is(some.terms.length, 2 * 4 * 2 * 3);
  for (let e = 0; e < 8; e++) {
    [2, 0].forEach((p, j) => {
      t.deepEqual(Array.from(some.terms.subarray((e * 2 + j) * 3, (e * 2 + j + 1) * 3)), Array.from(all.terms.subarray((e * 3 + p) * 3, (e * 3 + p + 1) * 3)));
      t.deepEqual(some.logits!.subarray((e * 2 + j) * 784, (e * 2 + j + 1) * 784), all.logits!.subarray((e * 3 + p) * 784, (e * 3 + p + 1) * 784));
    });
  }
  await t.throwsAsync(model.sampleEpisodes(stats, { ...options, positions: [3] }), { instanceOf: RangeError, message: /options\.positions\[0\]/ });
});

test('sampleLogits: the same bits as decoding the position after the supports with sampleEpisodes, k = 0, 1, 3', async (t) => {
  const configs = [
    { ...tiny, latent: 3, episodeLength: 5 },
    { ...tiny, latent: 3, episodeLength: 5, similarity: 'cosine', hops: 2 },
    { ...tiny, latent: 3, episodeLength: 5, hops: 0 },
    { ...tiny, latent: 3, episodeLength: 5, conditional: true },
    { ...tiny, latent: 3, episodeLength: 5, pseudoInputs: 0 },
    { latent: 3, stateSize: 16, keySize: 8, hops: 1, episodeLength: 5, batchSize: 1 },
  ] as const;
  for (const config of configs) {
    const model = new GMN(config, { device: 'cpu', seed: 9 });
    t.teardown(() => model.dispose());
    const Z = model.config.latent, n = 3;
    for (const k of [0, 1, 3]) {
      const support = episode(20 + k, k);
      const rng = new Rng(k);
      const noise = Float32Array.from({ length: n * Z }, () => rng.nextFloat() * 4 - 2);
      // the episode path: sample s's z at position k from the same noise, the other rows' from anything
      const L = k + 1;
      const eps = Float32Array.from({ length: n * L * Z }, () => rng.nextFloat() * 4 - 2);
      for (let s = 0; s < n; s++) eps.set(noise.subarray(s * Z, (s + 1) * Z), (s * L + k) * Z);
      const x = new Float32Array(L * 784);
      x.set(support);
      const want = await model.sampleEpisodes(await model.episodeStats(x, 1), { samples: n, noise: eps, from: 'prior', logits: true, positions: [k] });
      const got = await model.sampleLogits(support, { n, noise });
      t.deepEqual(got, want.logits!, `${JSON.stringify(config)}, k = ${k}`);
      t.true(got.some((v, i) => v !== got[(i + 784) % got.length]), 'the samples differ');
    }
  }
  const model = new GMN(tiny, { device: 'cpu', seed: 9 });
  t.teardown(() => model.dispose());
  await t.throwsAsync(model.sampleLogits(new Float32Array(100), { n: 1, noise: { seed: 0, offset: 0 } }), { instanceOf: RangeError, message: /support/ });
  await t.throwsAsync(model.sampleLogits(new Float32Array(0), { n: 0, noise: { seed: 0, offset: 0 } }), { instanceOf: RangeError, message: /options\.n/ });
  await t.throwsAsync(model.sampleLogits(new Float32Array(0), { n: 2, noise: new Float32Array(3) }), { instanceOf: RangeError, message: /noise/ });
});

test('embed and sampleLogits replay their recorded passes: repeated calls, other shapes and large batches give the same bits', async (t) => {
  const model = new GMN({ latent: 3, stateSize: 16, keySize: 8, hops: 1, episodeLength: 5, batchSize: 1 }, { device: 'cpu', seed: 4 });
  t.teardown(() => model.dispose());
  // 260 images to embed, 70 to sample: over the 256 and 64 kept, so those passes are freed after each call
  const x = episode(30, 260);
  const all = await model.embed(x);
  t.deepEqual(await model.embed(x), all);
  const three = await model.embed(x.subarray(0, 3 * 784));
  t.deepEqual(three, all.subarray(0, 3 * 288), 'a row does not depend on the batch');
  t.deepEqual(await model.embed(x.subarray(0, 3 * 784)), three);
  const support = x.subarray(0, 2 * 784);
  const noise = Float32Array.from({ length: 70 * 3 }, (_, i) => Math.sin(i));
  const many = await model.sampleLogits(support, { n: 70, noise });
  const few = await model.sampleLogits(support, { n: 2, noise: noise.subarray(0, 6) });
  t.deepEqual(few, many.subarray(0, 2 * 784));
  t.deepEqual(await model.sampleLogits(support, { n: 70, noise }), many);
  t.deepEqual(await model.sampleLogits(support, { n: 2, noise: noise.subarray(0, 6) }), few);
  // two calls in flight on the same recorded pass, with different inputs
  const [a, b] = await Promise.all([model.embed(x.subarray(784, 4 * 784)), model.embed(x.subarray(0, 3 * 784))]);
  t.deepEqual(a, all.subarray(288, 4 * 288));
  t.deepEqual(b, three);
});

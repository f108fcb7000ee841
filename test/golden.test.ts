// The CPU backend against the independent PyTorch reference (bench/reference/gmn_reference.py):
// from the same weights, episode and noise, the loss terms and every gradient, tensor by tensor.
// Tolerances: the reference computes in float64, we in float32 with other summation orders.
// The loss (~1e3 nats) agrees to 1e-5 relative; a gradient element to 1e-3 of itself plus 1e-4 of
// its tensor's largest magnitude (small elements are sums of cancelling float32 terms).
import { existsSync } from 'node:fs';
import test from 'ava';

import { GMN } from '../src/model/gmn.js';
import { resolveConfig, type GMNConfig } from '../src/model/config.js';
import { readSafetensors } from '../src/train/safetensors.js';
import { checksum } from '../bench/reference/make-golden.js';

for (const name of ['golden-dot', 'golden-cosine']) {
  const file = new URL(`./fixtures/${name}.safetensors`, import.meta.url).pathname;
  test(`${name}: loss terms and every gradient match the PyTorch reference`, async (t) => {
    t.true(existsSync(file), `${file} is missing: see bench/reference/README.md`);
    const { tensors, metadata } = readSafetensors(file);
    const config = resolveConfig(JSON.parse(metadata.config) as Partial<GMNConfig>);
    const get = (key: string) => {
      const v = tensors.get(key);
      if (!v) throw new Error(`${name} has no ${key}`);
      return v;
    };
    // The fixture keeps checksums of the weights, which the test re-creates from their seed.
    const weights = JSON.parse(metadata.weights) as { seed: number; checksums: Record<string, [number, number]> };
    const model = new GMN(config, { device: 'cpu', seed: weights.seed });
    try {
      for (const [pname, value] of model.params.values) {
        const [s, q] = checksum(await value.read());
        const [rs, rq] = weights.checksums[pname] ?? [NaN, NaN];
        if (Math.abs(s - rs) > 1e-9 * (1 + Math.abs(rs)) || Math.abs(q - rq) > 1e-9 * (1 + rq))
          return t.fail(`${pname} differs from the fixture's weights: the initialisation changed; regenerate the fixture (bench/reference/README.md)`);
      }
      const { loss, terms } = await model.loss(get('input.x').data, get('input.eps').data, true);
      const refLoss = get('output.loss').data[0];
      t.true(Math.abs(loss - refLoss) <= 1e-5 * Math.abs(refLoss), `loss ${loss}, reference ${refLoss}`);
      const refTerms = get('output.terms').data;
      const termProblems: string[] = [];
      refTerms.forEach((r, i) => {
        if (!(Math.abs(terms[i] - r) <= 1e-4 * Math.abs(r) + 1e-3)) termProblems.push(`terms[${i}]: ${terms[i]} vs ${r}`);
      });
      t.deepEqual(termProblems.slice(0, 5), []);
      const problems: string[] = [];
      for (const spec of model.params.specs) {
        const ref = get(`grad.${spec.name}`).data;
        const ours = await model.params.grads.get(spec.name)!.read();
        const scale = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        let worst = 0;
        let at = -1;
        ours.forEach((v, i) => {
          const excess = Math.abs(v - ref[i]) - (1e-3 * Math.abs(ref[i]) + 1e-4 * scale);
          if (!(excess <= worst)) [worst, at] = [Number.isNaN(excess) ? Infinity : excess, i];
        });
        if (at >= 0) problems.push(`${spec.name}[${at}]: ${ours[at]} vs ${ref[at]} (tensor max ${scale})`);
      }
      t.deepEqual(problems, []);
    } finally {
      model.dispose();
    }
  });
}

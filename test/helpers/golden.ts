// The PyTorch reference's fixtures (bench/reference/README.md) and the comparisons every
// implementation checked against them makes. Tolerances: the reference computes in float64, the
// others in float32 with other summation orders. The loss (~1e3 nats) agrees to 1e-5 relative; a
// term to 1e-4 relative plus 1e-3; a gradient element to 1e-3 of itself plus 1e-4 of its tensor's
// largest magnitude (small elements are sums of cancelling float32 terms).
import { existsSync } from 'node:fs';

import { GMN } from '../../src/model/gmn.js';
import { resolveConfig, type GMNConfig } from '../../src/model/config.js';
import { readSafetensors } from '../../src/train/safetensors.js';
import { checksum } from '../../bench/reference/make-golden.js';

export const GOLDEN_FIXTURES = ['golden-dot', 'golden-cosine'];

export interface GoldenFixture {
  config: GMNConfig;
  x: Float32Array;
  eps: Float32Array;
  loss: number;
  terms: Float32Array;
  grad(name: string): Float32Array;
  /** The package's model with the fixture's weights, re-created from their seed and checked against their checksums. */
  model(): Promise<GMN>;
}

export function loadGolden(name: string): GoldenFixture {
  const file = new URL(`../fixtures/${name}.safetensors`, import.meta.url).pathname;
  if (!existsSync(file)) throw new Error(`${file} is missing: see bench/reference/README.md`);
  const { tensors, metadata } = readSafetensors(file);
  const get = (key: string) => {
    const v = tensors.get(key);
    if (!v) throw new Error(`${name} has no ${key}`);
    return v.data;
  };
  const config = resolveConfig(JSON.parse(metadata.config) as Partial<GMNConfig>);
  // The fixture keeps checksums of the weights, which are re-created from their seed.
  const weights = JSON.parse(metadata.weights) as { seed: number; checksums: Record<string, [number, number]> };
  return {
    config,
    x: get('input.x'),
    eps: get('input.eps'),
    loss: get('output.loss')[0],
    terms: get('output.terms'),
    grad: (p) => get(`grad.${p}`),
    async model() {
      const model = new GMN(config, { device: 'cpu', seed: weights.seed });
      for (const [pname, value] of model.params.values) {
        const [s, q] = checksum(await value.read());
        const [rs, rq] = weights.checksums[pname] ?? [NaN, NaN];
        if (Math.abs(s - rs) > 1e-9 * (1 + Math.abs(rs)) || Math.abs(q - rq) > 1e-9 * (1 + rq)) {
          model.dispose();
          throw new Error(`${pname} differs from the fixture's weights: the initialisation changed; regenerate the fixture (bench/reference/README.md)`);
        }
      }
      return model;
    },
  };
}

/** Where `loss` and `terms` differ from the fixture's beyond the tolerances (at most 5 of the terms). */
export function lossProblems(f: GoldenFixture, loss: number, terms: Float32Array): string[] {
  const problems: string[] = [];
  if (!(Math.abs(loss - f.loss) <= 1e-5 * Math.abs(f.loss))) problems.push(`loss ${loss}, reference ${f.loss}`);
  f.terms.forEach((r, i) => {
    if (!(Math.abs(terms[i] - r) <= 1e-4 * Math.abs(r) + 1e-3) && problems.length < 6) problems.push(`terms[${i}]: ${terms[i]} vs ${r}`);
  });
  return problems;
}

/** The worst element beyond the tolerance of gradient `name`, or null when all are within it. */
export function gradientProblem(f: GoldenFixture, name: string, ours: Float32Array): string | null {
  const ref = f.grad(name);
  if (ours.length !== ref.length) return `${name}: ${ours.length} values, the reference has ${ref.length}`;
  const scale = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  let worst = 0;
  let at = -1;
  ours.forEach((v, i) => {
    const excess = Math.abs(v - ref[i]) - (1e-3 * Math.abs(ref[i]) + 1e-4 * scale);
    if (!(excess <= worst)) [worst, at] = [Number.isNaN(excess) ? Infinity : excess, i];
  });
  return at >= 0 ? `${name}[${at}]: ${ours[at]} vs ${ref[at]} (tensor max ${scale})` : null;
}

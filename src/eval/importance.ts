// Importance sampling of log p(x_t | x_<t): K draws of z from q per position, their log weights
// log p(x_t | z, x_<t) + log p(z | x_<t) - log q(z | x_<=t), and the stable log-mean-exp.
import type { EpisodeStats, GMN } from '../model/gmn.js';

/** Decoded rows per native batch by default: bounds memory (about 60 MB of activations) whatever K is. */
export const DEFAULT_MAX_ROWS = 2000;

/** A native noise stream: samples take consecutive offsets of `seed`'s stream. */
export interface NoiseStream {
  seed: number;
  offset: number;
}

/**
 * Log importance weights of `samples` draws of z for every row of every episode in `stats`, as
 * float64 [episodes, samples, P] for the P `positions` (default all `length`). The encoder and the
 * prior were computed once per episode (in `stats`); the draws are decoded in batches of at most
 * `maxRows` rows. `noise.offset` is advanced past the noise used.
 */
export async function importanceWeights(
  model: GMN,
  stats: EpisodeStats,
  samples: number,
  noise: NoiseStream,
  maxRows = DEFAULT_MAX_ROWS,
  positions?: number[],
): Promise<Float64Array> {
  const { episodes, length: all } = stats;
  const length = positions?.length ?? all;
  const Z = model.config.latent;
  const out = new Float64Array(episodes * samples * length);
  const perBatch = Math.max(1, Math.floor(maxRows / length)); // samples of one episode per batch
  const run = async (chosen: number[], count: number, put: (i: number, s: number, t: number, w: number) => void) => {
    const { terms } = await model.sampleEpisodes(stats, { episodes: chosen, samples: count, noise: { ...noise }, positions });
    noise.offset += chosen.length * count * all * Z;
    for (let i = 0; i < chosen.length; i++) {
      for (let s = 0; s < count; s++) {
        for (let t = 0; t < length; t++) {
          const r = ((i * count + s) * length + t) * 3;
          put(i, s, t, terms[r] + terms[r + 1] - terms[r + 2]);
        }
      }
    }
  };
  if (samples <= perBatch) {
    // whole episodes per batch
    const group = Math.max(1, Math.floor(perBatch / samples));
    for (let e0 = 0; e0 < episodes; e0 += group) {
      const chosen = Array.from({ length: Math.min(group, episodes - e0) }, (_, i) => e0 + i);
      await run(chosen, samples, (i, s, t, w) => (out[((e0 + i) * samples + s) * length + t] = w));
    }
  } else {
    for (let e = 0; e < episodes; e++) {
      for (let s0 = 0; s0 < samples; s0 += perBatch) {
        await run([e], Math.min(perBatch, samples - s0), (_, s, t, w) => (out[(e * samples + s0 + s) * length + t] = w));
      }
    }
  }
  return out;
}

/** log(mean(exp(values[start + i * stride]))) over i < count, computed without overflow. */
export function logMeanExp(values: ArrayLike<number>, start: number, count: number, stride: number): number {
  let max = -Infinity;
  for (let i = 0; i < count; i++) max = Math.max(max, values[start + i * stride]);
  if (!Number.isFinite(max)) return max;
  let sum = 0;
  for (let i = 0; i < count; i++) sum += Math.exp(values[start + i * stride] - max);
  return max + Math.log(sum / count);
}

/**
 * Per episode and position, from weights [episodes, samples, length]: the importance-sampled
 * log-likelihood (log-mean-exp over samples) and the ELBO (mean over samples), each [episodes, length].
 */
export function perPosition(weights: Float64Array, episodes: number, samples: number, length: number): { logLikelihood: Float64Array; elbo: Float64Array } {
  const logLikelihood = new Float64Array(episodes * length);
  const elbo = new Float64Array(episodes * length);
  for (let e = 0; e < episodes; e++) {
    for (let t = 0; t < length; t++) {
      const start = e * samples * length + t;
      logLikelihood[e * length + t] = logMeanExp(weights, start, samples, length);
      let sum = 0;
      for (let s = 0; s < samples; s++) sum += weights[start + s * length];
      elbo[e * length + t] = sum / samples;
    }
  }
  return { logLikelihood, elbo };
}

/** Mean and standard error of the mean. */
export function meanAndError(values: ArrayLike<number>): { mean: number; se: number } {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  return { mean, se: n > 1 ? Math.sqrt(ss / (n - 1) / n) : NaN };
}

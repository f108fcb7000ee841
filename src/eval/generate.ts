// generate(): new images of a character from k support images (k = 0: unconditional, through the
// pseudo-input), or conditional reconstructions of the supports.
import { checkInteger, checkOneOf, rangeError, typeError } from '../errors.js';
import { Rng } from '../data/rng.js';
import { PIXELS } from '../model/config.js';
import type { GMN } from '../model/gmn.js';

export interface GenerateOptions {
  /** k support images, float32 [k, 28, 28] in [0, 1], ink high (see `loadImage`). Default none (k = 0). */
  support?: Float32Array;
  /** How many images to generate (or reconstructions of each support). Default 10. */
  n?: number;
  /** 'mean': the Bernoulli means (grey levels); 'binary': one Bernoulli sample of each pixel. Default 'mean'. */
  output?: 'mean' | 'binary';
  /**
   * Instead of new images, reconstruct each support x_t from z ~ q(z | x_t, x_<t) given the
   * supports before it (n reconstructions of each). Default false.
   */
  reconstruct?: boolean;
  /** Seed of z (and of the binary pixels). Default 0. */
  seed?: number;
}

export interface GenerateResult {
  /** The support images as given, [k, 784]. */
  support: Float32Array;
  k: number;
  n: number;
  reconstruct: boolean;
  /** [n, 784] new images; with `reconstruct`, [n, k, 784]: row s holds reconstruction s of every support. */
  images: Float32Array;
}

export async function generate(model: GMN, options: GenerateOptions = {}): Promise<GenerateResult> {
  if (typeof options !== 'object' || options === null) throw typeError('options', 'an object', options);
  const support = options.support ?? new Float32Array(0);
  if (!(support instanceof Float32Array)) throw typeError('options.support', 'a Float32Array of 28x28 images', support);
  if (support.length % PIXELS !== 0) throw rangeError('options.support', 'a multiple of 784 values (28x28 images)', support.length);
  for (let i = 0; i < support.length; i++) {
    if (!(support[i] >= 0 && support[i] <= 1)) throw rangeError(`options.support[${i}]`, 'a pixel value in [0, 1]', support[i]);
  }
  const k = support.length / PIXELS;
  const T = model.config.episodeLength;
  if (k > T - 1) throw rangeError('options.support', `at most ${T - 1} images (the model was trained on episodes of ${T})`, `${k} images`);
  const n = checkInteger('options.n', options.n ?? 10, 1, 10000);
  const output = checkOneOf('options.output', options.output ?? 'mean', ['mean', 'binary'] as const);
  const seed = checkInteger('options.seed', options.seed ?? 0, 0, 2 ** 32 - 1);
  const reconstruct = options.reconstruct ?? false;
  if (typeof reconstruct !== 'boolean') throw typeError('options.reconstruct', 'a boolean', reconstruct);
  if (reconstruct && k === 0) throw rangeError('options.support', 'at least one image to reconstruct', '0 images');

  const noise = { seed, offset: 0 };
  // New images read the supports from the position after them; reconstructions are the episode of the supports.
  const logits = reconstruct
    ? (await model.sampleEpisodes(await model.episodeStats(support, 1), { samples: n, noise, from: 'posterior', logits: true })).logits!
    : await model.sampleLogits(support, { n, noise });
  const rng = new Rng(seed);
  const pixel = (f: number) => {
    const p = 1 / (1 + Math.exp(-f));
    return output === 'mean' ? p : rng.nextFloat() < p ? 1 : 0;
  };
  const images = new Float32Array((reconstruct ? n * k : n) * PIXELS);
  // logits come in the order of the images: sample-major, then position
  for (let i = 0; i < images.length; i++) images[i] = pixel(logits[i]);
  return { support: support.slice(), k, n, reconstruct, images };
}

/** The rows of a grid picture: the supports on top, then the samples (`columns` a row) or one row per reconstruction. */
export function gridRows(result: GenerateResult, columns = 10): Float32Array[][] {
  const img = (a: Float32Array, i: number) => a.subarray(i * PIXELS, (i + 1) * PIXELS);
  const rows: Float32Array[][] = [];
  if (result.k > 0) rows.push(Array.from({ length: result.k }, (_, i) => img(result.support, i)));
  const total = result.images.length / PIXELS;
  const width = result.reconstruct ? result.k : columns;
  for (let i = 0; i < total; i += width) rows.push(Array.from({ length: Math.min(width, total - i) }, (_, j) => img(result.images, i + j)));
  return rows;
}

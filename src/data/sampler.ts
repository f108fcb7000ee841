// Episode sampling for GMN training and evaluation (DESIGN.md section 3): a batch of episodes, each
// T images drawn from at most C characters. All randomness comes from one seeded generator, so an
// episode stream is reproducible and resumable from `state()`.

import { checkInteger, checkOneOf, typeError, rangeError } from '../errors.js';
import { checkOmniglotSplit, IMAGE_PIXELS, type OmniglotSplit } from './omniglot.js';
import { Rng } from './rng.js';

export const BINARIZE_MODES = ['none', 'threshold', 'bernoulli'] as const;
export type Binarize = (typeof BINARIZE_MODES)[number];

/** Everything needed to continue a sampler's sequence; plain JSON. */
export interface SamplerState {
  /** The generator state (`Rng.state()`). */
  rng: number[];
  /** Episodes drawn so far (batches x batchSize). */
  episodes: number;
}

export interface EpisodeSamplerOptions {
  /** The images to sample from (from `loadOmniglot`). Required. */
  data: OmniglotSplit;
  /** Character indices to draw from, e.g. the `train` list of `splitValidation`. Default: all characters. */
  characters?: readonly number[];
  /** T, images per episode. Default 10. */
  episodeLength?: number;
  /** C, the most characters in one episode. Default 2. */
  maxClasses?: number;
  /** Episodes per call of `next()`. Default 20. */
  batchSize?: number;
  /**
   * true (the authors' code): C characters drawn with replacement, each position picks one of them
   * uniformly and one of its images with replacement. false: C distinct characters, each position
   * picks uniformly among those with unused images, and no image repeats within an episode.
   * Default true.
   */
  replacement?: boolean;
  /**
   * 'bernoulli': pixel ~ Bernoulli(v/255) from the sampler's generator (dynamic binarisation);
   * 'threshold': 1 where v >= 128; 'none': v/255. Default 'bernoulli'.
   */
  binarize?: Binarize;
  /** uint32 seed. Default 0. Ignored when `state` is given. */
  seed?: number;
  /** A `state()` to continue from, with the same other options. Default: start from `seed`. */
  state?: SamplerState;
}

export interface Episode {
  /** float32 [batchSize, length, 28, 28] in [0, 1]. */
  images: Float32Array;
  /** Character index (into `data.characters`) of every image, [batchSize, length]. */
  classes: Int32Array;
  /** Image index (into `data.images`) of every image, [batchSize, length]. */
  imageIndex: Int32Array;
  batchSize: number;
  /** T, images per episode. */
  length: number;
}

export class EpisodeSampler {
  readonly data: OmniglotSplit;
  readonly characters: readonly number[];
  readonly episodeLength: number;
  readonly maxClasses: number;
  readonly batchSize: number;
  readonly replacement: boolean;
  readonly binarize: Binarize;
  private readonly rng: Rng;
  private episodes = 0;
  // First image and image count of each entry of `characters`.
  private readonly first: Int32Array;
  private readonly count: Int32Array;

  constructor(options: EpisodeSamplerOptions) {
    if (typeof options !== 'object' || options === null) throw typeError('options', 'an object', options);
    this.data = checkOmniglotSplit('options.data', options.data);
    const numCharacters = this.data.characters.length;
    this.characters = checkCharacters(options.characters, numCharacters);
    this.episodeLength = checkInteger('options.episodeLength', options.episodeLength ?? 10, 1);
    this.maxClasses = checkInteger('options.maxClasses', options.maxClasses ?? 2, 1);
    this.batchSize = checkInteger('options.batchSize', options.batchSize ?? 20, 1);
    this.replacement = options.replacement ?? true;
    if (typeof this.replacement !== 'boolean') throw typeError('options.replacement', 'a boolean', this.replacement);
    this.binarize = checkOneOf('options.binarize', options.binarize ?? 'bernoulli', BINARIZE_MODES);

    this.first = new Int32Array(this.characters.length);
    this.count = new Int32Array(this.characters.length);
    this.characters.forEach((k, i) => {
      ({ first: this.first[i], count: this.count[i] } = this.data.imagesOfCharacter(k));
    });
    if (!this.replacement) {
      const n = this.characters.length;
      if (this.maxClasses > n) {
        throw rangeError('options.maxClasses', `at most ${n} (the number of characters) without replacement`, this.maxClasses);
      }
      const most = this.maxClasses * Math.min(...this.count);
      if (this.episodeLength > most) {
        throw rangeError('options.episodeLength', `at most ${most} (maxClasses x images per character) without replacement`, this.episodeLength);
      }
    }

    this.rng = new Rng(checkInteger('options.seed', options.seed ?? 0, 0, 2 ** 32 - 1));
    if (options.state !== undefined) this.setState(options.state, 'options.state');
  }

  /** A JSON-serialisable snapshot; `setState` (or the `state` option) continues from it exactly. */
  state(): SamplerState {
    return { rng: this.rng.state(), episodes: this.episodes };
  }

  setState(state: SamplerState, name = 'state'): void {
    if (typeof state !== 'object' || state === null) throw typeError(name, 'a SamplerState object', state);
    const episodes = checkInteger(`${name}.episodes`, state.episodes, 0, Number.MAX_SAFE_INTEGER);
    this.rng.setState(state.rng, `${name}.rng`);
    this.episodes = episodes;
  }

  /** Draws the next batch of episodes. */
  next(): Episode {
    const { batchSize, episodeLength: T } = this;
    const classes = new Int32Array(batchSize * T);
    const imageIndex = new Int32Array(batchSize * T);
    for (let b = 0; b < batchSize; b++) {
      if (this.replacement) this.drawWithReplacement(classes, imageIndex, b * T);
      else this.drawWithoutReplacement(classes, imageIndex, b * T);
    }
    const images = this.pixels(imageIndex);
    this.episodes += batchSize;
    return { images, classes, imageIndex, batchSize, length: T };
  }

  private drawWithReplacement(classes: Int32Array, imageIndex: Int32Array, offset: number): void {
    const rng = this.rng;
    const chosen = Array.from({ length: this.maxClasses }, () => rng.nextInt(this.characters.length));
    for (let t = 0; t < this.episodeLength; t++) {
      const k = chosen[rng.nextInt(chosen.length)];
      classes[offset + t] = this.characters[k];
      imageIndex[offset + t] = this.first[k] + rng.nextInt(this.count[k]);
    }
  }

  private drawWithoutReplacement(classes: Int32Array, imageIndex: Int32Array, offset: number): void {
    const rng = this.rng;
    // Rejection keeps the sampler's state to the generator alone (no permutation to save).
    const chosen: number[] = [];
    while (chosen.length < this.maxClasses) {
      const k = rng.nextInt(this.characters.length);
      if (!chosen.includes(k)) chosen.push(k);
    }
    // Per class, the unused images are unused[slot][0 .. left[slot]); a drawn one is swapped past the end.
    const unused = chosen.map((k) => Array.from({ length: this.count[k] }, (_, j) => this.first[k] + j));
    const left = chosen.map((k) => this.count[k]);
    const open = chosen.map((_, slot) => slot);
    for (let t = 0; t < this.episodeLength; t++) {
      const o = rng.nextInt(open.length);
      const slot = open[o];
      const pool = unused[slot];
      const j = rng.nextInt(left[slot]);
      const image = pool[j];
      pool[j] = pool[--left[slot]];
      if (left[slot] === 0) open.splice(o, 1);
      classes[offset + t] = this.characters[chosen[slot]];
      imageIndex[offset + t] = image;
    }
  }

  private pixels(imageIndex: Int32Array): Float32Array {
    return imagePixels(this.data, imageIndex, this.binarize, this.rng);
  }
}

/**
 * The images `imageIndex` of `data` as float32 [n, 28, 28] in [0, 1], binarised as `binarize` says
 * ('bernoulli' draws from `rng`).
 */
export function imagePixels(data: OmniglotSplit, imageIndex: ArrayLike<number>, binarize: Binarize, rng: Rng): Float32Array {
  const src = data.images;
  const out = new Float32Array(imageIndex.length * IMAGE_PIXELS);
  const lut = binarize === 'none' ? NONE : THRESHOLD;
  for (let i = 0; i < imageIndex.length; i++) {
    const s = imageIndex[i] * IMAGE_PIXELS;
    const o = i * IMAGE_PIXELS;
    for (let p = 0; p < IMAGE_PIXELS; p++) {
      const v = src[s + p];
      // Pixels 0 and 255 are certain under Bernoulli(v/255), so they cost no random numbers.
      if (binarize === 'bernoulli' && v !== 0 && v !== 255) out[o + p] = rng.nextFloat() * 255 < v ? 1 : 0;
      else out[o + p] = lut[v];
    }
  }
  return out;
}

const NONE = Float32Array.from({ length: 256 }, (_, v) => v / 255);
const THRESHOLD = Float32Array.from({ length: 256 }, (_, v) => (v >= 128 ? 1 : 0));

function checkCharacters(value: unknown, numCharacters: number): readonly number[] {
  if (value === undefined) return Array.from({ length: numCharacters }, (_, k) => k);
  if (!Array.isArray(value)) throw typeError('options.characters', 'an array of character indices', value);
  if (value.length === 0) throw rangeError('options.characters', 'a non-empty array of character indices', value);
  const seen = new Set<number>();
  value.forEach((k, i) => {
    checkInteger(`options.characters[${i}]`, k, 0, numCharacters - 1);
    if (seen.has(k)) throw rangeError(`options.characters[${i}]`, 'a character index not listed before', k);
    seen.add(k);
  });
  return Object.freeze([...value]);
}

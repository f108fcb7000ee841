// The model's configuration: defaults are the paper's (docs/model.md).
import { checkInteger, checkOneOf, typeError } from '../errors.js';

export interface GMNConfig {
  /** Encoder/decoder: 'conv' (the paper's residual convnets) or 'fc' (MLPs, "GMN-FC"). Default 'conv'. */
  architecture: 'conv' | 'fc';
  /** Attention hops K of the shared reader (recognition and likelihood); 0 = average matching. Default 4. */
  hops: number;
  /** Attention hops of the prior reader; 0 = average matching. Default 1. */
  priorHops: number;
  /** Learned pseudo-inputs per reader; 0 = none (position 0 then reads nothing). Default 1. */
  pseudoInputs: number;
  /** Similarity of queries and keys: 'dot' (authors' code) or 'cosine' (the paper's text). Default 'dot'. */
  similarity: 'dot' | 'cosine';
  /** Size of the latent z. Default 50. */
  latent: number;
  /** Size of the controller (GRU) state. Default 200. */
  stateSize: number;
  /** Size of keys and queries. Default 200. */
  keySize: number;
  /** "Conditional" training: skip the ELBO of the first maxClasses positions; pseudo-inputs only at position 0. Default false. */
  conditional: boolean;
  /** T, images per episode. Default 10. */
  episodeLength: number;
  /** C, the most characters in an episode. Default 2. */
  maxClasses: number;
  /** Episodes per training step. Default 20. */
  batchSize: number;
}

export const defaultConfig: Readonly<GMNConfig> = Object.freeze({
  architecture: 'conv',
  hops: 4,
  priorHops: 1,
  pseudoInputs: 1,
  similarity: 'dot',
  latent: 50,
  stateSize: 200,
  keySize: 200,
  conditional: false,
  episodeLength: 10,
  maxClasses: 2,
  batchSize: 20,
});

/** Image side and pixels, and the size of psi (the encoder's 3 x 3 x 32 features). */
export const IMAGE_SIDE = 28;
export const PIXELS = IMAGE_SIDE * IMAGE_SIDE;
export const FEATURES = 288;

/** Fills in defaults and checks every field; throws TypeError/RangeError naming the field. */
export function resolveConfig(partial: Partial<GMNConfig> = {}, name = 'config'): GMNConfig {
  if (typeof partial !== 'object' || partial === null) throw typeError(name, 'an object', partial);
  for (const key of Object.keys(partial)) {
    if (!(key in defaultConfig)) throw typeError(`${name}.${key}`, `one of the options ${Object.keys(defaultConfig).join(', ')}`, key);
  }
  const c = { ...defaultConfig, ...partial };
  checkOneOf(`${name}.architecture`, c.architecture, ['conv', 'fc'] as const);
  checkInteger(`${name}.hops`, c.hops, 0, 64);
  checkInteger(`${name}.priorHops`, c.priorHops, 0, 64);
  checkInteger(`${name}.pseudoInputs`, c.pseudoInputs, 0, 64);
  checkOneOf(`${name}.similarity`, c.similarity, ['dot', 'cosine'] as const);
  checkInteger(`${name}.latent`, c.latent, 1, 4096);
  checkInteger(`${name}.stateSize`, c.stateSize, 1, 8192);
  checkInteger(`${name}.keySize`, c.keySize, 1, 8192);
  if (typeof c.conditional !== 'boolean') throw typeError(`${name}.conditional`, 'a boolean', c.conditional);
  checkInteger(`${name}.episodeLength`, c.episodeLength, 1, 1000);
  checkInteger(`${name}.maxClasses`, c.maxClasses, 1, 1000);
  checkInteger(`${name}.batchSize`, c.batchSize, 1, 100000);
  return c;
}

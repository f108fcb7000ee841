// Public data API: Omniglot loading and import, the validation carve, episode sampling, the seeded PRNG.

export { Rng } from './rng.js';
export {
  loadOmniglot,
  splitValidation,
  OMNIGLOT_SPLITS,
  OMNIGLOT_VARIANTS,
  OMNIGLOT_SHA256,
  type OmniglotSplit,
  type OmniglotSplitName,
  type OmniglotVariant,
  type OmniglotCharacter,
  type OmniglotAlphabet,
  type LoadOmniglotOptions,
  type SplitValidationOptions,
} from './omniglot.js';
export {
  EpisodeSampler,
  imagePixels,
  BINARIZE_MODES,
  type Binarize,
  type Episode,
  type EpisodeSamplerOptions,
  type SamplerState,
} from './sampler.js';
export { importOmniglot, downsampleOmniglot105, type ImportOmniglotOptions, type ImportedSplit } from './import.js';

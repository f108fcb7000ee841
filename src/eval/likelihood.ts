// evaluate(): the paper's metric, E log p(x_t | x_<t) for t = 0..T-1 by importance sampling with K
// samples from q, averaged over test episodes, for several C_test, under both sampling protocols.
import { checkInteger, checkOneOf, rangeError, typeError } from '../errors.js';
import { EpisodeSampler, type Binarize } from '../data/sampler.js';
import { loadOmniglot, OMNIGLOT_SPLITS, type OmniglotSplit, type OmniglotSplitName, type OmniglotVariant } from '../data/omniglot.js';
import type { GMN } from '../model/gmn.js';
import { modelVariant } from '../model/load.js';
import { DEFAULT_MAX_ROWS, importanceWeights, meanAndError, perPosition } from './importance.js';

export const PROTOCOLS = ['with-replacement', 'without-replacement'] as const;
/** 'with-replacement': the paper's and the authors' sampling; 'without-replacement': no image repeats in an episode. */
export type Protocol = (typeof PROTOCOLS)[number];

export interface DataOptions {
  /** The Omniglot folder (README, "Data format"), or a split already loaded. Required. */
  data: string | OmniglotSplit;
  /** Which split of the folder. Default 'evaluation' (the test characters). */
  split?: OmniglotSplitName;
  /** Which images of the folder. Default: the variant the model was trained on (gmn-binary if unknown). */
  variant?: OmniglotVariant;
}

export interface EvaluateOptions extends DataOptions {
  /** C_test values: characters per test episode, at most. Default [1, 2, 3, 4]. */
  classes?: number[];
  /** Sampling protocols, each reported separately. Default both. */
  protocols?: Protocol[];
  /** Test episodes per (C_test, protocol). Default 1000. */
  episodes?: number;
  /** K, importance samples of z per position. Default 1000. */
  samples?: number;
  /** Seed of the episodes and the noise. Default 0. */
  seed?: number;
  /** The most decoded rows per native batch (memory bound). Default 2000. */
  maxRows?: number;
  /** Called after every episode. */
  onProgress?: (p: { done: number; total: number; classes: number; protocol: Protocol }) => void;
  signal?: AbortSignal;
}

export interface LikelihoodRow {
  classes: number;
  protocol: Protocol;
  episodes: number;
  samples: number;
  /** Mean over episodes of the importance-sampled log p(x_t | x_<t), nats, t = 0..T-1, and its standard error. */
  logLikelihood: number[];
  logLikelihoodSE: number[];
  /** The same for the ELBO (mean log weight over the same samples): a lower bound of each. */
  elbo: number[];
  elboSE: number[];
}

export interface EvaluateResult {
  rows: LikelihoodRow[];
  split: OmniglotSplitName;
  variant: OmniglotVariant;
  seed: number;
  seconds: number;
  /** Decoded (z, x_t) pairs per second: episodes x K x T over the wall clock. */
  samplesPerSecond: number;
}

/** Loads (or checks) the split that evaluation and classification read. */
export async function resolveData(model: GMN, o: DataOptions): Promise<{ data: OmniglotSplit; variant: OmniglotVariant }> {
  if (typeof o !== 'object' || o === null) throw typeError('options', 'an object', o);
  const split = checkOneOf('options.split', o.split ?? 'evaluation', OMNIGLOT_SPLITS);
  if (typeof o.data === 'string') {
    const variant = checkOneOf('options.variant', o.variant ?? modelVariant(model), ['greyscale', 'gmn-binary'] as const);
    return { data: await loadOmniglot(o.data, split, { variant }), variant };
  }
  if (o.data === undefined) throw typeError('options.data', 'an Omniglot folder (string) or a loaded split', o.data);
  return { data: o.data, variant: o.data.variant };
}

/** Training's binarisation of each variant: the binary copy as it is, greyscale by Bernoulli draws. */
export const binarizeOf = (variant: OmniglotVariant): Binarize => (variant === 'gmn-binary' ? 'none' : 'bernoulli');

/** A uint32 seed for one part of a run, so each (C, protocol) is reproducible on its own. */
export const subSeed = (seed: number, ...parts: number[]) => parts.reduce((s, p) => (Math.imul(s ^ p, 0x9e3779b1) + 0x7f4a7c15) >>> 0, seed >>> 0);

export async function evaluate(model: GMN, options: EvaluateOptions): Promise<EvaluateResult> {
  const { data, variant } = await resolveData(model, options);
  const T = model.config.episodeLength;
  const classes = options.classes ?? [1, 2, 3, 4];
  if (!Array.isArray(classes) || classes.length === 0) throw typeError('options.classes', 'a non-empty array of C_test values', classes);
  classes.forEach((c, i) => checkInteger(`options.classes[${i}]`, c, 1, T));
  const protocols = options.protocols ?? [...PROTOCOLS];
  if (!Array.isArray(protocols) || protocols.length === 0) throw typeError('options.protocols', 'a non-empty array of protocols', protocols);
  protocols.forEach((p, i) => checkOneOf(`options.protocols[${i}]`, p, PROTOCOLS));
  const episodes = checkInteger('options.episodes', options.episodes ?? 1000, 1);
  const samples = checkInteger('options.samples', options.samples ?? 1000, 1);
  const seed = checkInteger('options.seed', options.seed ?? 0, 0, 2 ** 32 - 1);
  const maxRows = checkInteger('options.maxRows', options.maxRows ?? DEFAULT_MAX_ROWS, 1);
  if (data.characters.length < Math.max(...classes) && protocols.includes('without-replacement')) {
    throw rangeError('options.classes', `at most ${data.characters.length} (the characters of the split) without replacement`, Math.max(...classes));
  }

  const started = performance.now();
  const rows: LikelihoodRow[] = [];
  const total = classes.length * protocols.length * episodes;
  let done = 0;
  for (const C of classes) {
    for (const protocol of protocols) {
      const pi = PROTOCOLS.indexOf(protocol);
      const sampler = new EpisodeSampler({
        data,
        episodeLength: T,
        maxClasses: C,
        batchSize: 1,
        replacement: protocol === 'with-replacement',
        binarize: binarizeOf(variant),
        seed: subSeed(seed, C, pi, 1),
      });
      const noise = { seed: subSeed(seed, C, pi, 2), offset: 0 };
      const ll = Array.from({ length: T }, () => new Float64Array(episodes));
      const lb = Array.from({ length: T }, () => new Float64Array(episodes));
      for (let e = 0; e < episodes; e++) {
        if (options.signal?.aborted) throw new Error('evaluation aborted', { cause: options.signal.reason });
        const stats = await model.episodeStats(sampler.next().images, 1);
        const w = await importanceWeights(model, stats, samples, noise, maxRows);
        const { logLikelihood, elbo } = perPosition(w, 1, samples, T);
        for (let t = 0; t < T; t++) {
          ll[t][e] = logLikelihood[t];
          lb[t][e] = elbo[t];
        }
        options.onProgress?.({ done: ++done, total, classes: C, protocol });
      }
      const a = ll.map(meanAndError);
      const b = lb.map(meanAndError);
      rows.push({
        classes: C,
        protocol,
        episodes,
        samples,
        logLikelihood: a.map((x) => x.mean),
        logLikelihoodSE: a.map((x) => x.se),
        elbo: b.map((x) => x.mean),
        elboSE: b.map((x) => x.se),
      });
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return { rows, split: data.split, variant, seed, seconds, samplesPerSecond: (total * samples * T) / seconds };
}

const fmt = (mean: number, se: number) => (Number.isFinite(se) ? `${mean.toFixed(1)} ± ${se.toFixed(1)}` : mean.toFixed(1));

/** The result as markdown tables laid out like DESIGN.md's: one row per (protocol, C_test), a column per shot count. */
export function likelihoodTable(result: EvaluateResult): string {
  const T = result.rows[0]?.logLikelihood.length ?? 0;
  const shots = Array.from({ length: T }, (_, t) => String(t));
  const head = `| protocol | C_test | ${shots.join(' | ')} shots |\n| --- | --- |${' --- |'.repeat(T)}\n`;
  const label = (p: Protocol) => (p === 'with-replacement' ? 'with replacement (paper)' : 'without replacement');
  const body = (key: 'logLikelihood' | 'elbo') =>
    result.rows.map((r) => `| ${label(r.protocol)} | ${r.classes} | ${r[key].map((m, t) => fmt(m, r[`${key}SE`][t])).join(' | ')} |`).join('\n');
  const { episodes, samples } = result.rows[0] ?? { episodes: 0, samples: 0 };
  return (
    `log p(x_t | x_<t) in nats (higher is better), importance-sampled with K = ${samples}, mean ± standard error over ${episodes} episodes of the ${result.split} split (${result.variant}):\n\n` +
    head + body('logLikelihood') +
    `\n\nELBO of the same samples (a lower bound of each entry above):\n\n` +
    head + body('elbo') + '\n'
  );
}

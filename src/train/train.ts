// trainGMN(): the paper's training protocol (DESIGN.md section 3) with validation on held-out
// background characters, checkpoints, exact resumption, progress and cancellation.
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';

import { setThreads } from '../backend.js';
import { EpisodeSampler, type Binarize, type SamplerState } from '../data/sampler.js';
import { loadOmniglot, splitValidation, type OmniglotVariant } from '../data/omniglot.js';
import { checkInteger, checkNumber, checkOneOf, typeError } from '../errors.js';
import { GMN } from '../model/gmn.js';
import type { GMNConfig } from '../model/config.js';
import { loadBinding, type DeviceName } from '../native/binding.js';
import { loadCheckpoint, restoreInto, saveCheckpoint } from './checkpoint.js';
import { Optimizer, resolveOptimizer, type OptimizerConfig } from './optimizer.js';
import { writeFileAtomic } from './safetensors.js';
import { checkSchedule, learningRate, paperSchedule, type Schedule } from './schedule.js';

export interface TrainOptions {
  /** Omniglot folder (the format of loadOmniglot). Required. */
  data: string;
  /** 'gmn-binary' (the paper's binary images) or 'greyscale'. Default 'gmn-binary'. */
  variant?: OmniglotVariant;
  /** Binarisation of the training images. Default 'none' for gmn-binary (already 0/1), 'bernoulli' for greyscale. */
  binarize?: Binarize;
  /** Episode sampling with replacement, as in the authors' code. Default true. */
  replacement?: boolean;
  /** The model; defaults are the paper's (see GMNConfig). */
  model?: Partial<GMNConfig>;
  /** Default 'auto'. */
  device?: 'auto' | DeviceName;
  /** Threads of the native CPU pool. Default: GMN_THREADS, else all cores. */
  threads?: number;
  /** Seed of the initialisation, the episode sampler and the noise. Default 0. */
  seed?: number;
  /** Total training steps. Default 90,750 (the paper's). */
  steps?: number;
  /** Default Adam with beta2 = 0.99, eps = 1e-8. */
  optimizer?: Partial<OptimizerConfig>;
  /** Default the paper's: 1e-3, 3e-4, 1e-4 for 30,250 steps each. */
  schedule?: Schedule;
  /** Clip the gradient to this global norm. Default: no clipping. */
  maxGradNorm?: number;
  /** On a non-finite loss or gradient: 'stop' (throw, naming the step and the term) or 'skip' the update. Default 'stop'. */
  onNonFinite?: 'stop' | 'skip';
  /** Background characters held out for validation. Default 10% of them. */
  validationCharacters?: number;
  /** Validate every this many steps (0 = never). Default 1000. */
  validateEvery?: number;
  /** Batches of validation episodes. Default 5 (100 episodes with the default batch size). */
  validationBatches?: number;
  /** C of the validation episodes. Default 1. */
  validationClasses?: number;
  /** Run folder for checkpoints (checkpoint.safetensors) and metrics (metrics.jsonl). Default: none (nothing written). */
  out?: string;
  /** Write a checkpoint every this many steps (and at the end). Default 1000. */
  checkpointEvery?: number;
  /**
   * Resume from this checkpoint, or `true` for `<out>/checkpoint.safetensors`. The run's options
   * stored in the checkpoint fill in every option not given; a given option that differs is refused,
   * except `steps`, `validateEvery`, `checkpointEvery`, `validationBatches`, `onNonFinite` and `data`
   * (the folder may have moved), which override with a warning. Metrics after the checkpoint's step are
   * cut from `<out>/metrics.jsonl` before new ones are appended. Default: start afresh.
   */
  resume?: string | boolean;
  /**
   * Start afresh in an `out` folder that already holds a run: its checkpoint and metrics are moved
   * into `<out>/previous-<time>/` first. Without `force` or `resume`, such a folder is refused.
   */
  force?: boolean;
  /** Called with each warning (an overridden option on resume). Default: console.warn. */
  onWarning?: (message: string) => void;
  /** Stops training after the current step (a checkpoint is written when `out` is set). */
  signal?: AbortSignal;
  /** Called after every step. */
  onProgress?: (progress: TrainProgress) => void;
}

export interface LossTerms {
  /** Mean over episodes of the summed ELBO terms: log p(x|z), log p(z|x<t), log q(z|x<=t). */
  logLikelihood: number;
  logPrior: number;
  logPosterior: number;
}

export interface ValidationResult {
  step: number;
  /** Mean ELBO (nats) of each position t = 0..T-1 over the validation episodes: the t-shot bound. */
  elboByPosition: number[];
}

export interface TrainProgress {
  step: number;
  totalSteps: number;
  loss: number;
  terms: LossTerms;
  learningRate: number;
  gradNorm: number;
  /** False when a non-finite step was skipped. */
  applied: boolean;
  stepsPerSecond: number;
  secondsLeft: number;
  validation?: ValidationResult;
}

export interface TrainResult {
  steps: number;
  aborted: boolean;
  lastLoss: number;
  lastValidation?: ValidationResult;
  checkpoint?: string;
}

export class NonFiniteError extends Error {
  constructor(
    readonly step: number,
    readonly term: string,
  ) {
    super(`gmn: non-finite ${term} at step ${step}; the update was not applied (use onNonFinite: 'skip' to go on)`);
  }
}

const TERM_NAMES = ['log p(x|z)', 'log p(z|x<t)', 'log q(z|x<=t)'];

function sumTerms(terms: Float32Array, rows: number, batch: number): LossTerms {
  const s = [0, 0, 0];
  for (let r = 0; r < rows; r++) for (let k = 0; k < 3; k++) s[k] += terms[3 * r + k];
  return { logLikelihood: s[0] / batch, logPrior: s[1] / batch, logPosterior: s[2] / batch };
}

/** The options a checkpoint stores and a resumed run restores (resolved, defaults filled in). */
const STORED = [
  'data', 'variant', 'binarize', 'replacement', 'seed', 'steps', 'optimizer', 'schedule', 'maxGradNorm', 'onNonFinite',
  'validationCharacters', 'validateEvery', 'validationBatches', 'validationClasses', 'checkpointEvery',
] as const;
type StoredOptions = Pick<TrainOptions, (typeof STORED)[number]>;
/** Options a resumed run may change without changing what it computes for the steps already taken. */
const OVERRIDABLE = new Set<string>(['data', 'steps', 'validateEvery', 'checkpointEvery', 'validationBatches', 'onNonFinite']);

/** The options of a resumed run: the stored ones, with the given ones checked against them. */
function resumeOptions(given: TrainOptions, stored: StoredOptions | undefined, from: string, warn: (m: string) => void): TrainOptions {
  if (!stored) return given;
  const merged: TrainOptions = { ...given };
  for (const key of STORED) {
    const saved = stored[key];
    let value = given[key];
    if (key === 'optimizer' && value !== undefined) value = resolveOptimizer(value as Partial<OptimizerConfig>);
    if (value === undefined || JSON.stringify(value) === JSON.stringify(saved)) {
      (merged as unknown as Record<string, unknown>)[key] = saved;
    } else if (OVERRIDABLE.has(key)) {
      warn(`gmn: resuming with ${key} ${JSON.stringify(value)} instead of the run's ${JSON.stringify(saved)}`);
    } else {
      throw new Error(`gmn: cannot resume with a different ${key}: ${from} was trained with ${JSON.stringify(saved)}, and ${JSON.stringify(value)} was given; leave it out to keep the run's`);
    }
  }
  return merged;
}

/** Keeps the metrics of steps up to `step` (and drops a partly written last line). */
function truncateMetrics(file: string, step: number): void {
  if (!existsSync(file)) return;
  const kept = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => {
      try {
        return (JSON.parse(line) as { step: number }).step <= step;
      } catch {
        return false;
      }
    });
  writeFileAtomic(file, Buffer.from(kept.map((l) => l + '\n').join('')));
}

/** Refuses a folder that holds a run, unless resuming; with `force`, moves the run aside. */
function claimRunFolder(out: string, checkpointFile: string, metricsFile: string, force: boolean): void {
  const present = [checkpointFile, metricsFile].filter((f) => existsSync(f));
  if (present.length === 0) return;
  if (!force) {
    throw new Error(
      `gmn: ${out} already holds a run (${present.map((f) => path.basename(f)).join(', ')}); resume it (resume: true, gmn train --resume) ` +
        `or start afresh with force: true (gmn train --force), which moves those files into ${path.join(out, 'previous-<time>')}`,
    );
  }
  const aside = path.join(out, `previous-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(aside);
  for (const f of present) renameSync(f, path.join(aside, path.basename(f)));
}

function checkOptions(o: TrainOptions): void {
  if (typeof o !== 'object' || o === null) throw typeError('options', 'an object', o);
  if (typeof o.data !== 'string') throw typeError('options.data', 'the path of an Omniglot folder', o.data);
  if (o.variant !== undefined) checkOneOf('options.variant', o.variant, ['greyscale', 'gmn-binary'] as const);
  if (o.steps !== undefined) checkInteger('options.steps', o.steps, 1);
  if (o.seed !== undefined) checkInteger('options.seed', o.seed, 0, 2 ** 32 - 1);
  if (o.maxGradNorm !== undefined) checkNumber('options.maxGradNorm', o.maxGradNorm, Number.MIN_VALUE);
  if (o.onNonFinite !== undefined) checkOneOf('options.onNonFinite', o.onNonFinite, ['stop', 'skip'] as const);
  if (o.validateEvery !== undefined) checkInteger('options.validateEvery', o.validateEvery, 0);
  if (o.validationBatches !== undefined) checkInteger('options.validationBatches', o.validationBatches, 1);
  if (o.validationClasses !== undefined) checkInteger('options.validationClasses', o.validationClasses, 1);
  if (o.checkpointEvery !== undefined) checkInteger('options.checkpointEvery', o.checkpointEvery, 1);
  if (o.threads !== undefined) checkInteger('options.threads', o.threads, 1, 1024);
  if (o.out !== undefined && typeof o.out !== 'string') throw typeError('options.out', 'a folder path', o.out);
  if (o.resume !== undefined && typeof o.resume !== 'string' && typeof o.resume !== 'boolean')
    throw typeError('options.resume', 'a checkpoint path or true', o.resume);
  if (o.resume === true && !o.out) throw typeError('options.out', 'a run folder (resume: true reads <out>/checkpoint.safetensors)', o.out);
  if (o.force !== undefined && typeof o.force !== 'boolean') throw typeError('options.force', 'a boolean', o.force);
  if (o.force && o.resume) throw typeError('options.force', 'false when resuming (force starts afresh)', o.force);
  if (o.onWarning !== undefined && typeof o.onWarning !== 'function') throw typeError('options.onWarning', 'a function', o.onWarning);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw typeError('options.signal', 'an AbortSignal', o.signal);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw typeError('options.onProgress', 'a function', o.onProgress);
  if (o.schedule !== undefined) checkSchedule(o.schedule, 'options.schedule');
}

/** Trains a GMN; see TrainOptions for every option and its default. */
export async function trainGMN(given: TrainOptions): Promise<TrainResult> {
  checkOptions(given);
  const checkpointFile = given.out ? path.join(given.out, 'checkpoint.safetensors') : undefined;
  const metricsFile = given.out ? path.join(given.out, 'metrics.jsonl') : undefined;
  const resumeFrom = given.resume === true ? checkpointFile : given.resume || undefined;
  if (resumeFrom && !existsSync(resumeFrom)) throw new Error(`gmn: cannot resume: ${resumeFrom} does not exist`);
  const ckpt = resumeFrom ? loadCheckpoint(resumeFrom) : undefined;
  const options = resumeOptions(given, ckpt?.training?.options as StoredOptions | undefined, resumeFrom ?? '', given.onWarning ?? console.warn);
  checkOptions(options);
  if (options.out && !ckpt) claimRunFolder(options.out, checkpointFile!, metricsFile!, options.force ?? false);

  if (options.threads !== undefined) setThreads(options.threads);
  const variant = options.variant ?? 'gmn-binary';
  const seed = options.seed ?? 0;
  const totalSteps = options.steps ?? 90750;
  const schedule = options.schedule ?? paperSchedule;
  const validateEvery = options.validateEvery ?? 1000;
  const checkpointEvery = options.checkpointEvery ?? 1000;
  const onNonFinite = options.onNonFinite ?? 'stop';
  const stored: StoredOptions = {
    data: options.data,
    variant,
    binarize: options.binarize ?? (variant === 'gmn-binary' ? 'none' : 'bernoulli'),
    replacement: options.replacement ?? true,
    seed,
    steps: totalSteps,
    optimizer: resolveOptimizer(options.optimizer),
    schedule,
    maxGradNorm: options.maxGradNorm,
    onNonFinite,
    validationCharacters: options.validationCharacters,
    validateEvery,
    validationBatches: options.validationBatches ?? 5,
    validationClasses: options.validationClasses ?? 1,
    checkpointEvery,
  };

  const data = await loadOmniglot(options.data, 'background', { variant });
  const split = splitValidation(data, { validationCharacters: options.validationCharacters, seed });
  if (ckpt && options.model) {
    const differs = Object.entries(options.model).filter(([k, v]) => ckpt.config[k as keyof GMNConfig] !== v);
    if (differs.length > 0)
      throw new Error(`gmn: cannot resume with a different model: ${differs.map(([k, v]) => `${k} is ${JSON.stringify(ckpt.config[k as keyof GMNConfig])} in ${resumeFrom}, ${JSON.stringify(v)} requested`).join('; ')}`);
  }
  const model = new GMN(ckpt?.config ?? options.model ?? {}, { device: options.device, seed });
  const c = model.config;
  const optimizer = new Optimizer(ckpt?.optimizer?.config ?? (stored.optimizer as OptimizerConfig), model.params, loadBinding());
  const samplerOptions = {
    data,
    characters: split.train,
    episodeLength: c.episodeLength,
    maxClasses: c.maxClasses,
    batchSize: c.batchSize,
    replacement: stored.replacement!,
    binarize: stored.binarize!,
    seed,
  } as const;
  const sampler = new EpisodeSampler(samplerOptions);
  if (ckpt) {
    await restoreInto(ckpt, model, optimizer);
    const state = ckpt.training?.sampler as SamplerState | undefined;
    if (!state) throw new Error(`gmn: ${resumeFrom} has no sampler state to resume from`);
    sampler.setState(state, 'checkpoint sampler state');
  }
  if (options.out) mkdirSync(options.out, { recursive: true });
  if (ckpt && metricsFile) truncateMetrics(metricsFile, ckpt.optimizer?.step ?? 0);
  const log = (record: Record<string, unknown>) => {
    if (metricsFile) appendFileSync(metricsFile, JSON.stringify(record) + '\n');
  };

  // Noise for step s is drawn at offset s * rows * latent of the run's stream: nothing to save.
  const noiseSeed = (seed ^ 0x9e3779b9) >>> 0;
  const noiseSize = model.rows * c.latent;
  const b = loadBinding();

  const validate = async (step: number): Promise<ValidationResult> => {
    const val = new EpisodeSampler({ ...samplerOptions, characters: split.validation, maxClasses: stored.validationClasses, seed: seed + 1 });
    const T = c.episodeLength;
    const sums = new Array<number>(T).fill(0);
    const batches = stored.validationBatches!;
    for (let i = 0; i < batches; i++) {
      const { terms } = await model.loss(val.next().images, { seed: (noiseSeed ^ 0x5bd1e995) >>> 0, offset: i * noiseSize }, false);
      for (let r = 0; r < model.rows; r++) sums[r % T] += terms[3 * r] + terms[3 * r + 1] - terms[3 * r + 2];
    }
    return { step, elboByPosition: sums.map((s) => s / (batches * c.batchSize)) };
  };
  const save = async (step: number) => {
    if (!checkpointFile) return;
    await saveCheckpoint(checkpointFile, model, optimizer, { step, sampler: sampler.state(), seed, variant, options: stored });
  };

  let step = optimizer.step;
  let lastLoss = NaN;
  let lastValidation: ValidationResult | undefined;
  let aborted = false;
  let rate = 0;
  try {
    while (step < totalSteps) {
      if (options.signal?.aborted) {
        aborted = true;
        break;
      }
      const started = performance.now();
      const episode = sampler.next();
      const { loss, terms } = await model.loss(episode.images, { seed: noiseSeed, offset: step * noiseSize }, true);
      const grads = [...model.params.grads.values()];
      const sq = await b.sumSquares(grads);
      let problem: string | null = null;
      if (!Number.isFinite(loss)) {
        const t = sumTerms(terms, model.rows, c.batchSize);
        const k = [t.logLikelihood, t.logPrior, t.logPosterior].findIndex((v) => !Number.isFinite(v));
        problem = `loss (${TERM_NAMES[Math.max(k, 0)]})`;
      } else if (!Number.isFinite(sq)) {
        for (const [name, g] of model.params.grads) {
          if (!Number.isFinite(await b.sumSquares([g]))) {
            problem = `gradient of ${name}`;
            break;
          }
        }
      }
      const lr = learningRate(schedule, step);
      const gradNorm = Math.sqrt(sq);
      if (problem && onNonFinite === 'stop') throw new NonFiniteError(step, problem);
      if (!problem) {
        const scale = options.maxGradNorm && gradNorm > options.maxGradNorm ? options.maxGradNorm / gradNorm : 1;
        await optimizer.update(lr, scale);
      } else {
        optimizer.step += 1; // a skipped step still counts, so the schedule and noise stay aligned
      }
      step = optimizer.step;
      lastLoss = loss;
      const seconds = (performance.now() - started) / 1000;
      rate = rate === 0 ? 1 / seconds : 0.9 * rate + 0.1 / seconds;
      const t = sumTerms(terms, model.rows, c.batchSize);
      log({ step, loss, ...t, lr, gradNorm, applied: !problem, seconds });
      let validation: ValidationResult | undefined;
      if (validateEvery > 0 && (step % validateEvery === 0 || step === totalSteps)) {
        validation = lastValidation = await validate(step);
        log({ step, validation: validation.elboByPosition });
      }
      if (step % checkpointEvery === 0 || step === totalSteps) await save(step);
      options.onProgress?.({
        step,
        totalSteps,
        loss,
        terms: t,
        learningRate: lr,
        gradNorm,
        applied: !problem,
        stepsPerSecond: rate,
        secondsLeft: (totalSteps - step) / rate,
        validation,
      });
    }
    if (aborted) await save(step);
  } finally {
    optimizer.dispose();
    model.dispose();
  }
  return { steps: step, aborted, lastLoss, lastValidation, checkpoint: checkpointFile };
}

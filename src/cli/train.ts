// `gmn train --data DIR --out RUN_DIR [options]`: trains with the paper's defaults, shows a progress
// bar, writes metrics.jsonl and checkpoint.safetensors in RUN_DIR, resumes with --resume.
import path from 'node:path';

import cliProgress from 'cli-progress';

import { defaultConfig, type GMNConfig } from '../model/config.js';
import { paperSchedule, type Schedule } from '../train/schedule.js';
import { loadCheckpoint } from '../train/checkpoint.js';
import { trainGMN, type TrainOptions } from '../train/train.js';
import { asFlags, checkBinaryCopy, flagReaders, parseFlags, UsageError } from './flags.js';

/** The flags that set each option of trainGMN, for its error messages. */
const FLAGS: Record<string, string> = {
  data: '--data', variant: '--variant', binarize: '--variant', replacement: '--no-replacement', seed: '--seed', steps: '--steps',
  optimizer: '--optimizer/--weight-decay', schedule: '--schedule/--lr/--warmup', maxGradNorm: '--max-grad-norm',
  onNonFinite: '--skip-non-finite', validateEvery: '--validate-every', checkpointEvery: '--checkpoint-every',
};

/** trainGMN's errors in the words of the command line: flags instead of option names. */
async function asTrainFlags<R>(work: () => Promise<R>): Promise<R> {
  try {
    return await work();
  } catch (err) {
    const m = /^gmn: cannot resume with a different (\w+): (.*)$/.exec((err as Error).message);
    if (m) throw new UsageError(`gmn train: cannot resume with a different ${FLAGS[m[1]] ?? m[1]}: ${m[2].replace('leave it out', 'leave the flag out')}`);
    if (/already holds a run/.test((err as Error).message)) throw new UsageError(`gmn train: ${(err as Error).message.replace(/^gmn: /, '').replace(/resume it \(resume: true, gmn train --resume\)/, 'pass --resume to continue it').replace(/start afresh with force: true \(gmn train --force\)/, 'pass --force to start afresh')}`);
    if (/^(Omniglot|Not a folder)/.test((err as Error).message)) throw new UsageError(`gmn train: --data: ${(err as Error).message}`);
    return asFlags('train', () => Promise.reject(err));
  }
}

/** The data folder a run was trained on, as its checkpoint says. */
function storedData(out: string): string {
  const file = path.join(out, 'checkpoint.safetensors');
  const data = (loadCheckpoint(file).training?.options as { data?: string } | undefined)?.data;
  if (!data) throw new UsageError(`gmn train: --data DIR is required (${file} does not say which folder the run used)`);
  return data;
}

export const trainUsage = `usage: gmn train --data DIR --out RUN_DIR [options]

  --data DIR              Omniglot folder (background.u8/.json, gmn-binary/)        required
  --out RUN_DIR           run folder: checkpoint.safetensors, metrics.jsonl        required
  --resume                continue from RUN_DIR/checkpoint.safetensors, with the options stored
                          there (flags given again must agree, except --steps, --data,
                          --validate-every, --checkpoint-every, --skip-non-finite: these
                          override with a warning); metrics after the checkpoint are dropped
  --force                 start afresh in a RUN_DIR that holds a run: its checkpoint and
                          metrics are moved into RUN_DIR/previous-<time>/ first
  --steps N               training steps                                           90750
  --seed N                seed of initialisation, episodes and noise               0
  --variant V             gmn-binary | greyscale                                   gmn-binary
  --architecture A        conv | fc                                                conv
  --hops K                attention hops of the shared reader (0 = average)        4
  --prior-hops K          attention hops of the prior reader                       1
  --pseudo-inputs P       pseudo-inputs per reader                                 1
  --similarity S          dot | cosine                                             dot
  --latent Z              size of z                                                50
  --conditional           skip the first C terms; pseudo-inputs only at t = 0      off
  --episode-length T      images per episode                                       10
  --max-classes C         characters per episode, at most                          2
  --batch-size B          episodes per step                                        20
  --no-replacement        sample episodes without replacement                      off
  --optimizer O           adam | adamw | sgd                                       adam
  --weight-decay W                                                                 0
  --schedule S            paper | cosine | constant                                paper
  --lr X                  peak learning rate; scales the paper's schedule too      1e-3
                          (--lr 5e-4: 5e-4, then 1.5e-4, then 5e-5)
  --warmup N              linear warmup steps                                      0
  --max-grad-norm X       clip the gradient's global norm                          off
  --skip-non-finite       skip steps with a non-finite loss or gradient            stop
  --validate-every N      validation interval in steps (0 = never)                 1000
  --checkpoint-every N    checkpoint interval in steps                             1000
  --threads N             CPU threads                                              all cores
  --device D              auto | cpu | cuda                                        auto
`;

const trainFlags = {
  data: { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'boolean' },
  force: { type: 'boolean' },
  steps: { type: 'string' },
  seed: { type: 'string' },
  variant: { type: 'string' },
  architecture: { type: 'string' },
  hops: { type: 'string' },
  'prior-hops': { type: 'string' },
  'pseudo-inputs': { type: 'string' },
  similarity: { type: 'string' },
  latent: { type: 'string' },
  conditional: { type: 'boolean' },
  'episode-length': { type: 'string' },
  'max-classes': { type: 'string' },
  'batch-size': { type: 'string' },
  'no-replacement': { type: 'boolean' },
  optimizer: { type: 'string' },
  'weight-decay': { type: 'string' },
  schedule: { type: 'string' },
  lr: { type: 'string' },
  warmup: { type: 'string' },
  'max-grad-norm': { type: 'string' },
  'skip-non-finite': { type: 'boolean' },
  'validate-every': { type: 'string' },
  'checkpoint-every': { type: 'string' },
  threads: { type: 'string' },
  device: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The options of `gmn train`: a flag not given stays undefined (a resumed run then keeps its own). */
export function parseTrainArgs(args: string[]): TrainOptions {
  const { values } = parseFlags('train', args, trainFlags);
  const { int, oneOf, fail } = flagReaders('train');
  const num = (flag: string, v: string | undefined, min: number) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min) fail(flag, `a number >= ${min}`, v);
    return n;
  };
  if (!values.out) throw new UsageError('gmn train: --out RUN_DIR is required (the run folder: checkpoint.safetensors, metrics.jsonl)');
  if (!values.data && !values.resume) throw new UsageError('gmn train: --data DIR is required (the Omniglot folder; with --resume the run\'s own is used)');
  if (values.resume && values.force) throw new UsageError('gmn train: pass --resume (continue the run) or --force (start afresh), not both');
  const model: Partial<GMNConfig> = {};
  const set = <K extends keyof GMNConfig>(key: K, v: GMNConfig[K] | undefined) => {
    if (v !== undefined) model[key] = v;
  };
  set('architecture', oneOf('architecture', values.architecture, ['conv', 'fc'] as const));
  set('hops', int('hops', values.hops, 0, 64));
  set('priorHops', int('prior-hops', values['prior-hops'], 0, 64));
  set('pseudoInputs', int('pseudo-inputs', values['pseudo-inputs'], 0, 64));
  set('similarity', oneOf('similarity', values.similarity, ['dot', 'cosine'] as const));
  set('latent', int('latent', values.latent, 1, 4096));
  if (values.conditional) model.conditional = true;
  set('episodeLength', int('episode-length', values['episode-length'], 1, 1000));
  set('maxClasses', int('max-classes', values['max-classes'], 1, 1000));
  set('batchSize', int('batch-size', values['batch-size'], 1, 100000));

  const steps = int('steps', values.steps, 1);
  const lr = num('lr', values.lr, 0);
  const warmupSteps = int('warmup', values.warmup, 0);
  const kind = oneOf('schedule', values.schedule, ['paper', 'cosine', 'constant'] as const);
  let schedule: Schedule | undefined;
  if (kind !== undefined || lr !== undefined || warmupSteps !== undefined) {
    const peak = lr ?? 1e-3;
    const warmup = warmupSteps ?? 0;
    if (kind === undefined || kind === 'paper') {
      // --lr scales the paper's schedule: peak, then 0.3 and 0.1 of it
      const paper = paperSchedule as Extract<Schedule, { kind: 'piecewise' }>;
      schedule = { ...paper, values: paper.values.map((v) => peak * (v / paper.values[0])), warmupSteps: warmup };
    } else if (kind === 'cosine') schedule = { kind: 'cosine', lr: peak, totalSteps: steps ?? 90750, warmupSteps: warmup };
    else schedule = { kind: 'piecewise', boundaries: [], values: [peak], warmupSteps: warmup };
  }
  const weightDecay = num('weight-decay', values['weight-decay'], 0);
  const optimizerKind = oneOf('optimizer', values.optimizer, ['adam', 'adamw', 'sgd'] as const);

  return {
    data: values.data ?? '',
    out: values.out,
    resume: values.resume ?? false,
    force: values.force ?? false,
    steps,
    seed: int('seed', values.seed, 0, 2 ** 32 - 1),
    variant: oneOf('variant', values.variant, ['gmn-binary', 'greyscale'] as const),
    model: Object.keys(model).length > 0 ? model : undefined,
    replacement: values['no-replacement'] ? false : undefined,
    optimizer: optimizerKind !== undefined || weightDecay !== undefined ? { ...(optimizerKind ? { kind: optimizerKind } : {}), ...(weightDecay !== undefined ? { weightDecay } : {}) } : undefined,
    schedule,
    maxGradNorm: num('max-grad-norm', values['max-grad-norm'], Number.MIN_VALUE),
    onNonFinite: values['skip-non-finite'] ? 'skip' : undefined,
    validateEvery: int('validate-every', values['validate-every'], 0),
    checkpointEvery: int('checkpoint-every', values['checkpoint-every'], 1),
    threads: int('threads', values.threads, 1, 1024),
    device: oneOf('device', values.device, ['auto', 'cpu', 'cuda'] as const),
  };
}

export async function trainCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(trainUsage);
    return 0;
  }
  const options = parseTrainArgs(args);
  if (!options.data && options.resume) options.data = storedData(options.out!);
  if (!options.resume) checkBinaryCopy('train', options.data, options.variant ?? 'gmn-binary', 'background');
  const shown = { ...options, model: { ...defaultConfig, ...options.model } };
  console.log(`gmn train: ${JSON.stringify(shown, null, 2)}`);

  const controller = new AbortController();
  const stop = () => {
    if (controller.signal.aborted) process.exit(130);
    console.error('\ngmn train: stopping after this step and writing a checkpoint (Ctrl-C again to quit now)');
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  const bar = new cliProgress.SingleBar(
    {
      format: 'step {value}/{total} |{bar}| loss {loss} | {rate} steps/s | eta {eta_formatted}',
      hideCursor: true,
      etaBuffer: 50,
      // also into logs (not a terminal): one line every 5 s
      noTTYOutput: true,
      notTTYSchedule: 5000,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const result = await asTrainFlags(() => trainGMN({
    ...options,
    signal: controller.signal,
    onProgress: (p) => {
      if (!started) {
        bar.start(p.totalSteps, p.step - 1, { loss: '-', rate: '-' });
        started = true;
      }
      bar.update(p.step, { loss: p.loss.toFixed(2), rate: p.stepsPerSecond.toFixed(2) });
      if (p.validation) {
        bar.stop();
        console.log(`validation at step ${p.step}: ELBO by shots ${p.validation.elboByPosition.map((v) => v.toFixed(1)).join(' ')}`);
        bar.start(p.totalSteps, p.step, { loss: p.loss.toFixed(2), rate: p.stepsPerSecond.toFixed(2) });
      }
    },
  }));
  bar.stop();
  console.log(`gmn train: ${result.aborted ? 'stopped' : 'finished'} at step ${result.steps}; last loss ${result.lastLoss.toFixed(3)}` + (result.checkpoint ? `; checkpoint ${result.checkpoint}` : ''));
  return 0;
}

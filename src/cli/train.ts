// `gmn train --data DIR --out RUN_DIR [options]`: trains with the paper's defaults, shows a progress
// bar, writes metrics.jsonl and checkpoint.safetensors in RUN_DIR, resumes with --resume.
import { parseArgs } from 'node:util';

import cliProgress from 'cli-progress';

import { defaultConfig, type GMNConfig } from '../model/config.js';
import { paperSchedule, type Schedule } from '../train/schedule.js';
import { trainGMN, type TrainOptions } from '../train/train.js';

export const trainUsage = `usage: gmn train --data DIR --out RUN_DIR [options]

  --data DIR              Omniglot folder (background.u8/.json, gmn-binary/)        required
  --out RUN_DIR           run folder: checkpoint.safetensors, metrics.jsonl        required
  --resume                continue from RUN_DIR/checkpoint.safetensors
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
  --lr X                  peak learning rate (cosine, constant)                    1e-3
  --warmup N              linear warmup steps                                      0
  --max-grad-norm X       clip the gradient's global norm                          off
  --skip-non-finite       skip steps with a non-finite loss or gradient            stop
  --validate-every N      validation interval in steps (0 = never)                 1000
  --checkpoint-every N    checkpoint interval in steps                             1000
  --threads N             CPU threads                                              all cores
  --device D              auto | cpu | cuda                                        auto
`;

const int = (v: string | undefined, name: string) => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`gmn train: --${name} needs an integer, not "${v}"`);
  return n;
};
const num = (v: string | undefined, name: string) => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`gmn train: --${name} needs a number, not "${v}"`);
  return n;
};

export function parseTrainArgs(args: string[]): TrainOptions {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      data: { type: 'string' },
      out: { type: 'string' },
      resume: { type: 'boolean' },
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
    },
  });
  if (!values.data || !values.out) throw new Error(`gmn train: --data and --out are required\n\n${trainUsage}`);
  const model: Partial<GMNConfig> = {};
  const set = <K extends keyof GMNConfig>(key: K, v: GMNConfig[K] | undefined) => {
    if (v !== undefined) model[key] = v;
  };
  set('architecture', values.architecture as GMNConfig['architecture'] | undefined);
  set('hops', int(values.hops, 'hops'));
  set('priorHops', int(values['prior-hops'], 'prior-hops'));
  set('pseudoInputs', int(values['pseudo-inputs'], 'pseudo-inputs'));
  set('similarity', values.similarity as GMNConfig['similarity'] | undefined);
  set('latent', int(values.latent, 'latent'));
  if (values.conditional) model.conditional = true;
  set('episodeLength', int(values['episode-length'], 'episode-length'));
  set('maxClasses', int(values['max-classes'], 'max-classes'));
  set('batchSize', int(values['batch-size'], 'batch-size'));

  const steps = int(values.steps, 'steps') ?? 90750;
  const lr = num(values.lr, 'lr') ?? 1e-3;
  const warmupSteps = int(values.warmup, 'warmup') ?? 0;
  const kind = values.schedule ?? 'paper';
  let schedule: Schedule;
  if (kind === 'paper') schedule = { ...paperSchedule, warmupSteps };
  else if (kind === 'cosine') schedule = { kind: 'cosine', lr, totalSteps: steps, warmupSteps };
  else if (kind === 'constant') schedule = { kind: 'piecewise', boundaries: [], values: [lr], warmupSteps };
  else throw new Error(`gmn train: --schedule must be paper, cosine or constant, not "${kind}"`);

  return {
    data: values.data,
    out: values.out,
    resume: values.resume ?? false,
    steps,
    seed: int(values.seed, 'seed'),
    variant: values.variant as TrainOptions['variant'],
    model,
    replacement: !values['no-replacement'],
    optimizer: {
      ...(values.optimizer ? { kind: values.optimizer as 'adam' } : {}),
      ...(values['weight-decay'] ? { weightDecay: num(values['weight-decay'], 'weight-decay') } : {}),
    },
    schedule,
    maxGradNorm: num(values['max-grad-norm'], 'max-grad-norm'),
    onNonFinite: values['skip-non-finite'] ? 'skip' : 'stop',
    validateEvery: int(values['validate-every'], 'validate-every'),
    checkpointEvery: int(values['checkpoint-every'], 'checkpoint-every'),
    threads: int(values.threads, 'threads'),
    device: values.device as TrainOptions['device'],
  };
}

export async function trainCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(trainUsage);
    return 0;
  }
  const options = parseTrainArgs(args);
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
      // also into logs (not a terminal): one line every 30 s
      noTTYOutput: true,
      notTTYSchedule: 30000,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const result = await trainGMN({
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
  });
  bar.stop();
  console.log(`gmn train: ${result.aborted ? 'stopped' : 'finished'} at step ${result.steps}; last loss ${result.lastLoss.toFixed(3)}` + (result.checkpoint ? `; checkpoint ${result.checkpoint}` : ''));
  return 0;
}

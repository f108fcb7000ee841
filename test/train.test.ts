// trainGMN on the Omniglot data with a tiny configuration: it learns, checkpoints, resumes bit for
// bit, stops on request, and catches non-finite steps. The CLI: SIGKILL, then --resume.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';

import { NonFiniteError, trainGMN, type TrainOptions } from '../src/train/train.js';
import { loadCheckpoint } from '../src/train/checkpoint.js';

const data = process.env.GMN_DATA;
const dataTest = data ? test : test.skip;
const skipNote = data ? '' : ' (skipped: GMN_DATA is not set)';
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'gmn-train-'));

const tiny = (extra: Partial<TrainOptions> = {}): TrainOptions => ({
  data: data ?? '',
  model: { batchSize: 4, episodeLength: 4, stateSize: 16, keySize: 12, latent: 8, hops: 2 },
  schedule: { kind: 'piecewise', boundaries: [], values: [1e-3] },
  validateEvery: 0,
  threads: 2,
  ...extra,
});

function losses(dir: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').split('\n')) {
    let r: { step: number; loss?: number };
    try {
      r = JSON.parse(line);
    } catch {
      continue; // empty, or a last line still being written by a running child
    }
    if (r.loss !== undefined) out.set(r.step, r.loss);
  }
  return out;
}

dataTest(`a resumed run repeats the uninterrupted run's losses bit for bit${skipNote}`, async (t) => {
  const straight = tmp();
  await trainGMN(tiny({ steps: 8, out: straight, checkpointEvery: 100 }));
  const split = tmp();
  await trainGMN(tiny({ steps: 4, out: split, checkpointEvery: 4 }));
  t.is(loadCheckpoint(path.join(split, 'checkpoint.safetensors')).optimizer?.step, 4);
  await trainGMN(tiny({ steps: 8, out: split, resume: true }));
  const a = losses(straight);
  const b = losses(split);
  t.is(a.size, 8);
  for (let s = 1; s <= 8; s++) t.is(b.get(s), a.get(s), `step ${s}`);
  const other = tiny({ steps: 10, out: split, resume: true });
  await t.throwsAsync(trainGMN({ ...other, model: { ...other.model, latent: 9 } }), { message: /latent is 8 in .*, 9 requested/ });
});

dataTest(`training lowers the loss and validates per position${skipNote}`, async (t) => {
  const seen: number[] = [];
  const result = await trainGMN(tiny({ steps: 30, validateEvery: 30, validationBatches: 2, onProgress: (p) => seen.push(p.loss) }));
  t.is(result.steps, 30);
  const first = seen.slice(0, 5).reduce((a, b) => a + b) / 5;
  const last = seen.slice(-5).reduce((a, b) => a + b) / 5;
  t.true(last < first, `mean loss of the first 5 steps ${first}, of the last 5 ${last}`);
  t.is(result.lastValidation?.elboByPosition.length, 4);
  t.true(result.lastValidation!.elboByPosition.every((v) => Number.isFinite(v) && v < 0));
});

dataTest(`an AbortSignal stops training after the current step and checkpoints${skipNote}`, async (t) => {
  const out = tmp();
  const controller = new AbortController();
  const result = await trainGMN(tiny({ steps: 50, out, signal: controller.signal, onProgress: (p) => p.step === 3 && controller.abort() }));
  t.true(result.aborted);
  t.is(result.steps, 3);
  t.is(loadCheckpoint(path.join(out, 'checkpoint.safetensors')).optimizer?.step, 3);
});

dataTest(`a non-finite loss stops training naming the step and the term, or is skipped on request${skipNote}`, async (t) => {
  const explode: TrainOptions['schedule'] = { kind: 'piecewise', boundaries: [2], values: [1e-3, 1e30] };
  const err = await t.throwsAsync(trainGMN(tiny({ steps: 6, schedule: explode })), { instanceOf: NonFiniteError });
  t.regex(err!.message, /at step \d/);
  t.regex(err!.message, /non-finite (loss \(log|gradient of)/);
  const applied: boolean[] = [];
  const result = await trainGMN(tiny({ steps: 6, schedule: explode, onNonFinite: 'skip', onProgress: (p) => applied.push(p.applied) }));
  t.is(result.steps, 6);
  t.true(applied.includes(false));
});

test('trainGMN rejects bad options before doing any work', async (t) => {
  await t.throwsAsync(trainGMN({} as TrainOptions), { instanceOf: TypeError, message: /options.data/ });
  await t.throwsAsync(trainGMN({ data: '.', steps: 0 }), { instanceOf: RangeError, message: /options.steps/ });
  await t.throwsAsync(trainGMN({ data: '.', resume: true }), { instanceOf: TypeError, message: /options.out/ });
  await t.throwsAsync(trainGMN({ data: '/no/such/dir' }), { message: /no\/such\/dir/ });
});

const cli = ['--import=tsx', 'src/cli/main.ts', 'train'];
const cliArgs = (out: string, steps: number) => [
  ...cli, '--data', data ?? '', '--out', out, '--steps', String(steps), '--batch-size', '4', '--episode-length', '4',
  '--latent', '8', '--hops', '2', '--checkpoint-every', '3', '--validate-every', '0', '--threads', '2', '--schedule', 'constant',
];

dataTest(`gmn train killed with SIGKILL resumes with --resume and repeats the uninterrupted losses${skipNote}`, async (t) => {
  const straight = tmp();
  const r = spawnSync(process.execPath, cliArgs(straight, 10), { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  const killed = tmp();
  const child = spawn(process.execPath, cliArgs(killed, 10), { stdio: 'ignore' });
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (existsSync(path.join(killed, 'metrics.jsonl')) && losses(killed).size >= 5) {
        child.kill('SIGKILL');
        clearInterval(poll);
        resolve();
      }
    }, 20);
  });
  await new Promise((resolve) => child.on('exit', resolve));
  const resumed = spawnSync(process.execPath, [...cliArgs(killed, 10), '--resume'], { encoding: 'utf8' });
  t.is(resumed.status, 0, resumed.stderr);
  const a = losses(straight);
  const b = losses(killed);
  for (let s = 1; s <= 10; s++) t.is(b.get(s), a.get(s), `step ${s}`);
});

dataTest(`maxGradNorm clips the update to that global norm${skipNote}`, async (t) => {
  const out = tmp();
  // Plain SGD with lr 1: the update is exactly the (clipped) gradient.
  const options = tiny({ steps: 1, out, optimizer: { kind: 'sgd', momentum: 0 }, maxGradNorm: 1e-3, schedule: { kind: 'piecewise', boundaries: [], values: [1] } });
  let norm = 0;
  await trainGMN({ ...options, onProgress: (p) => (norm = p.gradNorm) });
  t.true(norm > 1e-3, `the raw gradient norm ${norm} must exceed the clip for this test to mean anything`);
  const after = loadCheckpoint(path.join(out, 'checkpoint.safetensors')).params;
  const { GMN } = await import('../src/model/gmn.js');
  const before = new GMN(options.model, { device: 'cpu', seed: 0 });
  let sq = 0;
  for (const [name, v] of before.params.values) {
    const a = await v.read();
    const b = after.get(name)!.data;
    for (let i = 0; i < a.length; i++) sq += (a[i] - b[i]) ** 2;
  }
  before.dispose();
  t.true(Math.abs(Math.sqrt(sq) - 1e-3) < 1e-5, `the update's norm is ${Math.sqrt(sq)}`);
});

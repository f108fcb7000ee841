// One training step of the paper's configuration (20 episodes x T = 10, forward, backward, Adam) on
// the CPU, next to a GEMM of the same FLOP count, the PyTorch reference's step and the same step in
// TensorFlow.js, in the same run.
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { getThreads } from '../src/index.js';
import { Rng } from '../src/data/rng.js';
import { GMN } from '../src/model/gmn.js';
import { loadBinding } from '../src/native/binding.js';
import { Optimizer, resolveOptimizer } from '../src/train/optimizer.js';
import { bestSgemm } from './gemm.js';
import { findTorchPython, torchBlasWarning } from './python.js';
import { stepFlops } from './flops.js';
import { gflops, median, medianSeconds } from './timing.js';

/** Median seconds of a training step of `model` (forward, backward, Adam) on a random batch. */
export async function timeTrainStep(model: GMN, rng: Rng, repeats = 5): Promise<number> {
  const optimizer = new Optimizer(resolveOptimizer(), model.params, loadBinding());
  const x = Float32Array.from({ length: model.rows * 784 }, () => (rng.nextFloat() < 0.15 ? 1 : 0));
  let step = 0;
  try {
    return await medianSeconds(async () => {
      await model.loss(x, { seed: 1, offset: step++ * model.rows * model.config.latent }, true);
      await optimizer.update(1e-4);
    }, repeats, 1);
  } finally {
    optimizer.dispose();
  }
}

export interface TrainStepResult {
  threads: number;
  /** The median of the rounds' medians (each round: our step, the floor's sgemm, PyTorch's step). */
  stepMs: number;
  /** Each round's figures, in order. */
  rounds: { stepMs: number; floorMs: number; pytorchMs?: number }[];
  imagesPerSecond: number;
  gflopPerStep: number;
  peakRssMB: number;
  floor: { ms: number; gflops: number; by: string };
  pytorch: { ms: number; threads: number } | { skipped: string };
  /** TensorFlow.js's cpu backend (one thread: it is JavaScript), with how far its loss is from ours. */
  tfjs: { ms: number; threads: 1; lossRelativeDifference: number } | { skipped: string };
}

/**
 * The same step in TensorFlow.js (bench/reference/gmn-tfjs.ts) from `model`'s weights, after
 * checking that its loss on an episode batch and noise equals ours.
 */
async function tfjsStep(model: GMN, rng: Rng, ourSeconds: number): Promise<TrainStepResult['tfjs']> {
  let tfjs: typeof import('./reference/gmn-tfjs.js');
  try {
    tfjs = await import('./reference/gmn-tfjs.js');
  } catch (e) {
    return { skipped: `@tensorflow/tfjs does not load: ${(e as Error).message}` };
  }
  const weights = await tfjs.weightsOf(model);
  const x = Float32Array.from({ length: model.rows * 784 }, () => (rng.nextFloat() < 0.15 ? 1 : 0));
  // Standard normal noise (Box-Muller), the same array for both.
  const eps = Float32Array.from({ length: model.rows * model.config.latent }, () =>
    Math.sqrt(-2 * Math.log(1 - rng.nextFloat())) * Math.cos(2 * Math.PI * rng.nextFloat()));
  const ours = (await model.loss(x, eps, false)).loss;
  const { firstLoss, seconds } = tfjs.stepSeconds(model.config, weights, x, eps, 1); // one step: it takes minutes
  const lossRelativeDifference = Math.abs(firstLoss - ours) / Math.abs(ours);
  const ms = seconds[0] * 1e3;
  console.log(`  TensorFlow.js ${tfjs.version} cpu backend, 1 thread (same model; its loss ${firstLoss.toFixed(3)}, ours ${ours.toFixed(3)}, ` +
    `relative difference ${lossRelativeDifference.toExponential(1)}): ${ms.toFixed(0)} ms per step; gmn is ${(ms / (ourSeconds * 1e3)).toFixed(1)}x as fast`);
  if (!(lossRelativeDifference <= 1e-4)) return { skipped: `its loss ${firstLoss} is not ours (${ours}): not the same computation` };
  return { ms, threads: 1, lossRelativeDifference };
}

// Rounds of our step, the floor and PyTorch's step, alternated: the machine's speed drifts by tens
// of percent within minutes, and alternating spreads the drift over all three alike.
const ROUNDS = 3;

export async function trainStep(): Promise<TrainStepResult> {
  const model = new GMN({}, { device: 'cpu' });
  const rng = new Rng(1);
  const flops = stepFlops(model.config);
  const rounds: TrainStepResult['rounds'] = [];
  const rates: { rate: number; by: string }[] = [];
  let pytorch: TrainStepResult['pytorch'] | undefined;
  let torchThreads = getThreads();
  let peakRssMB = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const seconds = await timeTrainStep(model, rng);
    // The process's peak resident memory after training steps (the model, its activations and
    // gradients, Adam's state), read before the floor's sgemm allocates its large matrices.
    if (r === 0) peakRssMB = process.resourceUsage().maxRSS / 1024;
    // The floor: the step's FLOPs at the best sgemm rate found on this machine now.
    const best = await bestSgemm(getThreads());
    rates.push(best);
    const round: TrainStepResult['rounds'][number] = { stepMs: seconds * 1e3, floorMs: (flops.total / best.rate) * 1e3 };
    const torch = pytorchStep(model);
    if ('ms' in torch) (round.pytorchMs = torch.ms), (torchThreads = torch.threads);
    else pytorch ??= torch; // skipped: why
    rounds.push(round);
    console.log(`  round ${r + 1}: our step ${round.stepMs.toFixed(0)} ms, floor ${round.floorMs.toFixed(0)} ms, PyTorch ${round.pytorchMs?.toFixed(0) ?? '-'} ms`);
  }
  const seconds = median(rounds.map((r) => r.stepMs)) / 1e3;
  console.log(`gmn cpu, ${getThreads()} threads: ${(seconds * 1e3).toFixed(0)} ms per step (the median of ${ROUNDS} rounds' medians of 5 steps), ` +
    `${(model.rows / seconds).toFixed(0)} images/s, ${(flops.total / 1e9).toFixed(2)} GFLOP a step (conv ${(flops.conv / 1e9).toFixed(2)}, ` +
    `matrix products ${(flops.matmul / 1e9).toFixed(2)}) = ${gflops(flops.total, seconds)}`);
  console.log(`  peak resident memory of this process after the first round's steps: ${peakRssMB.toFixed(0)} MB`);
  const floorMs = median(rounds.map((r) => r.floorMs));
  const best = rates[rounds.findIndex((r) => r.floorMs === floorMs)];
  console.log(
    `  floor: ${floorMs.toFixed(0)} ms (the step's FLOPs at ${(best.rate / 1e9).toFixed(1)} GFLOP/s, the best sgemm here: ${best.by} at 5334x1024x1024; the median round's); the step takes ${((seconds * 1e3) / floorMs).toFixed(2)}x its floor`,
  );
  const torchMs = rounds.flatMap((r) => (r.pytorchMs === undefined ? [] : [r.pytorchMs]));
  if (!pytorch) {
    const ms = median(torchMs);
    pytorch = { ms, threads: torchThreads };
    console.log(`  PyTorch ${torchThreads} threads (float32, same model): ${ms.toFixed(0)} ms per step (the median of ${torchMs.length} rounds' medians of 5 steps); gmn is ${(ms / (seconds * 1e3)).toFixed(2)}x as fast`);
  }
  const tfjs = await tfjsStep(model, rng, seconds);
  model.dispose();
  return {
    threads: getThreads(),
    stepMs: seconds * 1e3,
    rounds,
    imagesPerSecond: model.rows / seconds,
    gflopPerStep: flops.total / 1e9,
    peakRssMB,
    floor: { ms: floorMs, gflops: best.rate / 1e9, by: best.by },
    pytorch,
    tfjs,
  };
}

/** The PyTorch reference's step (bench/reference/gmn_reference.py) on the same machine and threads. */
function pytorchStep(model: GMN): TrainStepResult['pytorch'] {
  const reference = path.join(import.meta.dirname, 'reference', 'gmn_reference.py');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gmn-bench-'));
  const config = path.join(dir, 'paper.json');
  writeFileSync(config, JSON.stringify(model.config));
  const python = findTorchPython();
  if (!python) {
    console.log('  PyTorch reference: skipped (no python3 with torch found; set GMN_PYTHON to one)');
    return { skipped: 'no python3 with torch found' };
  }
  const r = spawnSync(python, [reference, 'step-time', '--config', config, '--steps', '5'], {
    encoding: 'utf8',
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1', GMN_THREADS: String(getThreads()) },
  });
  if (r.error || r.status !== 0) {
    const why = r.error?.message ?? (r.stderr.trim().split('\n').pop() || `exit ${r.status}`);
    console.log(`  PyTorch reference: skipped (${why})`);
    return { skipped: why };
  }
  const blas = torchBlasWarning(python);
  if (blas) console.log(`  warning: ${blas}`);
  const ref = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms_per_step: number; threads: number };
  return { ms: ref.ms_per_step, threads: ref.threads };
}

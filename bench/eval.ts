// Evaluation throughput: importance samples (z, x_t) per second of the paper's model, K = 200 for
// one test episode of T = 10 (2,000 decoded rows a batch), next to a training step measured in the
// same run (forward, backward and Adam over 20 x 10 images).
import { getThreads } from '../src/index.js';
import { Rng } from '../src/data/rng.js';
import { importanceWeights } from '../src/eval/importance.js';
import { GMN } from '../src/model/gmn.js';
import { medianSeconds } from './timing.js';
import { timeTrainStep } from './train-step.js';

export async function evalThroughput(): Promise<{ samplesPerSecond: number; evalMs: number; stepMs: number }> {
  const model = new GMN({}, { device: 'cpu' });
  const rng = new Rng(2);
  const T = model.config.episodeLength;
  const K = 200;
  const episode = Float32Array.from({ length: T * 784 }, () => (rng.nextFloat() < 0.15 ? 1 : 0));
  const noise = { seed: 1, offset: 0 };
  const evalSeconds = await medianSeconds(async () => {
    const stats = await model.episodeStats(episode, 1);
    await importanceWeights(model, stats, K, noise);
  }, 5, 1);

  const stepSeconds = await timeTrainStep(model, rng, 3);
  model.dispose();

  const samplesPerSecond = (K * T) / evalSeconds;
  const imagesPerSecond = model.rows / stepSeconds;
  console.log(`gmn cpu, ${getThreads()} threads: evaluation ${samplesPerSecond.toFixed(0)} importance samples/s (one episode, K = ${K}: ${(evalSeconds * 1e3).toFixed(0)} ms)`);
  console.log(`  training step in the same run: ${(stepSeconds * 1e3).toFixed(0)} ms, ${imagesPerSecond.toFixed(0)} images/s; an importance sample costs ${(imagesPerSecond / samplesPerSecond).toFixed(2)}x a training image`);
  const result = { samplesPerSecond, evalMs: evalSeconds * 1e3, stepMs: stepSeconds * 1e3 };
  console.log(`  the paper's protocol (1000 episodes x K = 1000 x T = 10, one C_test, one sampling protocol) would take about ${((1000 * 1000 * T) / samplesPerSecond / 3600).toFixed(1)} h here`);
  return result;
}

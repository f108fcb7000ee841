// The exported encoder and sampler in onnxruntime-node (its default threads, and ours) next to the
// native forward on the same inputs, batch 1 and 200, in the same run.
import * as ort from 'onnxruntime-node';

import { getThreads } from '../src/index.js';
import { Rng } from '../src/data/rng.js';
import { GMN } from '../src/model/gmn.js';
import { exportONNX } from '../src/onnx/export.js';
import { alternatedMedianSeconds } from './timing.js';

export interface OnnxRow {
  graph: string;
  batch: number;
  gmnMs: number;
  ortDefaultMs: number;
  ortSameThreadsMs: number;
}

/** Seconds as milliseconds to three significant digits (batch 1 takes well under a millisecond). */
const ms = (seconds: number) => (seconds * 1e3).toPrecision(3);

export async function onnxBench(): Promise<OnnxRow[]> {
  const rows: OnnxRow[] = [];
  const model = new GMN({}, { device: 'cpu', seed: 1 });
  const rng = new Rng(3);
  const Z = model.config.latent, k = 5;
  const images = (n: number) => Float32Array.from({ length: n * 784 }, () => (rng.nextFloat() < 0.15 ? 1 : 0));
  const sessions = async (graph: 'encoder' | 'sampler') => {
    const bytes = await exportONNX(model, { graph });
    return {
      default: await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 }),
      same: await ort.InferenceSession.create(bytes, { logSeverityLevel: 3, intraOpNumThreads: getThreads(), interOpNumThreads: 1 }),
    };
  };
  const encoder = await sessions('encoder');
  const sampler = await sessions('sampler');
  console.log(`gmn cpu ${getThreads()} threads against onnxruntime-node ${ort.env.versions?.common ?? ''} (default threads / ${getThreads()} threads); ratio > 1: gmn is faster`);
  console.log('| graph | batch | gmn ms | ort default ms | ort same threads ms | ratio (default) | ratio (same) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const n of [1, 200]) {
    const x = images(n);
    const feeds = { images: new ort.Tensor('float32', x, [n, 1, 28, 28]) };
    const [ours, d, s] = await alternatedMedianSeconds([
      () => model.embed(x).then(() => undefined),
      () => encoder.default.run(feeds).then(() => undefined),
      () => encoder.same.run(feeds).then(() => undefined),
    ]);
    rows.push({ graph: 'encoder', batch: n, gmnMs: ours * 1e3, ortDefaultMs: d * 1e3, ortSameThreadsMs: s * 1e3 });
    console.log(`| encoder | ${n} | ${ms(ours)} | ${ms(d)} | ${ms(s)} | ${(d / ours).toFixed(2)} | ${(s / ours).toFixed(2)} |`);
  }
  const support = images(k);
  for (const n of [1, 200]) {
    const noise = Float32Array.from({ length: n * Z }, () => rng.nextFloat() - 0.5);
    const feeds = { support: new ort.Tensor('float32', support, [k, 1, 28, 28]), noise: new ort.Tensor('float32', noise, [n, Z]) };
    const [ours, d, s] = await alternatedMedianSeconds([
      () => model.sampleLogits(support, { n, noise }).then(() => undefined),
      () => sampler.default.run(feeds).then(() => undefined),
      () => sampler.same.run(feeds).then(() => undefined),
    ]);
    rows.push({ graph: `sampler, k = ${k}`, batch: n, gmnMs: ours * 1e3, ortDefaultMs: d * 1e3, ortSameThreadsMs: s * 1e3 });
    console.log(`| sampler, k = ${k} | ${n} | ${ms(ours)} | ${ms(d)} | ${ms(s)} | ${(d / ours).toFixed(2)} | ${(s / ours).toFixed(2)} |`);
  }
  model.dispose();
  return rows;
}

// The exported ONNX graphs in onnxruntime-node against the native model, on random weights and on
// the default model, for k = 0, 1 and 5 supports.
import test, { type ExecutionContext } from 'ava';
import { existsSync } from 'node:fs';
import * as ort from 'onnxruntime-node';

import { Rng } from '../src/data/index.js';
import { GMN } from '../src/model/gmn.js';
import { DEFAULT_MODEL, loadModel } from '../src/model/load.js';
import { exportONNX } from '../src/onnx/export.js';

const P = 784;

function images(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n * P }, () => (rng.nextFloat() < 0.15 ? 1 : 0));
}
function normals(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - rng.nextFloat())) * Math.cos(2 * Math.PI * rng.nextFloat()));
}

async function session(model: GMN, graph: 'encoder' | 'sampler' | 'scorer') {
  return ort.InferenceSession.create(await exportONNX(model, { graph }), { logSeverityLevel: 3 });
}

function close(t: ExecutionContext, what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: number) {
  t.is(got.length, want.length, `${what}: length`);
  let worst = 0, rel = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    worst = Math.max(worst, d);
    rel = Math.max(rel, d / Math.max(Math.abs(want[i]), 1e-6));
  }
  t.log(`${what}: max abs error ${worst.toExponential(2)}, max rel error ${rel.toExponential(2)}`);
  t.true(worst <= tol, `${what}: max abs error ${worst} > ${tol}`);
}

async function parity(t: ExecutionContext, model: GMN, label: string) {
  const rng = new Rng(11);
  const Z = model.config.latent;
  const enc = await session(model, 'encoder');
  const x = images(rng, 3);
  const psi = (await enc.run({ images: new ort.Tensor('float32', x, [3, 1, 28, 28]) })).psi.data as Float32Array;
  close(t, `${label} encoder`, psi, await model.embed(x), 1e-4);

  const sampler = await session(model, 'sampler');
  const scorer = await session(model, 'scorer');
  for (const k of [0, 1, 5]) {
    const support = images(rng, k);
    // native: one episode [supports, blank query]; z of sample s at position k from the given noise
    const n = 4, L = k + 1;
    const noise = normals(rng, n * Z);
    const eps = normals(rng, n * L * Z);
    for (let s = 0; s < n; s++) eps.set(noise.subarray(s * Z, (s + 1) * Z), (s * L + k) * Z);
    const episode = new Float32Array(L * P);
    episode.set(support);
    const { logits } = await model.sampleEpisodes(await model.episodeStats(episode, 1), { samples: n, noise: eps, from: 'prior', logits: true });
    const want = new Float32Array(n * P);
    for (let s = 0; s < n; s++) for (let p = 0; p < P; p++) want[s * P + p] = 1 / (1 + Math.exp(-logits![(s * L + k) * P + p]));
    const out = await sampler.run({ support: new ort.Tensor('float32', support, [k, 1, 28, 28]), noise: new ort.Tensor('float32', noise, [n, Z]) });
    close(t, `${label} sampler, k = ${k}`, out.means.data as Float32Array, want, 1e-4);
    let spread = 0;
    for (let p = 0; p < P; p++) spread = Math.max(spread, Math.abs(want[p] - want[P + p]));
    t.true(spread > 1e-3, `${label}, k = ${k}: samples differ (${spread}), so the comparison means something`);

    // scorer: m queries, each its own episode [supports, query]
    const m = 3;
    const queries = images(rng, m);
    const qNoise = normals(rng, m * Z);
    const x2 = new Float32Array(m * L * P);
    const eps2 = normals(rng, m * L * Z);
    for (let j = 0; j < m; j++) {
      x2.set(support, j * L * P);
      x2.set(queries.subarray(j * P, (j + 1) * P), (j * L + k) * P);
      eps2.set(qNoise.subarray(j * Z, (j + 1) * Z), (j * L + k) * Z);
    }
    const { terms } = await model.sampleEpisodes(await model.episodeStats(x2, m), { samples: 1, noise: eps2 });
    const wantTerms = new Float32Array(m * 3);
    for (let j = 0; j < m; j++) wantTerms.set(terms.subarray((j * L + k) * 3, (j * L + k + 1) * 3), j * 3);
    const scored = await scorer.run({
      support: new ort.Tensor('float32', support, [k, 1, 28, 28]),
      query: new ort.Tensor('float32', queries, [m, 1, 28, 28]),
      noise: new ort.Tensor('float32', qNoise, [m, Z]),
    });
    // sums of 784 (and Z) float32 terms in onnxruntime against the native double sums
    close(t, `${label} scorer terms, k = ${k}`, scored.terms.data as Float32Array, wantTerms, 2e-3);
  }
}

test('ONNX graphs match the native model: random weights, k = 0, 1, 5', async (t) => {
  const model = new GMN({}, { device: 'cpu', seed: 21 });
  t.teardown(() => model.dispose());
  await parity(t, model, 'random');
});

const trained = process.env.GMN_ONNX_CHECKPOINT ?? DEFAULT_MODEL;
const hasDefault = existsSync(trained);
(hasDefault ? test : test.skip)(`ONNX graphs match the native model: the default model${hasDefault ? '' : ' (skipped: models/default.safetensors is not in this checkout)'}`, async (t) => {
  const model = await loadModel(trained);
  t.teardown(() => model.dispose());
  await parity(t, model, 'trained');
});

test('ONNX: a wrong input shape is onnxruntime\'s own error; an unsupported model is ours', async (t) => {
  const model = new GMN({}, { device: 'cpu', seed: 1 });
  t.teardown(() => model.dispose());
  const enc = await session(model, 'encoder');
  await t.throwsAsync(enc.run({ images: new ort.Tensor('float32', new Float32Array(2 * 27 * 27), [2, 1, 27, 27]) }), { message: /images|dimension|shape/i });
  const fc = new GMN({ architecture: 'fc' }, { device: 'cpu' });
  t.teardown(() => fc.dispose());
  await t.throwsAsync(exportONNX(fc, { graph: 'encoder' }), { instanceOf: RangeError, message: /architecture/ });
  await t.throwsAsync(exportONNX(model, { graph: 'decoder' as never }), { instanceOf: RangeError, message: /options\.graph/ });
});

test('examples/onnx-sample.mjs draws a grid from an exported sampler with onnxruntime-node alone', async (t) => {
  const { mkdtempSync, writeFileSync, readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { spawnSync } = await import('node:child_process');
  const { PNG } = await import('pngjs');
  const dir = mkdtempSync(join(tmpdir(), 'gmn-onnx-'));
  const model = new GMN({}, { device: 'cpu', seed: 2 });
  t.teardown(() => model.dispose());
  writeFileSync(join(dir, 'sampler.onnx'), await exportONNX(model, { graph: 'sampler' }));
  const support = new PNG({ width: 28, height: 28 });
  support.data.fill(255);
  for (let y = 4; y < 24; y++) for (const x of [13, 14]) support.data.fill(0, 4 * (y * 28 + x), 4 * (y * 28 + x) + 3);
  writeFileSync(join(dir, 'a.png'), PNG.sync.write(support));
  const r = spawnSync(process.execPath, ['examples/onnx-sample.mjs', join(dir, 'sampler.onnx'), join(dir, 'grid.png'), join(dir, 'a.png')], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  const grid = PNG.sync.read(readFileSync(join(dir, 'grid.png')));
  t.is(grid.width, 10 * 114 + 2);
  t.is(grid.height, 2 * 114 + 2);
});

test('gmn export writes a graph onnxruntime loads; a bad checkpoint or graph name is our one-line error', async (t) => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { spawnSync } = await import('node:child_process');
  const { saveWeights } = await import('../src/model/load.js');
  const dir = mkdtempSync(join(tmpdir(), 'gmn-export-'));
  const model = new GMN({}, { device: 'cpu', seed: 4 });
  t.teardown(() => model.dispose());
  await saveWeights(join(dir, 'w.safetensors'), model);
  const gmn = (...args: string[]) => spawnSync(process.execPath, ['--import=tsx', 'src/cli/main.ts', 'export', ...args], { encoding: 'utf8' });
  const ok = gmn('--checkpoint', join(dir, 'w.safetensors'), '--graph', 'encoder', '--out', join(dir, 'e.onnx'));
  t.is(ok.status, 0, ok.stderr);
  const s = await ort.InferenceSession.create(join(dir, 'e.onnx'), { logSeverityLevel: 3 });
  t.deepEqual(s.inputNames, ['images']);
  await t.throwsAsync(s.run({ images: new ort.Tensor('int32', new Int32Array(784), [1, 1, 28, 28]) }), { message: /type|tensor\(int32\)|float/i });
  writeFileSync(join(dir, 'bad.safetensors'), 'not a checkpoint at all');
  for (const [args, message] of [
    [['--checkpoint', join(dir, 'bad.safetensors'), '--graph', 'sampler', '--out', join(dir, 's.onnx')], /^gmn export: --checkpoint: .*bad\.safetensors is not a valid safetensors file/],
    [['--graph', 'decoder', '--out', join(dir, 's.onnx')], /^gmn export: --graph needs one of encoder, sampler, scorer, not "decoder"/],
    [['--graph', 'sampler'], /^gmn export: --out FILE\.onnx is required/],
  ] as const) {
    const r = gmn(...args);
    t.is(r.status, 2);
    t.regex(r.stderr.trim(), message);
    t.is(r.stderr.trim().split('\n').length, 1);
  }
});

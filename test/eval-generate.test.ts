// generate(), the image loader and the PNG grid, classify(), and loadModel.
import test from 'ava';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

import { GMN } from '../src/model/gmn.js';
import { DEFAULT_MODEL, loadModel, saveWeights } from '../src/model/load.js';
import { generate, gridRows } from '../src/eval/generate.js';
import { classify, classifyTable, wilson } from '../src/eval/classify.js';
import { decodeImage, imageGrid } from '../src/eval/images.js';
import { Rng, type OmniglotSplit } from '../src/data/index.js';
import { syntheticSplit, tempDir } from './helpers/data.js';

const small = { architecture: 'fc', latent: 4, stateSize: 16, keySize: 8, hops: 1, episodeLength: 6, batchSize: 1 } as const;

/** A 28x28 ink image: a bar from (r0, c0) to (r1, c1), 1 inside. */
function bar(r0: number, c0: number, r1: number, c1: number): Float32Array {
  const x = new Float32Array(784);
  for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) x[r * 28 + c] = 1;
  return x;
}

test('generate: shapes, the same seed gives the same images, another seed others', async (t) => {
  const model = new GMN(small, { device: 'cpu', seed: 1 });
  t.teardown(() => model.dispose());
  const support = new Float32Array([...bar(4, 4, 20, 8), ...bar(5, 5, 21, 9)]);
  const a = await generate(model, { support, n: 3, seed: 7 });
  t.is(a.k, 2);
  t.is(a.images.length, 3 * 784);
  t.true(a.images.every((v) => v > 0 && v < 1), 'Bernoulli means');
  t.deepEqual(a.support, support);
  t.deepEqual((await generate(model, { support, n: 3, seed: 7 })).images, a.images);
  t.notDeepEqual((await generate(model, { support, n: 3, seed: 8 })).images, a.images);
  const binary = await generate(model, { support, n: 2, output: 'binary' });
  t.true(binary.images.every((v) => v === 0 || v === 1));
  const unconditional = await generate(model, { n: 4 });
  t.is(unconditional.k, 0);
  t.is(unconditional.images.length, 4 * 784);
  const rec = await generate(model, { support, n: 3, reconstruct: true });
  t.is(rec.images.length, 3 * 2 * 784);
  t.deepEqual(gridRows(rec).map((r) => r.length), [2, 2, 2, 2]);
  t.deepEqual(gridRows(a, 2).map((r) => r.length), [2, 2, 1]);
});

test('generate: bad options name the option', async (t) => {
  const model = new GMN(small, { device: 'cpu', seed: 1 });
  t.teardown(() => model.dispose());
  await t.throwsAsync(generate(model, { support: new Float32Array(100) }), { instanceOf: RangeError, message: /784.*options\.support/ });
  await t.throwsAsync(generate(model, { support: new Float32Array(6 * 784) }), { instanceOf: RangeError, message: /at most 5.*options\.support/ });
  await t.throwsAsync(generate(model, { support: bar(1, 1, 2, 2).map((v) => v * 2) }), { instanceOf: RangeError, message: /options\.support\[\d+\]/ });
  await t.throwsAsync(generate(model, { support: new Float32Array([NaN, ...new Float32Array(783)]) }), { message: /options\.support\[0\] but received NaN/ });
  await t.throwsAsync(generate(model, { n: 0 }), { instanceOf: RangeError, message: /options\.n/ });
  await t.throwsAsync(generate(model, { reconstruct: true }), { instanceOf: RangeError, message: /options\.support/ });
});

test('images: dark-on-light JPEG, light-on-dark PNG and colour-with-alpha PNG of any size give the same 28x28 character', async (t) => {
  // a "T" drawn on 300x200
  const W = 300, H = 200;
  const ink = new Uint8Array(W * H);
  for (let y = 40; y < 160; y++) for (let x = 140; x < 160; x++) ink[y * W + x] = 255;
  for (let y = 40; y < 60; y++) for (let x = 90; x < 210; x++) ink[y * W + x] = 255;
  const grey = (f: (v: number) => number) => Buffer.from(ink.map(f));
  const darkOnLight = await sharp(grey((v) => 255 - v), { raw: { width: W, height: H, channels: 1 } }).jpeg({ quality: 95 }).toBuffer();
  const lightOnDark = await sharp(grey((v) => v), { raw: { width: W, height: H, channels: 1 } }).png().toBuffer();
  const rgba = Buffer.alloc(W * H * 4);
  for (let i = 0; i < W * H; i++) rgba.set([200, 30, 30, ink[i]], 4 * i);
  const alpha = await sharp(rgba, { raw: { width: W, height: H, channels: 4 } }).png().toBuffer();
  const a = await decodeImage(darkOnLight, 'dark.jpg');
  const b = await decodeImage(lightOnDark, 'light.png');
  const c = await decodeImage(alpha, 'alpha.png');
  t.is(a.length, 784);
  t.true(a.every((v) => v === 0 || v === 1));
  const ones = a.reduce((n, v) => n + v, 0);
  t.true(ones > 40 && ones < 400, `a character, not a blot: ${ones} ink pixels`);
  const differ = (p: Float32Array, q: Float32Array) => p.reduce((n, v, i) => n + (v !== q[i] ? 1 : 0), 0);
  t.true(differ(a, b) <= 8 && differ(b, c) <= 8, `${differ(a, b)} and ${differ(b, c)} pixels differ`);
  // the crossbar is at the top, the stem in the middle column
  t.true(a.slice(4 * 28, 9 * 28).reduce((n, v) => n + v, 0) > 20);
  t.is(a[26 * 28 + 3], 0);
});

test('images: not an image, and an image with no character, are clear errors', async (t) => {
  await t.throwsAsync(decodeImage(Buffer.from('hello'), 'notes.txt'), { message: /notes\.txt is not an image/ });
  const blank = await sharp({ create: { width: 50, height: 40, channels: 3, background: '#ffffff' } }).png().toBuffer();
  await t.throwsAsync(decodeImage(blank, 'blank.png'), { message: /blank\.png holds no character/ });
});

test('imageGrid: the PNG decodes to the stated size and its first row is the support, scaled', async (t) => {
  const support = bar(3, 3, 20, 10);
  const grid = await imageGrid([[support], [bar(1, 1, 5, 5), support]], 3, true);
  const { data, info } = await sharp(grid).raw().toBuffer({ resolveWithObject: true });
  const cell = 28 * 3, gap = 2;
  t.is(info.width, 2 * cell + 3 * gap);
  t.is(info.height, 2 * cell + 3 * gap + 6);
  for (let r = 0; r < 28; r++) {
    for (let c = 0; c < 28; c++) {
      const px = data[((gap + r * 3 + 1) * info.width + gap + c * 3 + 1) * info.channels];
      t.is(px, support[r * 28 + c] ? 0 : 255, `pixel ${r},${c}`);
    }
  }
});

/** Characters whose 20 drawings are one random prototype with 2% of pixels flipped. */
function separableSplit(numCharacters: number): OmniglotSplit {
  const s = syntheticSplit(numCharacters);
  const rng = new Rng(3);
  for (let k = 0; k < numCharacters; k++) {
    const proto = Uint8Array.from({ length: 784 }, () => (rng.nextFloat() < 0.2 ? 255 : 0));
    for (let d = 0; d < 20; d++) {
      const img = s.images.subarray((k * 20 + d) * 784, (k * 20 + d + 1) * 784);
      for (let p = 0; p < 784; p++) img[p] = rng.nextFloat() < 0.02 ? 255 - proto[p] : proto[p];
    }
  }
  return s;
}

test('classify: near chance when classes carry no information, high when they are trivially separable', async (t) => {
  const model = new GMN(small, { device: 'cpu', seed: 2 });
  t.teardown(() => model.dispose());
  const episodes = 200;
  const noise = await classify(model, { data: syntheticSplit(12), ways: [5], shots: [1], episodes, samples: 4, seed: 1 });
  for (const r of noise.rows) {
    t.true(r.low < 0.2 && r.high > 0.2, `${r.method}: ${r.accuracy} (${r.low}-${r.high}) covers 1/5`);
    t.true(r.accuracy > 0.1 && r.accuracy < 0.32, `${r.method}: ${r.accuracy}`);
  }
  const easy = await classify(model, { data: separableSplit(12), ways: [5], shots: [1, 2], episodes: 100, methods: ['nearest'], seed: 1 });
  for (const r of easy.rows) t.true(r.accuracy > 0.95, `nearest neighbour on separable classes, ${r.shots} shots: ${r.accuracy}`);
  t.regex(classifyTable(easy), /\| 5 \| 2 \| nearest neighbour, cosine of psi \| 100 \| \d+\.\d% \| \d+\.\d%-\d+\.\d% \|/);
});

/** Ten characters, each one pen stroke (a bar) in its own place, all 20 drawings alike. */
function strokeSplit(): OmniglotSplit {
  const s = syntheticSplit(10);
  const bars = [[4, 4, 7, 23], [20, 4, 23, 23], [4, 4, 23, 7], [4, 20, 23, 23], [12, 4, 15, 23], [4, 12, 23, 15], [4, 4, 13, 13], [14, 14, 23, 23], [4, 14, 13, 23], [14, 4, 23, 13]];
  bars.forEach(([r0, c0, r1, c1], k) => {
    const img = bar(r0, c0, r1, c1);
    for (let d = 0; d < 20; d++) for (let p = 0; p < 784; p++) s.images[(k * 20 + d) * 784 + p] = img[p] * 255;
  });
  return s;
}

const defaultModel = existsSync(DEFAULT_MODEL);
(defaultModel ? test : test.skip)(
  `classify by likelihood with the default model: high on trivially separable classes (one stroke each)${defaultModel ? '' : ' (skipped: models/default.safetensors is not in this checkout)'}`,
  async (t) => {
    const model = await loadModel();
    t.teardown(() => model.dispose());
    // 100 episodes and the 95% interval's lower end, so that the check is about the model, not about
    // the luck of a few episodes (chance is 0.2).
    const r = await classify(model, { data: strokeSplit(), ways: [5], shots: [1], episodes: 100, samples: 10, methods: ['likelihood'], seed: 2 });
    const { accuracy, low } = r.rows[0];
    t.true(low > 0.8, `accuracy ${accuracy}, 95% interval from ${low}`);
  },
);

test('classify: bad options name the option', async (t) => {
  const model = new GMN(small, { device: 'cpu', seed: 2 });
  t.teardown(() => model.dispose());
  const data = syntheticSplit(6);
  await t.throwsAsync(classify(model, { data, ways: [7] }), { instanceOf: RangeError, message: /at most 6.*options\.ways/ });
  await t.throwsAsync(classify(model, { data, ways: [5], shots: [6] }), { instanceOf: RangeError, message: /at most 5.*options\.shots/ });
  await t.throwsAsync(classify(model, { data: syntheticSplit(6, 3), ways: [5], shots: [3] }), { instanceOf: RangeError, message: /3 drawers.*options\.shots/ });
  await t.throwsAsync(classify(model, { data, ways: [5], shots: [1], samples: 0 }), { instanceOf: RangeError, message: /options\.samples/ });
});

test('wilson: the 95% interval of known cases', (t) => {
  const { low, high } = wilson(50, 100);
  t.true(Math.abs(low - 0.4038) < 1e-3 && Math.abs(high - 0.5962) < 1e-3);
  t.is(wilson(100, 100).high, 1);
  t.true(wilson(100, 100).low > 0.96);
});

test('loadModel: a weights file round-trips; missing, truncated and mismatched files are errors naming the file', async (t) => {
  const dir = await tempDir(t);
  const model = new GMN(small, { device: 'cpu', seed: 3 });
  t.teardown(() => model.dispose());
  const file = join(dir, 'w.safetensors');
  await saveWeights(file, model, { variant: 'greyscale', steps: 3 });
  const loaded = await loadModel(file);
  t.teardown(() => loaded.dispose());
  t.deepEqual(loaded.config, model.config);
  t.is(loaded.info.variant, 'greyscale');
  for (const [name, v] of model.params.values) t.deepEqual(await loaded.params.value(name).read(), await v.read(), name);

  await t.throwsAsync(loadModel(join(dir, 'none.safetensors')), { message: /model file not found: .*none\.safetensors/ });
  const bytes = (await import('node:fs')).readFileSync(file);
  writeFileSync(join(dir, 'cut.safetensors'), bytes.subarray(0, bytes.length - 100));
  await t.throwsAsync(loadModel(join(dir, 'cut.safetensors')), { message: /cut\.safetensors .*truncated/ });
  // the header says latent 5, the tensors were made for latent 4
  const header = bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString('utf8').replace('\\"latent\\":4', '\\"latent\\":5');
  const other = Buffer.concat([bytes.subarray(0, 8), Buffer.from(header), bytes.subarray(8 + Number(bytes.readBigUInt64LE(0)))]);
  writeFileSync(join(dir, 'other.safetensors'), other);
  await t.throwsAsync(loadModel(join(dir, 'other.safetensors')), { message: /other\.safetensors is not a usable gmn checkpoint: .*shape/ });
});

import test from 'ava';
import { EpisodeSampler, loadOmniglot, type Episode, type EpisodeSamplerOptions, type OmniglotSplit } from '../src/data/index.js';
import { dataTest, syntheticSplit } from './helpers/data.js';

const data = syntheticSplit(12);

/** Episode b of a batch as [class, image] pairs, for readable checks. */
function episodeOf(e: Episode, b: number): { classes: number[]; images: number[] } {
  const range = [b * e.length, (b + 1) * e.length] as const;
  return { classes: Array.from(e.classes.subarray(...range)), images: Array.from(e.imageIndex.subarray(...range)) };
}

function sameBatch(a: Episode, b: Episode): boolean {
  return (
    Buffer.from(a.classes.buffer).equals(Buffer.from(b.classes.buffer)) &&
    Buffer.from(a.imageIndex.buffer).equals(Buffer.from(b.imageIndex.buffer)) &&
    Buffer.from(a.images.buffer).equals(Buffer.from(b.images.buffer))
  );
}

const CONFIGS: Omit<EpisodeSamplerOptions, 'data'>[] = [];
for (const replacement of [true, false]) {
  for (const [episodeLength, maxClasses] of [[1, 1], [10, 1], [10, 2], [7, 3], [20, 5], [40, 2]]) {
    for (const characters of [undefined, [1, 4, 5, 9, 11]]) {
      CONFIGS.push({ replacement, episodeLength, maxClasses, characters, batchSize: 3, binarize: 'none' });
    }
  }
}

test('every episode has exactly T images from at most C of the allowed characters (many seeds and configs)', (t) => {
  let checked = 0;
  for (const config of CONFIGS) {
    for (let seed = 0; seed < 12; seed++) {
      const sampler = new EpisodeSampler({ data, seed, ...config });
      for (let batch = 0; batch < 3; batch++) {
        const e = sampler.next();
        const T = config.episodeLength!;
        if (e.length !== T || e.batchSize !== 3 || e.classes.length !== 3 * T || e.images.length !== 3 * T * 784) {
          t.fail(`wrong shapes for ${JSON.stringify(config)}`);
        }
        for (let b = 0; b < 3; b++) {
          const { classes, images } = episodeOf(e, b);
          const ok =
            new Set(classes).size <= config.maxClasses! &&
            classes.every((k) => (config.characters ?? [k]).includes(k)) &&
            images.every((i, n) => data.imageCharacter[i] === classes[n]) &&
            (config.replacement || new Set(images).size === T);
          if (!ok) t.fail(`bad episode ${JSON.stringify({ classes, images })} for ${JSON.stringify(config)}, seed ${seed}`);
          checked++;
        }
        // 'none' copies v / 255 of the indexed image.
        const i = e.imageIndex[T - 1];
        const px = Array.from(e.images.subarray((T - 1) * 784, T * 784));
        if (px.some((v, p) => v !== Math.fround(data.images[i * 784 + p] / 255))) t.fail('pixels differ from the image');
      }
    }
  }
  t.is(checked, CONFIGS.length * 12 * 3 * 3);
});

test('with replacement, episodes use C classes and repeat images as the authors\' code does', (t) => {
  const sampler = new EpisodeSampler({ data, episodeLength: 10, maxClasses: 2, batchSize: 500, seed: 3, binarize: 'none' });
  const e = sampler.next();
  let twoClasses = 0;
  let repeats = 0;
  for (let b = 0; b < 500; b++) {
    const { classes, images } = episodeOf(e, b);
    if (new Set(classes).size === 2) twoClasses++;
    if (new Set(images).size < 10) repeats++;
  }
  // P(two distinct classes) = (11/12) * (1 - 2 / 2^10) ~ 0.915; repeats are common with 10 draws.
  t.true(twoClasses > 420 && twoClasses < 490, `${twoClasses} of 500 with two classes`);
  t.true(repeats > 100, `${repeats} of 500 with a repeated image`);
});

test('without replacement, T = C * 20 uses every image of the C classes exactly once', (t) => {
  for (let seed = 0; seed < 20; seed++) {
    const e = new EpisodeSampler({ data, episodeLength: 60, maxClasses: 3, batchSize: 2, replacement: false, seed, binarize: 'none' }).next();
    for (let b = 0; b < 2; b++) {
      const { classes, images } = episodeOf(e, b);
      const chars = [...new Set(classes)].sort((x, y) => x - y);
      t.is(chars.length, 3);
      const all = chars.flatMap((k) => Array.from({ length: 20 }, (_, j) => k * 20 + j));
      t.deepEqual([...images].sort((x, y) => x - y), all);
    }
  }
});

test('the same seed gives identical batches; another seed does not', (t) => {
  for (const config of CONFIGS.filter((_, i) => i % 3 === 0)) {
    const a = new EpisodeSampler({ data, seed: 11, ...config, binarize: 'bernoulli' });
    const b = new EpisodeSampler({ data, seed: 11, ...config, binarize: 'bernoulli' });
    const c = new EpisodeSampler({ data, seed: 12, ...config, binarize: 'bernoulli' });
    for (let k = 0; k < 3; k++) {
      const ea = a.next();
      t.true(sameBatch(ea, b.next()));
      t.false(sameBatch(ea, c.next()));
    }
  }
});

test('state after k batches, restored through JSON, continues the exact sequence', (t) => {
  for (const config of CONFIGS.filter((_, i) => i % 2 === 1)) {
    for (const k of [0, 1, 4]) {
      const original = new EpisodeSampler({ data, seed: 5, ...config, binarize: 'bernoulli' });
      for (let i = 0; i < k; i++) original.next();
      const saved = JSON.parse(JSON.stringify(original.state()));
      t.is(saved.episodes, 3 * k);
      const expected = [original.next(), original.next()];

      const viaOption = new EpisodeSampler({ data, ...config, binarize: 'bernoulli', state: saved });
      const viaSetState = new EpisodeSampler({ data, seed: 99, ...config, binarize: 'bernoulli' });
      viaSetState.next();
      viaSetState.setState(saved);
      for (const restored of [viaOption, viaSetState]) {
        t.true(sameBatch(restored.next(), expected[0]));
        t.true(sameBatch(restored.next(), expected[1]));
        t.deepEqual(restored.state(), original.state());
      }
    }
  }
});

test('binarize modes give the right value sets', (t) => {
  const base = { data, episodeLength: 10, maxClasses: 2, batchSize: 4, seed: 8 };
  const none = new EpisodeSampler({ ...base, binarize: 'none' }).next();
  const threshold = new EpisodeSampler({ ...base, binarize: 'threshold' }).next();
  const bernoulli = new EpisodeSampler({ ...base, binarize: 'bernoulli' }).next();
  // Images are chosen before the pixels are drawn, so the three modes show the same images.
  t.deepEqual(threshold.imageIndex, none.imageIndex);
  t.deepEqual(bernoulli.imageIndex, none.imageIndex);
  let mid = 0;
  none.images.forEach((v, p) => {
    const u8 = data.images[none.imageIndex[Math.floor(p / 784)] * 784 + (p % 784)];
    if (v !== Math.fround(u8 / 255)) t.fail(`none: ${v} for ${u8}`);
    if (threshold.images[p] !== (u8 >= 128 ? 1 : 0)) t.fail(`threshold: ${threshold.images[p]} for ${u8}`);
    const bit = bernoulli.images[p];
    if (bit !== 0 && bit !== 1) t.fail(`bernoulli gave ${bit}`);
    if ((u8 === 0 && bit !== 0) || (u8 === 255 && bit !== 1)) t.fail(`bernoulli: ${bit} for a certain pixel ${u8}`);
    if (u8 > 0 && u8 < 255) mid++;
  });
  t.true(mid > 1000, 'the synthetic data has intermediate values');
  t.true(none.images.some((v) => v > 0 && v < 1));
});

test('bernoulli binarisation has mean v / 255 per grey level', (t) => {
  const sampler = new EpisodeSampler({ data, episodeLength: 20, maxClasses: 3, batchSize: 50, seed: 21 });
  const ones = new Float64Array(256);
  const seen = new Float64Array(256);
  for (let k = 0; k < 4; k++) {
    const e = sampler.next();
    e.images.forEach((bit, p) => {
      const u8 = data.images[e.imageIndex[Math.floor(p / 784)] * 784 + (p % 784)];
      ones[u8] += bit;
      seen[u8]++;
    });
  }
  let worst = 0;
  for (const level of [1, 32, 64, 128, 200, 254]) {
    // Pool neighbouring levels for enough draws; compare with the pooled mean of v / 255.
    let o = 0;
    let n = 0;
    let expected = 0;
    for (let v = Math.max(1, level - 4); v <= Math.min(254, level + 4); v++) {
      o += ones[v];
      n += seen[v];
      expected += (seen[v] * v) / 255;
    }
    const sd = Math.sqrt(expected * (1 - expected / n));
    worst = Math.max(worst, Math.abs(o - expected) / sd);
  }
  t.true(worst < 5, `largest deviation ${worst} standard deviations`);
});

test('without replacement: too long episodes or too many classes are refused', (t) => {
  t.throws(() => new EpisodeSampler({ data, replacement: false, episodeLength: 41, maxClasses: 2 }), {
    instanceOf: RangeError,
    message: 'Expected at most 40 (maxClasses x images per character) without replacement for options.episodeLength but received 41',
  });
  t.throws(() => new EpisodeSampler({ data, replacement: false, maxClasses: 4, characters: [0, 1, 2] }), {
    instanceOf: RangeError,
    message: /at most 3 \(the number of characters\) without replacement for options\.maxClasses but received 4/,
  });
  // With replacement both are fine.
  t.notThrows(() => new EpisodeSampler({ data, episodeLength: 41, maxClasses: 4, characters: [0, 1, 2] }).next());
  t.notThrows(() => new EpisodeSampler({ data, replacement: false, episodeLength: 40, maxClasses: 2 }).next());
});

test('EpisodeSampler validates every option', (t) => {
  const bad: [Record<string, unknown>, new (...a: never[]) => Error, RegExp][] = [
    [{ data: undefined }, TypeError, /for options\.data/],
    [{ data: { images: new Uint8Array(3) } }, TypeError, /OmniglotSplit/],
    [{ data: { ...data, count: 5 } }, RangeError, /for options\.data/],
    [{ characters: 'all' }, TypeError, /for options\.characters/],
    [{ characters: [] }, RangeError, /non-empty/],
    [{ characters: [0, 12] }, RangeError, /in \[0, 11\] for options\.characters\[1\] but received 12/],
    [{ characters: [3, 3] }, RangeError, /not listed before for options\.characters\[1\]/],
    [{ episodeLength: 0 }, RangeError, /for options\.episodeLength but received 0/],
    [{ episodeLength: 2.5 }, RangeError, /options\.episodeLength/],
    [{ maxClasses: '2' }, TypeError, /for options\.maxClasses but received "2"/],
    [{ batchSize: -1 }, RangeError, /options\.batchSize/],
    [{ replacement: 1 }, TypeError, /a boolean for options\.replacement/],
    [{ binarize: 'dynamic' }, RangeError, /one of 'none', 'threshold', 'bernoulli' for options\.binarize/],
    [{ seed: 2 ** 32 }, RangeError, /options\.seed/],
    [{ state: 'x' }, TypeError, /for options\.state/],
    [{ state: { rng: [1, 2, 3], episodes: 0 } }, RangeError, /options\.state\.rng/],
    [{ state: { rng: [1, 2, 3, 4], episodes: -1 } }, RangeError, /options\.state\.episodes/],
  ];
  for (const [options, instanceOf, message] of bad) {
    t.throws(() => new EpisodeSampler({ data, ...options } as unknown as EpisodeSamplerOptions), { instanceOf, message }, JSON.stringify(options));
  }
  t.throws(() => new EpisodeSampler(null as unknown as EpisodeSamplerOptions), { instanceOf: TypeError, message: /for options/ });
  const sampler = new EpisodeSampler({ data });
  const before = sampler.state();
  t.throws(() => sampler.setState({ rng: [0, 0, 0, 0], episodes: 1 }), { instanceOf: RangeError, message: /not all zero/ });
  t.deepEqual(sampler.state(), before, 'a rejected state leaves the sampler unchanged');
});

test('defaults: T = 10, C = 2, batch 20, with replacement, bernoulli, seed 0, all characters', (t) => {
  const sampler = new EpisodeSampler({ data });
  t.like(sampler, { episodeLength: 10, maxClasses: 2, batchSize: 20, replacement: true, binarize: 'bernoulli' });
  t.deepEqual(sampler.characters, Array.from({ length: 12 }, (_, k) => k));
  t.true(sameBatch(sampler.next(), new EpisodeSampler({ data, seed: 0 }).next()));
  t.deepEqual(sampler.state().episodes, 20);
});

dataTest('EpisodeSampler on the background split: train characters only, binary pixels', async (t, dir) => {
  const split: OmniglotSplit = await loadOmniglot(dir, 'background');
  const characters = Array.from({ length: 900 }, (_, k) => k);
  const sampler = new EpisodeSampler({ data: split, characters, seed: 1 });
  for (let k = 0; k < 5; k++) {
    const e = sampler.next();
    t.is(e.images.length, 20 * 10 * 784);
    t.true(e.classes.every((c) => c < 900));
    t.true(e.imageIndex.every((i, n) => split.imageCharacter[i] === e.classes[n]));
    t.true(e.images.every((v) => v === 0 || v === 1));
    const ink = e.images.reduce((s, v) => s + v, 0) / e.images.length;
    t.true(ink > 0.04 && ink < 0.15, `ink fraction ${ink}`);
  }
  const noRepeats = new EpisodeSampler({ data: split, replacement: false, episodeLength: 20, maxClasses: 1, seed: 2 }).next();
  for (let b = 0; b < 20; b++) t.is(new Set(episodeOf(noRepeats, b).images).size, 20);
});

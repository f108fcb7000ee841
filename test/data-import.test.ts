import test from 'ava';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { downsampleOmniglot105, importOmniglot, loadOmniglot, Rng } from '../src/data/index.js';
import {
  dataTest,
  omniglotZip,
  png1Bit,
  png8Bit,
  randomInk,
  referenceDownsample,
  tempDir,
  type SyntheticCharacter,
} from './helpers/data.js';

const ALPHABET = 'Test_(synthetic)';

/** Two characters of one alphabet, 20 drawers each; the last drawer of the second is an 8-bit PNG by pngjs. */
function syntheticCharacters(seed = 1): SyntheticCharacter[] {
  const rng = new Rng(seed);
  const ink = () => Array.from({ length: 20 }, () => randomInk(rng));
  return [
    // Listed out of id order: the importer must sort by Omniglot id.
    { alphabet: ALPHABET, name: 'character02', omniglotId: 8, ink: ink(), encode: (x, d) => (d === 20 ? png8Bit(x) : png1Bit(x)) },
    { alphabet: ALPHABET, name: 'character01', omniglotId: 7, ink: ink() },
  ];
}

async function writeZip(dir: string, name: string, bytes: Uint8Array): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, bytes);
  return file;
}

test('the hand-made fixture PNGs are what the test claims: 1-bit (and 8-bit from pngjs), white paper', (t) => {
  const ink = randomInk(new Rng(4));
  for (const [bytes, depth] of [[png1Bit(ink), 1], [png8Bit(ink), 8]] as const) {
    const png = PNG.sync.read(bytes);
    t.is(png.depth, depth);
    t.is(png.width, 105);
    t.is(png.height, 105);
    t.true(ink.every((v, p) => png.data[4 * p] === (v ? 0 : 255)));
  }
});

test('downsampleOmniglot105 matches the float64 area average W img W^T', (t) => {
  const rng = new Rng(9);
  const cases = [new Uint8Array(105 * 105), new Uint8Array(105 * 105).fill(1), ...Array.from({ length: 30 }, () => randomInk(rng))];
  // Single pixels hit every overlap pattern of the 3.75-wide boxes.
  for (const p of [0, 3, 4, 104, 105 * 52 + 52, 105 * 104 + 104]) {
    const one = new Uint8Array(105 * 105);
    one[p] = 1;
    cases.push(one);
  }
  for (const ink of cases) t.deepEqual(downsampleOmniglot105(ink), referenceDownsample(ink));
  t.true(downsampleOmniglot105(cases[1]).every((v) => v === 255));
  t.true(downsampleOmniglot105(cases[0]).every((v) => v === 0));
  // A lone pixel in the corner covers 1/3.75 x 1/3.75 of output pixel 0: 255 / 14.0625 = 18.13 -> 18.
  t.is(downsampleOmniglot105(cases[cases.length - 6])[0], 18);
});

test('downsampleOmniglot105 rejects wrong input', (t) => {
  t.throws(() => downsampleOmniglot105([0, 1] as unknown as Uint8Array), { instanceOf: TypeError, message: /for ink/ });
  t.throws(() => downsampleOmniglot105(new Uint8Array(28 * 28)), { instanceOf: RangeError, message: /105\*105 .* for ink but received a Uint8Array of length 784/ });
  t.throws(() => downsampleOmniglot105(new Uint8Array(105 * 105).fill(255)), { instanceOf: RangeError, message: /only zeros and ones/ });
});

test('importOmniglot converts a synthetic zip exactly and loadOmniglot reads the result back', async (t) => {
  const dir = await tempDir(t);
  const chars = syntheticCharacters();
  const zip = await writeZip(dir, 'images_background.zip', omniglotZip('background', chars, { 'images_background/notes.txt': new Uint8Array([1]) }));
  const out = join(dir, 'out');
  const progress: [number, number][] = [];
  const result = await importOmniglot({ zips: [zip], out, onProgress: (done, total) => progress.push([done, total]) });

  const data = new Uint8Array(await readFile(join(out, 'background.u8')));
  const sum = createHash('sha256').update(data).digest('hex');
  t.deepEqual(result, [
    {
      split: 'background',
      count: 40,
      numCharacters: 2,
      numAlphabets: 1,
      dataFile: join(out, 'background.u8'),
      labelsFile: join(out, 'background.json'),
      dataSha256: sum,
    },
  ]);
  t.deepEqual(progress, Array.from({ length: 40 }, (_, i) => [i + 1, 40]));

  // Character-major in Omniglot id order (7 before 8), drawer order within a character.
  t.is(data.length, 40 * 784);
  const inOrder = [chars[1], chars[0]];
  inOrder.forEach((c, k) =>
    c.ink.forEach((ink, d) => {
      const i = k * 20 + d;
      t.deepEqual(data.subarray(i * 784, (i + 1) * 784), referenceDownsample(ink!), `character ${c.omniglotId}, drawer ${d + 1}`);
    }),
  );

  const json = JSON.parse(await readFile(join(out, 'background.json'), 'utf8'));
  t.like(json, {
    split: 'background',
    data_file: 'background.u8',
    data_sha256: sum,
    dtype: 'uint8',
    shape: [40, 28, 28],
    num_images: 40,
    num_characters: 2,
    num_alphabets: 1,
    drawers_per_character: 20,
  });
  t.is(json.source.zips[0].file, 'images_background.zip');
  t.is(json.source.zips[0].sha256, createHash('sha256').update(await readFile(zip)).digest('hex'));
  t.deepEqual(json.alphabets, [
    { index: 0, name: ALPHABET, first_character: 0, num_characters: 2, first_omniglot_id: 7, last_omniglot_id: 8 },
  ]);
  t.deepEqual(json.characters, [
    { index: 0, global_index: 6, omniglot_id: 7, alphabet: 0, alphabet_name: ALPHABET, name: 'character01', path: `images_background/${ALPHABET}/character01` },
    { index: 1, global_index: 7, omniglot_id: 8, alphabet: 0, alphabet_name: ALPHABET, name: 'character02', path: `images_background/${ALPHABET}/character02` },
  ]);
  t.deepEqual(json.images, {
    character: Array.from({ length: 40 }, (_, i) => Math.floor(i / 20)),
    alphabet: new Array(40).fill(0),
    drawer: Array.from({ length: 40 }, (_, i) => (i % 20) + 1),
  });

  const split = await loadOmniglot(out, 'background');
  t.is(split.count, 40);
  t.deepEqual(split.images, data);
  t.deepEqual(split.characters.map((c) => [c.omniglotId, c.name, c.alphabetName]), [[7, 'character01', ALPHABET], [8, 'character02', ALPHABET]]);
  t.deepEqual(split.imagesOfCharacter(1), { first: 20, count: 20 });

  // The labels file's own data_sha256 protects imported data.
  data[100] ^= 1;
  await writeFile(join(out, 'background.u8'), data);
  await t.throwsAsync(loadOmniglot(out, 'background'), { message: new RegExp(`background\\.u8 is corrupt: .* data_sha256 of .*background\\.json is ${sum}`) });
  t.is((await loadOmniglot(out, 'background', { verify: false })).images[100], data[100]);
});

test('importOmniglot writes one pair of files per split when given both zips', async (t) => {
  const dir = await tempDir(t);
  const rng = new Rng(2);
  const evaluation: SyntheticCharacter[] = [
    { alphabet: 'Other', name: 'character01', omniglotId: 965, ink: Array.from({ length: 20 }, () => randomInk(rng)) },
  ];
  const zips = [
    await writeZip(dir, 'images_background.zip', omniglotZip('background', syntheticCharacters())),
    await writeZip(dir, 'images_evaluation.zip', omniglotZip('evaluation', evaluation)),
  ];
  const out = join(dir, 'out');
  const result = await importOmniglot({ zips, out });
  t.deepEqual(result.map((r) => [r.split, r.count]), [['background', 40], ['evaluation', 20]]);
  const ev = await loadOmniglot(out, 'evaluation');
  t.deepEqual(ev.characters, [{ index: 0, alphabet: 0, alphabetName: 'Other', name: 'character01', omniglotId: 965 }]);
  t.deepEqual(ev.images.subarray(0, 784), referenceDownsample(evaluation[0].ink[0]!));
});

test('importOmniglot: clear errors for a bad zip, a wrong-size PNG, a missing drawer and more', async (t) => {
  const dir = await tempDir(t);
  const out = join(dir, 'out');
  const chars = syntheticCharacters();

  const notZip = await writeZip(dir, 'not-a.zip', new Uint8Array(2000).fill(7));
  await t.throwsAsync(importOmniglot({ zips: [notZip], out }), { message: /Cannot read .*not-a\.zip as a zip file/ });

  await t.throwsAsync(importOmniglot({ zips: [join(dir, 'absent.zip')], out }), { message: /Omniglot zip not found: .*absent\.zip/ });

  const empty = await writeZip(dir, 'empty.zip', omniglotZip('background', [], { 'readme.txt': new Uint8Array([1]) }));
  await t.throwsAsync(importOmniglot({ zips: [empty], out }), { message: /empty\.zip holds no Omniglot images/ });

  const missing = chars.map((c) => ({ ...c, ink: [...c.ink] }));
  missing[1].ink[4] = undefined;
  const missingZip = await writeZip(dir, 'missing.zip', omniglotZip('background', missing));
  await t.throwsAsync(importOmniglot({ zips: [missingZip], out }), {
    message: `${missingZip}: images_background/${ALPHABET}/character01/0007_05.png is missing; every character needs drawers 01..20`,
  });

  const wrongSize = chars.map((c) => ({ ...c }));
  wrongSize[0].encode = (ink, d) => (d === 3 ? png8Bit(ink.subarray(0, 100 * 100), 100, 100) : png1Bit(ink));
  const wrongZip = await writeZip(dir, 'wrong.zip', omniglotZip('background', wrongSize));
  await t.throwsAsync(importOmniglot({ zips: [wrongZip], out }), { message: /character02\/0008_03\.png is 100x100, expected 105x105/ });

  const garbled = chars.map((c) => ({ ...c }));
  garbled[1].encode = (ink, d) => (d === 2 ? new Uint8Array(50).fill(1) : png1Bit(ink));
  const garbledZip = await writeZip(dir, 'garbled.zip', omniglotZip('background', garbled));
  await t.throwsAsync(importOmniglot({ zips: [garbledZip], out }), { message: /cannot decode .*character01\/0007_02\.png/ });

  // Ids 7 and 9 in one alphabet, 8 in another: the first alphabet would not be one range of characters.
  const interleaved = [chars[1], { ...chars[0], omniglotId: 9 }, { ...chars[0], alphabet: 'Other', name: 'character01' }];
  const interleavedZip = await writeZip(dir, 'interleaved.zip', omniglotZip('background', interleaved));
  await t.throwsAsync(importOmniglot({ zips: [interleavedZip], out }), { message: /the Omniglot ids of alphabet Test_\(synthetic\) are not contiguous/ });

  const good = await writeZip(dir, 'good.zip', omniglotZip('background', chars));
  await t.throwsAsync(importOmniglot({ zips: [good, good], out }), { message: /good\.zip: .*\/000[78]_01\.png appears twice \(also in .*good\.zip\)/ });

  // Nothing was written by the failed imports.
  await t.throwsAsync(readFile(join(out, 'background.u8')), { code: 'ENOENT' });
});

test('importOmniglot validates its options', async (t) => {
  await t.throwsAsync(importOmniglot(undefined as never), { instanceOf: TypeError, message: /for options/ });
  await t.throwsAsync(importOmniglot({ zips: 'a.zip' as never, out: 'x' }), { instanceOf: TypeError, message: /for options\.zips/ });
  await t.throwsAsync(importOmniglot({ zips: [], out: 'x' }), { instanceOf: RangeError, message: /at least one zip file path for options\.zips/ });
  await t.throwsAsync(importOmniglot({ zips: [3 as never], out: 'x' }), { instanceOf: TypeError, message: /for options\.zips\[0\]/ });
  await t.throwsAsync(importOmniglot({ zips: ['a.zip'], out: undefined as never }), { instanceOf: TypeError, message: /for options\.out/ });
  await t.throwsAsync(importOmniglot({ zips: ['a.zip'], out: 'x', onProgress: 1 as never }), { instanceOf: TypeError, message: /a function for options\.onProgress/ });
});

dataTest('imported labels have the fields of the published labels file', async (t, dataDir) => {
  const dir = await tempDir(t);
  const zip = await writeZip(dir, 'images_background.zip', omniglotZip('background', syntheticCharacters()));
  await importOmniglot({ zips: [zip], out: dir });
  const mine = JSON.parse(await readFile(join(dir, 'background.json'), 'utf8'));
  const published = JSON.parse(await readFile(join(dataDir, 'background.json'), 'utf8'));
  t.deepEqual(Object.keys(mine), Object.keys(published));
  t.deepEqual(Object.keys(mine.alphabets[0]), Object.keys(published.alphabets[0]));
  t.deepEqual(Object.keys(mine.characters[0]), Object.keys(published.characters[0]));
  t.deepEqual(Object.keys(mine.images), Object.keys(published.images));
  for (const key of ['layout', 'values', 'order', 'original_file', 'dataset']) t.is(mine[key], published[key]);
});

dataTest('the published greyscale values are exactly those the conversion can produce', async (t, dataDir) => {
  // floor(255 m / 225 + 1/2) for m = 0..225 ink pixels of a 15x15 block: 226 values.
  const possible = new Set(Array.from({ length: 226 }, (_, m) => Math.floor((34 * m + 15) / 30)));
  t.is(possible.size, 226);
  const seen = new Set(await readFile(join(dataDir, 'evaluation.u8')));
  t.is(seen.size, 226, 'the README says 226 distinct values occur');
  t.true([...seen].every((v) => possible.has(v)));
});

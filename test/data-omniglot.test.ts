import test, { type ExecutionContext } from 'ava';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadOmniglot, splitValidation, type OmniglotSplit } from '../src/data/index.js';
import { dataTest, syntheticSplit, tempDir } from './helpers/data.js';

const EXPECTED = {
  background: { count: 19280, characters: 964, alphabets: 30, mean: 0.0779 },
  evaluation: { count: 13180, characters: 659, alphabets: 20, mean: 0.0843 },
} as const;

function meanPixel(split: OmniglotSplit): number {
  let sum = 0;
  for (const v of split.images) sum += v;
  return sum / split.images.length / 255;
}

for (const split of ['background', 'evaluation'] as const) {
  const e = EXPECTED[split];

  dataTest(`loadOmniglot reads the greyscale ${split} split with its labels`, async (t, dir) => {
    const s = await loadOmniglot(dir, split);
    t.is(s.split, split);
    t.is(s.variant, 'greyscale');
    t.is(s.count, e.count);
    t.is(s.images.length, e.count * 784);
    t.is(s.height, 28);
    t.is(s.width, 28);
    t.is(s.characters.length, e.characters);
    t.is(s.alphabets.length, e.alphabets);
    t.true(Math.abs(meanPixel(s) - e.mean) < 5e-4, `mean pixel ${meanPixel(s)}`);
    t.true(s.images.some((v) => v > 0 && v < 255), 'greyscale has intermediate values');
    // Character-major, 20 drawers per character.
    for (const k of [0, 1, e.characters - 1]) t.deepEqual(s.imagesOfCharacter(k), { first: 20 * k, count: 20 });
    t.true(s.imageCharacter.every((k, i) => k === Math.floor(i / 20)));
    // Alphabets tile the characters, and every character points back to its alphabet.
    t.is(s.alphabets.reduce((n, a) => n + a.numCharacters, 0), e.characters);
    for (const a of s.alphabets) {
      const members = s.characters.slice(a.firstCharacter, a.firstCharacter + a.numCharacters);
      t.true(members.every((c) => c.alphabet === a.index && c.alphabetName === a.name));
    }
    const first = s.characters[0];
    t.is(first.omniglotId, split === 'background' ? 1 : 965);
    t.is(first.name, 'character01');
    t.is(first.alphabetName, split === 'background' ? 'Arcadian' : 'Angelic');
    t.throws(() => s.imagesOfCharacter(e.characters), { instanceOf: RangeError });
  });

  dataTest(`loadOmniglot reads the gmn-binary ${split} split (values 0 and 255 only)`, async (t, dir) => {
    const s = await loadOmniglot(dir, split, { variant: 'gmn-binary' });
    t.is(s.variant, 'gmn-binary');
    t.is(s.count, e.count);
    t.is(s.characters.length, e.characters);
    t.true(s.images.every((v) => v === 0 || v === 255));
    const m = meanPixel(s);
    t.true(m > 0.05 && m < 0.12, `ink fraction ${m}`);
  });
}

dataTest('loadOmniglot with verify: false gives the same data', async (t, dir) => {
  const a = await loadOmniglot(dir, 'evaluation');
  const b = await loadOmniglot(dir, 'evaluation', { verify: false });
  t.true(Buffer.from(b.images).equals(a.images));
  t.deepEqual(b.characters, a.characters);
});

/** A temp folder holding copies of the published evaluation files (gmn-binary too). */
async function copyOfEvaluation(t: ExecutionContext, dir: string): Promise<string> {
  const tmp = await tempDir(t);
  await mkdir(join(tmp, 'gmn-binary'));
  for (const f of ['evaluation.u8', 'evaluation.json', 'gmn-binary/evaluation.u8']) await copyFile(join(dir, f), join(tmp, f));
  return tmp;
}

test('loadOmniglot: a missing file is named, with what the folder should hold', async (t) => {
  const tmp = await tempDir(t);
  await t.throwsAsync(loadOmniglot(join(tmp, 'nope'), 'background'), {
    message: /Omniglot folder not found: .*nope.*should contain background\.u8, background\.json/,
  });
  await t.throwsAsync(loadOmniglot(tmp, 'background'), {
    message: new RegExp(`Omniglot file not found: .*background\\.(json|u8)\\. The folder .* should contain`),
  });
  await writeFile(join(tmp, 'plain-file'), 'x');
  await t.throwsAsync(loadOmniglot(join(tmp, 'plain-file'), 'background'), { message: /Not a folder/ });
});

dataTest('loadOmniglot: missing gmn-binary file or labels file', async (t, dir) => {
  const tmp = await tempDir(t);
  await copyFile(join(dir, 'evaluation.u8'), join(tmp, 'evaluation.u8'));
  await t.throwsAsync(loadOmniglot(tmp, 'evaluation'), { message: /Omniglot file not found: .*evaluation\.json/ });
  await copyFile(join(dir, 'evaluation.json'), join(tmp, 'evaluation.json'));
  await t.notThrowsAsync(loadOmniglot(tmp, 'evaluation'));
  await t.throwsAsync(loadOmniglot(tmp, 'evaluation', { variant: 'gmn-binary' }), {
    message: /Omniglot file not found: .*gmn-binary[/\\]evaluation\.u8/,
  });
});

dataTest('loadOmniglot: a truncated data file is reported with both sizes', async (t, dir) => {
  const tmp = await copyOfEvaluation(t, dir);
  const bytes = await readFile(join(tmp, 'evaluation.u8'));
  await writeFile(join(tmp, 'evaluation.u8'), bytes.subarray(0, bytes.length - 1000));
  await t.throwsAsync(loadOmniglot(tmp, 'evaluation'), {
    message: /evaluation\.u8 has 10332120 bytes but .*13180 images of 28x28 \(10333120 bytes\).*truncated/,
  });
  // Without verification too: the size check is not optional.
  await t.throwsAsync(loadOmniglot(tmp, 'evaluation', { verify: false }), { message: /truncated/ });
});

dataTest('loadOmniglot: corrupt data files fail the checksum unless verify is false', async (t, dir) => {
  const tmp = await copyOfEvaluation(t, dir);
  for (const f of ['evaluation.u8', 'gmn-binary/evaluation.u8']) {
    const bytes = await readFile(join(tmp, f));
    bytes[12345] ^= 1;
    await writeFile(join(tmp, f), bytes);
  }
  await t.throwsAsync(loadOmniglot(tmp, 'evaluation'), {
    message: /evaluation\.u8 is corrupt: its sha256 is [0-9a-f]{64} but data_sha256 of .*evaluation\.json is 62e72255/,
  });
  await t.throwsAsync(loadOmniglot(tmp, 'evaluation', { variant: 'gmn-binary' }), {
    message: /gmn-binary[/\\]evaluation\.u8 is corrupt: .* the published gmn-binary file is 78978b6d/,
  });
  const s = await loadOmniglot(tmp, 'evaluation', { verify: false });
  t.is(s.count, 13180);
});

dataTest('loadOmniglot: an edited, invalid or incomplete labels file is reported', async (t, dir) => {
  const tmp = await copyOfEvaluation(t, dir);
  const file = join(tmp, 'evaluation.json');
  const text = await readFile(file, 'utf8');

  await writeFile(file, text.replace('"name":"character01"', '"name":"character00"'));
  await t.throwsAsync(loadOmniglot(tmp, 'evaluation'), {
    message: /evaluation\.json is corrupt: its sha256 differs from the published db18c1d6/,
  });
  t.is((await loadOmniglot(tmp, 'evaluation', { verify: false })).characters[0].name, 'character00');

  await writeFile(file, text.slice(0, 5000));
  await t.throwsAsync(loadOmniglot(tmp, 'evaluation'), { message: /Invalid Omniglot labels file .*evaluation\.json: not valid JSON/ });

  const json = JSON.parse(text);
  await writeFile(file, JSON.stringify({ ...json, characters: undefined }));
  await t.throwsAsync(loadOmniglot(tmp, 'evaluation'), { message: /characters should be an array but is undefined/ });

  json.characters[3].omniglot_id = 'x';
  await writeFile(file, JSON.stringify(json));
  await t.throwsAsync(loadOmniglot(tmp, 'evaluation'), { message: /characters\[3\]\.omniglot_id should be an integer/ });

  // The labels of another split are refused by name.
  await copyFile(join(dir, 'background.json'), file);
  await t.throwsAsync(loadOmniglot(tmp, 'evaluation'), { message: /split is "background", expected "evaluation"/ });
});

test('loadOmniglot rejects bad arguments with TypeError or RangeError', async (t) => {
  await t.throwsAsync(loadOmniglot(3 as unknown as string, 'background'), {
    instanceOf: TypeError,
    message: 'Expected a folder path (string) for dir but received 3',
  });
  await t.throwsAsync(loadOmniglot('', 'background'), { instanceOf: RangeError });
  await t.throwsAsync(loadOmniglot('.', 'test' as 'background'), {
    instanceOf: RangeError,
    message: `Expected one of 'background', 'evaluation' for split but received "test"`,
  });
  await t.throwsAsync(loadOmniglot('.', 'background', null as unknown as object), { instanceOf: TypeError });
  await t.throwsAsync(loadOmniglot('.', 'background', { variant: 'binary' as 'greyscale' }), {
    instanceOf: RangeError,
    message: /for options\.variant/,
  });
  await t.throwsAsync(loadOmniglot('.', 'background', { verify: 'yes' as unknown as boolean }), {
    instanceOf: TypeError,
    message: 'Expected a boolean for options.verify but received "yes"',
  });
});

test('splitValidation: disjoint, covering, sorted, deterministic per seed', (t) => {
  const split = syntheticSplit(57);
  for (const seed of [0, 1, 2, 12345]) {
    const { train, validation } = splitValidation(split, { seed });
    t.is(validation.length, 6, 'default 10 % of 57, rounded');
    t.is(train.length, 51);
    t.deepEqual([...train, ...validation].sort((a, b) => a - b), Array.from({ length: 57 }, (_, k) => k));
    t.true(validation.every((k) => !train.includes(k)));
    t.deepEqual(train, [...train].sort((a, b) => a - b));
    t.deepEqual(validation, [...validation].sort((a, b) => a - b));
    t.deepEqual(splitValidation(split, { seed }), { train, validation });
  }
  t.notDeepEqual(splitValidation(split, { seed: 1 }).validation, splitValidation(split, { seed: 2 }).validation);
  t.deepEqual(splitValidation(split), splitValidation(split, { seed: 0 }));
  t.is(splitValidation(split, { validationCharacters: 20 }).validation.length, 20);
  t.deepEqual(splitValidation(split, { validationCharacters: 0 }).validation, []);
});

test('splitValidation rejects bad arguments and the evaluation split', (t) => {
  const split = syntheticSplit(10);
  t.throws(() => splitValidation({} as OmniglotSplit), { instanceOf: TypeError, message: /OmniglotSplit/ });
  t.throws(() => splitValidation({ ...split, split: 'evaluation' }), { instanceOf: RangeError, message: /never select on the test split/ });
  t.throws(() => splitValidation(split, { validationCharacters: 10 }), {
    instanceOf: RangeError,
    message: 'Expected an integer in [0, 9] for options.validationCharacters but received 10',
  });
  t.throws(() => splitValidation(split, { validationCharacters: '2' as unknown as number }), { instanceOf: TypeError });
  t.throws(() => splitValidation(split, { seed: -1 }), { instanceOf: RangeError, message: /for options\.seed/ });
});

dataTest('splitValidation on the background split holds out 96 of 964 characters', async (t, dir) => {
  const s = await loadOmniglot(dir, 'background');
  const { train, validation } = splitValidation(s);
  t.is(validation.length, 96);
  t.is(train.length, 868);
  t.is(new Set([...train, ...validation]).size, 964);
});

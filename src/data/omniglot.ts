// Loads the 28x28 Omniglot files described in the data folder's README: `<split>.u8` (raw uint8
// [N, 28, 28], ink high) plus `<split>.json` (labels), or the GMN paper's binarised copy in gmn-binary/.

import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { checkInteger, checkOneOf, describe, typeError, rangeError } from '../errors.js';
import { Rng } from './rng.js';

export const OMNIGLOT_SPLITS = ['background', 'evaluation'] as const;
export const OMNIGLOT_VARIANTS = ['greyscale', 'gmn-binary'] as const;
export type OmniglotSplitName = (typeof OMNIGLOT_SPLITS)[number];
export type OmniglotVariant = (typeof OMNIGLOT_VARIANTS)[number];

export const IMAGE_SIDE = 28;
export const IMAGE_PIXELS = IMAGE_SIDE * IMAGE_SIDE;

/** sha256 of the published files (data folder README and gmn-binary/README). */
export const OMNIGLOT_SHA256: Record<OmniglotSplitName, { json: string } & Record<OmniglotVariant, string>> = {
  background: {
    greyscale: 'b90c08f235503b656b2de3823223a299215728e01e3bb05a42f99484be9e541c',
    'gmn-binary': '96ba427a462893a758b259901170850de94c28c551c30302ae5e5b8ea03e4e5b',
    json: '38311de88d602dbff969d59deb02d0ad051f379266e067d875112158ea079b3c',
  },
  evaluation: {
    greyscale: '62e72255479a8b28a07c73039c1007e0c100508b8fe75d6545626b62052db576',
    'gmn-binary': '78978b6defe564a4e07db463f2a379e918478efcd28462c5022d359e557f3be8',
    json: 'db18c1d6d84b1c6348359ee81c482055e3d48121039701a125759b28235de7da',
  },
};

export interface OmniglotCharacter {
  /** Index within the split (0-based); images of this character are `imagesOfCharacter(index)`. */
  index: number;
  /** Index into `alphabets`. */
  alphabet: number;
  alphabetName: string;
  /** Original folder name, `characterNN`. */
  name: string;
  /** The 4-digit prefix of the original PNG names (1..1623 across both splits). */
  omniglotId: number;
}

export interface OmniglotAlphabet {
  index: number;
  name: string;
  /** Index of the alphabet's first character; its characters are contiguous. */
  firstCharacter: number;
  numCharacters: number;
}

export interface OmniglotSplit {
  readonly split: OmniglotSplitName;
  readonly variant: OmniglotVariant;
  /** uint8 [count, 28, 28], row-major, 0 = paper, 255 = ink. */
  readonly images: Uint8Array;
  readonly count: number;
  readonly height: 28;
  readonly width: 28;
  /** Character index of every image. */
  readonly imageCharacter: Int32Array;
  readonly characters: readonly OmniglotCharacter[];
  readonly alphabets: readonly OmniglotAlphabet[];
  /** The images of character k are `first .. first + count - 1` (images are character-major). */
  imagesOfCharacter(k: number): { first: number; count: number };
}

export interface LoadOmniglotOptions {
  /** 'greyscale' (`<dir>/<split>.u8`) or 'gmn-binary' (`<dir>/gmn-binary/<split>.u8`). Default 'greyscale'. */
  variant?: OmniglotVariant;
  /**
   * Check the sha256 of the files: the published sums, or for a labels file written by
   * `importOmniglot()` its own `data_sha256`. Default true.
   */
  verify?: boolean;
}

function folderContents(dir: string): string {
  return (
    `The folder ${dir} should contain background.u8, background.json, evaluation.u8 and evaluation.json ` +
    `(and gmn-binary/background.u8, gmn-binary/evaluation.u8 for variant 'gmn-binary'); ` +
    `importOmniglot() writes the first four from the official Omniglot zips.`
  );
}

async function readRequired(file: string, dir: string): Promise<Uint8Array> {
  try {
    const b = await readFile(file);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`Omniglot file not found: ${file}. ${folderContents(dir)}`, { cause: e });
    }
    throw e;
  }
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// --- labels file ------------------------------------------------------------------------------

type Json = Record<string, unknown>;

interface Labels {
  count: number;
  dataSha256: string;
  imageCharacter: Int32Array;
  characters: OmniglotCharacter[];
  alphabets: OmniglotAlphabet[];
}

/** Reads typed values of the labels JSON, naming the file and the field in every error. */
class LabelReader {
  constructor(private readonly file: string) {}

  fail(what: string): Error {
    return new Error(`Invalid Omniglot labels file ${this.file}: ${what}`);
  }

  object(value: unknown, label: string): Json {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw this.fail(`${label} should be an object but is ${describe(value)}`);
    }
    return value as Json;
  }

  array(value: unknown, label: string): unknown[] {
    if (!Array.isArray(value)) throw this.fail(`${label} should be an array but is ${describe(value)}`);
    return value;
  }

  string(value: unknown, label: string): string {
    if (typeof value !== 'string') throw this.fail(`${label} should be a string but is ${describe(value)}`);
    return value;
  }

  integer(value: unknown, label: string, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw this.fail(`${label} should be an integer in [${min}, ${max}] but is ${describe(value)}`);
    }
    return value;
  }
}

function parseLabels(text: string, file: string, split: OmniglotSplitName): Labels {
  const r = new LabelReader(file);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw r.fail(`not valid JSON (${(e as Error).message})`);
  }
  const root = r.object(parsed, 'the file');
  if (root.split !== split) throw r.fail(`split is ${describe(root.split)}, expected "${split}"`);
  const shape = r.array(root.shape, 'shape');
  if (shape.length !== 3 || shape[1] !== IMAGE_SIDE || shape[2] !== IMAGE_SIDE) {
    throw r.fail(`shape should be [N, 28, 28] but is ${JSON.stringify(shape)}`);
  }
  const count = r.integer(shape[0], 'shape[0]', 1, Math.floor(2 ** 31 / IMAGE_PIXELS));
  if (root.dtype !== 'uint8') throw r.fail(`dtype should be "uint8" but is ${describe(root.dtype)}`);
  const dataSha256 = r.string(root.data_sha256, 'data_sha256');
  if (!/^[0-9a-f]{64}$/.test(dataSha256)) throw r.fail('data_sha256 should be 64 lowercase hex digits');

  const alphabets = r.array(root.alphabets, 'alphabets').map((value, i): OmniglotAlphabet => {
    const a = r.object(value, `alphabets[${i}]`);
    r.integer(a.index, `alphabets[${i}].index`, i, i);
    return {
      index: i,
      name: r.string(a.name, `alphabets[${i}].name`),
      firstCharacter: r.integer(a.first_character, `alphabets[${i}].first_character`, 0, count),
      numCharacters: r.integer(a.num_characters, `alphabets[${i}].num_characters`, 1, count),
    };
  });
  const characters = r.array(root.characters, 'characters').map((value, k): OmniglotCharacter => {
    const c = r.object(value, `characters[${k}]`);
    r.integer(c.index, `characters[${k}].index`, k, k);
    const alphabet = r.integer(c.alphabet, `characters[${k}].alphabet`, 0, alphabets.length - 1);
    const { firstCharacter, numCharacters, name: alphabetName } = alphabets[alphabet];
    if (k < firstCharacter || k >= firstCharacter + numCharacters) {
      throw r.fail(`characters[${k}] lies outside the character range of its alphabet ${alphabet}`);
    }
    return {
      index: k,
      alphabet,
      alphabetName,
      name: r.string(c.name, `characters[${k}].name`),
      omniglotId: r.integer(c.omniglot_id, `characters[${k}].omniglot_id`, 1, Number.MAX_SAFE_INTEGER),
    };
  });
  if (characters.length === 0) throw r.fail('characters is empty');

  const list = r.array(r.object(root.images, 'images').character, 'images.character');
  if (list.length !== count) throw r.fail(`images.character has ${list.length} entries but shape[0] is ${count}`);
  const imageCharacter = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    imageCharacter[i] = r.integer(list[i], `images.character[${i}]`, 0, characters.length - 1);
    // Character-major order is what lets a character's images be a single range.
    const step = imageCharacter[i] - (i === 0 ? 0 : imageCharacter[i - 1]);
    if (step !== 0 && step !== 1) throw r.fail(`images are not character-major at images.character[${i}]`);
  }
  if (imageCharacter[count - 1] !== characters.length - 1) throw r.fail('some characters have no images');
  return { count, dataSha256, imageCharacter, characters, alphabets };
}

// --- loading ----------------------------------------------------------------------------------

/**
 * Reads one split of the 28x28 Omniglot files from `dir` (see the data folder's README) and checks
 * sizes, labels and (by default) checksums.
 */
export async function loadOmniglot(
  dir: string,
  split: OmniglotSplitName,
  options: LoadOmniglotOptions = {},
): Promise<OmniglotSplit> {
  if (typeof dir !== 'string') throw typeError('dir', 'a folder path (string)', dir);
  if (dir === '') throw rangeError('dir', 'a non-empty folder path', dir);
  checkOneOf('split', split, OMNIGLOT_SPLITS);
  if (typeof options !== 'object' || options === null) throw typeError('options', 'an object', options);
  const variant = checkOneOf('options.variant', options.variant ?? 'greyscale', OMNIGLOT_VARIANTS);
  const verify = options.verify ?? true;
  if (typeof verify !== 'boolean') throw typeError('options.verify', 'a boolean', verify);

  const info = await stat(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') throw new Error(`Omniglot folder not found: ${dir}. ${folderContents(dir)}`, { cause: e });
    throw e;
  });
  if (!info.isDirectory()) throw new Error(`Not a folder: ${dir}. ${folderContents(dir)}`);

  const jsonFile = join(dir, `${split}.json`);
  const dataFile = variant === 'greyscale' ? join(dir, `${split}.u8`) : join(dir, 'gmn-binary', `${split}.u8`);
  const [jsonBytes, images] = await Promise.all([readRequired(jsonFile, dir), readRequired(dataFile, dir)]);
  const labels = parseLabels(new TextDecoder().decode(jsonBytes), jsonFile, split);

  if (images.length !== labels.count * IMAGE_PIXELS) {
    throw new Error(
      `${dataFile} has ${images.length} bytes but ${jsonFile} describes ${labels.count} images of 28x28 ` +
        `(${labels.count * IMAGE_PIXELS} bytes): the file is truncated or belongs to other labels`,
    );
  }
  if (verify) verifySums(split, variant, { file: jsonFile, bytes: jsonBytes }, { file: dataFile, bytes: images }, labels);

  const { count, imageCharacter, characters, alphabets } = labels;
  const first = new Int32Array(characters.length);
  for (let i = count - 1; i >= 0; i--) first[imageCharacter[i]] = i;
  return {
    split,
    variant,
    images,
    count,
    height: IMAGE_SIDE,
    width: IMAGE_SIDE,
    imageCharacter,
    characters,
    alphabets,
    imagesOfCharacter(k: number) {
      checkInteger('k', k, 0, characters.length - 1);
      const end = k + 1 < characters.length ? first[k + 1] : count;
      return { first: first[k], count: end - first[k] };
    },
  };
}

function verifySums(
  split: OmniglotSplitName,
  variant: OmniglotVariant,
  json: { file: string; bytes: Uint8Array },
  data: { file: string; bytes: Uint8Array },
  labels: Labels,
): void {
  const known = OMNIGLOT_SHA256[split];
  const hint = 'copy or import the file again, or pass verify: false to skip this check';
  // A labels file that names the published data must be the published labels file itself.
  if (labels.dataSha256 === known.greyscale && sha256(json.bytes) !== known.json) {
    throw new Error(`${json.file} is corrupt: its sha256 differs from the published ${known.json}; ${hint}`);
  }
  // The binary copy is only published; greyscale data is whatever its labels file names.
  const expected = variant === 'gmn-binary' ? known['gmn-binary'] : labels.dataSha256;
  const actual = sha256(data.bytes);
  if (actual !== expected) {
    const source = variant === 'gmn-binary' ? 'the published gmn-binary file' : `data_sha256 of ${json.file}`;
    throw new Error(`${data.file} is corrupt: its sha256 is ${actual} but ${source} is ${expected}; ${hint}`);
  }
}

/** Throws unless `value` looks like an `OmniglotSplit` (as returned by `loadOmniglot`). */
export function checkOmniglotSplit(name: string, value: unknown): OmniglotSplit {
  const s = value as OmniglotSplit;
  if (
    typeof value !== 'object' ||
    value === null ||
    !(s.images instanceof Uint8Array) ||
    !(s.imageCharacter instanceof Int32Array) ||
    !Array.isArray(s.characters) ||
    typeof s.imagesOfCharacter !== 'function'
  ) {
    throw typeError(name, 'an OmniglotSplit (from loadOmniglot)', value);
  }
  if (s.images.length !== s.count * IMAGE_PIXELS || s.imageCharacter.length !== s.count || s.characters.length === 0) {
    throw rangeError(name, 'an OmniglotSplit with count images of 28x28 and at least one character', value);
  }
  return s;
}

// --- validation carve -------------------------------------------------------------------------

export interface SplitValidationOptions {
  /** Number of characters held out for validation. Default: 10 % of the characters, rounded. */
  validationCharacters?: number;
  /** uint32 seed of the carve. Default 0. */
  seed?: number;
}

/**
 * Carves a validation set out of the background characters (model selection never looks at the
 * evaluation split): a seeded, deterministic random subset of characters; both lists are sorted.
 */
export function splitValidation(
  split: OmniglotSplit,
  options: SplitValidationOptions = {},
): { train: number[]; validation: number[] } {
  const data = checkOmniglotSplit('split', split);
  if (data.split !== 'background') throw rangeError('split.split', `'background' (never select on the test split)`, data.split);
  if (typeof options !== 'object' || options === null) throw typeError('options', 'an object', options);
  const n = data.characters.length;
  const v = checkInteger('options.validationCharacters', options.validationCharacters ?? Math.round(n / 10), 0, n - 1);
  const rng = new Rng(checkInteger('options.seed', options.seed ?? 0, 0, 2 ** 32 - 1));
  // Partial Fisher-Yates: the first v entries of the permutation are the validation characters.
  const order = Array.from({ length: n }, (_, k) => k);
  for (let i = 0; i < v; i++) {
    const j = i + rng.nextInt(n - i);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const byIndex = (a: number, b: number) => a - b;
  return { train: order.slice(v).sort(byIndex), validation: order.slice(0, v).sort(byIndex) };
}

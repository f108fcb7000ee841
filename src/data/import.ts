// Builds the 28x28 Omniglot files (`<split>.u8` + `<split>.json`, the format of the data folder's
// README) from the official zips of github.com/brendenlake/omniglot, images_background.zip and
// images_evaluation.zip (105x105 1-bit PNGs, white paper).

import { readFile, writeFile, rename, mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { unzipSync } from 'fflate';
import { PNG } from 'pngjs';
import { typeError, rangeError } from '../errors.js';
import { IMAGE_PIXELS, IMAGE_SIDE, sha256, type OmniglotSplitName } from './omniglot.js';

const SOURCE_SIDE = 105;
const SOURCE_PIXELS = SOURCE_SIDE * SOURCE_SIDE;
const BLOCK = 15; // 105 * 4 = 420 = 28 * 15: a 4x upsample makes the 3.75-pixel box a whole 15x15 block
const DRAWERS = 20;
const ENTRY = /^images_(background|evaluation)\/([^/]+)\/(character\d+)\/(\d{4})_(\d{2})\.png$/;

/**
 * Area-averages one 105x105 Omniglot image (1 = ink, 0 = paper) to 28x28 uint8, exactly as the
 * README says: upsample 4x to 420x420, count the ink pixels m of each 15x15 block,
 * u8 = floor(255 m / 225 + 0.5), all in integers.
 */
export function downsampleOmniglot105(ink: Uint8Array): Uint8Array {
  if (!(ink instanceof Uint8Array)) throw typeError('ink', 'a Uint8Array of 105*105 zeros and ones', ink);
  if (ink.length !== SOURCE_PIXELS) throw rangeError('ink', 'a Uint8Array of 105*105 zeros and ones', ink);
  if (ink.some((v) => v > 1)) throw rangeError('ink', 'only zeros and ones', ink);
  // rowCounts[y, j]: ink in the 15 upsampled columns of output column j on source row y.
  const rowCounts = new Uint16Array(SOURCE_SIDE * IMAGE_SIDE);
  for (let y = 0; y < SOURCE_SIDE; y++) {
    for (let j = 0; j < IMAGE_SIDE; j++) {
      let m = 0;
      for (let c = j * BLOCK; c < (j + 1) * BLOCK; c++) m += ink[y * SOURCE_SIDE + (c >> 2)];
      rowCounts[y * IMAGE_SIDE + j] = m;
    }
  }
  const out = new Uint8Array(IMAGE_PIXELS);
  for (let i = 0; i < IMAGE_SIDE; i++) {
    for (let j = 0; j < IMAGE_SIDE; j++) {
      let m = 0;
      for (let r = i * BLOCK; r < (i + 1) * BLOCK; r++) m += rowCounts[(r >> 2) * IMAGE_SIDE + j];
      // floor(255 m / 225 + 1/2) = floor((34 m + 15) / 30), exact in integers.
      out[i * IMAGE_SIDE + j] = Math.floor((34 * m + 15) / 30);
    }
  }
  return out;
}

export interface ImportOmniglotOptions {
  /** Paths of the official images_background.zip and/or images_evaluation.zip. Required. */
  zips: string[];
  /** Output folder, created if missing; gets `<split>.u8` and `<split>.json` per split found. Required. */
  out: string;
  /** Called after every converted image with (images done, images in all zips). Default: none. */
  onProgress?: (done: number, total: number) => void;
}

export interface ImportedSplit {
  split: OmniglotSplitName;
  count: number;
  numCharacters: number;
  numAlphabets: number;
  dataFile: string;
  labelsFile: string;
  dataSha256: string;
}

/** The original file name of an image, `<omniglot_id:04d>_<drawer:02d>.png`. */
function pngName(omniglotId: number, drawer: number): string {
  return `${String(omniglotId).padStart(4, '0')}_${String(drawer).padStart(2, '0')}.png`;
}

interface CharacterFolder {
  zip: string;
  path: string;
  alphabet: string;
  name: string;
  omniglotId: number;
  pngs: (Uint8Array | undefined)[];
}

/** Converts the official Omniglot zips into the package's 28x28 files; returns what it wrote. */
export async function importOmniglot(options: ImportOmniglotOptions): Promise<ImportedSplit[]> {
  if (typeof options !== 'object' || options === null) throw typeError('options', 'an object', options);
  const { zips, out, onProgress } = options;
  if (!Array.isArray(zips)) throw typeError('options.zips', 'an array of zip file paths', zips);
  if (zips.length === 0) throw rangeError('options.zips', 'at least one zip file path', zips);
  zips.forEach((z, i) => {
    if (typeof z !== 'string' || z === '') throw typeError(`options.zips[${i}]`, 'a zip file path', z);
  });
  if (typeof out !== 'string' || out === '') throw typeError('options.out', 'a folder path', out);
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw typeError('options.onProgress', 'a function', onProgress);
  }

  const splits = new Map<OmniglotSplitName, Map<string, CharacterFolder>>();
  const zipSums = new Map<OmniglotSplitName, { file: string; sha256: string }[]>();
  for (const zip of zips) {
    const bytes = await readFile(zip).catch((e: NodeJS.ErrnoException) => {
      throw e.code === 'ENOENT' ? new Error(`Omniglot zip not found: ${zip}`, { cause: e }) : e;
    });
    let files: Record<string, Uint8Array>;
    try {
      files = unzipSync(bytes, { filter: (f) => ENTRY.test(f.name) });
    } catch (e) {
      throw new Error(`Cannot read ${zip} as a zip file: ${(e as Error).message}`, { cause: e });
    }
    const names = Object.keys(files);
    if (names.length === 0) {
      throw new Error(`${zip} holds no Omniglot images (expected images_<split>/<alphabet>/characterNN/NNNN_DD.png)`);
    }
    const seenSplits = new Set<OmniglotSplitName>();
    for (const name of names) {
      const [, split, alphabet, character, id, drawer] = ENTRY.exec(name)!;
      addImage(splits, zip, split as OmniglotSplitName, alphabet, character, Number(id), Number(drawer), files[name]);
      seenSplits.add(split as OmniglotSplitName);
    }
    for (const split of seenSplits) {
      zipSums.set(split, [...(zipSums.get(split) ?? []), { file: basename(zip), sha256: sha256(bytes) }]);
    }
  }

  const ordered = [...splits].map(([split, folders]) => [split, orderCharacters(folders)] as const);
  const total = ordered.reduce((n, [, chars]) => n + chars.length * DRAWERS, 0);
  let done = 0;
  await mkdir(out, { recursive: true });
  const written: ImportedSplit[] = [];
  for (const [split, chars] of ordered) {
    const data = new Uint8Array(chars.length * DRAWERS * IMAGE_PIXELS);
    chars.forEach((c, k) =>
      c.pngs.forEach((png, d) => {
        data.set(downsampleOmniglot105(decodeInk(png!, c, d + 1)), (k * DRAWERS + d) * IMAGE_PIXELS);
        onProgress?.(++done, total);
      }),
    );
    const labels = labelsJson(split, chars, data, zipSums.get(split)!);
    const dataFile = join(out, `${split}.u8`);
    const labelsFile = join(out, `${split}.json`);
    await writeAtomic(dataFile, data);
    await writeAtomic(labelsFile, JSON.stringify(labels));
    written.push({
      split,
      count: labels.num_images,
      numCharacters: labels.num_characters,
      numAlphabets: labels.num_alphabets,
      dataFile,
      labelsFile,
      dataSha256: labels.data_sha256,
    });
  }
  return written;
}

function addImage(
  splits: Map<OmniglotSplitName, Map<string, CharacterFolder>>,
  zip: string,
  split: OmniglotSplitName,
  alphabet: string,
  name: string,
  omniglotId: number,
  drawer: number,
  png: Uint8Array,
): void {
  const path = `images_${split}/${alphabet}/${name}`;
  const file = `${path}/${pngName(omniglotId, drawer)}`;
  if (drawer < 1 || drawer > DRAWERS) throw new Error(`${zip}: ${file} has drawer ${drawer}, expected 01..20`);
  const folders = splits.get(split) ?? new Map<string, CharacterFolder>();
  splits.set(split, folders);
  const folder = folders.get(path) ?? { zip, path, alphabet, name, omniglotId, pngs: new Array(DRAWERS).fill(undefined) };
  folders.set(path, folder);
  if (folder.omniglotId !== omniglotId) {
    throw new Error(`${zip}: ${file} has Omniglot id ${omniglotId} but ${path} also holds id ${folder.omniglotId}`);
  }
  if (folder.pngs[drawer - 1] !== undefined) throw new Error(`${zip}: ${file} appears twice (also in ${folder.zip})`);
  folder.pngs[drawer - 1] = png;
}

/** Characters in Omniglot id order, after checking that the set is complete and consistent. */
function orderCharacters(folders: Map<string, CharacterFolder>): CharacterFolder[] {
  const chars = [...folders.values()].sort((a, b) => a.omniglotId - b.omniglotId);
  chars.forEach((c, k) => {
    const missing = c.pngs.findIndex((p) => p === undefined);
    if (missing >= 0) {
      throw new Error(`${c.zip}: ${c.path}/${pngName(c.omniglotId, missing + 1)} is missing; every character needs drawers 01..20`);
    }
    if (k > 0 && chars[k - 1].omniglotId === c.omniglotId) {
      throw new Error(`${c.zip}: ${chars[k - 1].path} and ${c.path} share Omniglot id ${c.omniglotId}`);
    }
  });
  // An alphabet must be one run of ids, so that its characters form one range of the split.
  const finished = new Set<string>();
  chars.forEach((c, k) => {
    if (finished.has(c.alphabet)) throw new Error(`${c.zip}: the Omniglot ids of alphabet ${c.alphabet} are not contiguous`);
    if (k + 1 < chars.length && chars[k + 1].alphabet !== c.alphabet) finished.add(c.alphabet);
  });
  return chars;
}

/** Decodes one original PNG to ink = 1 where the pixel is dark (the paper is white). */
function decodeInk(png: Uint8Array, c: CharacterFolder, drawer: number): Uint8Array {
  const file = `${c.path}/${pngName(c.omniglotId, drawer)}`;
  let image: PNG;
  try {
    image = PNG.sync.read(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
  } catch (e) {
    throw new Error(`${c.zip}: cannot decode ${file}: ${(e as Error).message}`, { cause: e });
  }
  if (image.width !== SOURCE_SIDE || image.height !== SOURCE_SIDE) {
    throw new Error(`${c.zip}: ${file} is ${image.width}x${image.height}, expected 105x105`);
  }
  // pngjs gives RGBA bytes whatever the bit depth; the red channel is the grey level.
  const ink = new Uint8Array(SOURCE_PIXELS);
  for (let p = 0; p < SOURCE_PIXELS; p++) ink[p] = image.data[4 * p] < 128 ? 1 : 0;
  return ink;
}

function labelsJson(
  split: OmniglotSplitName,
  chars: CharacterFolder[],
  data: Uint8Array,
  zips: { file: string; sha256: string }[],
) {
  const alphabetNames = [...new Set(chars.map((c) => c.alphabet))];
  const alphabetOf = (c: CharacterFolder) => alphabetNames.indexOf(c.alphabet);
  const alphabets = alphabetNames.map((name, index) => {
    const members = chars.filter((c) => c.alphabet === name);
    return {
      index,
      name,
      first_character: chars.indexOf(members[0]),
      num_characters: members.length,
      first_omniglot_id: members[0].omniglotId,
      last_omniglot_id: members[members.length - 1].omniglotId,
    };
  });
  const characters = chars.map((c, index) => ({
    index,
    global_index: c.omniglotId - 1,
    omniglot_id: c.omniglotId,
    alphabet: alphabetOf(c),
    alphabet_name: c.alphabet,
    name: c.name,
    path: c.path,
  }));
  const perImage = <T>(f: (c: CharacterFolder, k: number, d: number) => T) =>
    chars.flatMap((c, k) => Array.from({ length: DRAWERS }, (_, d) => f(c, k, d)));
  const count = chars.length * DRAWERS;
  // Same fields and wording as the published labels files, so that loadOmniglot reads both alike.
  return {
    dataset: 'Omniglot (Lake, Salakhutdinov & Tenenbaum 2015), MIT license',
    split,
    data_file: `${split}.u8`,
    data_sha256: sha256(data),
    dtype: 'uint8',
    shape: [count, IMAGE_SIDE, IMAGE_SIDE],
    layout: 'row-major: byte offset of pixel (row r, col c) of image i = i*784 + r*28 + c; row 0 is the top of the character',
    values:
      '0 = paper, 255 = full ink; v/255 is the ink coverage of the pixel (area average of the inverted 105x105 binary original)',
    order:
      'character-major: image i shows character characters[i // 20] drawn by drawer (i % 20) + 1; characters are in Omniglot id order',
    num_images: count,
    num_characters: chars.length,
    num_alphabets: alphabets.length,
    drawers_per_character: DRAWERS,
    original_file:
      'images_<split>/<alphabet_name>/<character name>/<omniglot_id:04d>_<drawer:02d>.png in brendenlake/omniglot python/images_<split>.zip',
    source: {
      zips,
      converter: 'gmn importOmniglot (exact area average, README of the data folder)',
      derived_from: `github.com/brendenlake/omniglot python/images_${split}.zip`,
    },
    alphabets,
    characters,
    images: {
      character: perImage((_, k) => k),
      alphabet: perImage((c) => alphabetOf(c)),
      drawer: perImage((_, __, d) => d + 1),
    },
  };
}

// A crash mid-write must not leave a truncated file under the final name.
async function writeAtomic(file: string, content: Uint8Array | string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, content);
  await rename(tmp, file);
}

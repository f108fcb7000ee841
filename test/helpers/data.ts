// Shared fixtures of the data tests: the GMN_DATA switch, temp folders, a synthetic in-memory split,
// a 1-bit PNG writer, a synthetic Omniglot zip, and an independent float64 area average.

import test, { type ExecutionContext } from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { zipSync, type Zippable } from 'fflate';
import { PNG } from 'pngjs';
import type { OmniglotSplit } from '../../src/data/index.js';
import { Rng } from '../../src/data/index.js';

/** The Omniglot folder of the README, or undefined when the data tests should be skipped. */
export const GMN_DATA = process.env.GMN_DATA || undefined;

/** A test that needs GMN_DATA; declared skipped (with the reason in its title) when it is unset. */
export function dataTest(title: string, fn: (t: ExecutionContext, dir: string) => Promise<void> | void): void {
  if (GMN_DATA === undefined) test.skip(`${title} (skipped: GMN_DATA is not set)`, () => {});
  else test(title, (t) => fn(t, GMN_DATA!));
}

/** A fresh folder under os.tmpdir(), removed when the test ends. */
export async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gmn-data-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * An in-memory split of `numCharacters` characters with `perCharacter` images each, pixel values
 * spread over 0..255 (0 and 255 included), so sampler tests run without the real files.
 */
export function syntheticSplit(numCharacters: number, perCharacter = 20, seed = 1): OmniglotSplit {
  const rng = new Rng(seed);
  const count = numCharacters * perCharacter;
  const images = new Uint8Array(count * 784);
  for (let p = 0; p < images.length; p++) {
    const u = rng.nextInt(4);
    images[p] = u === 0 ? 0 : u === 1 ? 255 : rng.nextInt(256);
  }
  const imageCharacter = Int32Array.from({ length: count }, (_, i) => Math.floor(i / perCharacter));
  const characters = Array.from({ length: numCharacters }, (_, k) => ({
    index: k,
    alphabet: 0,
    alphabetName: 'Synthetic',
    name: `character${String(k + 1).padStart(2, '0')}`,
    omniglotId: k + 1,
  }));
  return {
    split: 'background',
    variant: 'greyscale',
    images,
    count,
    height: 28,
    width: 28,
    imageCharacter,
    characters,
    alphabets: [{ index: 0, name: 'Synthetic', firstCharacter: 0, numCharacters }],
    imagesOfCharacter: (k) => ({ first: k * perCharacter, count: perCharacter }),
  };
}

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

/**
 * A 1-bit greyscale PNG like the Omniglot originals (bit 1 = white paper). pngjs only writes 8/16-bit
 * PNGs, so this one is assembled by hand.
 */
export function png1Bit(ink: Uint8Array, width = 105, height = 105): Buffer {
  const rowBytes = Math.ceil(width / 8);
  const raw = new Uint8Array(height * (1 + rowBytes)); // each row: filter byte 0, then packed bits
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!ink[y * width + x]) raw[y * (1 + rowBytes) + 1 + (x >> 3)] |= 0x80 >> (x & 7);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** An 8-bit greyscale PNG written by pngjs (paper 255, ink 0). */
export function png8Bit(ink: Uint8Array, width = 105, height = 105): Buffer {
  const png = new PNG({ width, height });
  for (let p = 0; p < width * height; p++) {
    const v = ink[p] ? 0 : 255;
    png.data.set([v, v, v, 255], 4 * p);
  }
  return PNG.sync.write(png, { colorType: 0 });
}

/** Random 105x105 ink with strokes, a solid block (full coverage) and empty margins. */
export function randomInk(rng: Rng): Uint8Array {
  const ink = new Uint8Array(105 * 105);
  const density = 0.05 + 0.4 * rng.nextFloat();
  for (let y = 8; y < 97; y++) for (let x = 8; x < 97; x++) ink[y * 105 + x] = rng.nextFloat() < density ? 1 : 0;
  const y0 = 10 + rng.nextInt(60);
  const x0 = 10 + rng.nextInt(60);
  for (let y = y0; y < y0 + 20; y++) for (let x = x0; x < x0 + 20; x++) ink[y * 105 + x] = 1;
  return ink;
}

export interface SyntheticCharacter {
  alphabet: string;
  name: string;
  omniglotId: number;
  /** 20 ink images (index = drawer - 1); an undefined entry is left out of the zip. */
  ink: (Uint8Array | undefined)[];
  /** Encoder of each image; default png1Bit. */
  encode?: (ink: Uint8Array, drawer: number) => Uint8Array;
}

/** A zip laid out like images_<split>.zip; `extra` adds other entries by path. */
export function omniglotZip(split: string, chars: SyntheticCharacter[], extra: Record<string, Uint8Array> = {}): Uint8Array {
  const files: Zippable = { ...extra };
  for (const c of chars) {
    c.ink.forEach((ink, d) => {
      if (ink === undefined) return;
      const name = `${String(c.omniglotId).padStart(4, '0')}_${String(d + 1).padStart(2, '0')}.png`;
      files[`images_${split}/${c.alphabet}/${c.name}/${name}`] = c.encode ? c.encode(ink, d + 1) : png1Bit(ink);
    });
  }
  return zipSync(files);
}

/**
 * The README's definition computed independently in float64: out = W img W^T with
 * W[i, j] = overlap of [j, j+1) with [3.75 i, 3.75 (i+1)) / 3.75, then floor(255 v + 0.5).
 */
export function referenceDownsample(ink: Uint8Array): Uint8Array {
  const W = Array.from({ length: 28 }, (_, i) =>
    Array.from({ length: 105 }, (_, j) => Math.max(0, Math.min(j + 1, 3.75 * (i + 1)) - Math.max(j, 3.75 * i)) / 3.75),
  );
  const tmp = Array.from({ length: 28 }, (_, i) =>
    Array.from({ length: 105 }, (_, x) => W[i].reduce((s, w, y) => s + w * ink[y * 105 + x], 0)),
  );
  const out = new Uint8Array(784);
  for (let i = 0; i < 28; i++) {
    for (let j = 0; j < 28; j++) {
      const v = W[j].reduce((s, w, x) => s + w * tmp[i][x], 0);
      out[i * 28 + j] = Math.floor(255 * v + 0.5);
    }
  }
  return out;
}

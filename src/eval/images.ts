// Images in and out through sharp (libvips): a user's PNG or JPEG normalised to a 28x28 ink-high
// image like the training data, and a PNG grid of 28x28 images, upscaled for viewing.
import { readFile } from 'node:fs/promises';

import sharp, { type OutputInfo } from 'sharp';

import { IMAGE_SIDE, PIXELS } from '../model/config.js';

export interface LoadImageOptions {
  /**
   * Fraction of the 28-pixel side left empty around the character's bounding box (Omniglot's
   * characters leave about this much). Default 0.15.
   */
  margin?: number;
  /** Round the result to 0/1 (what a model trained on the gmn-binary images saw). Default true. */
  binarize?: boolean;
}

/**
 * Reads an image file (PNG, JPEG, or anything else libvips reads) of any size as a 28x28 ink-high
 * image in [0, 1]: greyscale, colour or with alpha; dark ink on a light background or light on dark
 * (told apart by the border, which is background). Alpha, where present and not uniform, is taken
 * as the ink. The character's bounding box is centred in a square with `margin` around it, then
 * area-averaged down to 28x28. Throws an Error naming the file when it is not an image or holds no ink.
 */
export async function loadImage(file: string, options: LoadImageOptions = {}): Promise<Float32Array> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new Error(`cannot read image ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return decodeImage(bytes, file, options);
}

/** `loadImage` on bytes already in memory; `source` names them in errors. */
export async function decodeImage(bytes: Uint8Array, source: string, options: LoadImageOptions = {}): Promise<Float32Array> {
  const margin = options.margin ?? 0.15;
  if (typeof margin !== 'number' || !(margin >= 0 && margin < 0.5)) throw new RangeError(`Expected a margin in [0, 0.5) but received ${margin}`);
  let raw: { data: Buffer; info: OutputInfo };
  try {
    raw = await sharp(bytes).rotate().ensureAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new Error(`${source} is not an image this build can read (PNG, JPEG, WebP, GIF, TIFF...): ${(err as Error).message}`);
  }
  const { width, height, channels } = raw.info;
  if (width === 0 || height === 0) throw new Error(`${source} is an empty image`);
  const n = width * height;
  const px = raw.data;
  let alphaMin = 255, alphaMax = 0;
  for (let i = 0; i < n; i++) {
    const a = px[i * channels + channels - 1];
    alphaMin = Math.min(alphaMin, a);
    alphaMax = Math.max(alphaMax, a);
  }
  const ink = new Float32Array(n);
  if (alphaMax - alphaMin > 16) {
    for (let i = 0; i < n; i++) ink[i] = px[i * channels + channels - 1] / 255;
  } else {
    for (let i = 0; i < n; i++) {
      const o = i * channels;
      ink[i] = (0.299 * px[o] + 0.587 * px[o + 1] + 0.114 * px[o + 2]) / 255;
    }
    // the border is background: light there means dark ink
    let border = 0, count = 0;
    for (let x = 0; x < width; x++) for (const y of [0, height - 1]) (border += ink[y * width + x]), count++;
    for (let y = 0; y < height; y++) for (const x of [0, width - 1]) (border += ink[y * width + x]), count++;
    if (border / count > 0.5) for (let i = 0; i < n; i++) ink[i] = 1 - ink[i];
  }
  // the ink's bounding box, ignoring faint noise
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) (lo = Math.min(lo, ink[i])), (hi = Math.max(hi, ink[i]));
  const cut = lo + 0.25 * (hi - lo);
  let x0 = width, x1 = -1, y0 = height, y1 = -1;
  if (hi - lo > 0.1) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (ink[y * width + x] > cut) (x0 = Math.min(x0, x)), (x1 = Math.max(x1, x)), (y0 = Math.min(y0, y)), (y1 = Math.max(y1, y));
      }
    }
  }
  if (x1 < 0) throw new Error(`${source} holds no character: the image is blank (one flat colour)`);
  // a square around the box, with the margin, filled with background outside the image
  const box = Math.max(x1 - x0 + 1, y1 - y0 + 1);
  const side = Math.max(1, Math.round(box / (1 - 2 * margin)));
  const left = Math.round((x0 + x1 + 1) / 2 - side / 2), top = Math.round((y0 + y1 + 1) / 2 - side / 2);
  const square = Buffer.alloc(side * side);
  for (let y = 0; y < side; y++) {
    const sy = top + y;
    if (sy < 0 || sy >= height) continue;
    for (let x = 0; x < side; x++) {
      const sx = left + x;
      if (sx >= 0 && sx < width) square[y * side + x] = Math.round(Math.max(0, (ink[sy * width + sx] - lo) / (hi - lo)) * 255);
    }
  }
  const small = await sharp(square, { raw: { width: side, height: side, channels: 1 } })
    .resize(IMAGE_SIDE, IMAGE_SIDE, { kernel: side >= IMAGE_SIDE ? 'linear' : 'nearest', fit: 'fill' })
    .extractChannel(0)
    .raw()
    .toBuffer();
  const out = new Float32Array(PIXELS);
  for (let i = 0; i < PIXELS; i++) out[i] = options.binarize === false ? small[i] / 255 : small[i] >= 128 ? 1 : 0;
  if (!out.some((v) => v > 0)) throw new Error(`${source} holds no character: its ink is too faint or too thin at 28x28`);
  return out;
}

/**
 * A PNG of rows of 28x28 images ([0, 1], ink high), drawn dark on light, each image `scale` times
 * larger (nearest neighbour), with a 2-pixel gap between images and a 6-pixel gap after the first
 * row when `separateFirstRow`. Rows may have different lengths.
 */
export async function imageGrid(rows: Float32Array[][], scale = 4, separateFirstRow = false): Promise<Buffer> {
  const cell = IMAGE_SIDE * scale, gap = 2;
  const columns = Math.max(1, ...rows.map((r) => r.length));
  const width = columns * cell + (columns + 1) * gap;
  const tops: number[] = [];
  let y = gap;
  rows.forEach((_, i) => {
    tops.push(y);
    y += cell + gap + (i === 0 && separateFirstRow ? 6 : 0);
  });
  const height = Math.max(y, cell + 2 * gap);
  const canvas = Buffer.alloc(width * height, 200); // grey gaps
  rows.forEach((row, r) => {
    row.forEach((img, c) => {
      const left = gap + c * (cell + gap);
      for (let py = 0; py < cell; py++) {
        const src = Math.floor(py / scale) * IMAGE_SIDE;
        const dst = (tops[r] + py) * width + left;
        for (let px = 0; px < cell; px++) canvas[dst + px] = Math.round(255 * (1 - img[src + Math.floor(px / scale)]));
      }
    });
  });
  return sharp(canvas, { raw: { width, height, channels: 1 } }).toColourspace('b-w').png().toBuffer();
}

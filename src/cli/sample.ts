// `gmn sample`: a PNG grid of new images of a character (or conditional reconstructions), given a
// few support images from files or from the data folder; none gives unconditional samples.
import { writeFileSync } from 'node:fs';

import { imagePixels } from '../data/sampler.js';
import { Rng } from '../data/rng.js';
import { generate, gridRows } from '../eval/generate.js';
import { imageGrid, loadImage } from '../eval/images.js';
import { binarizeOf } from '../eval/likelihood.js';
import { modelVariant } from '../model/load.js';
import { PIXELS } from '../model/config.js';
import { asFlags, flagReaders, loadDataFlag, loadModelFlags, modelFlags, modelUsage, parseFlags, UsageError } from './flags.js';

export const sampleUsage = `usage: gmn sample --out grid.png [--support a.png ...] [options]

Draws n new images of the character shown by k support images (k = 0: unconditional samples) and
writes a PNG grid: the supports on the top row, the samples below.

  --out FILE              the PNG grid                                       required
  --support FILE          a support image (PNG, JPEG, ...; any size, dark on light or light on
                          dark, colour or alpha); repeat the flag for more (at most T - 1 = 9)
  --data DIR              take the supports from the Omniglot folder instead: with --character
  --split S               evaluation | background                            evaluation
  --character N           character index in the split (0-based)
  --shots K               supports taken from the character's drawers          5
  --n N                   images to generate                                 20
  --binary                binary samples instead of the Bernoulli means
  --reconstruct           reconstruct each support from q(z | x_t, x_<t) instead (n rows)
  --scale S               pixels per image pixel in the PNG                  4
  --columns C             samples per row of the grid                        10
  --json FILE             also write the 28x28 arrays as JSON
${modelUsage}`;

export async function sampleCommand(args: string[]): Promise<number> {
  const { values } = parseFlags('sample', args, {
    ...modelFlags,
    out: { type: 'string' },
    support: { type: 'string', multiple: true },
    data: { type: 'string' },
    split: { type: 'string' },
    character: { type: 'string' },
    shots: { type: 'string' },
    n: { type: 'string' },
    binary: { type: 'boolean' },
    reconstruct: { type: 'boolean' },
    scale: { type: 'string' },
    columns: { type: 'string' },
    json: { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(sampleUsage);
    return 0;
  }
  const { int, oneOf } = flagReaders('sample');
  if (!values.out) throw new UsageError('gmn sample: --out FILE is required (where to write the PNG grid)');
  const n = int('n', values.n, 1, 10000) ?? 20;
  const scale = int('scale', values.scale, 1, 64) ?? 4;
  const columns = int('columns', values.columns, 1, 1000) ?? 10;
  const shots = int('shots', values.shots, 0, 1000);
  const character = int('character', values.character, 0);
  const { model, seed } = await loadModelFlags('sample', values);
  const T = model.config.episodeLength;

  let support: Float32Array;
  const files = values.support ?? [];
  if (files.length > 0 && values.data !== undefined) throw new UsageError('gmn sample: pass --support files or --data with --character, not both');
  if (values.data !== undefined) {
    if (character === undefined) throw new UsageError('gmn sample: --data needs --character N (which character of the split to show)');
    const k = shots ?? 5;
    if (k > T - 1) throw new UsageError(`gmn sample: --shots needs an integer from 0 to ${T - 1} (the model was trained on episodes of ${T}), not "${k}"`);
    const variant = modelVariant(model);
    const split = await loadDataFlag('sample', values.data, oneOf('split', values.split, ['evaluation', 'background'] as const), variant);
    if (character >= split.characters.length) throw new UsageError(`gmn sample: --character needs an index below ${split.characters.length} (the characters of the ${split.split} split), not "${character}"`);
    const { first, count } = split.imagesOfCharacter(character);
    if (k > count) throw new UsageError(`gmn sample: --shots needs at most ${count} (the drawers of character ${character}), not "${k}"`);
    support = imagePixels(split, Array.from({ length: k }, (_, i) => first + i), binarizeOf(variant), new Rng(seed ?? 0));
  } else {
    if (shots !== undefined) throw new UsageError('gmn sample: --shots goes with --data and --character; with files, pass one --support per image');
    if (files.length > T - 1) throw new UsageError(`gmn sample: --support given ${files.length} times; the model takes at most ${T - 1} supports (it was trained on episodes of ${T})`);
    support = new Float32Array(files.length * PIXELS);
    for (let i = 0; i < files.length; i++) {
      try {
        support.set(await loadImage(files[i]), i * PIXELS);
      } catch (err) {
        throw new UsageError(`gmn sample: --support ${(err as Error).message}`);
      }
    }
  }
  if (values.reconstruct && support.length === 0) throw new UsageError('gmn sample: --reconstruct needs supports (--support FILE or --data with --character)');
  const result = await asFlags('sample', async () => generate(model, { support, n, seed, output: values.binary ? 'binary' : 'mean', reconstruct: values.reconstruct ?? false }));
  writeFileSync(values.out, await imageGrid(gridRows(result, columns), scale, result.k > 0));
  if (values.json) {
    const images = (a: Float32Array) => Array.from({ length: a.length / PIXELS }, (_, i) => Array.from(a.subarray(i * PIXELS, (i + 1) * PIXELS)));
    writeFileSync(values.json, JSON.stringify({ k: result.k, n: result.n, reconstruct: result.reconstruct, support: images(result.support), images: images(result.images) }) + '\n');
  }
  console.log(`gmn sample: ${result.reconstruct ? `${n} reconstructions of each of ${result.k} supports` : `${n} samples given ${result.k} supports`} -> ${values.out}`);
  return 0;
}

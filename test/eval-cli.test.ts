// gmn sample / eval / classify from the command line: it works, and bad input gives one line that
// names the flag, a non-zero exit and no stack trace.
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

import { GMN } from '../src/model/gmn.js';
import { DEFAULT_MODEL, saveWeights } from '../src/model/load.js';
import { dataTest, tempDir } from './helpers/data.js';

const cli = (args: string[]) => {
  const r = spawnSync(process.execPath, ['--import=tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', env: { ...process.env, GMN_THREADS: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

/** A folder with a tiny model's weights (episodes of `T`), a character drawing, a blank and a text file. */
async function fixtures(t: ExecutionContext, T = 4) {
  const dir = await tempDir(t);
  const model = new GMN({ architecture: 'fc', latent: 4, stateSize: 16, keySize: 8, hops: 1, episodeLength: T, batchSize: 1 }, { device: 'cpu', seed: 1 });
  const weights = join(dir, 'tiny.safetensors');
  await saveWeights(weights, model, { variant: 'gmn-binary' });
  model.dispose();
  const ink = Buffer.alloc(60 * 80, 255);
  for (let y = 10; y < 50; y++) for (let x = 35; x < 42; x++) ink[y * 80 + x] = 0;
  await sharp(ink, { raw: { width: 80, height: 60, channels: 1 } }).png().toFile(join(dir, 'a.png'));
  await sharp({ create: { width: 30, height: 30, channels: 3, background: '#ffffff' } }).png().toFile(join(dir, 'blank.png'));
  writeFileSync(join(dir, 'notes.png'), 'not an image');
  writeFileSync(join(dir, 'empty.png'), '');
  return { dir, weights };
}

/** One line on stderr mentioning `mentions`, no stack trace, exit code 1 or 2. */
function refuses(t: ExecutionContext, args: string[], mentions: RegExp) {
  const r = cli(args);
  const lines = r.err.trim().split('\n');
  t.true(r.code === 1 || r.code === 2, `exit ${r.code} for ${args.join(' ')}`);
  t.is(lines.length, 1, `one line for ${args.join(' ')}: ${r.err}`);
  t.regex(lines[0], mentions);
  t.notRegex(r.err, /\n\s+at /, 'no stack trace');
}

test('gmn sample writes a grid from image files and unconditional samples', async (t) => {
  const { dir, weights } = await fixtures(t);
  const out = join(dir, 'grid.png');
  const r = cli(['sample', '--checkpoint', weights, '--support', join(dir, 'a.png'), '--n', '6', '--out', out, '--json', join(dir, 'g.json')]);
  t.is(r.code, 0, r.err);
  const meta = await sharp(out).metadata();
  t.is(meta.width, 6 * 112 + 7 * 2); // six samples in a row
  t.is(meta.height, 2 * 112 + 3 * 2 + 6);
  const json = JSON.parse(readFileSync(join(dir, 'g.json'), 'utf8')) as { k: number; images: number[][] };
  t.is(json.k, 1);
  t.is(json.images.length, 6);
  t.is(cli(['sample', '--checkpoint', weights, '--n', '3', '--binary', '--out', out]).code, 0);
  t.is(cli(['sample', '--help']).code, 0);
});

const hasDefault = existsSync(DEFAULT_MODEL);
(hasDefault ? test : test.skip)(`gmn sample with the default model, no data folder${hasDefault ? '' : ' (skipped: models/default.safetensors is not in this checkout)'}`, async (t) => {
  const { dir } = await fixtures(t);
  const env = { ...process.env, GMN_DATA: '' };
  const run = (args: string[]) => spawnSync(process.execPath, ['--import=tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', env });
  const a = run(['sample', '--out', join(dir, 'u.png'), '--n', '4']);
  t.is(a.status, 0, a.stderr);
  const b = run(['sample', '--support', join(dir, 'a.png'), '--out', join(dir, 's.png'), '--n', '4']);
  t.is(b.status, 0, b.stderr);
  t.is((await sharp(join(dir, 's.png')).metadata()).height, 2 * 112 + 3 * 2 + 6);
});

test('gmn sample, eval, classify: bad input is one line naming the flag', async (t) => {
  const { dir, weights } = await fixtures(t);
  const out = join(dir, 'x.png');
  const sample = (...a: string[]) => ['sample', '--checkpoint', weights, '--out', out, ...a];
  refuses(t, sample('--support', join(dir, 'notes.png')), /--support .*notes\.png is not an image/);
  refuses(t, sample('--support', join(dir, 'empty.png')), /--support .*empty\.png is not an image/);
  refuses(t, sample('--support', join(dir, 'blank.png')), /--support .*blank\.png holds no character/);
  refuses(t, sample('--support', join(dir, 'missing.png')), /--support .*missing\.png: no such file/);
  refuses(t, sample(...Array(4).fill(['--support', join(dir, 'a.png')]).flat()), /--support given 4 times; .*at most 3/);
  refuses(t, sample('--n', '-2'), /--n needs an integer from 1/);
  refuses(t, ['sample', '--checkpoint', weights], /--out FILE is required/);
  refuses(t, ['sample', '--checkpoint', join(dir, 'nope.safetensors'), '--out', out], /--checkpoint: model file not found/);
  const bytes = readFileSync(weights);
  writeFileSync(join(dir, 'cut.safetensors'), bytes.subarray(0, bytes.length - 64));
  refuses(t, sample().map((a) => (a === weights ? join(dir, 'cut.safetensors') : a)), /--checkpoint: .*cut\.safetensors .*truncated/);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = bytes.subarray(8, 8 + n).toString('utf8').replace('\\"stateSize\\":16', '\\"stateSize\\":17');
  writeFileSync(join(dir, 'other.safetensors'), Buffer.concat([bytes.subarray(0, 8), Buffer.from(header), bytes.subarray(8 + n)]));
  refuses(t, sample().map((a) => (a === weights ? join(dir, 'other.safetensors') : a)), /--checkpoint: .*other\.safetensors .*shape/);
  refuses(t, ['sample', '--checkpoint', weights, '--out', out, '--frobnicate'], /Unknown option '--frobnicate'/);

  const empty = await tempDir(t);
  refuses(t, ['eval', '--checkpoint', weights, '--data', empty], /--data: Omniglot file not found/);
  refuses(t, ['eval', '--checkpoint', weights, '--data', empty, '--samples', '0'], /--samples needs an integer >= 1, not "0"/);
  refuses(t, ['eval', '--checkpoint', weights, '--data', empty, '--episodes', '-5'], /--episodes needs an integer >= 1, not "-5"/);
  refuses(t, ['classify', '--checkpoint', weights, '--data', empty], /--data: Omniglot file not found/);
  refuses(t, ['classify', '--checkpoint', weights, '--data', empty, '--ways', '1'], /--ways needs an integer >= 2/);
  refuses(t, ['classify', '--checkpoint', weights, '--data', empty, '--methods', 'guess'], /--methods needs one of likelihood, nearest/);
  t.is(cli(['eval', '--help']).code, 0);
  t.is(cli(['classify', '--help']).code, 0);
});

dataTest('gmn eval, classify and sample on the data folder; shots, ways and C_test beyond the data are refused by flag', async (t, data) => {
  const { dir, weights } = await fixtures(t);
  const r = cli(['eval', '--checkpoint', weights, '--data', data, '--classes', '1', '--episodes', '3', '--samples', '4']);
  t.is(r.code, 0, r.err);
  t.regex(r.out, /\| with replacement \(paper\) \| 1 \| -\d/);
  t.regex(r.out, /\| without replacement \| 1 \| -\d/);
  const c = cli(['classify', '--checkpoint', weights, '--data', data, '--ways', '5', '--shots', '1', '--episodes', '5', '--samples', '2']);
  t.is(c.code, 0, c.err);
  t.regex(c.out, /\| 5 \| 1 \| conditional likelihood \(K = 2\) \| 5 \|/);
  t.is(cli(['sample', '--checkpoint', weights, '--data', data, '--character', '3', '--shots', '2', '--out', join(dir, 'd.png')]).code, 0);

  refuses(t, ['eval', '--checkpoint', weights, '--data', data, '--classes', '9'], /\[1, 4\] for --classes/);
  refuses(t, ['classify', '--checkpoint', weights, '--data', data, '--shots', '4'], /at most 3 .*episodes of 4.* for --shots/);
  refuses(t, ['classify', '--checkpoint', weights, '--data', data, '--ways', '700'], /at most 659 .* for --ways/);
  refuses(t, ['sample', '--checkpoint', weights, '--data', data, '--character', '700', '--shots', '2', '--out', join(dir, 'd.png')], /--character needs an index below 659/);
  // a model of long episodes: k = 20 supports and a query need 21 drawers, a character has 20
  const long = await fixtures(t, 30);
  refuses(t, ['classify', '--checkpoint', long.weights, '--data', data, '--shots', '20'], /at most 19 .*20 drawers.* for --shots/);
  refuses(t, ['sample', '--checkpoint', long.weights, '--data', data, '--character', '1', '--shots', '21', '--out', join(dir, 'd.png')], /--shots needs at most 20/);
});

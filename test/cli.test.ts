// The gmn command line: --help and --version, one-line errors naming the flag, run folders that
// keep their data (refuse, --force, --resume restoring the run's options and cutting its metrics),
// and plots.
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

import { dataTest, tempDir } from './helpers/data.js';

const gmn = (args: string[], env: Record<string, string> = {}) => {
  const r = spawnSync(process.execPath, ['--import=tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', env: { ...process.env, GMN_THREADS: '1', ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

function refuses(t: ExecutionContext, args: string[], mentions: RegExp) {
  const r = gmn(args);
  t.true(r.code !== 0 && r.code !== null, `non-zero exit for ${args.join(' ')}`);
  const lines = r.err.trim().split('\n');
  t.is(lines.length, 1, `one line for ${args.join(' ')}: ${r.err}`);
  t.regex(lines[0], mentions);
  t.notRegex(r.err, /\n\s+at /);
}

const commands = ['doctor', 'import-omniglot', 'train', 'plot', 'sample', 'eval', 'classify', 'export-weights'];

test('every command has --help (exit 0); gmn --version prints the version', (t) => {
  for (const c of commands) {
    const r = gmn([c, '--help']);
    t.is(r.code, 0, `${c} --help: ${r.err}`);
    t.regex(r.out, new RegExp(`usage: gmn ${c}`));
  }
  const v = gmn(['--version']);
  t.is(v.code, 0);
  t.is(v.out.trim(), (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version);
});

test('CLI errors are one line that names the flag and what to pass', async (t) => {
  const dir = await tempDir(t);
  refuses(t, ['train', '--data', dir, '--out', join(dir, 'r'), '--steps', '-5'], /--steps needs an integer >= 1, not "-5"/);
  refuses(t, ['train', '--data', dir, '--out', join(dir, 'r'), '--lr', 'fast'], /--lr needs a number >= 0, not "fast"/);
  refuses(t, ['train', '--data', dir, '--out', join(dir, 'r'), '--threads', '0'], /--threads needs an integer from 1 to 1024/);
  refuses(t, ['train', '--data', dir, '--out', join(dir, 'r'), '--schedule', 'linear'], /--schedule needs one of paper, cosine, constant/);
  refuses(t, ['train', '--data', dir, '--out', join(dir, 'r'), '--bogus'], /Unknown option '--bogus'/);
  refuses(t, ['train', '--out', join(dir, 'r')], /--data DIR is required/);
  refuses(t, ['train', '--data', dir, '--out', join(dir, 'r'), '--resume', '--force'], /--resume .* or --force .*not both/);
  // the greyscale files of gmn import-omniglot, without the gmn-binary copy
  writeFileSync(join(dir, 'background.u8'), '');
  refuses(t, ['train', '--data', dir, '--out', join(dir, 'r')], /no gmn-binary\/background\.u8.*pass --variant greyscale/);
  refuses(t, ['import-omniglot', 'a.zip'], /--out DIR is required/);
  refuses(t, ['plot'], /pass one RUN_DIR/);
  refuses(t, ['plot', dir], /metrics\.jsonl does not exist/);
  refuses(t, ['doctor', '--jsn'], /Unknown option '--jsn'/);
  const r = gmn(['frobnicate']);
  t.is(r.code, 2);
});

test('gmn plot: an empty or one-step run is a clear error', async (t) => {
  const dir = await tempDir(t);
  writeFileSync(join(dir, 'metrics.jsonl'), '');
  refuses(t, ['plot', dir], /no training steps; a plot needs at least two/);
  writeFileSync(join(dir, 'metrics.jsonl'), '{"step":1,"loss":5}\n');
  refuses(t, ['plot', dir], /one training step/);
});

const data = process.env.GMN_DATA;
const tiny = ['--batch-size', '2', '--episode-length', '4', '--latent', '4', '--hops', '1', '--architecture', 'fc', '--validate-every', '2', '--threads', '1'];
const train = (out: string, ...extra: string[]) => gmn(['train', '--data', data ?? '', '--out', out, ...tiny, ...extra]);
const metrics = (out: string) =>
  readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; lr?: number; loss?: number; validation?: number[] });

dataTest('gmn train refuses a folder that holds a run; --force moves it aside', async (t) => {
  const out = join(await tempDir(t), 'run');
  t.is(train(out, '--steps', '3').code, 0);
  const before = readFileSync(join(out, 'metrics.jsonl'), 'utf8');
  const again = train(out, '--steps', '1');
  t.not(again.code, 0);
  t.regex(again.err, /^gmn train: .* already holds a run .*pass --resume to continue it or pass --force to start afresh/);
  t.is(readFileSync(join(out, 'metrics.jsonl'), 'utf8'), before, 'the old metrics are untouched');
  const forced = train(out, '--steps', '1', '--force');
  t.is(forced.code, 0, forced.err);
  const aside = readdirSync(out).filter((f) => f.startsWith('previous-'));
  t.is(aside.length, 1);
  t.is(readFileSync(join(out, aside[0], 'metrics.jsonl'), 'utf8'), before, 'the old run was moved aside whole');
  t.true(existsSync(join(out, aside[0], 'checkpoint.safetensors')));
  t.deepEqual(metrics(out).filter((m) => m.loss !== undefined).map((m) => m.step), [1]);
});

dataTest('gmn train --resume restores the stored options, cuts metrics back to the checkpoint, refuses a conflicting option', async (t) => {
  const out = join(await tempDir(t), 'run');
  const first = train(out, '--steps', '4', '--checkpoint-every', '2', '--schedule', 'cosine', '--lr', '0.002', '--warmup', '1', '--seed', '5');
  t.is(first.code, 0, first.err);
  // a run that went on past its last checkpoint (steps 5 and 6 logged, checkpoint at 4), then died
  const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8');
  writeFileSync(join(out, 'metrics.jsonl'), lines + '{"step":5,"loss":1}\n{"step":6,"loss":1}\n{"step":7,"lo');
  const conflict = gmn(['train', '--out', out, '--resume', '--steps', '8', '--lr', '0.01']);
  t.not(conflict.code, 0);
  // the warning about --steps, then the one-line refusal
  const [warning, refusal, ...rest] = conflict.err.trim().split('\n');
  t.regex(warning, /resuming with steps 8/);
  t.regex(refusal, /^gmn train: cannot resume with a different --schedule\/--lr\/--warmup: .*leave the flag out/);
  t.deepEqual(rest, []);
  const resumed = gmn(['train', '--out', out, '--resume', '--steps', '8', '--threads', '1']);
  t.is(resumed.code, 0, resumed.err);
  t.regex(resumed.err, /resuming with steps 8 instead of the run's 4/);
  const m = metrics(out).filter((r) => r.loss !== undefined);
  t.deepEqual(m.map((r) => r.step), [1, 2, 3, 4, 5, 6, 7, 8], 'each step once, the dead run\'s tail gone');
  // the schedule is the stored cosine one (peak 0.002 over 4 steps, warmup 1), not the paper's default
  t.true(Math.abs(m[0].lr! - 0.002) < 1e-12, `lr at step 1 ${m[0].lr}`);
  t.is(m[5].lr, 0, 'past the cosine schedule\'s 4 steps the lr stays at its minimum');
  // the same run in one go gives the same losses: seed, schedule and data were restored
  const straight = join(await tempDir(t), 'straight');
  t.is(train(straight, '--steps', '4', '--schedule', 'cosine', '--lr', '0.002', '--warmup', '1', '--seed', '5').code, 0);
  t.deepEqual(metrics(straight).filter((r) => r.loss !== undefined).map((r) => r.loss), m.slice(0, 4).map((r) => r.loss));
});

dataTest('gmn train --lr scales the paper schedule', async (t) => {
  const out = join(await tempDir(t), 'run');
  t.is(train(out, '--steps', '1', '--lr', '5e-4').code, 0);
  t.is(metrics(out)[0].lr, 5e-4);
});

dataTest('gmn plot renders a real run: PNG and SVG of the stated size, not blank', async (t) => {
  const out = join(await tempDir(t), 'run');
  t.is(train(out, '--steps', '6').code, 0);
  const prefix = join(out, 'fig');
  const r = gmn(['plot', out, '--out', prefix]);
  t.is(r.code, 0, r.err);
  for (const name of ['loss', 'validation']) {
    t.regex(readFileSync(`${prefix}-${name}.svg`, 'utf8'), /<svg[\s\S]*nats per/);
    const { data: px, info } = await sharp(`${prefix}-${name}.png`).greyscale().raw().toBuffer({ resolveWithObject: true });
    t.true(info.width > 1400 && info.width < 2000 && info.height > 700 && info.height < 1000, `${name}: ${info.width}x${info.height}`);
    const dark = px.reduce((n, v) => n + (v < 128 ? 1 : 0), 0);
    t.true(dark > 2000, `${name}: ${dark} dark pixels (text, axes, lines)`);
  }
});

test('output into a pipe whose reader has gone (gmn doctor | true) ends quietly with status 0, not an EPIPE crash', (t) => {
  // `true` exits without reading, long before Node has started and written: every write then fails with EPIPE.
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', `"${process.execPath}" --import=tsx src/cli/main.ts doctor | true`], {
    encoding: 'utf8',
  });
  t.is(r.status, 0, r.stderr);
  t.notRegex(r.stderr, /EPIPE|Unhandled/);
});

// The package as a user gets it: `npm pack`, then an install of the tarball into a new project,
// which on linux-x64 uses the packed prebuilt addon with no compiler on PATH (elsewhere it builds
// the addon); then the CLI, the ESM API, its types, a two-step training run there, and a build
// from source when asked.
import test from 'ava';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join, resolve } from 'node:path';

import { GMN_DATA, tempDir } from './helpers/data.js';
import { PREBUILT_ISAS, cpuFlags, prebuiltIsa } from '../scripts/prebuilt-isa.mjs';

const root = resolve(import.meta.dirname, '..');
const require = createRequire(import.meta.url);

function run(command: string, args: string[], options: SpawnSyncOptions = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', ...options, env: { ...process.env, ...options.env } });
  return { code: r.status, out: String(r.stdout ?? ''), err: String(r.stderr ?? ''), error: r.error };
}

const prebuiltHere = process.platform === 'linux' && process.arch === 'x64';

/** A PATH with every command of this one except the compilers and build tools. */
function pathWithoutCompilers(dir: string): string {
  const hidden = /^(cc|c\+\+|g\+\+|gcc|clang|clang\+\+|cmake|make|nvcc|node-gyp|x86_64-linux-gnu-.*)$/;
  mkdirSync(dir);
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    let names: string[] = [];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const name of names) if (!hidden.test(name) && !existsSync(join(dir, name))) symlinkSync(join(d, name), join(dir, name));
  }
  return dir;
}

test('npm pack holds what a user needs; installed into a new project, the CLI, the API, its types and training work', async (t) => {
  // Packs, installs, and compiles the addon from source (npm rebuild below): about 5 minutes on two
  // slow cores, the suite's default limit.
  t.timeout(20 * 60_000);
  const dir = await tempDir(t);
  const pack = run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: root });
  t.is(pack.code, 0, pack.err);
  const [info] = JSON.parse(pack.out.slice(pack.out.indexOf('['))) as [{ filename: string; size: number; files: { path: string }[] }];
  const files = info.files.map((f) => f.path);
  t.log(`tarball ${info.filename}: ${(info.size / 1e6).toFixed(2)} MB, ${files.length} files`);
  for (const want of ['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'bin/gmn.js', 'native/cpu/sgemm.cc', 'native/cuda/sgemm.cu', 'native/ops/registry.h', 'native/emulation/cuda_runtime.h', 'CMakeLists.txt', 'binding.gyp', 'scripts/build-addon.mjs', 'README.md', 'LICENSE']) {
    t.true(files.includes(want), `the tarball holds ${want}`);
  }
  if (existsSync(join(root, 'models', 'default.safetensors'))) t.true(files.includes('models/default.safetensors'), 'the default model ships');
  if (prebuiltHere) {
    t.true(files.includes('prebuilds/linux-x64/gmn.glibc.node'), 'the prebuilt linux-x64 addon ships');
    for (const [isa] of PREBUILT_ISAS) t.true(files.includes(`prebuilds/linux-x64/isa/gmn.glibc.${isa}.node`), `its ${isa} variant ships`);
  }
  for (const f of files) t.false(/^(test|bench|docs|\.ci)\/|\.map$/.test(f), `the tarball leaves out ${f}`);

  // A new project; dependencies from npm's cache where it has them (the network only for what it lacks).
  const app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module', private: true }));
  // Where a prebuilt addon ships, no compiler may be needed: none is on PATH. Elsewhere it builds.
  const installEnv = prebuiltHere ? { PATH: pathWithoutCompilers(join(dir, 'bin')) } : { GMN_CUDA: '0' };
  const install = run('npm', ['install', '--foreground-scripts', '--prefer-offline', '--no-audit', '--no-fund', join(dir, info.filename)], { cwd: app, env: installEnv });
  t.is(install.code, 0, `npm install of the tarball failed:\n${install.out}\n${install.err}`);
  if (prebuiltHere) t.regex(install.out + install.err, /using the prebuilt addon prebuilds\/linux-x64\/gmn\.glibc\.node/);

  const doctor = run('npx', ['gmn', 'doctor'], { cwd: app });
  t.is(doctor.code, 0, doctor.err);
  t.regex(doctor.out, /CPU/);
  t.regex(doctor.out, prebuiltHere ? /addon: prebuilt/ : /addon: built here/);
  if (prebuiltHere) {
    // The variant for this CPU's widest instruction set, and the baseline build when asked for it.
    const isa = prebuiltIsa(cpuFlags(), undefined);
    t.regex(doctor.out, isa ? new RegExp(`addon: prebuilt .*isa/gmn\\.glibc\\.${isa}\\.node\\)`) : /addon: prebuilt .*linux-x64\/gmn\.glibc\.node\)/);
    if (isa) t.regex(doctor.out, new RegExp(`CPU: usable, .* ${isa} kernels`));
    const generic = run('npx', ['gmn', 'doctor'], { cwd: app, env: { GMN_CPU: 'generic' } });
    t.regex(generic.out, /addon: prebuilt .*linux-x64\/gmn\.glibc\.node\)/);
    t.regex(generic.out, /CPU: usable, .* generic kernels/);
  }
  t.is(run('npx', ['gmn', '--help'], { cwd: app }).code, 0);

  writeFileSync(
    join(app, 'check.mjs'),
    `import { backends, loadModel, trainGMN, GMN, evaluate, generate } from 'gmn';
const [cpu] = backends();
const model = new GMN({ architecture: 'fc', latent: 2, stateSize: 8, keySize: 4, hops: 1, episodeLength: 3, batchSize: 2 }, { device: 'cpu' });
const { images } = await generate(model, { n: 2 });
console.log(JSON.stringify({ cpu: cpu.name, images: images.length, api: [typeof loadModel, typeof trainGMN, typeof evaluate] }));
`,
  );
  const esm = run(process.execPath, ['check.mjs'], { cwd: app });
  t.is(esm.code, 0, esm.err);
  t.deepEqual(JSON.parse(esm.out), { cpu: 'cpu', images: 2 * 784, api: ['function', 'function', 'function'] });

  writeFileSync(
    join(app, 'check.ts'),
    `import { GMN, trainGMN, type GMNConfig, type TrainOptions, type EvaluateResult } from 'gmn';
const config: Partial<GMNConfig> = { latent: 2 };
const options: TrainOptions = { data: 'omniglot', steps: 2, model: config };
const rows = (r: EvaluateResult): number => r.rows.length;
export const used = [GMN, trainGMN, options, rows];
`,
  );
  const tsc = require.resolve('typescript/bin/tsc');
  const types = run(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--typeRoots', join(root, 'node_modules', '@types'), '--types', 'node', 'check.ts'], { cwd: app });
  t.is(types.code, 0, `the types do not compile:\n${types.out}${types.err}`);

  if (prebuiltHere) {
    // Asked to, the install builds from source instead (here CPU-only, to keep the test short).
    const rebuild = run('npm', ['rebuild', 'gmn', '--foreground-scripts'], { cwd: app, env: { GMN_BUILD_FROM_SOURCE: '1', GMN_CUDA: '0' } });
    t.is(rebuild.code, 0, `npm rebuild gmn from source failed:\n${rebuild.out}\n${rebuild.err}`);
    const built = run('npx', ['gmn', 'doctor'], { cwd: app });
    t.regex(built.out, /addon: built here .*build[/\\]Release[/\\]gmn\.node/);
    t.regex(built.out, /CUDA: not compiled in|CUDA: .*GMN_CUDA=0/);
  }

  if (!GMN_DATA) {
    t.log('two-step trainGMN skipped: GMN_DATA is not set');
    return;
  }
  writeFileSync(
    join(app, 'train.mjs'),
    `import { trainGMN } from 'gmn';
const r = await trainGMN({ data: process.env.GMN_DATA, steps: 2, validateEvery: 0, model: { architecture: 'fc', latent: 4, stateSize: 8, keySize: 8, hops: 1, episodeLength: 4, batchSize: 2 } });
console.log(JSON.stringify({ steps: r.steps, loss: r.lastLoss }));
`,
  );
  const train = run(process.execPath, ['train.mjs'], { cwd: app, env: { GMN_DATA } });
  t.is(train.code, 0, train.err);
  const result = JSON.parse(train.out.trim().split('\n').pop()!) as { steps: number; loss: number };
  t.is(result.steps, 2);
  t.true(Number.isFinite(result.loss) && result.loss > 0);
});

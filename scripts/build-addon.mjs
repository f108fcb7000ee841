#!/usr/bin/env node
// Builds the native addon (run by `npm install` and `npm run build`).
//   at install, a prebuilt addon for this platform (prebuilds/, packed by scripts/prebuild.mjs)
//                  that loads here -> no build, unless asked to build from source: GMN_BUILD_FROM_SOURCE=1,
//                  `npm install --build-from-source`, or any of the GMN_CUDA, GMN_NATIVE, GMN_MARCH options
//   cmake on PATH  -> cmake-js: CPU backend, plus CUDA when nvcc is found
//   no cmake       -> node-gyp with binding.gyp: CPU backend only
// GMN_CUDA=0 forces a CPU-only build; GMN_CUDA=1 fails unless the CUDA backend can be built.
// GMN_NATIVE=0 builds the CPU kernels for the generic instruction set (no -march=native);
// GMN_MARCH=<-march value> for that one (x86-64-v3, x86-64-v4: the prebuilt variants).
// GMN_CUDA_EMULATION=1 builds the test variant into build-emulation/ (beside build/, which it leaves
// alone): the CUDA kernels compiled by the host compiler against native/emulation, which runs the
// CUDA execution model on the CPU. Load it with GMN_ADDON=build-emulation/Release/gmn.node.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);

function flag(name) {
  const v = (process.env[name] ?? '').trim().toLowerCase();
  if (v === '' || v === 'auto') return 'AUTO';
  if (['0', 'off', 'false', 'no'].includes(v)) return 'OFF';
  if (['1', 'on', 'true', 'yes'].includes(v)) return 'ON';
  fail(`${name} must be 0, 1 or auto, not "${process.env[name]}"`);
}

function fail(message) {
  console.error(`gmn: ${message}`);
  process.exit(1);
}

function onPath(command) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir, command);
    try {
      if (dir && statSync(file).isFile()) return file;
    } catch {}
  }
  return null;
}

function run(command, args) {
  console.log(`gmn: ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: process.env });
  if (result.error) fail(`could not run ${command}: ${result.error.message}`);
  if (result.status !== 0) fail(`the addon build failed (${path.basename(command)} exited with ${result.status}); see the output above`);
}

/** A prebuilt addon of prebuilds/<platform>-<arch>/ that loads in a fresh Node.js, or null. */
function loadablePrebuilt() {
  const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  let files;
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.node'));
  } catch {
    return null;
  }
  for (const f of files) {
    const file = path.join(dir, f);
    const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { stdio: 'ignore' });
    if (r.status === 0) return file;
  }
  return null;
}

const askedForSource =
  ['1', 'true', 'yes'].includes((process.env.GMN_BUILD_FROM_SOURCE ?? '').toLowerCase()) ||
  process.env.npm_config_build_from_source === 'true' ||
  ['GMN_CUDA', 'GMN_NATIVE', 'GMN_MARCH', 'GMN_CUDA_EMULATION'].some((v) => (process.env[v] ?? '') !== '');
if (process.env.npm_lifecycle_event === 'install' && !askedForSource) {
  const prebuilt = loadablePrebuilt();
  if (prebuilt) {
    console.log(`gmn: using the prebuilt addon ${path.relative(root, prebuilt)} (GMN_BUILD_FROM_SOURCE=1 builds from source)`);
    process.exit(0);
  }
}

const cuda = flag('GMN_CUDA');
const native = flag('GMN_NATIVE') === 'OFF' ? 'OFF' : 'ON';
const march = (process.env.GMN_MARCH ?? '').trim();
if (!/^[a-z0-9_.-]*$/i.test(march)) fail(`GMN_MARCH must be a -march value such as x86-64-v3, not "${march}"`);
const cpuFlags = [`--CDGMN_NATIVE=${native}`, `--CDGMN_MARCH=${march}`];

if (flag('GMN_CUDA_EMULATION') === 'ON') {
  if (!onPath('cmake')) fail('GMN_CUDA_EMULATION=1 needs cmake, which is not on PATH.');
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  run(process.execPath, [cmakeJs, 'rebuild', '--out', 'build-emulation', '--CDGMN_CUDA_EMULATION=ON', ...cpuFlags]);
  process.exit(0);
}
// A stale build (from the other builder) could leave a second .node file for node-gyp-build to find.
rmSync(path.join(root, 'build'), { recursive: true, force: true });

if (onPath('cmake')) {
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  run(process.execPath, [cmakeJs, 'rebuild', `--CDGMN_CUDA=${cuda}`, ...cpuFlags]);
} else {
  if (cuda === 'ON') fail('GMN_CUDA=1 needs cmake to build the CUDA backend, and cmake is not on PATH. Install cmake, or unset GMN_CUDA.');
  console.log('gmn: cmake is not on PATH; building the CPU backend with node-gyp (binding.gyp)');
  // npm points npm_config_node_gyp at its bundled node-gyp, which builds offline against the
  // Node headers npm is configured with.
  const bundled = process.env.npm_config_node_gyp;
  if (bundled && existsSync(bundled)) run(process.execPath, [bundled, 'rebuild']);
  else if (onPath('node-gyp')) run(onPath('node-gyp'), ['rebuild']);
  else fail('neither cmake nor node-gyp was found. Install cmake (recommended) or node-gyp, then run `npm run build`.');
}

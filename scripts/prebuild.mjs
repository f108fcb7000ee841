// `npm pack` (prepack): packs the prebuilt addon for linux-x64 into prebuilds/linux-x64/ with
// prebuildify, where node-gyp-build finds it at load, so that installing the package there needs
// no compiler (scripts/build-addon.mjs uses it when it loads). That one is built for the baseline
// x86-64 instruction set (GMN_NATIVE=0; its GEMM still picks AVX-512 or AVX2 at run time); beside
// it, in prebuilds/linux-x64/isa/, the same addon compiled for x86-64-v3 (AVX2 + FMA) and x86-64-v4
// (AVX-512), which the loader (src/native/binding.ts) picks from the CPU's flags: the compiler
// vectorises the elementwise and convolution kernels for the wider registers only when it may
// assume them. Each has the CUDA backend when this machine can build it. `postpack` (--clean)
// removes prebuilds/ again. Everything it prints goes to stderr, so that `npm pack --json` stays JSON.
// GMN_PREBUILD=0 packs no prebuilt addon; other platforms get none and build from source at install.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { PREBUILT_ISAS, prebuiltVariant } from './prebuilt-isa.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const prebuilds = path.join(root, 'prebuilds');

if (process.argv.includes('--clean')) {
  rmSync(prebuilds, { recursive: true, force: true });
  process.exit(0);
}
if (process.env.GMN_PREBUILD === '0') {
  console.error('gmn: GMN_PREBUILD=0: packing no prebuilt addon');
  process.exit(0);
}
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(`gmn: no prebuilt addon for ${process.platform}-${process.arch}: installs there build from source`);
  process.exit(0);
}

// Built in a copy of the sources, so that the checkout's build/ (which tests running meanwhile
// load) is never touched; prebuildify writes into this checkout's prebuilds/.
const work = mkdtempSync(path.join(os.tmpdir(), 'gmn-prebuild-'));
let status = 1;
try {
  rmSync(prebuilds, { recursive: true, force: true });
  for (const entry of ['native', 'CMakeLists.txt', 'binding.gyp', 'package.json', 'scripts/build-addon.mjs'])
    cpSync(path.join(root, entry), path.join(work, entry), { recursive: true });
  symlinkSync(path.join(root, 'node_modules'), path.join(work, 'node_modules'), 'dir');
  const prebuildify = createRequire(import.meta.url).resolve('prebuildify/bin.js');
  // prebuildify runs its "node-gyp" with node-gyp's arguments; build-addon.mjs ignores them and
  // builds with cmake-js (or node-gyp without cmake) into build/Release, where prebuildify looks.
  const r = spawnSync(
    process.execPath,
    [prebuildify, '--napi', '--strip', '--tag-libc', '--out', root, '--node-gyp', path.join(work, 'scripts', 'build-addon.mjs')],
    { cwd: work, stdio: ['ignore', 2, 2], env: { ...process.env, GMN_NATIVE: '0' } },
  );
  status = r.status ?? 1;
  if (r.error) console.error(`gmn: prebuildify could not run: ${r.error.message}`);
  const base = path.join(prebuilds, 'linux-x64', 'gmn.glibc.node');
  for (const [isa, march] of status === 0 ? PREBUILT_ISAS : []) {
    const v = spawnSync(process.execPath, [path.join(work, 'scripts', 'build-addon.mjs')],
      { cwd: work, stdio: ['ignore', 2, 2], env: { ...process.env, GMN_NATIVE: '0', GMN_MARCH: march } });
    status = v.status ?? 1;
    if (status !== 0) break;
    const out = prebuiltVariant(base, isa);
    mkdirSync(path.dirname(out), { recursive: true });
    cpSync(path.join(work, 'build', 'Release', 'gmn.node'), out);
    spawnSync('strip', ['--strip-all', out], { stdio: 'ignore' }); // as prebuildify --strip; unstripped works too
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (status !== 0) {
  console.error('gmn: building the prebuilt addon failed (see above); GMN_PREBUILD=0 packs without one');
  process.exit(status);
}
console.error(`gmn: packed prebuilds/linux-x64/ (the baseline x86-64 instruction set, and ${PREBUILT_ISAS.map(([, m]) => m).join(', ')})`);

// The CUDA emulation's own checks (test/emulation/emulation_test.cc): the execution model, the
// detection of racy or divergent kernels (a missing barrier gives wrong results, a divergent shuffle
// is reported instead of hanging), and the runtime API's error model. Compiled here with g++.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import test from 'ava';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const hasCompiler = spawnSync('g++', ['--version'], { stdio: 'ignore' }).status === 0;

(hasCompiler ? test : test.skip)(`the emulation's checks pass${hasCompiler ? '' : ' (skipped: g++ is not installed)'}`, (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gmn-emulation-'));
  try {
    const exe = path.join(dir, 'emulation_test');
    const build = spawnSync(
      'g++',
      ['-std=c++17', '-O1', '-Wall', '-Wextra', '-Inative/emulation', '-DGMN_CUDA_EMULATION=1', 'test/emulation/emulation_test.cc', 'native/emulation/emulation.cc', '-o', exe, '-pthread'],
      { cwd: root, encoding: 'utf8' },
    );
    t.is(build.status, 0, build.stderr);
    const run = spawnSync(exe, { encoding: 'utf8', timeout: 120_000 });
    t.log(run.stdout.trim().split('\n').at(-1));
    t.is(run.status, 0, run.stdout + run.stderr);
    t.regex(run.stdout, /^0 check\(s\) failed/m);
    t.notRegex(run.stdout, /^FAIL/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

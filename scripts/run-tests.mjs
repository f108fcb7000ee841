// Runs the ava suite with the TAP reporter, passes its output through, and ends with one line
// "N passed, N failed[, N skipped]" counted from the individual test results. Then, when the CUDA
// emulation build exists (GMN_CUDA_EMULATION=1 npm run build), the op harness runs again against
// it, so that every CUDA kernel is checked against the CPU reference on machines without a GPU;
// without that build, one skipped line says so. The op harness also runs on each other CPU kernel
// path this machine has (GMN_CPU=avx2, generic, ...: see `gmn doctor`). Arguments (test files)
// restrict the first run and skip the others.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
// ava's package exports hide its CLI file; it sits beside the main entry point.
const avaCli = path.join(path.dirname(require.resolve('ava')), 'cli.mjs');
const emulation = path.join(root, 'build-emulation', 'Release', 'gmn.node');

function spawnSyncJson(code) {
  const run = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`could not read the addon's backends: ${run.stderr}`);
  return run.stdout;
}

const counts = { passed: 0, failed: 0, skipped: 0 };

function ava(args, env, label) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [avaCli, '--tap', ...args], { stdio: ['inherit', 'pipe', 'inherit'], env });
    let failedHere = 0;
    const lines = readline.createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      process.stdout.write(line + '\n');
      const m = /^(not ok|ok) \d+ /.exec(line);
      if (!m) return;
      if (/# (SKIP|TODO)\b/.test(line)) counts.skipped += 1;
      else if (m[1] === 'ok') counts.passed += 1;
      else {
        counts.failed += 1;
        failedHere += 1;
      }
    });
    child.on('close', (code, signal) => {
      // A crash of the runner itself (no failing TAP line, non-zero exit) counts as a failure.
      if ((code !== 0 || signal) && failedHere === 0) {
        counts.failed += 1;
        process.stdout.write(`not ok - ${label}: the test runner exited with ${signal ?? code}\n`);
      }
      resolve(code ?? 1);
    });
  });
}

const args = process.argv.slice(2);
let code = await ava(args, process.env, 'the test suite');
if (args.length === 0) {
  const cpu = JSON.parse(
    spawnSyncJson(`const b = require('node-gyp-build')(${JSON.stringify(root)}).backends()[0]; process.stdout.write(JSON.stringify(b))`),
  );
  for (const isa of cpu.isas.filter((i) => i !== cpu.isa)) {
    console.log(`# the op harness on the CPU kernel path ${isa} (GMN_CPU=${isa})`);
    code = (await ava(['test/ops.test.ts'], { ...process.env, GMN_CPU: isa }, `the op harness with GMN_CPU=${isa}`)) || code;
  }
  if (existsSync(emulation)) {
    console.log('# the op harness against the CUDA emulation build (build-emulation/)');
    const env = { ...process.env, GMN_ADDON: emulation };
    code = (await ava(['test/ops.test.ts'], env, 'the op harness under CUDA emulation')) || code;
  } else {
    counts.skipped += 1;
    console.log('ok - the op harness under CUDA emulation # SKIP no emulation build: run GMN_CUDA_EMULATION=1 npm run build first');
  }
}
const tail = counts.skipped > 0 ? `, ${counts.skipped} skipped` : '';
process.stdout.write(`${counts.passed} passed, ${counts.failed} failed${tail}\n`);
process.exit(code !== 0 || counts.failed > 0 ? 1 : 0);

// Runs the ava suite with the TAP reporter, passes its output through, and ends with one line
// "N passed, N failed[, N skipped]" counted from the individual test results.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';

const require = createRequire(import.meta.url);
// ava's package exports hide its CLI file; it sits beside the main entry point.
const avaCli = path.join(path.dirname(require.resolve('ava')), 'cli.mjs');
const child = spawn(process.execPath, [avaCli, '--tap', ...process.argv.slice(2)], {
  stdio: ['inherit', 'pipe', 'inherit'],
});

let passed = 0;
let failed = 0;
let skipped = 0;
const lines = readline.createInterface({ input: child.stdout });
lines.on('line', (line) => {
  process.stdout.write(line + '\n');
  const m = /^(not ok|ok) \d+ /.exec(line);
  if (!m) return;
  if (/# SKIP\b/.test(line)) skipped += 1;
  else if (/# TODO\b/.test(line)) skipped += 1;
  else if (m[1] === 'ok') passed += 1;
  else failed += 1;
});

child.on('close', (code, signal) => {
  // A crash of the runner itself (no TAP lines, non-zero exit) counts as a failure.
  if (code !== 0 && failed === 0) failed += 1;
  const tail = skipped > 0 ? `, ${skipped} skipped` : '';
  process.stdout.write(`${passed} passed, ${failed} failed${tail}\n`);
  process.exit(code ?? (signal ? 1 : 0));
});

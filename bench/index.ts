// `npm run bench -- [name...] [--json FILE]`: microbenchmarks that print our time next to a
// baseline measured in the same run, as a ratio, and write every result, with the machine, as JSON
// (to FILE, default bench-results.json). Machines are shared and noisy: compare ratios, not
// absolute times, except on a dedicated GPU.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';

import { backends, getThreads } from '../src/index.js';
import type { CpuBackendInfo } from '../src/native/binding.js';
import { evalThroughput } from './eval.js';
import { gemm } from './gemm.js';
import { onnxBench } from './onnx.js';
import { ops } from './ops.js';
import { trainStep } from './train-step.js';

const benches: Record<string, () => Promise<unknown>> = {
  gemm,
  'train-step': trainStep,
  ops,
  eval: evalThroughput,
  onnx: onnxBench,
};

const args = process.argv.slice(2);
const at = args.indexOf('--json');
const jsonPath = at >= 0 ? args[at + 1] : 'bench-results.json';
if (at >= 0 && !jsonPath) {
  console.error('--json needs a file name');
  process.exit(2);
}
const wanted = at >= 0 ? [...args.slice(0, at), ...args.slice(at + 2)] : args;
for (const name of wanted) {
  if (!(name in benches)) {
    console.error(`unknown benchmark '${name}'; available: ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
}

/** The CPU as lscpu names it, and the flags that decide which kernels run. */
function machine() {
  let model = os.cpus()[0]?.model ?? 'unknown';
  let flags: string[] = [];
  try {
    const lscpu = execFileSync('lscpu', { encoding: 'utf8' });
    model = /^Model name:\s*(.*)$/m.exec(lscpu)?.[1] ?? model;
    const all = /^Flags:\s*(.*)$/m.exec(lscpu)?.[1]?.split(/\s+/) ?? [];
    flags = all.filter((f) => /^(avx|fma|amx)/.test(f));
  } catch {
    // no lscpu (not Linux): the model from os.cpus() alone
  }
  const cpu = backends()[0] as CpuBackendInfo;
  return { cpu: model, flags, cores: os.cpus().length, threads: getThreads(), kernels: cpu.isa, node: process.version };
}

const results: Record<string, unknown> = {};
for (const name of wanted.length > 0 ? wanted : Object.keys(benches)) {
  console.log(`== ${name}`);
  results[name] = await benches[name]();
}
writeFileSync(jsonPath, JSON.stringify({ date: new Date().toISOString(), machine: machine(), results }, null, 2) + '\n');
console.log(`results: ${jsonPath}`);

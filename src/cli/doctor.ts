// `gmn doctor`: which backends this build has, and why CUDA is or is not usable.
import path from 'node:path';

import { addonFile, loadBinding, type CudaBackendInfo } from '../native/binding.js';
import { parseFlags } from './flags.js';

function version(v: number | undefined): string {
  if (!v) return 'none';
  return `${Math.floor(v / 1000)}.${Math.floor((v % 1000) / 10)}`;
}

export function describeCuda(cuda: CudaBackendInfo): string[] {
  if (!cuda.compiled) return [`CUDA: ${cuda.reason}`];
  const lines = [
    `CUDA: compiled in, ${cuda.usable ? 'usable' : 'unusable'}${cuda.emulated ? ' (emulated on the CPU, for tests)' : ''}`,
    `  driver ${version(cuda.driverVersion)}, runtime ${version(cuda.runtimeVersion)}`,
  ];
  if (!cuda.usable) lines.push(`  reason: ${cuda.reason}`);
  for (const d of cuda.devices) {
    lines.push(
      `  device ${d.index}: ${d.name}, compute capability ${d.computeCapability}, ` +
        `${(d.totalMemory / 2 ** 30).toFixed(1)} GiB, ${d.multiprocessors} SMs`,
    );
  }
  return lines;
}

export const doctorUsage = `usage: gmn doctor [--json]

Says which addon file is loaded (prebuilt, or built here), which backends it has, whether each is
usable here, and why not.

  --json                  the same as JSON
`;

export function doctor(args: string[]): number {
  const { values } = parseFlags('doctor', args, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    process.stdout.write(doctorUsage);
    return 0;
  }
  const [cpu, cuda] = loadBinding().backends();
  if (values.json) {
    console.log(JSON.stringify({ node: process.version, addon: addonFile(), backends: [cpu, cuda] }, null, 2));
    return 0;
  }
  console.log(`node ${process.version} on ${process.platform}-${process.arch}`);
  const file = addonFile() ?? '';
  const prebuilt = file.split(path.sep).includes('prebuilds');
  console.log(`addon: ${prebuilt ? 'prebuilt' : 'built here'} (${file})`);
  console.log(`CPU: usable, ${cpu.threads} threads, ${cpu.isa} kernels (this CPU runs ${cpu.isas.join(', ')})`);
  if (cpu.isaNote) console.log(`  note: ${cpu.isaNote}`);
  for (const line of describeCuda(cuda)) console.log(line);
  console.log(`default device: ${cuda.usable && !cuda.emulated ? 'cuda' : 'cpu'}`);
  return 0;
}

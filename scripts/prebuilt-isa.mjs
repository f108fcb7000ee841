// The prebuilt addon's instruction-set variants: which there are, where they lie beside the
// baseline build, and which one a CPU runs. scripts/prebuild.mjs builds them; the loader
// (src/native/binding.ts) picks one. Shipped in the package.
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** [kernels (as GMN_CPU names them), the -march they are compiled for], widest first. */
export const PREBUILT_ISAS = [
  ['avx512', 'x86-64-v4'],
  ['avx2', 'x86-64-v3'],
];

// The /proc/cpuinfo flags each -march level assumes (GCC's x86-64-v3 and v4; lzcnt shows as abm).
const V3 = ['avx', 'avx2', 'bmi1', 'bmi2', 'f16c', 'fma', 'abm', 'movbe', 'xsave'];
const NEEDS = { avx2: V3, avx512: [...V3, 'avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl'] };

/** The file of variant `isa` of the prebuilt addon `base` (prebuilds/<platform>/<name>.node). */
export function prebuiltVariant(base, isa) {
  return path.join(path.dirname(base), 'isa', `${path.basename(base, '.node')}.${isa}.node`);
}

/**
 * The widest variant a CPU with `flags` runs, but none wider than `request` (GMN_CPU: avx512, avx2
 * or generic; anything else asks for nothing); null for the baseline build.
 */
export function prebuiltIsa(flags, request) {
  const order = PREBUILT_ISAS.map(([isa]) => isa);
  const start = request === 'generic' ? order.length : Math.max(0, order.indexOf(request));
  return order.slice(start).find((isa) => NEEDS[isa].every((f) => flags.has(f))) ?? null;
}

/** This CPU's flags as Linux reports them (only the features the kernel enabled); empty elsewhere. */
export function cpuFlags() {
  try {
    const line = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return new Set(line ? line[1].trim().split(/\s+/) : []);
  } catch {
    return new Set();
  }
}

// Which prebuilt variant of the addon a CPU loads (scripts/prebuilt-isa.mjs): the widest its flags
// allow, never wider than GMN_CPU asks, and the baseline build where no variant fits.
import test from 'ava';
import path from 'node:path';

import { prebuiltIsa, prebuiltVariant } from '../scripts/prebuilt-isa.mjs';

const V3 = 'fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt avx avx2 bmi1 bmi2 f16c fma abm movbe xsave'.split(' ');
const avx2Cpu = new Set(V3);
const avx512Cpu = new Set([...V3, 'avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl', 'avx512vnni']);

test('the widest variant the CPU runs, unless GMN_CPU asks for a narrower one', (t) => {
  t.is(prebuiltIsa(avx512Cpu, undefined), 'avx512');
  t.is(prebuiltIsa(avx512Cpu, 'avx2'), 'avx2');
  t.is(prebuiltIsa(avx512Cpu, 'generic'), null);
  t.is(prebuiltIsa(avx512Cpu, 'something-else'), 'avx512');
  t.is(prebuiltIsa(avx2Cpu, undefined), 'avx2');
  t.is(prebuiltIsa(avx2Cpu, 'avx512'), 'avx2', 'a request the CPU cannot run falls back');
});

test('a CPU missing one feature a level assumes gets the level below', (t) => {
  const noBw = new Set([...avx512Cpu].filter((f) => f !== 'avx512bw'));
  t.is(prebuiltIsa(noBw, undefined), 'avx2');
  const noFma = new Set([...avx2Cpu].filter((f) => f !== 'fma'));
  t.is(prebuiltIsa(noFma, undefined), null);
  t.is(prebuiltIsa(new Set(), undefined), null, 'no flags (not Linux): the baseline build');
});

test('variants lie in isa/ beside the baseline build, where node-gyp-build does not look', (t) => {
  const base = path.join('pkg', 'prebuilds', 'linux-x64', 'gmn.glibc.node');
  t.is(prebuiltVariant(base, 'avx2'), path.join('pkg', 'prebuilds', 'linux-x64', 'isa', 'gmn.glibc.avx2.node'));
});

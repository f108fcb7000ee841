// Regenerates a golden fixture: a freshly initialised gmn model (seeded) is saved as a checkpoint,
// the PyTorch reference computes the loss terms and every gradient from those weights, and the
// fixture keeps the inputs, outputs and gradients. The weights themselves are dropped (the test
// re-creates them from the seed) and replaced by per-tensor checksums, which keeps the file small.
//   npx tsx bench/reference/make-golden.ts CONFIG.json OUT.safetensors SEED
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { GMN } from '../../src/model/gmn.js';
import { saveCheckpoint } from '../../src/train/checkpoint.js';
import { encodeSafetensors, readSafetensors, writeFileAtomic, type NamedArray } from '../../src/train/safetensors.js';

/** Sum and sum of squares of a tensor, in float64: enough to tell whether two weight sets are the same. */
export function checksum(data: Float32Array): [number, number] {
  let s = 0;
  let q = 0;
  for (const v of data) {
    s += v;
    q += v * v;
  }
  return [s, q];
}

async function main(): Promise<void> {
  const [configFile, out, seedText] = process.argv.slice(2);
  if (!configFile || !out || seedText === undefined) {
    console.error('usage: tsx bench/reference/make-golden.ts CONFIG.json OUT.safetensors SEED');
    process.exit(2);
  }
  const seed = Number(seedText);
  const model = new GMN(JSON.parse(readFileSync(configFile, 'utf8')), { device: 'cpu', seed });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gmn-golden-'));
  const weights = path.join(dir, 'weights.safetensors');
  const full = path.join(dir, 'full.safetensors');
  await saveCheckpoint(weights, model);
  const python = process.env.GMN_PYTHON ?? 'python3';
  const script = path.join(import.meta.dirname, 'gmn_reference.py');
  const r = spawnSync(python, [script, 'golden', '--config', configFile, '--weights', weights, '--out', full, '--seed', seedText], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`the reference failed (exit ${r.status}); set GMN_PYTHON to a python3 with torch`);

  const { tensors, metadata } = readSafetensors(full);
  const kept = new Map<string, NamedArray>();
  const sums: Record<string, [number, number]> = {};
  for (const [name, value] of model.params.values) {
    const ours = await value.read();
    const theirs = tensors.get(`param.${name}`)?.data;
    if (!theirs || theirs.some((v, i) => v !== ours[i])) throw new Error(`the reference did not use our weights for ${name}`);
    sums[name] = checksum(ours);
  }
  for (const [name, t] of tensors) if (!name.startsWith('param.')) kept.set(name, t);
  writeFileAtomic(out, encodeSafetensors(kept, { ...metadata, weights: JSON.stringify({ seed, checksums: sums }) }));
  console.log(`wrote ${out}`);
  model.dispose();
}

if (process.argv[1] && import.meta.filename === path.resolve(process.argv[1])) await main();

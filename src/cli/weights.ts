// `gmn export-weights CHECKPOINT --out FILE`: the weights of a training checkpoint alone (no
// optimizer or sampler state), the file `--checkpoint` and `loadModel` read.
import { statSync } from 'node:fs';

import { saveWeights } from '../model/load.js';
import { loadModelFlags, parseFlags, UsageError } from './flags.js';

export const weightsUsage = `usage: gmn export-weights CHECKPOINT --out FILE

Writes the model weights of CHECKPOINT (from gmn train) to FILE, float32 safetensors, with the
model config and what the checkpoint says of its training (image variant, step, seed).
`;

export async function exportWeightsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('export-weights', args, { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, true);
  if (values.help) {
    process.stdout.write(weightsUsage);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('gmn export-weights: pass one CHECKPOINT file (gmn export-weights --help)');
  if (!values.out) throw new UsageError('gmn export-weights: --out FILE is required (where to write the weights)');
  const { model } = await loadModelFlags('export-weights', { checkpoint: positionals[0] });
  const { variant, step, seed } = model.info as { variant?: string; step?: number; seed?: number };
  await saveWeights(values.out, model, { variant: variant ?? 'gmn-binary', steps: step, seed });
  console.log(`gmn export-weights: ${values.out} (${(statSync(values.out).size / 2 ** 20).toFixed(2)} MiB, step ${step ?? 'unknown'})`);
  return 0;
}

// Loading a trained model (a training checkpoint or a weights-only file), writing a weights-only
// file, and the default model that ships with the package.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { loadCheckpoint, saveCheckpoint } from '../train/checkpoint.js';
import type { OmniglotVariant } from '../data/omniglot.js';
import { GMN, type GMNOptions } from './gmn.js';

/** The default model: trained by `gmn train` on the gmn-binary images (models/README.md). */
export const DEFAULT_MODEL = fileURLToPath(new URL('../../models/default.safetensors', import.meta.url));

/**
 * A ready model from `file` (default: the package's default model): a checkpoint written by
 * `gmn train` or a weights-only file from `saveWeights`. The file's config decides the model's;
 * what it says of its training (for example the image variant) is in `model.info`. Throws an Error
 * naming the file and what is wrong with it (missing, truncated, a tensor of another shape).
 */
export async function loadModel(file: string = DEFAULT_MODEL, options: Omit<GMNOptions, 'seed'> = {}): Promise<GMN> {
  if (typeof file !== 'string' || file === '') throw new TypeError(`Expected a file path for file but received ${JSON.stringify(file)}`);
  if (!existsSync(file)) {
    throw new Error(file === DEFAULT_MODEL ? `the default model is not installed (${file} is missing); pass a checkpoint file instead` : `model file not found: ${file}`);
  }
  const ckpt = loadCheckpoint(file);
  const values = new Map<string, Float32Array>();
  for (const [name, t] of ckpt.params) {
    for (let i = 0; i < t.data.length; i++) {
      if (!Number.isFinite(t.data[i])) throw new Error(`${file} is not a usable gmn model: ${name} holds a non-finite value at ${i}`);
    }
    values.set(name, t.data);
  }
  const model = new GMN(ckpt.config, options, values);
  model.info = { file, ...(ckpt.training ?? {}) };
  return model;
}

/** The Omniglot variant the model was trained on, as its file says; 'gmn-binary' when it does not say. */
export function modelVariant(model: GMN): OmniglotVariant {
  const v = model.info.variant;
  return v === 'greyscale' ? 'greyscale' : 'gmn-binary';
}

/**
 * Writes the model's weights alone (float32 safetensors, no optimizer state), loadable by
 * `loadModel`; `training` (JSON) goes into the metadata, e.g. { variant, steps }.
 */
export async function saveWeights(file: string, model: GMN, training: Record<string, unknown> = {}): Promise<void> {
  await saveCheckpoint(file, model, undefined, training);
}

// Checkpoints: one safetensors file with the weights (named as in docs/model.md, so PyTorch's and
// Hugging Face's loaders read them), the optimizer state ('optim.<slot>.<param>'), and in the
// metadata the model config, optimizer config and step, and the training state needed to resume
// exactly (sampler state, noise seed, options).
import type { GMN } from '../model/gmn.js';
import { resolveConfig, type GMNConfig } from '../model/config.js';
import { parameterSpecs } from '../model/parameters.js';
import type { Optimizer, OptimizerConfig } from './optimizer.js';
import { encodeSafetensors, readSafetensors, writeFileAtomic, type NamedArray } from './safetensors.js';

export const CHECKPOINT_FORMAT = 'gmn-checkpoint';
export const CHECKPOINT_VERSION = 1;

export interface Checkpoint {
  config: GMNConfig;
  params: Map<string, NamedArray>;
  optimizer?: { config: OptimizerConfig; step: number; state: Map<string, NamedArray> };
  /** Free-form training state (JSON), e.g. the sampler state and the options of the run. */
  training?: Record<string, unknown>;
}

export async function saveCheckpoint(file: string, model: GMN, optimizer?: Optimizer, training?: Record<string, unknown>): Promise<void> {
  const tensors = new Map<string, NamedArray>();
  for (const [name, t] of model.params.values) tensors.set(name, { shape: t.shape, data: await t.read() });
  if (optimizer) for (const [name, t] of optimizer.state) tensors.set(`optim.${name}`, { shape: t.shape, data: await t.read() });
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    version: String(CHECKPOINT_VERSION),
    config: JSON.stringify(model.config),
  };
  if (optimizer) metadata.optimizer = JSON.stringify({ config: optimizer.config, step: optimizer.step });
  if (training) metadata.training = JSON.stringify(training);
  writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}

/** Reads and checks a checkpoint: format, config, and every parameter's name and shape. */
export function loadCheckpoint(file: string): Checkpoint {
  const { tensors, metadata } = readSafetensors(file);
  const bad = (why: string): never => {
    throw new Error(`${file} is not a usable gmn checkpoint: ${why}`);
  };
  if (metadata.format !== CHECKPOINT_FORMAT) bad(`its metadata.format is ${JSON.stringify(metadata.format)}, not "${CHECKPOINT_FORMAT}"`);
  if (metadata.version !== String(CHECKPOINT_VERSION)) bad(`it has version ${metadata.version}; this gmn reads version ${CHECKPOINT_VERSION}`);
  const parse = (key: string) => {
    try {
      return JSON.parse(metadata[key]) as unknown;
    } catch {
      return bad(`its metadata.${key} is not JSON`);
    }
  };
  let config: GMNConfig;
  try {
    config = resolveConfig(parse('config') as Partial<GMNConfig>, 'checkpoint config');
  } catch (err) {
    return bad((err as Error).message);
  }
  const params = new Map<string, NamedArray>();
  const problems: string[] = [];
  for (const spec of parameterSpecs(config)) {
    const t = tensors.get(spec.name);
    if (!t) problems.push(`missing ${spec.name} [${spec.shape}]`);
    else if (t.shape.join() !== spec.shape.join()) problems.push(`${spec.name} has shape [${t.shape}], the config needs [${spec.shape}]`);
    else params.set(spec.name, t);
  }
  const known = new Set(parameterSpecs(config).map((s) => s.name));
  for (const name of tensors.keys()) if (!name.startsWith('optim.') && !known.has(name)) problems.push(`unexpected tensor ${name}`);
  if (problems.length > 0) bad(problems.join('; '));

  const result: Checkpoint = { config, params };
  if (metadata.optimizer) {
    const o = parse('optimizer') as { config: OptimizerConfig; step: number };
    const state = new Map<string, NamedArray>();
    for (const [name, t] of tensors) if (name.startsWith('optim.')) state.set(name.slice('optim.'.length), t);
    result.optimizer = { config: o.config, step: o.step, state };
  }
  if (metadata.training) result.training = parse('training') as Record<string, unknown>;
  return result;
}

/** Copies checkpoint values into a model (and optimizer) whose config matches. */
export async function restoreInto(ckpt: Checkpoint, model: GMN, optimizer?: Optimizer): Promise<void> {
  const diff = Object.entries(model.config).filter(([k, v]) => ckpt.config[k as keyof GMNConfig] !== v);
  if (diff.length > 0) {
    throw new Error(
      `the checkpoint's config differs from the model's: ${diff.map(([k, v]) => `${k} is ${JSON.stringify(ckpt.config[k as keyof GMNConfig])} in the checkpoint, ${JSON.stringify(v)} here`).join('; ')}`,
    );
  }
  for (const [name, t] of ckpt.params) await model.params.value(name).write(t.data);
  if (optimizer) {
    if (!ckpt.optimizer) throw new Error('the checkpoint has no optimizer state to resume from');
    if (ckpt.optimizer.config.kind !== optimizer.config.kind)
      throw new Error(`the checkpoint's optimizer is ${ckpt.optimizer.config.kind}, this run uses ${optimizer.config.kind}`);
    for (const [name, t] of optimizer.state) {
      const saved = ckpt.optimizer.state.get(name);
      if (!saved) throw new Error(`the checkpoint has no optimizer state ${name}`);
      await t.write(saved.data);
    }
    optimizer.step = ckpt.optimizer.step;
  }
}

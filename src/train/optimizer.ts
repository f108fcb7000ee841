// Optimizers whose state lives in native tensors; each update is one fused native call over all
// parameters.
import { checkNumber, checkOneOf, typeError } from '../errors.js';
import type { NativeBinding, NativeTensor } from '../native/binding.js';
import type { Parameters } from '../model/parameters.js';

export interface OptimizerConfig {
  /** 'adam' (the paper's), 'adamw' (decoupled weight decay) or 'sgd' (with momentum). Default 'adam'. */
  kind: 'adam' | 'adamw' | 'sgd';
  /** Adam's beta1. Default 0.9. */
  beta1: number;
  /** Adam's beta2. Default 0.99 (the paper's). */
  beta2: number;
  /** Adam's epsilon. Default 1e-8. */
  eps: number;
  /** L2 penalty (adam, sgd) or decoupled decay (adamw). Default 0. */
  weightDecay: number;
  /** SGD momentum, in [0, 1). Default 0.9. */
  momentum: number;
}

export const defaultOptimizer: Readonly<OptimizerConfig> = Object.freeze({
  kind: 'adam',
  beta1: 0.9,
  beta2: 0.99,
  eps: 1e-8,
  weightDecay: 0,
  momentum: 0.9,
});

export function resolveOptimizer(partial: Partial<OptimizerConfig> = {}, name = 'optimizer'): OptimizerConfig {
  if (typeof partial !== 'object' || partial === null) throw typeError(name, 'an object', partial);
  const c = { ...defaultOptimizer, ...partial };
  checkOneOf(`${name}.kind`, c.kind, ['adam', 'adamw', 'sgd'] as const);
  checkNumber(`${name}.beta1`, c.beta1, 0, 0.999999);
  checkNumber(`${name}.beta2`, c.beta2, 0, 0.999999);
  checkNumber(`${name}.eps`, c.eps, Number.MIN_VALUE);
  checkNumber(`${name}.weightDecay`, c.weightDecay, 0);
  checkNumber(`${name}.momentum`, c.momentum, 0, 0.999999); // the native update needs momentum < 1
  return c;
}

export class Optimizer {
  /** State tensors by name: 'm.<param>', 'v.<param>' (Adam) or 'velocity.<param>' (SGD). */
  readonly state = new Map<string, NativeTensor>();
  /** Updates applied so far. */
  step = 0;
  private readonly names: string[];

  constructor(
    readonly config: OptimizerConfig,
    private readonly params: Parameters,
    private readonly b: NativeBinding,
  ) {
    this.names = params.specs.map((s) => s.name);
    const slots = config.kind === 'sgd' ? ['velocity'] : ['m', 'v'];
    for (const name of this.names) {
      const value = params.value(name);
      for (const slot of slots) this.state.set(`${slot}.${name}`, b.createTensor(value.shape, value.device));
    }
  }

  /** Applies one update with learning rate `lr`, gradients multiplied by `gradScale` (clipping). */
  async update(lr: number, gradScale = 1): Promise<void> {
    const values = this.names.map((n) => this.params.value(n));
    const grads = this.names.map((n) => this.params.grads.get(n)!);
    const slot = (s: string) => this.names.map((n) => this.state.get(`${s}.${n}`)!);
    const c = this.config;
    if (c.kind === 'sgd') {
      await this.b.sgdUpdate(values, grads, slot('velocity'), lr, c.momentum, c.weightDecay, gradScale);
    } else {
      const step = this.step + 1;
      await this.b.adamUpdate({
        params: values,
        grads,
        m: slot('m'),
        v: slot('v'),
        lr,
        beta1: c.beta1,
        beta2: c.beta2,
        eps: c.eps,
        weightDecay: c.weightDecay,
        decoupled: c.kind === 'adamw',
        step,
        gradScale,
      });
    }
    this.step += 1;
  }

  dispose(): void {
    for (const t of this.state.values()) t.dispose();
  }
}

// A small tape over the native ops: the forward pass records, for each op, how to push gradients
// back; backward() replays those records in reverse. Gradients of intermediate values are created
// zero-filled on first use and always accumulated into, so a value used twice gets both
// contributions. Everything the tape created is freed by dispose().
import type { DeviceName, NativeBinding, NativeTensor } from './native/binding.js';

export class Var {
  private gradTensor: NativeTensor | null = null;

  constructor(
    readonly value: NativeTensor,
    readonly requiresGrad: boolean,
    private readonly tape: Tape | null,
    /** For a reshape view: the variable it views (gradients go to its gradient). */
    private readonly base: Var | null = null,
    gradTensor: NativeTensor | null = null,
  ) {
    this.gradTensor = gradTensor;
  }

  get shape(): number[] {
    return this.value.shape;
  }

  /** The gradient buffer, created zero-filled on first use; null when no gradient is wanted. */
  grad(): NativeTensor | null {
    if (!this.requiresGrad) return null;
    if (this.gradTensor) return this.gradTensor;
    if (this.base) this.gradTensor = this.tape!.own(this.base.grad()!.reshape(this.shape));
    else this.gradTensor = this.tape!.own(this.tape!.b.createTensor(this.shape, this.value.device));
    return this.gradTensor;
  }
}

type Backward = () => void;

export class Tape {
  private readonly steps: Backward[] = [];
  private readonly owned: NativeTensor[] = [];
  private pending: Promise<unknown>[] = [];

  constructor(
    readonly b: NativeBinding,
    readonly device: DeviceName,
  ) {}

  own<T extends NativeTensor>(t: T): T {
    this.owned.push(t);
    return t;
  }

  /** A new zero-filled tensor freed with the tape. */
  tensor(shape: number[]): NativeTensor {
    return this.own(this.b.createTensor(shape, this.device));
  }

  /** Input data: no gradient. */
  constant(data: Float32Array, shape: number[]): Var {
    return new Var(this.own(this.b.createTensor(shape, this.device, data)), false, this);
  }

  /** The result of an op over `inputs`: it needs a gradient if any input does. */
  result(value: NativeTensor, inputs: Var[]): Var {
    return new Var(value, inputs.some((v) => v.requiresGrad), this);
  }

  /** A view of `v` with another shape; its gradient is the same view of v's gradient. */
  reshape(v: Var, shape: number[]): Var {
    return new Var(this.own(v.value.reshape(shape)), v.requiresGrad, this, v);
  }

  /**
   * Native work is queued, not awaited: the addon runs it in issue order, so the JS thread can issue
   * a whole step without waiting. sync() waits for all of it and reports the first failure.
   */
  enqueue(work: Promise<unknown>): void {
    work.catch(() => {}); // reported by sync(); this only avoids an unhandled-rejection warning
    this.pending.push(work);
  }

  async sync(): Promise<void> {
    const pending = this.pending;
    this.pending = [];
    await Promise.all(pending);
  }

  /** Records how to push gradients back through an op (only when one of its inputs needs them). */
  record(output: Var, backward: Backward): void {
    if (output.requiresGrad) this.steps.push(backward);
  }

  /** Queues every recorded backward step, last first, and waits for them. Seed the output gradient first. */
  async backward(): Promise<void> {
    for (let i = this.steps.length - 1; i >= 0; i--) this.steps[i]();
    await this.sync();
  }

  dispose(): void {
    for (const t of this.owned) t.dispose();
    this.owned.length = 0;
    this.steps.length = 0;
  }
}

/** A trainable parameter: its value and gradient live as long as the model. */
export function parameterVar(value: NativeTensor, grad: NativeTensor): Var {
  return new Var(value, true, null, null, grad);
}

// A small tape over the native ops: the forward pass records, for each op, how to push gradients
// back; backward() replays those records in reverse. The first backward op to reach a value's
// gradient overwrites it (no zero-fill, no read of zeros) and later ones add to it, so a value used
// twice gets both contributions; a recorded op whose output gradient nothing wrote (it is zero) is
// skipped, and a gradient passed on unchanged (an add's) may be adopted instead of copied.
// Everything the tape created is freed by dispose().
import type { DeviceName, NativeBinding, NativeTensor } from './native/binding.js';

export class Var {
  private gradTensor: NativeTensor | null = null;
  /** Whether a backward op has written the gradient (of the viewed variable, for a view) yet. */
  private written = false;
  /**
   * How many ops (and reshape views) take this variable as an input, counted on the root: an add
   * shares its gradient buffer with inputs it alone reads, so every op lists all its inputs in
   * Tape.result.
   */
  uses = 0;

  constructor(
    readonly value: NativeTensor,
    readonly requiresGrad: boolean,
    private readonly tape: Tape,
    /** For a reshape view: the variable it views (gradients go to its gradient). */
    private readonly base: Var | null = null,
    gradTensor: NativeTensor | null = null,
  ) {
    this.gradTensor = gradTensor;
  }

  get shape(): number[] {
    return this.value.shape;
  }

  /** The variable whose gradient this one's is: itself, or for a view the variable it views. */
  get root(): Var {
    return this.base ? this.base.root : this;
  }

  /** Whether some backward op has written this gradient; until then it is zero (and its buffer unspecified). */
  get gradWritten(): boolean {
    return this.root.written;
  }

  set gradWritten(written: boolean) {
    this.root.written = written;
  }

  /**
   * Makes `grad` (another variable's gradient, of this shape) this variable's gradient, already
   * written, when this one has none yet and is not a view: a gradient passed on unchanged needs no
   * copy. Whether it did.
   */
  adoptGrad(grad: NativeTensor): boolean {
    if (!this.requiresGrad || this.base || this.gradTensor || this.written) return false;
    this.gradTensor = grad;
    this.written = true;
    return true;
  }

  /** The gradient buffer, created on first use (its contents unspecified until written); null when no gradient is wanted. */
  grad(): NativeTensor | null {
    if (!this.requiresGrad) return null;
    if (this.gradTensor) return this.gradTensor;
    if (this.base) this.gradTensor = this.tape.own(this.base.grad()!.reshape(this.shape));
    else this.gradTensor = this.tape.own(this.tape.b.emptyTensor(this.shape, this.value.device));
    return this.gradTensor;
  }
}

type Backward = () => void;

export class Tape {
  private readonly steps: Backward[] = [];
  private readonly owned: NativeTensor[] = [];
  private readonly parameters: Var[] = [];
  private pending: Promise<unknown>[] = [];

  constructor(
    readonly b: NativeBinding,
    readonly device: DeviceName,
  ) {}

  own<T extends NativeTensor>(t: T): T {
    this.owned.push(t);
    return t;
  }

  /** A new tensor freed with the tape, for an op's output: its contents are unspecified until the op writes it. */
  tensor(shape: number[]): NativeTensor {
    return this.own(this.b.emptyTensor(shape, this.device));
  }

  /** An input written later (a recorded pass's): no gradient, its contents unspecified until written. */
  input(shape: number[]): Var {
    return new Var(this.tensor(shape), false, this);
  }

  /** Input data: no gradient. */
  constant(data: Float32Array, shape: number[]): Var {
    return new Var(this.own(this.b.createTensor(shape, this.device, data)), false, this);
  }

  /**
   * A trainable parameter: its value and gradient outlive the tape. backward() overwrites the
   * gradient (zero where the loss does not reach the parameter).
   */
  parameter(value: NativeTensor, grad: NativeTensor): Var {
    const v = new Var(value, true, this, null, grad);
    this.parameters.push(v);
    return v;
  }

  /** The result of an op over `inputs`: it needs a gradient if any input does. */
  result(value: NativeTensor, inputs: Var[]): Var {
    for (const v of inputs) v.root.uses++;
    return new Var(value, inputs.some((v) => v.requiresGrad), this);
  }

  /** A view of `v` with another shape; its gradient is the same view of v's gradient. */
  reshape(v: Var, shape: number[]): Var {
    v.root.uses++;
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
    if (output.requiresGrad) this.steps.push(() => output.gradWritten && backward());
  }

  /**
   * Called by a backward op about to write the gradients of `targets` (those needing one): whether
   * it must add to them. False when none has been written yet (the op overwrites them all); when
   * only some have, the others are zeroed first. Marks them all written.
   */
  accumulateInto(targets: Array<Var | null>): boolean {
    const vars = targets.filter((v): v is Var => v !== null && v.requiresGrad);
    const fresh = vars.filter((v) => !v.gradWritten);
    // One gradient twice among the targets (never two outputs of one op, but cheap to rule out) adds.
    const accumulate = fresh.length < vars.length || new Set(vars.map((v) => v.root)).size < vars.length;
    if (accumulate) for (const v of new Set(fresh.map((f) => f.grad()!))) this.enqueue(v.fill(0));
    for (const v of vars) v.gradWritten = true;
    return accumulate;
  }

  /** Sets v's gradient to `value` everywhere (the seed of backward(), and 0 for unreached parameters). */
  seed(v: Var, value = 1): void {
    this.enqueue(v.grad()!.fill(value));
    v.gradWritten = true;
  }

  /** Queues every recorded backward step, last first, and zeroes the parameters' unreached gradients. */
  issueBackward(): void {
    for (let i = this.steps.length - 1; i >= 0; i--) this.steps[i]();
    for (const p of this.parameters) if (!p.gradWritten) this.seed(p, 0);
  }

  /** issueBackward(), then waits for all the work queued. */
  async backward(): Promise<void> {
    this.issueBackward();
    await this.sync();
  }

  dispose(): void {
    for (const t of this.owned) t.dispose();
    this.owned.length = 0;
    this.steps.length = 0;
  }
}

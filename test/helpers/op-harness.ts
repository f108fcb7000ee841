// One harness for every op on every backend (after ggml's test-backend-ops):
// - forward and backward outputs are poisoned with NaN first, so an unwritten element fails;
// - the guard bytes around every tensor are checked after each call (out-of-bounds writes);
// - CPU backward is checked against central finite differences of the CPU forward;
// - `accumulate` is checked to add exactly the overwrite result to random initial values;
// - every other usable backend is compared with the CPU reference on the same fresh random inputs.
import { Rng } from '../../src/data/rng.js';
import { loadBinding, type DeviceName, type NativeBinding, type NativeTensor } from '../../src/native/binding.js';

export interface Tolerance {
  abs: number;
  rel: number;
}

export interface TensorSpec {
  name: string;
  shape: number[];
  /** Draws one value; default uniform in [-1, 1). */
  init?: (rng: Rng) => number;
  /** For outputs: not differentiated (saved activations, diagnostics); backward gets it but no gradient for it. */
  noGrad?: boolean;
}

type Tensors = Record<string, NativeTensor>;
type Arrays = Record<string, Float32Array>;

export interface OpCase {
  name: string;
  inputs: TensorSpec[];
  /** Forward outputs; their gradients are named by the same names. */
  outputs: TensorSpec[];
  /** Whether a CUDA kernel exists (default true); CPU-only ops skip the CUDA comparison, saying so. */
  cuda?: boolean;
  /** Inputs that receive a gradient from backward. */
  gradInputs: string[];
  forward(b: NativeBinding, inputs: Tensors, outputs: Tensors): Promise<void>;
  /** `outputs` are the forward results on the same inputs, for ops that reuse saved activations. */
  backward(
    b: NativeBinding,
    inputs: Tensors,
    gradOutputs: Tensors,
    grads: Tensors,
    accumulate: boolean,
    outputs: Tensors,
  ): Promise<void>;
  /** Another backend against the CPU. */
  backendTolerance: Tolerance;
  /** CPU backward against finite differences; `eps` is the step. */
  fdTolerance: Tolerance & { eps: number };
  /** Check only this many random elements of each input by finite differences (default: all). */
  fdSamples?: number;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const differentiable = (op: OpCase) => op.outputs.filter((s) => !s.noGrad);
const uniform = (rng: Rng) => 2 * rng.nextFloat() - 1;

export function randomArrays(specs: TensorSpec[], rng: Rng): Arrays {
  const out: Arrays = {};
  for (const s of specs) {
    const a = new Float32Array(size(s.shape));
    for (let i = 0; i < a.length; i++) a[i] = (s.init ?? uniform)(rng);
    out[s.name] = a;
  }
  return out;
}

/** Differences beyond tolerance (NaN anywhere counts), as readable lines; empty when equal. */
export function compare(name: string, got: Float32Array, want: Float32Array, tol: Tolerance, limit = 5): string[] {
  const bad: string[] = [];
  if (got.length !== want.length) return [`${name}: length ${got.length}, expected ${want.length}`];
  let count = 0;
  for (let i = 0; i < got.length; i++) {
    const g = got[i];
    const w = want[i];
    const ok = Number.isFinite(g) && Number.isFinite(w) && Math.abs(g - w) <= tol.abs + tol.rel * Math.abs(w);
    if (!ok) {
      if (count < limit) bad.push(`${name}[${i}]: got ${g}, expected ${w}`);
      count += 1;
    }
  }
  if (count > limit) bad.push(`${name}: ${count - limit} more mismatches`);
  return bad;
}

/** Tensors made for one op call on one device; checks their guards and disposes them together. */
class Scope {
  private made: NativeTensor[] = [];
  constructor(
    private b: NativeBinding,
    private device: DeviceName,
  ) {}

  /** One tensor per spec, holding arrays[spec.name]. */
  fromArrays(specs: TensorSpec[], arrays: Arrays): Tensors {
    const out: Tensors = {};
    for (const s of specs) out[s.name] = this.make(s.shape, arrays[s.name]);
    return out;
  }

  /** One tensor per spec, every element NaN. */
  async poisoned(specs: TensorSpec[]): Promise<Tensors> {
    const out: Tensors = {};
    for (const s of specs) {
      out[s.name] = this.make(s.shape, null);
      await out[s.name].fill(Number.NaN);
    }
    return out;
  }

  private make(shape: number[], data: Float32Array | null): NativeTensor {
    const t = this.b.createTensor(shape, this.device, data);
    this.made.push(t);
    return t;
  }

  /** Throws when any tensor made here had its guard bytes overwritten. */
  async checkGuards(what: string): Promise<void> {
    for (const t of this.made) if (!(await t.checkGuards())) throw new Error(`${what} wrote outside a tensor of shape [${t.shape}]`);
  }

  dispose(): void {
    for (const t of this.made) t.dispose();
  }
}

async function readAll(ts: Tensors): Promise<Arrays> {
  const out: Arrays = {};
  for (const [name, t] of Object.entries(ts)) out[name] = await t.read();
  return out;
}

function unwritten(what: string, arrays: Arrays): string[] {
  const bad: string[] = [];
  for (const [name, a] of Object.entries(arrays)) {
    const i = a.findIndex((v) => Number.isNaN(v));
    if (i >= 0) bad.push(`${what}: ${name}[${i}] is NaN (unwritten or not computed)`);
  }
  return bad;
}

/** Forward on `device` into poisoned outputs. */
export async function runForward(op: OpCase, device: DeviceName, inputs: Arrays): Promise<Arrays> {
  const b = loadBinding();
  const scope = new Scope(b, device);
  try {
    const ins = scope.fromArrays(op.inputs, inputs);
    const outs = await scope.poisoned(op.outputs);
    await op.forward(b, ins, outs);
    await scope.checkGuards(`${op.name} forward on ${device}`);
    return await readAll(outs);
  } finally {
    scope.dispose();
  }
}

/** Backward on `device`: into poisoned gradients, or added to `initial` when given. */
export async function runBackward(
  op: OpCase,
  device: DeviceName,
  inputs: Arrays,
  gradOutputs: Arrays,
  initial?: Arrays,
): Promise<Arrays> {
  const b = loadBinding();
  const scope = new Scope(b, device);
  try {
    const ins = scope.fromArrays(op.inputs, inputs);
    const outs = await scope.poisoned(op.outputs);
    await op.forward(b, ins, outs);
    const gouts = scope.fromArrays(differentiable(op), gradOutputs);
    const gradSpecs = op.inputs.filter((s) => op.gradInputs.includes(s.name));
    const grads = initial ? scope.fromArrays(gradSpecs, initial) : await scope.poisoned(gradSpecs);
    await op.backward(b, ins, gouts, grads, initial !== undefined, outs);
    await scope.checkGuards(`${op.name} backward on ${device}`);
    return await readAll(grads);
  } finally {
    scope.dispose();
  }
}

/** Problems found on the CPU: unwritten outputs, finite-difference mismatches, wrong accumulation. */
export async function checkCpu(op: OpCase, seed = 1): Promise<string[]> {
  const rng = new Rng(seed);
  const inputs = randomArrays(op.inputs, rng);
  const gradOutputs = randomArrays(differentiable(op), rng);
  const problems: string[] = [];

  const outs = await runForward(op, 'cpu', inputs);
  problems.push(...unwritten('forward', outs));
  const grads = await runBackward(op, 'cpu', inputs, gradOutputs);
  problems.push(...unwritten('backward', grads));

  // L = sum over outputs of gradOut * out, in float64; dL/dinput is what backward computes.
  const loss = async (ins: Arrays) => {
    const o = await runForward(op, 'cpu', ins);
    let s = 0;
    for (const spec of differentiable(op)) for (let i = 0; i < o[spec.name].length; i++) s += gradOutputs[spec.name][i] * o[spec.name][i];
    return s;
  };
  const { eps } = op.fdTolerance;
  for (const name of op.gradInputs) {
    const base = inputs[name];
    const indices = op.fdSamples && op.fdSamples < base.length
      ? Array.from({ length: op.fdSamples }, () => rng.nextInt(base.length))
      : Array.from(base.keys());
    const want = new Float32Array(indices.length);
    const got = new Float32Array(indices.length);
    for (const [k, i] of indices.entries()) {
      const saved = base[i];
      base[i] = saved + eps;
      const up = await loss(inputs);
      base[i] = saved - eps;
      const down = await loss(inputs);
      base[i] = saved;
      want[k] = (up - down) / (2 * eps);
      got[k] = grads[name][i];
    }
    problems.push(...compare(`finite differences of ${name}`, got, want, op.fdTolerance));
  }

  const initial = randomArrays(op.inputs.filter((s) => op.gradInputs.includes(s.name)), rng);
  const summed = await runBackward(op, 'cpu', inputs, gradOutputs, initial);
  for (const name of op.gradInputs) {
    const want = initial[name].map((v, i) => v + grads[name][i]);
    problems.push(...compare(`accumulated ${name}`, summed[name], want, { abs: 1e-6, rel: 1e-6 }));
  }
  return problems;
}

/** Problems found comparing `device` with the CPU reference, forward and backward, both modes. */
export async function checkBackend(op: OpCase, device: DeviceName, seed = 2): Promise<string[]> {
  const rng = new Rng(seed);
  const inputs = randomArrays(op.inputs, rng);
  const gradOutputs = randomArrays(differentiable(op), rng);
  const initial = randomArrays(op.inputs.filter((s) => op.gradInputs.includes(s.name)), rng);
  const problems: string[] = [];
  const tol = op.backendTolerance;

  const [want, got] = [await runForward(op, 'cpu', inputs), await runForward(op, device, inputs)];
  for (const s of op.outputs) problems.push(...compare(`${device} forward ${s.name}`, got[s.name], want[s.name], tol));
  for (const init of [undefined, initial]) {
    const mode = init ? 'accumulated' : 'overwritten';
    const w = await runBackward(op, 'cpu', inputs, gradOutputs, init);
    const g = await runBackward(op, device, inputs, gradOutputs, init);
    for (const name of op.gradInputs) problems.push(...compare(`${device} ${mode} grad ${name}`, g[name], w[name], tol));
  }
  return problems;
}

/** Why `device` cannot be tested here, or null when it can. */
export function unusableReason(device: DeviceName, op?: OpCase): string | null {
  if (device === 'cpu') return null;
  if (op?.cuda === false) return 'no CUDA kernel for this op yet (CPU backend only)';
  const cuda = loadBinding().backends()[1];
  return cuda.usable ? null : `CUDA unusable: ${cuda.reason}`;
}

// One harness for every op on every backend (after ggml's test-backend-ops):
// - forward and backward outputs are poisoned with NaN first, so an unwritten element fails;
// - the guard bytes around every tensor are checked after each call (out-of-bounds writes);
// - CPU backward is checked against central finite differences of the CPU forward;
// - `accumulate` is checked to add exactly the overwrite result to random initial values;
// - every other usable backend is compared with the CPU reference on the same fresh random inputs;
// - ops that are not differentiated (noise, norms, optimizer updates) have forward-only cases.
import { Rng } from '../../src/data/rng.js';
import { loadBinding, type DeviceName, type NativeBinding, type NativeTensor } from '../../src/native/binding.js';
import type { Case } from './args.js';

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
  /** The op under test (its snake_case name, as `backends()[i].ops` lists it, and its cases file's name). */
  op: string;
  inputs: TensorSpec[];
  /** Forward outputs; their gradients are named by the same names. */
  outputs: TensorSpec[];
  /** Inputs that receive a gradient from backward. */
  gradInputs: string[];
  forward(b: NativeBinding, inputs: Tensors, outputs: Tensors): Promise<void>;
  /**
   * `outputs` are the forward results on the same inputs, for ops that reuse saved activations.
   * Absent for an op that is not differentiated (noise, optimizer updates, norms): its case checks
   * the forward only, and `gradInputs` is empty.
   */
  backward?(
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

/** One op's file of cases, test/ops/<op>.cases.ts, run by test/ops.test.ts. */
export interface OpCasesFile {
  /** The op's harness cases (each with `op` set to the file's op name). */
  harness: OpCase[];
  /** The op's bad-argument cases, run through `argumentTests`. */
  badArguments: Case[];
  /** Further tests of the op, declared after every file's bad-argument cases. */
  extraTests?: () => void;
}

// The default tolerances of the harness cases:
// - finite differences use eps = 1e-2 on a float32 forward whose loss is summed in float64; the
//   rounding of the outputs (about 1e-7 relative, times sums of tens of terms) divided by 2 eps
//   gives errors around 1e-4, so abs 2e-3 + rel 2e-3 leaves margin and still catches any wrong
//   term (a missing or swapped term is off by O(0.1) or more);
// - other backends sum in a different order than the CPU: 1e-4 abs + 1e-4 rel covers float32
//   reassociation for dot products of a few hundred terms.
export const fdTolerance = { abs: 2e-3, rel: 2e-3, eps: 1e-2 };
export const backendTolerance = { abs: 1e-4, rel: 1e-4 };

/** Draws uniformly from [lo, hi). */
export const uniformIn = (lo: number, hi: number) => (rng: Rng) => lo + (hi - lo) * rng.nextFloat();

/**
 * A harness case of an update op that changes lists of tensors in place (no backward): every list
 * holds two tensors, one of them larger than a CPU chunk of the fused passes (16384 elements). The
 * inputs are the lists' random initial values (`<list>0`, `<list>1`); forward copies those of the
 * `updated` lists (the params and the optimizer's state) into the outputs (`updated<List>0`, ...)
 * and runs `update` on them, with the other lists (the gradients) as the inputs themselves.
 */
export function updateCase(
  name: string,
  op: string,
  lists: { name: string; init?: (rng: Rng) => number; updated?: boolean }[],
  update: (b: NativeBinding, lists: Record<string, NativeTensor[]>) => Promise<void>,
): OpCase {
  const shapes = [[3, 5], [130, 200]];
  const entries = (list: string) => shapes.map((shape, k) => ({ name: `${list}${k}`, shape }));
  const updatedName = (input: string) => `updated${input[0].toUpperCase()}${input.slice(1)}`;
  const inputs = lists.flatMap((l) => entries(l.name).map((e) => ({ name: e.name, shape: e.shape, init: l.init })));
  const updated = lists.filter((l) => l.updated).flatMap((l) => entries(l.name));
  return {
    name,
    op,
    inputs,
    outputs: updated.map((e) => ({ name: updatedName(e.name), shape: e.shape })),
    gradInputs: [],
    forward: async (b, i, o) => {
      for (const e of updated) await o[updatedName(e.name)].write(await i[e.name].read());
      const tensors = Object.fromEntries(lists.map((l) => [l.name, entries(l.name).map((e) => (l.updated ? o[updatedName(e.name)] : i[e.name]))]));
      await update(b, tensors);
    },
    backendTolerance,
    fdTolerance,
  };
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
  if (!op.backward) throw new Error(`${op.name} has no backward`);
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
  if (!op.backward) return problems;
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
  if (!op.backward) return problems;
  for (const init of [undefined, initial]) {
    const mode = init ? 'accumulated' : 'overwritten';
    const w = await runBackward(op, 'cpu', inputs, gradOutputs, init);
    const g = await runBackward(op, device, inputs, gradOutputs, init);
    for (const name of op.gradInputs) problems.push(...compare(`${device} ${mode} grad ${name}`, g[name], w[name], tol));
  }
  return problems;
}

/**
 * Why `device` cannot be tested here, or null when it can: CUDA not compiled in or unusable (its
 * reason), or, given `op`, no CUDA kernel for it in this build (`backends()[1].ops` lacks it).
 */
export function unusableReason(device: DeviceName, op?: string): string | null {
  if (device === 'cpu') return null;
  const cuda = loadBinding().backends()[1];
  if (!cuda.usable) return `CUDA unusable: ${cuda.reason}`;
  if (op !== undefined && !cuda.ops.includes(op)) return `no CUDA kernel for ${op} in this build`;
  return null;
}

/** Why a test of `op` refusing CUDA tensors cannot run here (CUDA unusable, or it has a kernel), or null when it can. */
export function cudaRefusalSkipReason(op: string): string | null {
  return unusableReason('cuda') ?? (unusableReason('cuda', op) ? null : `${op} has a CUDA kernel in this build`);
}

// The model's parameters: their names and shapes (docs/model.md), the authors' initialisation, and
// the native tensors that hold values and gradients.
import { Rng } from '../data/rng.js';
import type { DeviceName, NativeBinding, NativeTensor } from '../native/binding.js';
import { FEATURES, PIXELS, type GMNConfig } from './config.js';

/** How a parameter starts (docs/model.md, "Initialisation"). */
export type Init =
  | { kind: 'heNormal'; fanIn: number; gain: 1 | 2 }
  | { kind: 'glorotNormal'; fanIn: number; fanOut: number }
  | { kind: 'unitNorm'; fanIn: number } // he-normal rescaled to Frobenius norm 1
  | { kind: 'uniform'; limit: number }
  | { kind: 'zeros' };

export interface ParameterSpec {
  name: string;
  shape: number[];
  init: Init;
}

// The encoder's and decoder's sections: [in channels, out channels, strided kernel, block kernel].
export const ENCODER_SECTIONS = [
  [1, 16, 4, 3],
  [16, 32, 3, 3],
  [32, 32, 2, 2],
] as const;
export const DECODER_SECTIONS = [
  [32, 32, 2, 2],
  [32, 16, 3, 3],
  [16, 16, 4, 3],
] as const;
/** Width of the MLP layers of the 'fc' architecture. */
export const FC_HIDDEN = 512;
/** Width of the prior's hidden layer. */
export const PRIOR_HIDDEN = 200;

const slope = (name: string, n: number, limit = 0.01): ParameterSpec => ({ name, shape: [n], init: { kind: 'uniform', limit } });
const zeros = (name: string, n: number): ParameterSpec => ({ name, shape: [n], init: { kind: 'zeros' } });

function linear(name: string, out: number, inp: number, init: Init, withSlope = false): ParameterSpec[] {
  return [
    { name: `${name}.weight`, shape: [out, inp], init },
    zeros(`${name}.bias`, out),
    ...(withSlope ? [slope(`${name}.slope`, out)] : []),
  ];
}

export function parameterSpecs(c: GMNConfig): ParameterSpec[] {
  const F = FEATURES, H = c.stateSize, D = c.keySize, Z = c.latent, P = c.pseudoInputs;
  const specs: ParameterSpec[] = [];
  if (c.architecture === 'conv') {
    ENCODER_SECTIONS.forEach(([ci, co, k, kb], i) => {
      const s = `enc.s${i + 1}`;
      specs.push(
        { name: `${s}.conv.weight`, shape: [co, ci, k, k], init: { kind: 'heNormal', fanIn: ci * k * k, gain: 2 } },
        slope(`${s}.conv.slope`, co),
        { name: `${s}.block.weight`, shape: [co, co, kb, kb], init: { kind: 'unitNorm', fanIn: co * kb * kb } },
        slope(`${s}.block.slope`, co),
        { name: `${s}.shortcut.weight`, shape: [co, ci, 1, 1], init: { kind: 'unitNorm', fanIn: ci } },
      );
    });
  } else {
    specs.push(...linear('enc.l1', FC_HIDDEN, PIXELS, { kind: 'heNormal', fanIn: PIXELS, gain: 2 }, true));
    specs.push(...linear('enc.l2', F, FC_HIDDEN, { kind: 'heNormal', fanIn: FC_HIDDEN, gain: 2 }, true));
  }
  for (const r of ['shared', 'prior']) {
    specs.push(...linear(`${r}.key`, D, F, { kind: 'heNormal', fanIn: F, gain: 2 }, true));
    if (P > 0) {
      specs.push({ name: `${r}.pseudo.value`, shape: [P, F], init: { kind: 'uniform', limit: 1 / F } });
      specs.push({ name: `${r}.pseudo.key`, shape: [P, D], init: { kind: 'uniform', limit: 1 / F } });
    }
    specs.push({ name: `${r}.h0`, shape: [H], init: { kind: 'uniform', limit: 1 / F } });
    specs.push(...linear(`${r}.gru.gates`, 2 * H, F + 2 * H, { kind: 'heNormal', fanIn: F + 2 * H, gain: 1 }));
    specs.push(...linear(`${r}.gru.cand`, H, F + 2 * H, { kind: 'unitNorm', fanIn: F + 2 * H }));
    specs.push(slope(`${r}.gru.cand.slope`, H, 0.02));
  }
  const unit = (fanIn: number): Init => ({ kind: 'unitNorm', fanIn });
  specs.push(...linear('rec.query', D, H + F, unit(H + F)), ...linear('rec.strength', 1, H, unit(H)));
  specs.push(...linear('gen.query', D, H + Z, unit(H + Z)), ...linear('gen.strength', 1, H, unit(H)));
  specs.push(...linear('prior.query', D, H, unit(H)), ...linear('prior.strength', 1, H, unit(H)));
  specs.push(...linear('prior.hidden', PRIOR_HIDDEN, F + H, unit(F + H), true));
  specs.push(...linear('prior.mu', Z, PRIOR_HIDDEN, { kind: 'heNormal', fanIn: PRIOR_HIDDEN, gain: 1 }));
  specs.push(...linear('prior.sigma', Z, PRIOR_HIDDEN, { kind: 'heNormal', fanIn: PRIOR_HIDDEN, gain: 1 }));
  const recIn = F + F + H;
  specs.push(...linear('rec.mu', Z, recIn, { kind: 'glorotNormal', fanIn: recIn, fanOut: Z }));
  specs.push(...linear('rec.sigma', Z, recIn, { kind: 'glorotNormal', fanIn: recIn, fanOut: Z }));
  const decIn = Z + F + H;
  if (c.architecture === 'conv') {
    specs.push(...linear('dec.in', F, decIn, { kind: 'heNormal', fanIn: decIn, gain: 1 }));
    DECODER_SECTIONS.forEach(([ci, co, k, kb], i) => {
      const s = `dec.s${i + 1}`;
      specs.push(
        { name: `${s}.conv.weight`, shape: [ci, co, k, k], init: { kind: 'heNormal', fanIn: ci * k * k, gain: 2 } },
        slope(`${s}.conv.slope`, co),
        { name: `${s}.block.weight`, shape: [co, co, kb, kb], init: { kind: 'unitNorm', fanIn: co * kb * kb } },
        slope(`${s}.block.slope`, co),
        { name: `${s}.shortcut.weight`, shape: [ci, co, 1, 1], init: { kind: 'unitNorm', fanIn: ci } },
      );
    });
    specs.push({ name: 'dec.out.weight', shape: [1, 16, 1, 1], init: { kind: 'heNormal', fanIn: 16, gain: 1 } });
  } else {
    specs.push(...linear('dec.l1', FC_HIDDEN, decIn, { kind: 'heNormal', fanIn: decIn, gain: 2 }, true));
    specs.push(...linear('dec.l2', PIXELS, FC_HIDDEN, { kind: 'heNormal', fanIn: FC_HIDDEN, gain: 1 }));
  }
  return specs;
}

const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** TensorFlow's truncated normal: N(0, std) redrawn outside two standard deviations. */
function truncatedNormal(rng: Rng, std: number): number {
  for (;;) {
    const u = 1 - rng.nextFloat();
    const v = rng.nextFloat();
    const n = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    if (Math.abs(n) <= 2) return n * std;
  }
}

/** Initial values of one parameter, drawn from `rng`. */
export function initialValues(spec: ParameterSpec, rng: Rng): Float32Array {
  const out = new Float32Array(numel(spec.shape));
  const init = spec.init;
  switch (init.kind) {
    case 'zeros':
      break;
    case 'uniform':
      for (let i = 0; i < out.length; i++) out[i] = (2 * rng.nextFloat() - 1) * init.limit;
      break;
    case 'heNormal':
      for (let i = 0; i < out.length; i++) out[i] = truncatedNormal(rng, Math.sqrt(init.gain / init.fanIn));
      break;
    case 'glorotNormal':
      for (let i = 0; i < out.length; i++) out[i] = truncatedNormal(rng, Math.sqrt(6 / (init.fanIn + init.fanOut)));
      break;
    case 'unitNorm': {
      let sq = 0;
      for (let i = 0; i < out.length; i++) {
        out[i] = truncatedNormal(rng, Math.sqrt(1 / init.fanIn));
        sq += out[i] * out[i];
      }
      const scale = 1 / Math.sqrt(sq);
      for (let i = 0; i < out.length; i++) out[i] *= scale;
      break;
    }
  }
  return out;
}

/** Values and gradients of every parameter, as native tensors on one device. */
export class Parameters {
  readonly values = new Map<string, NativeTensor>();
  readonly grads = new Map<string, NativeTensor>();

  constructor(
    readonly specs: ParameterSpec[],
    b: NativeBinding,
    device: DeviceName,
    values: (spec: ParameterSpec) => Float32Array,
  ) {
    for (const spec of specs) {
      this.values.set(spec.name, b.createTensor(spec.shape, device, values(spec)));
      this.grads.set(spec.name, b.createTensor(spec.shape, device));
    }
  }

  /** The paper's initialisation, reproducible from `seed`. */
  static initialise(specs: ParameterSpec[], b: NativeBinding, device: DeviceName, seed: number): Parameters {
    const rng = new Rng(seed);
    return new Parameters(specs, b, device, (spec) => initialValues(spec, rng));
  }

  get count(): number {
    return this.specs.reduce((n, s) => n + numel(s.shape), 0);
  }

  value(name: string): NativeTensor {
    const t = this.values.get(name);
    if (!t) throw new Error(`gmn: no parameter named ${name}`);
    return t;
  }

  async zeroGrads(): Promise<void> {
    await Promise.all([...this.grads.values()].map((g) => g.fill(0)));
  }

  dispose(): void {
    for (const t of [...this.values.values(), ...this.grads.values()]) t.dispose();
  }
}

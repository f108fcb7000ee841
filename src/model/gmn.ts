// The Generative Matching Network (docs/model.md): parameters, and the loss of a batch of episodes
// with its gradient, computed for every position of every episode at once.
import { parameterVar, Tape, Var } from '../autograd.js';
import type { DeviceOption } from '../backend.js';
import { checkOneOf, typeError, rangeError } from '../errors.js';
import { loadBinding, type DeviceName, type NativeBinding, type NativeTensor } from '../native/binding.js';
import { FEATURES, IMAGE_SIDE, PIXELS, resolveConfig, type GMNConfig } from './config.js';
import { Layers } from './layers.js';
import { DECODER_SECTIONS, ENCODER_SECTIONS, Parameters, parameterSpecs } from './parameters.js';

export interface GMNOptions {
  /**
   * Where parameters and activations live. Default 'auto'. The model's kernels exist on the CPU
   * backend only so far, so 'auto' means the CPU and 'cuda' is refused with an explanation.
   */
  device?: DeviceOption;
  /** Seed of the initialisation. Default 0. */
  seed?: number;
}

/** Noise for the reparameterisation: given values, or drawn natively from (seed, offset). */
export type Noise = Float32Array | { seed: number; offset: number };

export interface LossResult {
  /** The loss: minus the weighted ELBO, averaged over episodes. */
  loss: number;
  /** Per row (episode b, position t at row b*T + t): log p(x|z), log p(z|x<t), log q(z|x<=t). */
  terms: Float32Array;
}

type Reader = {
  keys: Var;
  h0: Var;
  pseudoKeys: Var | null;
  pseudoValues: Var | null;
  gru: { wGates: Var; bGates: Var; wCand: Var; bCand: Var; slope: Var };
};

/** The model's kernels (conv, attention, GRU, ELBO, optimizers) have no CUDA versions yet. */
function modelDevice(device: DeviceOption = 'auto'): DeviceName {
  checkOneOf('device', device, ['auto', 'cpu', 'cuda'] as const);
  if (device === 'cuda') {
    throw new Error("gmn: the GMN model runs on the CPU backend only so far (its kernels have no CUDA versions yet); use device: 'cpu' or 'auto'");
  }
  return 'cpu';
}

export class GMN {
  readonly config: GMNConfig;
  readonly device: DeviceName;
  readonly params: Parameters;
  private readonly b: NativeBinding;

  constructor(config: Partial<GMNConfig> = {}, options: GMNOptions = {}, params?: Parameters) {
    this.config = resolveConfig(config);
    this.device = modelDevice(options.device);
    this.b = loadBinding();
    this.params = params ?? Parameters.initialise(parameterSpecs(this.config), this.b, this.device, options.seed ?? 0);
  }

  /** Rows of a batch: episodes x positions. */
  get rows(): number {
    return this.config.batchSize * this.config.episodeLength;
  }

  /**
   * The loss of a batch of episodes x [batchSize, T, 784] (pixels in [0, 1]) and, when `backward`,
   * its gradient in `params.grads` (overwritten).
   */
  async loss(x: Float32Array, noise: Noise, backward: boolean): Promise<LossResult> {
    const { rows } = this;
    if (!(x instanceof Float32Array)) throw typeError('x', 'a Float32Array', x);
    if (x.length !== rows * PIXELS) throw rangeError('x', `${rows * PIXELS} values (batchSize x episodeLength x 784)`, x.length);
    const tape = new Tape(this.b, this.device);
    try {
      if (backward) await this.params.zeroGrads();
      const { loss, terms } = this.build(tape, x, noise);
      if (backward) {
        tape.enqueue(loss.grad()!.fill(1));
        await tape.backward();
      }
      await tape.sync();
      const [lossValue, termValues] = await Promise.all([loss.value.read(), terms.read()]);
      return { loss: lossValue[0], terms: termValues };
    } finally {
      tape.dispose();
    }
  }

  private build(tape: Tape, x: Float32Array, noise: Noise): { loss: Var; terms: NativeTensor } {
    const c = this.config;
    const { rows } = this;
    const B = c.batchSize, T = c.episodeLength, Z = c.latent;
    const L = new Layers(tape);
    const vars = new Map<string, Var>();
    for (const [name, value] of this.params.values) vars.set(name, parameterVar(value, this.params.grads.get(name)!));
    const p = (name: string) => {
      const v = vars.get(name);
      if (!v) throw new Error(`gmn: missing parameter ${name}`);
      return v;
    };
    const has = (name: string) => vars.has(name);
    const lin = (input: Var, name: string) => L.linear(input, p(`${name}.weight`), p(`${name}.bias`));

    const images = tape.constant(x, [rows, 1, IMAGE_SIDE, IMAGE_SIDE]);
    const psi = this.encode(L, images, p);

    const reader = (r: string): Reader => ({
      keys: L.linearPrelu(psi, p(`${r}.key.weight`), p(`${r}.key.bias`), p(`${r}.key.slope`)),
      h0: p(`${r}.h0`),
      pseudoKeys: has(`${r}.pseudo.key`) ? p(`${r}.pseudo.key`) : null,
      pseudoValues: has(`${r}.pseudo.value`) ? p(`${r}.pseudo.value`) : null,
      gru: {
        wGates: p(`${r}.gru.gates.weight`),
        bGates: p(`${r}.gru.gates.bias`),
        wCand: p(`${r}.gru.cand.weight`),
        bCand: p(`${r}.gru.cand.bias`),
        slope: p(`${r}.gru.cand.slope`),
      },
    });
    const pseudoPositions = c.conditional ? 1 : T;
    // K hops of matching (K = 0: average matching), each followed by a GRU update of the state h.
    const read = (R: Reader, hops: number, query: (h: Var) => Var, strength: string) => {
      let h = L.broadcastRows(R.h0, rows);
      let r: Var | null = null;
      for (let k = 0; k < Math.max(hops, 1); k++) {
        const memory = { values: psi, pseudoKeys: R.pseudoKeys, pseudoValues: R.pseudoValues };
        r =
          hops === 0
            ? L.attention({ ...memory, query: null, keys: null, strength: null }, B, 'average', pseudoPositions)
            : L.attention({ ...memory, query: query(h), keys: R.keys, strength: lin(h, strength) }, B, c.similarity, pseudoPositions);
        h = L.gru(L.concat([r, h]), h, R.gru);
      }
      return { r: r!, h };
    };

    const shared = reader('shared');
    const prior = reader('prior');

    // recognition q(z | x_t, x_<t)
    const q = read(shared, c.hops, (h) => lin(L.concat([h, psi]), 'rec.query'), 'rec.strength');
    const recInput = L.concat([psi, q.r, q.h]);
    const muQ = lin(recInput, 'rec.mu');
    const preQ = lin(recInput, 'rec.sigma');
    const eps = this.noise(tape, noise, rows * Z);
    const z = L.gaussianSample(muQ, preQ, eps);

    // prior p(z | x_<t)
    const pr = read(prior, c.priorHops, (h) => lin(h, 'prior.query'), 'prior.strength');
    const hidden = L.linearPrelu(L.concat([pr.r, pr.h]), p('prior.hidden.weight'), p('prior.hidden.bias'), p('prior.hidden.slope'));
    const muP = lin(hidden, 'prior.mu');
    const preP = lin(hidden, 'prior.sigma');

    // likelihood p(x_t | z, x_<t)
    const g = read(shared, c.hops, (h) => lin(L.concat([h, z]), 'gen.query'), 'gen.strength');
    const logits = this.decode(L, L.concat([z, g.r, g.h]), p);

    const weight = new Float32Array(rows);
    for (let row = 0; row < rows; row++) weight[row] = c.conditional && row % T < c.maxClasses ? 0 : 1 / B;
    const pixels = tape.reshape(images, [rows, PIXELS]);
    return L.elbo(logits, pixels, z, { mu: muQ, pre: preQ }, { mu: muP, pre: preP }, tape.constant(weight, [rows]));
  }

  private noise(tape: Tape, noise: Noise, size: number): Var {
    const shape = [this.rows, this.config.latent];
    if (noise instanceof Float32Array) {
      if (noise.length !== size) throw rangeError('noise', `${size} values (rows x latent)`, noise.length);
      return tape.constant(noise, shape);
    }
    const eps = tape.tensor(shape);
    tape.enqueue(this.b.randomNormal(eps, noise.seed, noise.offset));
    return tape.result(eps, []);
  }

  /** psi: [rows, 288]. */
  private encode(L: Layers, images: Var, p: (name: string) => Var): Var {
    const rows = images.shape[0];
    if (this.config.architecture === 'fc') {
      const flat = L.reshape(images, [rows, PIXELS]);
      const h = L.linearPrelu(flat, p('enc.l1.weight'), p('enc.l1.bias'), p('enc.l1.slope'));
      return L.linearPrelu(h, p('enc.l2.weight'), p('enc.l2.bias'), p('enc.l2.slope'));
    }
    let x = images;
    ENCODER_SECTIONS.forEach(([, , k], i) => {
      const s = `enc.s${i + 1}`;
      const size = Math.floor((x.shape[2] - k) / 2) + 1;
      const h = L.prelu(L.conv2d(x, p(`${s}.conv.weight`), 2, 0, 0, [size, size]), p(`${s}.conv.slope`));
      const block = L.prelu(L.add(h, L.conv2dSame(h, p(`${s}.block.weight`))), p(`${s}.block.slope`));
      const shortcut = L.avgPool2d(L.conv2d(x, p(`${s}.shortcut.weight`), 1, 0, 0, [x.shape[2], x.shape[3]]), k, 2);
      x = L.add(block, shortcut);
    });
    return L.reshape(x, [rows, FEATURES]);
  }

  /** Bernoulli logits: [rows, 784]. */
  private decode(L: Layers, input: Var, p: (name: string) => Var): Var {
    const rows = input.shape[0];
    if (this.config.architecture === 'fc') {
      const h = L.linearPrelu(input, p('dec.l1.weight'), p('dec.l1.bias'), p('dec.l1.slope'));
      return L.linear(h, p('dec.l2.weight'), p('dec.l2.bias'));
    }
    let x = L.reshape(L.linear(input, p('dec.in.weight'), p('dec.in.bias')), [rows, 32, 3, 3]);
    DECODER_SECTIONS.forEach((_, i) => {
      const s = `dec.s${i + 1}`;
      const h = L.prelu(L.convTranspose2d(x, p(`${s}.conv.weight`), 2), p(`${s}.conv.slope`));
      const block = L.prelu(L.add(h, L.conv2dSame(h, p(`${s}.block.weight`))), p(`${s}.block.slope`));
      const shortcut = L.resizeBilinear(L.convTranspose2d(x, p(`${s}.shortcut.weight`), 1), [h.shape[2], h.shape[3]]);
      x = L.add(block, shortcut);
    });
    const logits = L.conv2d(x, p('dec.out.weight'), 1, 0, 0, [IMAGE_SIDE, IMAGE_SIDE]);
    return L.reshape(logits, [rows, PIXELS]);
  }

  dispose(): void {
    this.params.dispose();
  }
}

// The Generative Matching Network (docs/model.md): parameters, and the loss of a batch of episodes
// with its gradient, computed for every position of every episode at once.
import { Tape, Var } from '../autograd.js';
import { resolveDevice, type DeviceOption } from '../backend.js';
import { checkInteger, checkOneOf, typeError, rangeError } from '../errors.js';
import { loadBinding, type DeviceName, type NativeBinding, type NativeProgram, type NativeTensor } from '../native/binding.js';
import { FEATURES, IMAGE_SIDE, PIXELS, resolveConfig, type GMNConfig } from './config.js';
import { Layers } from './layers.js';
import { DECODER_SECTIONS, ENCODER_SECTIONS, Parameters, parameterSpecs } from './parameters.js';

export interface GMNOptions {
  /**
   * Where parameters and activations live. Default 'auto'. The model runs on CUDA only when this
   * build has a CUDA kernel for every op the CPU backend has (the `ops` lists of `backends()`); otherwise
   * 'auto' means the CPU and 'cuda' is refused, naming the ops CUDA lacks.
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

type Gaussian = { mu: Var; pre: Var };

/** Per-row values of whole episodes that do not depend on z (`GMN.episodeStats`). */
export interface EpisodeStats {
  episodes: number;
  /** Images per episode. */
  length: number;
  /** The images, [episodes, length, 784]. */
  x: Float32Array;
  /** The encoder's embedding, [episodes * length, 288]. */
  psi: Float32Array;
  /** mu and pre-sigma (sigma = softplus(clip(pre, -10, 10))) of q(z | x_t, x_<t), each [rows, latent]. */
  q: { mu: Float32Array; pre: Float32Array };
  /** The same of the conditional prior p(z | x_<t). */
  prior: { mu: Float32Array; pre: Float32Array };
}

export interface SampleEpisodesOptions {
  /** Which episodes of the stats, by index. Default: all. */
  episodes?: number[];
  /** Samples of z per row. */
  samples: number;
  /** The standard normal noise of the samples: given, or drawn natively from (seed, offset). */
  noise: Noise;
  /** Draw z from q(z | x_t, x_<t) (importance sampling, reconstructions) or p(z | x_<t) (generation). Default 'posterior'. */
  from?: 'posterior' | 'prior';
  /** Which positions to decode and return (each still reads all before it). Default: all, in order. */
  positions?: number[];
  /** Also return the logits, [rows, 784]. Default false. */
  logits?: boolean;
}

/** The number of 28x28 images in x; throws unless x is a Float32Array of whole images. */
function checkImages(name: string, x: unknown): number {
  if (!(x instanceof Float32Array)) throw typeError(name, 'a Float32Array of 28x28 images', x);
  if (x.length === 0 || x.length % PIXELS !== 0) throw rangeError(name, 'a non-zero multiple of 784 values (images of 28x28)', x.length);
  return x.length / PIXELS;
}

/** Checks that noise given as values has `rows` x latent of them (`rowsName` names the rows in the message). */
function checkNoise(noise: Noise, rows: number, latent: number, rowsName: string): void {
  if (noise instanceof Float32Array && noise.length !== rows * latent) throw rangeError('noise', `${rows * latent} values (${rowsName} x latent)`, noise.length);
}

/** A forward pass recorded once for its shapes (`GMN.recorded`): its input tensors, its output, and the tape that holds them. */
type Recorded = { kind: string; key: string; program: NativeProgram; tape: Tape } & Required<Built>;
/** What a recorded pass's builder returns: its inputs, the output its runs read, other tensors read after a run. */
type Built = { inputs: NativeTensor[]; output: NativeTensor; reads?: NativeTensor[] };

/**
 * Recorded passes of up to this many images are kept for the next call of the same shapes, about
 * 32 MB of tensors each (measured by summing a pass's tensors: 34 MB for a sampler pass of 64
 * images, 8 MB for an encoder pass of 64); larger ones, where the ops' own time dwarfs issuing them,
 * are freed after the call.
 */
const KEPT_ROWS = { embed: 256, sample: 64 };

type Net = { tape: Tape; L: Layers; p: (name: string) => Var; has: (name: string) => boolean; lin: (input: Var, name: string) => Var };

type Reader = {
  /** Rows of `episodes` whole episodes; row t of an episode reads its rows s < t, then the pseudo-slots while t < pseudoPositions. */
  values: Var;
  keys: Var;
  episodes: number;
  pseudoPositions: number;
  h0: Var;
  pseudoKeys: Var | null;
  pseudoValues: Var | null;
  gru: { wGates: Var; bGates: Var; wCand: Var; bCand: Var; slope: Var };
};

/** The ops of this build's CPU backend that its CUDA backend lacks: the model needs every one on its device. */
function opsMissingOnCuda(): string[] {
  const [cpu, cuda] = loadBinding().backends();
  return cpu.ops.filter((op) => !cuda.ops.includes(op));
}

function modelDevice(device: DeviceOption = 'auto'): DeviceName {
  checkOneOf('device', device, ['auto', 'cpu', 'cuda'] as const);
  if (device === 'cpu') return 'cpu';
  const missing = opsMissingOnCuda();
  if (missing.length === 0) return resolveDevice(device);
  if (device === 'cuda') {
    throw new Error(
      `gmn: the GMN model cannot run on CUDA in this build: it has no CUDA kernel for ${missing.join(', ')}; use device: 'cpu' or 'auto'`,
    );
  }
  return 'cpu';
}

export class GMN {
  readonly config: GMNConfig;
  readonly device: DeviceName;
  readonly params: Parameters;
  private readonly b: NativeBinding;

  /** What the file a model was loaded from says of its training (`loadModel`); empty for a new model. */
  info: Record<string, unknown> = {};

  /** The last recorded pass of each kind ('embed', 'sample'), run again while the shapes repeat. */
  private readonly recordings = new Map<string, Recorded>();

  /**
   * A new model, initialised as the paper's from `options.seed`, or holding `values` (every
   * parameter by name, as `parameterSpecs(config)` lists them).
   */
  constructor(config: Partial<GMNConfig> = {}, options: GMNOptions = {}, values?: Map<string, Float32Array>) {
    this.config = resolveConfig(config);
    this.device = modelDevice(options.device);
    this.b = loadBinding();
    const specs = parameterSpecs(this.config);
    this.params = values
      ? new Parameters(specs, this.b, this.device, (spec) => {
          const v = values.get(spec.name);
          if (!v) throw new Error(`gmn: no value given for parameter ${spec.name}`);
          return v;
        })
      : Parameters.initialise(specs, this.b, this.device, options.seed ?? 0);
  }

  /** Rows of a batch: episodes x positions. */
  get rows(): number {
    return this.config.batchSize * this.config.episodeLength;
  }

  /**
   * The loss of a batch of episodes x [batchSize, T, 784] (pixels in [0, 1]) and, when `backward`,
   * its gradient in `params.grads` (overwritten). With `backward`, the pass is recorded on the first
   * call and replayed after (see `releaseRecorded`); without, it runs on a tape of its own.
   */
  async loss(x: Float32Array, noise: Noise, backward: boolean): Promise<LossResult> {
    const { rows } = this;
    if (!(x instanceof Float32Array)) throw typeError('x', 'a Float32Array', x);
    if (x.length !== rows * PIXELS) throw rangeError('x', `${rows * PIXELS} values (batchSize x episodeLength x 784)`, x.length);
    if (backward) return this.trainingPass(x, noise);
    // A forward pass alone (validation) runs on a tape of its own; a kept training pass would hold
    // its memory meanwhile, so it is freed first.
    const train = this.recordings.get('train');
    if (train) this.forget(train);
    const tape = new Tape(this.b, this.device);
    try {
      const images = tape.constant(x, [rows, 1, IMAGE_SIDE, IMAGE_SIDE]);
      const { loss, terms } = this.build(tape, images, this.noise(tape, noise, [rows, this.config.latent]));
      await tape.sync();
      const [lossValue, termValues] = await Promise.all([loss.value.read(), terms.read()]);
      return { loss: lossValue[0], terms: termValues };
    } finally {
      tape.dispose();
    }
  }

  /**
   * The forward and backward pass of a batch, recorded once and replayed as one native job at each
   * call (the same ops in the same order: the same bits), so that a step costs the JavaScript
   * thread a few calls instead of issuing about 310 ops while the first of them run beside it on
   * the same cores. The noise is drawn (or written) into the pass's input before it runs; the loss
   * and the terms are read after it.
   */
  private async trainingPass(x: Float32Array, noise: Noise): Promise<LossResult> {
    const { rows } = this;
    const Z = this.config.latent;
    checkNoise(noise, rows, Z, 'rows');
    const r = this.recorded('train', `${rows}`, (tape) => {
      const images = tape.input([rows, 1, IMAGE_SIDE, IMAGE_SIDE]);
      const eps = tape.input([rows, Z]);
      const { loss, terms } = this.build(tape, images, eps);
      tape.seed(loss);
      tape.issueBackward();
      return { inputs: [images.value, eps.value], output: terms, reads: [loss.value] };
    });
    const [images, eps] = r.inputs;
    const fed = this.feedNoise(eps, noise);
    const run = r.program.run([images, ...fed.inputs], [x, ...fed.data], r.output);
    const [termValues, lossValue] = await Promise.all([run, r.reads[0].read(), fed.drawn]);
    return { loss: lossValue[0], terms: termValues! };
  }

  /** psi, the encoder's 288-d embedding, of n images x [n, 784] (pixels in [0, 1]): [n, 288]. */
  async embed(x: Float32Array): Promise<Float32Array> {
    const n = checkImages('x', x);
    const r = this.recorded('embed', `${n}`, (tape) => {
      const net = this.net(tape);
      const images = tape.input([n, 1, IMAGE_SIDE, IMAGE_SIDE]);
      return { inputs: [images.value], output: this.encode(net.L, images, net.p).value };
    });
    try {
      return (await r.program.run(r.inputs, [x], r.output))!;
    } finally {
      if (n > KEPT_ROWS.embed) this.forget(r);
    }
  }

  /**
   * What does not depend on z, for `episodes` whole episodes x [episodes, length, 784]: per row, psi
   * and the Gaussians of q(z | x_t, x_<t) and p(z | x_<t). Computed once per episode, however many
   * samples of z `sampleEpisodes` draws from it later.
   */
  async episodeStats(x: Float32Array, episodes: number): Promise<EpisodeStats> {
    const rows = checkImages('x', x);
    checkInteger('episodes', episodes, 1);
    if (rows % episodes !== 0) throw rangeError('x', `a whole number of images per episode (${episodes} episodes)`, x.length);
    return this.run(async (tape) => {
      const net = this.net(tape);
      const psi = this.encode(net.L, tape.constant(x, [rows, 1, IMAGE_SIDE, IMAGE_SIDE]), net.p);
      const q = this.posterior(net, this.reader(net, 'shared', psi, episodes), psi);
      const prior = this.prior(net, this.reader(net, 'prior', psi, episodes));
      await tape.sync();
      const [psiV, muQ, preQ, muP, preP] = await Promise.all([psi, q.mu, q.pre, prior.mu, prior.pre].map((v) => v.value.read()));
      return { episodes, length: rows / episodes, x, psi: psiV, q: { mu: muQ, pre: preQ }, prior: { mu: muP, pre: preP } };
    });
  }

  /**
   * Draws `samples` values of z for every row of the chosen episodes of `stats` (z = mu + sigma *
   * noise, from q or from the prior) and decodes them, each sample reading the memory of its own
   * episode. Rows come out episode-major, then sample, then position: row (i * samples + s) * P + j
   * is sample s of position `positions[j]` of episode `episodes[i]`, P = positions.length. Returns per row the ELBO terms
   * [log p(x_t | z, x_<t), log p(z | x_<t), log q(z | x_<=t)] and, when asked, the Bernoulli logits.
   */
  async sampleEpisodes(stats: EpisodeStats, options: SampleEpisodesOptions): Promise<{ terms: Float32Array; logits?: Float32Array }> {
    const { length } = stats;
    const chosen = options.episodes ?? [...Array(stats.episodes).keys()];
    chosen.forEach((e, i) => checkInteger(`options.episodes[${i}]`, e, 0, stats.episodes - 1));
    const samples = checkInteger('options.samples', options.samples, 1);
    const from = checkOneOf('options.from', options.from ?? 'posterior', ['posterior', 'prior'] as const);
    const rows = chosen.length * samples * length;
    const Z = this.config.latent;
    const tile = (a: Float32Array, width: number) => {
      const out = new Float32Array(rows * width);
      let at = 0;
      for (const e of chosen) {
        const block = a.subarray(e * length * width, (e + 1) * length * width);
        for (let s = 0; s < samples; s++, at += block.length) out.set(block, at);
      }
      return out;
    };
    const positions = options.positions ?? [...Array(length).keys()];
    if (!Array.isArray(positions) || positions.length === 0) throw typeError('options.positions', 'a non-empty array of positions', positions);
    positions.forEach((t, i) => checkInteger(`options.positions[${i}]`, t, 0, length - 1));
    const every = positions.length === length && positions.every((t, i) => t === i);
    return this.run(async (tape) => {
      const net = this.net(tape);
      const c = (a: Float32Array, width: number) => tape.constant(tile(a, width), [rows, width]);
      const psi = c(stats.psi, FEATURES);
      const q = { mu: c(stats.q.mu, Z), pre: c(stats.q.pre, Z) };
      const prior = { mu: c(stats.prior.mu, Z), pre: c(stats.prior.pre, Z) };
      const source = from === 'posterior' ? q : prior;
      let z = net.L.gaussianSample(source.mu, source.pre, this.noise(tape, options.noise, [rows, Z]));
      let input = this.likelihoodInput(net, this.reader(net, 'shared', psi, chosen.length * samples), z);
      let x = c(stats.x, PIXELS);
      let [qs, ps] = [q, prior];
      if (!every) {
        // Every position reads its episode, but only the chosen ones are decoded: their rows are
        // gathered before the decoder, where most of the work is.
        await tape.sync();
        const keep: number[] = [];
        for (let e = 0; e < chosen.length * samples; e++) for (const t of positions) keep.push(e * length + t);
        const gather = async (v: Var) => {
          const width = v.shape[1];
          const all = await v.value.read();
          const out = new Float32Array(keep.length * width);
          keep.forEach((r, i) => out.set(all.subarray(r * width, (r + 1) * width), i * width));
          return tape.constant(out, [keep.length, width]);
        };
        [z, input, x] = await Promise.all([gather(z), gather(input), gather(x)]);
        qs = { mu: await gather(q.mu), pre: await gather(q.pre) };
        ps = { mu: await gather(prior.mu), pre: await gather(prior.pre) };
      }
      const logits = this.decode(net.L, input, net.p);
      const n = logits.shape[0];
      const { terms } = net.L.elbo(logits, x, z, qs, ps, tape.constant(new Float32Array(n), [n]));
      await tape.sync();
      return { terms: await terms.read(), ...(options.logits ? { logits: await logits.value.read() } : {}) };
    });
  }

  /**
   * Bernoulli logits [n, 784] of n new images given k support images x [k, 784] (pixels in [0, 1];
   * k = 0: none, the pseudo-inputs stand in): z = mu + sigma * noise from the prior p(z | supports)
   * at the position after them, decoded after the likelihood's read of the supports. The same
   * computation as the exported 'sampler' graph, and as decoding that position of an episode
   * [supports, query] with `sampleEpisodes`, but each new image reads only the supports' memory.
   * `noise` is [n, latent] standard normal values, or drawn natively from (seed, offset).
   */
  async sampleLogits(support: Float32Array, options: { n: number; noise: Noise }): Promise<Float32Array> {
    if (!(support instanceof Float32Array)) throw typeError('support', 'a Float32Array of 28x28 images', support);
    if (support.length % PIXELS !== 0) throw rangeError('support', 'a multiple of 784 values (images of 28x28)', support.length);
    const k = support.length / PIXELS;
    const n = checkInteger('options.n', options.n, 1);
    const Z = this.config.latent;
    const { noise } = options;
    checkNoise(noise, n, Z, 'n');
    const r = this.recorded('sample', `${k} ${n}`, (tape) => {
      const net = this.net(tape);
      const { L, p } = net;
      const eps = tape.input([n, Z]);
      const supports = k > 0 ? tape.input([k, 1, IMAGE_SIDE, IMAGE_SIDE]) : null;
      const psi = supports && this.encode(L, supports, p);
      const prior = this.prior(net, this.supportReader(net, 'prior', psi, 1));
      const broadcast = (v: Var) => L.broadcastRows(L.reshape(v, [Z]), n);
      const z = L.gaussianSample(broadcast(prior.mu), broadcast(prior.pre), eps);
      const logits = this.decode(L, this.likelihoodInput(net, this.supportReader(net, 'shared', psi, n), z), p);
      return { inputs: supports ? [eps.value, supports.value] : [eps.value], output: logits.value };
    });
    const [eps, supports] = r.inputs;
    const fed = this.feedNoise(eps, noise);
    const inputs = [...fed.inputs, ...(supports ? [supports] : [])];
    const data = [...fed.data, ...(supports ? [support] : [])];
    try {
      const [logits] = await Promise.all([r.program.run(inputs, data, r.output), fed.drawn]);
      return logits!;
    } finally {
      if (n > KEPT_ROWS.sample) this.forget(r);
    }
  }

  /**
   * The recorded pass `kind` for `key` (its shapes): recorded now, through `build` on a tape of its
   * own, unless the last one of this kind has the same key; it replaces that one.
   */
  private recorded(kind: string, key: string, build: (tape: Tape) => Built): Recorded {
    const last = this.recordings.get(kind);
    if (last?.key === key) return last;
    if (last) this.forget(last);
    const tape = new Tape(this.b, this.device);
    let built: Built | undefined;
    let program: NativeProgram;
    this.b.beginRecording();
    try {
      built = build(tape);
    } finally {
      program = this.b.endRecording();
      if (!built) {
        program.dispose();
        tape.dispose();
      }
    }
    const r = { kind, key, program, tape, reads: [], ...built };
    this.recordings.set(kind, r);
    return r;
  }

  /**
   * Frees the recorded passes kept for the next call of the same shapes (`embed`, `sampleLogits`,
   * and the training pass of `loss`, which holds a step's activations and gradients: a few hundred
   * MB in the paper's configuration). The next call records again.
   */
  releaseRecorded(): void {
    for (const r of [...this.recordings.values()]) this.forget(r);
  }

  /** Frees a recorded pass (work already issued on it still completes). */
  private forget(r: Recorded): void {
    r.program.dispose();
    r.tape.dispose();
    if (this.recordings.get(r.kind) === r) this.recordings.delete(r.kind);
  }

  /** Runs forward-only work on a tape of its own and frees the tape's tensors afterwards. */
  private async run<R>(work: (tape: Tape) => Promise<R>): Promise<R> {
    const tape = new Tape(this.b, this.device);
    try {
      return await work(tape);
    } finally {
      tape.dispose();
    }
  }

  /** The loss of the images [rows, 1, 28, 28] with standard normal noise eps [rows, latent], and its terms. */
  private build(tape: Tape, images: Var, eps: Var): { loss: Var; terms: NativeTensor } {
    const c = this.config;
    const { rows } = this;
    const B = c.batchSize, T = c.episodeLength;
    const net = this.net(tape);
    const psi = this.encode(net.L, images, net.p);
    const shared = this.reader(net, 'shared', psi, B);
    const q = this.posterior(net, shared, psi);
    const z = net.L.gaussianSample(q.mu, q.pre, eps);
    const prior = this.prior(net, this.reader(net, 'prior', psi, B));
    const logits = this.decode(net.L, this.likelihoodInput(net, shared, z), net.p);

    const weight = new Float32Array(rows);
    for (let row = 0; row < rows; row++) weight[row] = c.conditional && row % T < c.maxClasses ? 0 : 1 / B;
    const pixels = tape.reshape(images, [rows, PIXELS]);
    return net.L.elbo(logits, pixels, z, q, prior, tape.constant(weight, [rows]));
  }

  /** The layers of a tape and the model's parameters as variables on it. */
  private net(tape: Tape): Net {
    const L = new Layers(tape);
    const vars = new Map<string, Var>();
    for (const [name, value] of this.params.values) vars.set(name, tape.parameter(value, this.params.grads.get(name)!));
    const p = (name: string) => {
      const v = vars.get(name);
      if (!v) throw new Error(`gmn: missing parameter ${name}`);
      return v;
    };
    const has = (name: string) => vars.has(name);
    const lin = (input: Var, name: string) => L.linear(input, p(`${name}.weight`), p(`${name}.bias`));
    return { tape, L, p, has, lin };
  }

  /** A reader's memory over `psi` (rows of `episodes` whole episodes) and its parameters. */
  private reader(net: Net, r: 'shared' | 'prior', psi: Var, episodes: number): Reader {
    const { p, has } = net;
    return {
      values: psi,
      keys: this.keys(net, r, psi),
      episodes,
      pseudoPositions: this.config.conditional ? 1 : psi.shape[0] / episodes,
      ...this.readerParameters(net, r),
      pseudoKeys: has(`${r}.pseudo.key`) ? p(`${r}.pseudo.key`) : null,
      pseudoValues: has(`${r}.pseudo.value`) ? p(`${r}.pseudo.value`) : null,
    };
  }

  /**
   * A reader for `rows` new positions, each reading the k supports (psi [k, 288], or null for none)
   * and the pseudo-inputs, as the position after the supports in an episode would (a conditional
   * model's pseudo-inputs only when k = 0). The memory goes in the read's pseudo-slots, which every
   * row reads; each row is an episode of one position, whose own slot no row reads.
   */
  private supportReader(net: Net, r: 'shared' | 'prior', psi: Var | null, rows: number): Reader {
    const { L, p, has } = net;
    const pseudo = has(`${r}.pseudo.key`) && !(this.config.conditional && psi);
    const keys = [psi && this.keys(net, r, psi), pseudo ? p(`${r}.pseudo.key`) : null].filter((v): v is Var => v !== null);
    const values = [psi, pseudo ? p(`${r}.pseudo.value`) : null].filter((v): v is Var => v !== null);
    // rows of several [m, width] matrices, one after the other: as one row of [1, m * width] each
    const stack = (parts: Var[]) => {
      if (parts.length <= 1) return parts[0] ?? null;
      const width = parts[0].shape[1];
      const joined = L.concat(parts.map((v) => L.reshape(v, [1, v.shape[0] * width])));
      return L.reshape(joined, [joined.shape[1] / width, width]);
    };
    const unread = (width: number) => net.tape.result(net.tape.tensor([rows, width]), []);
    return {
      values: unread(FEATURES),
      keys: unread(this.config.keySize),
      episodes: rows,
      pseudoPositions: 1,
      ...this.readerParameters(net, r),
      pseudoKeys: stack(keys),
      pseudoValues: stack(values),
    };
  }

  /** The keys of a reader's memory: [rows of psi, keySize]. */
  private keys(net: Net, r: 'shared' | 'prior', psi: Var): Var {
    const { L, p } = net;
    return L.linearPrelu(psi, p(`${r}.key.weight`), p(`${r}.key.bias`), p(`${r}.key.slope`));
  }

  private readerParameters(net: Net, r: 'shared' | 'prior') {
    const { p } = net;
    return {
      h0: p(`${r}.h0`),
      gru: {
        wGates: p(`${r}.gru.gates.weight`),
        bGates: p(`${r}.gru.gates.bias`),
        wCand: p(`${r}.gru.cand.weight`),
        bCand: p(`${r}.gru.cand.bias`),
        slope: p(`${r}.gru.cand.slope`),
      },
    };
  }

  /**
   * K hops of matching over the reader's memory (K = 0: average matching), each followed by a GRU
   * update of the state h of every row of the reader.
   */
  private read(net: Net, R: Reader, hops: number, query: (h: Var) => Var, strength: string) {
    const { L, lin } = net;
    const { episodes, pseudoPositions } = R;
    let h = L.broadcastRows(R.h0, R.values.shape[0]);
    let r: Var | null = null;
    for (let k = 0; k < Math.max(hops, 1); k++) {
      const memory = { values: R.values, pseudoKeys: R.pseudoKeys, pseudoValues: R.pseudoValues };
      r =
        hops === 0
          ? L.attention({ ...memory, query: null, keys: null, strength: null }, episodes, 'average', pseudoPositions)
          : L.attention({ ...memory, query: query(h), keys: R.keys, strength: lin(h, strength) }, episodes, this.config.similarity, pseudoPositions);
      h = L.gru(L.concat([r, h]), h, R.gru);
    }
    return { r: r!, h };
  }

  /** Recognition q(z | x_t, x_<t): mu and pre-sigma per row. */
  private posterior(net: Net, shared: Reader, psi: Var): Gaussian {
    const { L, lin } = net;
    const q = this.read(net, shared, this.config.hops, (h) => lin(L.concat([h, psi]), 'rec.query'), 'rec.strength');
    const input = L.concat([psi, q.r, q.h]);
    return { mu: lin(input, 'rec.mu'), pre: lin(input, 'rec.sigma') };
  }

  /** The conditional prior p(z | x_<t). */
  private prior(net: Net, prior: Reader): Gaussian {
    const { L, lin, p } = net;
    const pr = this.read(net, prior, this.config.priorHops, (h) => lin(h, 'prior.query'), 'prior.strength');
    const hidden = L.linearPrelu(L.concat([pr.r, pr.h]), p('prior.hidden.weight'), p('prior.hidden.bias'), p('prior.hidden.slope'));
    return { mu: lin(hidden, 'prior.mu'), pre: lin(hidden, 'prior.sigma') };
  }

  /** The decoder's input [z, r, h] of every row, after the likelihood's read. */
  private likelihoodInput(net: Net, shared: Reader, z: Var): Var {
    const { L, lin } = net;
    const g = this.read(net, shared, this.config.hops, (h) => lin(L.concat([h, z]), 'gen.query'), 'gen.strength');
    return L.concat([z, g.r, g.h]);
  }

  /**
   * Noise for a recorded pass's input eps: values given go in with the run's inputs (`inputs`,
   * `data`); a (seed, offset) is drawn into eps natively, a job issued before the run (`drawn`).
   */
  private feedNoise(eps: NativeTensor, noise: Noise): { inputs: NativeTensor[]; data: Float32Array[]; drawn?: Promise<void> } {
    if (noise instanceof Float32Array) return { inputs: [eps], data: [noise] };
    return { inputs: [], data: [], drawn: this.b.randomNormal(eps, noise.seed, noise.offset) };
  }

  private noise(tape: Tape, noise: Noise, shape: number[]): Var {
    checkNoise(noise, shape[0], shape[1], 'rows');
    if (noise instanceof Float32Array) return tape.constant(noise, shape);
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
      // avgpool(conv1x1(x)) as the equal conv1x1(avgpool(x)): both are linear and act on different
      // axes, and pooling the fewer input channels, then convolving the pooled pixels, is cheaper.
      const pooled = L.avgPool2d(x, k, 2);
      const shortcut = L.conv2d(pooled, p(`${s}.shortcut.weight`), 1, 0, 0, [pooled.shape[2], pooled.shape[3]]);
      x = L.residualBlock(h, p(`${s}.block.weight`), p(`${s}.block.slope`), shortcut); // block + shortcut
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
      const shortcut = L.resizeBilinear(L.convTranspose2d(x, p(`${s}.shortcut.weight`), 1), [h.shape[2], h.shape[3]]);
      x = L.residualBlock(h, p(`${s}.block.weight`), p(`${s}.block.slope`), shortcut); // block + shortcut
    });
    const logits = L.conv2d(x, p('dec.out.weight'), 1, 0, 0, [IMAGE_SIDE, IMAGE_SIDE]);
    return L.reshape(logits, [rows, PIXELS]);
  }

  dispose(): void {
    this.releaseRecorded();
    this.params.dispose();
  }
}

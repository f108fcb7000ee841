// exportONNX(): the model's inference graphs as ONNX, composed from standard operators, with the
// weights as initializers. The same computation as GMN (docs/model.md): the episode is the k
// supports, then the query position, which reads every support and the pseudo-inputs.
import { checkOneOf, rangeError, typeError } from '../errors.js';
import { FEATURES, IMAGE_SIDE } from '../model/config.js';
import type { GMN } from '../model/gmn.js';
import { DECODER_SECTIONS, ENCODER_SECTIONS } from '../model/parameters.js';
import { GraphBuilder } from './graph.js';

export const ONNX_GRAPHS = ['encoder', 'sampler', 'scorer'] as const;
/**
 * 'encoder': images [n,1,28,28] -> psi [n,288].
 * 'sampler': support [k,1,28,28] (k may be 0) and noise [n,Z] -> Bernoulli means [n,1,28,28] of new images given the supports.
 * 'scorer': support [k,1,28,28], query [m,1,28,28] and noise [m,Z] -> terms [m,3] of each query given the supports:
 * log p(x|z), log p(z|supports), log q(z|x, supports) for z = mu_q + sigma_q * noise (their sum is the ELBO).
 */
export type OnnxGraph = (typeof ONNX_GRAPHS)[number];

export interface ExportOptions {
  graph: OnnxGraph;
}

type V = string;

export async function exportONNX(model: GMN, options: ExportOptions): Promise<Uint8Array> {
  if (typeof options !== 'object' || options === null) throw typeError('options', 'an object', options);
  const graph = checkOneOf('options.graph', options.graph, ONNX_GRAPHS);
  const c = model.config;
  if (c.architecture !== 'conv') throw rangeError('model.config.architecture', "'conv' (the fc variant has no ONNX export yet)", c.architecture);
  if (c.conditional) throw rangeError('model.config.conditional', 'false (conditional models have no ONNX export yet)', c.conditional);
  if (graph !== 'encoder' && c.pseudoInputs === 0) throw rangeError('model.config.pseudoInputs', 'at least 1 (k = 0 reads only the pseudo-inputs)', 0);
  const values = new Map<string, { data: Float32Array; shape: number[] }>();
  for (const [name, t] of model.params.values) values.set(name, { data: await t.read(), shape: t.shape });
  const e = new Emitter(new GraphBuilder(`gmn-${graph}`), values, model);
  const g = e.g;
  const image = (name: string, rows: string) => g.input(name, [rows, 1, IMAGE_SIDE, IMAGE_SIDE]);
  if (graph === 'encoder') {
    g.output(e.encode(image('images', 'n')), 'psi', ['n', FEATURES]);
  } else {
    const support = e.encode(image('support', 'k'));
    const shared = e.memory('shared', support);
    const prior = e.priorOf(e.memory('prior', support));
    if (graph === 'sampler') {
      const noise = g.input('noise', ['n', c.latent]);
      const z = e.sample(prior, noise);
      g.output(g.op('Sigmoid', [e.likelihood(shared, z)]), 'means', ['n', 1, IMAGE_SIDE, IMAGE_SIDE]);
    } else {
      const query = image('query', 'm');
      const noise = g.input('noise', ['m', c.latent]);
      const q = e.posterior(shared, e.encode(query));
      const z = e.sample(q, noise);
      const logits = e.likelihood(shared, z);
      const logLik = g.op('ReduceSum', [g.op('Sub', [g.op('Mul', [query, logits]), g.op('Softplus', [logits])]), g.ints('pixel_axes', [1, 2, 3])], { keepdims: 0 });
      const column = (v: V) => g.op('Unsqueeze', [v, g.ints(`col_${v}`, [1])]);
      g.output(g.op('Concat', [column(logLik), column(e.logNormal(z, prior)), column(e.logNormal(z, q))], { axis: 1 }), 'terms', ['m', 3]);
    }
  }
  return g.encode('gmn');
}

type Gaussian = { mu: V; sigma: V };
type Memory = { prefix: string; values: V; keys: V };

class Emitter {
  private readonly added = new Set<string>();

  constructor(
    readonly g: GraphBuilder,
    private readonly values: Map<string, { data: Float32Array; shape: number[] }>,
    private readonly model: GMN,
  ) {}

  /** A parameter as an initializer, optionally viewed with another shape. */
  p(name: string, shape?: number[]): V {
    const v = this.values.get(name);
    if (!v) throw new Error(`gmn: the model has no parameter ${name}`);
    const id = shape ? `${name}:${shape.join('x')}` : name;
    if (!this.added.has(id)) {
      this.g.constant(id, v.data, shape ?? v.shape);
      this.added.add(id);
    }
    return id;
  }

  private scalar(value: number): V {
    const id = `scalar_${value}`;
    if (!this.added.has(id)) {
      this.g.constant(id, [value], []);
      this.added.add(id);
    }
    return id;
  }

  linear(x: V, name: string): V {
    return this.g.op('Gemm', [x, this.p(`${name}.weight`), this.p(`${name}.bias`)], { transB: 1 });
  }

  /** PReLU with per-channel slopes: channels on axis 1 of a 2-d or 4-d tensor. */
  prelu(x: V, slope: string, rank: 2 | 4): V {
    const n = this.values.get(slope)!.shape[0];
    return this.g.op('PRelu', [x, this.p(slope, rank === 4 ? [n, 1, 1] : [n])]);
  }

  concat(parts: V[], axis: number): V {
    return this.g.op('Concat', parts, { axis });
  }

  conv(x: V, weight: string, stride: number, pads: number[]): V {
    return this.g.op('Conv', [x, this.p(weight)], { strides: [stride, stride], pads });
  }

  /** TensorFlow's SAME convolution at stride 1: the smaller half of the padding at the top/left. */
  convSame(x: V, weight: string): V {
    const k = this.values.get(weight)!.shape[2];
    const lo = (k - 1) >> 1;
    return this.conv(x, weight, 1, [lo, lo, k - 1 - lo, k - 1 - lo]);
  }

  /** psi [N, 288]. */
  encode(images: V): V {
    let x = images;
    ENCODER_SECTIONS.forEach(([, , k], i) => {
      const s = `enc.s${i + 1}`;
      const h = this.prelu(this.conv(x, `${s}.conv.weight`, 2, [0, 0, 0, 0]), `${s}.conv.slope`, 4);
      const block = this.prelu(this.g.op('Add', [h, this.convSame(h, `${s}.block.weight`)]), `${s}.block.slope`, 4);
      // conv1x1(avgpool(x)), in the native model's order (docs/model.md)
      const shortcut = this.conv(this.g.op('AveragePool', [x], { kernel_shape: [k, k], strides: [2, 2] }), `${s}.shortcut.weight`, 1, [0, 0, 0, 0]);
      x = this.g.op('Add', [block, shortcut]);
    });
    return this.g.op('Reshape', [x, this.g.ints(`psi_shape_${x}`, [-1, FEATURES])]);
  }

  /** A reader's memory: the supports' psi and keys, then the pseudo-inputs'. */
  memory(prefix: string, psi: V): Memory {
    const keys = this.prelu(this.linear(psi, `${prefix}.key`), `${prefix}.key.slope`, 2);
    return {
      prefix,
      values: this.concat([psi, this.p(`${prefix}.pseudo.value`)], 0),
      keys: this.concat([keys, this.p(`${prefix}.pseudo.key`)], 0),
    };
  }

  /** `rows` copies of the reader's learned initial state: [rows of like, H]. */
  private initialState(prefix: string, like: V | null): V {
    const h0 = this.p(`${prefix}.h0`, [1, this.model.config.stateSize]);
    if (!like) return h0;
    const rows = this.g.op('Slice', [this.g.op('Shape', [like]), this.g.ints('zero', [0]), this.g.ints('one', [1])]);
    return this.g.op('Expand', [h0, this.concat([rows, this.g.ints('state_size', [this.model.config.stateSize])], 0)]);
  }

  /** The matching read of every row over the whole memory, then the GRU update; `hops` times. */
  private read(m: Memory, hops: number, like: V | null, query: (h: V) => V, strength: string): { r: V; h: V } {
    const g = this.g;
    let h = this.initialState(m.prefix, like);
    let r = '';
    for (let k = 0; k < Math.max(hops, 1); k++) {
      if (hops === 0) {
        const mean = g.op('ReduceMean', [m.values], { axes: [0], keepdims: 1 });
        r = g.op('Expand', [mean, g.op('Concat', [g.op('Slice', [g.op('Shape', [h]), g.ints('zero', [0]), g.ints('one', [1])]), g.ints('features', [FEATURES])], { axis: 0 })]);
      } else {
        let q = query(h);
        let keys = m.keys;
        if (this.model.config.similarity === 'cosine') {
          const unit = (x: V) => g.op('Div', [x, g.op('Max', [g.op('ReduceL2', [x], { axes: [1], keepdims: 1 }), this.scalar(1e-8)])]);
          q = unit(q);
          keys = unit(keys);
        }
        const beta = g.op('Clip', [this.linear(h, strength), this.scalar(1e-10), this.scalar(10)]);
        const weights = g.op('Softmax', [g.op('Mul', [g.op('MatMul', [q, g.op('Transpose', [keys])]), beta])], { axis: 1 });
        r = g.op('MatMul', [weights, m.values]);
      }
      h = this.gru(this.concat([r, h], 1), h, `${m.prefix}.gru`);
    }
    return { r, h };
  }

  /** The authors' GRU cell with a PReLU candidate. */
  private gru(x: V, h: V, prefix: string): V {
    const g = this.g;
    const H = this.model.config.stateSize;
    const gates = g.op('Sigmoid', [this.linear(this.concat([x, h], 1), `${prefix}.gates`)]);
    const reset = g.op('Slice', [gates, g.ints('zero', [0]), g.ints('state_size', [H]), g.ints('one', [1])]);
    const update = g.op('Slice', [gates, g.ints('state_size', [H]), g.ints('two_state_size', [2 * H]), g.ints('one', [1])]);
    const cand = this.prelu(this.linear(this.concat([x, g.op('Mul', [reset, h])], 1), `${prefix}.cand`), `${prefix}.cand.slope`, 2);
    return g.op('Add', [cand, g.op('Mul', [update, g.op('Sub', [h, cand])])]);
  }

  private gaussian(x: V, mu: string, pre: string): Gaussian {
    const clipped = this.g.op('Clip', [this.linear(x, pre), this.scalar(-10), this.scalar(10)]);
    return { mu: this.linear(x, mu), sigma: this.g.op('Softplus', [clipped]) };
  }

  /** p(z | supports) at the query position: one row. */
  priorOf(m: Memory): Gaussian {
    const pr = this.read(m, this.model.config.priorHops, null, (h) => this.linear(h, 'prior.query'), 'prior.strength');
    const hidden = this.prelu(this.linear(this.concat([pr.r, pr.h], 1), 'prior.hidden'), 'prior.hidden.slope', 2);
    return this.gaussian(hidden, 'prior.mu', 'prior.sigma');
  }

  /** q(z | x, supports) of each query row (psi of the queries). */
  posterior(shared: Memory, psi: V): Gaussian {
    const q = this.read(shared, this.model.config.hops, psi, (h) => this.linear(this.concat([h, psi], 1), 'rec.query'), 'rec.strength');
    return this.gaussian(this.concat([psi, q.r, q.h], 1), 'rec.mu', 'rec.sigma');
  }

  sample(d: Gaussian, noise: V): V {
    return this.g.op('Add', [d.mu, this.g.op('Mul', [d.sigma, noise])]);
  }

  /** Bernoulli logits [rows, 1, 28, 28] of p(x | z, supports). */
  likelihood(shared: Memory, z: V): V {
    const g = this.g;
    const rd = this.read(shared, this.model.config.hops, z, (h) => this.linear(this.concat([h, z], 1), 'gen.query'), 'gen.strength');
    let x = g.op('Reshape', [this.linear(this.concat([z, rd.r, rd.h], 1), 'dec.in'), g.ints('dec_in_shape', [-1, 32, 3, 3])]);
    let side = 3;
    DECODER_SECTIONS.forEach(([, co, k], i) => {
      const s = `dec.s${i + 1}`;
      side = (side - 1) * 2 + k;
      const h = this.prelu(g.op('ConvTranspose', [x, this.p(`${s}.conv.weight`)], { strides: [2, 2] }), `${s}.conv.slope`, 4);
      const block = this.prelu(g.op('Add', [h, this.convSame(h, `${s}.block.weight`)]), `${s}.block.slope`, 4);
      const wide = g.op('ConvTranspose', [x, this.p(`${s}.shortcut.weight`)], { strides: [1, 1] });
      // TensorFlow's legacy bilinear resize (no half-pixel centres): source = destination * in / out
      const sizes = g.op('Concat', [g.op('Slice', [g.op('Shape', [wide]), g.ints('zero', [0]), g.ints('one', [1])]), g.ints(`sizes_${co}_${side}`, [co, side, side])], { axis: 0 });
      const shortcut = g.op('Resize', [wide, '', '', sizes], { mode: 'linear', coordinate_transformation_mode: 'asymmetric' });
      x = g.op('Add', [block, shortcut]);
    });
    return this.conv(x, 'dec.out.weight', 1, [0, 0, 0, 0]);
  }

  /** log N(z; mu, sigma) summed over z's entries, per row: [rows]. */
  logNormal(z: V, d: Gaussian): V {
    const g = this.g;
    const u = g.op('Div', [g.op('Sub', [z, d.mu]), d.sigma]);
    const each = g.op('Sub', [g.op('Mul', [this.scalar(-0.5), g.op('Mul', [u, u])]), g.op('Add', [g.op('Log', [d.sigma]), this.scalar(0.5 * Math.log(2 * Math.PI))])]);
    return g.op('ReduceSum', [each, g.ints('latent_axis', [1])], { keepdims: 0 });
  }
}

// The GMN model in TensorFlow.js (@tensorflow/tfjs with its pure-JavaScript cpu backend, what a Node
// user has without a native addon): the training-step baseline of `npm run bench -- train-step`.
// Written from docs/model.md like the PyTorch reference beside it, with tfjs's own gradients and
// Adam; test/tfjs-reference.test.ts checks its loss, terms and gradients against the PyTorch
// reference's fixtures. Only the conv architecture (the paper's).
//
// Layout: tfjs convolutions are NHWC, so images are NHWC inside and flattened in C, H, W order (as
// docs/model.md) at the encoder's output and the decoder's input. Weights keep the package's layouts.
import * as tf from '@tensorflow/tfjs';

import { FEATURES as F, PIXELS, type GMNConfig } from '../../src/model/config.js';
import type { GMN } from '../../src/model/gmn.js';
import { DECODER_SECTIONS, ENCODER_SECTIONS } from '../../src/model/parameters.js';

/** A parameter as the package stores it: its shape and float32 values. */
export interface Weight {
  shape: number[];
  data: Float32Array;
}

type Params = Map<string, tf.Tensor>;

tf.enableProdMode(); // no per-op NaN checks, no console banner

export const version = tf.version.tfjs;

function param(p: Params, name: string): tf.Tensor {
  const v = p.get(name);
  if (!v) throw new Error(`tfjs GMN: no parameter ${name}`);
  return v;
}

/** relu(x) - slope * relu(-x): the authors' PReLU with derivative 0 at 0; slope on the last axis. */
function prelu(x: tf.Tensor, slope: tf.Tensor): tf.Tensor {
  return tf.sub(tf.relu(x), tf.mul(slope, tf.relu(tf.neg(x))));
}

/** x [N, in] -> x W^T + b, W [out, in]. */
function linear(p: Params, name: string, x: tf.Tensor): tf.Tensor {
  return tf.add(tf.matMul(x as tf.Tensor2D, param(p, `${name}.weight`) as tf.Tensor2D, false, true), param(p, `${name}.bias`));
}

/** [Co, Ci, kh, kw] (conv) or [Ci, Co, kh, kw] (transposed conv) -> tfjs's [kh, kw, ., .]. */
const filter = (w: tf.Tensor) => tf.transpose(w, [2, 3, 1, 0]) as tf.Tensor4D;

function encoder(p: Params, x: tf.Tensor): tf.Tensor {
  let h = tf.reshape(x, [-1, 28, 28, 1]) as tf.Tensor4D;
  ENCODER_SECTIONS.forEach(([, , k], i) => {
    const s = `enc.s${i + 1}`;
    let y = prelu(tf.conv2d(h, filter(param(p, `${s}.conv.weight`)), 2, 'valid'), param(p, `${s}.conv.slope`)) as tf.Tensor4D;
    y = prelu(tf.add(y, tf.conv2d(y, filter(param(p, `${s}.block.weight`)), 1, 'same')), param(p, `${s}.block.slope`)) as tf.Tensor4D;
    const shortcut = tf.avgPool(tf.conv2d(h, filter(param(p, `${s}.shortcut.weight`)), 1, 'valid'), k, 2, 'valid');
    h = tf.add(y, shortcut);
  });
  return tf.reshape(tf.transpose(h, [0, 3, 1, 2]), [-1, F]);
}

function decoder(p: Params, input: tf.Tensor): tf.Tensor {
  let h = tf.transpose(tf.reshape(linear(p, 'dec.in', input), [-1, 32, 3, 3]), [0, 2, 3, 1]) as tf.Tensor4D;
  DECODER_SECTIONS.forEach(([, co, k], i) => {
    const s = `dec.s${i + 1}`;
    const [n, hi, wi] = h.shape;
    const [ho, wo] = [(hi - 1) * 2 + k, (wi - 1) * 2 + k];
    let y = prelu(tf.conv2dTranspose(h, filter(param(p, `${s}.conv.weight`)), [n, ho, wo, co], 2, 'valid'), param(p, `${s}.conv.slope`)) as tf.Tensor4D;
    y = prelu(tf.add(y, tf.conv2d(y, filter(param(p, `${s}.block.weight`)), 1, 'same')), param(p, `${s}.block.slope`)) as tf.Tensor4D;
    const shortcut = tf.conv2dTranspose(h, filter(param(p, `${s}.shortcut.weight`)), [n, hi, wi, co], 1, 'valid');
    // TF 1.x legacy bilinear resize: no corner alignment, no half-pixel centres.
    h = tf.add(y, tf.image.resizeBilinear(shortcut, [ho, wo], false, false));
  });
  return tf.reshape(tf.conv2d(h, filter(param(p, 'dec.out.weight')), 1, 'valid'), [-1, PIXELS]);
}

/** The authors' GRU: (r, u) = sigmoid([x, h] Wg^T + bg); c = PReLU([x, r h] Wc^T + bc); h' = u h + (1 - u) c. */
function gruStep(p: Params, reader: string, x: tf.Tensor, h: tf.Tensor): tf.Tensor {
  const H = h.shape[1]!;
  const gates = tf.sigmoid(linear(p, `${reader}.gru.gates`, tf.concat([x, h], 1)));
  const [r, u] = tf.split(gates, [H, H], 1);
  const c = prelu(linear(p, `${reader}.gru.cand`, tf.concat([x, tf.mul(r, h)], 1)), param(p, `${reader}.gru.cand.slope`));
  return tf.add(tf.mul(u, h), tf.mul(tf.sub(1, u), c));
}

/** [T, T + P] 0/1: row t sees slots s < t and the pseudo-inputs (only at t = 0 when conditional). */
function visibility(T: number, P: number, conditional: boolean): number[][] {
  return Array.from({ length: T }, (_, t) =>
    Array.from({ length: T + P }, (_, s) => (s < t || (s >= T && (t === 0 || !conditional)) ? 1 : 0)));
}

/**
 * Every row's read at once. psi [B, T, F] values, keys [B, T, D]; query(h) -> [B*T, D] and
 * strength(h) -> [B*T, 1] for h [B*T, H]. Returns r [B*T, F] and h [B*T, H].
 */
function read(
  p: Params, c: GMNConfig, reader: string, psi: tf.Tensor, keys: tf.Tensor, hops: number,
  query: (h: tf.Tensor) => tf.Tensor, strength: (h: tf.Tensor) => tf.Tensor,
): [tf.Tensor, tf.Tensor] {
  const [B, T] = psi.shape as number[];
  const P = c.pseudoInputs;
  const tileB = (v: tf.Tensor) => tf.tile(tf.expandDims(v, 0), [B, 1, 1]);
  const values = P > 0 ? tf.concat([psi, tileB(param(p, `${reader}.pseudo.value`))], 1) : psi;
  let h = tf.add(tf.zeros([B * T, c.stateSize]), param(p, `${reader}.h0`));
  const mask = visibility(T, P, c.conditional);
  const anyVisible = tf.tensor(mask.map((row) => [row.some((v) => v > 0) ? 1 : 0]), [T, 1]);
  const flat = (v: tf.Tensor) => tf.reshape(v, [B * T, -1]);
  if (hops === 0) {
    const average = tileB(tf.tensor(mask.map((row) => {
      const n = Math.max(1, row.reduce((a, v) => a + v, 0));
      return row.map((v) => v / n);
    })));
    const r = flat(tf.matMul(average as tf.Tensor3D, values as tf.Tensor3D));
    return [r, gruStep(p, reader, tf.concat([r, h], 1), h)];
  }
  const allKeys = P > 0 ? tf.concat([keys, tileB(param(p, `${reader}.pseudo.key`))], 1) : keys;
  const visible = tf.tile(tf.expandDims(tf.tensor(mask, undefined, 'bool'), 0), [B, 1, 1]);
  const minusInf = tf.fill(visible.shape, -Infinity);
  let r = tf.zeros([B * T, F]);
  for (let hop = 0; hop < hops; hop++) {
    const q = tf.reshape(query(h), [B, T, -1]) as tf.Tensor3D;
    const beta = tf.reshape(tf.clipByValue(strength(h), 1e-10, 10), [B, T, 1]);
    let sim: tf.Tensor = tf.matMul(q, allKeys as tf.Tensor3D, false, true);
    if (c.similarity === 'cosine') {
      const qn = tf.expandDims(tf.norm(q, 'euclidean', -1), 2);
      const kn = tf.expandDims(tf.norm(allKeys, 'euclidean', -1), 1);
      sim = tf.div(sim, tf.maximum(tf.mul(qn, kn), 1e-8));
    }
    let logits = tf.where(visible, tf.mul(beta, sim), minusInf);
    logits = tf.where(tf.tile(tf.expandDims(tf.cast(anyVisible, 'bool'), 0), [B, 1, T + P]), logits, tf.zerosLike(logits));
    const w = tf.mul(tf.softmax(logits), anyVisible);
    r = flat(tf.matMul(w as tf.Tensor3D, values as tf.Tensor3D));
    h = gruStep(p, reader, tf.concat([r, h], 1), h);
  }
  return [r, h];
}

const logNormal = (z: tf.Tensor, mu: tf.Tensor, sigma: tf.Tensor) =>
  tf.mul(-0.5, tf.sum(tf.add(tf.add(tf.square(tf.div(tf.sub(z, mu), sigma)), Math.log(2 * Math.PI)), tf.mul(2, tf.log(sigma))), -1));

/** Per row (b*T + t) [log p(x|z), log p(z), log q(z)] as [B*T, 3], and the loss (minus the weighted ELBO over B). */
export function lossTerms(p: Params, c: GMNConfig, x: tf.Tensor2D, eps: tf.Tensor2D): { loss: tf.Scalar; terms: tf.Tensor } {
  if (c.architecture !== 'conv') throw new Error('tfjs GMN: only the conv architecture');
  const B = c.batchSize;
  const T = c.episodeLength;
  const psi = encoder(p, x);
  const psi3 = tf.reshape(psi, [B, T, F]);
  const keysOf = (reader: string) => tf.reshape(prelu(linear(p, `${reader}.key`, psi), param(p, `${reader}.key.slope`)), [B, T, -1]);
  const sharedKeys = keysOf('shared');

  const [rq, hq] = read(p, c, 'shared', psi3, sharedKeys, c.hops,
    (h) => linear(p, 'rec.query', tf.concat([h, psi], 1)), (h) => linear(p, 'rec.strength', h));
  const recIn = tf.concat([psi, rq, hq], 1);
  const muQ = linear(p, 'rec.mu', recIn);
  const sigmaQ = tf.softplus(tf.clipByValue(linear(p, 'rec.sigma', recIn), -10, 10));
  const z = tf.add(muQ, tf.mul(sigmaQ, eps));

  const [rp, hp] = read(p, c, 'prior', psi3, keysOf('prior'), c.priorHops,
    (h) => linear(p, 'prior.query', h), (h) => linear(p, 'prior.strength', h));
  const a = prelu(linear(p, 'prior.hidden', tf.concat([rp, hp], 1)), param(p, 'prior.hidden.slope'));
  const muP = linear(p, 'prior.mu', a);
  const sigmaP = tf.softplus(tf.clipByValue(linear(p, 'prior.sigma', a), -10, 10));

  const [rg, hg] = read(p, c, 'shared', psi3, sharedKeys, c.hops,
    (h) => linear(p, 'gen.query', tf.concat([h, z], 1)), (h) => linear(p, 'gen.strength', h));
  const logits = decoder(p, tf.concat([z, rg, hg], 1));

  const t0 = tf.sum(tf.sub(tf.mul(tf.neg(x), tf.softplus(tf.neg(logits))), tf.mul(tf.sub(1, x), tf.softplus(logits))), -1);
  const t1 = logNormal(z, muP, sigmaP);
  const t2 = logNormal(z, muQ, sigmaQ);
  const skipped = c.conditional ? Math.min(c.maxClasses, T) : 0;
  const weight = tf.tensor(Array.from({ length: B * T }, (_, i) => (i % T < skipped ? 0 : 1)));
  const loss = tf.div(tf.neg(tf.sum(tf.mul(tf.sub(tf.add(t0, t1), t2), weight))), B) as tf.Scalar;
  return { loss, terms: tf.stack([t0, t1, t2], 1) };
}

/** A copy of `model`'s weights, by parameter name. */
export async function weightsOf(model: GMN): Promise<Map<string, Weight>> {
  const weights = new Map<string, Weight>();
  for (const spec of model.params.specs) weights.set(spec.name, { shape: spec.shape, data: await model.params.values.get(spec.name)!.read() });
  return weights;
}

/** The model's weights as tfjs variables (float32), named as the package names them. */
export function variables(weights: Map<string, Weight>): Map<string, tf.Variable> {
  return new Map([...weights].map(([name, w]) => [name, tf.variable(tf.tensor(w.data, w.shape), true, name)]));
}

/** Loss, terms and the gradient of every parameter for one episode batch. */
export function lossAndGradients(c: GMNConfig, weights: Map<string, Weight>, x: Float32Array, eps: Float32Array) {
  const vars = variables(weights);
  try {
    const rows = c.batchSize * c.episodeLength;
    const xs = tf.tensor2d(x, [rows, PIXELS]);
    const es = tf.tensor2d(eps, [rows, c.latent]);
    let terms: tf.Tensor | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const out = lossTerms(vars, c, xs, es);
      terms = tf.keep(out.terms);
      return out.loss;
    }, [...vars.values()]);
    const result = {
      loss: value.dataSync()[0],
      terms: Float32Array.from(terms!.dataSync()),
      grads: new Map(Object.entries(grads).map(([name, g]) => [name, Float32Array.from(g.dataSync())])),
    };
    tf.dispose([xs, es, value, terms!, ...Object.values(grads)]);
    return result;
  } finally {
    tf.dispose([...vars.values()]);
  }
}

/**
 * Seconds of each of `steps` training steps (forward, backward, Adam with beta2 = 0.99 as the
 * package's), and the loss of the first. No warm-up step: a step takes minutes, next to which the
 * JIT's warm-up is nothing.
 */
export function stepSeconds(c: GMNConfig, weights: Map<string, Weight>, x: Float32Array, eps: Float32Array, steps: number) {
  const vars = variables(weights);
  const optimizer = tf.train.adam(1e-4, 0.9, 0.99, 1e-8);
  const rows = c.batchSize * c.episodeLength;
  const xs = tf.tensor2d(x, [rows, PIXELS]);
  const es = tf.tensor2d(eps, [rows, c.latent]);
  try {
    const seconds: number[] = [];
    let firstLoss = NaN;
    for (let i = 0; i < steps; i++) {
      const start = performance.now();
      const loss = optimizer.minimize(() => lossTerms(vars, c, xs, es).loss, true, [...vars.values()])!;
      const value = loss.dataSync()[0]; // waits for the step
      loss.dispose();
      seconds.push((performance.now() - start) / 1e3);
      if (i === 0) firstLoss = value;
    }
    return { firstLoss, seconds };
  } finally {
    optimizer.dispose();
    tf.dispose([xs, es, ...vars.values()]);
  }
}

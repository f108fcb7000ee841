// The native ops as differentiable layers on a Tape: each queues its forward op, and records the
// backward op that writes, or adds to (Tape.accumulateInto), its inputs' gradients.
import { Tape, Var } from '../autograd.js';
import type { NativeTensor } from '../native/binding.js';

export class Layers {
  constructor(readonly tape: Tape) {}

  private get b() {
    return this.tape.b;
  }

  /** A new result of `shape` computed from `inputs`. */
  private out(shape: number[], inputs: Var[]): Var {
    return this.tape.result(this.tape.tensor(shape), inputs);
  }

  private run(work: Promise<unknown>): void {
    this.tape.enqueue(work);
  }

  /** v's gradient (+)= gy, the gradient passed through unchanged (an input of an add). */
  private passGrad(gy: NativeTensor, v: Var): void {
    const g = v.grad();
    if (g) this.run(this.b.addScaled(gy, 1, g, this.tape.accumulateInto([v])));
  }

  linear(x: Var, weight: Var, bias: Var | null): Var {
    const y = this.out([x.shape[0], weight.shape[0]], bias ? [x, weight, bias] : [x, weight]);
    this.run(this.b.linearForward(x.value, weight.value, bias?.value ?? null, y.value));
    this.tape.record(y, () => {
      const acc = this.tape.accumulateInto([x, weight, bias]);
      this.run(this.b.linearBackward(x.value, weight.value, y.grad()!, x.grad(), weight.grad(), bias?.grad() ?? null, acc));
    });
    return y;
  }

  prelu(x: Var, slope: Var): Var {
    const y = this.out(x.shape, [x, slope]);
    this.run(this.b.preluForward(x.value, slope.value, y.value));
    this.tape.record(y, () => {
      const acc = this.tape.accumulateInto([x, slope]);
      this.run(this.b.preluBackward(x.value, slope.value, y.grad()!, x.grad(), slope.grad(), acc));
    });
    return y;
  }

  /** Linear, then PReLU with the layer's slopes. */
  linearPrelu(x: Var, weight: Var, bias: Var, slope: Var): Var {
    return this.prelu(this.linear(x, weight, bias), slope);
  }

  /** Convolution without bias; `size` is the output's [H, W]. */
  conv2d(x: Var, weight: Var, stride: number, padTop: number, padLeft: number, size: [number, number]): Var {
    const y = this.out([x.shape[0], weight.shape[0], ...size], [x, weight]);
    this.run(this.b.conv2dForward(x.value, weight.value, y.value, stride, padTop, padLeft));
    this.tape.record(y, () => {
      const acc = this.tape.accumulateInto([x, weight]);
      this.run(this.b.conv2dBackward(x.value, weight.value, y.grad()!, x.grad(), weight.grad(), stride, padTop, padLeft, acc));
    });
    return y;
  }

  /**
   * A residual block as one op: prelu(x + conv2d(x, weight), slope), the conv TensorFlow's SAME at
   * stride 1 (the smaller half of the padding at the top/left), plus `addend` (x's shape) where given:
   * add(block, addend) without the add's pass over the images.
   */
  residualBlock(x: Var, weight: Var, slope: Var, addend?: Var): Var {
    const y = this.out(x.shape, addend ? [x, weight, slope, addend] : [x, weight, slope]);
    const preActivation = this.tape.tensor(x.shape);
    this.run(this.b.residualBlockForward(x.value, weight.value, slope.value, addend?.value ?? null, y.value, preActivation));
    this.tape.record(y, () => {
      const gy = y.grad()!;
      const acc = this.tape.accumulateInto([x, weight, slope]);
      this.run(this.b.residualBlockBackward(x.value, weight.value, slope.value, preActivation, gy, x.grad(), weight.grad(), slope.grad(), acc));
      // The addend's gradient is gy: its buffer where the addend can adopt it (as the add's inputs
      // do; any later write to it is queued after the block's backward, which reads gy), else a copy.
      if (addend && (addend.root === x.root || !addend.adoptGrad(gy))) this.passGrad(gy, addend);
    });
    return y;
  }

  convTranspose2d(x: Var, weight: Var, stride: number): Var {
    const [n, , h, w] = x.shape;
    const [, co, kh, kw] = weight.shape;
    const y = this.out([n, co, (h - 1) * stride + kh, (w - 1) * stride + kw], [x, weight]);
    this.run(this.b.convTranspose2dForward(x.value, weight.value, y.value, stride));
    this.tape.record(y, () => {
      const acc = this.tape.accumulateInto([x, weight]);
      this.run(this.b.convTranspose2dBackward(x.value, weight.value, y.grad()!, x.grad(), weight.grad(), stride, acc));
    });
    return y;
  }

  avgPool2d(x: Var, kernel: number, stride: number): Var {
    const [n, c, h, w] = x.shape;
    const y = this.out([n, c, Math.floor((h - kernel) / stride) + 1, Math.floor((w - kernel) / stride) + 1], [x]);
    this.run(this.b.avgPool2dForward(x.value, y.value, kernel, stride));
    this.tape.record(y, () => this.run(this.b.avgPool2dBackward(y.grad()!, x.grad()!, kernel, stride, this.tape.accumulateInto([x]))));
    return y;
  }

  resizeBilinear(x: Var, size: [number, number]): Var {
    const y = this.out([x.shape[0], x.shape[1], ...size], [x]);
    this.run(this.b.resizeBilinearForward(x.value, y.value));
    this.tape.record(y, () => this.run(this.b.resizeBilinearBackward(y.grad()!, x.grad()!, this.tape.accumulateInto([x]))));
    return y;
  }

  add(a: Var, c: Var): Var {
    const y = this.out(a.shape, [a, c]);
    this.run(this.b.addForward(a.value, c.value, y.value));
    this.tape.record(y, () => {
      // The first input's gradient may be y's own buffer (nothing reads y's gradient after this
      // step, and the copy for the second input is queued first); one input twice gets copies.
      // When this add is the only consumer of both inputs, no later op writes either gradient,
      // so the second may share the buffer too.
      const gy = y.grad()!;
      const shared = a.root !== c.root && a.adoptGrad(gy);
      const both = shared && a.root.uses === 1 && c.root.uses === 1 && c.adoptGrad(gy);
      for (const v of both ? [] : shared ? [c] : [a, c]) this.passGrad(gy, v);
    });
    return y;
  }

  concat(parts: Var[]): Var {
    const y = this.out([parts[0].shape[0], parts.reduce((n, p) => n + p.shape[1], 0)], parts);
    this.run(this.b.concatForward(parts.map((p) => p.value), y.value));
    this.tape.record(y, () => {
      const acc = this.tape.accumulateInto(parts);
      this.run(this.b.concatBackward(y.grad()!, parts.map((p) => p.grad()), acc));
    });
    return y;
  }

  /** `rows` copies of a vector, as a [rows, n] matrix. */
  broadcastRows(vector: Var, rows: number): Var {
    const y = this.out([rows, vector.shape[0]], [vector]);
    this.run(this.b.broadcastRowsForward(vector.value, y.value));
    this.tape.record(y, () => this.run(this.b.broadcastRowsBackward(y.grad()!, vector.grad()!, this.tape.accumulateInto([vector]))));
    return y;
  }

  reshape(x: Var, shape: number[]): Var {
    return this.tape.reshape(x, shape);
  }

  /**
   * The causal matching read (docs/model.md, step 3). `query`, `keys` and `strength` are null for
   * average matching.
   */
  attention(
    read: {
      query: Var | null;
      keys: Var | null;
      strength: Var | null;
      values: Var;
      pseudoKeys: Var | null;
      pseudoValues: Var | null;
    },
    episodes: number,
    similarity: 'dot' | 'cosine' | 'average',
    pseudoPositions: number,
  ): Var {
    const { query, keys, strength, values, pseudoKeys, pseudoValues } = read;
    const rows = values.shape[0];
    const slots = rows / episodes + (pseudoValues ? pseudoValues.shape[0] : 0);
    const inputs = [query, keys, strength, values, pseudoKeys, pseudoValues].filter((v): v is Var => v !== null);
    const y = this.out(values.shape, inputs);
    const weights = this.tape.tensor([rows, slots]);
    const v = (x: Var | null) => x?.value ?? null;
    const g = (x: Var | null) => x?.grad() ?? null;
    const tensors = { query: v(query), keys: v(keys), pseudoKeys: v(pseudoKeys), values: values.value, pseudoValues: v(pseudoValues), strength: v(strength) };
    this.run(this.b.attentionForward({ ...tensors, out: y.value, weights, episodes, similarity, pseudoPositions }));
    this.tape.record(y, () => {
      // average matching reads no keys, so its pseudo-keys get no gradient
      const gradPseudoKeys = similarity === 'average' ? null : pseudoKeys;
      const accumulate = this.tape.accumulateInto([query, keys, gradPseudoKeys, values, pseudoValues, strength]);
      this.run(
        this.b.attentionBackward({
          ...tensors,
          weights,
          gradOut: y.grad()!,
          gradQuery: g(query),
          gradKeys: g(keys),
          gradPseudoKeys: g(gradPseudoKeys),
          gradValues: g(values),
          gradPseudoValues: g(pseudoValues),
          gradStrength: g(strength),
          episodes,
          similarity,
          pseudoPositions,
          accumulate,
        }),
      );
    });
    return y;
  }

  /** The authors' GRU cell with a PReLU candidate; `p` holds the cell's parameters. */
  gru(x: Var, h: Var, p: { wGates: Var; bGates: Var; wCand: Var; bCand: Var; slope: Var }): Var {
    const weights = [p.wGates, p.bGates, p.wCand, p.bCand, p.slope];
    const y = this.out(h.shape, [x, h, ...weights]);
    const saved = this.tape.tensor([h.shape[0], 4 * h.shape[1]]);
    const cell = { x: x.value, h: h.value, wGates: p.wGates.value, wCand: p.wCand.value, slope: p.slope.value };
    this.run(this.b.gruForward({ ...cell, bGates: p.bGates.value, bCand: p.bCand.value, out: y.value, saved }));
    this.tape.record(y, () => {
      const accumulate = this.tape.accumulateInto([x, h, ...weights]);
      this.run(
        this.b.gruBackward({
          ...cell,
          saved,
          gradOut: y.grad()!,
          gradX: x.grad(),
          gradH: h.grad(),
          gradWGates: p.wGates.grad(),
          gradBGates: p.bGates.grad(),
          gradWCand: p.wCand.grad(),
          gradBCand: p.bCand.grad(),
          gradSlope: p.slope.grad(),
          accumulate,
        }),
      );
    });
    return y;
  }

  /** z = mu + softplus(clip(preSigma)) * eps. */
  gaussianSample(mu: Var, preSigma: Var, eps: Var): Var {
    const z = this.out(mu.shape, [mu, preSigma]);
    this.run(this.b.gaussianSampleForward(mu.value, preSigma.value, eps.value, z.value));
    this.tape.record(z, () => {
      const acc = this.tape.accumulateInto([mu, preSigma]);
      this.run(this.b.gaussianSampleBackward(preSigma.value, eps.value, z.grad()!, mu.grad(), preSigma.grad(), acc));
    });
    return z;
  }

  /**
   * The fused ELBO: per-row terms [rows, 3] (log p(x|z), log p(z), log q(z)) and the weighted loss
   * [1]. Its backward is seeded with d loss = 1.
   */
  elbo(logits: Var, x: Var, z: Var, q: { mu: Var; pre: Var }, p: { mu: Var; pre: Var }, rowWeight: Var): { terms: NativeTensor; loss: Var } {
    const terms = this.tape.tensor([x.shape[0], 3]);
    const loss = this.out([1], [logits, z, q.mu, q.pre, p.mu, p.pre]);
    const inputs = { logits: logits.value, x: x.value, z: z.value, muQ: q.mu.value, preQ: q.pre.value, muP: p.mu.value, preP: p.pre.value, rowWeight: rowWeight.value };
    this.run(this.b.elboForward({ ...inputs, terms, loss: loss.value }));
    this.tape.record(loss, () => {
      const accumulate = this.tape.accumulateInto([logits, z, q.mu, q.pre, p.mu, p.pre]);
      this.run(
        this.b.elboBackward({
          ...inputs,
          gradLoss: loss.grad()!,
          gradLogits: logits.grad(),
          gradZ: z.grad(),
          gradMuQ: q.mu.grad(),
          gradPreQ: q.pre.grad(),
          gradMuP: p.mu.grad(),
          gradPreP: p.pre.grad(),
          accumulate,
        }),
      );
    });
    return { terms, loss };
  }
}

// Floating-point operations of one training step (forward and backward), counted from the
// configuration: 2 per multiply-add, backward = twice the forward for every matrix product and
// convolution (input and weight gradients). Element-wise work is left out.
import { FEATURES, PIXELS, type GMNConfig } from '../src/model/config.js';
import { DECODER_SECTIONS, ENCODER_SECTIONS, FC_HIDDEN, PRIOR_HIDDEN } from '../src/model/parameters.js';

export function stepFlops(c: GMNConfig): { conv: number; matmul: number; total: number } {
  const R = c.batchSize * c.episodeLength, F = FEATURES, H = c.stateSize, D = c.keySize, Z = c.latent, P = c.pseudoInputs;
  const train = 3; // forward + two backward products
  let conv = 0;
  let matmul = 0;
  const linear = (inp: number, out: number) => (matmul += train * 2 * R * inp * out);
  if (c.architecture === 'conv') {
    let side = 28;
    for (const [ci, co, k, kb] of ENCODER_SECTIONS) {
      const out = Math.floor((side - k) / 2) + 1;
      // the shortcut's 1x1 conv runs on the pooled input (docs/model.md)
      conv += train * 2 * R * (co * out * out * ci * k * k + co * out * out * co * kb * kb + co * out * out * ci);
      side = out;
    }
    side = 3;
    for (const [ci, co, k, kb] of DECODER_SECTIONS) {
      const out = (side - 1) * 2 + k;
      conv += train * 2 * R * (ci * side * side * co * k * k + co * out * out * co * kb * kb + ci * side * side * co);
      side = out;
    }
    conv += train * 2 * R * 16 * PIXELS;
    linear(Z + F + H, F);
  } else {
    linear(PIXELS, FC_HIDDEN);
    linear(FC_HIDDEN, F);
    linear(Z + F + H, FC_HIDDEN);
    linear(FC_HIDDEN, PIXELS);
  }
  const hop = (queryIn: number) => {
    linear(queryIn, D);
    linear(H, 1);
    linear(F + 2 * H, 2 * H);
    linear(F + 2 * H, H);
    matmul += train * 2 * R * (c.episodeLength + P) * (D + F);
  };
  linear(F, D);
  linear(F, D);
  for (let k = 0; k < Math.max(c.hops, 1); k++) {
    hop(H + F);
    hop(H + Z);
  }
  for (let k = 0; k < Math.max(c.priorHops, 1); k++) hop(H);
  linear(2 * F + H, Z);
  linear(2 * F + H, Z);
  linear(F + H, PRIOR_HIDDEN);
  linear(PRIOR_HIDDEN, Z);
  linear(PRIOR_HIDDEN, Z);
  return { conv, matmul, total: conv + matmul };
}

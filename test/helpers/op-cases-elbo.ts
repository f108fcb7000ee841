// Harness cases for the fused ELBO, Gaussian reparameterisation, native normal noise, optimizer updates and gradient norms.
import type { OpCase } from './op-harness.js';

export const elboCases: OpCase[] = [];

// Harness cases for the conv encoder and decoder: conv2d, transposed conv2d, average pooling, bilinear resize, elementwise add/accumulate.
import type { OpCase } from './op-harness.js';

export const convCases: OpCase[] = [];

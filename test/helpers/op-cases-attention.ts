// Harness cases for the attention read: concat/split, row broadcast, the causal matching read, the GRU cell.
import type { OpCase } from './op-harness.js';

export const attentionCases: OpCase[] = [];

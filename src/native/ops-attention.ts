// The typed contract of the attention read: concat/split, row broadcast, the causal matching read, the GRU cell.

export interface AttentionOps {}

// The typed contract of the conv encoder and decoder: conv2d, transposed conv2d, average pooling, bilinear resize, elementwise add/accumulate.

export interface ConvOps {}

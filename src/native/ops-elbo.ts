// The typed contract of the fused ELBO, Gaussian reparameterisation, native normal noise, optimizer updates and gradient norms.

export interface ElboOps {}

// The public API of gmn.
export { backends, resolveDevice, getThreads, setThreads, type DeviceOption } from './backend.js';
export { tensor, zeros, isTensor, type Tensor, type TensorOptions } from './tensor.js';
export { linearForward, linearBackward, preluForward, preluBackward } from './ops.js';
export type { BackendInfo, CpuBackendInfo, CudaBackendInfo, CudaDeviceInfo, DeviceName } from './native/binding.js';
export * from './data/index.js';

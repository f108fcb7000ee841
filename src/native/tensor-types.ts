// Types of native tensors and backends, shared by the binding contract and the op contracts (ops/).

export type DeviceName = 'cpu' | 'cuda';

/**
 * A float32 tensor owned by native code on one device. Work on tensors runs off the JS thread, in
 * the order it was issued (like a stream), and returns Promises. `dispose()` frees the handle at
 * once; work already queued keeps the memory alive until it finishes. The garbage collector frees
 * tensors that were never disposed.
 */
export interface NativeTensor {
  readonly shape: number[];
  readonly device: DeviceName;
  /** Number of elements. */
  readonly size: number;
  readonly disposed: boolean;
  /** Copies the contents into a new Float32Array (after all work queued before it). */
  read(): Promise<Float32Array>;
  /** Replaces the contents; `data.length` must equal `size`. The array is copied at the call. */
  write(data: Float32Array): Promise<void>;
  /** Sets every element to `value` (NaN allowed). */
  fill(value: number): Promise<void>;
  /** Whether the guard bytes around the data are intact (false means something wrote out of bounds). */
  checkGuards(): Promise<boolean>;
  dispose(): void;
  /** A view with another shape of the same number of elements, sharing this tensor's memory. */
  reshape(shape: number[]): NativeTensor;
}

export interface CudaDeviceInfo {
  index: number;
  name: string;
  /** e.g. "9.0" */
  computeCapability: string;
  /** Bytes. */
  totalMemory: number;
  multiprocessors: number;
}

export interface CpuBackendInfo {
  name: 'cpu';
  compiled: true;
  usable: true;
  /** Threads of the native pool shared by all CPU kernels. */
  threads: number;
  /**
   * The instruction set of the hand-vectorised CPU kernels (the GEMM under every dense op and
   * convolution), chosen at load from the CPU: 'avx512', 'avx2' (with FMA) or 'generic'.
   * `GMN_CPU=avx512|avx2|generic` asks for one (tests, benchmarks). The AVX-512 and AVX2 paths give
   * the same bits; 'generic' rounds each product, so its results differ in the last bits.
   */
  isa: 'avx512' | 'avx2' | 'generic';
  /** The instruction sets this CPU can run, best last. */
  isas: Array<'avx512' | 'avx2' | 'generic'>;
  /** Why GMN_CPU was not followed (unknown, or not supported by this CPU); absent otherwise. */
  isaNote?: string;
  /**
   * The ops (by their snake_case names, e.g. 'linear', 'conv_transpose2d'; one file each in
   * src/native/ops/) that this build can run on the CPU: the reference for every other backend.
   */
  ops: string[];
}

export interface CudaBackendInfo {
  name: 'cuda';
  /** Whether this build of the addon contains the CUDA backend. */
  compiled: boolean;
  usable: boolean;
  /** Why CUDA cannot be used; absent when usable. */
  reason?: string;
  /** CUDA driver version as an integer (13000 = 13.0); 0 when there is no driver. Absent when not compiled. */
  driverVersion?: number;
  /** CUDA runtime version linked into the addon (13000 = 13.0). Absent when not compiled. */
  runtimeVersion?: number;
  devices: CudaDeviceInfo[];
  /**
   * The ops (names as in `CpuBackendInfo.ops`) that this build can run on CUDA; empty when CUDA is
   * not compiled in. An op not listed rejects CUDA tensors.
   */
  ops: string[];
  /**
   * Whether the "CUDA" device of this build is the CPU emulation of the CUDA execution model (for
   * testing the CUDA kernels in CI without a GPU). `resolveDevice('auto')` never picks it; an explicit
   * 'cuda' may use it.
   */
  emulated: boolean;
}

export type BackendInfo = CpuBackendInfo | CudaBackendInfo;


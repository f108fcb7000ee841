// The typed contract of the native addon (build/Release/gmn.node) and its loader. Nothing else in
// the package touches the .node file directly.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
}

export type BackendInfo = CpuBackendInfo | CudaBackendInfo;

/** The functions the addon exports. Every call checks its arguments and throws TypeError/RangeError at once. */
export interface NativeBinding {
  Tensor: abstract new (...args: never[]) => NativeTensor;
  /** A new tensor of `shape` on `device`, zero-filled or copied from `data`. */
  createTensor(shape: number[], device: DeviceName, data?: Float32Array | null): NativeTensor;
  backends(): [CpuBackendInfo, CudaBackendInfo];
  getThreads(): number;
  setThreads(threads: number): void;
  /** out[N,M] = x[N,K] weight[M,K]^T + bias[M] (bias may be null). */
  linearForward(x: NativeTensor, weight: NativeTensor, bias: NativeTensor | null, out: NativeTensor): Promise<void>;
  /** gradX = gradOut weight, gradWeight = gradOut^T x, gradBias = column sums of gradOut; null outputs are skipped; `accumulate` adds instead of overwriting. */
  linearBackward(
    x: NativeTensor,
    weight: NativeTensor,
    gradOut: NativeTensor,
    gradX: NativeTensor | null,
    gradWeight: NativeTensor | null,
    gradBias: NativeTensor | null,
    accumulate: boolean,
  ): Promise<void>;
  /** out = x > 0 ? x : alpha[c] * x, with c the index on axis 1 (or one shared slope). */
  preluForward(x: NativeTensor, alpha: NativeTensor, out: NativeTensor): Promise<void>;
  /** gradX = gradOut * (x > 0 ? 1 : alpha[c]); gradAlpha[c] = sum of gradOut * x where x <= 0. */
  preluBackward(
    x: NativeTensor,
    alpha: NativeTensor,
    gradOut: NativeTensor,
    gradX: NativeTensor | null,
    gradAlpha: NativeTensor | null,
    accumulate: boolean,
  ): Promise<void>;
}

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
let cached: NativeBinding | undefined;

/** Loads the addon once; throws one Error listing the likely causes and fixes when it cannot. */
export function loadBinding(): NativeBinding {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  try {
    const load = require('node-gyp-build') as (dir: string) => unknown;
    cached = load(packageRoot) as NativeBinding;
  } catch (err) {
    const cause = err instanceof Error ? err.message : String(err);
    throw new Error(
      [
        `gmn: the native addon could not be loaded: ${cause.split('\n')[0]}`,
        'Likely causes and fixes:',
        '- The addon was never built (install scripts were skipped, e.g. `npm install --ignore-scripts`): run `npm run build` in the gmn package.',
        '- The build failed during install: run `npm run build` and read its output; it needs a C++17 compiler and cmake (or node-gyp with python3 and make).',
        '- It was built for another Node.js version, platform or CPU (for example copied node_modules between machines): run `npm rebuild gmn`.',
        '- It was built with -march=native on a different CPU: rebuild here, or build a portable one with `GMN_NATIVE=0 npm run build`.',
      ].join('\n'),
      { cause: err },
    );
  }
  const proto = cached.Tensor.prototype as unknown as Record<symbol, unknown>;
  const disposeSymbol = (Symbol as { dispose?: symbol }).dispose;
  if (disposeSymbol && !(disposeSymbol in proto)) {
    proto[disposeSymbol] = function (this: NativeTensor) {
      this.dispose();
    };
  }
  return cached;
}

// The typed contract of the native addon (build/Release/gmn.node) and its loader. Nothing else in
// the package touches the .node file directly.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { ConvOps } from './ops-conv.js';
import type { AttentionOps } from './ops-attention.js';
import type { ElboOps } from './ops-elbo.js';
import type { CpuBackendInfo, CudaBackendInfo, DeviceName, NativeTensor } from './tensor-types.js';

export type * from './tensor-types.js';

/** The functions the addon exports. Every call checks its arguments and throws TypeError/RangeError at once. */
export interface NativeBinding extends ConvOps, AttentionOps, ElboOps {
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

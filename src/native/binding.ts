// The typed contract of the native addon (build/Release/gmn.node) and its loader. Nothing else in
// the package touches the .node file directly.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { AdamOps } from './ops/adam.js';
import type { AddOps } from './ops/add.js';
import type { AttentionOps } from './ops/attention.js';
import type { AvgPool2dOps } from './ops/avg_pool2d.js';
import type { BroadcastRowsOps } from './ops/broadcast_rows.js';
import type { ConcatOps } from './ops/concat.js';
import type { Conv2dOps } from './ops/conv2d.js';
import type { ConvTranspose2dOps } from './ops/conv_transpose2d.js';
import type { ElboOps } from './ops/elbo.js';
import type { GaussianSampleOps } from './ops/gaussian_sample.js';
import type { GruOps } from './ops/gru.js';
import type { LinearOps } from './ops/linear.js';
import type { PreluOps } from './ops/prelu.js';
import type { RandomNormalOps } from './ops/random_normal.js';
import type { ResidualBlockOps } from './ops/residual_block.js';
import type { ResizeBilinearOps } from './ops/resize_bilinear.js';
import type { SgdOps } from './ops/sgd.js';
import type { SumSquaresOps } from './ops/sum_squares.js';
import type { CpuBackendInfo, CudaBackendInfo, DeviceName, NativeTensor } from './tensor-types.js';
import { cpuFlags, prebuiltIsa, prebuiltVariant } from '../../scripts/prebuilt-isa.mjs';

export type * from './tensor-types.js';

/**
 * The functions the addon exports. Every call checks its arguments and throws TypeError/RangeError at once.
 * The ops, one contract each in ./ops/<op>.ts (the op's snake_case name, as `backends()[i].ops`
 * lists it), run on the backends whose `ops` list names them; given tensors of a backend whose list
 * lacks the op, the returned Promise rejects.
 */
export interface NativeBinding
  extends LinearOps,
    PreluOps,
    Conv2dOps,
    ConvTranspose2dOps,
    AvgPool2dOps,
    ResizeBilinearOps,
    ResidualBlockOps,
    AddOps,
    ConcatOps,
    BroadcastRowsOps,
    AttentionOps,
    GruOps,
    RandomNormalOps,
    GaussianSampleOps,
    ElboOps,
    SumSquaresOps,
    AdamOps,
    SgdOps {
  Tensor: abstract new (...args: never[]) => NativeTensor;
  /** A new tensor of `shape` on `device`, zero-filled or copied from `data`. */
  createTensor(shape: number[], device: DeviceName, data?: Float32Array | null): NativeTensor;
  /**
   * A new tensor of `shape` on `device` whose contents are unspecified (not zeroed): for outputs
   * that an op overwrites whole before anything reads them. Its memory does not count towards V8's
   * heap limits (no collection is hurried for it): dispose it explicitly.
   */
  emptyTensor(shape: number[], device: DeviceName): NativeTensor;
  backends(): [CpuBackendInfo, CudaBackendInfo];
  getThreads(): number;
  setThreads(threads: number): void;
  /**
   * While enabled, the executor adds each job's run time to its op's entry, and the time it waited
   * for work to "(executor idle)". For CUDA jobs this is the time to issue the kernels. A recorded
   * program's jobs count under their own ops, and their total under "Program.run".
   */
  setOpProfiling(enabled: boolean): void;
  /** The entries gathered since the last call, slowest first; clears them. */
  takeOpProfile(): { op: string; calls: number; seconds: number }[];
  /**
   * Starts recording on this thread: until endRecording(), the jobs it issues (ops, writes, fills)
   * are kept instead of run, and their Promises resolve at once; a job that returns a value (a
   * read) throws. A recorded write writes the data it was given then, on every run. Record
   * synchronous code only: whatever this thread issues until endRecording() is recorded.
   */
  beginRecording(): void;
  /** Ends the recording: the jobs, to run again in order on the same tensors. */
  endRecording(): NativeProgram;
}

/** A recorded sequence of jobs (`endRecording`). */
export interface NativeProgram {
  /** How many jobs were recorded. */
  readonly jobs: number;
  /**
   * Issues the jobs, in order, as one job (after the work queued before it, before the work queued
   * after): first writing data[i] into inputs[i] (copied now), and reading `output` after them
   * (the Promise's value; undefined without one).
   */
  run(inputs?: NativeTensor[] | null, data?: Float32Array[] | null, output?: NativeTensor | null): Promise<Float32Array | undefined>;
  /** Releases the jobs and the tensors only they hold (after runs already issued); run() then throws. */
  dispose(): void;
}

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
let cached: NativeBinding | undefined;

let loadedFrom: string | undefined;

/**
 * The file the addon was loaded from (after loadBinding): build/Release/gmn.node when built from
 * source, prebuilds/<platform>-<arch>/... when prebuilt, or GMN_ADDON's file.
 */
export function addonFile(): string | undefined {
  return loadedFrom;
}

/**
 * A prebuilt addon's variant for the widest instruction set this CPU has (or the one GMN_CPU
 * asks for), where the package ships one (scripts/prebuilt-isa.mjs); `file` itself otherwise,
 * and for an addon built here.
 */
function widestPrebuilt(file: string): string {
  if (!file.startsWith(path.join(packageRoot, 'prebuilds') + path.sep)) return file;
  const isa = prebuiltIsa(cpuFlags(), process.env.GMN_CPU?.trim().toLowerCase());
  const variant = isa && prebuiltVariant(file, isa);
  return variant && existsSync(variant) ? variant : file;
}

/** Loads the addon once; throws one Error listing the likely causes and fixes when it cannot. */
export function loadBinding(): NativeBinding {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  try {
    // GMN_ADDON names another build of the addon (the tests load the CUDA emulation build so).
    const override = process.env.GMN_ADDON;
    const gypBuild = require('node-gyp-build') as { resolve(dir: string): string };
    const file = override ? path.resolve(override) : widestPrebuilt(gypBuild.resolve(packageRoot));
    cached = require(file) as NativeBinding;
    loadedFrom = file;
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

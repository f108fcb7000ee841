// linearForward (the native GEMM behind every dense op) against a plain TypeScript i-k-j loop over
// Float32Arrays, the obvious alternative without a native core; same shapes, same run.
import { backends, getThreads, linearForward, tensor, zeros } from '../src/index.js';
import { Rng } from '../src/data/rng.js';
import { gflops, medianSeconds } from './timing.js';

function jsLinear(x: Float32Array, w: Float32Array, y: Float32Array, N: number, K: number, M: number): void {
  // y = x w^T with w transposed once into [K, M] so the inner loop is contiguous
  const wt = new Float32Array(K * M);
  for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) wt[k * M + m] = w[m * K + k];
  y.fill(0);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const a = x[n * K + k];
      const row = k * M;
      for (let m = 0; m < M; m++) y[n * M + m] += a * wt[row + m];
    }
  }
}

export async function gemm(): Promise<void> {
  const rng = new Rng(1);
  const rand = (n: number) => Float32Array.from({ length: n }, () => 2 * rng.nextFloat() - 1);
  const devices = backends()[1].usable ? (['cpu', 'cuda'] as const) : (['cpu'] as const);
  for (const [N, K, M] of [
    [256, 784, 784],
    [200, 488, 200],
  ]) {
    const flop = 2 * N * K * M;
    const xs = rand(N * K);
    const ws = rand(M * K);
    const ys = new Float32Array(N * M);
    const base = await medianSeconds(() => jsLinear(xs, ws, ys, N, K, M), 5, 1);
    console.log(`linear ${N}x${K} -> ${M}: typescript loop ${(base * 1e3).toFixed(2)} ms (${gflops(flop, base)})`);
    for (const device of devices) {
      const x = tensor(xs, [N, K], { device });
      const w = tensor(ws, [M, K], { device });
      const y = zeros([N, M], { device });
      const t = await medianSeconds(() => linearForward(x, w, null, y), 21, 3);
      const threads = device === 'cpu' ? `, ${getThreads()} threads` : '';
      console.log(
        `  gmn ${device}${threads}: ${(t * 1e3).toFixed(3)} ms (${gflops(flop, t)}), ${(base / t).toFixed(1)}x the typescript loop`,
      );
      for (const a of [x, w, y]) a.dispose();
    }
  }
}

// The native GEMM (through linearForward with no bias: y = x w^T) against what a user could pick
// instead, same shapes, same run: onnxruntime-node's MatMul (its MLAS kernels for this CPU) at our
// thread count, torch.mm when a Python with torch is found (GMN_PYTHON, python3, /usr/bin/python3),
// and a plain TypeScript loop. Shapes: the model's own products and large ones. Ratios > 1 mean gmn
// is faster. GMN_CPU=avx512|avx2|generic selects our micro-kernel (see `gmn doctor`).
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

import * as ort from 'onnxruntime-node';

import { backends, getThreads, linearForward, tensor, zeros } from '../src/index.js';
import type { CpuBackendInfo } from '../src/native/binding.js';
import { Rng } from '../src/data/rng.js';
import { GraphBuilder } from '../src/onnx/graph.js';
import { findTorchPython, torchBlasWarning } from './python.js';
import { gflops, median, medianSeconds, queuedMedianSeconds, settledMedianSeconds } from './timing.js';

/** [N, K, M]: x [N, K] times w^T, w [M, K]. */
export const GEMM_SHAPES: Array<[number, number, number]> = [
  [200, 488, 200], // a GRU hop of the paper's batch: R = 200 rows, [x, h] -> gates
  [200, 288, 200], // attention keys
  [2000, 144, 32], // the encoder's second conv by im2col (169 positions x 2000 images folded)
  [784, 256, 1024],
  [1024, 1024, 1024],
  [5334, 1024, 1024],
];

function jsLinear(x: Float32Array, w: Float32Array, y: Float32Array, N: number, K: number, M: number): void {
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

/** onnxruntime-node's MatMul of x [N, K] by a constant [K, M], at `threads` intra-op threads. */
export async function ortMatMul(w: Float32Array, N: number, K: number, M: number, threads: number) {
  const g = new GraphBuilder('matmul');
  const x = g.input('x', [N, K]);
  const wt = new Float32Array(K * M);
  for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) wt[k * M + m] = w[m * K + k];
  g.output(g.op('MatMul', [x, g.constant('w', wt, [K, M])]), 'y', [N, M]);
  const session = await ort.InferenceSession.create(g.encode('gmn bench'), {
    logSeverityLevel: 3,
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
  return session;
}

/** Median seconds of torch.mm per shape (OpenBLAS's own kernels and threads), or null without torch. */
export function torchTimes(threads: number, shapes = GEMM_SHAPES): Map<string, number> | null {
  const python = findTorchPython();
  if (!python) return null;
  const script = `
import json, sys, time, torch
torch.set_num_threads(${threads})
out = {}
for n, k, m in json.loads(sys.argv[1]):
    x = torch.rand(n, k); w = torch.rand(m, k).t().contiguous()
    for _ in range(3): torch.mm(x, w)
    ts = []
    for _ in range(11):
        t = time.perf_counter(); torch.mm(x, w); ts.append(time.perf_counter() - t)
    out[f"{n}x{k}x{m}"] = sorted(ts)[5]
print(json.dumps(out))`;
  // torch.mm is one OpenBLAS call: its best on our thread count is OpenBLAS's own threads.
  const run = spawnSync(python, ['-c', script, JSON.stringify(shapes)], {
    encoding: 'utf8',
    env: { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) },
  });
  if (run.status !== 0) return null;
  return new Map(Object.entries(JSON.parse(run.stdout) as Record<string, number>));
}

export interface GemmRow {
  shape: string;
  /** GFLOP/s: the median of the rounds' (each round's figure a median of calls), and every round's. */
  gmn: number;
  ort: number;
  torch: number | null;
  typescript: number | null;
  rounds: { gmn: number[]; ort: number[]; torch: number[] };
}

/** Rounds of the native and onnxruntime measurements and of torch.mm's (a process each). */
const GEMM_ROUNDS = 3;

/**
 * GFLOP/s per shape: gmn, onnxruntime-node and torch.mm measured in alternated rounds (every shape
 * by each contender in turn, then the next round), each reported as the median of its rounds. The
 * machine's speed drifts within minutes: one measurement of each, minutes apart, put the same
 * code anywhere between 0.5x and 1x torch.mm at one shape. gmn's calls are queued in batches, as a
 * training step issues them (queuedMedianSeconds); torch.mm's run back to back in Python's loop;
 * onnxruntime's session.run is awaited call by call (concurrent runs of a session would share its
 * threads).
 */
export async function gemm(): Promise<GemmRow[]> {
  const rows: GemmRow[] = [];
  const rng = new Rng(1);
  const rand = (n: number) => Float32Array.from({ length: n }, () => 2 * rng.nextFloat() - 1);
  const threads = getThreads();
  const cpu = backends()[0] as CpuBackendInfo;
  const python = findTorchPython();
  console.log(
    `gmn cpu (${cpu.isa} kernels), ${threads} threads; onnxruntime-node ${ort.env.versions?.common ?? ''} MatMul at ${threads} threads` +
      (python ? `; torch.mm at ${threads} threads` : '; torch.mm: no Python with torch found (apt-get install python3-torch libopenblas0-pthread)') +
      `; the median of ${GEMM_ROUNDS} alternated rounds`,
  );
  const blas = python ? torchBlasWarning(python) : null;
  if (blas) console.log(`warning: ${blas}`);
  // Half a second of products before the first measurement: the first shape measured right after
  // start-up ran at half its rate (the pool's threads and the CPU's clock still settling).
  {
    const [N, K, M] = GEMM_SHAPES[0];
    const x = tensor(rand(N * K), [N, K]), w = tensor(rand(M * K), [M, K]), y = zeros([N, M]);
    for (const t0 = Date.now(); Date.now() - t0 < 500; ) await linearForward(x, w, null, y);
    for (const a of [x, w, y]) a.dispose();
  }
  const cases = await Promise.all(
    GEMM_SHAPES.map(async ([N, K, M]) => {
      const xs = rand(N * K), ws = rand(M * K);
      const session = await ortMatMul(ws, N, K, M, threads);
      return {
        N, K, M, xs, ws, session,
        x: tensor(xs, [N, K]), w: tensor(ws, [M, K]), y: zeros([N, M]),
        feeds: { x: new ort.Tensor('float32', xs, [N, K]) },
        ours: [] as number[], theirs: [] as number[], torch: [] as number[],
      };
    }),
  );
  try {
    for (let r = 0; r < GEMM_ROUNDS; r++) {
      for (const c of cases) {
        await sleep(200);
        c.ours.push(await queuedMedianSeconds(() => linearForward(c.x, c.w, null, c.y)));
      }
      for (const c of cases) c.theirs.push(await settledMedianSeconds(() => c.session.run(c.feeds).then(() => undefined), 11, 2));
      const torch = python ? torchTimes(threads) : null;
      for (const c of cases) {
        const t = torch?.get(`${c.N}x${c.K}x${c.M}`);
        if (t) c.torch.push(t);
      }
    }
  } finally {
    for (const c of cases) {
      await c.session.release();
      for (const a of [c.x, c.w, c.y]) a.dispose();
    }
  }
  console.log('| N x K x M | gmn GFLOP/s | ort MatMul GFLOP/s | gmn / ort | torch.mm GFLOP/s | gmn / torch | TypeScript loop GFLOP/s |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  // The TypeScript loops run after every native and onnxruntime measurement: V8 compiles and
  // collects for them on background threads, which would share the two cores with the products
  // measured next.
  for (const { N, K, M, xs, ws, ours: oursRounds, theirs: theirsRounds, torch: torchRounds } of cases) {
    const flop = 2 * N * K * M;
    const ours = median(oursRounds), theirs = median(theirsRounds);
    const t = torchRounds.length ? median(torchRounds) : undefined;
    const js = flop <= 2 * 256 * 784 * 784 ? await medianSeconds(() => jsLinear(xs, ws, new Float32Array(N * M), N, K, M), 3, 1) : null;
    const rate = (s: number) => (flop / s / 1e9).toFixed(1);
    const rates = (times: number[]) => times.map((s) => flop / s / 1e9);
    rows.push({
      shape: `${N}x${K}x${M}`,
      gmn: flop / ours / 1e9,
      ort: flop / theirs / 1e9,
      torch: t ? flop / t / 1e9 : null,
      typescript: js ? flop / js / 1e9 : null,
      rounds: { gmn: rates(oursRounds), ort: rates(theirsRounds), torch: rates(torchRounds) },
    });
    console.log(
      `| ${N} x ${K} x ${M} | ${rate(ours)} | ${rate(theirs)} | ${(theirs / ours).toFixed(2)} | ${t ? rate(t) : '-'} | ${t ? (t / ours).toFixed(2) : '-'} | ${js ? gflops(flop, js).replace(' GFLOP/s', '') : '-'} |`,
    );
  }
  return rows;
}

/** The best sgemm rate (FLOP/s) at 5334 x 1024 x 1024 among gmn, onnxruntime-node and torch.mm, measured now. */
export async function bestSgemm(threads: number): Promise<{ rate: number; by: string }> {
  const [N, K, M] = [5334, 1024, 1024];
  const flop = 2 * N * K * M;
  const rng = new Rng(2);
  const xs = Float32Array.from({ length: N * K }, () => rng.nextFloat());
  const ws = Float32Array.from({ length: M * K }, () => rng.nextFloat());
  const x = tensor(xs, [N, K]);
  const w = tensor(ws, [M, K]);
  const y = zeros([N, M]);
  const rates: Array<[string, number]> = [['gmn', flop / (await medianSeconds(() => linearForward(x, w, null, y), 7, 1))]];
  for (const a of [x, w, y]) a.dispose();
  const session = await ortMatMul(ws, N, K, M, threads);
  const feeds = { x: new ort.Tensor('float32', xs, [N, K]) };
  rates.push(['onnxruntime-node MatMul', flop / (await medianSeconds(() => session.run(feeds).then(() => undefined), 7, 1))]);
  await session.release();
  const torch = torchTimes(threads, [[N, K, M]])?.get(`${N}x${K}x${M}`);
  if (torch) rates.push(['torch.mm (OpenBLAS)', flop / torch]);
  const [by, rate] = rates.reduce((a, b) => (b[1] > a[1] ? b : a));
  return { rate, by };
}

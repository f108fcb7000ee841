// Where a training step's time goes, op by op: the paper's configuration on the CPU, the executor's
// per-op profile (setOpProfiling) over several steps, each op's median time per step with the work
// it did: GFLOP/s for the convolutions, matrix products, GRU and attention (2 per multiply-add,
// counted from the call's shapes), GB/s for the rest (the bytes of its tensor arguments, each
// read or written once).
import { getThreads } from '../src/index.js';
import { Rng } from '../src/data/rng.js';
import { GMN } from '../src/model/gmn.js';
import { loadBinding, type NativeBinding, type NativeTensor } from '../src/native/binding.js';
import { Optimizer, resolveOptimizer } from '../src/train/optimizer.js';
import { median } from './timing.js';

export interface OpRow {
  op: string;
  calls: number;
  ms: number;
  share: number;
  gflops?: number;
  gbs?: number;
}

type Shape = number[];
const isTensor = (v: unknown): v is NativeTensor => typeof v === 'object' && v !== null && 'shape' in v && 'device' in v;
const numel = (s: Shape) => s.reduce((a, b) => a * b, 1);

/** The tensors among an op's arguments (positional, in arrays, or in an options object). */
function tensors(args: unknown[]): NativeTensor[] {
  const out: NativeTensor[] = [];
  const visit = (v: unknown) => {
    if (isTensor(v)) out.push(v);
    else if (Array.isArray(v)) v.forEach(visit);
    else if (typeof v === 'object' && v !== null) Object.values(v).forEach(visit);
  };
  args.forEach(visit);
  return out;
}

/** FLOPs of one call of the ops that are products (2 per multiply-add), or undefined. */
function flops(op: string, args: unknown[]): number | undefined {
  const a = args as Array<NativeTensor | null>;
  const s = (i: number) => (a[i] as NativeTensor).shape;
  const outputs = (...i: number[]) => i.filter((j) => a[j] !== null).length;
  switch (op) {
    case 'conv2dForward':
      return 2 * numel(s(2)) * numel(s(1).slice(1)); // out [N, Co, Ho, Wo] x Ci kh kw
    case 'conv2dBackward':
      return 2 * numel(s(2)) * numel(s(1).slice(1)) * outputs(3, 4);
    case 'convTranspose2dForward':
    case 'residualBlockForward': // its conv's output has x's size
      return 2 * numel(s(0)) * numel(s(1).slice(1)); // x [N, Ci, H, W] x Co kh kw
    case 'convTranspose2dBackward':
      return 2 * numel(s(0)) * numel(s(1).slice(1)) * outputs(3, 4);
    case 'residualBlockBackward':
      return 2 * numel(s(0)) * numel(s(1).slice(1)) * outputs(5, 6);
    case 'linearForward':
      return 2 * s(0)[0] * numel(s(1));
    case 'linearBackward':
      return 2 * s(0)[0] * numel(s(1)) * outputs(3, 4);
    case 'gruForward':
    case 'gruBackward': {
      const o = args[0] as { x: NativeTensor; h: NativeTensor; gradX?: unknown; gradH?: unknown; gradWGates?: unknown };
      const [N, I] = o.x.shape, H = o.h.shape[1];
      const once = 2 * N * (I + H) * 3 * H;
      return op === 'gruForward' ? once : once * ((o.gradX || o.gradH ? 1 : 0) + (o.gradWGates ? 1 : 0));
    }
    case 'attentionForward':
    case 'attentionBackward': {
      const o = args[0] as { values: NativeTensor; weights: NativeTensor; query: NativeTensor | null };
      const [R, S] = o.weights.shape, F = o.values.shape[1], D = o.query ? o.query.shape[1] : 0;
      return 2 * R * S * (D + F) * (op === 'attentionForward' ? 1 : 2);
    }
    default:
      return undefined;
  }
}

/** Wraps every op of `b` so that each call adds its work to `work` (by op name). */
function countWork(b: NativeBinding, work: Map<string, { flops: number; bytes: number }>): () => void {
  const record = b as unknown as Record<string, unknown>;
  const restore: Array<() => void> = [];
  for (const name of Object.keys(record)) {
    const fn = record[name];
    if (typeof fn !== 'function' || !/(Forward|Backward|Update)$|^(addScaled|sumSquares|randomNormal)$/.test(name)) continue;
    record[name] = (...args: unknown[]) => {
      const w = work.get(name) ?? { flops: 0, bytes: 0 };
      w.flops += flops(name, args) ?? 0;
      w.bytes += tensors(args).reduce((n, t) => n + 4 * numel(t.shape), 0);
      work.set(name, w);
      return (fn as (...a: unknown[]) => unknown).apply(b, args);
    };
    restore.push(() => (record[name] = fn));
  }
  return () => restore.forEach((r) => r());
}

/** Per-op medians over `steps` training steps of the paper's configuration. */
export async function opProfile(steps = 7): Promise<{ stepMs: number; rows: OpRow[] }> {
  const b = loadBinding();
  const model = new GMN({}, { device: 'cpu' });
  const optimizer = new Optimizer(resolveOptimizer(), model.params, b);
  const rng = new Rng(1);
  const x = Float32Array.from({ length: model.rows * 784 }, () => (rng.nextFloat() < 0.15 ? 1 : 0));
  const work = new Map<string, { flops: number; bytes: number }>();
  const perStep: Map<string, { calls: number; seconds: number }>[] = [];
  const stepTimes: number[] = [];
  let step = 0;
  const run = async () => {
    await model.loss(x, { seed: 1, offset: step++ * model.rows * model.config.latent }, true);
    await optimizer.update(1e-4);
  };
  try {
    // The first step records the pass (GMN.loss replays it afterwards): its ops are issued, and
    // counted, then.
    const restore = countWork(b, work);
    try {
      await run();
    } finally {
      restore();
    }
    for (let i = 0; i < 2; i++) await run(); // warm-up: caches, the pool, the host block cache
    b.setOpProfiling(true);
    b.takeOpProfile();
    for (let i = 0; i < steps; i++) {
      const t0 = process.hrtime.bigint();
      await run();
      stepTimes.push(Number(process.hrtime.bigint() - t0) / 1e6);
      perStep.push(new Map(b.takeOpProfile().map((e) => [e.op, e])));
    }
  } finally {
    b.setOpProfiling(false);
    optimizer.dispose();
    model.dispose();
  }
  const stepMs = median(stepTimes);
  // Program.run is the replayed pass itself, whose jobs are counted under their own ops.
  const names = new Set(perStep.flatMap((m) => [...m.keys()]).filter((op) => op !== 'Program.run'));
  const rows: OpRow[] = [...names].map((op) => {
    const ms = median(perStep.map((m) => (m.get(op)?.seconds ?? 0) * 1e3));
    const w = work.get(op);
    const row: OpRow = { op, calls: perStep[0].get(op)?.calls ?? 0, ms, share: ms / stepMs };
    if (w && w.flops > 0) row.gflops = w.flops / (ms * 1e-3) / 1e9;
    else if (w) row.gbs = w.bytes / (ms * 1e-3) / 1e9;
    return row;
  });
  rows.sort((p, q) => q.ms - p.ms);
  return { stepMs, rows };
}

export async function ops(): Promise<{ stepMs: number; rows: OpRow[] }> {
  const result = await opProfile();
  console.log(`gmn cpu, ${getThreads()} threads, the paper's training step: median ${result.stepMs.toFixed(1)} ms over 7 steps; per op, median ms a step:`);
  console.log('| op | calls a step | ms a step | share of the step | GFLOP/s | GB/s |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of result.rows)
    console.log(`| ${r.op} | ${r.calls} | ${r.ms.toFixed(2)} | ${(100 * r.share).toFixed(1)}% | ${r.gflops?.toFixed(1) ?? '-'} | ${r.gbs?.toFixed(1) ?? '-'} |`);
  return result;
}

// classify(): N-way k-shot classification of the evaluation characters, by conditional likelihood
// (the class whose k supports make the query most likely) and by nearest neighbour in psi.
import { checkInteger, checkOneOf, rangeError, typeError } from '../errors.js';
import { imagePixels } from '../data/sampler.js';
import { Rng } from '../data/rng.js';
import { FEATURES, PIXELS } from '../model/config.js';
import type { GMN } from '../model/gmn.js';
import { DEFAULT_MAX_ROWS, importanceWeights, logMeanExp } from './importance.js';
import { binarizeOf, resolveData, subSeed, type DataOptions } from './likelihood.js';

export const CLASSIFY_METHODS = ['likelihood', 'nearest'] as const;
/** 'likelihood': argmax over classes of log p(query | that class's supports); 'nearest': the class of the support nearest the query by cosine of psi. */
export type ClassifyMethod = (typeof CLASSIFY_METHODS)[number];

export interface ClassifyOptions extends DataOptions {
  /** N, classes per episode. Default [5, 20]. */
  ways?: number[];
  /** k, support images per class. Default [1, 5]. */
  shots?: number[];
  /** Episodes per (N, k); each has one query, of a class drawn uniformly. Default 1000. */
  episodes?: number;
  /** K, importance samples per class for the likelihood method. Default 100. */
  samples?: number;
  /** Default both. */
  methods?: ClassifyMethod[];
  /** Seed of the episodes and the noise. Default 0. */
  seed?: number;
  /** The most decoded rows per native batch. Default 2000. */
  maxRows?: number;
  onProgress?: (p: { done: number; total: number; ways: number; shots: number }) => void;
  signal?: AbortSignal;
}

export interface ClassifyRow {
  ways: number;
  shots: number;
  method: ClassifyMethod;
  episodes: number;
  /** Fraction of queries classified right, with a 95% Wilson interval. */
  accuracy: number;
  low: number;
  high: number;
}

export interface ClassifyResult {
  rows: ClassifyRow[];
  samples: number;
  seconds: number;
}

/** The 95% Wilson score interval of `right` successes in `n` trials. */
export function wilson(right: number, n: number): { low: number; high: number } {
  const z = 1.959964, p = right / n;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

export async function classify(model: GMN, options: ClassifyOptions): Promise<ClassifyResult> {
  const { data, variant } = await resolveData(model, options);
  const T = model.config.episodeLength;
  const list = <V>(name: string, v: V[] | undefined, fallback: V[]): V[] => {
    const a = v ?? fallback;
    if (!Array.isArray(a) || a.length === 0) throw typeError(`options.${name}`, 'a non-empty array', a);
    return a;
  };
  const ways = list('ways', options.ways, [5, 20]);
  const shots = list('shots', options.shots, [1, 5]);
  const characters = data.characters.length;
  ways.forEach((n, i) => checkInteger(`options.ways[${i}]`, n, 2));
  ways.forEach((n) => {
    if (n > characters) throw rangeError('options.ways', `at most ${characters} (the characters of the ${data.split} split)`, n);
  });
  let fewest = Infinity;
  for (let c = 0; c < characters; c++) fewest = Math.min(fewest, data.imagesOfCharacter(c).count);
  shots.forEach((k, i) => {
    checkInteger(`options.shots[${i}]`, k, 1);
    if (k > T - 1) throw rangeError('options.shots', `at most ${T - 1} (the model was trained on episodes of ${T} images)`, k);
    if (k + 1 > fewest) throw rangeError('options.shots', `at most ${fewest - 1} (a character has ${fewest} drawers: k supports and a query)`, k);
  });
  const episodes = checkInteger('options.episodes', options.episodes ?? 1000, 1);
  const samples = checkInteger('options.samples', options.samples ?? 100, 1);
  const methods = list<ClassifyMethod>('methods', options.methods, [...CLASSIFY_METHODS]);
  methods.forEach((m, i) => checkOneOf(`options.methods[${i}]`, m, CLASSIFY_METHODS));
  const seed = checkInteger('options.seed', options.seed ?? 0, 0, 2 ** 32 - 1);
  const maxRows = checkInteger('options.maxRows', options.maxRows ?? DEFAULT_MAX_ROWS, 1);

  const started = performance.now();
  const rows: ClassifyRow[] = [];
  const total = ways.length * shots.length * episodes;
  let done = 0;
  for (const N of ways) {
    for (const k of shots) {
      const rng = new Rng(subSeed(seed, N, k, 1));
      const noise = { seed: subSeed(seed, N, k, 2), offset: 0 };
      const right = { likelihood: 0, nearest: 0 };
      for (let e = 0; e < episodes; e++) {
        if (options.signal?.aborted) throw new Error('classification aborted', { cause: options.signal.reason });
        // N distinct characters; k + 1 distinct drawers of the query's class, k of every other
        const classes = pick(rng, characters, N);
        const answer = rng.nextInt(N);
        const supports: number[] = [];
        let query = -1;
        classes.forEach((c, i) => {
          const { first, count } = data.imagesOfCharacter(c);
          const drawn = pick(rng, count, i === answer ? k + 1 : k).map((d) => first + d);
          if (i === answer) query = drawn.pop()!;
          supports.push(...drawn);
        });
        const support = imagePixels(data, supports, binarizeOf(variant), rng);
        const q = imagePixels(data, [query], binarizeOf(variant), rng);
        if (methods.includes('likelihood')) {
          // one episode per class: its k supports, then the query at position k
          const x = new Float32Array(N * (k + 1) * PIXELS);
          for (let i = 0; i < N; i++) {
            x.set(support.subarray(i * k * PIXELS, (i + 1) * k * PIXELS), i * (k + 1) * PIXELS);
            x.set(q, (i * (k + 1) + k) * PIXELS);
          }
          const stats = await model.episodeStats(x, N);
          // only the query position is decoded
          const w = await importanceWeights(model, stats, samples, noise, maxRows, [k]);
          const scores = Array.from({ length: N }, (_, i) => logMeanExp(w, i * samples, samples, 1));
          if (argmax(scores) === answer) right.likelihood++;
        }
        if (methods.includes('nearest')) {
          const x = new Float32Array((N * k + 1) * PIXELS);
          x.set(support);
          x.set(q, N * k * PIXELS);
          const psi = await model.embed(x);
          const qv = psi.subarray(N * k * FEATURES);
          const scores = Array.from({ length: N * k }, (_, j) => cosine(psi.subarray(j * FEATURES, (j + 1) * FEATURES), qv));
          if (Math.floor(argmax(scores) / k) === answer) right.nearest++;
        }
        options.onProgress?.({ done: ++done, total, ways: N, shots: k });
      }
      for (const method of methods) rows.push({ ways: N, shots: k, method, episodes, accuracy: right[method] / episodes, ...wilson(right[method], episodes) });
    }
  }
  return { rows, samples, seconds: (performance.now() - started) / 1000 };
}

/** `count` distinct integers of [0, n), in random order (partial Fisher-Yates). */
function pick(rng: Rng, n: number, count: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + rng.nextInt(n - i);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, count);
}

/** Index of the largest value; ties go to the first. */
function argmax(v: number[]): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) (ab += a[i] * b[i]), (aa += a[i] * a[i]), (bb += b[i] * b[i]);
  return ab / Math.sqrt(aa * bb || 1);
}

/** The result as a markdown table: accuracy and 95% interval per (N, k) and method. */
export function classifyTable(result: ClassifyResult): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const name = (m: ClassifyMethod) => (m === 'likelihood' ? `conditional likelihood (K = ${result.samples})` : 'nearest neighbour, cosine of psi');
  return (
    '| ways | shots | method | episodes | accuracy | 95% interval |\n| --- | --- | --- | --- | --- | --- |\n' +
    result.rows.map((r) => `| ${r.ways} | ${r.shots} | ${name(r.method)} | ${r.episodes} | ${pct(r.accuracy)} | ${pct(r.low)}-${pct(r.high)} |`).join('\n') +
    '\n'
  );
}

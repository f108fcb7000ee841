// `gmn classify`: N-way k-shot accuracy on the test characters, by likelihood and by nearest neighbour.
import { classify, classifyTable, CLASSIFY_METHODS, type ClassifyMethod } from '../eval/classify.js';
import { modelVariant } from '../model/load.js';
import { asFlags, flagReaders, loadDataFlag, loadModelFlags, modelFlags, modelUsage, parseFlags, progressBar, reportFlags, writeReport } from './flags.js';

export const classifyUsage = `usage: gmn classify [--data DIR] [options]

N-way k-shot episodes of the test characters, one query each: (likelihood) the class whose k
supports make the query most likely, importance-sampled; (nearest) the class of the support nearest
the query by cosine of the encoder's 288-d embedding. Accuracy with a 95% interval.

  --data DIR              Omniglot folder                                    $GMN_DATA
  --split S               evaluation | background                            evaluation
  --variant V             gmn-binary | greyscale                             the model's
  --ways LIST             N, comma-separated                                 5,20
  --shots LIST            k, comma-separated                                 1,5
  --episodes N            episodes per (N, k)                                1000
  --samples K             importance samples per class (likelihood)          100
  --methods LIST          likelihood,nearest                                 both
  --quick                 100 episodes, K = 20 (a smoke run)
  --out FILE              also write the markdown table to FILE
  --json FILE             also write the results as JSON to FILE
${modelUsage}`;

export async function classifyCommand(args: string[]): Promise<number> {
  const { values } = parseFlags('classify', args, {
    ...modelFlags,
    ...reportFlags,
    ways: { type: 'string' },
    shots: { type: 'string' },
    methods: { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(classifyUsage);
    return 0;
  }
  const { int, ints, oneOf, fail } = flagReaders('classify');
  const ways = ints('ways', values.ways, 2);
  const shots = ints('shots', values.shots, 1);
  const episodes = int('episodes', values.episodes, 1) ?? (values.quick ? 100 : 1000);
  const samples = int('samples', values.samples, 1) ?? (values.quick ? 20 : 100);
  const methods = values.methods?.split(',').map((m) => oneOf('methods', m.trim(), CLASSIFY_METHODS) ?? fail('methods', 'likelihood and/or nearest', values.methods!)) as ClassifyMethod[] | undefined;
  const split = oneOf('split', values.split, ['evaluation', 'background'] as const);
  const variant = oneOf('variant', values.variant, ['gmn-binary', 'greyscale'] as const);
  const { model, seed } = await loadModelFlags('classify', values);
  const bar = progressBar('episodes');
  const result = await asFlags('classify', async () => classify(model, {
    data: await loadDataFlag('classify', values.data, split, variant ?? modelVariant(model)),
    ways,
    shots,
    episodes,
    samples,
    methods,
    seed,
    onProgress: (p) => bar.update(p.done, p.total),
  })).finally(() => bar.stop());
  const table = classifyTable(result);
  const timing = `${result.seconds.toFixed(1)} s`;
  writeReport(values, `${table}\n${timing}\n`, { model: model.info, config: model.config, ...result });
  return 0;
}

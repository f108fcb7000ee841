// `gmn eval`: the per-shot likelihood table (importance sampling) of a model on the test split.
import { evaluate, likelihoodTable, PROTOCOLS, type Protocol } from '../eval/likelihood.js';
import { modelVariant } from '../model/load.js';
import { asFlags, flagReaders, loadDataFlag, loadModelFlags, modelFlags, modelUsage, parseFlags, progressBar, reportFlags, writeReport } from './flags.js';

export const evalUsage = `usage: gmn eval [--data DIR] [options]

Estimates log p(x_t | x_<t) for every position t of test episodes by importance sampling with K
samples of z from q (log-mean-exp), beside the ELBO of the same samples, with standard errors.

  --data DIR              Omniglot folder                                    $GMN_DATA
  --split S               evaluation | background                            evaluation
  --variant V             gmn-binary | greyscale                             the model's
  --classes LIST          C_test values, comma-separated                     1,2,3,4
  --protocol P            both | with-replacement | without-replacement      both
  --episodes N            test episodes per C_test and protocol              1000
  --samples K             importance samples per position                    1000
  --quick                 100 episodes, K = 100 (a smoke run)
  --out FILE              also write the markdown tables to FILE
  --json FILE             also write the results as JSON to FILE
${modelUsage}`;

export async function evalCommand(args: string[]): Promise<number> {
  const { values } = parseFlags('eval', args, {
    ...modelFlags,
    ...reportFlags,
    classes: { type: 'string' },
    protocol: { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(evalUsage);
    return 0;
  }
  const { int, ints, oneOf } = flagReaders('eval');
  const classes = ints('classes', values.classes, 1);
  const protocol = oneOf('protocol', values.protocol, ['both', ...PROTOCOLS] as const);
  const episodes = int('episodes', values.episodes, 1) ?? (values.quick ? 100 : 1000);
  const samples = int('samples', values.samples, 1) ?? (values.quick ? 100 : 1000);
  const split = oneOf('split', values.split, ['evaluation', 'background'] as const);
  const variant = oneOf('variant', values.variant, ['gmn-binary', 'greyscale'] as const);
  const { model, seed } = await loadModelFlags('eval', values);
  const bar = progressBar('episodes');
  const result = await asFlags('eval', async () => evaluate(model, {
    data: await loadDataFlag('eval', values.data, split, variant ?? modelVariant(model)),
    classes,
    protocols: protocol === undefined || protocol === 'both' ? undefined : [protocol as Protocol],
    episodes,
    samples,
    seed,
    onProgress: (p) => bar.update(p.done, p.total),
  })).finally(() => bar.stop());
  const table = likelihoodTable(result);
  const timing = `${result.seconds.toFixed(1)} s, ${Math.round(result.samplesPerSecond)} importance samples (z, x_t) per second`;
  writeReport(values, `${table}\n${timing}\n`, { model: model.info, config: model.config, ...result });
  return 0;
}

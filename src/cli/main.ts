// The `gmn` command line: one file per command.
import { readFileSync } from 'node:fs';

import { classifyCommand } from './classify.js';
import { doctor } from './doctor.js';
import { evalCommand } from './eval.js';
import { exportCommand } from './export.js';
import { UsageError } from './flags.js';
import { exportWeightsCommand } from './weights.js';
import { importCommand } from './import.js';
import { plotCommand } from './plot.js';
import { sampleCommand } from './sample.js';
import { trainCommand } from './train.js';

const usage = `usage: gmn <command> [options]    (gmn <command> --help, gmn --version)

commands:
  doctor [--json]                      which backends are compiled in and usable, and why
  import-omniglot --out DIR ZIP...     convert the official Omniglot zips to the 28x28 format
  train --data DIR --out RUN_DIR ...   train a GMN (gmn train --help for the options)
  plot RUN_DIR [--out PREFIX]          draw the training loss and validation ELBO as PNGs
  sample --out grid.png [--support F]  new images of a character from a few examples (default model)
  eval [--data DIR]                    log p(x_t | x_<t) per number of shots, importance-sampled
  classify [--data DIR]                N-way k-shot classification accuracy
  export-weights CHECKPOINT --out F    the weights of a training checkpoint alone
  export --graph G --out F.onnx        an ONNX graph of the model (encoder, sampler, scorer)

Commands that use a model take --checkpoint FILE; without it they use the default model.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'doctor':
      return doctor(args);
    case 'import-omniglot':
      return importCommand(args);
    case 'train':
      return trainCommand(args);
    case 'plot':
      return await plotCommand(args);
    case 'sample':
      return sampleCommand(args);
    case 'eval':
      return evalCommand(args);
    case 'classify':
      return classifyCommand(args);
    case 'export':
      return exportCommand(args);
    case 'export-weights':
      return exportWeightsCommand(args);
    case '--version':
    case '-v':
      console.log(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(usage);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`gmn: unknown command '${command}'\n${usage}`);
      return 2;
  }
}

// Output piped into a reader that stops early (`gmn doctor | head -1`): finish quietly, as Unix
// tools do, instead of dying on the write error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);

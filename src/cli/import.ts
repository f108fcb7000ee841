// `gmn import-omniglot --out DIR ZIP...`: converts the official Omniglot zips to the 28x28 format.
import { importOmniglot } from '../data/import.js';
import { parseFlags, UsageError } from './flags.js';

export const importUsage = `usage: gmn import-omniglot --out DIR images_background.zip [images_evaluation.zip]

Converts the official Omniglot zips (105x105 PNGs) to the 28x28 format gmn reads (exact area
averaging), writing DIR/background.u8 and .json, DIR/evaluation.u8 and .json. It does not make the
gmn-binary/ copy: train on these with gmn train --variant greyscale.

  --out DIR               the folder to write                                 required
`;

export async function importCommand(args: string[]): Promise<number> {
  const { values, positionals: zips } = parseFlags('import-omniglot', args, { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, true);
  if (values.help) {
    process.stdout.write(importUsage);
    return 0;
  }
  const out = values.out;
  if (!out) throw new UsageError('gmn import-omniglot: --out DIR is required (where to write the 28x28 files)');
  if (zips.length === 0) throw new UsageError('gmn import-omniglot: pass the Omniglot zips to convert (images_background.zip, images_evaluation.zip)');
  let last = -1;
  const result = await importOmniglot({
    zips,
    out,
    onProgress: (done, total) => {
      const pct = Math.floor((100 * done) / total);
      if (pct !== last && pct % 10 === 0) console.log(`  ${pct}% (${done}/${total} images)`);
      last = pct;
    },
  });
  console.log(JSON.stringify(result, null, 2));
  return 0;
}

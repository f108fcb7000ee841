// `gmn import-omniglot --out DIR ZIP...`: converts the official Omniglot zips to the 28x28 format.
import { importOmniglot } from '../data/import.js';

export async function importCommand(args: string[]): Promise<number> {
  const zips: string[] = [];
  let out: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--out') out = args[++i];
    else zips.push(args[i]);
  }
  if (!out || zips.length === 0) {
    console.error('usage: gmn import-omniglot --out DIR images_background.zip [images_evaluation.zip]');
    return 2;
  }
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

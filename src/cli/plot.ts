// `gmn plot RUN_DIR [--out PREFIX]`: PREFIX-loss.svg/.png (training loss, raw and smoothed) and
// PREFIX-validation.svg/.png (validation ELBO of every position) from RUN_DIR/metrics.jsonl.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { lossFigure, validationFigure, type MetricsRecord } from '../plot.js';
import { flagReaders, parseFlags, UsageError } from './flags.js';

export const plotUsage = `usage: gmn plot RUN_DIR [--out PREFIX] [--window N]

Draws the run's training loss (each step, and a running mean) and the validation ELBO of every
position t, from RUN_DIR/metrics.jsonl, as SVG and PNG.

  --out PREFIX            writes PREFIX-loss.svg/.png, PREFIX-validation.svg/.png   RUN_DIR/plot
  --window N              steps in the running mean of the loss                      1% of the steps
`;

/** The last record of each step (a resumed run of an older gmn could log some steps twice); a partly written last line is ignored. */
export function readMetrics(file: string): MetricsRecord[] {
  const byStep = new Map<string, MetricsRecord>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let r: MetricsRecord;
    try {
      r = JSON.parse(line) as MetricsRecord;
    } catch {
      continue;
    }
    byStep.set(`${r.validation ? 'v' : 'l'}${r.step}`, r);
  }
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

export async function plotCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('plot', args, { out: { type: 'string' }, window: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, true);
  if (values.help) {
    process.stdout.write(plotUsage);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('gmn plot: pass one RUN_DIR (the folder gmn train wrote; gmn plot --help)');
  const dir = positionals[0];
  const file = path.join(dir, 'metrics.jsonl');
  if (!existsSync(file)) throw new UsageError(`gmn plot: ${file} does not exist; RUN_DIR must be the --out folder of gmn train`);
  const records = readMetrics(file);
  const steps = records.filter((r) => r.loss !== undefined).length;
  if (steps < 2) throw new UsageError(`gmn plot: ${file} has ${steps === 0 ? 'no training steps' : 'one training step'}; a plot needs at least two`);
  const window = flagReaders('plot').int('window', values.window, 1) ?? Math.max(1, Math.round(steps / 100));
  const prefix = values.out ?? path.join(dir, 'plot');
  const written: string[] = [];
  const save = (name: string, figure: { svg: string; png: Buffer }) => {
    writeFileSync(`${prefix}-${name}.svg`, figure.svg);
    writeFileSync(`${prefix}-${name}.png`, figure.png);
    written.push(`${prefix}-${name}.svg`, `${prefix}-${name}.png`);
  };
  save('loss', await lossFigure(records, window));
  const validations = records.filter((r) => r.validation).length;
  if (validations > 0) save('validation', await validationFigure(records));
  console.log(`gmn plot: wrote ${written.join(', ')}${validations === 0 ? ' (no validation records: no validation plot)' : ''}`);
  return 0;
}

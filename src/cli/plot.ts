// `gmn plot RUN_DIR [--out PREFIX]`: draws PREFIX-loss.png (training loss, raw and smoothed) and
// PREFIX-validation.png (validation ELBO of positions 0, 1, 2, 4 and the last) from metrics.jsonl.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { linePlotPng, type Series } from '../plot.js';

interface Record {
  step: number;
  loss?: number;
  validation?: number[];
}

/** The last record of each step (a resumed run logs some steps twice). */
export function readMetrics(file: string): Record[] {
  const byStep = new Map<string, Record>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as Record;
    byStep.set(`${r.validation ? 'v' : 'l'}${r.step}`, r);
  }
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

export function plotCommand(args: string[]): number {
  const dir = args[0];
  if (!dir) {
    console.error('usage: gmn plot RUN_DIR [--out PREFIX]');
    return 2;
  }
  const i = args.indexOf('--out');
  const prefix = i >= 0 ? args[i + 1] : path.join(dir, 'plot');
  const records = readMetrics(path.join(dir, 'metrics.jsonl'));
  const losses = records.filter((r) => r.loss !== undefined).map((r) => [r.step, r.loss!] as [number, number]);
  const window = Math.max(1, Math.round(losses.length / 100));
  const smoothed = losses.map(([s], k) => {
    const part = losses.slice(Math.max(0, k - window + 1), k + 1);
    return [s, part.reduce((a, p) => a + p[1], 0) / part.length] as [number, number];
  });
  writeFileSync(`${prefix}-loss.png`, linePlotPng([
    { name: 'loss', points: losses, color: [180, 200, 230] },
    { name: `loss, mean of ${window}`, points: smoothed, color: [20, 60, 160] },
  ]));
  const val = records.filter((r) => r.validation);
  const palette: Array<[number, number, number]> = [[200, 30, 30], [230, 130, 0], [30, 150, 30], [20, 60, 160], [120, 40, 160]];
  const T = val[0]?.validation?.length ?? 0;
  const positions = [...new Set([0, 1, 2, 4, T - 1])].filter((t) => t >= 0 && t < T);
  const series: Series[] = positions.map((t, k) => ({
    name: `${t}-shot`,
    points: val.map((r) => [r.step, r.validation![t]] as [number, number]),
    color: palette[k % palette.length],
  }));
  writeFileSync(`${prefix}-validation.png`, linePlotPng(series));
  console.log(`wrote ${prefix}-loss.png and ${prefix}-validation.png (validation colours: ${positions.map((t, k) => `${t}-shot ${['red', 'orange', 'green', 'blue', 'purple'][k]}`).join(', ')})`);
  return 0;
}

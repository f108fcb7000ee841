// Plots of a training run: Vega-Lite specs, compiled and rendered to SVG by Vega, rasterised to
// PNG by resvg.
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** One metrics record of metrics.jsonl: a step's loss, or a validation's ELBO per position. */
export interface MetricsRecord {
  step: number;
  loss?: number;
  validation?: number[];
}

export interface Figure {
  svg: string;
  png: Buffer;
}

const WIDTH = 720, HEIGHT = 360;

async function render(spec: TopLevelSpec): Promise<Figure> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, fitTo: { mode: 'zoom', value: 2 }, background: 'white' })
    .render()
    .asPng();
  return { svg, png: Buffer.from(png) };
}

const base = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  width: WIDTH,
  height: HEIGHT,
  background: 'white',
  config: { font: 'DejaVu Sans', title: { fontSize: 16 }, axis: { labelFontSize: 12, titleFontSize: 13 }, legend: { labelFontSize: 12, titleFontSize: 13, labelLimit: 400 } },
} as const;

/** The training loss per step, raw and as a running mean over `window` steps. */
export function lossFigure(records: MetricsRecord[], window: number): Promise<Figure> {
  const losses = records.filter((r) => r.loss !== undefined) as Required<Pick<MetricsRecord, 'step' | 'loss'>>[];
  const values: { step: number; loss: number; series: string }[] = [];
  let sum = 0;
  losses.forEach((r, k) => {
    sum += r.loss;
    if (k >= window) sum -= losses[k - window].loss;
    values.push({ step: r.step, loss: r.loss, series: 'loss of the step' });
    values.push({ step: r.step, loss: sum / Math.min(k + 1, window), series: `mean of the last ${window} steps` });
  });
  return render({
    ...base,
    title: 'Training loss (minus the ELBO of an episode)',
    data: { values },
    mark: { type: 'line', strokeWidth: 1.5, clip: true },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'training step' },
      y: { field: 'loss', type: 'quantitative', title: 'loss (nats per episode)', scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null, scale: { range: ['#b4c8e6', '#143ca0'] }, legend: { orient: 'top-right' } },
    },
  });
}

/** The validation ELBO of every position t (the t-shot bound) per validation step. */
export function validationFigure(records: MetricsRecord[]): Promise<Figure> {
  const values = records.filter((r) => r.validation).flatMap((r) => r.validation!.map((elbo, t) => ({ step: r.step, elbo, shots: t })));
  return render({
    ...base,
    title: 'Validation ELBO of position t given the t images before it',
    data: { values },
    mark: { type: 'line', point: true, strokeWidth: 1.5 },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'training step' },
      y: { field: 'elbo', type: 'quantitative', title: 'ELBO (nats per image)', scale: { zero: false } },
      color: { field: 'shots', type: 'ordinal', title: 'shots t', scale: { scheme: 'viridis' } },
    },
  });
}

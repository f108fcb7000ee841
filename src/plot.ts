// Line charts as PNG (encoded by pngjs), for training curves: axes, ticks with numeric labels in a
// small built-in bitmap font, one colour per series.
import { PNG } from 'pngjs';

export interface Series {
  name: string;
  points: Array<[number, number]>;
  /** RGB. */
  color: [number, number, number];
}

// 3x5 glyphs for tick labels: each row is 3 bits, most significant bit on the left.
const GLYPHS: Record<string, number[]> = {
  '0': [7, 5, 5, 5, 7], '1': [2, 6, 2, 2, 7], '2': [7, 1, 7, 4, 7], '3': [7, 1, 7, 1, 7], '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7], '6': [7, 4, 7, 5, 7], '7': [7, 1, 1, 1, 1], '8': [7, 5, 7, 5, 7], '9': [7, 5, 7, 1, 7],
  '.': [0, 0, 0, 0, 2], '-': [0, 0, 7, 0, 0], k: [4, 5, 6, 5, 5], e: [0, 7, 7, 4, 7],
};

/** Round numbers spanning [lo, hi]. */
function ticks(lo: number, hi: number, count = 5): number[] {
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function label(v: number): string {
  if (Math.abs(v) >= 1000 && v % 1000 === 0) return `${v / 1000}k`;
  return Number.isInteger(v) ? String(v) : v.toPrecision(3).replace(/0+$/, '');
}

export function linePlotPng(series: Series[], width = 800, height = 400): Buffer {
  const png = new PNG({ width, height });
  png.data.fill(255);
  const set = (x: number, y: number, [r, g, b]: [number, number, number]) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const i = 4 * (Math.round(y) * width + Math.round(x));
    png.data[i] = r;
    png.data[i + 1] = g;
    png.data[i + 2] = b;
    png.data[i + 3] = 255;
  };
  const text = (s: string, x: number, y: number, scale = 2) => {
    for (const ch of s) {
      const rows = GLYPHS[ch] ?? [0, 0, 0, 0, 0];
      rows.forEach((bits, r) => {
        for (let c = 0; c < 3; c++)
          if (bits & (4 >> c)) for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) set(x + c * scale + dx, y + r * scale + dy, [0, 0, 0]);
      });
      x += 4 * scale;
    }
  };
  const all = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y));
  if (all.length === 0) return PNG.sync.write(png);
  let [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
  const pad = (y1 - y0) * 0.05;
  [y0, y1] = [y0 - pad, y1 + pad];
  const left = 70, right = 20, top = 20, bottom = 40;
  const px = (x: number) => left + ((x - x0) / (x1 - x0)) * (width - left - right);
  const py = (y: number) => height - bottom - ((y - y0) / (y1 - y0)) * (height - top - bottom);
  const grey: [number, number, number] = [200, 200, 200];
  for (const v of ticks(y0, y1)) {
    for (let x = left; x < width - right; x += 2) set(x, py(v), grey);
    text(label(v), 4, py(v) - 5);
  }
  for (const v of ticks(x0, x1)) {
    for (let y = top; y < height - bottom; y += 2) set(px(v), y, grey);
    text(label(v), px(v) - 8, height - bottom + 8);
  }
  for (let x = left; x < width - right; x++) set(x, height - bottom, [0, 0, 0]);
  for (let y = top; y < height - bottom; y++) set(left, y, [0, 0, 0]);
  for (const s of series) {
    const pts = s.points.filter(([, y]) => Number.isFinite(y));
    for (let i = 1; i < pts.length; i++) {
      const [ax, ay, bx, by] = [px(pts[i - 1][0]), py(pts[i - 1][1]), px(pts[i][0]), py(pts[i][1])];
      const n = Math.max(1, Math.ceil(Math.hypot(bx - ax, by - ay)));
      for (let k = 0; k <= n; k++) set(ax + ((bx - ax) * k) / n, ay + ((by - ay) * k) / n, s.color);
    }
  }
  return PNG.sync.write(png);
}

// New images of a character from an exported sampler, with onnxruntime-node alone (no gmn addon):
//   gmn export --graph sampler --out sampler.onnx
//   node examples/onnx-sample.mjs sampler.onnx grid.png [support.png ...]
// Supports: PNGs of 28x28 characters, dark ink on white (e.g. from gmn sample --json, or drawn).
// Without supports it draws unconditional samples. The grid: supports on top, 10 samples below.
import { readFileSync, writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { PNG } from 'pngjs';

const [modelFile, out, ...supportFiles] = process.argv.slice(2);
if (!modelFile || !out) {
  console.error('usage: node examples/onnx-sample.mjs sampler.onnx grid.png [support.png ...]');
  process.exit(2);
}
const SIDE = 28, N = 10, SCALE = 4;

// a 28x28 PNG as ink in {0, 1}: dark pixels are ink
function readSupport(file) {
  const png = PNG.sync.read(readFileSync(file));
  if (png.width !== SIDE || png.height !== SIDE) throw new Error(`${file} is ${png.width}x${png.height}; this example takes 28x28 images`);
  return Float32Array.from({ length: SIDE * SIDE }, (_, i) => (png.data[4 * i] + png.data[4 * i + 1] + png.data[4 * i + 2] < 3 * 128 ? 1 : 0));
}

const session = await ort.InferenceSession.create(modelFile, { logSeverityLevel: 3 });
const latent = session.inputMetadata?.find?.((m) => m.name === 'noise')?.shape?.[1] ?? 50;
const supports = supportFiles.map(readSupport);
const support = new Float32Array(supports.length * SIDE * SIDE);
supports.forEach((s, i) => support.set(s, i * SIDE * SIDE));
// standard normal noise (Box-Muller)
const noise = Float32Array.from({ length: N * latent }, () => Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random()));
const { means } = await session.run({
  support: new ort.Tensor('float32', support, [supports.length, 1, SIDE, SIDE]),
  noise: new ort.Tensor('float32', noise, [N, latent]),
});

const rows = [supports, Array.from({ length: N }, (_, s) => means.data.subarray(s * SIDE * SIDE, (s + 1) * SIDE * SIDE))].filter((r) => r.length > 0);
const cell = SIDE * SCALE + 2;
const png = new PNG({ width: N * cell + 2, height: rows.length * cell + 2 });
png.data.fill(200);
rows.forEach((row, r) =>
  row.forEach((img, c) => {
    for (let y = 0; y < SIDE * SCALE; y++)
      for (let x = 0; x < SIDE * SCALE; x++) {
        const v = Math.round(255 * (1 - img[Math.floor(y / SCALE) * SIDE + Math.floor(x / SCALE)]));
        const o = 4 * ((2 + r * cell + y) * png.width + 2 + c * cell + x);
        png.data[o] = png.data[o + 1] = png.data[o + 2] = v;
        png.data[o + 3] = 255;
      }
  }),
);
writeFileSync(out, PNG.sync.write(png));
console.log(`${out}: ${N} samples given ${supports.length} supports`);

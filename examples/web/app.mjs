// The page: a drawing pad, its 28x28 support image, and new images from the exported sampler,
// computed in the page by onnxruntime-web (wasm). window.gmnLast holds the last run's tensors.
import * as ort from '/ort/ort.wasm.min.mjs';

const SIDE = 28;
const pad = document.getElementById('pad');
const out = document.getElementById('out');
const status = document.getElementById('status');
const button = document.getElementById('generate');
const ctx = pad.getContext('2d');

function clear() {
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, pad.width, pad.height);
}
clear();

// drawing with the mouse (pointer events)
let last = null;
pad.addEventListener('pointerdown', (e) => (last = [e.offsetX, e.offsetY]));
pad.addEventListener('pointermove', (e) => {
  if (!last) return;
  ctx.strokeStyle = '#000';
  ctx.lineWidth = 16;
  ctx.lineCap = 'round';
  ctx.beginPath();
  ctx.moveTo(...last);
  ctx.lineTo(e.offsetX, e.offsetY);
  ctx.stroke();
  last = [e.offsetX, e.offsetY];
});
for (const ev of ['pointerup', 'pointerleave']) pad.addEventListener(ev, () => (last = null));
document.getElementById('clear').addEventListener('click', clear);

// an image dropped on the pad replaces the drawing
pad.addEventListener('dragover', (e) => e.preventDefault());
pad.addEventListener('drop', async (e) => {
  e.preventDefault();
  const file = e.dataTransfer.files[0];
  if (!file) return;
  const bitmap = await createImageBitmap(file);
  clear();
  const s = Math.min(pad.width / bitmap.width, pad.height / bitmap.height);
  ctx.drawImage(bitmap, 0, 0, bitmap.width * s, bitmap.height * s);
});

/** The pad as a 28x28 ink image in {0, 1}: the ink's bounding box, centred with a 15% margin, area-averaged. */
function supportImage() {
  const { data, width, height } = ctx.getImageData(0, 0, pad.width, pad.height);
  const ink = new Float32Array(width * height);
  let x0 = width, x1 = -1, y0 = height, y1 = -1;
  for (let i = 0; i < ink.length; i++) {
    ink[i] = 1 - (0.299 * data[4 * i] + 0.587 * data[4 * i + 1] + 0.114 * data[4 * i + 2]) / 255;
    if (ink[i] > 0.25) {
      const x = i % width, y = Math.floor(i / width);
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
  }
  if (x1 < 0) return null;
  const side = Math.max(x1 - x0 + 1, y1 - y0 + 1) / 0.7;
  const left = (x0 + x1 + 1) / 2 - side / 2, top = (y0 + y1 + 1) / 2 - side / 2;
  const img = new Float32Array(SIDE * SIDE);
  const step = side / SIDE;
  for (let r = 0; r < SIDE; r++) {
    for (let c = 0; c < SIDE; c++) {
      let sum = 0, n = 0;
      for (let y = Math.floor(top + r * step); y < top + (r + 1) * step; y++) {
        for (let x = Math.floor(left + c * step); x < left + (c + 1) * step; x++) {
          n++;
          if (x >= 0 && x < width && y >= 0 && y < height) sum += ink[y * width + x];
        }
      }
      img[r * SIDE + c] = n > 0 && sum / n >= 0.5 ? 1 : 0;
    }
  }
  return img;
}

/** Standard normal noise from a seed (mulberry32, then Box-Muller), so a run can be repeated. */
function normals(count, seed) {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Float32Array.from({ length: count }, () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform()));
}

function draw(rows) {
  const scale = 2, cell = SIDE * scale + 2;
  const g = out.getContext('2d');
  out.width = Math.max(...rows.map((r) => r.length), 1) * cell + 2;
  out.height = rows.length * cell + 2;
  g.fillStyle = '#c8c8c8';
  g.fillRect(0, 0, out.width, out.height);
  rows.forEach((row, r) =>
    row.forEach((img, c) => {
      const id = g.createImageData(SIDE * scale, SIDE * scale);
      for (let y = 0; y < SIDE * scale; y++)
        for (let x = 0; x < SIDE * scale; x++) {
          const v = Math.round(255 * (1 - img[Math.floor(y / scale) * SIDE + Math.floor(x / scale)]));
          id.data.set([v, v, v, 255], 4 * (y * SIDE * scale + x));
        }
      g.putImageData(id, 2 + c * cell, 2 + r * cell);
    }),
  );
}

ort.env.wasm.wasmPaths = '/ort/';
ort.env.wasm.numThreads = 1;
const { latent } = await (await fetch('/model/model.json')).json();
const session = await ort.InferenceSession.create('/model/sampler.onnx', { executionProviders: ['wasm'] });
status.textContent = 'ready: draw a character, then Generate';
button.disabled = false;

button.addEventListener('click', async () => {
  const support = supportImage();
  if (!support) {
    status.textContent = 'draw something first';
    return;
  }
  const n = Number(document.getElementById('count').value);
  const seed = Number(document.getElementById('seed').value);
  const noise = normals(n * latent, seed);
  const started = performance.now();
  const { means } = await session.run({
    support: new ort.Tensor('float32', support, [1, 1, SIDE, SIDE]),
    noise: new ort.Tensor('float32', noise, [n, latent]),
  });
  const ms = performance.now() - started;
  const samples = Array.from({ length: n }, (_, s) => means.data.slice(s * SIDE * SIDE, (s + 1) * SIDE * SIDE));
  const rows = [[support]];
  for (let i = 0; i < n; i += 10) rows.push(samples.slice(i, i + 10));
  draw(rows);
  status.textContent = `${n} samples in ${ms.toFixed(0)} ms (onnxruntime-web, wasm); the top row is the 28x28 input`;
  window.gmnLast = { support: Array.from(support), noise: Array.from(noise), means: Array.from(means.data), n, latent };
});

// A static server for the page: examples/web/, onnxruntime-web's files under /ort/, and the exported
// sampler under /model/. All inference happens in the browser.
//   npm run web            (the default model; PORT=8080 by default)
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const ortDir = path.join(here, '..', '..', 'node_modules', 'onnxruntime-web', 'dist');
const TYPES = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.onnx': 'application/octet-stream' };

/** Serves the page with `sampler` (the bytes of an exported sampler graph) of a model with `latent` z; resolves to the server once listening. */
export function startWebServer({ sampler, latent, port = 8080, host = '127.0.0.1' }) {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let body = null, file = url.pathname;
    try {
      if (file === '/model/sampler.onnx') body = Buffer.from(sampler);
      else if (file === '/model/model.json') body = Buffer.from(JSON.stringify({ latent }));
      else if (file.startsWith('/ort/')) body = await readFile(path.join(ortDir, path.basename(file)));
      else body = await readFile(path.join(here, path.basename(file === '/' ? 'index.html' : file)));
    } catch {
      res.writeHead(404).end('not found');
      return;
    }
    if (file === '/') file = '/index.html';
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(body);
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { loadModel, exportONNX } = await import('../../dist/index.js');
  const model = await loadModel(process.env.GMN_CHECKPOINT || undefined);
  const sampler = await exportONNX(model, { graph: 'sampler' });
  const server = await startWebServer({ sampler, latent: model.config.latent, port: Number(process.env.PORT ?? 8080) });
  const { port } = server.address();
  console.log(`gmn web page: http://127.0.0.1:${port}/  (Ctrl-C to stop)`);
}

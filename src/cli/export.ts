// `gmn export --graph NAME --out FILE.onnx [--checkpoint FILE]`: an ONNX graph of the model.
import { statSync, writeFileSync } from 'node:fs';

import { exportONNX, ONNX_GRAPHS } from '../onnx/export.js';
import { IR_VERSION, OPSET } from '../onnx/graph.js';
import { asFlags, flagReaders, loadModelFlags, parseFlags, UsageError } from './flags.js';

export const exportUsage = `usage: gmn export --graph NAME --out FILE.onnx [--checkpoint FILE]

Writes one inference graph of the model as ONNX (IR version ${IR_VERSION}, opset ${OPSET}), weights included,
for onnxruntime (Node, the browser, elsewhere) without this package:

  encoder    images [n,1,28,28] -> psi [n,288]
  sampler    support [k,1,28,28] (k >= 0), noise [n,Z] -> means [n,1,28,28]: new images given the supports
  scorer     support [k,1,28,28], query [m,1,28,28], noise [m,Z] -> terms [m,3]: log p(x|z),
             log p(z|supports), log q(z|x,supports) of each query (their sum is its ELBO)

  --graph NAME            encoder | sampler | scorer                          required
  --out FILE              the .onnx file                                      required
  --checkpoint FILE       a checkpoint of gmn train or a weights file         the default model
`;

export async function exportCommand(args: string[]): Promise<number> {
  const { values } = parseFlags('export', args, { graph: { type: 'string' }, out: { type: 'string' }, checkpoint: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    process.stdout.write(exportUsage);
    return 0;
  }
  const graph = flagReaders('export').oneOf('graph', values.graph, ONNX_GRAPHS);
  if (!graph) throw new UsageError(`gmn export: --graph NAME is required (${ONNX_GRAPHS.join(', ')})`);
  if (!values.out) throw new UsageError('gmn export: --out FILE.onnx is required');
  const { model } = await loadModelFlags('export', values);
  const bytes = await asFlags('export', () => exportONNX(model, { graph }));
  writeFileSync(values.out, bytes);
  console.log(`gmn export: ${values.out} (${graph}, ${(statSync(values.out).size / 2 ** 20).toFixed(2)} MiB)`);
  return 0;
}

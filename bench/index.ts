// `npm run bench -- [name...]`: microbenchmarks that print our time next to a baseline measured in
// the same run, as a ratio. Machines are shared and noisy: compare ratios, not absolute times,
// except on a dedicated GPU.
import { evalThroughput } from './eval.js';
import { gemm } from './gemm.js';
import { onnxBench } from './onnx.js';
import { trainStep } from './train-step.js';

const benches: Record<string, () => Promise<void>> = { gemm, 'train-step': trainStep, eval: evalThroughput, onnx: onnxBench };

const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!(name in benches)) {
    console.error(`unknown benchmark '${name}'; available: ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
}
for (const name of wanted.length > 0 ? wanted : Object.keys(benches)) {
  console.log(`== ${name}`);
  await benches[name]();
}

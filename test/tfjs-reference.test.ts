// The TensorFlow.js model of the benchmarks (bench/reference/gmn-tfjs.ts) against the PyTorch
// reference's fixtures: the same loss, terms and gradients from the same weights, episode and
// noise, so that its step time is that of the same computation.
import test from 'ava';

import { lossAndGradients, weightsOf } from '../bench/reference/gmn-tfjs.js';
import { GOLDEN_FIXTURES, gradientProblem, loadGolden, lossProblems } from './helpers/golden.js';

for (const name of GOLDEN_FIXTURES) {
  test(`${name}: the TensorFlow.js model's loss, terms and gradients match the PyTorch reference`, async (t) => {
    const fixture = loadGolden(name);
    const model = await fixture.model();
    let weights;
    try {
      weights = await weightsOf(model);
    } finally {
      model.dispose();
    }
    const { loss, terms, grads } = lossAndGradients(fixture.config, weights, fixture.x, fixture.eps);
    t.deepEqual(lossProblems(fixture, loss, terms), []);
    const problems: string[] = [];
    for (const [pname, w] of weights) {
      // tfjs leaves out the parameters the loss does not depend on (the reference's zeros).
      const problem = gradientProblem(fixture, pname, grads.get(pname) ?? new Float32Array(w.data.length));
      if (problem) problems.push(problem);
    }
    t.deepEqual(problems, []);
  });
}

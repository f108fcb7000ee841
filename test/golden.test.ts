// The CPU backend against the independent PyTorch reference (bench/reference/gmn_reference.py):
// from the same weights, episode and noise, the loss terms and every gradient, tensor by tensor
// (tolerances in test/helpers/golden.ts).
import test from 'ava';

import { GOLDEN_FIXTURES, gradientProblem, loadGolden, lossProblems } from './helpers/golden.js';

for (const name of GOLDEN_FIXTURES) {
  test(`${name}: loss terms and every gradient match the PyTorch reference`, async (t) => {
    const fixture = loadGolden(name);
    const model = await fixture.model();
    try {
      const { loss, terms } = await model.loss(fixture.x, fixture.eps, true);
      t.deepEqual(lossProblems(fixture, loss, terms), []);
      const problems: string[] = [];
      for (const spec of model.params.specs) {
        const problem = gradientProblem(fixture, spec.name, await model.params.grads.get(spec.name)!.read());
        if (problem) problems.push(problem);
      }
      t.deepEqual(problems, []);
    } finally {
      model.dispose();
    }
  });
}

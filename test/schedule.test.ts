import test from 'ava';

import { checkSchedule, learningRate, paperSchedule } from '../src/train/schedule.js';

test("the paper's schedule: 1e-3, then 3e-4, then 1e-4, each for 30,250 steps", (t) => {
  t.is(learningRate(paperSchedule, 0), 1e-3);
  t.is(learningRate(paperSchedule, 30249), 1e-3);
  t.is(learningRate(paperSchedule, 30250), 3e-4);
  t.is(learningRate(paperSchedule, 60499), 3e-4);
  t.is(learningRate(paperSchedule, 60500), 1e-4);
  t.is(learningRate(paperSchedule, 90749), 1e-4);
});

test('cosine goes from lr to minLr over totalSteps, then stays', (t) => {
  const s = { kind: 'cosine', lr: 1, minLr: 0.1, totalSteps: 100 } as const;
  t.is(learningRate(s, 0), 1);
  t.true(Math.abs(learningRate(s, 50) - 0.55) < 1e-12);
  t.true(Math.abs(learningRate(s, 100) - 0.1) < 1e-12);
  t.true(Math.abs(learningRate(s, 1000) - 0.1) < 1e-12);
});

test('linear warmup ramps up to the schedule', (t) => {
  const s = { ...paperSchedule, warmupSteps: 10 };
  t.true(Math.abs(learningRate(s, 0) - 1e-4) < 1e-15);
  t.true(Math.abs(learningRate(s, 4) - 5e-4) < 1e-15);
  t.is(learningRate(s, 10), 1e-3);
});

test('bad schedules are rejected, naming the field', (t) => {
  t.throws(() => checkSchedule({ kind: 'step' }), { instanceOf: RangeError, message: /schedule.kind/ });
  t.throws(() => checkSchedule({ kind: 'piecewise', boundaries: [10], values: [1] }), { instanceOf: RangeError, message: /schedule.values/ });
  t.throws(() => checkSchedule({ kind: 'piecewise', boundaries: [10, 5], values: [1, 2, 3] }), { instanceOf: RangeError, message: /boundaries\[1\]/ });
  t.throws(() => checkSchedule({ kind: 'cosine', lr: Number.NaN, totalSteps: 3 }), { instanceOf: RangeError, message: /schedule.lr/ });
  t.throws(() => checkSchedule({ kind: 'cosine', lr: 1, totalSteps: 0 }), { instanceOf: RangeError, message: /totalSteps/ });
  t.throws(() => checkSchedule(null), { instanceOf: TypeError });
});

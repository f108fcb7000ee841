// The tape's gradient bookkeeping: the first backward op to reach a gradient overwrites it, later
// ones add; an op whose output gradient nothing wrote is skipped; a parameter the loss does not
// reach gets a zero gradient; a gradient written before another target of the same op is zeroed
// first. Each case starts from gradient buffers holding garbage, which only an overwrite removes.
import test from 'ava';

import { Tape } from '../src/autograd.js';
import { Layers } from '../src/model/layers.js';
import { loadBinding } from '../src/native/binding.js';

const b = loadBinding();

function setup() {
  const tape = new Tape(b, 'cpu');
  const L = new Layers(tape);
  const param = (data: number[], shape: number[]) => {
    const grad = b.createTensor(shape, 'cpu', new Float32Array(data.length).fill(123)); // garbage
    return { v: tape.parameter(b.createTensor(shape, 'cpu', Float32Array.from(data)), grad), grad };
  };
  return { tape, L, param };
}

const read = async (t: { read(): Promise<Float32Array> }) => Array.from(await t.read());

test('a value used twice gets both contributions; the first overwrites the garbage', async (t) => {
  const { tape, L, param } = setup();
  const w = param([1, 2, 3, 4], [2, 2]); // y = x w^T, twice: [y1, y2] summed into one value
  const x = tape.constant(Float32Array.from([1, -1]), [1, 2]);
  const y = L.add(L.linear(x, w.v, null), L.linear(x, w.v, null));
  tape.seed(y);
  await tape.backward();
  // d sum / dw[m, k] = 2 * x[k] for each m
  t.deepEqual(await read(w.grad), [2, -2, 2, -2]);
  tape.dispose();
});

test('a parameter the loss does not reach gets a zero gradient; an unreached op is skipped', async (t) => {
  const { tape, L, param } = setup();
  const used = param([1, 1], [1, 2]);
  const unused = param([5, 5], [1, 2]);
  const x = tape.constant(Float32Array.from([3, 4]), [1, 2]);
  const y = L.linear(x, used.v, null);
  L.linear(x, unused.v, null); // recorded, but its output gradient is never written
  tape.seed(y);
  await tape.backward();
  t.deepEqual(await read(used.grad), [3, 4]);
  t.deepEqual(await read(unused.grad), [0, 0]);
  tape.dispose();
});

test('an op with one written and one fresh gradient target adds to both, the fresh one zeroed first', async (t) => {
  const { tape, L, param } = setup();
  const w = param([2], [1, 1]);
  const h = param([3], [1, 1]);
  // y = (h w) w: the outer linear's backward (issued first) writes w's gradient; then the inner
  // one's writes w's (adding) and h's (fresh) together.
  const y = L.linear(L.linear(h.v, w.v, null), w.v, null);
  tape.seed(y);
  await tape.backward();
  t.deepEqual(await read(w.grad), [12]); // 2 h w
  t.deepEqual(await read(h.grad), [4]); // w^2
  tape.dispose();
});

test("add passes its output gradient on to its first input without a copy, and later contributions add to it", async (t) => {
  const { tape, L, param } = setup();
  const w1 = param([2], [1, 1]);
  const w2 = param([3], [1, 1]);
  const x = tape.constant(Float32Array.from([5]), [1, 1]);
  const a = L.linear(x, w1.v, null);
  const c = L.linear(x, w2.v, null);
  // out = (a + c) + a: the outer add's first input (a + c) takes out's gradient buffer; then the
  // inner add's first input a takes it again, after a already got the outer add's copy.
  const out = L.add(L.add(a, c), a);
  tape.seed(out);
  await tape.backward();
  t.deepEqual(await read(w1.grad), [10]); // d out / d a = 2, times x
  t.deepEqual(await read(w2.grad), [5]);
  tape.dispose();
});

test('add of two values nothing else reads gives both its gradient buffer; one read elsewhere gets a copy', async (t) => {
  const { tape, L, param } = setup();
  const w1 = param([2], [1, 1]);
  const w2 = param([3], [1, 1]);
  const w3 = param([7], [1, 1]);
  const x = tape.constant(Float32Array.from([5]), [1, 1]);
  const a = L.linear(x, w1.v, null);
  const c = L.linear(x, w2.v, null);
  const s = L.add(a, c); // a and c are read by this add only: both take s's gradient buffer
  // out = s w3 + s: s is read twice, so the outer add's second input s (through the linear) and
  // its first input s must not share a buffer that the linear's backward then adds to.
  const out = L.add(s, L.linear(s, w3.v, null));
  tape.seed(out);
  await tape.backward();
  // d out / d s = 1 + w3 = 8; d s / d w1 = d s / d w2 = x = 5
  t.deepEqual(await read(w1.grad), [40]);
  t.deepEqual(await read(w2.grad), [40]);
  t.deepEqual(await read(w3.grad), [25]); // s = 25
  tape.dispose();
});

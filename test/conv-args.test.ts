// Every export of the conv family with bad arguments: each call throws a TypeError or RangeError
// whose message names the argument ("... for <name> but received ..."), synchronously, and the
// addon goes on working.
import test from 'ava';

import { any, argumentTests, b, disposed, T, type Case } from './helpers/args.js';
import { unusableReason } from './helpers/op-harness.js';



// Valid operands for each op, so that each case breaks exactly one thing.
// conv2d: SAME 3x3 on 8x8
const x = T([2, 3, 8, 8]);
const w = T([4, 3, 3, 3]);
const out = T([2, 4, 8, 8]);
// transposed conv: 2x2 stride 2, 3 -> 6
const tx = T([2, 4, 3, 3]);
const tw = T([4, 3, 2, 2]);
const tout = T([2, 3, 6, 6]);
// pooling: 3 stride 2, 13 -> 6
const px = T([2, 3, 13, 13]);
const pout = T([2, 3, 6, 6]);
// resize: 6 -> 13
const rx = T([2, 3, 6, 6]);
const rout = T([2, 3, 13, 13]);
// add
const a = T([2, 3]);
const a2 = T([2, 3]);
const aout = T([2, 3]);

const cases: Case[] = [
  // conv2dForward
  ['conv2dForward with 5 arguments', () => (b.conv2dForward as Function)(x, w, out, 1, 1), TypeError, 'the arguments of conv2dForward'],
  ['conv2dForward with a Float32Array for x', () => b.conv2dForward(any(new Float32Array(384)), w, out, 1, 1, 1), TypeError, 'x'],
  ['conv2dForward with a number for weight', () => b.conv2dForward(x, any(3), out, 1, 1, 1), TypeError, 'weight'],
  ['conv2dForward with a disposed x', () => b.conv2dForward(disposed(), w, out, 1, 1, 1), TypeError, 'x'],
  ['conv2dForward with a disposed out', () => b.conv2dForward(x, w, disposed(), 1, 1, 1), TypeError, 'out'],
  ['conv2dForward with 3-D x', () => b.conv2dForward(T([3, 8, 8]), w, out, 1, 1, 1), RangeError, 'x'],
  ['conv2dForward with 3-D weight', () => b.conv2dForward(x, T([4, 3, 9]), out, 1, 1, 1), RangeError, 'weight'],
  ['conv2dForward with mismatched Ci', () => b.conv2dForward(x, T([4, 2, 3, 3]), out, 1, 1, 1), RangeError, 'weight'],
  ['conv2dForward with a wrong N in out', () => b.conv2dForward(x, w, T([3, 4, 8, 8]), 1, 1, 1), RangeError, 'out'],
  ['conv2dForward with a wrong Co in out', () => b.conv2dForward(x, w, T([2, 5, 8, 8]), 1, 1, 1), RangeError, 'out'],
  ['conv2dForward with 3-D out', () => b.conv2dForward(x, w, T([2, 4, 64]), 1, 1, 1), RangeError, 'out'],
  ['conv2dForward with a window past the bottom', () => b.conv2dForward(x, w, T([2, 4, 10, 8]), 1, 1, 1), RangeError, 'out'],
  ['conv2dForward with a window past the right', () => b.conv2dForward(x, w, T([2, 4, 3, 5]), 2, 0, 0), RangeError, 'out'],
  ['conv2dForward writing into x', () => b.conv2dForward(x, w, x, 1, 1, 1), TypeError, 'out'],
  ['conv2dForward with stride 0', () => b.conv2dForward(x, w, out, 0, 1, 1), RangeError, 'stride'],
  ['conv2dForward with stride -1', () => b.conv2dForward(x, w, out, -1, 1, 1), RangeError, 'stride'],
  ['conv2dForward with stride 1.5', () => b.conv2dForward(x, w, out, 1.5, 1, 1), RangeError, 'stride'],
  ['conv2dForward with stride NaN', () => b.conv2dForward(x, w, out, Number.NaN, 1, 1), RangeError, 'stride'],
  ['conv2dForward with stride Infinity', () => b.conv2dForward(x, w, out, Infinity, 1, 1), RangeError, 'stride'],
  ['conv2dForward with stride 1e12', () => b.conv2dForward(x, w, out, 1e12, 1, 1), RangeError, 'stride'],
  ['conv2dForward with stride "1"', () => b.conv2dForward(x, w, out, any('1'), 1, 1), TypeError, 'stride'],
  ['conv2dForward with stride null', () => b.conv2dForward(x, w, out, any(null), 1, 1), TypeError, 'stride'],
  ['conv2dForward with padTop = kh', () => b.conv2dForward(x, w, out, 1, 3, 1), RangeError, 'padTop'],
  ['conv2dForward with padTop -1', () => b.conv2dForward(x, w, out, 1, -1, 1), RangeError, 'padTop'],
  ['conv2dForward with padTop 0.5', () => b.conv2dForward(x, w, out, 1, 0.5, 1), RangeError, 'padTop'],
  ['conv2dForward with padTop NaN', () => b.conv2dForward(x, w, out, 1, Number.NaN, 1), RangeError, 'padTop'],
  ['conv2dForward with padLeft = kw', () => b.conv2dForward(x, w, out, 1, 1, 3), RangeError, 'padLeft'],
  ['conv2dForward with padLeft -1e15', () => b.conv2dForward(x, w, out, 1, 1, -1e15), RangeError, 'padLeft'],
  ['conv2dForward with padLeft true', () => b.conv2dForward(x, w, out, 1, 1, any(true)), TypeError, 'padLeft'],
  // conv2dBackward
  ['conv2dBackward with 8 arguments', () => (b.conv2dBackward as Function)(x, w, out, null, null, 1, 1, 1), TypeError, 'the arguments of conv2dBackward'],
  ['conv2dBackward with a non-boolean accumulate', () => b.conv2dBackward(x, w, out, null, null, 1, 1, 1, any(1)), TypeError, 'accumulate'],
  ['conv2dBackward with a wrong gradOut', () => b.conv2dBackward(x, w, T([2, 5, 8, 8]), null, null, 1, 1, 1, false), RangeError, 'gradOut'],
  ['conv2dBackward with a disposed gradOut', () => b.conv2dBackward(x, w, disposed(), null, null, 1, 1, 1, false), TypeError, 'gradOut'],
  ['conv2dBackward with a wrong gradX', () => b.conv2dBackward(x, w, out, T([2, 3, 8, 7]), null, 1, 1, 1, false), RangeError, 'gradX'],
  ['conv2dBackward with a wrong gradWeight', () => b.conv2dBackward(x, w, out, null, T([4, 3, 2, 2]), 1, 1, 1, false), RangeError, 'gradWeight'],
  ['conv2dBackward with gradX aliasing x', () => b.conv2dBackward(x, w, out, x, null, 1, 1, 1, false), TypeError, 'gradX'],
  ['conv2dBackward with gradWeight a string', () => b.conv2dBackward(x, w, out, null, any('gw'), 1, 1, 1, false), TypeError, 'gradWeight'],
  ['conv2dBackward with stride NaN', () => b.conv2dBackward(x, w, out, null, null, Number.NaN, 1, 1, false), RangeError, 'stride'],
  ['conv2dBackward with padTop 7', () => b.conv2dBackward(x, w, out, null, null, 1, 7, 1, false), RangeError, 'padTop'],
  ['conv2dBackward with padLeft 2.5', () => b.conv2dBackward(x, w, out, null, null, 1, 1, 2.5, false), RangeError, 'padLeft'],
  // convTranspose2dForward
  ['convTranspose2dForward with 3 arguments', () => (b.convTranspose2dForward as Function)(tx, tw, tout), TypeError, 'the arguments of convTranspose2dForward'],
  ['convTranspose2dForward with a disposed weight', () => b.convTranspose2dForward(tx, disposed(), tout, 2), TypeError, 'weight'],
  ['convTranspose2dForward with 2-D x', () => b.convTranspose2dForward(T([8, 9]), tw, tout, 2), RangeError, 'x'],
  ['convTranspose2dForward with mismatched Ci', () => b.convTranspose2dForward(tx, T([3, 3, 2, 2]), tout, 2), RangeError, 'weight'],
  ['convTranspose2dForward with a wrong out size', () => b.convTranspose2dForward(tx, tw, T([2, 3, 5, 5]), 2), RangeError, 'out'],
  ['convTranspose2dForward with a wrong Co in out', () => b.convTranspose2dForward(tx, tw, T([2, 4, 6, 6]), 2), RangeError, 'out'],
  ['convTranspose2dForward writing into weight', () => b.convTranspose2dForward(tx, tw, tw, 2), TypeError, 'out'],
  ['convTranspose2dForward with stride 0', () => b.convTranspose2dForward(tx, tw, tout, 0), RangeError, 'stride'],
  ['convTranspose2dForward with stride 2.5', () => b.convTranspose2dForward(tx, tw, tout, 2.5), RangeError, 'stride'],
  ['convTranspose2dForward with stride NaN', () => b.convTranspose2dForward(tx, tw, tout, Number.NaN), RangeError, 'stride'],
  ['convTranspose2dForward with stride 2 ** 40', () => b.convTranspose2dForward(tx, tw, tout, 2 ** 40), RangeError, 'stride'],
  ['convTranspose2dForward with stride undefined', () => b.convTranspose2dForward(tx, tw, tout, any(undefined)), TypeError, 'stride'],
  // convTranspose2dBackward
  ['convTranspose2dBackward with 6 arguments', () => (b.convTranspose2dBackward as Function)(tx, tw, tout, null, null, 2), TypeError, 'the arguments of convTranspose2dBackward'],
  ['convTranspose2dBackward with a wrong gradOut', () => b.convTranspose2dBackward(tx, tw, T([2, 3, 7, 7]), null, null, 2, false), RangeError, 'gradOut'],
  ['convTranspose2dBackward with a wrong gradX', () => b.convTranspose2dBackward(tx, tw, tout, T([2, 4, 3, 4]), null, 2, false), RangeError, 'gradX'],
  ['convTranspose2dBackward with a wrong gradWeight', () => b.convTranspose2dBackward(tx, tw, tout, null, T([3, 4, 2, 2]), 2, false), RangeError, 'gradWeight'],
  ['convTranspose2dBackward with gradWeight aliasing gradX', () => b.convTranspose2dBackward(tx, tw, tout, a, a, 2, false), TypeError, 'grad'],
  ['convTranspose2dBackward with accumulate "yes"', () => b.convTranspose2dBackward(tx, tw, tout, null, null, 2, any('yes')), TypeError, 'accumulate'],
  ['convTranspose2dBackward with stride -2', () => b.convTranspose2dBackward(tx, tw, tout, null, null, -2, false), RangeError, 'stride'],
  // avgPool2dForward
  ['avgPool2dForward with 3 arguments', () => (b.avgPool2dForward as Function)(px, pout, 3), TypeError, 'the arguments of avgPool2dForward'],
  ['avgPool2dForward with 3-D x', () => b.avgPool2dForward(T([6, 13, 13]), pout, 3, 2), RangeError, 'x'],
  ['avgPool2dForward with a disposed x', () => b.avgPool2dForward(disposed(), pout, 3, 2), TypeError, 'x'],
  ['avgPool2dForward with a wrong out', () => b.avgPool2dForward(px, T([2, 3, 5, 5]), 3, 2), RangeError, 'out'],
  ['avgPool2dForward writing into x', () => b.avgPool2dForward(px, px, 3, 2), TypeError, 'out'],
  ['avgPool2dForward with kernel 0', () => b.avgPool2dForward(px, pout, 0, 2), RangeError, 'kernel'],
  ['avgPool2dForward with a kernel larger than x', () => b.avgPool2dForward(px, pout, 14, 2), RangeError, 'kernel'],
  ['avgPool2dForward with kernel 2.5', () => b.avgPool2dForward(px, pout, 2.5, 2), RangeError, 'kernel'],
  ['avgPool2dForward with kernel NaN', () => b.avgPool2dForward(px, pout, Number.NaN, 2), RangeError, 'kernel'],
  ['avgPool2dForward with kernel "3"', () => b.avgPool2dForward(px, pout, any('3'), 2), TypeError, 'kernel'],
  ['avgPool2dForward with stride 0', () => b.avgPool2dForward(px, pout, 3, 0), RangeError, 'stride'],
  ['avgPool2dForward with stride -Infinity', () => b.avgPool2dForward(px, pout, 3, -Infinity), RangeError, 'stride'],
  // avgPool2dBackward
  ['avgPool2dBackward with 4 arguments', () => (b.avgPool2dBackward as Function)(pout, px, 3, 2), TypeError, 'the arguments of avgPool2dBackward'],
  ['avgPool2dBackward with a null gradX', () => b.avgPool2dBackward(pout, any(null), 3, 2, false), TypeError, 'gradX'],
  ['avgPool2dBackward with 2-D gradX', () => b.avgPool2dBackward(pout, T([6, 169]), 3, 2, false), RangeError, 'gradX'],
  ['avgPool2dBackward with a wrong gradOut', () => b.avgPool2dBackward(T([2, 3, 7, 7]), px, 3, 2, false), RangeError, 'gradOut'],
  ['avgPool2dBackward with gradX aliasing gradOut', () => b.avgPool2dBackward(pout, pout, 3, 2, false), TypeError, 'gradX'],
  ['avgPool2dBackward with kernel 1e10', () => b.avgPool2dBackward(pout, px, 1e10, 2, false), RangeError, 'kernel'],
  ['avgPool2dBackward with stride Infinity', () => b.avgPool2dBackward(pout, px, 3, Infinity, false), RangeError, 'stride'],
  ['avgPool2dBackward with accumulate 0', () => b.avgPool2dBackward(pout, px, 3, 2, any(0)), TypeError, 'accumulate'],
  // resizeBilinearForward
  ['resizeBilinearForward with 1 argument', () => (b.resizeBilinearForward as Function)(rx), TypeError, 'the arguments of resizeBilinearForward'],
  ['resizeBilinearForward with a disposed x', () => b.resizeBilinearForward(disposed(), rout), TypeError, 'x'],
  ['resizeBilinearForward with 2-D x', () => b.resizeBilinearForward(T([6, 36]), rout), RangeError, 'x'],
  ['resizeBilinearForward with a wrong N in out', () => b.resizeBilinearForward(rx, T([3, 3, 13, 13])), RangeError, 'out'],
  ['resizeBilinearForward with a wrong C in out', () => b.resizeBilinearForward(rx, T([2, 1, 13, 13])), RangeError, 'out'],
  ['resizeBilinearForward with 3-D out', () => b.resizeBilinearForward(rx, T([2, 3, 169])), RangeError, 'out'],
  ['resizeBilinearForward writing into x', () => b.resizeBilinearForward(rx, rx), TypeError, 'out'],
  ['resizeBilinearForward with an object for out', () => b.resizeBilinearForward(rx, any({ shape: [2, 3, 13, 13] })), TypeError, 'out'],
  // resizeBilinearBackward
  ['resizeBilinearBackward with 2 arguments', () => (b.resizeBilinearBackward as Function)(rout, rx), TypeError, 'the arguments of resizeBilinearBackward'],
  ['resizeBilinearBackward with a null gradX', () => b.resizeBilinearBackward(rout, any(null), false), TypeError, 'gradX'],
  ['resizeBilinearBackward with a wrong gradOut', () => b.resizeBilinearBackward(T([2, 4, 13, 13]), rx, false), RangeError, 'gradOut'],
  ['resizeBilinearBackward with 3-D gradX', () => b.resizeBilinearBackward(rout, T([6, 6, 6]), false), RangeError, 'gradX'],
  ['resizeBilinearBackward with undefined accumulate', () => b.resizeBilinearBackward(rout, rx, any(undefined)), TypeError, 'accumulate'],
  // addForward
  ['addForward with 2 arguments', () => (b.addForward as Function)(a, a2), TypeError, 'the arguments of addForward'],
  ['addForward with a number for a', () => b.addForward(any(1), a2, aout), TypeError, 'a'],
  ['addForward with a disposed b', () => b.addForward(a, disposed(), aout), TypeError, 'b'],
  ['addForward with a transposed b', () => b.addForward(a, T([3, 2]), aout), RangeError, 'b'],
  ['addForward with a flat out', () => b.addForward(a, a2, T([6])), RangeError, 'out'],
  ['addForward writing into a view of a', () => b.addForward(a, a2, a.reshape([2, 3])), TypeError, 'out'],
  // addScaled
  ['addScaled with 3 arguments', () => (b.addScaled as Function)(a, 1, aout), TypeError, 'the arguments of addScaled'],
  ['addScaled with alpha NaN', () => b.addScaled(a, Number.NaN, aout, false), RangeError, 'alpha'],
  ['addScaled with alpha Infinity', () => b.addScaled(a, Infinity, aout, false), RangeError, 'alpha'],
  ['addScaled with alpha 1e300', () => b.addScaled(a, 1e300, aout, false), RangeError, 'alpha'],
  ['addScaled with alpha "2"', () => b.addScaled(a, any('2'), aout, false), TypeError, 'alpha'],
  ['addScaled with a flat out', () => b.addScaled(a, 1, T([6]), true), RangeError, 'out'],
  ['addScaled into its own input', () => b.addScaled(a, 1, a, true), TypeError, 'out'],
  ['addScaled with a disposed x', () => b.addScaled(disposed(), 1, aout, true), TypeError, 'x'],
  ['addScaled with accumulate null', () => b.addScaled(a, 1, aout, any(null)), TypeError, 'accumulate'],
];

argumentTests(cases);

test('the addon still works after every bad call', async (t) => {
  await x.fill(1);
  await w.fill(1);
  await b.conv2dForward(x, w, out, 1, 1, 1);
  const y = await out.read();
  // SAME 3x3 of ones over 3 channels: 27 inside, 18 on an edge, 12 in a corner.
  t.is(y[0], 12);
  t.is(y[1], 18);
  t.is(y[9], 27);
  await a.fill(2);
  await aout.fill(1);
  await b.addScaled(a, 0.5, aout, true);
  t.deepEqual(Array.from(await aout.read()), [2, 2, 2, 2, 2, 2]);
});

const cudaReason = unusableReason('cuda');
(cudaReason ? test.skip : test)(`ops with a CUDA tensor reject, saying there is no CUDA kernel yet${cudaReason ? ` (skipped: ${cudaReason})` : ''}`, async (t) => {
  const c = b.createTensor([2, 3], 'cuda');
  const c2 = b.createTensor([2, 3], 'cuda');
  try {
    await t.throwsAsync(b.addScaled(c, 1, c2, false), { message: /no CUDA kernel yet/ });
  } finally {
    c.dispose();
    c2.dispose();
  }
});

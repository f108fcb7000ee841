// Checkpoints: what is saved comes back exactly; a checkpoint that does not fit says what differs.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';

import { GMN } from '../src/model/gmn.js';
import { loadBinding } from '../src/native/binding.js';
import { loadCheckpoint, restoreInto, saveCheckpoint } from '../src/train/checkpoint.js';
import { Optimizer, resolveOptimizer } from '../src/train/optimizer.js';
import { decodeSafetensors, encodeSafetensors } from '../src/train/safetensors.js';

const tiny = { batchSize: 2, episodeLength: 3, stateSize: 8, keySize: 6, latent: 4 };
const file = () => path.join(mkdtempSync(path.join(os.tmpdir(), 'gmn-ckpt-')), 'c.safetensors');

test('weights, optimizer state, step and training state round-trip exactly', async (t) => {
  const model = new GMN(tiny, { device: 'cpu', seed: 1 });
  const opt = new Optimizer(resolveOptimizer(), model.params, loadBinding());
  for (const g of model.params.grads.values()) await g.fill(0.5);
  await opt.update(1e-3);
  const f = file();
  await saveCheckpoint(f, model, opt, { sampler: { rng: [1, 2, 3, 4], episodes: 8 } });
  const ckpt = loadCheckpoint(f);
  t.deepEqual(ckpt.config, model.config);
  t.is(ckpt.optimizer?.step, 1);
  t.deepEqual(ckpt.training, { sampler: { rng: [1, 2, 3, 4], episodes: 8 } });
  const other = new GMN(tiny, { device: 'cpu', seed: 2 });
  const otherOpt = new Optimizer(resolveOptimizer(), other.params, loadBinding());
  await restoreInto(ckpt, other, otherOpt);
  t.is(otherOpt.step, 1);
  for (const [name, v] of model.params.values) t.deepEqual(await other.params.value(name).read(), await v.read(), name);
  for (const [name, v] of opt.state) t.deepEqual(await otherOpt.state.get(name)!.read(), await v.read(), name);
  // The weights are plain safetensors named as in docs/model.md.
  const raw = decodeSafetensors(readFileSync(f), f);
  t.true(raw.tensors.has('enc.s1.conv.weight'));
  t.deepEqual(raw.tensors.get('enc.s1.conv.weight')!.shape, [16, 1, 4, 4]);
  t.true(raw.tensors.has('optim.m.enc.s1.conv.weight'));
  for (const x of [model, other]) x.dispose();
  for (const x of [opt, otherOpt]) x.dispose();
});

test('a checkpoint that does not fit names every missing, unexpected or misshapen tensor', async (t) => {
  const model = new GMN(tiny, { device: 'cpu' });
  const f = file();
  await saveCheckpoint(f, model);
  const { tensors, metadata } = decodeSafetensors(readFileSync(f), f);
  tensors.delete('rec.mu.bias');
  tensors.set('enc.s1.conv.slope', { shape: [15], data: new Float32Array(15) });
  tensors.set('extra.weight', { shape: [1], data: new Float32Array(1) });
  writeFileSync(f, encodeSafetensors(tensors, metadata));
  const err = t.throws(() => loadCheckpoint(f));
  t.regex(err!.message, /missing rec\.mu\.bias \[4\]/);
  t.regex(err!.message, /enc\.s1\.conv\.slope has shape \[15\], the config needs \[16\]/);
  t.regex(err!.message, /unexpected tensor extra\.weight/);

  writeFileSync(f, encodeSafetensors(tensors, { ...metadata, format: 'other' }));
  t.throws(() => loadCheckpoint(f), { message: /metadata\.format/ });
  writeFileSync(f, encodeSafetensors(tensors, { ...metadata, config: '{"hops": -2}' }));
  t.throws(() => loadCheckpoint(f), { message: /hops/ });
  writeFileSync(f, readFileSync(f).subarray(0, 100));
  t.throws(() => loadCheckpoint(f), { message: /truncated|not JSON/ });

  await saveCheckpoint(f, model);
  const different = new GMN({ ...tiny, latent: 5 }, { device: 'cpu' });
  await t.throwsAsync(restoreInto(loadCheckpoint(f), different), { message: /latent is 4 in the checkpoint, 5 here/ });
  model.dispose();
  different.dispose();
});

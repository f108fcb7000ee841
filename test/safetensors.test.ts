import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';

import { decodeSafetensors, encodeSafetensors, readSafetensors, writeFileAtomic, type NamedArray } from '../src/train/safetensors.js';

const sample = () =>
  new Map<string, NamedArray>([
    ['a.weight', { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, Number.NaN, 1e-30, -0]) }],
    ['b', { shape: [1], data: Float32Array.from([7]) }],
  ]);

test('safetensors round-trips tensors and metadata; the layout is the published one', (t) => {
  const buf = encodeSafetensors(sample(), { format: 'x', config: '{"a":1}' });
  const n = Number(buf.readBigUInt64LE(0));
  t.is(n % 8, 0);
  const header = JSON.parse(buf.subarray(8, 8 + n).toString());
  t.deepEqual(header['a.weight'], { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
  t.deepEqual(header.b, { dtype: 'F32', shape: [1], data_offsets: [24, 28] });
  t.is(buf.length, 8 + n + 28);
  t.is(buf.readFloatLE(8 + n + 8), 3.5);
  const back = decodeSafetensors(buf, 'mem');
  t.deepEqual(back.metadata, { format: 'x', config: '{"a":1}' });
  t.deepEqual(back.tensors.get('a.weight')!.shape, [2, 3]);
  t.deepEqual(Array.from(back.tensors.get('a.weight')!.data), Array.from(sample().get('a.weight')!.data));
});

test('corrupt files give errors that say what is wrong', (t) => {
  const good = encodeSafetensors(sample(), {});
  t.throws(() => decodeSafetensors(good.subarray(0, 5), 'f'), { message: /fewer than the 8-byte/ });
  t.throws(() => decodeSafetensors(good.subarray(0, 40), 'f'), { message: /truncated/ });
  t.throws(() => decodeSafetensors(good.subarray(0, good.length - 4), 'f'), { message: /outside the .* data bytes/ });
  const badJson = Buffer.from(good);
  badJson.write('!', 8);
  t.throws(() => decodeSafetensors(badJson, 'f'), { message: /not JSON/ });
  const f16 = Buffer.from(good.toString('latin1').replace('"F32"', '"F16"'), 'latin1');
  t.throws(() => decodeSafetensors(f16, 'f'), { message: /only F32/ });
  t.throws(() => readSafetensors(path.join(os.tmpdir(), 'no-such-gmn-file.safetensors')), { message: /cannot read/ });
});

test('writeFileAtomic replaces the file and leaves no temporary behind', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gmn-atomic-'));
  const file = path.join(dir, 'c.safetensors');
  writeFileSync(file, 'old');
  writeFileAtomic(file, Buffer.from('new'));
  t.is(readFileSync(file, 'utf8'), 'new');
  t.deepEqual(readdirSync(dir), ['c.safetensors']);
});

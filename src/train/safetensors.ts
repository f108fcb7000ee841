// The safetensors format (8-byte little-endian header length, JSON header, raw little-endian
// data), float32 only, written atomically: temporary file, fsync, rename, fsync of the folder.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';

export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsFile {
  tensors: Map<string, NamedArray>;
  metadata: Record<string, string>;
}

const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

export function encodeSafetensors(tensors: Map<string, NamedArray>, metadata: Record<string, string>): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    const bytes = t.data.length * 4;
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // keeps the data 8-byte aligned, as the reference writer does
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    // little-endian on every platform Node supports in practice; written explicitly anyway
    for (let i = 0; i < t.data.length; i++, at += 4) out.writeFloatLE(t.data[i], at);
  }
  return out;
}

/** Parses a safetensors buffer; `source` names it in errors. Only F32 tensors are accepted. */
export function decodeSafetensors(buf: Buffer, source: string): SafetensorsFile {
  const fail = (why: string): never => {
    throw new Error(`${source} is not a valid safetensors file: ${why}`);
  };
  if (buf.length < 8) fail(`it has ${buf.length} bytes, fewer than the 8-byte header length`);
  const headerLength = Number(buf.readBigUInt64LE(0));
  if (headerLength > buf.length - 8) fail(`the header claims ${headerLength} bytes but the file has ${buf.length - 8} after the length (truncated?)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    return fail(`its header is not JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('its header is not a JSON object');
  const dataStart = 8 + headerLength;
  const dataLength = buf.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, NamedArray>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      for (const [k, v] of Object.entries((entry ?? {}) as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`metadata ${k} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e?.dtype !== 'F32') fail(`tensor ${name} has dtype ${JSON.stringify(e?.dtype)}; only F32 is supported`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor ${name} has a bad shape`);
    const shape = e.shape as number[];
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0)) fail(`tensor ${name} has bad data_offsets`);
    const [begin, end] = offs as [number, number];
    if (end < begin || end > dataLength) fail(`tensor ${name}'s data [${begin}, ${end}) lies outside the ${dataLength} data bytes (truncated?)`);
    if (end - begin !== numel(shape) * 4) fail(`tensor ${name} has ${end - begin} bytes for shape [${shape}] (expected ${numel(shape) * 4})`);
    const data = new Float32Array(numel(shape));
    for (let i = 0; i < data.length; i++) data[i] = buf.readFloatLE(dataStart + begin + 4 * i);
    tensors.set(name, { shape, data });
  }
  return { tensors, metadata };
}

export function readSafetensors(file: string): SafetensorsFile {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
  return decodeSafetensors(buf, file);
}

/** Writes `file` so that a crash leaves either the old file or the new one, never a partial one. */
export function writeFileAtomic(file: string, data: Buffer): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dir = openSync(path.dirname(path.resolve(file)), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

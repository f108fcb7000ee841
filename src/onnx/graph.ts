// A small builder of ONNX graphs over onnx-proto's protobuf classes: named inputs, initializers
// (float32 as little-endian raw_data), nodes with typed attributes, and the encoded model.
import onnxProto, { type onnx as O } from 'onnx-proto';

// onnx-proto is CommonJS: its namespace comes through the default export
const { onnx } = onnxProto;

/** The IR version and opset of exported files (onnxruntime-node 1.30 accepts IR <= 13, opset <= 26). */
export const IR_VERSION = 8;
export const OPSET = 17;

export type Dim = number | string;
type Attr = number | number[] | string | { floats: number[] } | { float: number };

export class GraphBuilder {
  private readonly nodes: O.INodeProto[] = [];
  private readonly inits: O.ITensorProto[] = [];
  private readonly inputs: O.IValueInfoProto[] = [];
  private readonly outputs: O.IValueInfoProto[] = [];
  private count = 0;

  constructor(readonly name: string) {}

  input(name: string, dims: Dim[], elemType = onnx.TensorProto.DataType.FLOAT): string {
    this.inputs.push(valueInfo(name, dims, elemType));
    return name;
  }

  output(value: string, name: string, dims: Dim[]): void {
    this.nodes.push({ opType: 'Identity', input: [value], output: [name], name: `out_${name}` });
    this.outputs.push(valueInfo(name, dims, onnx.TensorProto.DataType.FLOAT));
  }

  /** A float32 initializer. */
  constant(name: string, data: ArrayLike<number>, dims: number[]): string {
    const bytes = new Uint8Array(data.length * 4);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i], true);
    this.inits.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytes });
    return name;
  }

  /** An int64 initializer (shapes, axes, indices); the same name returns the one made first. */
  ints(name: string, data: number[]): string {
    if (this.inits.some((t) => t.name === name)) return name;
    const bytes = new Uint8Array(data.length * 8);
    const view = new DataView(bytes.buffer);
    data.forEach((v, i) => view.setBigInt64(8 * i, BigInt(v), true));
    this.inits.push({ name, dims: [data.length], dataType: onnx.TensorProto.DataType.INT64, rawData: bytes });
    return name;
  }

  /** Adds a node; returns the name of its (first) output. */
  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, outputs = 1): string {
    const id = `${opType.toLowerCase()}_${this.count++}`;
    const out = Array.from({ length: outputs }, (_, i) => (i === 0 ? id : `${id}_${i}`));
    this.nodes.push({ opType, input: inputs, output: out, name: id, attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) });
    return out[0];
  }

  encode(producer: string): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: producer,
      opsetImport: [{ domain: '', version: OPSET }],
      graph: { name: this.name, node: this.nodes, initializer: this.inits, input: this.inputs, output: this.outputs },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, dims: Dim[], elemType: number): O.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

function attribute(name: string, v: Attr): O.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') return { name, type: T.INT, i: v };
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('floats' in v) return { name, type: T.FLOATS, floats: v.floats };
  return { name, type: T.FLOAT, f: v.float };
}

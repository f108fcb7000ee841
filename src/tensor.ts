// Creating native tensors from TypeScript.
import { resolveDevice, type DeviceOption } from './backend.js';
import { typeError } from './errors.js';
import { loadBinding, type NativeTensor } from './native/binding.js';

export type Tensor = NativeTensor;

export interface TensorOptions {
  /** Where the tensor lives. Default 'auto': CUDA when usable, else the CPU. */
  device?: DeviceOption;
}

/** A tensor holding a copy of `data` (a Float32Array or an array of numbers) with the given shape. */
export function tensor(data: Float32Array | readonly number[], shape: number[], options: TensorOptions = {}): Tensor {
  let values: Float32Array;
  if (data instanceof Float32Array) values = data;
  else if (Array.isArray(data)) values = Float32Array.from(data);
  else throw typeError('data', 'a Float32Array or an array of numbers', data);
  return loadBinding().createTensor(shape, resolveDevice(options.device), values);
}

/** A zero-filled tensor. */
export function zeros(shape: number[], options: TensorOptions = {}): Tensor {
  return loadBinding().createTensor(shape, resolveDevice(options.device));
}

/** Whether `value` is a live or disposed native tensor. */
export function isTensor(value: unknown): value is Tensor {
  return value instanceof loadBinding().Tensor;
}

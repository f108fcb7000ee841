// The native operations, typed (see NativeBinding in ./native/binding.ts and each op's contract in ./native/ops/).
import { loadBinding, type NativeBinding } from './native/binding.js';

/** The type of the native function `K`. */
export type Op<K extends keyof NativeBinding> = NativeBinding[K];

export const linearForward: Op<'linearForward'> = (...args) => loadBinding().linearForward(...args);
export const linearBackward: Op<'linearBackward'> = (...args) => loadBinding().linearBackward(...args);
export const preluForward: Op<'preluForward'> = (...args) => loadBinding().preluForward(...args);
export const preluBackward: Op<'preluBackward'> = (...args) => loadBinding().preluBackward(...args);

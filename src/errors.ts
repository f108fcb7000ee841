// Argument checks shared by the whole TypeScript API. Messages read
// "Expected <what> for <argument> but received <value>" so that a user sees which argument is wrong.

/** A short, readable description of a received value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : `${value}`;
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? value.slice(0, 57) + '...' : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of length ${(value as unknown as ArrayLike<unknown>).length}`;
  if (typeof value === 'function') return 'a function';
  return `an object (${(value as object).constructor?.name ?? 'Object'})`;
}

export function typeError(name: string, expected: string, received: unknown): TypeError {
  return new TypeError(`Expected ${expected} for ${name} but received ${describe(received)}`);
}

export function rangeError(name: string, expected: string, received: unknown): RangeError {
  return new RangeError(`Expected ${expected} for ${name} but received ${describe(received)}`);
}

/** An integer in [min, max]; throws TypeError for non-numbers and RangeError for out-of-range values. */
export function checkInteger(name: string, value: unknown, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number') throw typeError(name, 'an integer', value);
  if (!Number.isInteger(value)) throw rangeError(name, 'an integer', value);
  if (value < min || value > max) {
    const range = max === Infinity ? `>= ${min}` : min === -Infinity ? `<= ${max}` : `in [${min}, ${max}]`;
    throw rangeError(name, `an integer ${range}`, value);
  }
  return value;
}

/** A finite number in [min, max]. */
export function checkNumber(name: string, value: unknown, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number') throw typeError(name, 'a number', value);
  if (!Number.isFinite(value)) throw rangeError(name, 'a finite number', value);
  if (value < min || value > max) throw rangeError(name, `a number in [${min}, ${max}]`, value);
  return value;
}

/** One of a fixed set of string values. */
export function checkOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw (typeof value === 'string' ? rangeError : typeError)(name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  }
  return value as T;
}

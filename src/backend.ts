// Which backends are compiled in and usable, and the choice of device for a caller's option.
import { checkInteger, checkOneOf } from './errors.js';
import { loadBinding, type BackendInfo, type DeviceName } from './native/binding.js';

export type DeviceOption = DeviceName | 'auto';

/** The backends of this build: the CPU (always) and CUDA (compiled in or not, usable or not, and why). */
export function backends(): BackendInfo[] {
  return loadBinding().backends();
}

let fallbackReported = false;

/**
 * Resolves a `device` option. 'cuda' throws when CUDA is unusable; 'auto' (the default everywhere)
 * picks CUDA when usable and otherwise the CPU, saying so once per process on stderr. 'auto' never
 * picks an emulated CUDA device (`CudaBackendInfo.emulated`: the CPU emulation, for tests); an
 * explicit 'cuda' may use it.
 */
export function resolveDevice(device: DeviceOption = 'auto'): DeviceName {
  checkOneOf('device', device, ['auto', 'cpu', 'cuda'] as const);
  if (device === 'cpu') return 'cpu';
  const cuda = loadBinding().backends()[1];
  if (cuda.usable && (device === 'cuda' || !cuda.emulated)) return 'cuda';
  if (device === 'cuda') throw new Error(`gmn: device 'cuda' was requested but CUDA is unusable: ${cuda.reason}`);
  if (!fallbackReported) {
    fallbackReported = true;
    const why = cuda.usable ? 'the CUDA device of this build is the CPU emulation, for tests' : `CUDA is unusable (${cuda.reason})`;
    process.emitWarning(`${why}; using the CPU backend`, { code: 'GMN_CPU_FALLBACK' });
  }
  return 'cpu';
}

/** Threads of the native CPU pool. */
export function getThreads(): number {
  return loadBinding().getThreads();
}

/** Resizes the native CPU pool (default: GMN_THREADS, else all cores). */
export function setThreads(threads: number): void {
  checkInteger('threads', threads, 1, 1024);
  loadBinding().setThreads(threads);
}

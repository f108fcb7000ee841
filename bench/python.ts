// The Python the baselines run in.
import { spawnSync } from 'node:child_process';

/** The first Python that imports torch: GMN_PYTHON, python3, then the system's (Debian's python3-torch). */
export function findTorchPython(): string | null {
  for (const candidate of [process.env.GMN_PYTHON, 'python3', '/usr/bin/python3']) {
    if (candidate && spawnSync(candidate, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return null;
}

/**
 * A warning when torch in `python` runs its products on the reference BLAS (Debian's libblas3,
 * about 5 GFLOP/s, a baseline far below what a user would have), or null when it loaded a tuned one
 * (OpenBLAS, BLIS, MKL). Debian's python3-torch gets OpenBLAS with libopenblas0-pthread.
 */
export function torchBlasWarning(python: string): string | null {
  const script = `import re, torch
torch.mm(torch.ones(2, 2), torch.ones(2, 2))
libs = {m.group(0) for m in re.finditer(r"\\S*(blas|mkl|blis)\\S*\\.so\\S*", open("/proc/self/maps").read())}
print(" ".join(sorted(libs)))`;
  const run = spawnSync(python, ['-c', script], { encoding: 'utf8' });
  if (run.status !== 0) return null; // no /proc (not Linux): nothing to say
  // Debian's reference BLAS lives in .../blas/libblas.so.3; the tuned ones in their own folders
  const reference = run.stdout.trim().split(' ').find((lib) => /\/blas\/libblas\.so/.test(lib));
  if (!reference) return null;
  return `torch's BLAS is the reference one (${reference}): its figures are far below a normal install (apt-get install libopenblas0-pthread)`;
}

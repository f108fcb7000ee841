// The Python the baselines run in.
import { spawnSync } from 'node:child_process';

/** The first Python that imports torch: GMN_PYTHON, python3, then the system's (Debian's python3-torch). */
export function findTorchPython(): string | null {
  for (const candidate of [process.env.GMN_PYTHON, 'python3', '/usr/bin/python3']) {
    if (candidate && spawnSync(candidate, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return null;
}

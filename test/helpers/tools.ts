import { execFileSync } from 'node:child_process';

/**
 * Whether an external tool is installed. Locally a missing tool skips its tests; in CI (`CI=true`,
 * where .ci/run installs them) a missing tool is a failure, so a broken install cannot go green.
 */
export function hasTool(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI) throw new Error(`${command} is not installed: .ci/run must install it`);
    return false;
  }
}

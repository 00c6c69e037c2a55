import { describe, expect, it } from 'vitest';
import { descriptorLimitWarning, descriptorsNeeded, readOpenFilesLimit, softOpenFilesLimit } from '../src/cli/limits.js';

// The shape of /proc/self/limits on Linux (columns padded with spaces).
const PROC_LIMITS = `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max open files            1024                 524288               files     
Max locked memory         8388608              8388608              bytes     
`;

describe('the descriptor limit check', () => {
  it('reads the soft limit of open files', () => {
    expect(softOpenFilesLimit(PROC_LIMITS)).toBe(1024);
    expect(softOpenFilesLimit(PROC_LIMITS.replace('1024                 524288', 'unlimited            unlimited'))).toBeNull();
    expect(softOpenFilesLimit('')).toBeNull();
  });

  it('reads this process\'s own limit where /proc exists', () => {
    const limit = readOpenFilesLimit();
    if (process.platform === 'linux') expect(limit).toBeGreaterThan(0);
    else expect(limit).toBeNull();
  });

  it('counts a client and an upstream socket per connection, plus a reserve', () => {
    expect(descriptorsNeeded(10_000)).toBe(20_100);
    expect(descriptorLimitWarning(10_000, 20_100)).toBeNull();
    expect(descriptorLimitWarning(10_000, 20_099)?.fields).toEqual({ maxConnections: 10_000, needed: 20_100, limit: 20_099 });
    expect(descriptorLimitWarning(10_000, null)).toBeNull();
    expect(descriptorLimitWarning(50, 1024)).toBeNull();
  });
});

import { readFileSync } from 'node:fs';

/** Descriptors kept for what is not a client connection: listeners, the stats and certificate files, IPC, stdio. */
export const DESCRIPTOR_RESERVE = 100;

/** What `--max-connections` may need: each client connection can hold an upstream socket too (the pool, WebSockets). */
export function descriptorsNeeded(maxConnections: number): number {
  return 2 * maxConnections + DESCRIPTOR_RESERVE;
}

/** The soft "Max open files" of a `/proc/<pid>/limits` text; null when absent or unlimited. */
export function softOpenFilesLimit(procLimits: string): number | null {
  const line = /^Max open files\s+(\S+)\s+(\S+)/m.exec(procLimits);
  if (!line || !/^\d+$/.test(line[1]!)) return null;
  return Number(line[1]);
}

/**
 * This process's soft descriptor limit, from `/proc/self/limits`: null where there is no such file (not
 * Linux). Node raises its soft limit to the hard one at start-up, so this is already the most it can get.
 */
export function readOpenFilesLimit(): number | null {
  try {
    return softOpenFilesLimit(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return null;
  }
}

/** The warning for a `--max-connections` the descriptor limit cannot hold, or null when it can. */
export function descriptorLimitWarning(maxConnections: number, limit: number | null): { message: string; fields: Record<string, number> } | null {
  const needed = descriptorsNeeded(maxConnections);
  if (limit === null || needed <= limit) return null;
  return {
    message:
      `--max-connections ${maxConnections} needs up to ${needed} file descriptors per process (a client and an upstream socket per connection, ` +
      `plus ${DESCRIPTOR_RESERVE}), but this process may open only ${limit}: past that every new client gets a reset. ` +
      'Raise the limit (LimitNOFILE=65536 in the systemd unit, ulimit -n elsewhere) or lower --max-connections.',
    fields: { maxConnections, needed, limit },
  };
}

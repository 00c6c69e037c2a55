import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClosedConnectionLog } from '../src/proxy/handshake-log.js';
import type { HandshakeFailureReason } from '../src/types.js';

describe('ClosedConnectionLog', () => {
  let lines: { message: string; fields: Record<string, number> }[];
  let log: ClosedConnectionLog;
  const closed = (reason: HandshakeFailureReason, times = 1) => {
    for (let i = 0; i < times; i++) log.record({ reason });
  };

  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2025, 0, 1) });
    lines = [];
    log = new ClosedConnectionLog((message, fields) => lines.push({ message, fields }));
  });
  afterEach(() => vi.useRealTimers());

  it('writes one line a minute after the first closed connection, with the counts by reason', () => {
    closed('timeout', 40);
    vi.advanceTimersByTime(30_000);
    closed('evicted', 2);
    // Failures that are the clients' doing are counted in the stats, not in this line.
    closed('not-tls', 5);
    closed('protocol-too-old');
    expect(lines).toEqual([]);
    vi.advanceTimersByTime(30_000);
    expect(lines).toEqual([
      {
        message: '42 connections closed before finishing the TLS handshake in the last 60 s: 40 timeout, 2 evicted',
        fields: { closed: 42, seconds: 60, timeout: 40, evicted: 2, 'connection-limit': 0 },
      },
    ]);
  });

  it('writes nothing while nothing is closed', () => {
    closed('other');
    closed('no-shared-cipher');
    vi.advanceTimersByTime(10 * 60_000);
    expect(lines).toEqual([]);
  });

  it('writes at most one line a minute under a steady flood, and loses no count', () => {
    for (let second = 0; second < 300; second++) {
      closed(second % 10 === 0 ? 'connection-limit' : 'timeout');
      vi.advanceTimersByTime(1000);
    }
    log.flush();
    expect(lines.length).toBeLessThanOrEqual(6);
    expect(lines.reduce((sum, line) => sum + line.fields.closed!, 0)).toBe(300);
    expect(lines.reduce((sum, line) => sum + line.fields['connection-limit']!, 0)).toBe(30);
    expect(lines.every((line) => line.fields.seconds! <= 60)).toBe(true);
  });

  it('writes what is pending on flush (the proxy stopping), once', () => {
    closed('connection-limit');
    vi.advanceTimersByTime(12_400);
    log.flush();
    log.flush();
    vi.advanceTimersByTime(120_000);
    expect(lines).toEqual([
      {
        message: '1 connection closed before finishing the TLS handshake in the last 12 s: 1 connection-limit',
        fields: { closed: 1, seconds: 12, timeout: 0, evicted: 0, 'connection-limit': 1 },
      },
    ]);
  });
});

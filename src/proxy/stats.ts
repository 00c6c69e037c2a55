import { InvalidOptionError } from '../errors.js';
import { redisStore } from '../stats/stores/redis.js';
import { TrafficStats } from '../stats/traffic-stats.js';
import type { ProxyConfig } from './config.js';

/**
 * The proxy's one `TrafficStats` (the primary's, with `--workers`): in the Redis store every server of
 * the site shares when `redis` is configured, else in the stats file.
 */
export function createProxyStats(config: ProxyConfig, logger: { warn(message: string): void; info(message: string): void }, summaryInterval?: number): TrafficStats {
  const common = { logger, ...(summaryInterval !== undefined && { summaryInterval }) };
  const { redis } = config;
  if (!redis) return new TrafficStats({ ...common, statsFile: config.statsFile });
  const store = redisStore({ url: redis.url.url, keyPrefix: redis.keyPrefix, ...(redis.instance !== undefined && { instance: redis.instance }) });
  return new TrafficStats({ ...common, store });
}

/**
 * Waits until the stats were read; a store that can never be used (a wrong Redis password, a port that
 * is not Redis) is a configuration error of the proxy's `redisUrl`, which the command line reports as
 * `--redis-url` with exit code 2.
 */
export async function statsOpened(stats: TrafficStats, config: ProxyConfig): Promise<void> {
  try {
    await stats.ready;
  } catch (error) {
    if (config.redis && error instanceof InvalidOptionError && error.option === 'url') throw new InvalidOptionError('redisUrl', error.value, error.expected);
    throw error;
  }
}

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // TLS tests open many sockets; two forks keep a 2-core machine busy without starving the servers.
    pool: 'forks',
    maxWorkers: 2,
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // TLS tests open many sockets; two forks keep a 2-core machine busy without starving the servers.
    pool: 'forks',
    maxWorkers: 2,
    // One module graph per worker for all its files: forking and importing src afresh for each of 90+
    // files cost more CPU than most of the tests. No test mocks modules; fake timers are restored.
    isolate: false,
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 15_000,
    hookTimeout: 15_000,
    // Each file starts its own proxies and upstreams on port 0; files can run in parallel.
    pool: 'forks',
  },
});

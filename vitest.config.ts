import { defineConfig } from 'vitest/config';

// Unit tests sit next to the code; suites that need Docker or a database live under test/.
// Integration suites share one Docker engine and one 2-core machine, so they run one file
// at a time.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 600_000,
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
  },
});

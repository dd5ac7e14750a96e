import { defineConfig } from 'vitest/config';

// Three tiers, one `npm test`: unit (pure code and temp files), integration (real programs, servers, processes and
// databases: git, bubblewrap, nginx, docker-registry, SQLite, the use cases in process), e2e (the CLI built from the
// current source). `npx vitest run --project unit` runs one tier.
export default defineConfig({
  test: {
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 15_000, hookTimeout: 15_000 },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          globalSetup: ['test/helpers/built.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          globalSetup: ['test/helpers/built.ts'],
        },
      },
    ],
  },
});

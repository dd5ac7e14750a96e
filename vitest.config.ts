import { configDefaults, defineConfig } from 'vitest/config';

const offline = [...configDefaults.exclude, '**/*.online.test.ts'];

// Four tiers, one `npm test`: unit (pure code and temp files), integration (real programs, servers, processes and
// databases: git, bubblewrap, nginx, docker-registry, SQLite, the use cases in process), e2e (the CLI built from the
// current source), and online: the few tests that reach the public npm registry (`*.online.test.ts`). Everything
// else passes offline: `npm run test:offline`. `npx vitest run --project unit` runs one tier.
export default defineConfig({
  test: {
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          exclude: offline,
          testTimeout: 15_000,
          hookTimeout: 15_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          exclude: offline,
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
          exclude: offline,
          testTimeout: 120_000,
          hookTimeout: 120_000,
          globalSetup: ['test/helpers/built.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'online',
          include: ['test/**/*.online.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          globalSetup: ['test/helpers/built.ts'],
        },
      },
    ],
  },
});

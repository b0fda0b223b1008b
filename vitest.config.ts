import { defineConfig } from 'vitest/config';

// Tests run the TypeScript sources: the workspace packages export `flowscope-source` (src/*.ts)
// before `default` (the compiled dist/*.js that production runs). Then vitest's default server
// conditions (vite's without `module`, which would pick bundler-only builds of some packages).
const conditions = ['flowscope-source', 'node', 'development|production'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The reporter lists a passing test under its file only when it took half its timeout: the
    // test command's output stays one line a file (under 300 lines on success), and what is
    // listed is what is close to failing by timeout.
    slowTestThreshold: 30_000,
    // Integration files each use their own database / queue prefix, so they can run in parallel;
    // two workers match the 2-core CI machine.
    pool: 'forks',
    maxWorkers: 2,
  },
});
